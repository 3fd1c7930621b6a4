// C (m x n) (+)= A · Bᵀ for few rows of A: A (m x k) and B (n x k) both row-major along k, so each
// element of C is a dot product of a row of A and a row of B, and B is read in place, never
// packed. The dense layer's input gradient is such a product (dx = dy · Wᵀ, with the batch's
// 32 rows against the 1568 rows of W): gemm.ts would transpose all 1.6 MB of W into panels on
// each call first.
//
// A is packed once, by the caller, into strips of 4 rows interleaved by 4 values of k
// (pack_abt_a); a 4x2 tile keeps 8 f32x4 accumulators of partial dot products (4 rows of A by 2
// rows of B, 4 lanes of k each), fed by 6 loads per 8 multiply-adds, as gemm.ts's 4x8 tile is,
// with 3 pointers to step. Its lanes are added across at the end. So each element sums its k in
// 4 lane sums then across them, an order of its own (not gemm.ts's), the same on any thread
// count. k must be a multiple of 4 (B's rows are read 4 values at a time, in place).

import { madd } from "./madd";

/** Floats of packed A for pack_abt_a: m rounded up to 4 rows, k values each. */
export function abt_packed_floats(m: i32, k: i32): i32 {
  return ((m + 3) & ~3) * k;
}

/**
 * Packs A (m x k, k a multiple of 4) for gemm_abt: strip s (rows 4s..4s+3, zero past m) is
 * k/4 groups of 4 rows x 4 values, one group per 4 values of k, at dst + s*k*16 bytes.
 */
export function pack_abt_a(a: usize, m: i32, k: i32, dst: usize): void {
  const ldk = <usize>k << 2;
  const zero = f32x4.splat(0);
  let d = dst;
  for (let i = 0; i < m; i += 4) {
    const rows = min(4, m - i);
    const r0 = a + <usize>i * ldk;
    for (let p = 0; p < k; p += 4) {
      const o = r0 + (<usize>p << 2);
      // Rows past m are zeros, never loads past A's end.
      let v1 = zero, v2 = zero, v3 = zero;
      if (rows > 1) v1 = v128.load(o + ldk);
      if (rows > 2) v2 = v128.load(o + 2 * ldk);
      if (rows > 3) v3 = v128.load(o + 3 * ldk);
      v128.store(d, v128.load(o));
      v128.store(d, v1, 16);
      v128.store(d, v2, 32);
      v128.store(d, v3, 48);
      d += 64;
    }
  }
}

/**
 * Columns j0..j1 of C (m x n, row-major) (+)= A · Bᵀ, A packed by pack_abt_a, B (n x k) read in
 * place, k a multiple of 4. Columns split between threads give the same bits.
 */
export function gemm_abt(packedA: usize, b: usize, c: usize, m: i32, n: i32, k: i32, accumulate: i32, j0: i32, j1: i32): void {
  const ldk = <usize>k << 2;
  const ldc = <usize>n << 2;
  const stripBytes = <usize>k << 4;
  const add = accumulate != 0;
  let j = j0;
  for (; j + 2 <= j1; j += 2) {
    const b0 = b + <usize>j * ldk;
    for (let i = 0; i < m; i += 4) {
      let pa = packedA + <usize>(i >> 2) * stripBytes;
      const end = pa + stripBytes;
      let q0 = b0, q1 = b0 + ldk;
      let x00 = f32x4.splat(0), x01 = x00, x10 = x00, x11 = x00, x20 = x00, x21 = x00, x30 = x00, x31 = x00;
      while (pa < end) {
        const w0 = v128.load(q0);
        const w1 = v128.load(q1);
        const e0 = v128.load(pa);
        x00 = madd(e0, w0, x00);
        x01 = madd(e0, w1, x01);
        const e1 = v128.load(pa, 16);
        x10 = madd(e1, w0, x10);
        x11 = madd(e1, w1, x11);
        const e2 = v128.load(pa, 32);
        x20 = madd(e2, w0, x20);
        x21 = madd(e2, w1, x21);
        const e3 = v128.load(pa, 48);
        x30 = madd(e3, w0, x30);
        x31 = madd(e3, w1, x31);
        pa += 64;
        q0 += 16;
        q1 += 16;
      }
      const o = c + <usize>i * ldc + (<usize>j << 2);
      store_column(o, ldc, across4(x00, x10, x20, x30), m - i, add);
      store_column(o + 4, ldc, across4(x01, x11, x21, x31), m - i, add);
    }
  }
  if (j < j1) {
    // An odd last column: a 4x1 tile.
    const b0 = b + <usize>j * ldk;
    for (let i = 0; i < m; i += 4) {
      let pa = packedA + <usize>(i >> 2) * stripBytes;
      const end = pa + stripBytes;
      let q0 = b0;
      let x0 = f32x4.splat(0), x1 = x0, x2 = x0, x3 = x0;
      while (pa < end) {
        const w0 = v128.load(q0);
        x0 = madd(v128.load(pa), w0, x0);
        x1 = madd(v128.load(pa, 16), w0, x1);
        x2 = madd(v128.load(pa, 32), w0, x2);
        x3 = madd(v128.load(pa, 48), w0, x3);
        pa += 64;
        q0 += 16;
      }
      store_column(c + <usize>i * ldc + (<usize>j << 2), ldc, across4(x0, x1, x2, x3), m - i, add);
    }
  }
}

/** Lane r: the sum of x_r's 4 lanes, as (x_r[0] + x_r[2]) + (x_r[1] + x_r[3]). */
@inline function across4(x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const t0 = f32x4.add(v128.shuffle<f32>(x0, x1, 0, 4, 1, 5), v128.shuffle<f32>(x0, x1, 2, 6, 3, 7));
  const t1 = f32x4.add(v128.shuffle<f32>(x2, x3, 0, 4, 1, 5), v128.shuffle<f32>(x2, x3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
}

/** Writes lane r of s to row r of one column of C (rows ldc bytes apart), the first `rows` of 4. */
@inline function store_column(o: usize, ldc: usize, s: v128, rows: i32, add: bool): void {
  store_one(o, f32x4.extract_lane(s, 0), add);
  if (rows > 1) store_one(o + ldc, f32x4.extract_lane(s, 1), add);
  if (rows > 2) store_one(o + 2 * ldc, f32x4.extract_lane(s, 2), add);
  if (rows > 3) store_one(o + 3 * ldc, f32x4.extract_lane(s, 3), add);
}

@inline function store_one(o: usize, v: f32, add: bool): void {
  store<f32>(o, add ? load<f32>(o) + v : v);
}
