// Pairwise distance matrices of the rows of x (N x D), as TF Addons' metric_learning computes them.
//
// pairwiseDistance: d² = (‖a‖² + ‖b‖²) − 2a·b, clamped at 0; sqrt unless squared; entries with d² ≤ 0
// and the diagonal are 0 and pass no gradient (TF's 1e-16 trick: finite gradients for coincident
// points). Backward, for G = dL/d(d²) and S = G + Gᵀ: dx = 2·(diag(rowsum S)·x − S·x).
//
// angularDistance: x̂ = x / sqrt(max(Σx², 1e-12)) per row, d = max(1 − x̂·x̂ᵀ, 0); the diagonal is
// not zeroed. Backward: dx̂ = S·x̂ with S = −(G + Gᵀ), then through the normalization.

import { gemm } from "../../wasm/gemm.js";
import { kernels } from "../../wasm/loader.js";
import { record } from "../tape.js";
import { Tensor } from "../tensor.js";

interface DistanceKernels {
  distance_row_sq_norms(x: number, sq: number, n: number, d: number): void;
  distance_pairwise_finish(dot: number, sq: number, n: number, squared: number): void;
  distance_pairwise_backward_sym(out: number, gy: number, s: number, rowsum: number, n: number, squared: number): void;
  distance_pairwise_backward_finish(x: number, sx: number, rowsum: number, n: number, d: number): void;
  distance_l2_normalize_rows(x: number, xh: number, sq: number, inv: number, n: number, d: number): void;
  distance_angular_finish(cos: number, out: number, m: number): void;
  distance_angular_backward_sym(cos: number, gy: number, s: number, n: number): void;
  distance_l2_normalize_backward(xh: number, dxh: number, sq: number, inv: number, n: number, d: number): void;
}

export interface PairwiseDistanceOptions {
  /** Return squared distances (default false). */
  squared?: boolean;
}

function checkMatrix(op: string, x: Tensor): [number, number] {
  if (!(x instanceof Tensor)) throw new Error(`${op}: expected a Tensor of shape [N, D], got ${String(x)}`);
  if (x.rank !== 2) throw new Error(`${op}: input has shape [${x.shape}], expected a matrix [N, D] (one embedding per row)`);
  return [x.shape[0], x.shape[1]];
}

/** Euclidean (or squared) distances between the rows of x: (N, D) → (N, N). */
export function pairwiseDistance(x: Tensor, options: PairwiseDistanceOptions = {}): Tensor {
  const [n, d] = checkMatrix("pairwiseDistance", x);
  const squared = options.squared ? 1 : 0;
  const k = kernels<DistanceKernels>();
  const out = Tensor.empty([n, n]);
  const sq = Tensor.empty([n]);
  k.distance_row_sq_norms(x.ptr, sq.ptr, n, d);
  gemm({ a: x, b: x, c: out, m: n, n, k: d, transB: true });
  k.distance_pairwise_finish(out.ptr, sq.ptr, n, squared);
  record("pairwiseDistance", [x], out, (gy) => {
    const s = Tensor.empty([n, n]);
    const rowsum = Tensor.empty([n]);
    k.distance_pairwise_backward_sym(out.ptr, gy.ptr, s.ptr, rowsum.ptr, n, squared);
    const dx = Tensor.empty([n, d]);
    gemm({ a: s, b: x, c: dx, m: n, n: d, k: n });
    k.distance_pairwise_backward_finish(x.ptr, dx.ptr, rowsum.ptr, n, d);
    s.dispose();
    rowsum.dispose();
    return [dx];
  });
  sq.dispose();
  return out;
}

/** 1 − cosine similarity between the rows of x, clamped at 0: (N, D) → (N, N). */
export function angularDistance(x: Tensor): Tensor {
  const [n, d] = checkMatrix("angularDistance", x);
  const k = kernels<DistanceKernels>();
  const xh = Tensor.empty([n, d]);
  const sq = Tensor.empty([n]);
  const inv = Tensor.empty([n]);
  k.distance_l2_normalize_rows(x.ptr, xh.ptr, sq.ptr, inv.ptr, n, d);
  const cos = Tensor.empty([n, n]);
  gemm({ a: xh, b: xh, c: cos, m: n, n, k: d, transB: true });
  const out = Tensor.empty([n, n]);
  k.distance_angular_finish(cos.ptr, out.ptr, n * n);
  record("angularDistance", [x], out, (gy) => {
    const s = Tensor.empty([n, n]);
    k.distance_angular_backward_sym(cos.ptr, gy.ptr, s.ptr, n);
    const dx = Tensor.empty([n, d]);
    gemm({ a: s, b: xh, c: dx, m: n, n: d, k: n });
    k.distance_l2_normalize_backward(xh.ptr, dx.ptr, sq.ptr, inv.ptr, n, d);
    s.dispose();
    return [dx];
  });
  if (!out.requiresGrad) for (const t of [xh, sq, inv, cos]) t.dispose(); // nothing will need them
  return out;
}
