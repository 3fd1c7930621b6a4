// Work split over the images of a batch, for kernels that treat each image on its own (pooling,
// direct convolutions): each thread gets a contiguous range of images and runs the kernel on
// pointers offset to it, so every output is computed exactly as on one thread.

import { kernels, parallelRun, threadCount } from "./loader.js";

/** Below this many bytes touched, a dispatch to the workers costs more than it saves. */
const MIN_BYTES_PER_THREAD = 256 * 1024;

/** Image ranges [start, count] for a batch of n images whose kernel touches `bytes` bytes. */
export function imageRanges(n: number, bytes: number): [number, number][] {
  const threads = Math.max(1, Math.min(threadCount(), n, Math.floor(bytes / MIN_BYTES_PER_THREAD)));
  const ranges: [number, number][] = [];
  for (let t = 0; t < threads; t++) {
    const start = Math.floor((n * t) / threads);
    ranges.push([start, Math.floor((n * (t + 1)) / threads) - start]);
  }
  return ranges;
}

/**
 * Runs `kernel` once per image range (see imageRanges), concurrently; `args(start, count, thread)`
 * gives the arguments for one range.
 */
export function runOverImages(kernel: string, n: number, bytes: number,
                              args: (start: number, count: number, thread: number) => number[]): void {
  const ranges = imageRanges(n, bytes);
  const shares = ranges.map(([start, count], t) => args(start, count, t));
  if (shares.length === 1) kernels<Record<string, (...a: number[]) => void>>()[kernel](...shares[0]);
  else parallelRun(kernel, shares);
}
