// matmul: (m x k) · (k x n) → (m x n). Backward: dA = dC·Bᵀ, dB = Aᵀ·dC.

import { gemm } from "../../wasm/gemm.js";
import { record } from "../tape.js";
import { Tensor } from "../tensor.js";

export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank !== 2 || b.rank !== 2) throw new Error(`matmul: expected two matrices, got shapes [${a.shape}] and [${b.shape}]`);
  const [m, k] = a.shape;
  const [k2, n] = b.shape;
  if (k !== k2) throw new Error(`matmul: inner sizes differ: [${a.shape}] · [${b.shape}] (${k} vs ${k2})`);
  const c = Tensor.empty([m, n]);
  gemm({ a, b, c, m, n, k });
  record("matmul", [a, b], c, (gc) => {
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (a.requiresGrad) {
      ga = Tensor.empty(a.shape);
      gemm({ a: gc, b, c: ga, m, n: k, k: n, transB: true });
    }
    if (b.requiresGrad) {
      gb = Tensor.empty(b.shape);
      gemm({ a, b: gc, c: gb, m: k, n, k: m, transA: true });
    }
    return [ga, gb];
  });
  return c;
}
