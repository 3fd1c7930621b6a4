// Every point's ranking of the others, in blocks of query rows: the GEMM computes a blockSize x N
// slab of dot products (never N x N), and each query's candidates become (key, index) doubles
// that plain numeric order sorts by distance, ties by index. Shared by the retrieval metrics and
// the exact k-nearest-neighbour lists that the UMAP picture starts from.

import { Tensor, tensor, tidy } from "../autograd/tensor.js";
import { gemm } from "../wasm/gemm.js";

export type RankingMetric = "L2" | "squared-L2" | "angular";

export interface RankingOptions {
  dim?: number;
  metric: RankingMetric;
  blockSize: number;
  /** The public function, for error messages. */
  owner: string;
}

/** (2^32 - 1) * n + n must stay below 2^53 for the packed (key, index) doubles to be exact. */
const MAX_POINTS = 2 ** 21;

/** Index of the candidate packed in `v` (see forEachRanking). */
export function indexOf(v: number, n: number): number {
  return v % n;
}

const keyScratch = new Float32Array(1);
const keyScratchBits = new Uint32Array(keyScratch.buffer);

/**
 * Per-row figures the ranking keys need: |e_j|² for the L2 metrics, 1/|e_j| for "angular" (0 for
 * a zero row). The GEMM always takes the raw rows: cosines come from raw dot products over
 * lengths in float64 rather than from normalized rows, so that pairs whose cosines are equal
 * (orthogonal ones above all) stay exactly equal whether the GEMM rounds a*b+c once (FMA) or twice.
 */
export function rowScales(x: Float32Array, n: number, dim: number, metric: RankingMetric): Float64Array {
  const out = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = j * dim, end = p + dim; p < end; p++) s += x[p] * x[p];
    out[j] = metric === "angular" ? (s > 0 ? 1 / Math.sqrt(s) : 0) : s;
  }
  return out;
}

/** The float32 ranking key of candidate j for query q, from their dot product (see rowScales). */
export function rankingKey(metric: RankingMetric, dot: number, scales: Float64Array, q: number, j: number): number {
  return Math.fround(metric === "angular" ? -dot * scales[q] * scales[j] : scales[j] - 2 * dot);
}

/** The float32 ranking key packed in `v` (see forEachRanking). */
export function keyOf(v: number, n: number): number {
  const sortable = Math.floor(v / n);
  keyScratchBits[0] = sortable >= 0x80000000 ? sortable - 0x80000000 : ~sortable >>> 0;
  return keyScratch[0];
}

/**
 * Calls `visit(q, packed, count)` for each query q in order, where packed[0, count) holds every
 * other point j as one float64, (sortable bits of its float32 key) * N + j: sorting these numbers
 * ranks candidates by distance, ties to the lower index. The key is |e_j|² − 2 q·e_j for the L2
 * metrics (the query's own |q|² is the same for all), −q·e_j/(|q||e_j|) for "angular" (zero rows
 * have similarity 0). `packed` is reused between calls.
 */
export function forEachRanking(
  embeddings: Float32Array | Tensor,
  options: RankingOptions,
  visit: (q: number, packed: Float64Array, count: number, norms: Float64Array | null) => void,
): void {
  const { data, n, dim } = readEmbeddings(embeddings, options.dim, options.owner);
  if (n > MAX_POINTS) throw new Error(`${options.owner}: ${n} embeddings, at most ${MAX_POINTS} are supported`);
  const metric = options.metric;
  const scales = rowScales(data(), n, dim, metric);
  const norms = metric === "angular" ? null : scales;
  const key32 = new Float32Array(n);
  const keyBits = new Uint32Array(key32.buffer);
  const packed = new Float64Array(n);
  const blockSize = options.blockSize;
  tidy(() => {
    const e = embeddings instanceof Tensor ? embeddings : tensor(data(), [n, dim]);
    const block = Tensor.empty([Math.min(blockSize, n), n]);
    for (let q0 = 0; q0 < n; q0 += blockSize) {
      const m = Math.min(blockSize, n - q0);
      gemm({ a: e.ptr + q0 * dim * 4, b: e, c: block, m, n, k: dim, transB: true });
      for (let r = 0; r < m; r++) {
        const q = q0 + r;
        // A fresh view per query: `visit` may allocate and grow memory.
        const dots = block.view();
        const base = r * n;
        for (let j = 0; j < n; j++) key32[j] = rankingKey(metric, dots[base + j], scales, q, j);
        let c = 0;
        for (let j = 0; j < n; j++) {
          if (j === q) continue;
          const bits = keyBits[j];
          // Negative floats reversed below the positive ones; -0 (0x80000000) is +0.
          const sortable = bits > 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
          packed[c++] = sortable * n + j;
        }
        visit(q, packed, c, norms);
      }
    }
  });
}

/** The embeddings as a getter of their values (a Tensor's view must be made fresh), N and dim. */
export function readEmbeddings(embeddings: Float32Array | Tensor, dimOption: number | undefined, owner: string) {
  if (embeddings instanceof Tensor) {
    const shape = embeddings.shape;
    const dim = dimOption ?? (shape.length === 2 ? shape[1] : undefined);
    if (dim === undefined) {
      throw new Error(`${owner}: embeddings tensor has shape [${shape}], expected [N, dim] or the dim option`);
    }
    checkDim(owner, dim, embeddings.size);
    return { data: () => embeddings.view(), n: embeddings.size / dim, dim };
  }
  if (!(embeddings instanceof Float32Array)) {
    throw new Error(`${owner}: embeddings must be a Float32Array (N x dim, row-major) or a Tensor`);
  }
  if (dimOption === undefined) throw new Error(`${owner}: the dim option is required for a Float32Array of embeddings`);
  checkDim(owner, dimOption, embeddings.length);
  return { data: () => embeddings, n: embeddings.length / dimOption, dim: dimOption };
}

function checkDim(owner: string, dim: number, length: number): void {
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`${owner}: dim must be a positive integer, got ${dim}`);
  if (length % dim !== 0) {
    throw new Error(`${owner}: embeddings length ${length} is not divisible by dim ${dim}, expected N x ${dim} values`);
  }
}
