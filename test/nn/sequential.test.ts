import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  Adam, Conv2D, tripletTutorialModel, Dense, Dropout, Flatten, L2Normalize, manualSeed, MaxPooling2D, Sequential, tensor, tidy, TripletSemiHardLoss,
} from "../../src/index.js";
import { layerFusion } from "../../src/nn/sequential.js";
import { Generator } from "../../src/random.js";
import { expectClose, setup } from "../helpers/setup.js";

beforeAll(setup);

describe("layers and Sequential", () => {
  it("the tutorial model has the tutorial's shapes and 410,208 parameters", () => {
    const model = tripletTutorialModel();
    expect(model.outputShapes()).toEqual([[28, 28, 64], [14, 14, 64], [14, 14, 64], [14, 14, 32], [7, 7, 32], [7, 7, 32], [1568], [256], [256]]);
    const perLayer = model.layers.map((l) => l.parameters().reduce((n, p) => n + p.tensor.size, 0));
    expect(perLayer).toEqual([320, 0, 0, 8224, 0, 0, 0, 401664, 0]);
    expect(model.countParams()).toBe(410208);
    const text = model.summary(null);
    expect(text).toMatch(/conv2d\S* \(Conv2D\)\s+\(None, 28, 28, 64\)\s+320/);
    expect(text).toMatch(/Total params: 410,208/);
    model.dispose();
  });

  it("glorot-uniform kernels lie within ±sqrt(6/(fanIn+fanOut)) and biases start at zero", () => {
    manualSeed(1);
    const conv = new Conv2D({ filters: 64, kernelSize: 2, padding: "same", inputShape: [28, 28, 1] });
    conv.build([28, 28, 1]);
    const limit = Math.sqrt(6 / (4 * 1 + 4 * 64));
    const k = conv.kernel!.toArray();
    expect(Math.max(...k.map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...k.map(Math.abs))).toBeGreaterThan(0.9 * limit);
    expect(Array.from(conv.bias!.toArray()).every((v) => v === 0)).toBe(true);
    conv.dispose();
  });

  it("names wrong input shapes and bad layer arguments", () => {
    const model = new Sequential([new Flatten({ inputShape: [4, 4, 1] }), new Dense({ units: 3 })]);
    expect(() => tidy(() => model.apply(tensor(new Float32Array(2 * 9), [2, 3, 3, 1])))).toThrow(/input has shape \[2,3,3,1\], the model expects \[batch, 4,4,1\]/);
    expect(() => new Dense({ units: 0 })).toThrow(/Dense: units must be a positive integer, got 0/);
    expect(() => new Dropout(1.5)).toThrow(/Dropout: rate must be in \[0, 1\), got 1.5/);
    expect(() => new Conv2D({ filters: 8, kernelSize: 0 })).toThrow(/Conv2D: kernelSize must be a positive integer/);
    expect(() => new Conv2D({ filters: 8, kernelSize: 2, activation: "tanh" as never })).toThrow(/activation must be "relu" or "linear"/);
    expect(() => new Sequential([new Dense({ units: 3, inputShape: [2, 2] })])).toThrow(/expects inputs \[batch, features\], got \[batch, 2,2\]; add a Flatten layer/);
    model.dispose();
  });

  it("trainOnBatch lowers the triplet loss on a fixed small batch", () => {
    manualSeed(3);
    const model = new Sequential([
      new Conv2D({ filters: 8, kernelSize: 2, padding: "same", activation: "relu", inputShape: [6, 6, 1] }),
      new MaxPooling2D({ poolSize: 2 }),
      new Flatten(),
      new Dense({ units: 8 }),
      new L2Normalize(),
    ]);
    model.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: new TripletSemiHardLoss() });
    const n = 16;
    const labels = Int32Array.from({ length: n }, (_, i) => i % 4);
    // Each class is a bright square in a different quadrant, plus noise.
    const x = new Float32Array(n * 36);
    for (let i = 0; i < n; i++) {
      const c = labels[i];
      for (let p = 0; p < 36; p++) {
        const r = Math.floor(p / 6);
        const col = p % 6;
        const inQuadrant = (r < 3) === (c < 2) && (col < 3) === (c % 2 === 0);
        x[i * 36 + p] = (inQuadrant ? 0.8 : 0.1) + 0.1 * Math.sin(i * 7 + p);
      }
    }
    const first = model.trainOnBatch(x, labels);
    let last = first;
    for (let i = 0; i < 60; i++) last = model.trainOnBatch(x, labels);
    expect(first).toBeGreaterThan(0.2);
    expect(last).toBeLessThan(first * 0.5);
    model.dispose();
  });

  it("runs Conv2D + MaxPooling2D (+ Dropout) and Flatten + Dense as one op each, with the losses and weights of layer by layer, to float rounding", () => {
    // The tutorial's model: both convolutions run with their pooling and dropout as conv2dMaxPool.
    // conv1's op gives the same bits as the three ops; conv2's sums its gradients in another order.
    const rng = new Generator(11);
    const n = 16;
    const x = Float32Array.from({ length: n * 28 * 28 }, () => rng.uniform(0, 1));
    const labels = Int32Array.from({ length: n }, (_, i) => i % 4);
    const runs = [true, false].map((fused) => {
      layerFusion.enabled = fused;
      try {
        manualSeed(21);
        const model = tripletTutorialModel();
        model.compile({ optimizer: new Adam(), loss: new TripletSemiHardLoss() });
        const losses = Array.from({ length: 3 }, () => model.trainOnBatch(x, labels));
        const weights = model.namedParameters().map((p) => p.tensor.toArray());
        const ops = tidy(() => {
          const y = model.apply(tensor(x, [n, 28, 28, 1]), { training: true });
          const seen: string[] = [];
          for (let node = y.node; node; node = node.inputs[0]?.node ?? null) seen.push(node.op);
          return seen;
        });
        model.dispose();
        return { losses, weights, ops };
      } finally {
        layerFusion.enabled = true;
      }
    });
    expect(runs[0].ops.filter((op) => op.startsWith("conv2dMaxPool"))).toEqual(["conv2dMaxPoolDropout", "conv2dMaxPoolDropout"]);
    expect(runs[0].ops).not.toContain("dropout");
    // Flatten + Dense as the dense op reading its input flattened: no copy.
    expect(runs[0].ops).not.toContain("flatten");
    expect(runs[1].ops).toContain("flatten");
    expect(runs[1].ops.filter((op) => op.startsWith("conv2dMaxPool"))).toHaveLength(0);
    expect(runs[1].ops.filter((op) => op === "dropout")).toHaveLength(2);
    // The first loss comes before any update: the forward is the same bit for bit.
    expect(runs[0].losses[0]).toBe(runs[1].losses[0]);
    expectClose(runs[0].losses, runs[1].losses, 1e-6, 1e-5);
    // Adam's first steps move every weight by about the learning rate, whatever the gradient's size.
    for (let i = 0; i < runs[0].weights.length; i++) expectClose(runs[0].weights[i], runs[1].weights[i], 1e-5, 1e-4);
  });

  it("save and load round-trip to identical predictions", async () => {
    manualSeed(5);
    const model = tripletTutorialModel([8, 8, 1]);
    const x = Float32Array.from({ length: 3 * 64 }, (_, i) => (i % 13) / 13);
    const before = tidy(() => model.predict(x).toArray());
    const dir = mkdtempSync(join(tmpdir(), "wasmgrad-save-"));
    try {
      await model.save(dir);
      const loaded = await Sequential.load(dir);
      expect(loaded.countParams()).toBe(model.countParams());
      const after = tidy(() => loaded.predict(x).toArray());
      expect(Array.from(after)).toEqual(Array.from(before));
      loaded.dispose();
      await expect(Sequential.load(join(dir, "missing"))).rejects.toThrow(/cannot read .*missing.*model\.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      model.dispose();
    }
  });

  it("predict gives the same rows whatever the batch size, without dropout", () => {
    manualSeed(6);
    const model = tripletTutorialModel([8, 8, 1]);
    const x = Float32Array.from({ length: 5 * 64 }, (_, i) => Math.cos(i));
    const a = tidy(() => model.predict(x, { batchSize: 5 }).toArray());
    const b = tidy(() => model.predict(x, { batchSize: 2 }).toArray());
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5);
    model.dispose();
  });
});
