// The one entry point to the GEMM kernel, for every op that has GEMM-shaped work
// (matmul, dense, convolutions as im2col). C (m x n) = op(A) · op(B) [+ C] [+ bias] [relu].

import type { Tensor } from "../autograd/tensor.js";
import { allocator, kernels } from "./loader.js";

interface GemmKernels {
  gemm_blocked(a: number, b: number, c: number, m: number, n: number, k: number, transA: number, transB: number,
    accumulate: number, bias: number, relu: number, scratch: number): void;
  gemm_scratch_floats(n: number, k: number): number;
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
  /** n floats added to every row of C (a tensor or a raw pointer; 0 or absent: none). */
  bias?: Operand;
  /** Apply max(·, 0) to the result (after the bias and the accumulation). */
  relu?: boolean;
}

// One packing buffer for every call, grown when a call needs more. It is allocated directly from
// the allocator, outside any tidy scope, so that it outlives them; the memory it occupies stays
// reserved for the life of the runtime.
const MIN_SCRATCH_FLOATS = 81920;
let scratch = { ptr: 0, floats: 0, allocator: null as unknown };

function scratchFor(floats: number): number {
  const alloc = allocator();
  if (scratch.allocator !== alloc) scratch = { ptr: 0, floats: 0, allocator: alloc };
  if (floats > scratch.floats) {
    if (scratch.floats > 0) alloc.release(scratch.ptr);
    // The kernel packs at most 256 KiB of B at a time (for n up to 1024), so this first size
    // normally lasts for the whole run; beyond it, headroom against growing a little each call.
    const want = Math.max(MIN_SCRATCH_FLOATS, Math.ceil(floats * 1.25));
    scratch.ptr = alloc.alloc(want * 4);
    scratch.floats = want;
  }
  return scratch.ptr;
}

/** Bytes held by the GEMM packing buffer (counted in the allocator's live bytes). */
export function gemmScratchBytes(): number {
  return scratch.floats * 4;
}

export function gemm(args: GemmArgs): void {
  const { m, n, k } = args;
  for (const [name, v] of [["m", m], ["n", n], ["k", k]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`gemm: ${name} must be a non-negative integer, got ${v}`);
  }
  if (m === 0 || n === 0) return;
  const kern = kernels<GemmKernels>();
  const work = scratchFor(kern.gemm_scratch_floats(n, k));
  kern.gemm_blocked(address(args.a), address(args.b), address(args.c), m, n, k,
    args.transA ? 1 : 0, args.transB ? 1 : 0, args.accumulate ? 1 : 0,
    args.bias === undefined ? 0 : address(args.bias), args.relu ? 1 : 0, work);
}
