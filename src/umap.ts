// The `wasmgrad/umap` entry point: UMAP layouts through umap-js. Kept out of the main entry
// because umap-js ships CommonJS only: the main entry then has no bare import at all and loads in
// a browser (page or worker) as-is, while this one needs a bundler, an import map or a server that
// resolves "umap-js" (see demo/README.md).

export { umap2d } from "./viz/umap.js";
export type { Umap2dOptions } from "./viz/umap.js";
