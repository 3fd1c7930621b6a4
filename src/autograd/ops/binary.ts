// add, sub, mul: elementwise with broadcasting (see ../broadcast.ts). Backward sums the gradient
// over the dims each input was broadcast along, back to that input's shape; mul's gradient for
// one input is the output gradient times the other input.

import { broadcastBinary, BinaryCode, broadcastShapes, sameShape } from "../broadcast.js";
import { broadcastDims, sumOver } from "../reduce.js";
import { record } from "../tape.js";
import { Tensor } from "../tensor.js";

/** a + b, broadcast. */
export function add(a: Tensor, b: Tensor): Tensor {
  const y = forward("add", BinaryCode.add, a, b);
  record("add", [a, b], y, (gy) => [
    a.requiresGrad ? reduceTo(gy, a, 1) : null,
    b.requiresGrad ? reduceTo(gy, b, 1) : null,
  ]);
  return y;
}

/** a − b, broadcast. */
export function sub(a: Tensor, b: Tensor): Tensor {
  const y = forward("sub", BinaryCode.sub, a, b);
  record("sub", [a, b], y, (gy) => [
    a.requiresGrad ? reduceTo(gy, a, 1) : null,
    b.requiresGrad ? reduceTo(gy, b, -1) : null,
  ]);
  return y;
}

/** a · b elementwise, broadcast. */
export function mul(a: Tensor, b: Tensor): Tensor {
  const y = forward("mul", BinaryCode.mul, a, b);
  record("mul", [a, b], y, (gy) => [
    a.requiresGrad ? productReducedTo(gy, b, a) : null,
    b.requiresGrad ? productReducedTo(gy, a, b) : null,
  ]);
  return y;
}

function forward(op: string, code: BinaryCode, a: Tensor, b: Tensor): Tensor {
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) throw new Error(`${op}: expected two Tensors`);
  const y = Tensor.empty(broadcastShapes(op, a.shape, b.shape));
  broadcastBinary(code, a, b, y);
  return y;
}

/** scale · gy summed back to the shape of `input`; gy itself when that is a no-op. */
function reduceTo(gy: Tensor, input: Tensor, scale: number): Tensor {
  if (scale === 1 && sameShape(gy.shape, input.shape)) return gy;
  return sumOver(gy, broadcastDims(input.shape, gy.shape), input.shape, scale);
}

/** gy · other (broadcast to gy's shape), summed back to the shape of `input`. */
function productReducedTo(gy: Tensor, other: Tensor, input: Tensor): Tensor {
  const full = Tensor.empty(gy.shape);
  broadcastBinary(BinaryCode.mul, gy, other, full);
  if (sameShape(full.shape, input.shape)) return full;
  const g = sumOver(full, broadcastDims(input.shape, gy.shape), input.shape);
  full.dispose();
  return g;
}
