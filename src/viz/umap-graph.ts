// UMAP's fuzzy simplicial set (McInnes et al. 2018, section 3; umap-learn's smooth_knn_dist,
// compute_membership_strengths and fuzzy_simplicial_set) from exact k-nearest-neighbour lists,
// over typed arrays: O(N·k) memory, a CSR matrix, and the transpose by counting sort.

/** umap-learn's constants: the bisection's stopping distance to the target and its floor on sigma. */
const SMOOTH_K_TOLERANCE = 1e-5;
const MIN_K_DIST_SCALE = 1e-3;
const BISECTION_STEPS = 64;

/** A sparse N x N matrix in compressed rows: row i's entries are [rowStart[i], rowStart[i + 1]). */
export interface CsrGraph {
  n: number;
  rowStart: Int32Array;
  columns: Int32Array;
  weights: Float32Array;
}

/**
 * Per point, rho (distance to the nearest neighbour at a positive distance) and sigma such that
 * sum over the k - 1 neighbours after the first of exp(-max(0, d - rho) / sigma) = log2(k),
 * by bisection (umap-learn's smooth_knn_dist with local_connectivity 1), sigma floored at
 * 1e-3 times the mean distance of the row (or of all rows when rho is 0).
 * `distances` is N x k, row-major, each row ascending with the point itself first.
 */
export function smoothKnnDistances(distances: Float32Array, k: number): { sigmas: Float32Array; rhos: Float32Array } {
  const n = distances.length / k;
  const target = Math.log2(k);
  const sigmas = new Float32Array(n);
  const rhos = new Float32Array(n);
  let total = 0;
  for (let p = 0; p < distances.length; p++) total += distances[p];
  const meanDistance = total / distances.length;
  for (let i = 0; i < n; i++) {
    const row = i * k;
    let rho = 0;
    let rowSum = 0;
    for (let j = 0; j < k; j++) {
      const d = distances[row + j];
      rowSum += d;
      if (rho === 0 && d > 0) rho = d;
    }
    rhos[i] = rho;
    const rhoF = rhos[i];
    let lo = 0;
    let hi = Infinity;
    let mid = 1;
    for (let step = 0; step < BISECTION_STEPS; step++) {
      let sum = 0;
      for (let j = 1; j < k; j++) {
        const d = distances[row + j] - rhoF;
        sum += d > 0 ? Math.exp(-d / mid) : 1;
      }
      if (Math.abs(sum - target) < SMOOTH_K_TOLERANCE) break;
      if (sum > target) {
        hi = mid;
        mid = (lo + hi) / 2;
      } else {
        lo = mid;
        mid = hi === Infinity ? mid * 2 : (lo + hi) / 2;
      }
    }
    const floor = MIN_K_DIST_SCALE * (rhoF > 0 ? rowSum / k : meanDistance);
    sigmas[i] = Math.max(mid, floor);
  }
  return { sigmas, rhos };
}

/**
 * The fuzzy union W + Wᵀ − W∘Wᵀ of the membership strengths
 * W[i, j] = exp(-max(0, d(i, j) − rho_i) / sigma_i) over i's k nearest neighbours j ≠ i
 * (1 where sigma_i is 0). Rows come out with ascending columns and no zero entries.
 * `indices`/`distances` are N x k, row-major, each row ascending with the point itself first.
 */
export function fuzzySimplicialSet(indices: Int32Array, distances: Float32Array, k: number): CsrGraph {
  const n = distances.length / k;
  const { sigmas, rhos } = smoothKnnDistances(distances, k);

  // W, one row of k slots per point (the point itself and vanishing strengths hold 0).
  const strengths = new Float32Array(n * k);
  const inDegree = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    for (let p = i * k; p < (i + 1) * k; p++) {
      const j = indices[p];
      if (j === i) continue;
      const d = distances[p] - rhos[i];
      strengths[p] = d <= 0 || sigmas[i] === 0 ? 1 : Math.exp(-d / sigmas[i]);
      if (strengths[p] > 0) inDegree[j + 1]++;
    }
  }

  // Wᵀ by counting sort on the column: row j lists the i with W[i, j] > 0, in ascending i.
  const transposeStart = prefixSums(inDegree);
  const transposeColumns = new Int32Array(transposeStart[n]);
  const transposeWeights = new Float32Array(transposeStart[n]);
  const fill = transposeStart.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let p = i * k; p < (i + 1) * k; p++) {
      if (strengths[p] === 0) continue;
      const q = fill[indices[p]]++;
      transposeColumns[q] = i;
      transposeWeights[q] = strengths[p];
    }
  }

  // The union row by row: W's entries first, then Wᵀ's, merged through a per-row stamp of columns.
  const capacity = 2 * transposeStart[n];
  const unionStart = new Int32Array(n + 1);
  const unionColumns = new Int32Array(capacity);
  const unionWeights = new Float32Array(capacity);
  const stamp = new Int32Array(n).fill(-1);
  const slot = new Int32Array(n);
  let size = 0;
  for (let i = 0; i < n; i++) {
    for (let p = i * k; p < (i + 1) * k; p++) {
      if (strengths[p] === 0) continue;
      const j = indices[p];
      stamp[j] = i;
      slot[j] = size;
      unionColumns[size] = j;
      unionWeights[size++] = strengths[p];
    }
    for (let q = transposeStart[i]; q < transposeStart[i + 1]; q++) {
      const j = transposeColumns[q];
      const t = transposeWeights[q];
      if (stamp[j] === i) {
        const w = unionWeights[slot[j]];
        unionWeights[slot[j]] = w + t - w * t;
      } else {
        unionColumns[size] = j;
        unionWeights[size++] = t;
      }
    }
    unionStart[i + 1] = size;
  }
  // The union is symmetric, so its transpose (by counting sort again) is itself with sorted rows.
  return transpose({ n, rowStart: unionStart, columns: unionColumns, weights: unionWeights });
}

/** Aᵀ by counting sort on the column, dropping zero entries: rows come out with ascending columns. */
export function transpose(graph: CsrGraph): CsrGraph {
  const { n, rowStart, columns, weights } = graph;
  const counts = new Int32Array(n + 1);
  for (let p = 0; p < rowStart[n]; p++) if (weights[p] !== 0) counts[columns[p] + 1]++;
  const start = prefixSums(counts);
  const outColumns = new Int32Array(start[n]);
  const outWeights = new Float32Array(start[n]);
  const fill = start.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let p = rowStart[i]; p < rowStart[i + 1]; p++) {
      if (weights[p] === 0) continue;
      const q = fill[columns[p]]++;
      outColumns[q] = i;
      outWeights[q] = weights[p];
    }
  }
  return { n, rowStart: start, columns: outColumns, weights: outWeights };
}

/** In place: counts[i + 1] becomes counts[0] + ... + counts[i + 1]. */
function prefixSums(counts: Int32Array): Int32Array {
  for (let i = 1; i < counts.length; i++) counts[i] += counts[i - 1];
  return counts;
}
