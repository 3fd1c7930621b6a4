// Exact k nearest neighbours of every point (the point itself first), from the blocked GEMM
// ranking: what UMAP's graph is built from, without umap-js's approximate neighbour search.

import type { Tensor } from "../autograd/tensor.js";
import { forEachRanking, indexOf, keyOf, readEmbeddings, type RankingMetric } from "./ranking.js";
import { sortSmallest } from "./select.js";

export interface NearestNeighbors {
  /** N x k indices, row-major; each row starts with the point itself. */
  indices: Int32Array;
  /** N x k distances (Euclidean, squared Euclidean, or 1 − cosine), row-major. */
  distances: Float32Array;
  k: number;
}

export function nearestNeighbors(
  embeddings: Float32Array | Tensor,
  k: number,
  { dim, metric = "L2", blockSize = 256 }: { dim?: number; metric?: RankingMetric; blockSize?: number } = {},
): NearestNeighbors {
  const { n } = readEmbeddings(embeddings, dim, "nearestNeighbors");
  if (!Number.isInteger(k) || k < 1 || k > n) throw new Error(`nearestNeighbors: k must be an integer in [1, ${n}] for ${n} points, got ${k}`);
  const indices = new Int32Array(n * k);
  const distances = new Float32Array(n * k);
  forEachRanking(embeddings, { dim, metric, blockSize, owner: "nearestNeighbors" }, (q, packed, count, norms) => {
    const row = q * k;
    indices[row] = q;
    distances[row] = 0;
    sortSmallest(packed, count, k - 1);
    for (let i = 1; i < k; i++) {
      const v = packed[i - 1];
      const key = keyOf(v, n);
      indices[row + i] = indexOf(v, n);
      // Keys are |e|² − 2q·e (L2 metrics) or −cos (angular): add back what is constant per query.
      const squared = norms ? Math.max(key + norms[q], 0) : 1 + key;
      distances[row + i] = metric === "L2" ? Math.sqrt(squared) : squared;
    }
  });
  return { indices, distances, k };
}
