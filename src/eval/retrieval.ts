// Leave-one-out retrieval metrics of an embedding, as "A Metric Learning Reality Check"
// (Musgrave, Belongie, Lim 2020) defines them: precision@1, R-precision and MAP@R.
//
// Distances come from the GEMM in blocks of query rows (blockSize x N, never N x N), so the
// 10,000 x 10,000 similarity matrix of the MNIST test set is never held at once. Per query only
// the R nearest points are selected (quickselect, src/eval/select.ts) and then sorted.

import type { Tensor } from "../autograd/tensor.js";
import { forEachRanking, indexOf, readEmbeddings, type RankingMetric } from "./ranking.js";
import { sortSmallest } from "./select.js";

export type RetrievalMetric = RankingMetric;

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
  const { n, dim } = readEmbeddings(embeddings, options.dim, "retrievalMetrics");
  if (labels.length !== n) {
    throw new Error(`retrievalMetrics: ${labels.length} labels for ${n} embeddings (of dim ${dim}), expected one label per embedding`);
  }

  const classSize = new Map<number, number>();
  for (let i = 0; i < n; i++) classSize.set(labels[i], (classSize.get(labels[i]) ?? 0) + 1);

  let sumP1 = 0;
  let sumRP = 0;
  let sumMap = 0;
  let count = 0;
  forEachRanking(embeddings, { dim: options.dim, metric, blockSize, owner: "retrievalMetrics" }, (q, packed, candidates) => {
    const label = labels[q];
    const R = classSize.get(label)! - 1;
    if (R === 0) return;
    sortSmallest(packed, candidates, R);
    let hits = 0;
    let ap = 0;
    for (let i = 0; i < R; i++) {
      if (labels[indexOf(packed[i], n)] === label) {
        hits++;
        ap += hits / (i + 1);
      }
    }
    sumP1 += labels[indexOf(packed[0], n)] === label ? 1 : 0;
    sumRP += hits / R;
    sumMap += ap / R;
    count++;
  });

  return { precisionAt1: sumP1 / count, rPrecision: sumRP / count, mapAtR: sumMap / count, count };
}
