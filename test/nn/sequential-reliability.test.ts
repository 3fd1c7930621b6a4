// Bad input, non-finite losses, fitAsync and steady memory in Sequential.
import { beforeAll, describe, expect, it } from "vitest";
import {
  Adam, Conv2D, Dense, Flatten, L2Normalize, manualSeed, MaxPooling2D, memoryStats, SGD, Sequential, tensor, tidy, TripletSemiHardLoss,
} from "../../src/index.js";
import type { Batch, EpochLogs } from "../../src/nn/sequential.js";
import { setup } from "../helpers/setup.js";

beforeAll(setup);

const SIDE = 6;
const PIXELS = SIDE * SIDE;

function smallModel(optimizer: Adam | SGD = new Adam({ learningRate: 0.01 })): Sequential {
  const model = new Sequential([
    new Conv2D({ filters: 4, kernelSize: 2, padding: "same", activation: "relu", inputShape: [SIDE, SIDE, 1] }),
    new MaxPooling2D({ poolSize: 2 }),
    new Flatten(),
    new Dense({ units: 8 }),
    new L2Normalize(),
  ]);
  model.compile({ optimizer, loss: new TripletSemiHardLoss() });
  return model;
}

/** n examples of 4 classes: a bright quadrant per class, plus a little structure. */
function batch(n: number, shift = 0): { x: Float32Array; labels: Int32Array } {
  const labels = Int32Array.from({ length: n }, (_, i) => (i + shift) % 4);
  const x = new Float32Array(n * PIXELS);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < PIXELS; p++) {
      const r = Math.floor(p / SIDE);
      const c = p % SIDE;
      const inQuadrant = (r < 3) === (labels[i] < 2) && (c < 3) === (labels[i] % 2 === 0);
      x[i * PIXELS + p] = (inQuadrant ? 0.8 : 0.1) + 0.1 * Math.sin(i * 7 + p + shift);
    }
  }
  return { x, labels };
}

function weights(model: Sequential): Float32Array[] {
  return model.parameters().map((p) => p.toArray());
}

