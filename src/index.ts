// The public API of wasmgrad. Nothing outside this file is promised to users.

export { init, isInitialized, shutdown, threadCount } from "./wasm/loader.js";
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

// Models
export { Sequential } from "./nn/sequential.js";
export type { Batch, BatchLogs, Callbacks, EpochLogs, FitOptions, History, Labels, LossLike } from "./nn/sequential.js";
export { Layer } from "./nn/layers/layer.js";
export type { CallContext, LayerConfig, NamedParameter } from "./nn/layers/layer.js";
export { Conv2D } from "./nn/layers/conv2d.js";
export { Dense } from "./nn/layers/dense.js";
export { Dropout, Flatten, L2Normalize, MaxPooling2D } from "./nn/layers/shape-layers.js";
export { Adam } from "./nn/optimizers/adam.js";
export { SGD } from "./nn/optimizers/sgd.js";
export { Optimizer } from "./nn/optimizers/optimizer.js";
export type { OptimizerState } from "./nn/optimizers/optimizer.js";
export { glorotUniform } from "./nn/initializers.js";
export { serializeModel, deserializeModel } from "./nn/serialize.js";
export type { ModelTopology } from "./nn/serialize.js";
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
export { dropout } from "./autograd/ops/dropout.js";
export type { DropoutOptions } from "./autograd/ops/dropout.js";
export { l2Normalize } from "./autograd/ops/l2normalize.js";
export type { L2NormalizeOptions } from "./autograd/ops/l2normalize.js";
export type { MatmulOptions } from "./autograd/ops/matmul.js";
export { dense } from "./autograd/ops/dense.js";
export type { DenseActivation, DenseOptions } from "./autograd/ops/dense.js";
