import { scaleRun } from "./runs";

// Reductions over one axis group, and their adjoint (broadcasting back). Every axis pattern is
// seen as [outer, r, inner] with the middle axis reduced: outer = inner = 1 is a sum of all
// elements, inner = 1 the last axis, outer = 1 the first. Several reduced groups are reduced
// one after the other by the caller.

/** Sum of x[0..n) with 4 vector accumulators (16 floats a step), then a scalar tail. */
@inline function sum_contiguous(x: usize, n: i32): f32 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2);
    a0 = f32x4.add(a0, v128.load(p));
    a1 = f32x4.add(a1, v128.load(p, 16));
    a2 = f32x4.add(a2, v128.load(p, 32));
    a3 = f32x4.add(a3, v128.load(p, 48));
  }
  for (; i + 4 <= n; i += 4) a0 = f32x4.add(a0, v128.load(x + (<usize>i << 2)));
  const v = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  let s = (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
  for (; i < n; i++) s += load<f32>(x + (<usize>i << 2));
  return s;
}

/**
 * y[o, i] = scale · Σ_j x[o, j, i] for x of shape [outer, r, inner]. With inner = 1 each output
 * is a contiguous horizontal sum; otherwise 16 (then 4, then 1) columns are summed down r in
 * registers and stored once.
 */
export function reduce_sum(x: usize, y: usize, outer: i32, r: i32, inner: i32, scale: f32): void {
  if (inner == 1) {
    const rowBytes = <usize>r << 2;
    for (let o = 0; o < outer; o++) store<f32>(y + (<usize>o << 2), sum_contiguous(x + <usize>o * rowBytes, r) * scale);
    return;
  }
  const sv = f32x4.splat(scale);
  const stride = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const xo = x + <usize>o * <usize>r * stride;
    const yo = y + <usize>o * stride;
    let i = 0;
    for (; i + 16 <= inner; i += 16) {
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      let p = xo + (<usize>i << 2);
      for (let j = 0; j < r; j++) {
        a0 = f32x4.add(a0, v128.load(p));
        a1 = f32x4.add(a1, v128.load(p, 16));
        a2 = f32x4.add(a2, v128.load(p, 32));
        a3 = f32x4.add(a3, v128.load(p, 48));
        p += stride;
      }
      const q = yo + (<usize>i << 2);
      v128.store(q, f32x4.mul(a0, sv));
      v128.store(q, f32x4.mul(a1, sv), 16);
      v128.store(q, f32x4.mul(a2, sv), 32);
      v128.store(q, f32x4.mul(a3, sv), 48);
    }
    for (; i + 4 <= inner; i += 4) {
      let a0 = f32x4.splat(0);
      let p = xo + (<usize>i << 2);
      for (let j = 0; j < r; j++) {
        a0 = f32x4.add(a0, v128.load(p));
        p += stride;
      }
      v128.store(yo + (<usize>i << 2), f32x4.mul(a0, sv));
    }
    for (; i < inner; i++) {
      let s: f32 = 0;
      let p = xo + (<usize>i << 2);
      for (let j = 0; j < r; j++) {
        s += load<f32>(p);
        p += stride;
      }
      store<f32>(yo + (<usize>i << 2), s * scale);
    }
  }
}

/** The adjoint of reduce_sum: y[o, j, i] = scale · x[o, i] for y of shape [outer, r, inner]. */
export function broadcast_axis(x: usize, y: usize, outer: i32, r: i32, inner: i32, scale: f32): void {
  const sv = f32x4.splat(scale);
  const rowBytes = <usize>inner << 2;
  let out = y;
  for (let o = 0; o < outer; o++) {
    const xo = x + <usize>o * rowBytes;
    if (inner == 1) {
      // Each x value fills a contiguous run of r outputs.
      const v = f32x4.mul(v128.load32_splat(xo), sv);
      const s = load<f32>(xo) * scale;
      let j = 0;
      for (; j + 4 <= r; j += 4) v128.store(out + (<usize>j << 2), v);
      for (; j < r; j++) store<f32>(out + (<usize>j << 2), s);
      out += <usize>r << 2;
      continue;
    }
    for (let j = 0; j < r; j++) {
      scaleRun(xo, out, inner, scale);
      out += rowBytes;
    }
  }
}
