// The `wasmgrad/umap` entry point, kept so that existing imports work: umap2d is also exported by
// the main entry (src/index.ts) now that it is our own code rather than the CommonJS umap-js.

export { umap2d } from "./viz/umap.js";
export type { Umap2dOptions } from "./viz/umap.js";
