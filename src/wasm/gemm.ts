// The one entry point to the GEMM kernel, for every op that has GEMM-shaped work
// (matmul, dense, convolutions as im2col). C (m x n) = op(A) · op(B) [+ C] [+ bias] [relu].
// A·Bᵀ with few rows of A and many of B goes to the dot-product kernel (usesAbt, below); the
// rest to the blocked one.
//
// With several threads (init({ threads })), a product big enough to pay for waking the workers
// is split into contiguous parts of rows of C (4-row tiles) or, when that duplicates more
// packing, of columns (8-column panels); the threads take the parts as they become free and run
// gemm_part on each with their own packing scratch and the whole product's K block, so every
// element is summed in the same order as on one thread: the results are bit-identical whatever
// the thread count.

import type { Tensor } from "../autograd/tensor.js";
import { allocator, kernels, parallelRunParts, threadCount } from "./loader.js";
import { PARTS_PER_THREAD, taperedRanges } from "./split.js";

interface GemmKernels {
  gemm_blocked(a: number, b: number, c: number, m: number, n: number, k: number, transA: number, transB: number,
    accumulate: number, bias: number, relu: number, scratch: number): void;
  gemm_scratch_floats(n: number, k: number): number;
  gemm_block_rows(n: number, k: number): number;
  abt_packed_floats(m: number, k: number): number;
  pack_abt_a(a: number, m: number, k: number, dst: number): void;
  gemm_abt(packedA: number, b: number, c: number, m: number, n: number, k: number, accumulate: number, j0: number, j1: number): void;
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

// One packing buffer per thread, reused by every call and grown when a call needs more. They are
// allocated directly from the allocator, outside any tidy scope, so that they outlive them; the
// memory they occupy stays reserved for the life of the runtime.
const MIN_SCRATCH_FLOATS = 81920;
interface Scratch {
  ptr: number;
  floats: number;
}
let scratches: Scratch[] = [];
let scratchAllocator: unknown = null;

function scratchFor(thread: number, floats: number): number {
  const alloc = allocator();
  if (scratchAllocator !== alloc) {
    scratches = [];
    scratchAllocator = alloc;
  }
  const scratch = (scratches[thread] ??= { ptr: 0, floats: 0 });
  if (floats > scratch.floats) {
    if (scratch.floats > 0) alloc.release(scratch.ptr);
    // The kernel packs at most 256 KiB of B at a time (kernels/gemm.ts, chunkColumns), so this first
    // size normally lasts for the whole run; beyond it, headroom against growing a little each call.
    const want = Math.max(MIN_SCRATCH_FLOATS, Math.ceil(floats * 1.25));
    scratch.ptr = alloc.alloc(want * 4);
    scratch.floats = want;
  }
  return scratch.ptr;
}

/** Bytes held by the GEMM packing buffers (counted in the allocator's live bytes). */
export function gemmScratchBytes(): number {
  return scratches.reduce((sum, s) => sum + s.floats * 4, 0);
}

/**
 * Work (FLOP) each thread must get for a split to pay: waking a worker and waiting for it costs
 * tens of microseconds (more on a loaded machine), and each thread packs its own operands.
 * See gemmParallelism() and bench/threads.ts.
 */
const DEFAULT_MIN_FLOPS_PER_THREAD = 8e6;
let minFlopsPerThread = DEFAULT_MIN_FLOPS_PER_THREAD;

/** Changes the split threshold (tests use a low one to split small products); returns the old one. */
export function setGemmMinFlopsPerThread(flops: number): number {
  const old = minFlopsPerThread;
  minFlopsPerThread = flops;
  return old;
}

function validate(args: GemmArgs): void {
  for (const name of ["m", "n", "k"] as const) {
    const v = args[name];
    if (!Number.isInteger(v) || v < 0) throw new Error(`gemm: ${name} must be a non-negative integer, got ${v}`);
  }
}

function runSingle(args: GemmArgs, kern: GemmKernels, work: number): void {
  kern.gemm_blocked(address(args.a), address(args.b), address(args.c), args.m, args.n, args.k,
    args.transA ? 1 : 0, args.transB ? 1 : 0, args.accumulate ? 1 : 0,
    args.bias === undefined ? 0 : address(args.bias), args.relu ? 1 : 0, work);
}

/** The GEMM on the calling thread alone, whatever the thread count (the reference for tests and bench). */
export function gemmSingleThread(args: GemmArgs): void {
  validate(args);
  if (args.m === 0 || args.n === 0) return;
  const kern = kernels<GemmKernels>();
  if (usesAbt(args)) runAbt(args, kern, 1);
  else runSingle(args, kern, scratchFor(0, kern.gemm_scratch_floats(args.n, args.k)));
}

/** How gemm() would split a product: threads used, and along which dimension. */
export function gemmParallelism(m: number, n: number, k: number): { threads: number; split: "rows" | "columns" | "none" } {
  const rowTiles = Math.ceil(m / 4);
  const panels = Math.ceil(n / 8);
  const byWork = Math.floor((2 * m * n * k) / minFlopsPerThread);
  const threads = Math.min(threadCount(), byWork);
  if (threads <= 1 || k === 0) return { threads: 1, split: "none" };
  // Each thread packs all of B when rows are split (k·n floats), all of A when columns are
  // (m·k): split the way that duplicates less, if it has enough tiles for every thread.
  const preferRows = n <= m;
  const rowsFit = Math.min(threads, rowTiles);
  const columnsFit = Math.min(threads, panels);
  if (preferRows ? rowsFit >= columnsFit : rowsFit > columnsFit) {
    return rowsFit > 1 ? { threads: rowsFit, split: "rows" } : { threads: 1, split: "none" };
  }
  return columnsFit > 1 ? { threads: columnsFit, split: "columns" } : { threads: 1, split: "none" };
}

/**
 * Roughly what packing one float costs, in the FLOPs of the micro-kernel in the same time (a
 * strided read and a write against 2 FLOPs at ~40 GFLOP/s): what a part beyond one a thread costs
 * when every part packs the operand it shares with the others.
 */
const PACK_FLOPS_PER_FLOAT = 12;

/** Share of a product's work that its extra parts may add by packing their shared operand again. */
const MAX_REPACKING_SHARE = 0.05;

/**
 * Parts to cut a product of `flops` into for `threads` threads when each part packs `sharedFloats`
 * floats that the others pack too: one on one thread; else at least one a thread, up to
 * PARTS_PER_THREAD a thread and `units` (the tiles or panels there are), as many as the repacking
 * allows.
 */
export function partsForProduct(flops: number, sharedFloats: number, threads: number, units: number): number {
  if (threads <= 1) return 1;
  const extra = Math.floor((MAX_REPACKING_SHARE * flops) / (PACK_FLOPS_PER_FLOAT * Math.max(1, sharedFloats)));
  return Math.max(Math.min(threads, units), Math.min(units, threads * PARTS_PER_THREAD, threads + extra));
}

/**
 * A·Bᵀ with few rows of A against many of B (the dense input gradient: dy · Wᵀ) goes to
 * kernels/gemm_abt.ts, which reads B's rows in place as dot products instead of transposing all
 * of B into panels first: A packed (at most this many floats, so it stays in L1 and L2 while
 * every pair of B's rows passes), B at least ABT_MIN_COLUMNS rows, k a multiple of 4, nothing
 * fused. Scratch A/B of the dense input gradient (32 x 256 · (1568 x 256)ᵀ): 1.15-1.25x on the
 * relaxed build, 1.13x on the plain one.
 */
const ABT_MAX_PACKED_FLOATS = 16384;
const ABT_MIN_COLUMNS = 64;

function usesAbt(args: GemmArgs): boolean {
  const { m, n, k } = args;
  return !!args.transB && !args.transA && args.bias === undefined && !args.relu && k > 0 && k % 4 === 0 &&
    n >= ABT_MIN_COLUMNS && Math.ceil(m / 4) * 4 * k <= ABT_MAX_PACKED_FLOATS;
}

/** C (+)= A·Bᵀ through gemm_abt: A packed once by the calling thread, columns of C split. */
function runAbt(args: GemmArgs, kern: GemmKernels, threads: number): void {
  const { m, n, k } = args;
  const packed = scratchFor(0, kern.abt_packed_floats(m, k));
  kern.pack_abt_a(address(args.a), m, k, packed);
  const b = address(args.b);
  const c = address(args.c);
  const accumulate = args.accumulate ? 1 : 0;
  if (threads <= 1) {
    kern.gemm_abt(packed, b, c, m, n, k, accumulate, 0, n);
    return;
  }
  const head = [packed, b, c, m, n, k, accumulate];
  // Pairs of columns, the tile's width; nothing is packed per part.
  const pairs = Math.ceil(n / 2);
  const shares = taperedRanges(pairs, Math.min(pairs, threads * PARTS_PER_THREAD))
    .map(([p0, count]) => [...head, 2 * p0, Math.min(n, 2 * (p0 + count))]);
  parallelRunParts("gemm_abt", shares, undefined, threads, true);
}

export function gemm(args: GemmArgs): void {
  validate(args);
  const { m, n, k } = args;
  if (m === 0 || n === 0) return;
  const kern = kernels<GemmKernels>();
  if (usesAbt(args)) {
    runAbt(args, kern, gemmParallelism(m, n, k).threads);
    return;
  }
  const plan = gemmParallelism(m, n, k);
  const scratchFloats = kern.gemm_scratch_floats(n, k);
  if (plan.split === "none") {
    runSingle(args, kern, scratchFor(0, scratchFloats));
    return;
  }

  const a = address(args.a);
  const b = address(args.b);
  const c = address(args.c);
  const bias = args.bias === undefined ? 0 : address(args.bias);
  const transA = args.transA ? 1 : 0;
  const transB = args.transB ? 1 : 0;
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  const kc = kern.gemm_block_rows(n, k);
  const tail = [transA, transB, args.accumulate ? 1 : 0] as const;
  const units = plan.split === "rows" ? Math.ceil(m / 4) : Math.ceil(n / 8);
  // Each part packs all of B when rows are split, all of A when columns are.
  const parts = partsForProduct(2 * m * n * k, plan.split === "rows" ? k * n : m * k, plan.threads, units);
  const shares: number[][] = [];
  for (const [u0, count] of taperedRanges(units, parts)) {
    const u1 = u0 + count;
    if (plan.split === "rows") {
      const i0 = u0 * 4;
      const rows = Math.min(m, u1 * 4) - i0;
      shares.push([a + (transA ? i0 : i0 * k) * 4, b, c + i0 * n * 4, rows, n, k, lda, ldb, n, kc,
        ...tail, bias, args.relu ? 1 : 0, 0]);
    } else {
      const j0 = u0 * 8;
      const cols = Math.min(n, u1 * 8) - j0;
      shares.push([a, b + (transB ? j0 * k : j0) * 4, c + j0 * 4, m, cols, k, lda, ldb, n, kc,
        ...tail, bias ? bias + j0 * 4 : 0, args.relu ? 1 : 0, 0]);
    }
  }
  const work = Array.from({ length: plan.threads }, (_, t) => scratchFor(t, scratchFloats));
  parallelRunParts("gemm_part", shares, { arg: 15, values: work }, plan.threads, true);
}
