// GEMM throughput at the tutorial model's shapes: the dense layer (32x1568)·(1568x256) and conv2
// as a GEMM (6272x256)·(256x32), forward and each backward product, for the SIMD kernel and the
// plain TypeScript reference; and the runtime's own f32x4 mul+add peak, to read them against,
// with the relaxed build's FMA peak beside it (from a child node with the flag if need be).
// "% mul+add peak" is paired (paired.ts): short blocks of the product, of the plain build's peak
// kernel (on an instance of its own) and of the 4x8 micro-kernel on data in L1 alternate, and the
// column is the median of the rounds' ratios, since this shared machine's speed changes by a third
// from one second to the next; the micro-kernel's blocks tell the rounds when the host was quiet.

import { readFile } from "node:fs/promises";
import { dense, init, kernelBuild, noGrad, shutdown, tensor, tidy, type Tensor } from "../src/index.js";
import { matmul } from "../src/autograd/ops/matmul.js";
import { gemm, type GemmArgs } from "../src/wasm/gemm.js";
import { kernels, limitThreads } from "../src/wasm/loader.js";
import { Generator } from "../src/random.js";
import { gemmReference } from "../test/reference/matmul.js";
import { measure, row, type BenchOptions, type BenchRow, type MeasureOptions } from "./harness.js";
import { MODEL_GEMMS, type GemmCase } from "./model-gemms.js";
import { pairedRounds, quietLevel, roundColumns, type Block, type Round } from "./paired.js";
import { relaxedRowsInChild } from "./relaxed.js";

export const group = "gemm";

interface PeakKernels {
  peak_f32x4(iterations: number, seed: number): number;
  conv_gemm_scratch_floats(n: number, k: number, perTap: number, ch: number): number;
  conv2d_direct_filter_scratch_floats(ow: number, cin: number, kh: number, kw: number, sh: number, sw: number, cout: number): number;
  conv2d_implicit_forward(...args: number[]): void;
  conv2d_implicit_input(...args: number[]): void;
  conv2d_direct_backward_filter(...args: number[]): void;
  micro_f32x4(calls: number, packedA: number, packedB: number, c: number, n: number, kc: number, stage: number): void;
}

/** The micro-kernel row's block: kc rows of packed A and B, 4 panels (16 KB of B: in L1 with A). */
export const MICRO_KC = 128;
export const MICRO_N = 32;
export const MICRO_CALLS = 500;
/** Floats of micro_f32x4's buffers: packed A, packed B, C, and the stage (zeroed). */
export const MICRO_FLOATS = { packedA: MICRO_KC * 4, packedB: MICRO_KC * MICRO_N, c: 4 * MICRO_N, stage: 64 };
/** FLOP of one micro_f32x4 call of MICRO_CALLS tiles. */
export const MICRO_FLOP = 2 * 4 * MICRO_N * MICRO_KC * MICRO_CALLS;

/**
 * The GEMMs' 4x8 micro-kernel alone (kernels/gemm.ts's strip4): the same packed 4-row strip of A
 * and 4 packed panels of B, in L1, again and again; no packing and no edges. What the products
 * could reach at best with this tile, and the paired rounds' probe of the load side. Its buffers
 * belong to the caller's scope.
 */
function microKernel(): Block {
  const { micro_f32x4 } = kernels<PeakKernels>();
  const rng = new Generator(3);
  const packedA = tensor(random(MICRO_FLOATS.packedA, rng));
  const packedB = tensor(random(MICRO_FLOATS.packedB, rng));
  const c = tensor(new Float32Array(MICRO_FLOATS.c));
  const stage = tensor(new Float32Array(MICRO_FLOATS.stage)); // zeroed: strip4 reads its zero vector there
  return {
    run: () => micro_f32x4(MICRO_CALLS, packedA.ptr, packedB.ptr, c.ptr, MICRO_N, MICRO_KC, stage.ptr),
    flops: MICRO_FLOP,
  };
}

/** A SIMD row, 1 thread: its timing, "% peak" against this build's peak now, and its paired rounds. */
function simdRow(base: Pick<BenchRow, "name" | "shape">, kernel: Block, timing: MeasureOptions, pairing: Pairing): BenchRow {
  const peak = pairing.peakNow();
  const r = row({ group, ...base, impl: `${kernelBuild()} simd, 1 thread` }, measure(kernel.run, timing), { flops: kernel.flops });
  r.extra = { "% peak": (100 * r.gflops!) / peak };
  pairing.rows.push({ row: r, rounds: pairedRounds(kernel, pairing.plainPeak, pairing.probe, pairing.rounds) });
  return r;
}

/** What the SIMD rows are paired with, and their rounds, summed up once every row has run. */
interface Pairing {
  peakNow: () => number;
  plainPeak: Block;
  probe: Block;
  rounds: number;
  rows: { row: BenchRow; rounds: Round[] }[];
}

