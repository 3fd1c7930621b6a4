// Leave-one-out retrieval metrics of an embedding, as "A Metric Learning Reality Check"
// (Musgrave, Belongie, Lim 2020) defines them: precision@1, R-precision and MAP@R.
//
// Distances come from the GEMM in blocks of query rows (blockSize x N, never N x N), so the
// 10,000 x 10,000 similarity matrix of the MNIST test set is never held at once. Per query only
// the R nearest points are selected (quickselect, src/eval/select.ts) and then sorted.

import { Tensor, tensor, tidy } from "../autograd/tensor.js";
import { gemm } from "../wasm/gemm.js";
import { sortSmallest } from "./select.js";

export type RetrievalMetric = "L2" | "squared-L2" | "angular";

export interface RetrievalOptions {
  /** Embedding size; required for a Float32Array, taken from the last axis of a rank-2 Tensor. */
  dim?: number;
  /** Distance; "L2" and "squared-L2" rank the same. Default "L2". */
  metric?: RetrievalMetric;
  /** Query rows per GEMM block (memory: blockSize x N floats). Default 256. */
  blockSize?: number;
}

export interface RetrievalMetrics {
  /** Fraction of queries whose nearest other point has the query's label. */
  precisionAt1: number;
  /** Mean over queries of (same-label points among the R nearest) / R. */
  rPrecision: number;
  /** Mean over queries of (1/R) sum_{i<=R} P(i) rel(i). */
  mapAtR: number;
  /** Queries averaged over: those with R >= 1 (a label that occurs at least twice). */
  count: number;
}

/**
 * Leave-one-out retrieval metrics of `embeddings` (N x dim, row-major) with class `labels` (N).
 *
 * Each point is a query; the other N-1 points are ranked by distance to it, and R is the number of
 * them that share its label. Queries with R = 0 (a label seen once) are skipped in every metric;
 * `count` says how many queries were averaged (all three averages are NaN when it is 0).
 * Distances are computed in float32 (GEMM); ties in the computed distance are broken by index:
 * the lower index ranks first.
 * "angular" ranks by cosine similarity (zero vectors have similarity 0 to everything).
 */
export function retrievalMetrics(
  embeddings: Float32Array | Tensor,
  labels: ArrayLike<number>,
  options: RetrievalOptions = {},
): RetrievalMetrics {
  const metric = options.metric ?? "L2";
  if (metric !== "L2" && metric !== "squared-L2" && metric !== "angular") {
    throw new Error(`retrievalMetrics: unknown metric "${String(metric)}", expected "L2", "squared-L2" or "angular"`);
  }
  const blockSize = options.blockSize ?? 256;
  if (!Number.isInteger(blockSize) || blockSize < 1) {
    throw new Error(`retrievalMetrics: blockSize must be a positive integer, got ${blockSize}`);
  }
  const { data, n, dim } = readEmbeddings(embeddings, options.dim);
  if (labels.length !== n) {
    throw new Error(`retrievalMetrics: ${labels.length} labels for ${n} embeddings (of dim ${dim}), expected one label per embedding`);
  }

  const classSize = new Map<number, number>();
  for (let i = 0; i < n; i++) classSize.set(labels[i], (classSize.get(labels[i]) ?? 0) + 1);

  const rows = metric === "angular" ? normalizedRows(data(), n, dim) : null;
  // Ranking key per candidate j: |e_j|^2 - 2 q.e_j for L2 (the query's own |q|^2 is a constant),
  // -q.e_j for unit rows (angular).
  const norms = new Float64Array(n);
  if (!rows) {
    const x = data();
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = j * dim, end = p + dim; p < end; p++) s += x[p] * x[p];
      norms[j] = s;
    }
  }

  if (n > MAX_POINTS) throw new Error(`retrievalMetrics: ${n} embeddings, at most ${MAX_POINTS} are supported`);
  let sumP1 = 0;
  let sumRP = 0;
  let sumMap = 0;
  let count = 0;
  // Each candidate becomes one float64: its float32 key's bits in sortable form times n, plus its
  // index. Plain numeric order on these is (key, index) order: ties go to the lower index.
  const key32 = new Float32Array(n);
  const keyBits = new Uint32Array(key32.buffer);
  const packed = new Float64Array(n);

  tidy(() => {
    const e = rows ? tensor(rows, [n, dim]) : embeddings instanceof Tensor ? embeddings : tensor(data(), [n, dim]);
    const block = Tensor.empty([Math.min(blockSize, n), n]);
    for (let q0 = 0; q0 < n; q0 += blockSize) {
      const m = Math.min(blockSize, n - q0);
      gemm({ a: e.ptr + q0 * dim * 4, b: e, c: block, m, n, k: dim, transB: true });
      const dots = block.view();
      for (let r = 0; r < m; r++) {
        const q = q0 + r;
        const label = labels[q];
        const R = classSize.get(label)! - 1;
        if (R === 0) continue;
        const base = r * n;
        if (rows) for (let j = 0; j < n; j++) key32[j] = -dots[base + j];
        else for (let j = 0; j < n; j++) key32[j] = norms[j] - 2 * dots[base + j];
        let c = 0;
        for (let j = 0; j < n; j++) {
          if (j === q) continue;
          const bits = keyBits[j];
          // Negative floats reversed below the positive ones; -0 (0x80000000) is +0.
          const sortable = bits > 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
          packed[c++] = sortable * n + j;
        }
        sortSmallest(packed, c, R);
        let hits = 0;
        let ap = 0;
        for (let i = 0; i < R; i++) {
          if (labels[packed[i] % n] === label) {
            hits++;
            ap += hits / (i + 1);
          }
        }
        sumP1 += labels[packed[0] % n] === label ? 1 : 0;
        sumRP += hits / R;
        sumMap += ap / R;
        count++;
      }
    }
  });

  return { precisionAt1: sumP1 / count, rPrecision: sumRP / count, mapAtR: sumMap / count, count };
}

/** (2^32 - 1) * n + n must stay below 2^53 for the packed (key, index) doubles to be exact. */
const MAX_POINTS = 2 ** 21;

/** The embeddings as a getter of their values (a Tensor's view must be made fresh), N and dim. */
function readEmbeddings(embeddings: Float32Array | Tensor, dimOption: number | undefined) {
  if (embeddings instanceof Tensor) {
    const shape = embeddings.shape;
    const dim = dimOption ?? (shape.length === 2 ? shape[1] : undefined);
    if (dim === undefined) {
      throw new Error(`retrievalMetrics: embeddings tensor has shape [${shape}], expected [N, dim] or the dim option`);
    }
    checkDim(dim, embeddings.size);
    return { data: () => embeddings.view(), n: embeddings.size / dim, dim };
  }
  if (!(embeddings instanceof Float32Array)) {
    throw new Error("retrievalMetrics: embeddings must be a Float32Array (N x dim, row-major) or a Tensor");
  }
  if (dimOption === undefined) throw new Error("retrievalMetrics: the dim option is required for a Float32Array of embeddings");
  checkDim(dimOption, embeddings.length);
  return { data: () => embeddings, n: embeddings.length / dimOption, dim: dimOption };
}

function checkDim(dim: number, length: number): void {
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`retrievalMetrics: dim must be a positive integer, got ${dim}`);
  if (length % dim !== 0) {
    throw new Error(`retrievalMetrics: embeddings length ${length} is not divisible by dim ${dim}, expected N x ${dim} values`);
  }
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

