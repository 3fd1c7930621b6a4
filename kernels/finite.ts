// The finiteness check of a training step's inputs and outputs (and of fit's parameter checks):
// x·0 is 0 for a finite x and NaN for NaN and ±Infinity, so one pass of mul+add tells whether any
// value is not finite; only then is the first one looked for.

/** Index of the first NaN or ±Infinity among n floats at x, or -1. */
export function first_non_finite(x: usize, n: i32): i32 {
  const zero = f32x4.splat(0);
  // Two sums, so the adds overlap.
  let a = zero;
  let b = zero;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const p = x + (<usize>i << 2);
    a = f32x4.add(a, f32x4.mul(v128.load(p), zero));
    b = f32x4.add(b, f32x4.mul(v128.load(p, 16), zero));
  }
  let tail: f32 = 0;
  for (; i < n; i++) tail += load<f32>(x + (<usize>i << 2)) * 0;
  const sum = f32x4.add(a, b);
  if (tail == 0 && f32x4.extract_lane(sum, 0) == 0 && f32x4.extract_lane(sum, 1) == 0 &&
      f32x4.extract_lane(sum, 2) == 0 && f32x4.extract_lane(sum, 3) == 0) return -1;
  for (let j = 0; j < n; j++) {
    const v = load<f32>(x + (<usize>j << 2));
    if (!isFinite<f32>(v)) return j;
  }
  return -1;
}
