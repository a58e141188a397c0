/**
 * Cumulative latency counts per sketch bucket, as plain data the rollout status can persist.
 * The judge keeps one per version; buckets are those of `LatencySketch`, so each stored value
 * is known only to lie between its bucket's edges, and every bound read from here uses the
 * edge that keeps it conservative.
 */
import { bucketUpperBound, BUCKET_COUNT } from './latency-sketch.js';

/** What the judge needs from a latency sketch; `LatencySketch` satisfies it. */
export interface LatencyBuckets {
  readonly count: number;
  /** Non-empty buckets in ascending order as `[index, count]`. */
  buckets(): Iterable<readonly [number, number]>;
}

/** Dense counts for bucket indices `firstIndex .. firstIndex + counts.length − 1`. */
export interface BucketCounts {
  readonly firstIndex: number;
  readonly counts: readonly number[];
  readonly total: number;
}

/** No observations. */
export const EMPTY_BUCKET_COUNTS: BucketCounts = { firstIndex: 0, counts: [], total: 0 };

/** Reads a sketch's non-empty buckets into dense counts. */
export function toBucketCounts(sketch: LatencyBuckets): BucketCounts {
  if (sketch.count === 0) return EMPTY_BUCKET_COUNTS;
  const pairs = [...sketch.buckets()];
  if (pairs.length === 0) return EMPTY_BUCKET_COUNTS;
  const first = pairs[0]![0];
  const counts = new Array<number>(pairs[pairs.length - 1]![0] - first + 1).fill(0);
  let total = 0;
  for (const [index, count] of pairs) {
    counts[index - first]! += count;
    total += count;
  }
  return { firstIndex: first, counts, total };
}

/** `a` plus `b`, as a new object (neither input is modified). */
export function mergeBucketCounts(a: BucketCounts, b: BucketCounts): BucketCounts {
  if (b.total === 0) return a;
  if (a.total === 0) return b;
  const first = Math.min(a.firstIndex, b.firstIndex);
  const last = Math.max(a.firstIndex + a.counts.length, b.firstIndex + b.counts.length) - 1;
  const counts = new Array<number>(last - first + 1).fill(0);
  for (let i = 0; i < a.counts.length; i++) counts[a.firstIndex - first + i]! += a.counts[i]!;
  for (let i = 0; i < b.counts.length; i++) counts[b.firstIndex - first + i]! += b.counts[i]!;
  return { firstIndex: first, counts, total: a.total + b.total };
}

/** Bucket index holding the observation of rank `rank` (1-based, 1 ≤ rank ≤ total). */
export function bucketOfRank(counts: BucketCounts, rank: number): number {
  return bucketsOfRanks(counts, [rank])[0]!;
}

/** {@link bucketOfRank} for several ranks in ascending order, in one pass. */
export function bucketsOfRanks(counts: BucketCounts, ranks: readonly number[]): number[] {
  const out: number[] = [];
  let seen = 0;
  let i = 0;
  for (const rank of ranks) {
    while (i < counts.counts.length - 1 && seen + counts.counts[i]! < rank) seen += counts.counts[i++]!;
    out.push(counts.firstIndex + i);
  }
  return out;
}

/** Lower edge of a bucket in milliseconds: every value stored in it is above this. */
export function bucketLowerBound(index: number): number {
  return index <= 0 ? 0 : bucketUpperBound(index - 1);
}

/** Upper edge of a bucket, or Infinity for the last bucket, which saturates. */
export function bucketUpperEdge(index: number): number {
  return index >= BUCKET_COUNT - 1 ? Infinity : bucketUpperBound(index);
}

/** Number of observations in buckets strictly above `index` (all of them exceed its upper edge). */
export function countAboveBucket(counts: BucketCounts, index: number): number {
  let above = 0;
  for (let i = Math.max(0, index + 1 - counts.firstIndex); i < counts.counts.length; i++)
    above += counts.counts[i]!;
  return above;
}
