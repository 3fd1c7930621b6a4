// Plain TypeScript reference for TF Addons' triplet_semihard_loss and triplet_hard_loss on a
// distance matrix, used only by tests and benches. It follows TF's graph literally: float32
// arithmetic (Math.fround) for every op TF does in float32, the masked extremes
//   masked_min(r, mask) = min((r − max r)·mask) + max r,  masked_max(r, mask) = max((r − min r)·mask) + min r
// over whole rows, one tile row per (anchor, positive) as TF's N²×N tile, and TF's gradient rules:
// reduce_min/reduce_max split the gradient equally among tied elements, Maximum(x, 0) passes it
// to x when x ≥ 0, tf.where to the chosen branch only. Returns the loss and dLoss/dDistances.

const f = Math.fround;

interface Extreme {
  value: number;
  /** Adds to grad (one row) the gradient of this extreme times g. */
  backward(g: number, grad: Float64Array, offset: number): void;
}

function reduce(values: number[], pick: (a: number, b: number) => number): { value: number; ties: boolean[]; count: number } {
  const value = values.reduce((x, y) => pick(x, y));
  const ties = values.map((v) => v === value);
  return { value, ties, count: ties.filter(Boolean).length };
}

/** TF's _masked_minimum over one row. */
function maskedMinimum(row: number[], mask: boolean[]): Extreme {
  const axisMax = reduce(row, Math.max);
  const v = row.map((r, j) => f(f(r - axisMax.value) * (mask[j] ? 1 : 0)));
  const min = reduce(v, Math.min);
  return {
    value: f(min.value + axisMax.value),
    backward(g, grad, offset) {
      let gAxis = g; // the "+ max r" term
      row.forEach((_, j) => {
        const gv = min.ties[j] ? g / min.count : 0;
        const m = mask[j] ? 1 : 0;
        grad[offset + j] += gv * m;
        gAxis -= gv * m;
      });
      row.forEach((_, j) => (grad[offset + j] += axisMax.ties[j] ? gAxis / axisMax.count : 0));
    },
  };
}

/** TF's _masked_maximum over one row. */
function maskedMaximum(row: number[], mask: boolean[]): Extreme {
  const axisMin = reduce(row, Math.min);
  const v = row.map((r, j) => f(f(r - axisMin.value) * (mask[j] ? 1 : 0)));
  const max = reduce(v, Math.max);
  return {
    value: f(max.value + axisMin.value),
    backward(g, grad, offset) {
      let gAxis = g;
      row.forEach((_, j) => {
        const gv = max.ties[j] ? g / max.count : 0;
        const m = mask[j] ? 1 : 0;
        grad[offset + j] += gv * m;
        gAxis -= gv * m;
      });
      row.forEach((_, j) => (grad[offset + j] += axisMin.ties[j] ? gAxis / axisMin.count : 0));
    },
  };
}

export interface TripletReferenceResult {
  /** NaN where TF's is (no positive pair). */
  loss: number;
  grad: Float64Array;
}

function rows(dist: ArrayLike<number>, n: number): number[][] {
  return Array.from({ length: n }, (_, a) => Array.from({ length: n }, (_, j) => f(dist[a * n + j])));
}

export function tripletSemiHardReference(dist: ArrayLike<number>, labels: ArrayLike<number>, n: number, margin: number): TripletReferenceResult {
  const d = rows(dist, n);
  const m32 = f(margin);
  const grad = new Float64Array(n * n);
  let numPositives = 0;
  for (let a = 0; a < n; a++) for (let p = 0; p < n; p++) if (p !== a && labels[a] === labels[p]) numPositives++;
  let sum = 0;
  const w = 1 / numPositives;
  for (let a = 0; a < n; a++) {
    const negative = d[a].map((_, j) => labels[j] !== labels[a]);
    for (let p = 0; p < n; p++) {
      if (p === a || labels[p] !== labels[a]) continue; // mask_positives kills every other (a, p)
      // Tile row (p, a): negatives of a farther than the positive.
      const mask = d[a].map((v, j) => negative[j] && v > d[a][p]);
      const semi = mask.some(Boolean) ? maskedMinimum(d[a], mask) : maskedMaximum(d[a], negative);
      const lossMat = f(m32 + f(d[a][p] - semi.value));
      if (lossMat < 0) continue;
      sum += lossMat;
      grad[a * n + p] += w;
      semi.backward(-w, grad, a * n);
    }
  }
  return { loss: sum / numPositives, grad };
}

export function tripletHardReference(dist: ArrayLike<number>, labels: ArrayLike<number>, n: number, margin: number, soft: boolean): TripletReferenceResult {
  const d = rows(dist, n);
  const m32 = f(margin);
  const grad = new Float64Array(n * n);
  let sum = 0;
  for (let a = 0; a < n; a++) {
    const negative = d[a].map((_, j) => labels[j] !== labels[a]);
    const positive = d[a].map((_, j) => j !== a && labels[j] === labels[a]);
    const hn = maskedMinimum(d[a], negative);
    const hp = maskedMaximum(d[a], positive);
    const x = f(hp.value - hn.value);
    let g: number;
    if (soft) {
      sum += x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
      g = 1 / (1 + Math.exp(-x));
    } else {
      const z = f(x + m32);
      sum += Math.max(z, 0);
      g = z >= 0 ? 1 : 0;
    }
    g /= n;
    if (g === 0) continue;
    hp.backward(g, grad, a * n);
    hn.backward(-g, grad, a * n);
  }
  return { loss: sum / n, grad };
}
