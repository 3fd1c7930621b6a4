import { describe, expect, it } from "vitest";
import { loadMnist, mnistDataset, toBatch, type MnistSplit } from "../../src/index.js";

/** 10 examples of 2×3 pixels: example i has pixels 10i..10i+5 and label i % 4. */
const split: MnistSplit = {
  images: Uint8Array.from({ length: 60 }, (_, j) => Math.floor(j / 6) * 10 + (j % 6)),
  labels: Uint8Array.from({ length: 10 }, (_, i) => i % 4),
  count: 10,
  height: 2,
  width: 3,
  channels: 1,
};

describe("toBatch", () => {
  it("gathers the examples as float32 pixels/255 in NHWC, with int32 labels", () => {
    const batch = toBatch(split, [7, 0, 7]);
    expect(batch.count).toBe(3);
    expect(batch.shape).toEqual([3, 2, 3, 1]);
    expect(batch.images).toBeInstanceOf(Float32Array);
    const expected = [7, 0, 7].flatMap((i) => [0, 1, 2, 3, 4, 5].map((p) => Math.fround((10 * i + p) / 255)));
    expect(Array.from(batch.images)).toEqual(expected);
    expect(Array.from(batch.labels)).toEqual([3, 0, 3]);
    expect(batch.labels).toBeInstanceOf(Int32Array);
    expect(Array.from(batch.indices)).toEqual([7, 0, 7]);
    expect(toBatch(split, []).images.length).toBe(0);
  });

  it("maps 255 to exactly 1 and 0 to 0", () => {
    const white: MnistSplit = { ...split, images: new Uint8Array([0, 255, 128, 1, 2, 3]), labels: new Uint8Array([1]), count: 1 };
    expect(Array.from(toBatch(white, [0]).images.subarray(0, 3))).toEqual([0, 1, Math.fround(128 / 255)]);
  });

  it("rejects an index outside the split", () => {
    expect(() => toBatch(split, [1, 10])).toThrow("toBatch: index 10 at position 1 is outside the split's 10 examples");
  });

  it("writes into a given buffer: the same pixels, as a view of its start", () => {
    const buffer = new Float32Array(4 * 6).fill(-1);
    const batch = toBatch(split, [2, 5], buffer);
    expect(batch.images.buffer).toBe(buffer.buffer);
    expect(Array.from(batch.images)).toEqual(Array.from(toBatch(split, [2, 5]).images));
    expect(buffer[12]).toBe(-1);
    expect(() => toBatch(split, [0, 1, 2, 3, 4], buffer)).toThrow("toBatch: the buffer holds 24 floats, 5 images of 6 pixels need 30");
  });
});

describe("mnistDataset", () => {
  it("visits every example once per epoch, in batches, reshuffled each epoch", () => {
    const ds = mnistDataset(split, { batchSize: 4, seed: 1 });
    expect(ds.size).toBe(3);
    const epochs = [ds.toArray(), ds.toArray()];
    for (const batches of epochs) {
      expect(batches.map((b) => b.count)).toEqual([4, 4, 2]);
      const seen = batches.flatMap((b) => Array.from(b.indices));
      expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      for (const b of batches) expect(Array.from(b.labels)).toEqual(Array.from(b.indices, (i) => i % 4));
    }
    expect(epochs[0].map((b) => Array.from(b.indices))).not.toEqual(epochs[1].map((b) => Array.from(b.indices)));
    const again = mnistDataset(split, { batchSize: 4, seed: 1 });
    expect(again.toArray().map((b) => Array.from(b.indices))).toEqual(epochs[0].map((b) => Array.from(b.indices)));
  });

  it("keeps the order without shuffling, and drops the remainder on request", () => {
    const batches = mnistDataset(split, { batchSize: 4, shuffle: false, dropRemainder: true }).toArray();
    expect(batches.map((b) => Array.from(b.indices))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
  });

  it("writes every batch into one buffer with reuseBuffer, the same pixels as fresh batches", () => {
    const fresh = mnistDataset(split, { batchSize: 4, seed: 3 });
    const reused = mnistDataset(split, { batchSize: 4, seed: 3, reuseBuffer: true });
    const buffers = new Set<ArrayBufferLike>();
    const expected = fresh.toArray();
    let i = 0;
    for (const b of reused) {
      buffers.add(b.images.buffer);
      expect(Array.from(b.images)).toEqual(Array.from(expected[i].images));
      expect(Array.from(b.indices)).toEqual(Array.from(expected[i].indices));
      i++;
    }
    expect(i).toBe(3);
    expect(buffers.size).toBe(1);
  });

  it("builds real MNIST batches of [32, 28, 28, 1]", async () => {
    const { train } = await loadMnist({ limitTrain: 1000, limitTest: 0 });
    const [first] = mnistDataset(train, { seed: 0 }).take(1).toArray();
    expect(first.shape).toEqual([32, 28, 28, 1]);
    expect(first.images.length).toBe(32 * 784);
    expect(Math.max(...first.images)).toBe(1);
    expect(Math.min(...first.images)).toBe(0);
  });
});
