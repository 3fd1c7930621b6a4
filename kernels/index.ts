// Entry point of the WebAssembly module: every kernel file re-exported.
// Kernels take raw pointers into linear memory and sizes; they allocate nothing.
export * from "./elementwise";
export * from "./gemm";
export * from "./gemm_abt";
export * from "./dropout";
export * from "./normalize";
export * from "./dense";
export * from "./peak";
export * from "./distance";
export * from "./triplet";
export * from "./reduce";
export * from "./conv";
export * from "./pool";

/** First free byte after the module's static data: the JS allocator starts here. */
export function heap_base(): usize {
  return __heap_base;
}
export * from "./optim";
export * from "./conv_gemm";
export * from "./conv_pool";
export * from "./conv_pool_sparse";
export * from "./finite";
