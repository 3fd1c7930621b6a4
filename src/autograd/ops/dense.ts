// dense: y = act(x·W + b), x [N, in], W [in, out] (Keras layout), b [out]; bias and relu are
// fused into the one GEMM call. Backward: g = dy masked where y > 0 (relu), dx = g·Wᵀ,
// dW = xᵀ·g, db = column sums of g.

import { gemm } from "../../wasm/gemm.js";
import { kernels } from "../../wasm/loader.js";
import { record } from "../tape.js";
import { Tensor } from "../tensor.js";

interface DenseKernels {
  dense_bias_grad(dy: number, db: number, rows: number, cols: number): void;
  relu_backward(y: number, gy: number, gx: number, n: number): void;
}

export type DenseActivation = "linear" | "relu";

export interface DenseOptions {
  /** Applied after the bias (default "linear"). */
  activation?: DenseActivation;
  /**
   * Read an input of any rank above 1 as the matrix [batch, product of the rest], as Keras's
   * Flatten then Dense do, without copying it; its gradient comes back in the input's shape.
   */
  flattenInput?: boolean;
}

export function dense(x: Tensor, kernel: Tensor, bias: Tensor | null, options: DenseOptions = {}): Tensor {
  const activation = options.activation ?? "linear";
  if (activation !== "linear" && activation !== "relu") {
    throw new Error(`dense: unknown activation "${String(activation)}", expected "linear" or "relu"`);
  }
  if (options.flattenInput ? x.rank < 2 : x.rank !== 2) {
    throw new Error(`dense: input has shape [${x.shape}], expected ${options.flattenInput ? "[batch, ...] (rank 2 or more)" : "a matrix [batch, inputs]"}`);
  }
  if (kernel.rank !== 2) throw new Error(`dense: kernel has shape [${kernel.shape}], expected a matrix [inputs, outputs]`);
  // Row-major: [batch, a, b, ...] is already laid out as [batch, a·b·...].
  const rows = x.shape[0];
  const inputs = rows === 0 ? x.shape.slice(1).reduce((p, d) => p * d, 1) : x.size / rows;
  const [kernelInputs, outputs] = kernel.shape;
  if (inputs !== kernelInputs) {
    throw new Error(`dense: input has shape [${x.shape}] (${inputs} features${options.flattenInput ? " flattened" : ""}), kernel [${kernel.shape}] expects ${kernelInputs}`);
  }
  if (bias && (bias.rank !== 1 || bias.size !== outputs)) {
    throw new Error(`dense: bias has shape [${bias.shape}], expected [${outputs}] (the kernel's outputs)`);
  }
  const relu = activation === "relu";
  const y = Tensor.empty([rows, outputs]);
  gemm({ a: x, b: kernel, c: y, m: rows, n: outputs, k: inputs, bias: bias ?? undefined, relu });

  const inputsList = bias ? [x, kernel, bias] : [x, kernel];
  record("dense", inputsList, y, (gy) => {
    const k = kernels<DenseKernels>();
    let g = gy;
    if (relu) {
      g = Tensor.empty(y.shape);
      k.relu_backward(y.ptr, gy.ptr, g.ptr, y.size);
    }
    let gx: Tensor | null = null;
    let gw: Tensor | null = null;
    let gb: Tensor | null = null;
    if (x.requiresGrad) {
      gx = Tensor.empty(x.shape);
      gemm({ a: g, b: kernel, c: gx, m: rows, n: inputs, k: outputs, transB: true });
    }
    if (kernel.requiresGrad) {
      gw = Tensor.empty(kernel.shape);
      gemm({ a: x, b: g, c: gw, m: inputs, n: outputs, k: rows, transA: true });
    }
    if (bias?.requiresGrad) {
      gb = Tensor.empty(bias.shape);
      k.dense_bias_grad(g.ptr, gb.ptr, rows, outputs);
    }
    return bias ? [gx, gw, gb] : [gx, gw];
  });
  return y;
}
