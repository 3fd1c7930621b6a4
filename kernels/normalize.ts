import { madd } from "./madd";
import { scaleRun } from "./runs";

// L2 normalization over the last axis, as tf.math.l2_normalize:
//   y = x · rsqrt(max(Σx², ε)) per row of d values.
// The forward saves each row's Σx² so that the backward knows which side of the max was taken.

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Σ a[i]·b[i] over d values: two f32x4 accumulators, scalar tail. */
// @ts-ignore: decorator
@inline function dot(a: usize, b: usize, d: i32): f32 {
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= d; i += 8) {
    const o = <usize>i << 2;
    acc0 = madd(v128.load(a + o), v128.load(b + o), acc0);
    acc1 = madd(v128.load(a + o, 16), v128.load(b + o, 16), acc1);
  }
  if (i + 4 <= d) {
    const o = <usize>i << 2;
    acc0 = madd(v128.load(a + o), v128.load(b + o), acc0);
    i += 4;
  }
  let s = hsum(f32x4.add(acc0, acc1));
  for (; i < d; i++) {
    const o = <usize>i << 2;
    s += load<f32>(a + o) * load<f32>(b + o);
  }
  return s;
}


/** y = x / sqrt(max(Σx², epsilon)) per row; sumsq[r] = Σx² of row r (for the backward). */
export function l2_normalize_forward(x: usize, y: usize, sumsq: usize, rows: i32, d: i32, epsilon: f32): void {
  const rowBytes = <usize>d << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const ss = dot(xr, xr, d);
    store<f32>(sumsq + (<usize>r << 2), ss);
    scaleRun(xr, y + <usize>r * rowBytes, d, <f32>1 / sqrt<f32>(max<f32>(ss, epsilon)));
  }
}

/**
 * TensorFlow's gradient. Where Σx² >= epsilon: gx = (gy − y·(gy·y)) / norm. Below it the max
 * picked the constant epsilon, so gx = gy / sqrt(epsilon).
 */
export function l2_normalize_backward(y: usize, gy: usize, sumsq: usize, gx: usize, rows: i32, d: i32, epsilon: f32): void {
  const rowBytes = <usize>d << 2;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rowBytes;
    const yr = y + off;
    const gr = gy + off;
    const out = gx + off;
    const ss = load<f32>(sumsq + (<usize>r << 2));
    const inv = <f32>1 / sqrt<f32>(max<f32>(ss, epsilon));
    if (ss < epsilon) {
      scaleRun(gr, out, d, inv);
      continue;
    }
    const gdoty = dot(gr, yr, d);
    const invv = f32x4.splat(inv);
    const dv = f32x4.splat(gdoty);
    let i = 0;
    for (; i + 4 <= d; i += 4) {
      const o = <usize>i << 2;
      const g = v128.load(gr + o);
      const yv = v128.load(yr + o);
      v128.store(out + o, f32x4.mul(f32x4.sub(g, f32x4.mul(yv, dv)), invv));
    }
    for (; i < d; i++) {
      const o = <usize>i << 2;
      store<f32>(out + o, (load<f32>(gr + o) - load<f32>(yr + o) * gdoty) * inv);
    }
  }
}
