// The whole training step of the tutorial's model at batch 32 (forward, loss, backward, Adam) and
// inference on the 10,000 test images, on real MNIST: the figures the mission is judged by. Plus
// the 1-thread step on the other build of the kernels (relaxed SIMD, in a child node with the
// flag when this one lacks it), to show what fused multiply-add buys.

import {
  Adam, Conv2D, Dense, init, kernelBuild, loadMnist, manualSeed, memoryStats, mnistDataset, relaxedSimdSupported, Sequential,
  shutdown, threadCount, tidy, toBatch, TripletSemiHardLoss, tripletTutorialModel, type InitOptions, type MnistSplit,
} from "../src/index.js";
import { measure, row, type BenchOptions, type BenchRow } from "./harness.js";
import { relaxedRowsInChild } from "./relaxed.js";

export const group = "step";

/** FLOPs of one training step: forward, then the kernel and input gradients (none for layer 1's input). */
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

/** Step and (unless `inference` is false) inference rows on a fresh runtime of `threads` threads. */
async function measureOn(threads: number, train: MnistSplit, test: MnistSplit, quick: boolean,
  simd: InitOptions["simd"] = "auto", inference = true): Promise<BenchRow[]> {
  await shutdown();
  await init({ threads, simd });
  const impl = `${kernelBuild()} simd, ${threadCount()} thread${threadCount() > 1 ? "s" : ""}`;
  manualSeed(1);
  const model = tripletTutorialModel();
  model.compile({ optimizer: new Adam(), loss: new TripletSemiHardLoss() });
  const batches = [...mnistDataset(train, { batchSize: 32, bufferSize: 1024, seed: 1 })];
  let i = 0;
  const step = () => {
    const b = batches[i++ % batches.length];
    const loss = model.trainOnBatch(b.images, b.labels);
    if (!Number.isFinite(loss)) throw new Error(`bench step: the loss became ${loss}`);
  };
  const t = measure(step, { warmup: 10, minRuns: quick ? 40 : 150, minMs: quick ? 2000 : 8000 });
  const { forward, backward } = stepFlops(model, 32);
  const rows: BenchRow[] = [
    row({ group, name: "train step (fwd+loss+bwd+Adam)", shape: "batch 32", impl }, t, {
      flops: forward + backward,
      extra: { "samples/s": 32000 / t.medianMs, "MFLOP": (forward + backward) / 1e6 },
    }),
  ];
  if (!inference) {
    model.dispose();
    return rows;
  }
  // Inference: the test images in batches of 128, as train:mnist embeds them.
  const count = quick ? 2048 : test.count;
  const embed = () =>
    tidy(() => {
      for (let s = 0; s < count; s += 128) {
        const idx = Array.from({ length: Math.min(128, count - s) }, (_, j) => s + j);
        model.predict(toBatch(test, idx).images, { batchSize: 128 });
      }
    });
  const ti = measure(embed, { warmup: 1, minRuns: quick ? 2 : 3, minMs: 0 });
  rows.push(row({ group, name: "inference", shape: `${count} test images, batches of 128`, impl }, ti, {
    flops: (forward / 32) * count,
    extra: { "images/s": (count * 1000) / ti.medianMs, "wasm MB": memoryStats().wasmMemoryBytes / 2 ** 20 },
  }));
  model.dispose();
  return rows;
}

/** The 1-thread step on the build that `run` did not measure: the relaxed one, unless this process runs it already. */
async function otherBuildStep(oneBuild: string, train: MnistSplit, test: MnistSplit, quick: boolean): Promise<BenchRow[]> {
  if (oneBuild === "relaxed") return measureOn(1, train, test, quick, "plain", false);
  if (relaxedSimdSupported()) return measureOn(1, train, test, quick, "relaxed", false);
  try {
    return await relaxedRowsInChild("step", quick);
  } catch (error) {
    process.stderr.write(`bench step: no relaxed-SIMD row: ${(error as Error).message}\n`);
    return [];
  }
}

/** For bench/relaxed.ts's child node: the 1-thread step on the relaxed build. */
export async function relaxedRows(quick: boolean): Promise<BenchRow[]> {
  const { train, test } = await loadMnist({ limitTrain: 4096 });
  return measureOn(1, train, test, quick, "relaxed", false);
}

export async function run({ quick }: BenchOptions): Promise<BenchRow[]> {
  const { train, test } = await loadMnist({ limitTrain: 4096 });
  const one = await measureOn(1, train, test, quick);
  const oneBuild = kernelBuild();
  const all = await measureOn(2, train, test, quick);
  for (const [i, r] of all.entries()) r.extra = { ...r.extra, "vs 1 thread": one[i].medianMs / r.medianMs };
  const other = await otherBuildStep(oneBuild, train, test, quick);
  for (const r of other) {
    const [plainMs, relaxedMs] = oneBuild === "relaxed" ? [r.medianMs, one[0].medianMs] : [one[0].medianMs, r.medianMs];
    r.extra = { ...r.extra, "relaxed vs plain": plainMs / relaxedMs };
  }
  // Leave the default runtime for the benches after this one.
  await shutdown();
  await init();
  return [...one, ...all, ...other];
}