describe("bad input to trainOnBatch, fit and predict", () => {
  it("a NaN or Infinity in the input batch is refused, naming the batch, the index, the example and the position", () => {
    manualSeed(1);
    const model = smallModel();
    const { x, labels } = batch(8);
    x[PIXELS * 2 + 7] = NaN; // example 2, row 1, column 1
    expect(() => model.trainOnBatch(x, labels)).toThrow(/^trainOnBatch: the input batch has a non-finite value NaN at index 79 \(example 2, position \[1,1,0\] of \[6,6,1\]\)/);
    x[PIXELS * 2 + 7] = 0;
    x[5] = -Infinity;
    expect(() => model.trainOnBatch(x, labels)).toThrow(/non-finite value -Infinity at index 5 \(example 0, position \[0,5,0\]/);
    expect(() => tidy(() => model.trainOnBatch(tensor(x, [8, SIDE, SIDE, 1]), labels))).toThrow(/trainOnBatch: the input batch has a non-finite value -Infinity at index 5/);
    expect(() => tidy(() => model.predict(x))).toThrow(/^predict: the input batch has a non-finite value -Infinity at index 5/);
    const before = weights(model);
    const good = batch(8);
    const data: Batch[] = [good, { x, labels }];
    expect(() => model.fit(data, { epochs: 1 })).toThrow(/^fit: epoch 1, step 2: the input batch has a non-finite value -Infinity at index 5/);
    // Step 1 trained; step 2 was refused before any update.
    expect(weights(model)[0]).not.toEqual(before[0]);
    model.dispose();
  });

  it("labels must be one integer per example", () => {
    manualSeed(2);
    const model = smallModel();
    const { x, labels } = batch(8);
    expect(() => model.trainOnBatch(x, labels.subarray(0, 7))).toThrow(/trainOnBatch: 7 labels for a batch of 8 examples, expected one label per example/);
    expect(() => model.trainOnBatch(x, [0, 1, 2, 3, 0, 1, 2.5, 3])).toThrow(/trainOnBatch: label 6 is 2.5, expected an integer class label/);
    expect(() => model.fit([{ x, labels: [0, 1, 2, 3, 0, 1, NaN, 3] }])).toThrow(/fit: epoch 1, step 1: label 6 is NaN/);
    expect(() => model.fit([{ x } as unknown as Batch])).toThrow(/fit: epoch 1, step 1: a batch must be \{ x, labels \}, got Object/);
    expect(() => model.fit(42 as unknown as Batch[])).toThrow(/fit: the dataset must be an iterable of \{ x, labels \} batches/);
    expect(() => model.trainOnBatch([1, 2, 3] as unknown as Float32Array, labels)).toThrow(/trainOnBatch: inputs must be a Float32Array or a Tensor, got Array/);
    expect(() => model.trainOnBatch(new Float32Array(PIXELS * 2 + 1), [0, 1])).toThrow(/73 input values are not a whole number of examples of shape \[6,6,1\] \(36 values each\)/);
    model.dispose();
  });

  it("a wrong channel count or dense input size names the layer, what it got and what it expects", () => {
    manualSeed(3);
    const model = smallModel();
    const rgb = new Float32Array(2 * PIXELS * 3);
    expect(() => tidy(() => model.apply(tensor(rgb, [2, SIDE, SIDE, 3])))).toThrow(/Sequential: input has shape \[2,6,6,3\], the model expects \[batch, 6,6,1\]/);
    const conv = model.layers[0];
    expect(() => tidy(() => conv.call(tensor(rgb, [2, SIDE, SIDE, 3]), { training: false }))).toThrow(/conv2d\S* \(Conv2D\): input has shape \[2,6,6,3\], expected \[batch, 6,6,1\]/);
    const dense = model.layers[3];
    expect(() => tidy(() => dense.call(tensor(new Float32Array(2 * 5), [2, 5]), { training: false }))).toThrow(/dense\S* \(Dense\): input has shape \[2,5\], expected \[batch, 36\]/);
    model.dispose();
  });
});

describe("non-finite losses", () => {
  it("fit stops at the first non-finite loss naming the epoch, step and the first layer whose output overflowed, with no update", () => {
    manualSeed(4);
    const model = smallModel();
    const dense = model.layers[3] as Dense;
    dense.kernel!.set(new Float32Array(dense.kernel!.size).fill(3e38)); // finite, but x·W overflows
    const before = weights(model);
    const { x, labels } = batch(8);
    expect(() => model.fit([{ x, labels }], { epochs: 1 })).toThrow(
      /^fit: the loss became NaN at epoch 1, step 1; the first non-finite output is that of layer dense\S* \(Dense\): -?Infinity at index \d+ of its output \[8,8\]\. Training stopped; no update was applied/,
    );
    expect(weights(model)).toEqual(before);
    model.dispose();
  });

  it("a parameter holding NaN is named, also when it goes bad between steps", () => {
    manualSeed(5);
    const model = smallModel();
    const { x, labels } = batch(8);
    const dense = model.layers[3] as Dense;
    const values = dense.kernel!.toArray();
    values[3] = NaN;
    dense.kernel!.set(values);
    expect(() => model.fit([{ x, labels }])).toThrow(/^fit: the loss became NaN at epoch 1, step 1; parameter dense\S*kernel\S* has non-finite values/);
    values[3] = 0;
    dense.kernel!.set(values);
    // Weights that go bad between steps (here: a callback) are found by the scan at the epoch's end.
    const conv = model.layers[0] as Conv2D;
    const spoil = {
      onBatchEnd: ({ step }: { step: number }) => {
        if (step !== 2) return;
        const k = conv.kernel!.toArray();
        k[3] = NaN;
        conv.kernel!.set(k);
      },
    };
    expect(() => model.fit([{ x, labels }, { x, labels }], { epochs: 2, callbacks: spoil })).toThrow(
      /^fit: parameter conv2d\S*kernel\S* holds NaN at index 3 after the end of epoch 1 \(step 2\), though every loss so far was finite/,
    );
    model.dispose();
  });

  it("a huge learning rate diverges and fit names the step where it happened", () => {
    manualSeed(6);
    const model = smallModel(new SGD({ learningRate: 1e36 }));
    const data = [batch(8, 0), batch(8, 1), batch(8, 2), batch(8, 3)];
    let message = "";
    try {
      model.fit(data, { epochs: 3 });
    } catch (e) {
      message = (e as Error).message;
    }
    // Step 1 takes the weights to ~1e35; step 2's dense layer overflows.
    expect(message).toMatch(/^fit: the loss became NaN at epoch 1, step 2; the first non-finite output is that of layer dense\S* \(Dense\)/);
    model.dispose();
  });
});

describe("fitAsync and diagnostics", () => {
  it("fitAsync trains exactly as fit does, awaits async callbacks and gives the callbacks the model", async () => {
    const data = [batch(8, 0), batch(8, 1), batch(8, 2)];
    manualSeed(7);
    const a = smallModel();
    a.fit(data, { epochs: 2 });
    manualSeed(7);
    const b = smallModel();
    const events: string[] = [];
    let seen: Sequential | null = null;
    await b.fitAsync(data, {
      epochs: 2,
      callbacks: {
        setModel: (m) => (seen = m),
        onEpochEnd: async (logs) => {
          await new Promise((r) => setTimeout(r, 5));
          events.push(`end ${logs.epoch}`);
        },
        onEpochBegin: (epoch) => void events.push(`begin ${epoch}`),
      },
    });
    expect(seen).toBe(b);
    expect(events).toEqual(["begin 0", "end 0", "begin 1", "end 1"]);
    expect(weights(b)).toEqual(weights(a));
    a.dispose();
    b.dispose();
  });

  it("each epoch's logs carry the triplet diagnostics, and a collapsed model gets a warning", () => {
    manualSeed(8);
    const model = smallModel();
    const data = [batch(8, 0), batch(8, 1), batch(8, 2)];
    const logs: EpochLogs[] = [];
    model.fit(data, { epochs: 1, diagnosticsEvery: 2, callbacks: { onEpochEnd: (l) => void logs.push(l) } });
    const d = logs[0].diagnostics!;
    expect(Object.keys(d).sort()).toEqual(["activeFraction", "meanNegativeDistance", "meanPositiveDistance", "positivePairs", "zeroDistanceFraction"]);
    expect(d.activeFraction).toBeGreaterThan(0);
    expect(d.activeFraction).toBeLessThanOrEqual(1);
    expect(d.positivePairs).toBe(8); // 4 classes × 2 examples → 2 ordered pairs each
    expect(logs[0].warnings).toBeUndefined();

    // A dense layer of zeros maps every example to the same point: loss = margin.
    const dense = model.layers[3] as Dense;
    dense.kernel!.set(new Float32Array(dense.kernel!.size));
    dense.bias!.set(new Float32Array(dense.bias!.size));
    const collapsed: EpochLogs[] = [];
    model.compile({ optimizer: new SGD({ learningRate: 1e-9 }), loss: new TripletSemiHardLoss() });
    model.fit(data, { epochs: 1, callbacks: { onEpochEnd: (l) => void collapsed.push(l) } });
    expect(collapsed[0].loss).toBeCloseTo(1, 5);
    expect(collapsed[0].diagnostics!.zeroDistanceFraction).toBe(1);
    expect(collapsed[0].diagnostics!.activeFraction).toBe(1);
    expect(collapsed[0].warnings![0]).toMatch(/sits at the margin 1 \(100 % of pairwise distances are zero\): the embeddings have collapsed/);
    model.dispose();
  });
});

describe("memory over many steps", () => {
  it("the allocator's live bytes are the same after step 10 and step 200", () => {
    manualSeed(9);
    const model = smallModel();
    const data = [batch(16, 0), batch(16, 1), batch(16, 2)];
    let after10 = -1;
    for (let step = 1; step <= 200; step++) {
      const { x, labels } = data[step % 3];
      expect(Number.isFinite(model.trainOnBatch(x, labels))).toBe(true);
      if (step === 10) after10 = memoryStats().liveBytes;
    }
    expect(after10).toBeGreaterThan(0);
    expect(memoryStats().liveBytes).toBe(after10);
    model.dispose();
  });
});
