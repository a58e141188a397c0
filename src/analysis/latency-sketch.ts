/**
 * A mergeable latency sketch with bounded relative error: log-spaced buckets in the style of
 * DDSketch (Masson, Rim & Lee, "DDSketch: A Fast and Fully-Mergeable Quantile Sketch with
 * Relative-Error Guarantees", VLDB 2019). Any quantile read from it is within
 * {@link RELATIVE_ACCURACY} of a true sample value at that rank, and two sketches merge by
 * adding bucket counts, so per-second slices combine into any window exactly.
 */

/** Relative accuracy of every quantile estimate (1%). */
export const RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
/** Values at or below this many milliseconds (1 µs) fall in bucket 0. */
const MIN_VALUE_MS = 0.001;
const INDEX_OFFSET = Math.ceil(Math.log(MIN_VALUE_MS) / LOG_GAMMA);
/** Buckets cover 1 µs up to about 1.6 hours; larger values saturate the last bucket. */
export const BUCKET_COUNT = 1200;

/** Bucket index of a latency in milliseconds. */
export function bucketIndex(ms: number): number {
  if (!(ms > MIN_VALUE_MS)) return 0;
  const index = Math.ceil(Math.log(ms) / LOG_GAMMA) - INDEX_OFFSET;
  return index >= BUCKET_COUNT ? BUCKET_COUNT - 1 : index;
}

/** Representative value of a bucket: the point with equal relative error to both edges. */
export function bucketValue(index: number): number {
  if (index <= 0) return MIN_VALUE_MS;
  return (2 * Math.pow(GAMMA, index + INDEX_OFFSET)) / (1 + GAMMA);
}

/** Upper edge of a bucket in milliseconds (every value in the bucket is <= it). */
export function bucketUpperBound(index: number): number {
  return Math.pow(GAMMA, index + INDEX_OFFSET);
}

/** JSON form of a sketch: sparse `[index, count]` pairs. */
export interface LatencySketchJson {
  readonly count: number;
  readonly sum: number;
  readonly buckets: readonly (readonly [number, number])[];
}

/** Counts of latencies in log-spaced buckets; see the module header. */
export class LatencySketch {
  /** Bucket counts; allocated on first use so empty slices cost nothing. */
  private counts: Uint32Array | undefined;
  /** Number of values recorded. */
  count = 0;
  /** Sum of values recorded, in milliseconds. */
  sum = 0;

  /** Records one latency in milliseconds. */
  add(ms: number, times = 1): void {
    const counts = (this.counts ??= new Uint32Array(BUCKET_COUNT));
    counts[bucketIndex(ms)]! += times;
    this.count += times;
    this.sum += ms * times;
  }

  /** Adds every value of `other` into this sketch. */
  merge(other: LatencySketch): void {
    if (other.count === 0 || other.counts === undefined) return;
    const counts = (this.counts ??= new Uint32Array(BUCKET_COUNT));
    const theirs = other.counts;
    for (let i = 0; i < BUCKET_COUNT; i++) counts[i]! += theirs[i]!;
    this.count += other.count;
    this.sum += other.sum;
  }

  /** Estimate of the q-quantile (0 ≤ q ≤ 1) in milliseconds; NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0 || this.counts === undefined) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return bucketValue(i);
    }
    return bucketValue(BUCKET_COUNT - 1);
  }

  /** Number of recorded values whose bucket lies entirely at or below `ms`. */
  countAtOrBelow(ms: number): number {
    if (this.counts === undefined) return 0;
    const last = bucketIndex(ms);
    let seen = 0;
    for (let i = 0; i <= last; i++) seen += this.counts[i]!;
    return seen;
  }

  /** Non-empty buckets in ascending order as `[index, count]`. */
  *buckets(): IterableIterator<[number, number]> {
    if (this.counts === undefined) return;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      const c = this.counts[i]!;
      if (c > 0) yield [i, c];
    }
  }

  /** Copy of this sketch. */
  clone(): LatencySketch {
    const copy = new LatencySketch();
    copy.merge(this);
    return copy;
  }

  toJSON(): LatencySketchJson {
    return { count: this.count, sum: this.sum, buckets: [...this.buckets()] };
  }

  /** Rebuilds a sketch from {@link LatencySketch.toJSON} output. */
  static fromJSON(json: LatencySketchJson): LatencySketch {
    const sketch = new LatencySketch();
    const counts = (sketch.counts = new Uint32Array(BUCKET_COUNT));
    for (const [index, count] of json.buckets) {
      if (index >= 0 && index < BUCKET_COUNT) counts[index]! += count;
    }
    sketch.count = json.count;
    sketch.sum = json.sum;
    return sketch;
  }
}
