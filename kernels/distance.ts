import { madd } from "./madd";
// Pairwise distance kernels (TF Addons' pairwise_distance and angular_distance). The N x N
// products x·xᵀ and S·x go through the GEMM kernel; these do the O(N²) and O(N·D) elementwise parts.

/** sq[i] = Σ_k x[i,k]² for an (n x d) row-major x. */
export function distance_row_sq_norms(x: usize, sq: usize, n: i32, d: i32): void {
  for (let i = 0; i < n; i++) {
    const row = x + ((<usize>i * d) << 2);
    let acc = f32x4.splat(0);
    let k = 0;
    for (; k + 4 <= d; k += 4) {
      const v = v128.load(row + (<usize>k << 2));
      acc = madd(v, v, acc);
    }
    let s: f32 = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
    for (; k < d; k++) {
      const v = load<f32>(row + (<usize>k << 2));
      s += v * v;
    }
    store<f32>(sq + (<usize>i << 2), s);
  }
}

/**
 * In place, dot (n x n, = x·xᵀ) becomes the distance matrix:
 * d² = max((sq_i + sq_j) − 2·dot, 0); squared: d², else sqrt(d²); 0 where d² ≤ 0 and on the diagonal.
 * (TF adds 1e-16 before the sqrt where d² ≤ 0 and then zeroes those entries: the same values.)
 */
export function distance_pairwise_finish(dot: usize, sq: usize, n: i32, squared: i32): void {
  const zero = f32x4.splat(0);
  const two = f32x4.splat(2);
  for (let i = 0; i < n; i++) {
    const row = dot + ((<usize>i * n) << 2);
    const sqi = v128.load32_splat(sq + (<usize>i << 2));
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      let d2 = f32x4.sub(f32x4.add(sqi, v128.load(sq + o)), f32x4.mul(two, v128.load(row + o)));
      d2 = f32x4.max(d2, zero);
      const positive = f32x4.gt(d2, zero);
      const value = squared ? d2 : f32x4.sqrt(d2);
      v128.store(row + o, v128.and(value, positive));
    }
    const sqs = load<f32>(sq + (<usize>i << 2));
    for (; j < n; j++) {
      const o = <usize>j << 2;
      let d2: f32 = (sqs + load<f32>(sq + o)) - 2 * load<f32>(row + o);
      d2 = max<f32>(d2, 0);
      store<f32>(row + o, d2 > 0 ? (squared ? d2 : sqrt<f32>(d2)) : 0);
    }
    store<f32>(row + (<usize>i << 2), 0);
  }
}

/**
 * Backward of the elementwise part of pairwise_distance. G = dL/d(d²): gy where the output is an
 * off-diagonal entry with d² > 0 (out > 0), times 1/(2·out) unless squared; 0 elsewhere (TF's
 * masks). Writes S = G + Gᵀ (n x n) and rowsum[i] = Σ_j S[i,j].
 */
export function distance_pairwise_backward_sym(out: usize, gy: usize, s: usize, rowsum: usize, n: i32, squared: i32): void {
  for (let i = 0; i < n; i++) store<f32>(rowsum + (<usize>i << 2), 0);
  for (let i = 0; i < n; i++) {
    store<f32>(s + ((<usize>i * n + i) << 2), 0);
    let r: f32 = 0;
    for (let j = i + 1; j < n; j++) {
      const ij = (<usize>i * n + j) << 2;
      const ji = (<usize>j * n + i) << 2;
      const oij = load<f32>(out + ij);
      const oji = load<f32>(out + ji);
      let gij: f32 = oij > 0 ? load<f32>(gy + ij) : 0;
      let gji: f32 = oji > 0 ? load<f32>(gy + ji) : 0;
      if (!squared) {
        if (oij > 0) gij = gij / (2 * oij);
        if (oji > 0) gji = gji / (2 * oji);
      }
      const v = gij + gji;
      store<f32>(s + ij, v);
      store<f32>(s + ji, v);
      r += v;
      store<f32>(rowsum + (<usize>j << 2), load<f32>(rowsum + (<usize>j << 2)) + v);
    }
    store<f32>(rowsum + (<usize>i << 2), load<f32>(rowsum + (<usize>i << 2)) + r);
  }
}

