// A 2-D UMAP layout of embeddings, for pictures: umap-js (McInnes et al.'s algorithm in
// JavaScript) with every random draw taken from our seeded Generator, so a seed gives one layout.
// The k-nearest-neighbour graph it starts from is computed exactly with the SIMD GEMM
// (src/eval/neighbors.ts) instead of umap-js's approximate search over JS arrays: faster, and the
// 10,000 x 256 embeddings never become arrays of numbers.

import { UMAP } from "umap-js";
import { nearestNeighbors } from "../eval/neighbors.js";
import { Generator, globalGenerator } from "../random.js";

export interface Umap2dOptions {
  /** Seed of the generator behind every random draw; default: the global generator. */
  seed?: number;
  /** Neighbours per point in the fuzzy graph. Default 15. */
  nNeighbors?: number;
  /** How tightly points may pack in 2-D. Default 0.1. */
  minDist?: number;
  /** Optimization epochs; default umap-js's (500 up to 2,500 points, down to 200 above 7,500). */
  nEpochs?: number;
}

/** Lays N embeddings (N x dim, row-major) out in 2-D; returns N x 2 coordinates, row-major. Needs `await init()`. */
export function umap2d(embeddings: Float32Array, dim: number, options: Umap2dOptions = {}): Float32Array {
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`umap2d: dim must be a positive integer, got ${dim}`);
  if (embeddings.length % dim !== 0) {
    throw new Error(`umap2d: embeddings length ${embeddings.length} is not divisible by dim ${dim}, expected N x ${dim} values`);
  }
  const n = embeddings.length / dim;
  const nNeighbors = options.nNeighbors ?? 15;
  if (!Number.isInteger(nNeighbors) || nNeighbors < 2) throw new Error(`umap2d: nNeighbors must be an integer >= 2, got ${nNeighbors}`);
  if (n <= nNeighbors) throw new Error(`umap2d: ${n} points are too few for nNeighbors ${nNeighbors}, expected more than ${nNeighbors}`);
  if (options.nEpochs !== undefined && !(Number.isInteger(options.nEpochs) && options.nEpochs >= 1)) {
    throw new Error(`umap2d: nEpochs must be a positive integer, got ${options.nEpochs}`);
  }
  const generator = options.seed === undefined ? globalGenerator : new Generator(options.seed);
  const knn = nearestNeighbors(embeddings, nNeighbors, { dim });
  const knnIndices: number[][] = new Array(n);
  const knnDistances: number[][] = new Array(n);
  for (let i = 0; i < n; i++) {
    knnIndices[i] = Array.from(knn.indices.subarray(i * nNeighbors, (i + 1) * nNeighbors));
    knnDistances[i] = Array.from(knn.distances.subarray(i * nNeighbors, (i + 1) * nNeighbors));
  }
  // umap-js reads only the number of rows of its input once the neighbours are given.
  const rows: number[][] = Array.from({ length: n }, () => []);
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors,
    minDist: options.minDist ?? 0.1,
    nEpochs: options.nEpochs,
    random: () => generator.nextFloat(),
  });
  umap.setPrecomputedKNN(knnIndices, knnDistances);
  const layout = umap.fit(rows);
  const out = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    out[2 * i] = layout[i][0];
    out[2 * i + 1] = layout[i][1];
  }
  return out;
}
