/**
 * Order statistics for benchmark samples.
 *
 * @module
 */

/** The median of `values`, or `undefined` for an empty list. */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const hi = sorted[mid] ?? 0;
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] ?? hi) + hi) / 2;
}

/**
 * The `q` quantile (0–1) of the first `count` values of `samples`, nearest
 * rank. Sorts that prefix in place: latency arrays are large and used once.
 */
export function quantileInPlace(
  samples: Float64Array,
  count: number,
  q: number,
): number | undefined {
  if (count <= 0) return undefined;
  const view = samples.subarray(0, count).sort();
  const rank = Math.min(count - 1, Math.max(0, Math.ceil(q * count) - 1));
  return view[rank];
}