/** In place, sx (= S·x) becomes dx = 2·(rowsum_i·x_i − (S·x)_i), for (n x d) x. */
export function distance_pairwise_backward_finish(x: usize, sx: usize, rowsum: usize, n: i32, d: i32): void {
  const two = f32x4.splat(2);
  for (let i = 0; i < n; i++) {
    const base = (<usize>i * d) << 2;
    const r = v128.load32_splat(rowsum + (<usize>i << 2));
    const rs = load<f32>(rowsum + (<usize>i << 2));
    let k = 0;
    for (; k + 4 <= d; k += 4) {
      const o = base + (<usize>k << 2);
      v128.store(sx + o, f32x4.mul(two, f32x4.sub(f32x4.mul(r, v128.load(x + o)), v128.load(sx + o))));
    }
    for (; k < d; k++) {
      const o = base + (<usize>k << 2);
      store<f32>(sx + o, 2 * (rs * load<f32>(x + o) - load<f32>(sx + o)));
    }
  }
}

/**
 * TF's l2_normalize over rows: xh = x · inv, inv = 1/sqrt(max(sq, 1e-12)). Writes sq (Σx²) and inv
 * per row, which the backward needs.
 */
export function distance_l2_normalize_rows(x: usize, xh: usize, sq: usize, inv: usize, n: i32, d: i32): void {
  distance_row_sq_norms(x, sq, n, d);
  for (let i = 0; i < n; i++) {
    const s = load<f32>(sq + (<usize>i << 2));
    const r: f32 = 1 / sqrt<f32>(max<f32>(s, 1e-12));
    store<f32>(inv + (<usize>i << 2), r);
    const rv = f32x4.splat(r);
    const base = (<usize>i * d) << 2;
    let k = 0;
    for (; k + 4 <= d; k += 4) {
      const o = base + (<usize>k << 2);
      v128.store(xh + o, f32x4.mul(v128.load(x + o), rv));
    }
    for (; k < d; k++) {
      const o = base + (<usize>k << 2);
      store<f32>(xh + o, load<f32>(x + o) * r);
    }
  }
}

/** out = max(1 − cos, 0) over m values. */
export function distance_angular_finish(cos: usize, out: usize, m: i32): void {
  const one = f32x4.splat(1);
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.max(f32x4.sub(one, v128.load(cos + o)), zero));
  }
  for (; i < m; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, max<f32>(1 - load<f32>(cos + o), 0));
  }
}

/**
 * Backward of max(1 − cos, 0) w.r.t. cos, symmetrized: S = −(G + Gᵀ), G = gy where 1 − cos ≥ 0
 * (TF's Maximum passes the gradient to its first input on ties).
 */
export function distance_angular_backward_sym(cos: usize, gy: usize, s: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const ij = (<usize>i * n + j) << 2;
      const ji = (<usize>j * n + i) << 2;
      const gij: f32 = 1 - load<f32>(cos + ij) >= 0 ? load<f32>(gy + ij) : 0;
      const gji: f32 = 1 - load<f32>(cos + ji) >= 0 ? load<f32>(gy + ji) : 0;
      const v = -(gij + gji);
      store<f32>(s + ij, v);
      store<f32>(s + ji, v);
    }
  }
}

/**
 * Backward of xh = x · inv, inv = 1/sqrt(max(sq, 1e-12)): in place, dxh becomes
 * dx = inv·(dxh − xh·(xh·dxh)) where sq ≥ 1e-12, else inv·dxh (the max holds the norm constant).
 */
export function distance_l2_normalize_backward(xh: usize, dxh: usize, sq: usize, inv: usize, n: i32, d: i32): void {
  for (let i = 0; i < n; i++) {
    const base = (<usize>i * d) << 2;
    const r = load<f32>(inv + (<usize>i << 2));
    let dot: f32 = 0;
    if (load<f32>(sq + (<usize>i << 2)) >= <f32>1e-12) {
      let acc = f32x4.splat(0);
      let k = 0;
      for (; k + 4 <= d; k += 4) {
        const o = base + (<usize>k << 2);
        acc = madd(v128.load(xh + o), v128.load(dxh + o), acc);
      }
      dot = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
      for (; k < d; k++) {
        const o = base + (<usize>k << 2);
        dot += load<f32>(xh + o) * load<f32>(dxh + o);
      }
    }
    const rv = f32x4.splat(r);
    const dv = f32x4.splat(dot);
    let k = 0;
    for (; k + 4 <= d; k += 4) {
      const o = base + (<usize>k << 2);
      v128.store(dxh + o, f32x4.mul(rv, f32x4.sub(v128.load(dxh + o), f32x4.mul(v128.load(xh + o), dv))));
    }
    for (; k < d; k++) {
      const o = base + (<usize>k << 2);
      store<f32>(dxh + o, r * (load<f32>(dxh + o) - load<f32>(xh + o) * dot));
    }
  }
}
