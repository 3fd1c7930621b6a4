// Summing over axes, and its adjoint (repeating over axes): the kernels behind sum, mean and the
// gradients of broadcast binary ops. Dims of size 1 are dropped and adjacent dims that are both
// reduced (or both kept) merged; each reduced group is then one [outer, r, inner] kernel call.

import { kernels } from "../wasm/loader.js";
import { Shape, Tensor } from "./tensor.js";

interface ReduceKernels {
  reduce_sum(x: number, y: number, outer: number, r: number, inner: number, scale: number): void;
  broadcast_axis(x: number, y: number, outer: number, r: number, inner: number, scale: number): void;
  scale_forward(x: number, y: number, n: number, c: number): void;
  fill(dst: number, n: number, value: number): void;
}

interface Group {
  size: number;
  reduced: boolean;
}

function collapse(shape: Shape, reduced: readonly boolean[]): Group[] {
  const groups: Group[] = [];
  shape.forEach((size, d) => {
    if (size === 1) return;
    const last = groups[groups.length - 1];
    if (last && last.reduced === reduced[d]) last.size *= size;
    else groups.push({ size, reduced: reduced[d] });
  });
  return groups;
}

const product = (groups: readonly Group[]) => groups.reduce((p, g) => p * g.size, 1);

/**
 * scale · the sum of x over the dims marked in `reduced`, as a new tensor of shape `outShape`
 * (any shape holding the kept dims in order, e.g. with or without the reduced dims as 1s).
 */
export function sumOver(x: Tensor, reduced: readonly boolean[], outShape: Shape, scale = 1): Tensor {
  const k = kernels<ReduceKernels>();
  const y = Tensor.empty(outShape);
  if (y.size === 0) return y;
  if (x.size === 0) {
    // Sums over empty axes: 0 (and 0 · scale = NaN for a mean of nothing, as NumPy).
    k.fill(y.ptr, y.size, 0 * scale);
    return y;
  }
  let groups = collapse(x.shape, reduced);
  if (!groups.some((g) => g.reduced)) {
    k.scale_forward(x.ptr, y.ptr, x.size, scale);
    return y;
  }
  // Innermost reduced group first; each step drops one group. Intermediates are freed at once.
  let src = x;
  while (true) {
    const i = groups.map((g) => g.reduced).lastIndexOf(true);
    const rest = groups.filter((_, j) => j !== i);
    const last = !rest.some((g) => g.reduced);
    const dst = last ? y : Tensor.empty([product(rest)]);
    k.reduce_sum(src.ptr, dst.ptr, product(groups.slice(0, i)), groups[i].size, product(groups.slice(i + 1)), last ? scale : 1);
    if (src !== x) src.dispose();
    if (last) return y;
    src = dst;
    groups = rest;
  }
}

/**
 * The adjoint of sumOver: g (holding the kept dims of `shape` in order) repeated along the dims
 * marked in `reduced`, times scale, as a new tensor of shape `shape`.
 */
export function repeatOver(g: Tensor, reduced: readonly boolean[], shape: Shape, scale = 1): Tensor {
  const k = kernels<ReduceKernels>();
  const y = Tensor.empty(shape);
  if (y.size === 0) return y;
  const groups = collapse(shape, reduced);
  const steps = groups.map((gr, i) => (gr.reduced ? i : -1)).filter((i) => i >= 0);
  if (steps.length === 0) {
    k.scale_forward(g.ptr, y.ptr, y.size, scale);
    return y;
  }
  // Outermost reduced group first: every group before it is then already present.
  let src = g;
  steps.forEach((i, n) => {
    const last = n === steps.length - 1;
    // After this step: every group up to i, and the kept ones after it.
    const dst = last ? y : Tensor.empty([product(groups.filter((gr, j) => j <= i || !gr.reduced))]);
    const inner = product(groups.filter((gr, j) => j > i && !gr.reduced));
    k.broadcast_axis(src.ptr, dst.ptr, product(groups.slice(0, i)), groups[i].size, inner, last ? scale : 1);
    if (src !== g) src.dispose();
    src = dst;
  });
  return y;
}

/** Which dims of `outShape` an operand of shape `shape` was broadcast along. */
export function broadcastDims(shape: Shape, outShape: Shape): boolean[] {
  const pad = outShape.length - shape.length;
  return outShape.map((d, i) => (i < pad ? d !== 1 : shape[i - pad] !== d));
}
