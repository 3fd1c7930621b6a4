// sum and mean over all elements (to shape []) or over some axes (negative axes count from the
// end; keepDims leaves them as 1s). Backward repeats the gradient along the reduced axes (mean
// divides by the number of elements reduced into each output).

import { repeatOver, sumOver } from "../reduce.js";
import { record } from "../tape.js";
import { Tensor } from "../tensor.js";

export interface ReduceOptions {
  /** Axis or axes to reduce (default: all). */
  axis?: number | number[];
  /** Keep the reduced axes as size 1 (default false). */
  keepDims?: boolean;
}

export function sum(x: Tensor, options: ReduceOptions = {}): Tensor {
  return reduce("sum", x, options, false);
}

export function mean(x: Tensor, options: ReduceOptions = {}): Tensor {
  return reduce("mean", x, options, true);
}

function reduce(op: string, x: Tensor, options: ReduceOptions, average: boolean): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`${op}: expected a Tensor`);
  const reduced = reducedAxes(op, x.shape, options.axis);
  const outShape = x.shape.flatMap((d, i) => (!reduced[i] ? [d] : options.keepDims ? [1] : []));
  const count = x.shape.reduce((n, d, i) => (reduced[i] ? n * d : n), 1);
  const scale = average ? 1 / count : 1;
  const y = sumOver(x, reduced, outShape, scale);
  record(op, [x], y, (gy) => [repeatOver(gy, reduced, x.shape, scale)]);
  return y;
}

/** For each dim of `shape`, whether `axis` reduces it. */
function reducedAxes(op: string, shape: readonly number[], axis: number | number[] | undefined): boolean[] {
  const rank = shape.length;
  const reduced = new Array<boolean>(rank).fill(axis === undefined);
  if (axis === undefined) return reduced;
  for (const a of Array.isArray(axis) ? axis : [axis]) {
    if (!Number.isInteger(a) || a < -rank || a >= rank) {
      throw new Error(`${op}: axis ${a} is out of range for shape [${shape}] (rank ${rank}); expected an integer in [${-rank}, ${rank - 1}]`);
    }
    const d = a < 0 ? a + rank : a;
    if (reduced[d]) throw new Error(`${op}: axis ${a} is given twice (axes [${axis}] for shape [${shape}])`);
    reduced[d] = true;
  }
  return reduced;
}
