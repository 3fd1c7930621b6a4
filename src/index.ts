// The public API of wasmgrad. Nothing outside this file is promised to users.
// (umap2d is also the entry `wasmgrad/umap`, src/umap.ts, from when it wrapped the CommonJS umap-js.)

// Runtime: kernels, threads, memory, randomness
export { finishKernels, init, isInitialized, kernelBuild, limitThreads, relaxedSimdSupported, shutdown, threadCount } from "./wasm/loader.js";
export type { InitOptions, KernelBuild, KernelSource } from "./wasm/loader.js";
export { memoryStats } from "./wasm/stats.js";
export { Generator, globalGenerator, manualSeed } from "./random.js";

// Tensors, the tape, gradient checks
export { Tensor, tensor, tidy, releaseStep } from "./autograd/tensor.js";
export type { Shape, TensorOptions } from "./autograd/tensor.js";
export { backward, noGrad, zeroGrad, isGradEnabled } from "./autograd/tape.js";
export type { ZeroGradOptions } from "./autograd/tape.js";
export { gradcheck } from "./autograd/gradcheck.js";
export type { GradcheckOptions, GradcheckResult } from "./autograd/gradcheck.js";

// Ops
export { add, sub, mul } from "./autograd/ops/binary.js";
export { scale } from "./autograd/ops/scale.js";
export { relu } from "./autograd/ops/relu.js";
export { sum, mean } from "./autograd/ops/sum.js";
export type { ReduceOptions } from "./autograd/ops/sum.js";
export { reshape, flatten } from "./autograd/ops/reshape.js";
export { matmul } from "./autograd/ops/matmul.js";
export type { MatmulOptions } from "./autograd/ops/matmul.js";
export { dense } from "./autograd/ops/dense.js";
export type { DenseActivation, DenseOptions } from "./autograd/ops/dense.js";
export { conv2d } from "./autograd/ops/conv2d.js";
export type { Conv2dOptions } from "./autograd/ops/conv2d.js";
export { maxPool2d } from "./autograd/ops/maxpool2d.js";
export { conv2dMaxPool } from "./autograd/ops/conv2d-maxpool.js";
export type { Conv2dMaxPoolOptions } from "./autograd/ops/conv2d-maxpool.js";
export type { MaxPool2dOptions } from "./autograd/ops/maxpool2d.js";
export { dropout } from "./autograd/ops/dropout.js";
export type { DropoutOptions } from "./autograd/ops/dropout.js";
export { l2Normalize } from "./autograd/ops/l2normalize.js";
export type { L2NormalizeOptions } from "./autograd/ops/l2normalize.js";
export { pairwiseDistance, angularDistance } from "./autograd/ops/distance.js";
export type { PairwiseDistanceOptions } from "./autograd/ops/distance.js";

// Losses
export {
  tripletSemiHardLoss, tripletHardLoss, TripletSemiHardLoss, TripletHardLoss, tripletSemiHardDiagnostics, tripletCollapseWarning,
} from "./nn/losses/triplet.js";
export type {
  DistanceMetric, TripletLabels, TripletSemiHardOptions, TripletHardOptions, TripletSemiHardLossConfig, TripletHardLossConfig,
  TripletDiagnostics,
} from "./nn/losses/triplet.js";

// Models: layers, Sequential, optimizers, saving, TF.js interop
export { Sequential, firstNonFinite } from "./nn/sequential.js";
export type {
  Batch, BatchLogs, Callbacks, EpochLogs, FitOptions, History, Labels, LossDiagnostics, LossLike,
} from "./nn/sequential.js";
export { Layer } from "./nn/layers/layer.js";
export type { CallContext, LayerConfig, NamedParameter } from "./nn/layers/layer.js";
export { Conv2D } from "./nn/layers/conv2d.js";
export { Dense } from "./nn/layers/dense.js";
export { Dropout, Flatten, L2Normalize, MaxPooling2D } from "./nn/layers/shape-layers.js";
export { tripletTutorialModel } from "./nn/models.js";
export { Optimizer } from "./nn/optimizers/optimizer.js";
export type { OptimizerState } from "./nn/optimizers/optimizer.js";
export { Adam } from "./nn/optimizers/adam.js";
export { SGD } from "./nn/optimizers/sgd.js";
export { glorotUniform } from "./nn/initializers.js";
export { serializeModel, deserializeModel } from "./nn/serialize.js";
export type { ModelTopology } from "./nn/serialize.js";
export { toTfjsArtifacts, fromTfjsArtifacts } from "./nn/tfjs.js";
export type { TfjsArtifacts, TfjsArtifactsInput, TfjsWeightSpec, KerasLayerJson } from "./nn/tfjs.js";
export { registerTfjsL2Normalize } from "./nn/tfjs-l2normalize.js";
export type { TfjsModuleLike, L2NormalizeLayerConfig } from "./nn/tfjs-l2normalize.js";

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

// Evaluation
export { retrievalMetrics } from "./eval/retrieval.js";
export type { RetrievalMetric, RetrievalMetrics, RetrievalOptions } from "./eval/retrieval.js";
export { nearestNeighbors } from "./eval/neighbors.js";
export type { NearestNeighbors } from "./eval/neighbors.js";

// Pictures and Embedding Projector files
export { writeProjectorFiles, formatFloat32 } from "./viz/projector.js";
export type { ProjectorFiles, ProjectorOptions } from "./viz/projector.js";
export { scatterSvg, scatterPng, writeEmbeddingPictures, TAB10 } from "./viz/scatter.js";
export type { ScatterOptions } from "./viz/scatter.js";
export { encodePng } from "./viz/png.js";
export { umap2d } from "./viz/umap.js";
export type { Umap2dOptions } from "./viz/umap.js";
