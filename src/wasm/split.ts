// Work split over independent items — the images of a batch for pooling and direct convolutions,
// the elements of a parameter for the optimizer's update: each thread gets a contiguous range of
// items and runs the kernel on pointers offset to it, so every output is computed exactly as on
// one thread.

import { kernels, parallelRun, threadCount } from "./loader.js";

/** Below this many bytes touched, a dispatch to the workers costs more than it saves. */
const MIN_BYTES_PER_THREAD = 256 * 1024;

/** Ranges [start, count] of n items for a kernel that touches `bytes` bytes in all. */
export function itemRanges(n: number, bytes: number): [number, number][] {
  const threads = Math.max(1, Math.min(threadCount(), n, Math.floor(bytes / MIN_BYTES_PER_THREAD)));
  const ranges: [number, number][] = [];
  for (let t = 0; t < threads; t++) {
    const start = Math.floor((n * t) / threads);
    ranges.push([start, Math.floor((n * (t + 1)) / threads) - start]);
  }
  return ranges;
}

/**
 * Runs `kernel` once per range of items (see itemRanges), concurrently; `args(start, count, thread)`
 * gives the arguments for one range.
 */
export function runOverRanges(kernel: string, n: number, bytes: number,
                              args: (start: number, count: number, thread: number) => number[]): void {
  const ranges = itemRanges(n, bytes);
  const shares = ranges.map(([start, count], t) => args(start, count, t));
  if (shares.length === 1) kernels<Record<string, (...a: number[]) => void>>()[kernel](...shares[0]);
  else parallelRun(kernel, shares);
}
