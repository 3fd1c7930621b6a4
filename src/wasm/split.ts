// Work split over independent items — the images of a batch for pooling and direct convolutions,
// the elements of a parameter for the optimizer's update: the items are cut into contiguous parts
// that the threads take as they become free (loader.ts, parallelRunParts), and the kernel runs on
// pointers offset to each part, so every output is computed exactly as on one thread.

import { parallelRunParts, threadCount } from "./loader.js";
import type { ThreadLocal } from "./parallel.js";

/** Below this many bytes touched, a dispatch to the workers costs more than it saves. */
const MIN_BYTES_PER_THREAD = 256 * 1024;

/**
 * Parts a thread may take in one dispatch: more let a thread slowed down by another program or
 * the garbage collector hand work to the other instead of keeping it waiting; each part costs a
 * kernel call (and, for a GEMM, packing its shared operand again).
 */
export const PARTS_PER_THREAD = 4;

/** Below this many bytes touched, a part costs more in calls than it saves in waiting. */
const MIN_BYTES_PER_PART = 128 * 1024;

/**
 * `parts` contiguous ranges [start, count] of n items (n >= parts), in sizes that shrink linearly
 * (parts, parts - 1, ..., 1 shares): the threads start on big parts and end on small ones, so the
 * last to finish keeps the others waiting for at most a small part.
 */
export function taperedRanges(n: number, parts: number): [number, number][] {
  // One item each, then the rest in shares parts, parts - 1, ..., 1, rounded down; what rounding
  // leaves goes one item each to the first parts, so sizes never grow.
  const total = (parts * (parts + 1)) / 2;
  const rest = n - parts;
  let left = rest;
  for (let p = 0; p < parts; p++) left -= Math.floor((rest * (parts - p)) / total);
  const ranges: [number, number][] = new Array(parts);
  let start = 0;
  for (let p = 0; p < parts; p++) {
    const size = 1 + Math.floor((rest * (parts - p)) / total) + (p < left ? 1 : 0);
    ranges[p] = [start, size];
    start += size;
  }
  return ranges;
}

/** Threads worth using for a kernel over n items that touches `bytes` bytes in all. */
export function itemThreads(n: number, bytes: number): number {
  return Math.max(1, Math.min(threadCount(), n, Math.floor(bytes / MIN_BYTES_PER_THREAD)));
}

/**
 * Runs `kernel` once per part of n items, on itemThreads(n, bytes) threads; `args(start, count)`
 * gives the arguments for one part. A kernel that needs scratch gets its thread's own through
 * `local` (one value per thread, itemThreads(n, bytes) of them).
 */
export function runOverRanges(kernel: string, n: number, bytes: number, args: (start: number, count: number) => number[],
                              local?: ThreadLocal): void {
  const threads = itemThreads(n, bytes);
  const parts = threads === 1 ? 1 : Math.min(n, threads * PARTS_PER_THREAD, Math.max(threads, Math.floor(bytes / MIN_BYTES_PER_PART)));
  parallelRunParts(kernel, taperedRanges(n, parts).map(([start, count]) => args(start, count)), local, threads, true);
}
