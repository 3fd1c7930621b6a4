// The public API of wasmgrad. Nothing outside this file is promised to users.

export { init, isInitialized } from "./wasm/loader.js";
export type { InitOptions, KernelSource } from "./wasm/loader.js";
export { Tensor, tensor, tidy, releaseStep } from "./autograd/tensor.js";
export type { Shape, TensorOptions } from "./autograd/tensor.js";
export { backward, noGrad, zeroGrad, isGradEnabled } from "./autograd/tape.js";
export { gradcheck } from "./autograd/gradcheck.js";
export type { GradcheckOptions, GradcheckResult } from "./autograd/gradcheck.js";
export { Generator, globalGenerator, manualSeed } from "./random.js";
export { memoryStats } from "./wasm/stats.js";

// Ops
export { relu } from "./autograd/ops/relu.js";
export { matmul } from "./autograd/ops/matmul.js";

// Eval
export { retrievalMetrics } from "./eval/retrieval.js";
export type { RetrievalMetric, RetrievalMetrics, RetrievalOptions } from "./eval/retrieval.js";
