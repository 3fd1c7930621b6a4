// The whole training step of the tutorial's model at batch 32 (forward, loss, backward, Adam) and
// inference on the 10,000 test images, on real MNIST: the figures the mission is judged by. Plus
// the 1-thread step on the other build of the kernels (relaxed SIMD, in a child node with the
// flag when this one lacks it), to show what fused multiply-add buys; and the 1-thread step with
// Sequential's layer fusion (each Conv2D + MaxPooling2D as conv2dMaxPool) against layer by layer.

import {
  Adam, Conv2D, Dense, init, kernelBuild, loadMnist, manualSeed, memoryStats, mnistDataset, relaxedSimdSupported, Sequential,
  shutdown, threadCount, tidy, toBatch, TripletSemiHardLoss, tripletTutorialModel, type InitOptions, type MnistSplit,
} from "../src/index.js";
import { clock, measure, row, summarize, type BenchOptions, type BenchRow } from "./harness.js";
import { limitThreads } from "../src/wasm/loader.js";
import { layerFusion } from "../src/nn/sequential.js";
import { relaxedRowsInChild } from "./relaxed.js";
import { ceilingSpeedup, idle } from "./ceiling.js";

export const group = "step";

/**
 * FLOPs of one training step as dense products: forward, then the kernel and input gradients (none
 * for layer 1's input). The rate a row derives from it is an effective rate: conv2's backward
 * (with its pooling, conv2dMaxPool) skips the zero gradients and does a fraction of its share.
 */
export function stepFlops(model: Sequential, batch: number): { forward: number; backward: number } {
  let shape = model.inputShape!;
  let forward = 0;
  let backward = 0;
  model.layers.forEach((layer, i) => {
    const out = layer.outputShape(shape);
    let f = 0;
    if (layer instanceof Conv2D) f = 2 * batch * out[0] * out[1] * out[2] * layer.kernelSize[0] * layer.kernelSize[1] * shape[2];
    if (layer instanceof Dense) f = 2 * batch * shape[0] * layer.units;
    forward += f;
    backward += i === 0 ? f : 2 * f;
    shape = out;
  });
  return { forward, backward };
}

type Model = ReturnType<typeof tripletTutorialModel>;

/** A row's impl column: the kernel build and the thread count, e.g. "relaxed simd, 2 threads". */
function implName(threads: number): string {
  return `${kernelBuild()} simd, ${threads} thread${threads > 1 ? "s" : ""}`;
}

function newModel(): Model {
  manualSeed(1);
  const model = tripletTutorialModel();
  model.compile({ optimizer: new Adam(), loss: new TripletSemiHardLoss() });
  return model;
}

/** A training step on the next batch of `batches`, checked. */
function stepper(model: Model, train: MnistSplit): () => void {
  const batches = [...mnistDataset(train, { batchSize: 32, bufferSize: 1024, seed: 1 })];
  let i = 0;
  return () => {
    const b = batches[i++ % batches.length];
    const loss = model.trainOnBatch(b.images, b.labels);
    if (!Number.isFinite(loss)) throw new Error(`bench step: the loss became ${loss}`);
  };
}

/** Inference on the first `count` test images in batches of 128. */
function embedder(model: Model, test: MnistSplit, count: number): () => void {
  return () =>
    tidy(() => {
      for (let s = 0; s < count; s += 128) {
        const idx = Array.from({ length: Math.min(128, count - s) }, (_, j) => s + j);
        model.predict(toBatch(test, idx).images, { batchSize: 128 });
      }
    });
}

/**
 * The step and inference on 1 thread and on all of them, on one runtime and one model, alternating
 * in short blocks (limitThreads): this shared machine changes speed from one second to the next,
 * and blocks measured minutes apart compared its moods more than the thread counts. Each round also
 * takes the machine's ceiling (ceiling.ts) before and after its pair of step blocks, and keeps the
 * lower: the speed-up is given over all rounds and over the idle ones alone.
 */
