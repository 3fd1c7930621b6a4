// Plain TypeScript reference for l2Normalize over the last axis (float64 inside), used only by
// tests and benchmarks: y = x / sqrt(max(Σx², ε)); TensorFlow's gradient
// gx = (g − y·(g·y)) / norm where Σx² >= ε, and g / sqrt(ε) where the max picked ε.

function sumOfSquares(x: ArrayLike<number>, start: number, d: number): number {
  let ss = 0;
  for (let j = 0; j < d; j++) ss += x[start + j] * x[start + j];
  return ss;
}

export function l2NormalizeReference(x: ArrayLike<number>, d: number, epsilon = 1e-12): Float32Array {
  const y = new Float32Array(x.length);
  for (let r = 0; r * d < x.length; r++) {
    const norm = Math.sqrt(Math.max(sumOfSquares(x, r * d, d), epsilon));
    for (let j = 0; j < d; j++) y[r * d + j] = x[r * d + j] / norm;
  }
  return y;
}

export function l2NormalizeGradReference(x: ArrayLike<number>, g: ArrayLike<number>, d: number, epsilon = 1e-12): Float32Array {
  const gx = new Float32Array(x.length);
  for (let r = 0; r * d < x.length; r++) {
    const ss = sumOfSquares(x, r * d, d);
    const norm = Math.sqrt(Math.max(ss, epsilon));
    let gy = 0;
    for (let j = 0; j < d; j++) gy += g[r * d + j] * (x[r * d + j] / norm);
    for (let j = 0; j < d; j++) {
      const i = r * d + j;
      gx[i] = ss >= epsilon ? (g[i] - (x[i] / norm) * gy) / norm : g[i] / norm;
    }
  }
  return gx;
}
