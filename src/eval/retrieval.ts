// Leave-one-out retrieval metrics of an embedding, as "A Metric Learning Reality Check"
// (Musgrave, Belongie, Lim 2020) defines them: precision@1, R-precision and MAP@R.
//
// Distances come from the GEMM in blocks of query rows (blockSize x N, never N x N), so the
// 10,000 x 10,000 similarity matrix of the MNIST test set is never held at once. Per query only
// the R nearest points are selected (quickselect) and then sorted.

import { Tensor, tensor, tidy } from "../autograd/tensor.js";
import { gemm } from "../wasm/gemm.js";

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
 * Ties in the computed distance are broken by index: the lower index ranks first.
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

  let sumP1 = 0;
  let sumRP = 0;
  let sumMap = 0;
  let count = 0;
  const keys = new Float64Array(n);
  const order = new Int32Array(n);

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
        // Candidates: every index but the query.
        let c = 0;
        const base = r * n;
        for (let j = 0; j < n; j++) {
          if (j === q) continue;
          keys[c] = rows ? -dots[base + j] : norms[j] - 2 * dots[base + j];
          order[c] = j;
          c++;
        }
        selectSmallest(keys, order, c, R);
        sortRange(keys, order, 0, R - 1);
        let hits = 0;
        let ap = 0;
        for (let i = 0; i < R; i++) {
          if (labels[order[i]] === label) {
            hits++;
            ap += hits / (i + 1);
          }
        }
        sumP1 += labels[order[0]] === label ? 1 : 0;
        sumRP += hits / R;
        sumMap += ap / R;
        count++;
      }
    }
  });

  return { precisionAt1: sumP1 / count, rPrecision: sumRP / count, mapAtR: sumMap / count, count };
}

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

/** (key, index) order: smaller key first, then smaller index. */
function before(keys: Float64Array, order: Int32Array, a: number, b: number): boolean {
  return keys[a] < keys[b] || (keys[a] === keys[b] && order[a] < order[b]);
}

function swap(keys: Float64Array, order: Int32Array, a: number, b: number): void {
  const k = keys[a];
  keys[a] = keys[b];
  keys[b] = k;
  const o = order[a];
  order[a] = order[b];
  order[b] = o;
}

/** Median of three positions, as a pivot position. */
function pivotOf(keys: Float64Array, order: Int32Array, lo: number, hi: number): number {
  const mid = (lo + hi) >>> 1;
  if (before(keys, order, mid, lo)) swap(keys, order, mid, lo);
  if (before(keys, order, hi, lo)) swap(keys, order, hi, lo);
  if (before(keys, order, hi, mid)) swap(keys, order, hi, mid);
  return mid;
}

/** Hoare-style partition around the element at `p`; returns its final position. */
function partition(keys: Float64Array, order: Int32Array, lo: number, hi: number, p: number): number {
  swap(keys, order, p, hi);
  let store = lo;
  for (let i = lo; i < hi; i++) {
    if (before(keys, order, i, hi)) {
      swap(keys, order, i, store);
      store++;
    }
  }
  swap(keys, order, store, hi);
  return store;
}

/** Rearranges [0, count) so that its `r` smallest (key, index) pairs come first, in any order. */
function selectSmallest(keys: Float64Array, order: Int32Array, count: number, r: number): void {
  let lo = 0;
  let hi = count - 1;
  const target = r - 1;
  while (hi > lo) {
    // The (key, index) order is total (indices differ), so each round strictly shrinks the range.
    const p = partition(keys, order, lo, hi, pivotOf(keys, order, lo, hi));
    if (p === target) return;
    if (p < target) lo = p + 1;
    else hi = p - 1;
  }
}

/** Sorts [lo, hi] by (key, index): quicksort with insertion sort for short ranges. */
function sortRange(keys: Float64Array, order: Int32Array, lo: number, hi: number): void {
  while (hi - lo > 16) {
    const p = partition(keys, order, lo, hi, pivotOf(keys, order, lo, hi));
    // Recurse into the smaller side to bound the stack.
    if (p - lo < hi - p) {
      sortRange(keys, order, lo, p - 1);
      lo = p + 1;
    } else {
      sortRange(keys, order, p + 1, hi);
      hi = p - 1;
    }
  }
  for (let i = lo + 1; i <= hi; i++) {
    const k = keys[i];
    const o = order[i];
    let j = i - 1;
    while (j >= lo && (keys[j] > k || (keys[j] === k && order[j] > o))) {
      keys[j + 1] = keys[j];
      order[j + 1] = order[j];
      j--;
    }
    keys[j + 1] = k;
    order[j + 1] = o;
  }
}