async function measureThreads(train: MnistSplit, test: MnistSplit, quick: boolean): Promise<BenchRow[]> {
  await shutdown();
  await init();
  const threads = threadCount();
  const model = newModel();
  const step = stepper(model, train);
  // Each thread count runs some kernels the other does not (whole products vs parts): warm both up,
  // so that V8 has compiled every one of them with its optimizing tier before anything is timed.
  try {
    for (const limit of [1, Infinity]) {
      limitThreads(limit);
      for (let w = 0; w < 30; w++) step();
    }
  } finally {
    limitThreads(Infinity);
  }
  const rounds = quick ? 12 : 40;
  const perBlock = 5;
  const count = quick ? 2048 : test.count;
  const embed = embedder(model, test, count);
  embed();
  const stepSamples: number[][] = [[], []];
  const roundRatios: number[] = [];
  const roundCeilings: number[] = [];
  const embedSamples: number[][] = [[], []];
  const time = (fn: () => void, into: number[]) => {
    const t0 = clock();
    fn();
    into.push(clock() - t0);
  };
  try {
    for (let r = 0; r < rounds; r++) {
      const ceilingBefore = ceilingSpeedup(threads);
      const blockMs: number[] = [0, 0];
      // Which count goes first alternates, so that neither always follows the other.
      const order = r % 2 === 0 ? ([[0, 1], [1, Infinity]] as const) : ([[1, Infinity], [0, 1]] as const);
      for (const [slot, limit] of order) {
        limitThreads(limit);
        const block: number[] = [];
        for (let k = 0; k < perBlock; k++) time(step, block);
        stepSamples[slot].push(...block);
        blockMs[slot] = summarize(block).medianMs;
        if (r % 4 < 2) time(embed, embedSamples[slot]);
      }
      roundCeilings.push(Math.min(ceilingBefore, ceilingSpeedup(threads)));
      roundRatios.push(blockMs[0] / blockMs[1]);
    }
  } finally {
    limitThreads(Infinity);
  }
  const { forward, backward } = stepFlops(model, 32);
  const wasmMB = memoryStats().wasmMemoryBytes / 2 ** 20;
  model.dispose();
  const rows: BenchRow[] = [];
  const timings = stepSamples.map(summarize);
  const embedTimings = embedSamples.map(summarize);
  [1, threads].forEach((t, slot) => {
    const impl = implName(t);
    // The speed-up: the median over rounds of (1-thread block / 2-thread block), each pair
    // measured a fraction of a second apart; then the same over the idle rounds alone.
    const versus: Record<string, number> = slot === 1 ? threadSpeedups(roundRatios, roundCeilings, threads) : {};
    rows.push(row({ group, name: "train step (fwd+loss+bwd+Adam)", shape: "batch 32", impl }, timings[slot], {
      flops: forward + backward,
      extra: { "samples/s": 32000 / timings[slot].medianMs, "MFLOP": (forward + backward) / 1e6, ...versus },
    }));
  });
  [1, threads].forEach((t, slot) => {
    const impl = implName(t);
    const versus: Record<string, number> = slot === 1 ? { "vs 1 thread": embedTimings[0].medianMs / embedTimings[1].medianMs } : {};
    rows.push(row({ group, name: "inference", shape: `${count} test images, batches of 128`, impl }, embedTimings[slot], {
      flops: (forward / 32) * count,
      extra: { "images/s": (count * 1000) / embedTimings[slot].medianMs, "wasm MB": wasmMB, ...versus },
    }));
  });
  return rows;
}

/**
 * The step's speed-up columns from its rounds: over all of them (what the target judges), the
 * machine's ceiling in the same rounds, and over the rounds that ran on an idle machine.
 */
export function threadSpeedups(ratios: readonly number[], ceilings: readonly number[], threads: number): Record<string, number> {
  const idleRatios = ratios.filter((_, r) => idle(ceilings[r], threads));
  const columns: Record<string, number> = {
    "vs 1 thread": summarize(ratios).medianMs,
    "machine ceiling, same rounds": summarize(ceilings).medianMs,
    "idle rounds": idleRatios.length,
    "rounds": ratios.length,
  };
  if (idleRatios.length > 0) columns["vs 1 thread, idle rounds"] = summarize(idleRatios).medianMs;
  return columns;
}

