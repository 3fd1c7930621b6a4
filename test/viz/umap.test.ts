import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { Generator, umap2d as fromMainEntry } from "../../src/index.js";
import { umap2d } from "../../src/umap.js";
import { findAbParams } from "../../src/viz/umap-ab.js";
import { fuzzySimplicialSet, smoothKnnDistances, transpose, type CsrGraph } from "../../src/viz/umap-graph.js";
import { defaultEpochs, optimizeLayout, sampledEdges } from "../../src/viz/umap-layout.js";
import { referenceLayout } from "../reference/umap-layout.js";
import { expectClose, setup } from "../helpers/setup.js";

// umap2d finds the exact neighbours with the wasm GEMM.
beforeAll(setup);

/** `clusters` Gaussian blobs of `perCluster` points in `dim`-D, centres uniform in [-10, 10)^dim, unit noise. */
function blobs(seed: number, clusters: number, perCluster: number, dim: number) {
  const g = new Generator(seed);
  const centres = Array.from({ length: clusters }, () => Array.from({ length: dim }, () => g.uniform(-10, 10)));
  const n = clusters * perCluster;
  const labels = Array.from({ length: n }, (_, i) => i % clusters);
  const x = Float32Array.from({ length: n * dim }, (_, p) => centres[labels[Math.floor(p / dim)]][p % dim] + g.normal());
  return { x, dim, labels };
}

/** Fraction of (point, one of its `k` nearest other points in 2-D) pairs that share a label. */
function neighbourAgreement(y: Float32Array, labels: number[], k: number): number {
  const n = labels.length;
  let agree = 0;
  const d = new Float64Array(n);
  const order = Array.from({ length: n }, (_, j) => j);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) d[j] = j === i ? Infinity : (y[2 * i] - y[2 * j]) ** 2 + (y[2 * i + 1] - y[2 * j + 1]) ** 2;
    order.sort((p, q) => d[p] - d[q]);
    for (let r = 0; r < k; r++) if (labels[order[r]] === labels[i]) agree++;
  }
  return agree / (n * k);
}

/** Exact kNN by brute force (self first, then by distance, ties by index), as src/eval/neighbors.ts returns it. */
function bruteKnn(points: number[][], k: number) {
  const n = points.length;
  const indices = new Int32Array(n * k);
  const distances = new Float32Array(n * k);
  const dist = (i: number, j: number) => Math.sqrt(points[i].reduce((s, v, p) => s + (v - points[j][p]) ** 2, 0));
  for (let i = 0; i < n; i++) {
    const others = Array.from({ length: n }, (_, j) => j).filter((j) => j !== i);
    others.sort((p, q) => dist(i, p) - dist(i, q) || p - q);
    [i, ...others.slice(0, k - 1)].forEach((j, r) => {
      indices[i * k + r] = j;
      distances[i * k + r] = j === i ? 0 : dist(i, j);
    });
  }
  return { indices, distances };
}

/** The fuzzy union from its definition, dense: W[i][j] from rho and sigma, then W + Wᵀ − W∘Wᵀ. */
function denseFuzzyUnion(indices: Int32Array, distances: Float32Array, k: number): number[][] {
  const n = distances.length / k;
  const { sigmas, rhos } = smoothKnnDistances(distances, k);
  const w = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < k; r++) {
      const j = indices[i * k + r];
      if (j === i) continue;
      const excess = distances[i * k + r] - rhos[i];
      // Strengths are float32 (as in umap-learn): tiny ones underflow to no edge.
      w[i][j] = excess <= 0 ? 1 : Math.fround(Math.exp(-excess / sigmas[i]));
    }
  }
  return w.map((row, i) => row.map((v, j) => v + w[j][i] - v * w[j][i]));
}

function toDense(graph: CsrGraph): number[][] {
  const out = Array.from({ length: graph.n }, () => new Array<number>(graph.n).fill(0));
  for (let i = 0; i < graph.n; i++) {
    for (let p = graph.rowStart[i]; p < graph.rowStart[i + 1]; p++) out[i][graph.columns[p]] = graph.weights[p];
  }
  return out;
}

/** Small point sets on an integer grid, so that ties and duplicate points (zero distances) occur. */
const pointSets = fc.integer({ min: 2, max: 12 }).chain((n) =>
  fc.record({
    points: fc.array(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 2, maxLength: 2 }), { minLength: n, maxLength: n }),
    k: fc.integer({ min: 2, max: n }),
  }));

