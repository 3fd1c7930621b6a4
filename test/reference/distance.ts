// Plain TypeScript references for pairwiseDistance and angularDistance (float64, straight from
// the definitions), used only by tests and benches. x is (n x d) row-major.

/** ‖x_i − x_j‖ (or its square); the diagonal is 0. */
export function pairwiseDistanceReference(x: ArrayLike<number>, n: number, d: number, squared = false): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      let s = 0;
      for (let k = 0; k < d; k++) s += (x[i * d + k] - x[j * d + k]) ** 2;
      out[i * n + j] = squared ? s : Math.sqrt(s);
    }
  return out;
}

/** max(1 − cos(x_i, x_j), 0), rows normalized by sqrt(max(‖x‖², 1e-12)); the diagonal included. */
export function angularDistanceReference(x: ArrayLike<number>, n: number, d: number): Float64Array {
  const xh = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += x[i * d + k] ** 2;
    const inv = 1 / Math.sqrt(Math.max(s, 1e-12));
    for (let k = 0; k < d; k++) xh[i * d + k] = x[i * d + k] * inv;
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let c = 0;
      for (let k = 0; k < d; k++) c += xh[i * d + k] * xh[j * d + k];
      out[i * n + j] = Math.max(1 - c, 0);
    }
  return out;
}