/** The 1-thread step on a fresh runtime of the given build (no inference). */
async function measureOn(threads: number, train: MnistSplit, quick: boolean, simd: InitOptions["simd"]): Promise<BenchRow[]> {
  await shutdown();
  await init({ threads, simd });
  const impl = implName(threadCount());
  const model = newModel();
  const t = measure(stepper(model, train), { warmup: 10, minRuns: quick ? 40 : 150, minMs: quick ? 2000 : 8000 });
  const { forward, backward } = stepFlops(model, 32);
  model.dispose();
  return [row({ group, name: "train step (fwd+loss+bwd+Adam)", shape: "batch 32", impl }, t, {
    flops: forward + backward,
    extra: { "samples/s": 32000 / t.medianMs, "MFLOP": (forward + backward) / 1e6 },
  })];
}

/**
 * The 1-thread step with layer fusion on and off, alternating in blocks of 5 steps on one model
 * (the two give the same bits): the speed-up is the median of the paired blocks' ratios.
 */
async function measureFusion(train: MnistSplit, quick: boolean): Promise<BenchRow[]> {
  await shutdown();
  await init({ threads: 1 });
  const model = newModel();
  const step = stepper(model, train);
  const samples: number[][] = [[], []];
  const ratios: number[] = [];
  try {
    for (const fused of [true, false]) {
      layerFusion.enabled = fused;
      for (let w = 0; w < 20; w++) step();
    }
    // 12 rounds, as the threads rows take, gave 0.97x to 1.13x for the same code: 30 at least.
    for (let r = 0; r < (quick ? 30 : 60); r++) {
      const blockMs = [0, 0];
      for (const slot of r % 2 === 0 ? [0, 1] : [1, 0]) {
        layerFusion.enabled = slot === 0;
        const block: number[] = [];
        for (let k = 0; k < 5; k++) {
          const t0 = clock();
          step();
          block.push(clock() - t0);
        }
        samples[slot].push(...block);
        blockMs[slot] = summarize(block).medianMs;
      }
      ratios.push(blockMs[1] / blockMs[0]);
    }
  } finally {
    layerFusion.enabled = true;
  }
  const { forward, backward } = stepFlops(model, 32);
  model.dispose();
  const impl = implName(1);
  return ["conv+pool fused (as Sequential runs it)", "layer by layer"].map((how, slot) => {
    const t = summarize(samples[slot]);
    const versus: Record<string, number> = slot === 0 ? { "fused speed-up": summarize(ratios).medianMs } : {};
    return row({ group, name: `train step, ${how}`, shape: "batch 32, blocks of 5 alternating", impl }, t, {
      flops: forward + backward,
      extra: { "samples/s": 32000 / t.medianMs, "MFLOP": (forward + backward) / 1e6, ...versus },
    });
  });
}

/** The 1-thread step on the build that `run` did not measure: the relaxed one, unless this process runs it already. */
async function otherBuildStep(oneBuild: string, train: MnistSplit, quick: boolean): Promise<BenchRow[]> {
  if (oneBuild === "relaxed") return measureOn(1, train, quick, "plain");
  if (relaxedSimdSupported()) return measureOn(1, train, quick, "relaxed");
  try {
    return await relaxedRowsInChild("step", quick);
  } catch (error) {
    process.stderr.write(`bench step: no relaxed-SIMD row: ${(error as Error).message}\n`);
    return [];
  }
}

/** For bench/relaxed.ts's child node: the 1-thread step on the relaxed build. */
export async function relaxedRows(quick: boolean): Promise<BenchRow[]> {
  const { train } = await loadMnist({ limitTrain: 4096 });
  return measureOn(1, train, quick, "relaxed");
}

export async function run({ quick }: BenchOptions): Promise<BenchRow[]> {
  const { train, test } = await loadMnist({ limitTrain: 4096 });
  const threadRows = await measureThreads(train, test, quick);
  const oneBuild = kernelBuild();
  // The same build on a runtime of its own with 1 thread, then the other build likewise: the pair
  // to compare (the rows above run on the shared-memory build).
  const one = await measureOn(1, train, quick, oneBuild);
  const other = await otherBuildStep(oneBuild, train, quick);
  for (const r of other) {
    const [plainMs, relaxedMs] = oneBuild === "relaxed" ? [r.medianMs, one[0].medianMs] : [one[0].medianMs, r.medianMs];
    r.extra = { ...r.extra, "relaxed vs plain": plainMs / relaxedMs };
  }
  const fusion = await measureFusion(train, quick);
  // Leave the default runtime for the benches after this one.
  await shutdown();
  await init();
  return [...threadRows, ...one, ...other, ...fusion];
}
