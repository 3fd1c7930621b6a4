// Plain TypeScript references for the optimizer updates (Keras's formulas), used only by tests.

export function adamReference(
  p: Float64Array, g: ArrayLike<number>, m: Float64Array, v: Float64Array, t: number,
  { learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7 } = {},
): void {
  const lrT = (learningRate * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
  for (let i = 0; i < p.length; i++) {
    m[i] = beta1 * m[i] + (1 - beta1) * g[i];
    v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
    p[i] -= (lrT * m[i]) / (Math.sqrt(v[i]) + epsilon);
  }
}

export function sgdReference(p: Float64Array, g: ArrayLike<number>, vel: Float64Array, { learningRate = 0.01, momentum = 0 } = {}): void {
  for (let i = 0; i < p.length; i++) {
    vel[i] = momentum * vel[i] - learningRate * g[i];
    p[i] += vel[i];
  }
}
