// Plain TypeScript reference for matmul (row-major), in float64, used only by tests.
export function matmulReference(a: ArrayLike<number>, b: ArrayLike<number>, m: number, n: number, k: number): Float32Array {
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      c[i * n + j] = s;
    }
  return c;
}
