// scale: y = x · c for a number c. Backward: gx = gy · c.

import { kernels } from "../../wasm/loader.js";
import { record } from "../tape.js";
import { Tensor } from "../tensor.js";

interface ScaleKernels {
  scale_forward(x: number, y: number, n: number, c: number): void;
}

export function scale(x: Tensor, c: number): Tensor {
  if (typeof c !== "number") throw new Error(`scale: the factor must be a number, got ${typeof c}`);
  const k = kernels<ScaleKernels>();
  const y = Tensor.empty(x.shape);
  k.scale_forward(x.ptr, y.ptr, x.size, c);
  record("scale", [x], y, (gy) => {
    const gx = Tensor.empty(x.shape);
    k.scale_forward(gy.ptr, gx.ptr, x.size, c);
    return [gx];
  });
  return y;
}
