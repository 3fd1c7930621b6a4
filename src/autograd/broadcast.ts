// Broadcasting of binary ops (NumPy/TensorFlow rules) and the kernel dispatch behind add, sub and
// mul. Shapes are aligned at their trailing dims; a dim of 1 (or a missing one) is repeated. Dims
// are then collapsed into groups where each operand is either whole or broadcast, so that every
// common pattern (equal shapes, [N, C] op [C], a scalar, [N, 1] op [N, C]) is one SIMD kernel,
// and anything else runs the strided kernel, still SIMD along the last group.

import { kernels } from "../wasm/loader.js";
import { Shape, Tensor } from "./tensor.js";

/** Operation codes shared with kernels/elementwise.ts (y = x op s; RSUB: y = s − x). */
export const BinaryCode = { add: 0, sub: 1, mul: 2, rsub: 3 } as const;
export type BinaryCode = (typeof BinaryCode)[keyof typeof BinaryCode];

interface BinaryKernels {
  binary_same(op: number, x: number, s: number, y: number, n: number): void;
  binary_scalar(op: number, x: number, s: number, y: number, n: number): void;
  binary_row(op: number, x: number, s: number, y: number, rows: number, cols: number): void;
  binary_col(op: number, x: number, s: number, y: number, rows: number, cols: number): void;
  binary_strided(op: number, a: number, b: number, y: number, meta: number, rank: number): void;
}

/** The broadcast shape of `a` and `b`; `op` names the caller in the error. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${op}: shapes [${a}] and [${b}] cannot be broadcast`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** `shape` with leading 1s up to `rank`. */
export function padShape(shape: Shape, rank: number): number[] {
  return [...new Array<number>(rank - shape.length).fill(1), ...shape];
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

interface Group {
  size: number;
  /** Whether a (b) has this group whole (else it is broadcast along it). */
  aWhole: boolean;
  bWhole: boolean;
}

/** Output dims of size 1 dropped, adjacent dims with the same broadcast pattern merged. */
function collapse(aShape: Shape, bShape: Shape, out: Shape): Group[] {
  const a = padShape(aShape, out.length);
  const b = padShape(bShape, out.length);
  const groups: Group[] = [];
  for (let i = 0; i < out.length; i++) {
    if (out[i] === 1) continue;
    const aWhole = a[i] === out[i];
    const bWhole = b[i] === out[i];
    const last = groups[groups.length - 1];
    if (last && last.aWhole === aWhole && last.bWhole === bWhole) last.size *= out[i];
    else groups.push({ size: out[i], aWhole, bWhole });
  }
  return groups;
}

const swapped = (code: BinaryCode): BinaryCode =>
  code === BinaryCode.sub ? BinaryCode.rsub : code === BinaryCode.rsub ? BinaryCode.sub : code;

/** y = a op b, with a and b broadcast to y's shape (which must be their broadcast shape). */
export function broadcastBinary(code: BinaryCode, a: Tensor, b: Tensor, y: Tensor): void {
  if (y.size === 0) return;
  const k = kernels<BinaryKernels>();
  const g = collapse(a.shape, b.shape, y.shape);
  if (g.length === 0) return k.binary_same(code, a.ptr, b.ptr, y.ptr, 1);
  if (g.length === 1) {
    const [{ size, aWhole, bWhole }] = g;
    if (aWhole && bWhole) return k.binary_same(code, a.ptr, b.ptr, y.ptr, size);
    if (aWhole) return k.binary_scalar(code, a.ptr, b.ptr, y.ptr, size);
    return k.binary_scalar(swapped(code), b.ptr, a.ptr, y.ptr, size);
  }
  if (g.length === 2) {
    const [outer, inner] = g;
    // One operand whole, the other varying along one group only.
    if (outer.aWhole && inner.aWhole) {
      if (inner.bWhole) return k.binary_row(code, a.ptr, b.ptr, y.ptr, outer.size, inner.size);
      if (outer.bWhole) return k.binary_col(code, a.ptr, b.ptr, y.ptr, outer.size, inner.size);
    }
    if (outer.bWhole && inner.bWhole) {
      if (inner.aWhole) return k.binary_row(swapped(code), b.ptr, a.ptr, y.ptr, outer.size, inner.size);
      if (outer.aWhole) return k.binary_col(swapped(code), b.ptr, a.ptr, y.ptr, outer.size, inner.size);
    }
  }
  stridedBinary(k, code, a, b, y, g);
}

function stridedBinary(k: BinaryKernels, code: BinaryCode, a: Tensor, b: Tensor, y: Tensor, g: Group[]): void {
  const rank = g.length;
  // Element strides of each operand over the groups (0 where broadcast).
  const meta = new Int32Array(4 * rank);
  let sa = 1;
  let sb = 1;
  for (let d = rank - 1; d >= 0; d--) {
    meta[d] = g[d].size;
    meta[rank + d] = g[d].aWhole ? sa : 0;
    meta[2 * rank + d] = g[d].bWhole ? sb : 0;
    if (g[d].aWhole) sa *= g[d].size;
    if (g[d].bWhole) sb *= g[d].size;
  }
  const scratch = Tensor.empty([4 * rank]);
  try {
    new Int32Array(scratch.view().buffer, scratch.ptr, 4 * rank).set(meta);
    k.binary_strided(code, a.ptr, b.ptr, y.ptr, scratch.ptr, rank);
  } finally {
    scratch.dispose();
  }
}
