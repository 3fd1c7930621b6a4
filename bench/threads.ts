// GEMM on 1 thread and on every thread of the runtime (init's default: all cores), at the tutorial
// model's shapes (dense (32x1568)·(1568x256), conv2 as (6272x256)·(256x32), forward and backward),
// with the speed-up; then square products of growing size split regardless of the threshold, to
// see where a split starts to pay (the threshold in src/wasm/gemm.ts). The 1-thread rows call the
// kernel on the main thread alone (gemmSingleThread), in the same process and memory.

import { gemm, gemmParallelism, gemmSingleThread, setGemmMinFlopsPerThread, type GemmArgs } from "../src/wasm/gemm.js";
import { allocator, finishKernels, kernelBuild, kernels, memory, parallelRun, threadCount } from "../src/wasm/loader.js";
import { Generator } from "../src/random.js";
import { MODEL_GEMMS, type GemmCase } from "./model-gemms.js";
import { PEAK_FLOP_PER_ITERATION } from "./gemm.js";
import { measure, row, type BenchOptions, type BenchRow, type MeasureOptions } from "./harness.js";

export const group = "threads";

type Case = GemmCase;
const modelCases = MODEL_GEMMS;

/**
 * CPU time of all the process's threads per run (ms): unlike the wall time, it hardly depends on
 * what else the machine runs, so cpu(1 thread) / (cpu(split) / threads) bounds the speed-up an
 * idle machine would show, counting the split's duplicated packing and dispatch.
 */
function cpuMsPerRun(fn: () => void, runs: number): number {
  finishKernels();
  const start = process.cpuUsage();
  for (let i = 0; i < runs; i++) fn();
  finishKernels();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / runs;
}

/** Times one case on 1 thread and split; pushes both rows; returns the summed medians. */
function compare(c: Case, rows: BenchRow[], timing: MeasureOptions, rng: Generator): [number, number] {
  const alloc = allocator();
  const { m, n, k } = c;
  const ptrs = [m * k, k * n, n, m * n].map((floats) => alloc.alloc(floats * 4));
  const [a, b, bias, out] = ptrs;
  try {
    for (const [p, floats] of [[a, m * k], [b, k * n], [bias, n]]) {
      const view = new Float32Array(memory().buffer, p, floats);
      for (let i = 0; i < floats; i++) view[i] = rng.uniform(-1, 1);
    }
    const args: GemmArgs = { a, b, c: out, m, n, k, transA: c.transA, transB: c.transB, bias: c.bias ? bias : undefined };
    const flops = 2 * m * n * k;
    const plan = gemmParallelism(m, n, k);
    const single = () => gemmSingleThread(args);
    const parallel = () => gemm(args);
    const one = measure(single, timing);
    const split = measure(parallel, timing);
    const cpuRuns = Math.max(3, Math.round(20 / one.medianMs));
    const cpuOne = cpuMsPerRun(single, cpuRuns);
    const cpuSplit = cpuMsPerRun(parallel, cpuRuns);
    rows.push(row({ group, name: c.name, shape: c.shape, impl: "1 thread" }, one, { flops, extra: { "cpu ms": cpuOne } }));
    rows.push(row({ group, name: c.name, shape: c.shape, impl: `${plan.threads} threads` }, split, {
      flops,
      extra: {
        "cpu ms": cpuSplit,
        split: plan.split,
        "speed-up": one.medianMs / split.medianMs,
        "cpu-bound speed-up": cpuOne / (cpuSplit / plan.threads),
      },
    }));
    return [one.medianMs, split.medianMs];
  } finally {
    for (const p of ptrs) alloc.release(p);
  }
}

/**
 * The machine's own ceiling for splitting compute-bound work: the f32x4 peak kernel on the calling
 * thread alone, then the same kernel on every thread at once (no memory traffic, no packing, one
 * dispatch). Its speed-up is the most any kernel can gain from the threads on this machine now
 * (below the thread count when the virtual CPUs share a core or the host is busy).
 */
function peakRows(timing: MeasureOptions): BenchRow[] {
  const { peak_f32x4 } = kernels<{ peak_f32x4(iterations: number, seed: number): number }>();
  const iterations = 1_000_000; // about 2 ms: long against a dispatch
  const threads = threadCount();
  const build = kernelBuild() === "relaxed" ? "relaxed madd" : "mul+add";
  const one = measure(() => peak_f32x4(iterations, 0.001), timing);
  const all = measure(() => parallelRun("peak_f32x4", Array.from({ length: threads }, () => [iterations, 0.001])), timing);
  const flops = iterations * PEAK_FLOP_PER_ITERATION;
  return [
    row({ group, name: `f32x4 peak (${build}), machine ceiling`, shape: "12 accumulators", impl: "1 thread" }, one, { flops }),
    row({ group, name: `f32x4 peak (${build}), machine ceiling`, shape: "12 accumulators", impl: `${threads} threads at once` }, all, {
      flops: flops * threads,
      extra: { "speed-up": (threads * one.medianMs) / all.medianMs },
    }),
  ];
}

export async function run(options: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const timing = options.quick ? { minMs: 150, minRuns: 5 } : { minMs: 600, minRuns: 10 };
  const rng = new Generator(3);
  if (threadCount() < 2) {
    process.stderr.write(`bench threads: the runtime has ${threadCount()} thread; the rows compare 1 with 1\n`);
  }
  rows.push(...peakRows(timing));

  let total1 = 0;
  let totalN = 0;
  for (const c of modelCases) {
    const [one, split] = compare(c, rows, timing, rng);
    total1 += one;
    totalN += split;
  }
  rows.push({ group, name: "the six model GEMMs, summed", shape: "", impl: `${threadCount()} threads`,
    medianMs: totalN, p10Ms: NaN, p90Ms: NaN, runs: 0, extra: { "speed-up": total1 / totalN } });

  // Where splitting starts to pay: square products, split whatever their size.
  const old = setGemmMinFlopsPerThread(1);
  try {
    for (const size of [32, 64, 96, 128, 192, 256, 384]) {
      compare({ name: `square, split forced`, shape: `${size}³ (${((2 * size ** 3) / 1e6).toFixed(1)} MFLOP)`, m: size, n: size, k: size },
        rows, timing, rng);
    }
  } finally {
    setGemmMinFlopsPerThread(old);
  }
  return rows;
}