describe("findAbParams", () => {
  it("matches umap-learn's find_ab_params", () => {
    // umap-learn 0.5: find_ab_params(1.0, 0.1) = (1.5769434..., 0.8950608...); (1.0, 0.5) = (0.5830300..., 1.3341669...).
    const near = findAbParams(1, 0.1);
    expect(near.a).toBeCloseTo(1.577, 3);
    expect(near.b).toBeCloseTo(0.895, 3);
    const far = findAbParams(1, 0.5);
    expect(far.a).toBeCloseTo(0.583, 3);
    expect(far.b).toBeCloseTo(1.334, 3);
  });
});

describe("smoothKnnDistances", () => {
  it("finds sigmas whose strengths sum to log2(k), or the floor of 1e-3 x the mean distance", () => {
    let floored = 0;
    let fitted = 0;
    fc.assert(fc.property(fc.integer({ min: 2, max: 20 }), fc.integer({ min: 1, max: 6 }), fc.integer(), (k, n, seed) => {
      // Ascending distances after the point itself; some rows repeat their nearest distance.
      const g = new Generator(seed);
      const distances = new Float32Array(n * k);
      for (let i = 0; i < n; i++) {
        const scale = 10 ** g.uniform(-3, 3);
        const repeats = g.nextInt(k);
        let d = 0;
        for (let r = 1; r < k; r++) {
          if (r === 1 || r > repeats) d += scale * g.uniform(0.01, 1);
          distances[i * k + r] = d;
        }
      }
      const { sigmas, rhos } = smoothKnnDistances(distances, k);
      const target = Math.log2(k);
      for (let i = 0; i < n; i++) {
        const row = distances.subarray(i * k, (i + 1) * k);
        expect(rhos[i]).toBe(row[1]);
        let sum = 0;
        for (let r = 1; r < k; r++) sum += Math.exp(-Math.max(0, row[r] - rhos[i]) / sigmas[i]);
        const floor = Math.fround((1e-3 * row.reduce((s, v) => s + v, 0)) / k);
        if (sigmas[i] === floor) {
          floored++;
          expect(sum).toBeGreaterThanOrEqual(target - 1e-4);
        } else {
          fitted++;
          expect(sigmas[i]).toBeGreaterThan(floor);
          expect(Math.abs(sum - target)).toBeLessThan(1e-4);
        }
      }
    }), { numRuns: 100 });
    // Both branches were exercised.
    expect(floored).toBeGreaterThan(0);
    expect(fitted).toBeGreaterThan(0);
  });

  it("uses the mean of all distances for the floor when a point's neighbours all coincide with it", () => {
    const k = 4;
    const distances = Float32Array.from([0, 0, 0, 0, 0, 2, 4, 6]);
    const { sigmas, rhos } = smoothKnnDistances(distances, k);
    expect(rhos[0]).toBe(0);
    expect(sigmas[0]).toBe(Math.fround(1e-3 * (12 / 8)));
  });
});

describe("fuzzySimplicialSet", () => {
  it("equals W + Wᵀ − W∘Wᵀ built densely from the definition, with sorted rows and no zeros", () => {
    fc.assert(fc.property(pointSets, ({ points, k }) => {
      const { indices, distances } = bruteKnn(points, k);
      const graph = fuzzySimplicialSet(indices, distances, k);
      const expected = denseFuzzyUnion(indices, distances, k);
      const actual = toDense(graph);
      for (let i = 0; i < graph.n; i++) {
        for (let p = graph.rowStart[i]; p < graph.rowStart[i + 1]; p++) {
          expect(graph.weights[p]).toBeGreaterThan(0);
          if (p > graph.rowStart[i]) expect(graph.columns[p]).toBeGreaterThan(graph.columns[p - 1]);
        }
        for (let j = 0; j < graph.n; j++) {
          expect(actual[i][j] > 0).toBe(expected[i][j] > 0);
          expect(Math.abs(actual[i][j] - expected[i][j])).toBeLessThan(1e-6);
        }
      }
    }));
  });

  it("transposes by counting sort", () => {
    // [[0, 2, 0], [1, 0, 3], [0, 0, 0]] stored with unsorted columns.
    const graph = { n: 3, rowStart: Int32Array.from([0, 1, 3, 3]), columns: Int32Array.from([1, 2, 0]), weights: Float32Array.from([2, 3, 1]) };
    const t = transpose(graph);
    expect(Array.from(t.rowStart)).toEqual([0, 1, 2, 3]);
    expect(Array.from(t.columns)).toEqual([1, 0, 1]);
    expect(Array.from(t.weights)).toEqual([1, 2, 3]);
  });
});

