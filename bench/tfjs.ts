// TensorFlow.js 4.22 against wasmgrad on the tutorial's model (MNIST-shaped random images, 10
// classes of labels): inference throughput on TF.js's wasm backend, a training step (Adam, TF
// Addons' semi-hard triplet loss ported op for op) on its wasm backend, which needs a stand-in
// Conv2DBackpropFilter (it ships none), and on its cpu backend; wasmgrad's same two figures in the
// same run give each TF.js row a "vs wasmgrad" factor (TF.js time / wasmgrad time).

import { Adam, Generator, tidy, TripletSemiHardLoss, tripletTutorialModel } from "../src/index.js";
import type { BenchOptions, BenchRow, Timing } from "./harness.js";
import { measure, row } from "./harness.js";
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
  const oursInfer = measure(() => tidy(() => void ours.predict(inferX, { batchSize: 256 })),
    { warmup: 1, minRuns: quick ? 3 : 5, minMs: quick ? 0 : 1000 });
  rows.push(row({ group, name: "wasmgrad train step", shape: trainShape, impl: "simd" }, oursTrain,
    { extra: { "images/s": perSecond(BATCH, oursTrain) } }));
  rows.push(row({ group, name: "wasmgrad inference", shape: inferShape, impl: "simd" }, oursInfer,
    { extra: { "images/s": perSecond(inferCount, oursInfer) } }));
  const versus = (t: Timing, base: Timing) => t.medianMs / base.medianMs;

  // TF.js, wasm backend: inference, then training with the stand-in kernel.
  await useBackend("wasm");
  const registered = registerWasmConv2DBackpropFilter();
  {
    const model = tutorialModel();
    const trainer = new TripletTrainer(model);
    const x = tf.tensor4d(trainX, [BATCH, 28, 28, 1]);
    const labels = tf.tensor1d(trainLabels, "int32");
    const all = tf.tensor4d(inferX, [inferCount, 28, 28, 1]);
    const infer = measure(() => tf.tidy(() => void embed(model, all, 256)), { warmup: 1, minRuns: quick ? 3 : 5, minMs: quick ? 0 : 1000 });
    rows.push(row({ group, name: "tfjs-wasm inference", shape: inferShape, impl: "tfjs-wasm" }, infer,
      { extra: { "images/s": perSecond(inferCount, infer), "vs wasmgrad": versus(infer, oursInfer) } }));
    const train = measure(() => void finite("tfjs-wasm", trainer.step(x, labels)), { warmup: 1, minRuns: quick ? 5 : 10, minMs: 0 });
    const name = registered ? "tfjs-wasm train step (stand-in Conv2DBackpropFilter)" : "tfjs-wasm train step";
    rows.push(row({ group, name, shape: trainShape, impl: "tfjs-wasm" }, train,
      { extra: { "images/s": perSecond(BATCH, train), "vs wasmgrad": versus(train, oursTrain) } }));
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
