/**
 * Exact percentiles of a sample (nearest-rank method). autocannon's own histogram reports p50/p90/p97.5/p99
 * (no p95) at whole-millisecond resolution, so the profiler keeps every response time and ranks them here.
 */

/** Sorts a copy ascending. */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/** Nearest-rank percentile of an ascending sample: the smallest value with at least p% of the sample <= it. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  if (!(p > 0)) return sorted[0]!;
  if (p >= 100) return sorted[sorted.length - 1]!;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}
