// The TF.js side of the comparison bench: the tutorial's model in tf.layers has wasmgrad's
// architecture (layer by layer output shapes and parameter count), embeds to unit rows, and its
// training step (wasm backend, with the stand-in Conv2DBackpropFilter) lowers the loss.

import { beforeAll, describe, expect, it } from "vitest";
import { Generator, tripletTutorialModel } from "../../src/index.js";
import { tf, useBackend } from "../../bench/tfjs/tf.js";
import { registerWasmConv2DBackpropFilter } from "../../bench/tfjs/conv2d-backprop-filter.js";
import { embed, TripletTrainer, tutorialModel } from "../../bench/tfjs/model.js";
import { setup } from "../helpers/setup.js";

beforeAll(async () => {
  await setup();
  await useBackend("wasm");
  registerWasmConv2DBackpropFilter();
});

describe("TF.js tutorial model", () => {
  it("has wasmgrad's layer output shapes and parameter count", () => {
    const theirs = tutorialModel();
    const ours = tripletTutorialModel();
    // wasmgrad's last layer is L2Normalize, which TF.js applies in the step instead.
    expect(theirs.layers.map((l) => (l.outputShape as number[]).slice(1))).toEqual(ours.outputShapes().slice(0, -1));
    expect(theirs.countParams()).toBe(ours.countParams());
    expect(theirs.countParams()).toBe(320 + 8224 + 401664);
    theirs.dispose();
  });

  it("embeds to [N, 256] rows of unit length", () => {
    const model = tutorialModel([8, 8, 1]);
    const rng = new Generator(3);
    const x = tf.tensor4d(Float32Array.from({ length: 5 * 64 }, () => rng.uniform(0, 1)), [5, 8, 8, 1]);
    const e = embed(model, x, 2);
    expect(e.shape).toEqual([5, 256]);
    const v = e.dataSync();
    for (let i = 0; i < 5; i++) {
      let s = 0;
      for (let j = 0; j < 256; j++) s += v[i * 256 + j] ** 2;
      expect(Math.abs(Math.sqrt(s) - 1)).toBeLessThan(1e-5);
    }
    tf.dispose([x, e]);
    model.dispose();
  });

  it("training steps on one batch lower the loss, and leak no tensors", () => {
    const trainer = new TripletTrainer(tutorialModel([8, 8, 1]), 0.01); // a larger step: few steps
    const rng = new Generator(5);
    // Learnable classes: class c lights quadrant c of the 8x8 image, over noise.
    const classes = Int32Array.from({ length: 16 }, (_, i) => i % 4);
    const pixels = new Float32Array(16 * 64);
    for (let n = 0; n < 16; n++) {
      for (let p = 0; p < 64; p++) {
        const quadrant = (Math.floor(p / 32) << 1) | (p % 8 >= 4 ? 1 : 0);
        pixels[n * 64 + p] = 0.3 * rng.uniform(0, 1) + (quadrant === classes[n] ? 1 : 0);
      }
    }
    const x = tf.tensor4d(pixels, [16, 8, 8, 1]);
    const labels = tf.tensor1d(classes, "int32");
    const first = trainer.step(x, labels);
    const tensors = tf.memory().numTensors;
    let last = first;
    for (let k = 0; k < 15; k++) last = trainer.step(x, labels);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(Number.isFinite(first)).toBe(true);
    expect(last).toBeLessThan(first / 2);
    tf.dispose([x, labels]);
    trainer.dispose();
  });
});
