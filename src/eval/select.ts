// Partial selection: the r smallest of an array, in order, without sorting the rest.
// Used per query by the retrieval metrics (r ~ 1000 out of ~10,000 candidates).

/**
 * Rearranges `values[0, count)` so that its `r` smallest come first, in ascending order (the rest
 * in any order). Quickselect (Hoare partition, median of three), then a native sort of the r.
 */
export function sortSmallest(values: Float64Array, count: number, r: number): void {
  if (r <= 0) return;
  if (r > count) throw new Error(`sortSmallest: asked for the ${r} smallest of ${count} values`);
  let lo = 0;
  let hi = count - 1;
  const target = r - 1;
  while (hi - lo > 16) {
    const mid = (lo + hi) >>> 1;
    // Median of three into values[mid], with values[lo] <= it <= values[hi] as sentinels.
    if (values[mid] < values[lo]) swap(values, mid, lo);
    if (values[hi] < values[lo]) swap(values, hi, lo);
    if (values[hi] < values[mid]) swap(values, hi, mid);
    const pivot = values[mid];
    let i = lo;
    let j = hi;
    for (;;) {
      do i++; while (values[i] < pivot);
      do j--; while (values[j] > pivot);
      if (i >= j) break;
      swap(values, i, j);
    }
    // Now [lo, j] <= pivot <= [j + 1, hi].
    if (target <= j) hi = j;
    else lo = j + 1;
  }
  // A short range is left around the target: sort it so that the boundary is exact.
  values.subarray(lo, hi + 1).sort();
  values.subarray(0, r).sort();
}

function swap(values: Float64Array, a: number, b: number): void {
  const t = values[a];
  values[a] = values[b];
  values[b] = t;
}
