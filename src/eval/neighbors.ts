// Exact k nearest neighbours of every point (the point itself first): what UMAP's graph is built
// from. The blocked GEMM gives a blockSize x N slab of dot products (never N x N); each query then
// keeps its k - 1 best candidates by insertion into a short sorted list, most candidates costing
// one comparison (no packing and selection over all N as the retrieval metrics need).

import { Tensor, tensor, tidy } from "../autograd/tensor.js";
import { gemm } from "../wasm/gemm.js";
import { readEmbeddings, type RankingMetric } from "./ranking.js";

export interface NearestNeighbors {
  /** N x k indices, row-major; each row starts with the point itself. */
  indices: Int32Array;
  /** N x k distances (Euclidean, squared Euclidean, or 1 − cosine), row-major. */
  distances: Float32Array;
  k: number;
}

/**
 * Ranks by the float32 key |e_j|² − 2 q·e_j (L2 metrics: the query's |q|² is the same for all) or
 * −q̂·ê_j ("angular"; zero rows have similarity 0), ties to the lower index: the same order as the
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
  const rows = metric === "angular" ? normalizedRows(data(), n, d) : null;
  const norms = new Float64Array(rows ? 0 : n);
  if (!rows) {
    const x = data();
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = j * d, end = p + d; p < end; p++) s += x[p] * x[p];
      norms[j] = s;
    }
  }
  const m = k - 1;
  const bestKeys = new Float64Array(Math.max(m, 1));
  const bestIndices = new Int32Array(Math.max(m, 1));
  tidy(() => {
    const e = rows ? tensor(rows, [n, d]) : embeddings instanceof Tensor ? embeddings : tensor(data(), [n, d]);
    const block = Tensor.empty([Math.min(blockSize, n), n]);
    for (let q0 = 0; q0 < n; q0 += blockSize) {
      const rowsInBlock = Math.min(blockSize, n - q0);
      gemm({ a: e.ptr + q0 * d * 4, b: e, c: block, m: rowsInBlock, n, k: d, transB: true });
      const dots = block.view();
      for (let r = 0; r < rowsInBlock; r++) {
        const q = q0 + r;
        const base = r * n;
        let count = 0;
        for (let j = 0; j < n; j++) {
          if (j === q || m === 0) continue;
          const key = Math.fround(rows ? -dots[base + j] : norms[j] - 2 * dots[base + j]);
          if (count === m && !(key < bestKeys[m - 1])) continue;
          // Insert after every kept key <= key: equal keys stay in index order (j ascends).
          let p = count < m ? count++ : m - 1;
          while (p > 0 && bestKeys[p - 1] > key) {
            bestKeys[p] = bestKeys[p - 1];
            bestIndices[p] = bestIndices[p - 1];
            p--;
          }
          bestKeys[p] = key;
          bestIndices[p] = j;
        }
        const row = q * k;
        indices[row] = q;
        distances[row] = 0;
        for (let i = 0; i < m; i++) {
          const key = bestKeys[i];
          indices[row + 1 + i] = bestIndices[i];
          if (rows) distances[row + 1 + i] = 1 + key;
          else {
            const squared = Math.max(key + norms[q], 0);
            distances[row + 1 + i] = metric === "L2" ? Math.sqrt(squared) : squared;
          }
        }
      }
    }
  });
  return { indices, distances, k };
}

function normalizedRows(x: Float32Array, n: number, dim: number): Float32Array {
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let p = i * dim; p < (i + 1) * dim; p++) s += x[p] * x[p];
    const scale = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let p = i * dim; p < (i + 1) * dim; p++) out[p] = x[p] * scale;
  }
  return out;
}