/** Adds each paired row's round columns, quiet rounds judged against every round of the run. */
function finishPairing(pairing: Pairing): void {
  const level = quietLevel(pairing.rows.flatMap((p) => p.rounds));
  for (const p of pairing.rows) p.row.extra = { ...p.row.extra, ...roundColumns(p.rounds, level), "quiet level %": 100 * level };
}

/** FLOP of one peak_f32x4 iteration: 12 accumulators × 4 lanes × (mul + add). */
export const PEAK_FLOP_PER_ITERATION = 96;
const PEAK_ITERATIONS = 2_000_000;

/** The peak row on the runtime's current build (mul+add, or one FMA in the relaxed build). */
function peakRow(timing: MeasureOptions): BenchRow {
  const { peak_f32x4 } = kernels<PeakKernels>();
  let sink = 0;
  const t = measure(() => { sink += peak_f32x4(PEAK_ITERATIONS, 0.001); }, timing);
  if (!Number.isFinite(sink)) throw new Error("bench gemm: peak kernel returned a non-finite value");
  const relaxed = kernelBuild() === "relaxed";
  return row({ group, name: `f32x4 peak (${relaxed ? "relaxed madd" : "mul+add"})`, shape: "12 accumulators", impl: `${kernelBuild()} simd` },
    t, { flops: PEAK_ITERATIONS * PEAK_FLOP_PER_ITERATION });
}

/** For bench/relaxed.ts's child node: the peak on the relaxed build. */
export async function relaxedRows(quick: boolean): Promise<BenchRow[]> {
  await init({ threads: 1, simd: "relaxed" });
  return [peakRow(peakTiming(quick))];
}

/** The relaxed build's peak when this process runs the plain one (as Node 20 does without the flag). */
async function relaxedPeakRow(quick: boolean): Promise<BenchRow[]> {
  if (kernelBuild() === "relaxed") return [];
  try {
    return await relaxedRowsInChild("gemm", quick);
  } catch (error) {
    process.stderr.write(`bench gemm: no relaxed-SIMD peak row: ${(error as Error).message}\n`);
    return [];
  }
}

/** FLOP of one call of the standalone plain peak (about a millisecond here). */
const PAIRED_PEAK_ITERATIONS = 250_000;

/** The plain build's peak kernel on a WebAssembly instance of its own, beside whatever build runs. */
async function standalonePlainPeak(): Promise<Block> {
  const bytes = await readFile(new URL("../src/wasm/kernels.wasm", import.meta.url));
  const memory = new WebAssembly.Memory({ initial: 16 });
  const { instance } = await WebAssembly.instantiate(bytes, { env: { memory } });
  const peak = instance.exports.peak_f32x4 as (iterations: number, seed: number) => number;
  return { run: () => peak(PAIRED_PEAK_ITERATIONS, 0.001), flops: PAIRED_PEAK_ITERATIONS * PEAK_FLOP_PER_ITERATION };
}

function peakTiming(quick: boolean): MeasureOptions {
  return quick ? { minMs: 100, minRuns: 5 } : { minMs: 400, minRuns: 10 };
}

function random(n: number, rng: Generator): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
}

interface Case extends GemmCase {
  /** Runs the SIMD version through the op rather than the raw GEMM. */
  op?: (a: Tensor, b: Tensor, bias: Tensor) => void;
}

/**
 * conv2's three products on its dense paths, each one kernel call on one thread: the forward and
 * the input gradient as implicit GEMMs (A read from the image, no patch matrix), the kernel
 * gradient direct. The same FLOPs as "conv2 ... (as GEMM)" above. The model runs the forward so;
 * its backward (conv2 with its pooling, conv2dMaxPool) visits only the nonzero gradients instead,
 * and these two are conv2d's backward when it runs alone.
 */
function modelConv2Rows(timing: MeasureOptions, pairing: Pairing): BenchRow[] {
  const k = kernels<PeakKernels>();
  const [n, h, w, cin, cout, kh, kw] = [32, 14, 14, 64, 32, 2, 2];
  const pixels = n * h * w;
  // NHWC geometry of a 'same' 2x2 stride-1 convolution: nothing padded before.
  const geometry = [n, h, w, cin, h, w, cout, kh, kw];
  const flops = 2 * pixels * cout * kh * kw * cin;
  const rng = new Generator(5);
  return tidy(() => {
    const x = tensor(random(pixels * cin, rng));
    const wt = tensor(random(kh * kw * cin * cout, rng));
    const bias = tensor(random(cout, rng));
    const y = tensor(random(pixels * cout, rng));
    const dx = tensor(new Float32Array(pixels * cin));
    const dw = tensor(new Float32Array(kh * kw * cin * cout));
    const db = tensor(new Float32Array(cout));
    const fwdScratch = tensor(new Float32Array(k.conv_gemm_scratch_floats(cout, kh * kw * cin, cin, cin)));
    const inScratch = tensor(new Float32Array(k.conv_gemm_scratch_floats(cin, kh * kw * cout, cout, cout)));
    const filterScratch = tensor(new Float32Array(k.conv2d_direct_filter_scratch_floats(w, cin, kh, kw, 1, 1, 0)));
    const cases: [string, () => void][] = [
      ["conv2 forward (implicit GEMM, as the model runs it)",
        () => k.conv2d_implicit_forward(x.ptr, wt.ptr, bias.ptr, y.ptr, fwdScratch.ptr, ...geometry, 1, 1, 0, 0, 1, 0, pixels)],
      ["conv2 input gradient (implicit GEMM, conv2d alone)",
        () => k.conv2d_implicit_input(y.ptr, wt.ptr, dx.ptr, inScratch.ptr, ...geometry, 0, 0, 0, pixels)],
      ["conv2 kernel gradient + db (direct, conv2d alone)",
        () => k.conv2d_direct_backward_filter(x.ptr, 0, y.ptr, dw.ptr, db.ptr, filterScratch.ptr, ...geometry, 1, 1, 0, 0)],
    ];
    const shape = `(${n},${h},${w},${cin})*(${kh},${kw},${cin},${cout})`;
    return cases.map(([name, run]) => simdRow({ name, shape }, { run, flops }, timing, pairing));
  });
}

