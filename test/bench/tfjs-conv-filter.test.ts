// The stand-in Conv2DBackpropFilter for TF.js's wasm backend (bench/tfjs/conv2d-backprop-filter.ts)
// gives the filter gradient of tf.conv2d that the cpu backend's own kernel gives.

import { beforeAll, describe, expect, it } from "vitest";
import { Generator } from "../../src/index.js";
import { tf, useBackend } from "../../bench/tfjs/tf.js";
import { registerWasmConv2DBackpropFilter } from "../../bench/tfjs/conv2d-backprop-filter.js";
import { expectClose } from "../helpers/setup.js";

type Pad = "same" | "valid";

function values(n: number, seed: number): Float32Array {
  const rng = new Generator(seed);
  return Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
}

/** dLoss/dW of sum(conv2d(x, w) ⊙ g), through tf.grad as training does, on the active backend. */
function filterGradient(xShape: number[], wShape: number[], pad: Pad, seed: number): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(values(xShape.reduce((a, b) => a * b), seed), xShape as [number, number, number, number]);
    const w = tf.tensor4d(values(wShape.reduce((a, b) => a * b), seed + 1), wShape as [number, number, number, number]);
    const yShape = tf.conv2d(x, w, 1, pad).shape;
    const g = tf.tensor(values(yShape.reduce((a, b) => a * b), seed + 2), yShape);
    const dw = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, v as tf.Tensor4D, 1, pad), g)))(w);
    return Float32Array.from(dw.dataSync());
  });
}

const cases: { x: number[]; w: number[]; pad: Pad }[] = [
  { x: [2, 5, 5, 3], w: [2, 2, 3, 4], pad: "same" }, // the tutorial's kernel: pads only bottom/right
  { x: [3, 4, 4, 1], w: [2, 2, 1, 5], pad: "same" },
  { x: [2, 5, 6, 3], w: [3, 3, 3, 2], pad: "same" },
  { x: [1, 6, 7, 2], w: [3, 2, 2, 3], pad: "valid" },
  { x: [1, 1, 1, 1], w: [1, 1, 1, 1], pad: "valid" },
];

describe("Conv2DBackpropFilter stand-in for the wasm backend", () => {
  const expected: Float32Array[] = [];

  beforeAll(async () => {
    await useBackend("cpu");
    cases.forEach((c, k) => expected.push(filterGradient(c.x, c.w, c.pad, 100 + k)));
    await useBackend("wasm");
  });

  it("is needed: TF.js 4.22's wasm backend ships no Conv2DBackpropFilter", () => {
    expect(tf.getKernel("Conv2DBackpropFilter", "wasm")).toBeUndefined();
    expect(() => filterGradient([1, 3, 3, 1], [2, 2, 1, 1], "same", 1)).toThrow(/Conv2DBackpropFilter/);
    expect(registerWasmConv2DBackpropFilter()).toBe(true);
    expect(registerWasmConv2DBackpropFilter()).toBe(false); // registered once
  });

  cases.forEach((c, k) => {
    it(`matches the cpu backend: x [${c.x}], w [${c.w}], ${c.pad}`, () => {
      expect(tf.getBackend()).toBe("wasm");
      expectClose(filterGradient(c.x, c.w, c.pad, 100 + k), expected[k], 1e-5, 1e-5);
    });
  });

  it("frees every buffer it allocates (the backend's data count does not grow)", () => {
    filterGradient([2, 5, 5, 3], [2, 2, 3, 4], "same", 7);
    // The backend's own count: the stand-in allocates through the backend, beneath the engine.
    const buffers = () => tf.backend().numDataIds();
    const before = buffers();
    for (let k = 0; k < 3; k++) filterGradient([2, 5, 5, 3], [2, 2, 3, 4], "same", 7);
    expect(buffers()).toBe(before);
  });

  it("refuses a stride it does not implement, naming it", () => {
    expect(() =>
      tf.tidy(() => {
        const x = tf.ones([1, 4, 4, 1]) as tf.Tensor4D;
        const w = tf.ones([2, 2, 1, 1]) as tf.Tensor4D;
        tf.grad((v: tf.Tensor) => tf.sum(tf.conv2d(x, v as tf.Tensor4D, 2, "valid")))(w);
      }),
    ).toThrow(/stride/);
  });
});
