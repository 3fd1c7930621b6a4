// Memory figures for users, reports and tests.

import { allocator } from "./loader.js";

export interface MemoryStats {
  /** Bytes allocated to tensors now. */
  liveBytes: number;
  /** The most bytes allocated at once. */
  peakBytes: number;
  /** Size of the WebAssembly memory. */
  wasmMemoryBytes: number;
}

export function memoryStats(): MemoryStats {
  const a = allocator();
  return { liveBytes: a.liveBytes, peakBytes: a.peakBytes, wasmMemoryBytes: a.memoryBytes };
}