export async function run(options: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const timing = peakTiming(options.quick);
  const referenceTiming = { minMs: 0, minRuns: options.quick ? 1 : 3, maxRuns: options.quick ? 1 : 3, warmup: 0 };

  // Peaks: the plain build's mul+add peak (the yardstick; on a runtime of its own when this
  // one runs the relaxed build) and this build's own. The own peak is measured again (briefly)
  // before each SIMD row, so that "% peak" compares figures taken moments apart on this shared,
  // noisy machine; "% mul+add peak" pairs blocks of the row with blocks of the plain peak and of
  // the micro-kernel (paired.ts).
  if (kernelBuild() === "relaxed") {
    await shutdown();
    await init({ threads: 1, simd: "plain" });
    const plain = peakRow(timing);
    await shutdown();
    await init();
    rows.push(plain, peakRow(timing));
  } else {
    rows.push(peakRow(timing), ...(await relaxedPeakRow(options.quick)));
  }
  const plainPeak = await standalonePlainPeak();
  // One thread, against the one-thread peaks (the threads group has the split products).
  const oldLimit = limitThreads(1);

  // The two forward products run through their ops (dense, matmul), the backward ones as the
  // exact GEMM calls the backward makes.
  const ops: Record<string, Case["op"]> = {
    "dense forward (bias)": (x, w, b) => noGrad(() => dense(x, w, b)),
    "conv2 forward (as GEMM)": (a, b) => noGrad(() => matmul(a, b)),
  };
  const cases: Case[] = MODEL_GEMMS.map((c) => ({ ...c, op: ops[c.name] }));

  tidy(() => {
    // The probe's buffers live in this scope, through every row.
    const pairing: Pairing = {
      peakNow: () => peakRow({ minMs: 60, minRuns: 5 }).gflops!,
      plainPeak,
      probe: microKernel(),
      rounds: options.quick ? 21 : 41,
      rows: [],
    };
    rows.push(simdRow({ name: "4x8 micro-kernel alone (packed, in L1)", shape: `4x${MICRO_KC}·${MICRO_KC}x${MICRO_N}` }, pairing.probe, timing, pairing));
    gemmRows(cases, timing, referenceTiming, pairing, rows);
    rows.push(...modelConv2Rows(timing, pairing));
    finishPairing(pairing);
  });
  limitThreads(oldLimit);
  return rows;
}

/** The model's GEMMs, SIMD (paired) and reference. */
function gemmRows(cases: Case[], timing: MeasureOptions, referenceTiming: MeasureOptions, pairing: Pairing, rows: BenchRow[]): void {
  const rng = new Generator(7);
  for (const c of cases) {
    const flops = 2 * c.m * c.n * c.k;
    const aValues = random(c.m * c.k, rng);
    const bValues = random(c.k * c.n, rng);
    const biasValues = random(c.n, rng);
    tidy(() => {
      const a = c.op ? tensor(aValues, c.transA ? [c.k, c.m] : [c.m, c.k]) : tensor(aValues);
      const b = c.op ? tensor(bValues, c.transB ? [c.n, c.k] : [c.k, c.n]) : tensor(bValues);
      const bias = tensor(biasValues);
      const out = tensor(new Float32Array(c.m * c.n));
      const args: GemmArgs = { a, b, c: out, m: c.m, n: c.n, k: c.k, transA: c.transA, transB: c.transB, bias: c.bias ? bias : undefined };
      const simd = c.op ? () => tidy(() => void c.op!(a, b, bias)) : () => gemm(args);
      rows.push(simdRow({ name: c.name, shape: c.shape }, { run: simd, flops }, timing, pairing));
    });
    const refTime = measure(() => {
      gemmReference({ a: aValues, b: bValues, m: c.m, n: c.n, k: c.k, transA: c.transA, transB: c.transB, bias: c.bias ? biasValues : undefined });
    }, referenceTiming);
    rows.push(row({ group, name: c.name, shape: c.shape, impl: "reference" }, refTime, { flops }));
  }
}
