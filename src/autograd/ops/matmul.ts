// matmul: C = op(A) · op(B), op = transpose when asked (A stored [k, m] with transposeA, B stored
// [n, k] with transposeB). Backward, written so every product is one GEMM call on the stored
// layouts: dop(A) = dC·op(B)ᵀ and dop(B) = op(A)ᵀ·dC, transposed back when the operand was.

import { gemm } from "../../wasm/gemm.js";
import { record } from "../tape.js";
import { Tensor } from "../tensor.js";

export interface MatmulOptions {
  /** Use Aᵀ: A is stored [k, m]. */
  transposeA?: boolean;
  /** Use Bᵀ: B is stored [n, k]. */
  transposeB?: boolean;
}

export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const tA = options.transposeA ?? false;
  const tB = options.transposeB ?? false;
  if (a.rank !== 2 || b.rank !== 2) throw new Error(`matmul: expected two matrices, got shapes [${a.shape}] and [${b.shape}]`);
  const [m, k] = tA ? [a.shape[1], a.shape[0]] : a.shape;
  const [k2, n] = tB ? [b.shape[1], b.shape[0]] : b.shape;
  if (k !== k2) {
    const show = (s: readonly number[], t: boolean) => `[${s}]${t ? "ᵀ" : ""}`;
    throw new Error(`matmul: inner sizes differ: ${show(a.shape, tA)} · ${show(b.shape, tB)} (${k} vs ${k2})`);
  }
  const c = Tensor.empty([m, n]);
  gemm({ a, b, c, m, n, k, transA: tA, transB: tB });
  record("matmul", [a, b], c, (gc) => {
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (a.requiresGrad) {
      ga = Tensor.empty(a.shape);
      if (!tA) gemm({ a: gc, b, c: ga, m, n: k, k: n, transB: !tB }); // dC·op(B)ᵀ
      else gemm({ a: b, b: gc, c: ga, m: k, n: m, k: n, transA: tB, transB: true }); // op(B)·dCᵀ
    }
    if (b.requiresGrad) {
      gb = Tensor.empty(b.shape);
      if (!tB) gemm({ a, b: gc, c: gb, m: k, n, k: m, transA: !tA }); // op(A)ᵀ·dC
      else gemm({ a: gc, b: a, c: gb, m: n, n: k, k: m, transA: true, transB: tA }); // dCᵀ·op(A)
    }
    return [ga, gb];
  });
  return c;
}
