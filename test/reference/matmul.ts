// Plain TypeScript references for matmul and the raw GEMM (row-major), summed in float64,
// used only by tests and the bench.

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

export interface GemmReferenceArgs {
  /** (m x k), or (k x m) when transA. */
  a: ArrayLike<number>;
  /** (k x n), or (n x k) when transB. */
  b: ArrayLike<number>;
  /** Initial C (m x n), used when accumulate. */
  c?: ArrayLike<number>;
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  accumulate?: boolean;
  /** n values added to every row. */
  bias?: ArrayLike<number>;
  relu?: boolean;
}

/** C = op(A)·op(B) [+ C] [+ bias] [relu], straight from the definition. */
export function gemmReference(args: GemmReferenceArgs): Float32Array {
  const { a, b, m, n, k } = args;
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const av = args.transA ? a[p * m + i] : a[i * k + p];
        const bv = args.transB ? b[j * k + p] : b[p * n + j];
        s += av * bv;
      }
      if (args.accumulate) s += args.c![i * n + j];
      if (args.bias) s += args.bias[j];
      if (args.relu) s = Math.max(s, 0);
      out[i * n + j] = s;
    }
  return out;
}
