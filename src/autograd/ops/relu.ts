// relu: y = max(x, 0). Backward passes the gradient where y > 0 (0 at x = 0, as TensorFlow).

import { kernels } from "../../wasm/loader.js";
import { record } from "../tape.js";
import { Tensor } from "../tensor.js";

interface ReluKernels {
  relu_forward(x: number, y: number, n: number): void;
  relu_backward(y: number, gy: number, gx: number, n: number): void;
}

export function relu(x: Tensor): Tensor {
  const k = kernels<ReluKernels>();
  const y = Tensor.empty(x.shape);
  k.relu_forward(x.ptr, y.ptr, x.size);
  record("relu", [x], y, (gy) => {
    const gx = Tensor.empty(x.shape);
    k.relu_backward(y.ptr, gy.ptr, gx.ptr, x.size);
    return [gx];
  });
  return y;
}
