// UMAP's layout optimization in 2-D (umap-learn's simplicial_set_embedding with a random init and
// optimize_layout_euclidean): stochastic gradient descent on the fuzzy cross entropy, each edge
// sampled in proportion to its weight, 5 negative samples per positive one, gradients clipped at
// 4, the learning rate falling linearly from 1 to 0. Every draw comes from the Generator given
// (negative samples: floor(nextFloat() · N), where umap-learn takes its own generator modulo N).

import type { Generator } from "../random.js";
import type { CsrGraph } from "./umap-graph.js";

export interface LayoutOptions {
  a: number;
  b: number;
  nEpochs: number;
  generator: Generator;
  /** Negative samples per positive sample. Default 5. */
  negativeSampleRate?: number;
}

/** umap-learn's default epochs: 500 up to 10,000 points, 200 above. */
export function defaultEpochs(n: number): number {
  return n <= 10_000 ? 500 : 200;
}

const CLIP = 4;

/**
 * Lays the graph's N vertices out in 2-D, starting from uniform [-10, 10) coordinates; returns
 * N x 2 coordinates, row-major. Edges lighter than max / nEpochs are dropped first (umap-learn:
 * they would be sampled less than once).
 */
export function optimizeLayout(graph: CsrGraph, options: LayoutOptions): Float32Array {
  const { a, b, nEpochs, generator } = options;
  const negativeSampleRate = options.negativeSampleRate ?? 5;
  const n = graph.n;
  const { head, tail, epochsPerSample } = sampledEdges(graph, nEpochs);
  const edges = head.length;

  const y = new Float32Array(2 * n);
  for (let p = 0; p < 2 * n; p++) y[p] = generator.uniform(-10, 10);

  const epochsPerNegativeSample = new Float64Array(edges);
  const nextSample = new Float64Array(edges);
  const nextNegativeSample = new Float64Array(edges);
  for (let e = 0; e < edges; e++) {
    epochsPerNegativeSample[e] = epochsPerSample[e] / negativeSampleRate;
    nextSample[e] = epochsPerSample[e];
    nextNegativeSample[e] = epochsPerNegativeSample[e];
  }
  // d2^b as exp(b·ln d2): V8's Math.pow costs about twice as much, and it is the inner loop's cost.
  const attraction = -2 * a * b;
  const repulsion = 2 * b;
  let alpha = 1;
  for (let epoch = 0; epoch < nEpochs; epoch++) {
    for (let e = 0; e < edges; e++) {
      if (nextSample[e] > epoch) continue;
      const j = 2 * head[e];
      const k = 2 * tail[e];
      // Attraction along the edge: both ends move.
      let dx = y[j] - y[k];
      let dy = y[j + 1] - y[k + 1];
      let d2 = dx * dx + dy * dy;
      if (d2 > 0) {
        const powered = Math.exp(b * Math.log(d2));
        const coefficient = (attraction * powered) / (d2 * (a * powered + 1));
        const gx = clip(coefficient * dx) * alpha;
        const gy = clip(coefficient * dy) * alpha;
        y[j] += gx;
        y[j + 1] += gy;
        y[k] -= gx;
        y[k + 1] -= gy;
      }
      nextSample[e] += epochsPerSample[e];

      // Repulsion from random vertices: only the head moves.
      const negatives = Math.trunc((epoch - nextNegativeSample[e]) / epochsPerNegativeSample[e]);
      for (let s = 0; s < negatives; s++) {
        const other = 2 * Math.floor(generator.nextFloat() * n);
        if (other === j) continue;
        dx = y[j] - y[other];
        dy = y[j + 1] - y[other + 1];
        d2 = dx * dx + dy * dy;
        // Coincident distinct points get no push (umap-learn >= 0.5).
        if (d2 > 0) {
          const coefficient = repulsion / ((0.001 + d2) * (a * Math.exp(b * Math.log(d2)) + 1));
          y[j] += clip(coefficient * dx) * alpha;
          y[j + 1] += clip(coefficient * dy) * alpha;
        }
      }
      nextNegativeSample[e] += negatives * epochsPerNegativeSample[e];
    }
    alpha = 1 - epoch / nEpochs;
  }
  return y;
}

function clip(x: number): number {
  return x > CLIP ? CLIP : x < -CLIP ? -CLIP : x;
}

/**
 * The graph's entries at or above max / nEpochs (umap-learn divides by its default epochs when
 * nEpochs <= 10) as parallel arrays, each with its sampling period max / weight in epochs.
 */
export function sampledEdges(graph: CsrGraph, nEpochs: number): { head: Int32Array; tail: Int32Array; epochsPerSample: Float64Array } {
  const { n, rowStart, columns, weights } = graph;
  let max = 0;
  for (let p = 0; p < weights.length; p++) if (weights[p] > max) max = weights[p];
  const threshold = max / (nEpochs > 10 ? nEpochs : defaultEpochs(n));
  let count = 0;
  for (let p = 0; p < rowStart[n]; p++) if (weights[p] >= threshold && weights[p] > 0) count++;
  const head = new Int32Array(count);
  const tail = new Int32Array(count);
  const epochsPerSample = new Float64Array(count);
  let e = 0;
  for (let i = 0; i < n; i++) {
    for (let p = rowStart[i]; p < rowStart[i + 1]; p++) {
      const w = weights[p];
      if (!(w >= threshold && w > 0)) continue;
      head[e] = i;
      tail[e] = columns[p];
      epochsPerSample[e++] = max / w;
    }
  }
  return { head, tail, epochsPerSample };
}
