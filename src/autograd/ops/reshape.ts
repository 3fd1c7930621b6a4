// reshape and flatten: the same elements in the same order under a new shape. The data is copied
// (tensors never share storage); backward copies the gradient back to the input's shape.

import { kernels } from "../../wasm/loader.js";
import { record } from "../tape.js";
import { Shape, Tensor } from "../tensor.js";

interface CopyKernels {
  copy(dst: number, src: number, n: number): void;
}

/** x with shape `shape`; one size may be -1, inferred from the others. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  return copyAs("reshape", x, resolveShape(x, shape));
}

/** (N, ...) → (N, product of the rest), as Keras' Flatten. */
export function flatten(x: Tensor): Tensor {
  if (!(x instanceof Tensor)) throw new Error("flatten: expected a Tensor");
  if (x.rank < 1) throw new Error(`flatten: expected a tensor of rank 1 or more (N, ...), got shape [${x.shape}]`);
  const [n, ...rest] = x.shape;
  return copyAs("flatten", x, [n, rest.reduce((p, d) => p * d, 1)]);
}

function copyAs(op: string, x: Tensor, shape: number[]): Tensor {
  const k = kernels<CopyKernels>();
  const y = Tensor.empty(shape);
  k.copy(y.ptr, x.ptr, x.size);
  record(op, [x], y, (gy) => {
    const gx = Tensor.empty(x.shape);
    k.copy(gx.ptr, gy.ptr, x.size);
    return [gx];
  });
  return y;
}

function resolveShape(x: Tensor, shape: Shape): number[] {
  if (!(x instanceof Tensor)) throw new Error("reshape: expected a Tensor");
  if (!Array.isArray(shape)) throw new Error(`reshape: the shape must be an array of sizes, got ${String(shape)}`);
  const cannot = (why: string) => new Error(`reshape: cannot reshape [${x.shape}] (${x.size} elements) to [${shape}]${why}`);
  let unknown = -1;
  let known = 1;
  shape.forEach((d, i) => {
    if (d === -1) {
      if (unknown >= 0) throw cannot(": only one size may be -1");
      unknown = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw cannot(`: size ${d} is not a non-negative integer (or -1)`);
    } else known *= d;
  });
  if (unknown < 0) {
    if (known !== x.size) throw cannot(` (${known} elements)`);
    return [...shape];
  }
  if (known === 0 || x.size % known !== 0) throw cannot(`: ${x.size} elements are not a multiple of ${known}`);
  const out = [...shape];
  out[unknown] = x.size / known;
  return out;
}
