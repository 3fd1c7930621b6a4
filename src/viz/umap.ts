// A 2-D UMAP layout of embeddings, for pictures: McInnes et al.'s algorithm (as umap-learn does
// it) over typed arrays, in O(N·k) memory, every random draw from our seeded Generator, so a seed
// gives one layout. The k-nearest-neighbour graph is exact, from the SIMD GEMM
// (src/eval/neighbors.ts); the start is uniform random in [-10, 10) (umap-js's choice: no
// eigensolver). Steps: fuzzy graph (umap-graph.ts), a/b fit (umap-ab.ts), SGD (umap-layout.ts).

import { nearestNeighbors } from "../eval/neighbors.js";
import { Generator, globalGenerator } from "../random.js";
import { findAbParams } from "./umap-ab.js";
import { fuzzySimplicialSet } from "./umap-graph.js";
import { defaultEpochs, optimizeLayout } from "./umap-layout.js";

export interface Umap2dOptions {
  /** Seed of the generator behind every random draw; default: the global generator. */
  seed?: number;
  /** Neighbours per point (the point itself included, as umap-learn counts) in the fuzzy graph. Default 15. */
  nNeighbors?: number;
  /** How tightly points may pack in 2-D, in [0, 1]. Default 0.1. */
  minDist?: number;
  /** Optimization epochs; default umap-learn's: 500 up to 10,000 points, 200 above. */
  nEpochs?: number;
}

/** UMAP's spread: the scale of the 2-D similarity curve (umap-learn's default). */
const SPREAD = 1;

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
  const minDist = options.minDist ?? 0.1;
  if (!(minDist >= 0 && minDist <= SPREAD)) throw new Error(`umap2d: minDist must be in [0, ${SPREAD}], got ${minDist}`);
  for (let p = 0; p < embeddings.length; p++) {
    if (!Number.isFinite(embeddings[p])) throw new Error(`umap2d: embeddings[${p}] is ${embeddings[p]}, expected finite values`);
  }
  const generator = options.seed === undefined ? globalGenerator : new Generator(options.seed);
  const knn = nearestNeighbors(embeddings, nNeighbors, { dim });
  const graph = fuzzySimplicialSet(knn.indices, knn.distances, nNeighbors);
  const { a, b } = findAbParams(SPREAD, minDist);
  return optimizeLayout(graph, { a, b, nEpochs: options.nEpochs ?? defaultEpochs(n), generator });
}
