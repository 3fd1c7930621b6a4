// The tutorial's model trained on 1 and on 2 threads ends with the same weights bit for bit: every
// split of a step (GEMM rows and columns, image ranges, Adam's element ranges, the fixed parts of
// the kernel gradients) sums each value in the same order. A file of its own: it restarts the
// runtime with each thread count.
import { afterAll, describe, expect, it } from "vitest";
import { Adam, Generator, init, manualSeed, shutdown, threadCount, TripletSemiHardLoss, tripletTutorialModel } from "../../src/index.js";

describe("the tutorial model on threads", () => {
  afterAll(shutdown);

  it("trains to the same weights bit for bit on 1 and 2 threads (20 steps of batch 32)", async () => {
    const g = new Generator(21);
    const batches = Array.from({ length: 20 }, () => ({
      images: Float32Array.from({ length: 32 * 28 * 28 }, () => (g.uniform(0, 1) < 0.8 ? 0 : g.uniform(0, 1))),
      labels: Int32Array.from({ length: 32 }, (_, i) => i % 10),
    }));
    const weights: Float32Array[][] = [];
    for (const threads of [1, 2]) {
      await shutdown();
      await init({ threads });
      expect(threadCount()).toBe(threads);
      manualSeed(3);
      const model = tripletTutorialModel();
      model.compile({ optimizer: new Adam(), loss: new TripletSemiHardLoss() });
      for (const b of batches) expect(Number.isFinite(model.trainOnBatch(b.images, b.labels))).toBe(true);
      weights.push(model.parameters().map((p) => p.toArray()));
      model.dispose();
    }
    weights[0].forEach((w, i) => {
      expect(w.findIndex((v, j) => !Object.is(v, weights[1][i][j])), `parameter ${i}: first element that differs`).toBe(-1);
    });
  });
});
