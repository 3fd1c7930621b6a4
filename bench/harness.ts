// Timing for `npm run bench`: repeated runs, medians and percentiles, never a single sample.

import { finishKernels, isInitialized } from "../src/wasm/loader.js";

/**
 * The clock every timing reads (ms): it first finishes the kernels' deferred dispatch, if any
 * (parallelRunParts), so that a sample holds all of its own work and none of the one before.
 */
export function clock(): number {
  if (isInitialized()) finishKernels();
  return performance.now();
}

export interface BenchOptions {
  /** Fewer and shorter runs (`--quick`). */
  quick: boolean;
}

export interface BenchRow {
  /** Section of the table, e.g. "gemm", "conv2d", "triplet". */
  group: string;
  /** What ran, e.g. "dense forward". */
  name: string;
  /** The shape it ran at, e.g. "(32x1568)·(1568x256)". */
  shape: string;
  /** "simd", "reference", "tfjs-wasm", … */
  impl: string;
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
  runs: number;
  /** Compute rate, for compute-bound work. */
  gflops?: number;
  /** Memory rate, for memory-bound work. */
  gbps?: number;
  /** Anything else worth a column (peak bytes, ratios…). */
  extra?: Record<string, number | string>;
}

export interface Timing {
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
  runs: number;
}

export interface MeasureOptions {
  /** Keep running until this much time has passed (ms). */
  minMs?: number;
  minRuns?: number;
  maxRuns?: number;
  warmup?: number;
}

/** Runs `fn` repeatedly and returns the median and 10th/90th percentiles of its time. */
export function measure(fn: () => void, options: MeasureOptions = {}): Timing {
  const { minMs = 300, minRuns = 5, maxRuns = 2000, warmup = 2 } = options;
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  const start = clock();
  while (samples.length < maxRuns && (samples.length < minRuns || clock() - start < minMs)) {
    const t0 = clock();
    fn();
    samples.push(clock() - t0);
  }
  return summarize(samples);
}

export function summarize(samples: readonly number[]): Timing {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))];
  return { medianMs: at(0.5), p10Ms: at(0.1), p90Ms: at(0.9), runs: s.length };
}

/** A row from a timing and a FLOP count (or a byte count, for memory-bound kernels). */
export function row(
  base: Pick<BenchRow, "group" | "name" | "shape" | "impl">,
  t: Timing,
  work: { flops?: number; bytes?: number; extra?: BenchRow["extra"] } = {},
): BenchRow {
  const seconds = t.medianMs / 1000;
  return {
    ...base,
    ...t,
    gflops: work.flops !== undefined ? work.flops / seconds / 1e9 : undefined,
    gbps: work.bytes !== undefined ? work.bytes / seconds / 1e9 : undefined,
    extra: work.extra,
  };
}
