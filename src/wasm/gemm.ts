// The one entry point to the GEMM kernel, for every op that has GEMM-shaped work
// (matmul, dense, convolutions as im2col). C (m x n) = op(A) · op(B) [+ C].

import type { Tensor } from "../autograd/tensor.js";
import { kernels } from "./loader.js";

interface GemmKernels {
  gemm(a: number, b: number, c: number, m: number, n: number, k: number, transA: number, transB: number, accumulate: number): void;
}

type Operand = Tensor | number;
const address = (t: Operand) => (typeof t === "number" ? t : t.ptr);

export interface GemmArgs {
  /** (m x k), or (k x m) stored when transA. A tensor or a raw pointer. */
  a: Operand;
  /** (k x n), or (n x k) stored when transB. */
  b: Operand;
  /** (m x n) output. */
  c: Operand;
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  /** Add to C instead of overwriting it. */
  accumulate?: boolean;
}

export function gemm(args: GemmArgs): void {
  const { m, n, k } = args;
  if (m === 0 || n === 0) return;
  kernels<GemmKernels>().gemm(address(args.a), address(args.b), address(args.c), m, n, k,
    args.transA ? 1 : 0, args.transB ? 1 : 0, args.accumulate ? 1 : 0);
}
