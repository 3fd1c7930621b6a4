// Plain TypeScript reference for dense: y = act(x·W + b), x [rows, in], W [in, out], b [out].
// Used only by tests and the bench.

export function denseReference(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null,
  rows: number, inputs: number, outputs: number, activation: "linear" | "relu" = "linear"): Float32Array {
  const y = new Float32Array(rows * outputs);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outputs; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < inputs; i++) s += x[r * inputs + i] * w[i * outputs + o];
      y[r * outputs + o] = activation === "relu" ? Math.max(s, 0) : s;
    }
  return y;
}

/** Column sums of dy [rows, cols]: the bias gradient. */
export function columnSumsReference(dy: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const s = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) s[c] += dy[r * cols + c];
  return Float32Array.from(s);
}
