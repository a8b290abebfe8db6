/** Upper bounds (inclusive) of the duration histogram, in milliseconds; +Inf is implicit. */
export const durationBucketsMs: readonly number[] = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000];

/** Upper bounds (inclusive) of the size histogram, in bytes; +Inf is implicit. */
export const sizeBucketsBytes: readonly number[] = [1024, 16 * 1024, 256 * 1024, 1024 ** 2, 16 * 1024 ** 2, 64 * 1024 ** 2, 256 * 1024 ** 2, 1024 ** 3, 4 * 1024 ** 3, 16 * 1024 ** 3];

/** Index of the bucket a value falls in; `bounds.length` is the +Inf bucket. */
export function bucketIndex(bounds: readonly number[], value: number): number {
  let low = 0;
  let high = bounds.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (value <= (bounds[middle] as number)) high = middle;
    else low = middle + 1;
  }
  return low;
}

/**
 * The q-quantile of non-cumulative bucket counts, interpolated linearly inside its bucket as
 * Prometheus' histogram_quantile does, and never above the largest value seen.
 */
export function quantileFromBuckets(bounds: readonly number[], counts: readonly number[], q: number, observedMax: number): number | null {
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const rank = q * total;
  let cumulative = 0;
  for (let index = 0; index < counts.length; index += 1) {
    const count = counts[index] ?? 0;
    if (count > 0 && cumulative + count >= rank) {
      const lower = index === 0 ? 0 : (bounds[index - 1] as number);
      const upper = index < bounds.length ? (bounds[index] as number) : observedMax;
      const estimate = lower + (upper - lower) * ((rank - cumulative) / count);
      return Math.min(estimate, observedMax);
    }
    cumulative += count;
  }
  return observedMax;
}
