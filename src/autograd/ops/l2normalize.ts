// l2Normalize: y = x / sqrt(max(Σx², ε)) over the last axis, as tf.math.l2_normalize, with
// TensorFlow's gradient (rows whose Σx² is below ε get gy / sqrt(ε): the max picked a constant).

import { kernels } from "../../wasm/loader.js";
import { record } from "../tape.js";
import { Tensor } from "../tensor.js";

interface L2NormalizeKernels {
  l2_normalize_forward(x: number, y: number, sumsq: number, rows: number, d: number, epsilon: number): void;
  l2_normalize_backward(y: number, gy: number, sumsq: number, gx: number, rows: number, d: number, epsilon: number): void;
}

export interface L2NormalizeOptions {
  /** Only the last axis is supported: -1 (default) or rank − 1. */
  axis?: number;
  /** Lower bound of the squared norm (default 1e-12, as TensorFlow). */
  epsilon?: number;
}

export function l2Normalize(x: Tensor, options: L2NormalizeOptions = {}): Tensor {
  const { axis = -1, epsilon = 1e-12 } = options;
  if (x.rank === 0) throw new Error("l2Normalize: input is a scalar; expected a tensor of rank 1 or more");
  if (axis !== -1 && axis !== x.rank - 1) {
    throw new Error(`l2Normalize: axis ${axis} is not supported for shape [${x.shape}]; only the last axis (-1 or ${x.rank - 1}) is`);
  }
  if (typeof epsilon !== "number" || !(epsilon > 0) || !Number.isFinite(epsilon)) {
    throw new Error(`l2Normalize: epsilon must be a positive finite number, got ${epsilon}`);
  }
  const d = x.shape[x.rank - 1];
  const rows = d === 0 ? 0 : x.size / d;
  const k = kernels<L2NormalizeKernels>();
  const y = Tensor.empty(x.shape);
  const sumsq = Tensor.empty([rows]);
  k.l2_normalize_forward(x.ptr, y.ptr, sumsq.ptr, rows, d, epsilon);
  record("l2Normalize", [x], y, (gy) => {
    const gx = Tensor.empty(x.shape);
    k.l2_normalize_backward(y.ptr, gy.ptr, sumsq.ptr, gx.ptr, rows, d, epsilon);
    return [gx];
  });
  return y;
}
