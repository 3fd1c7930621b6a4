// Exact k nearest neighbours of every point (the point itself first): what UMAP's graph is built
// from. The blocked GEMM gives slabs of at most blockSize x N dot products (never N x N), over the
// upper triangle only; every point keeps its k - 1 best candidates by insertion into a short sorted
// list, most candidates costing one comparison (no packing and selection over all N, which the
// retrieval metrics need for their ranks).

import { Tensor, tensor, tidy } from "../autograd/tensor.js";
import { gemm } from "../wasm/gemm.js";
import { rankingKey, readEmbeddings, rowScales, type RankingMetric } from "./ranking.js";

export interface NearestNeighbors {
  /** N x k indices, row-major; each row starts with the point itself. */
  indices: Int32Array;
  /** N x k distances (Euclidean, squared Euclidean, or 1 − cosine), row-major. */
  distances: Float32Array;
  k: number;
}

/**
 * Ranks by the float32 key |e_j|² − 2 q·e_j (L2 metrics: the query's |q|² is the same for all) or
 * −q·e_j/(|q||e_j|) ("angular"; zero rows have similarity 0), ties to the lower index: the same order as the
 * retrieval metrics' ranking (src/eval/ranking.ts).
 */
export function nearestNeighbors(
  embeddings: Float32Array | Tensor,
  k: number,
  { dim, metric = "L2", blockSize = 256 }: { dim?: number; metric?: RankingMetric; blockSize?: number } = {},
): NearestNeighbors {
  const { data, n, dim: d } = readEmbeddings(embeddings, dim, "nearestNeighbors");
  if (!Number.isInteger(k) || k < 1 || k > n) throw new Error(`nearestNeighbors: k must be an integer in [1, ${n}] for ${n} points, got ${k}`);
  const indices = new Int32Array(n * k);
  const distances = new Float32Array(n * k);
  const scales = rowScales(data(), n, d, metric);
  const angular = metric === "angular";
  // Every point's k - 1 best (key, index) so far, ascending: candidates arrive in ascending index
  // order for every point (from rows above it, then from its own row), so inserting after equal
  // keys ranks ties by index.
  const m = k - 1;
  const bestKeys = new Float64Array(n * m);
  const bestIndices = new Int32Array(n * m);
  const counts = new Int32Array(n);
  // The key a candidate must beat: the list's last once full, +Infinity before.
  const worst = new Float64Array(n).fill(Infinity);
  const offer = (point: number, key: number, candidate: number) => {
    const base = point * m;
    const count = counts[point];
    let p = count < m ? count : m - 1;
    if (count < m) counts[point] = count + 1;
    while (p > 0 && bestKeys[base + p - 1] > key) {
      bestKeys[base + p] = bestKeys[base + p - 1];
      bestIndices[base + p] = bestIndices[base + p - 1];
      p--;
    }
    bestKeys[base + p] = key;
    bestIndices[base + p] = candidate;
    if (counts[point] === m) worst[point] = bestKeys[base + m - 1];
  };
  if (m > 0) {
    tidy(() => {
      const e = embeddings instanceof Tensor ? embeddings : tensor(data(), [n, d]);
      const block = Tensor.empty([Math.min(blockSize, n), n]);
      // The dot products are symmetric: each block of rows meets only itself and the rows after
      // it, and each pair (i < j) is offered to both points: half the GEMM of a full ranking.
      for (let q0 = 0; q0 < n; q0 += blockSize) {
        const rowsInBlock = Math.min(blockSize, n - q0);
        const columns = n - q0;
        const rowPtr = e.ptr + q0 * d * 4;
        gemm({ a: rowPtr, b: rowPtr, c: block, m: rowsInBlock, n: columns, k: d, transB: true });
        const dots = block.view();
        for (let r = 0; r < rowsInBlock; r++) {
          const i = q0 + r;
          const base = r * columns - q0;
          for (let j = i + 1; j < n; j++) {
            const dot = dots[base + j];
            const forI = rankingKey(metric, dot, scales, i, j);
            if (forI < worst[i]) offer(i, forI, j);
            const forJ = rankingKey(metric, dot, scales, j, i);
            if (forJ < worst[j]) offer(j, forJ, i);
          }
        }
      }
    });
  }
  for (let q = 0; q < n; q++) {
    const row = q * k;
    indices[row] = q;
    distances[row] = 0;
    for (let r = 0; r < m; r++) {
      const key = bestKeys[q * m + r];
      indices[row + 1 + r] = bestIndices[q * m + r];
      if (angular) distances[row + 1 + r] = 1 + key;
      else {
        const squared = Math.max(key + scales[q], 0);
        distances[row + 1 + r] = metric === "L2" ? Math.sqrt(squared) : squared;
      }
    }
  }
  return { indices, distances, k };
}
