import { beforeAll, describe, expect, it } from "vitest";
import { Generator } from "../../src/index.js";
import { umap2d } from "../../src/umap.js";
import { setup } from "../helpers/setup.js";

// umap2d finds the exact neighbours with the wasm GEMM.
beforeAll(setup);

/** Three Gaussian clusters of 60 points in 16-D, centres 10 apart, unit noise. */
function clusters(seed: number) {
  const g = new Generator(seed);
  const dim = 16;
  const centres = [0, 1, 2].map(() => Array.from({ length: dim }, () => g.uniform(-10, 10)));
  const labels = Array.from({ length: 180 }, (_, i) => i % 3);
  const x = Float32Array.from({ length: 180 * dim }, (_, k) => centres[labels[Math.floor(k / dim)]][k % dim] + g.normal());
  return { x, dim, labels };
}

/** Fraction of points whose nearest other point in 2-D has their label. */
function nearestNeighbourAgreement(y: Float32Array, labels: number[]): number {
  let agree = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = -1;
    let bestD = Infinity;
    for (let j = 0; j < labels.length; j++) {
      const d = (y[2 * i] - y[2 * j]) ** 2 + (y[2 * i + 1] - y[2 * j + 1]) ** 2;
      if (j !== i && d < bestD) [best, bestD] = [j, d];
    }
    if (labels[best] === labels[i]) agree++;
  }
  return agree / labels.length;
}

describe("umap2d", () => {
  const { x, dim, labels } = clusters(5);

  it("keeps well-separated clusters apart in 2-D, and repeats for the same seed", () => {
    const y = umap2d(x, dim, { seed: 11, nEpochs: 200 });
    expect(y.length).toBe(180 * 2);
    expect(y.every(Number.isFinite)).toBe(true);
    expect(nearestNeighbourAgreement(y, labels)).toBeGreaterThan(0.95);
    expect(Array.from(umap2d(x, dim, { seed: 11, nEpochs: 200 }))).toEqual(Array.from(y));
    expect(Array.from(umap2d(x, dim, { seed: 12, nEpochs: 200 }))).not.toEqual(Array.from(y));
  });

  it("names bad arguments", () => {
    expect(() => umap2d(new Float32Array(10), 3)).toThrow(/length 10 is not divisible by dim 3/);
    expect(() => umap2d(new Float32Array(30), 3)).toThrow(/10 points are too few for nNeighbors 15/);
    expect(() => umap2d(x, dim, { nEpochs: 0 })).toThrow(/nEpochs must be a positive integer/);
  });
});
