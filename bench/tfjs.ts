// TensorFlow.js 4.22 against wasmgrad on the tutorial's model (MNIST-shaped random images, 10
// classes of labels): inference throughput on TF.js's wasm backend, a training step (Adam, TF
// Addons' semi-hard triplet loss ported op for op) on its wasm backend, which needs a stand-in
// Conv2DBackpropFilter (it ships none), and on its cpu backend; wasmgrad's same two figures in the
// same run give each TF.js row a "vs wasmgrad" factor (TF.js time / wasmgrad time: how many times
// slower TF.js is).

import { Adam, Generator, tidy, TripletSemiHardLoss, tripletTutorialModel } from "../src/index.js";
import type { BenchOptions, BenchRow, Timing } from "./harness.js";
import { clock, measure, row, summarize } from "./harness.js";
import { registerWasmConv2DBackpropFilter } from "./tfjs/conv2d-backprop-filter.js";
import { embed, TripletTrainer, tutorialModel } from "./tfjs/model.js";
import { tf, useBackend } from "./tfjs/tf.js";

export const group = "tfjs";

const BATCH = 32;
const PIXELS = 28 * 28;
const CLASSES = 10;

/** A batch of labels with every class present, shuffled. */
function batchLabels(rng: Generator): Int32Array {
  const labels = Int32Array.from({ length: BATCH }, (_, i) => i % CLASSES);
  for (let i = labels.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [labels[i], labels[j]] = [labels[j], labels[i]];
  }
  return labels;
}

function images(count: number, rng: Generator): Float32Array {
  return Float32Array.from({ length: count * PIXELS }, () => rng.uniform(0, 1));
}

function finite(what: string, loss: number): number {
  if (!Number.isFinite(loss)) throw new Error(`tfjs bench: ${what} gave the loss ${loss}`);
  return loss;
}

/**
 * Times `a` and `b` alternately, sample by sample, so that the slow swings of a loaded machine
 * hit both alike; `ratio` is the median of the per-pair ratios b/a.
 */
function measureAlternating(a: () => void, b: () => void, { warmup, runs }: { warmup: number; runs: number }) {
  for (let i = 0; i < warmup; i++) {
    a();
    b();
  }
  const sa: number[] = [];
  const sb: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = clock();
    a();
    const t1 = clock();
    b();
    sa.push(t1 - t0);
    sb.push(clock() - t1);
  }
  const ratios = sa.map((ta, i) => sb[i] / ta);
  return { a: summarize(sa), b: summarize(sb), ratio: summarize(ratios).medianMs };
}

export async function run(options: BenchOptions): Promise<BenchRow[]> {
  const quick = options.quick;
  const rng = new Generator(2024);
  const trainX = images(BATCH, rng);
  const trainLabels = batchLabels(rng);
  const inferCount = quick ? 512 : 2048;
  const inferX = images(inferCount, rng);
  const trainShape = `(${BATCH},28,28,1)`;
  const inferShape = `(${inferCount},28,28,1) by 256`;
  const perSecond = (count: number, t: Timing) => count / (t.medianMs / 1000);
  const rows: BenchRow[] = [];

  // wasmgrad.
  const ours = tripletTutorialModel();
  ours.compile({ optimizer: new Adam(), loss: new TripletSemiHardLoss() });
  const oursTrain = measure(() => void finite("wasmgrad", ours.trainOnBatch(trainX, trainLabels)),
    { warmup: 3, minRuns: 30, minMs: quick ? 0 : 2000 });
  rows.push(row({ group, name: "wasmgrad train step", shape: trainShape, impl: "simd" }, oursTrain,
    { extra: { "images/s": perSecond(BATCH, oursTrain) } }));
  const versus = (t: Timing, base: Timing) => t.medianMs / base.medianMs;

  // TF.js, wasm backend: inference, then training with the stand-in kernel (registered only if
  // the backend lacks one, and the row says so).
  await useBackend("wasm");
  const registered = registerWasmConv2DBackpropFilter();
  {
    const model = tutorialModel();
    const trainer = new TripletTrainer(model);
    const x = tf.tensor4d(trainX, [BATCH, 28, 28, 1]);
    const labels = tf.tensor1d(trainLabels, "int32");
    const all = tf.tensor4d(inferX, [inferCount, 28, 28, 1]);
    // Inference is close between the two: timed alternately, its factor from per-pair ratios.
    const pair = measureAlternating(
      () => tidy(() => void ours.predict(inferX, { batchSize: 256 })),
      () => tf.tidy(() => void embed(model, all, 256)),
      { warmup: 1, runs: quick ? 4 : 10 },
    );
    rows.push(row({ group, name: "wasmgrad inference", shape: inferShape, impl: "simd" }, pair.a,
      { extra: { "images/s": perSecond(inferCount, pair.a) } }));
    rows.push(row({ group, name: "tfjs-wasm inference", shape: inferShape, impl: "tfjs-wasm" }, pair.b,
      { extra: { "images/s": perSecond(inferCount, pair.b), "vs wasmgrad": pair.ratio } }));
    // Training likewise alternates with wasmgrad steps for its factor (the wasmgrad row above
    // stays the 30-step figure).
    const steps = measureAlternating(
      () => void finite("wasmgrad", ours.trainOnBatch(trainX, trainLabels)),
      () => void finite("tfjs-wasm", trainer.step(x, labels)),
      { warmup: 1, runs: quick ? 5 : 10 },
    );
    const name = registered ? "tfjs-wasm train step (stand-in Conv2DBackpropFilter)" : "tfjs-wasm train step";
    rows.push(row({ group, name, shape: trainShape, impl: "tfjs-wasm" }, steps.b,
      { extra: { "images/s": perSecond(BATCH, steps.b), "vs wasmgrad": steps.ratio } }));
    tf.dispose([x, labels, all]);
    trainer.dispose();
  }

  // TF.js, cpu backend: seconds a step (its Conv2DBackpropFilter reads element by element), so
  // few steps, and in --quick no warm-up (a step's one-time costs are small beside it).
  await useBackend("cpu");
  {
    const trainer = new TripletTrainer(tutorialModel());
    const x = tf.tensor4d(trainX, [BATCH, 28, 28, 1]);
    const labels = tf.tensor1d(trainLabels, "int32");
    const train = measure(() => void finite("tfjs-cpu", trainer.step(x, labels)),
      { warmup: quick ? 0 : 1, minRuns: quick ? 1 : 3, maxRuns: quick ? 1 : 3, minMs: 0 });
    rows.push(row({ group, name: "tfjs-cpu train step", shape: trainShape, impl: "tfjs-cpu" }, train,
      { extra: { "images/s": perSecond(BATCH, train), "vs wasmgrad": versus(train, oursTrain) } }));
    tf.dispose([x, labels]);
    trainer.dispose();
  }
  return rows;
}
