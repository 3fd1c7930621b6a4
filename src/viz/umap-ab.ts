// UMAP's low-dimensional similarity 1 / (1 + a·d^(2b)): a and b fitted by least squares to the
// curve that is 1 up to minDist and exp(-(d - minDist) / spread) beyond (umap-learn's
// find_ab_params, which calls scipy's curve_fit: Levenberg-Marquardt from a = b = 1, as here).

/** Samples of the target curve umap-learn fits: 300 points evenly over [0, 3·spread]. */
const SAMPLES = 300;

/** The a, b of 1 / (1 + a·d^(2b)) closest (least squares) to UMAP's piecewise curve for minDist and spread. */
export function findAbParams(spread: number, minDist: number): { a: number; b: number } {
  const xs = new Float64Array(SAMPLES);
  const ys = new Float64Array(SAMPLES);
  const logs = new Float64Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) {
    const x = (3 * spread * i) / (SAMPLES - 1);
    xs[i] = x;
    ys[i] = x < minDist ? 1 : Math.exp(-(x - minDist) / spread);
    logs[i] = x > 0 ? Math.log(x) : 0;
  }
  const cost = (a: number, b: number) => {
    let s = 0;
    for (let i = 0; i < SAMPLES; i++) {
      const u = xs[i] > 0 ? Math.exp(2 * b * logs[i]) : 0;
      const r = 1 / (1 + a * u) - ys[i];
      s += r * r;
    }
    return s;
  };
  let a = 1;
  let b = 1;
  let current = cost(a, b);
  let lambda = 1e-3;
  for (let iteration = 0; iteration < 200; iteration++) {
    // Normal equations J^T J δ = -J^T r of the residuals r = f(x; a, b) - y.
    let jaa = 0, jab = 0, jbb = 0, ga = 0, gb = 0;
    for (let i = 0; i < SAMPLES; i++) {
      // f(0) = 1 for every a, b: a zero residual and no gradient.
      if (xs[i] === 0) continue;
      const u = Math.exp(2 * b * logs[i]);
      const f = 1 / (1 + a * u);
      const r = f - ys[i];
      const da = -u * f * f;
      const db = -2 * a * u * logs[i] * f * f;
      jaa += da * da;
      jab += da * db;
      jbb += db * db;
      ga += da * r;
      gb += db * r;
    }
    let improved = false;
    for (let tries = 0; tries < 30 && !improved; tries++) {
      const maa = jaa * (1 + lambda);
      const mbb = jbb * (1 + lambda);
      const det = maa * mbb - jab * jab;
      const stepA = (-ga * mbb + gb * jab) / det;
      const stepB = (-gb * maa + ga * jab) / det;
      const trial = cost(a + stepA, b + stepB);
      if (Number.isFinite(trial) && trial <= current) {
        const converged = Math.abs(stepA) <= 1e-12 * (1 + Math.abs(a)) && Math.abs(stepB) <= 1e-12 * (1 + Math.abs(b));
        a += stepA;
        b += stepB;
        const relativeGain = (current - trial) / Math.max(current, 1e-300);
        current = trial;
        lambda = Math.max(lambda / 10, 1e-12);
        improved = true;
        if (converged || relativeGain < 1e-15) return { a, b };
      } else {
        lambda *= 10;
      }
    }
    if (!improved) break;
  }
  return { a, b };
}
