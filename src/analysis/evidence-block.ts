/**
 * Blocks of consecutive windows that the count tests consume as one observation.
 *
 * The count tests condition on how many requests each version served (the realised split, not
 * the configured weight, so a router that drifts from its weights cannot fake a regression).
 * Conditioning on a tiny window throws the evidence away: in a one-request window the error's
 * version is already known. So windows are pooled until a block holds at least
 * {@link MIN_BLOCK_REQUESTS} requests, a rule that looks only at the total (never at which
 * version served or failed), and a block never spans a change of configured weight. Given a
 * block's per-version request counts, under H0 its failures fall on a uniformly random subset
 * of its requests (hypergeometric), which Hoeffding (1963, Thm 4) shows is dominated in convex
 * order by the binomial the tests assume, so each block's likelihood-ratio factor has mean ≤ 1.
 */
import { EMPTY_BUCKET_COUNTS, mergeBucketCounts, type BucketCounts } from './bucket-counts.js';
import { addToEachVersion, type VersionPair } from './version-pair.js';

/** Requests a block needs before the count tests read it. */
export const MIN_BLOCK_REQUESTS = 40;

/** One version's share of a block. */
export interface BlockSide {
  readonly requests: number;
  readonly errors: number;
  readonly latency: BucketCounts;
}

/** Windows pooled since the last block closed. */
export interface EvidenceBlock {
  readonly primary: BlockSide;
  readonly canary: BlockSide;
  /** Configured canary weight the windows were served at, when the scheduler gives it. */
  readonly canaryWeight: number | null;
  /**
   * Latency thresholds fixed when the block opened, from data before it, as primary bucket
   * indices: each configured quantile's running estimate (keyed `"0.99"`) and each tail-test
   * threshold (keyed as `tailKey` says, e.g. `"0.999x2"`).
   */
  readonly primaryThresholdBucket: Readonly<Record<string, number>>;
}

/** One version's increments, latencies already read into counts. */
export interface SideIncrement {
  readonly requests: number;
  readonly errors: number;
  readonly latency: BucketCounts;
}

const EMPTY_SIDE: BlockSide = { requests: 0, errors: 0, latency: EMPTY_BUCKET_COUNTS };

/** An empty block served at `canaryWeight`, with thresholds fixed now. */
export function openBlock(
  canaryWeight: number | null,
  primaryThresholdBucket: Readonly<Record<string, number>>,
): EvidenceBlock {
  return { primary: EMPTY_SIDE, canary: EMPTY_SIDE, canaryWeight, primaryThresholdBucket };
}

/** Total requests in a block. */
export function blockRequests(block: EvidenceBlock): number {
  return block.primary.requests + block.canary.requests;
}

function addSide(side: BlockSide, increment: SideIncrement): BlockSide {
  return {
    requests: side.requests + increment.requests,
    errors: side.errors + increment.errors,
    latency: mergeBucketCounts(side.latency, increment.latency),
  };
}

/** The block with one more window added. */
export function addToBlock(block: EvidenceBlock, window: VersionPair<SideIncrement>): EvidenceBlock {
  return addToEachVersion(block, window, addSide);
}
