// The machine's ceiling for work split over threads, at one moment: the f32x4 peak kernel
// (registers only: no memory traffic, no packing) on the calling thread alone, then on every
// thread at once. Its speed-up is the most any kernel can gain from the threads in those
// milliseconds; it falls below the thread count when the host runs other work on our virtual CPUs'
// cores. The step's rounds (step.ts) take it beside each pair of 1- and 2-thread blocks, so that
// their speed-up can be read against the machine's in the same seconds.

import { kernels, parallelRun } from "../src/wasm/loader.js";
import { clock, summarize } from "./harness.js";

/** A round counts as idle when the peak kernel's speed-up reached this share of the thread count. */
export const IDLE_SHARE = 0.95;

/** Iterations of the peak kernel a call: about half a millisecond, long against a dispatch. */
const ITERATIONS = 250_000;
/** Calls of each kind: the speed-up compares their medians. */
const CALLS = 3;

/**
 * The peak kernel's speed-up on `threads` threads at once (parallelRun: each runs the whole
 * kernel) over the calling thread alone, `calls` calls of each, alternating.
 */
export function ceilingSpeedup(threads: number, iterations = ITERATIONS, calls = CALLS): number {
  const { peak_f32x4 } = kernels<{ peak_f32x4(iterations: number, seed: number): number }>();
  const shares = Array.from({ length: threads }, () => [iterations, 0.001]);
  const one: number[] = [];
  const all: number[] = [];
  for (let i = 0; i < calls; i++) {
    let t0 = clock();
    peak_f32x4(iterations, 0.001);
    one.push(clock() - t0);
    t0 = clock();
    parallelRun("peak_f32x4", shares);
    all.push(clock() - t0);
  }
  return (threads * summarize(one).medianMs) / summarize(all).medianMs;
}

/** Whether a round whose ceiling was `speedup` ran on an idle machine. */
export function idle(speedup: number, threads: number): boolean {
  return speedup >= IDLE_SHARE * threads;
}
