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

// Data
export { parseIdx, encodeIdx, IDX_MAX_DIMS } from "./data/idx.js";
export type { IdxDtype, IdxTensor } from "./data/idx.js";
export { loadMnist, MNIST_FILES } from "./data/mnist.js";
export type { LoadMnistOptions, Mnist, MnistSplit, MnistUrls } from "./data/mnist.js";
export { Dataset } from "./data/dataset.js";
export type { BatchOptions, DatasetState, ShuffleOptions } from "./data/dataset.js";
export { mnistDataset, toBatch } from "./data/mnist-dataset.js";
export type { MnistBatch, MnistDatasetOptions } from "./data/mnist-dataset.js";
export { pkSampler } from "./data/pk-sampler.js";
export type { PkSamplerOptions } from "./data/pk-sampler.js";