describe("sampledEdges", () => {
  it("drops edges below max / nEpochs and samples the rest every max / weight epochs", () => {
    const graph = { n: 2, rowStart: Int32Array.from([0, 2, 3]), columns: Int32Array.from([0, 1, 0]), weights: Float32Array.from([0.009, 0.5, 1]) };
    const edges = sampledEdges(graph, 100);
    expect(Array.from(edges.head)).toEqual([0, 1]);
    expect(Array.from(edges.tail)).toEqual([1, 0]);
    expect(Array.from(edges.epochsPerSample)).toEqual([2, 1]);
    // Few epochs: the threshold uses the default epochs instead (umap-learn), keeping the light edge.
    expect(sampledEdges(graph, 5).head.length).toBe(3);
    expect(defaultEpochs(10_000)).toBe(500);
    expect(defaultEpochs(10_001)).toBe(200);
  });
});

describe("optimizeLayout", () => {
  it("follows umap-learn's optimize_layout_euclidean draw for draw", () => {
    const { x, dim } = blobs(3, 3, 20, 4);
    const points = Array.from({ length: 60 }, (_, i) => Array.from(x.subarray(i * dim, (i + 1) * dim)));
    const k = 6;
    const { indices, distances } = bruteKnn(points, k);
    const graph = fuzzySimplicialSet(indices, distances, k);
    const { a, b } = findAbParams(1, 0.1);
    for (const nEpochs of [5, 30]) {
      const actual = optimizeLayout(graph, { a, b, nEpochs, generator: new Generator(9) });
      const { head, tail, epochsPerSample } = sampledEdges(graph, nEpochs);
      const edges = Array.from(head, (h, e) => ({ head: h, tail: tail[e], epochsPerSample: epochsPerSample[e] }));
      const expected = referenceLayout(edges, 60, { a, b, nEpochs, generator: new Generator(9) }).flat();
      expectClose(actual, expected, 1e-3, 1e-4);
    }
  });
});

describe("umap2d", () => {
  const { x, dim, labels } = blobs(5, 5, 100, 16);

  it("keeps well-separated clusters apart in 2-D", () => {
    const y = umap2d(x, dim, { seed: 11 });
    expect(y.length).toBe(500 * 2);
    expect(y.every(Number.isFinite)).toBe(true);
    expect(neighbourAgreement(y, labels, 10)).toBeGreaterThan(0.95);
    // Each cluster is tight compared with the distances between cluster centres.
    const centres = Array.from({ length: 5 }, (_, c) => {
      const members = labels.flatMap((l, i) => (l === c ? [i] : []));
      const cx = members.reduce((s, i) => s + y[2 * i], 0) / members.length;
      const cy = members.reduce((s, i) => s + y[2 * i + 1], 0) / members.length;
      const spread = Math.sqrt(members.reduce((s, i) => s + (y[2 * i] - cx) ** 2 + (y[2 * i + 1] - cy) ** 2, 0) / members.length);
      return { cx, cy, spread };
    });
    for (let c = 0; c < 5; c++) {
      // Repulsion keeps a cluster from collapsing onto a point (min_dist 0.1: spreads are ~0.6 here).
      expect(centres[c].spread).toBeGreaterThan(0.2);
      for (let e = c + 1; e < 5; e++) {
        const gap = Math.hypot(centres[c].cx - centres[e].cx, centres[c].cy - centres[e].cy);
        expect(gap).toBeGreaterThan(2 * (centres[c].spread + centres[e].spread));
      }
    }
  });

  it("repeats bit for bit for the same seed and differs for another", () => {
    const small = blobs(7, 3, 40, 8);
    const y = umap2d(small.x, small.dim, { seed: 11, nEpochs: 50 });
    expect(Array.from(umap2d(small.x, small.dim, { seed: 11, nEpochs: 50 }))).toEqual(Array.from(y));
    expect(Array.from(umap2d(small.x, small.dim, { seed: 12, nEpochs: 50 }))).not.toEqual(Array.from(y));
  });

  it("is exported by the main entry too", () => {
    expect(fromMainEntry).toBe(umap2d);
  });

  it("names bad arguments", () => {
    expect(() => umap2d(new Float32Array(10), 3)).toThrow(/length 10 is not divisible by dim 3/);
    expect(() => umap2d(new Float32Array(10), 0)).toThrow(/dim must be a positive integer, got 0/);
    expect(() => umap2d(new Float32Array(30), 3)).toThrow(/10 points are too few for nNeighbors 15/);
    expect(() => umap2d(x, dim, { nNeighbors: 1 })).toThrow(/nNeighbors must be an integer >= 2, got 1/);
    expect(() => umap2d(x, dim, { nEpochs: 0 })).toThrow(/nEpochs must be a positive integer/);
    expect(() => umap2d(x, dim, { minDist: -0.1 })).toThrow(/minDist must be in \[0, 1\], got -0.1/);
    expect(() => umap2d(Float32Array.from([...x.subarray(0, 16 * 20), NaN]), 1)).toThrow(/embeddings\[320\] is NaN, expected finite values/);
  });
});
