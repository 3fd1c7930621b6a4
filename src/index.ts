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

// Viz
export { umap2d } from "./viz/umap.js";
export type { Umap2dOptions } from "./viz/umap.js";
export { writeProjectorFiles, formatFloat32 } from "./viz/projector.js";
export type { ProjectorFiles, ProjectorOptions } from "./viz/projector.js";
export { scatterSvg, scatterPng, writeEmbeddingPictures, TAB10 } from "./viz/scatter.js";
export type { ScatterOptions } from "./viz/scatter.js";
export { encodePng } from "./viz/png.js";
