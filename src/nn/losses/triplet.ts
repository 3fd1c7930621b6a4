// Triplet losses of TF Addons (tfa.losses.triplet_semihard_loss / triplet_hard_loss and the
// TripletSemiHardLoss / TripletHardLoss classes): the distance metric's (N, N) matrix is computed
// on the tape, then the loss op (src/autograd/ops/triplet.ts) mines the triplets.

import { angularDistance, pairwiseDistance } from "../../autograd/ops/distance.js";
import { tripletHardFromDistances, tripletSemiHardFromDistances } from "../../autograd/ops/triplet.js";
import { noGrad } from "../../autograd/tape.js";
import { Tensor, tidy } from "../../autograd/tensor.js";

/** "L2": Euclidean; "squared-L2": squared Euclidean; "angular": 1 − cosine similarity; or a function. */
export type DistanceMetric = "L2" | "squared-L2" | "angular" | ((embeddings: Tensor) => Tensor);

/** Integer class labels, one per embedding: an array, or a Tensor of shape [N] or [N, 1]. */
export type TripletLabels = Int32Array | readonly number[] | ArrayLike<number> | Tensor;

export interface TripletSemiHardOptions {
  /** Default 1. */
  margin?: number;
  /** Default "L2". */
  distanceMetric?: DistanceMetric;
}

export interface TripletHardOptions extends TripletSemiHardOptions {
  /** Use softplus(hp − hn) instead of the hinge with margin (default false). */
  soft?: boolean;
}

function toLabels(op: string, labels: TripletLabels): Int32Array {
  let values: ArrayLike<number>;
  if (labels instanceof Tensor) {
    const ok = labels.rank === 1 || (labels.rank === 2 && labels.shape[1] === 1);
    if (!ok) throw new Error(`${op}: labels tensor has shape [${labels.shape}], expected [N] or [N, 1]`);
    values = labels.toArray();
  } else if (labels && typeof (labels as ArrayLike<number>).length === "number") {
    values = labels as ArrayLike<number>;
  } else {
    throw new Error(`${op}: labels must be an Int32Array, an array of integers or a Tensor, got ${String(labels)}`);
  }
  if (values instanceof Int32Array) return values;
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
      throw new Error(`${op}: label ${i} is ${v}, expected a 32-bit integer class label`);
    }
    out[i] = v;
  }
  return out;
}

function distances(op: string, embeddings: Tensor, metric: DistanceMetric): Tensor {
  if (!(embeddings instanceof Tensor) || embeddings.rank !== 2) {
    throw new Error(`${op}: embeddings must be a Tensor of shape [N, D], got ${embeddings instanceof Tensor ? `shape [${embeddings.shape}]` : String(embeddings)}`);
  }
  const n = embeddings.shape[0];
  let dist: Tensor;
  if (metric === "L2") dist = pairwiseDistance(embeddings);
  else if (metric === "squared-L2") dist = pairwiseDistance(embeddings, { squared: true });
  else if (metric === "angular") dist = angularDistance(embeddings);
  else if (typeof metric === "function") dist = metric(embeddings);
  else throw new Error(`${op}: unknown distanceMetric ${JSON.stringify(metric)}, expected "L2", "squared-L2", "angular" or a function`);
  if (!(dist instanceof Tensor) || dist.rank !== 2 || dist.shape[0] !== n || dist.shape[1] !== n) {
    throw new Error(`${op}: the distance function returned ${dist instanceof Tensor ? `shape [${dist.shape}]` : String(dist)}, expected a Tensor [${n}, ${n}]`);
  }
  return dist;
}

function checkMargin(op: string, margin: number): number {
  if (typeof margin !== "number" || !Number.isFinite(margin)) throw new Error(`${op}: margin is ${margin}, expected a finite number`);
  return margin;
}

/**
 * Triplet loss with semi-hard negative mining (TF Addons' triplet_semihard_loss): for every
 * anchor a and positive p (same label, p ≠ a), the negative distance is the smallest d(a,n) over
 * negatives with d(a,n) > d(a,p), else the largest d(a,n) over negatives (TF's masked maximum: the
 * row minimum when there is no negative). Loss: mean over positive pairs of
 * max(margin + d(a,p) − d_neg, 0). Gradients flow through d(a,p) and the chosen d_neg.
 *
 * Unlike TF, which returns NaN (0/0) when the batch has no positive pair, this returns 0 with a
 * zero gradient.
 */
export function tripletSemiHardLoss(labels: TripletLabels, embeddings: Tensor, options: TripletSemiHardOptions = {}): Tensor {
  const op = "tripletSemiHardLoss";
  const { margin = 1.0, distanceMetric = "L2" } = options;
  checkMargin(op, margin);
  const ids = toLabels(op, labels);
  const dist = distances(op, embeddings, distanceMetric);
  return tripletSemiHardFromDistances(dist, ids, margin);
}

/**
 * Triplet loss with hard positive and hard negative mining (TF Addons' triplet_hard_loss): per
 * anchor, hp = largest positive distance, hn = smallest negative distance (TF's masked extremes:
 * the row minimum as hp without positives, the row maximum as hn without negatives); loss = mean
 * over anchors of max(hp − hn + margin, 0), or with `soft` of log1p(exp(hp − hn)) (a stable softplus).
 */
export function tripletHardLoss(labels: TripletLabels, embeddings: Tensor, options: TripletHardOptions = {}): Tensor {
  const op = "tripletHardLoss";
  const { margin = 1.0, soft = false, distanceMetric = "L2" } = options;
  checkMargin(op, margin);
  const ids = toLabels(op, labels);
  const dist = distances(op, embeddings, distanceMetric);
  return tripletHardFromDistances(dist, ids, margin, soft);
}

/** Figures about one batch under the semi-hard loss (see `tripletSemiHardDiagnostics`). */
export interface TripletDiagnostics {
  /** Share of positive pairs (a, p) whose loss max(margin + d(a,p) − d_neg, 0) is above 0. */
  activeFraction: number;
  /** Mean d(a, p) over positive pairs. */
  meanPositiveDistance: number;
  /** Mean of the negative distance the semi-hard mining chose, over positive pairs. */
  meanNegativeDistance: number;
  /** Share of distinct pairs (a, b) at distance ≤ 1e-6: near 1 when the embeddings collapsed. */
  zeroDistanceFraction: number;
  /** Number of positive pairs the figures are over. */
  positivePairs: number;
}

/** Distances at most this are counted as zero (float32 noise of coincident points). */
const ZERO_DISTANCE = 1e-6;

/**
 * The semi-hard mining's figures for a batch, computed without the tape from the distance matrix
 * read back once (O(N²·N) in plain TypeScript: a few microseconds at N = 32). Null when the batch
 * has no positive pair. Mining as `tripletSemiHardLoss`: the smallest d(a,n) > d(a,p), else the
 * largest d(a,n) (the row minimum when there is no negative).
 */
export function tripletSemiHardDiagnostics(labels: TripletLabels, embeddings: Tensor, options: TripletSemiHardOptions = {}): TripletDiagnostics | null {
  const op = "tripletSemiHardDiagnostics";
  const { margin = 1.0, distanceMetric = "L2" } = options;
  checkMargin(op, margin);
  const ids = toLabels(op, labels);
  const n = embeddings instanceof Tensor ? embeddings.shape[0] : 0;
  if (ids.length !== n) throw new Error(`${op}: got ${ids.length} labels for ${n} embeddings, expected one label per embedding`);
  const d = tidy(() => noGrad(() => distances(op, embeddings, distanceMetric).toArray()));
  let pairs = 0;
  let active = 0;
  let sumPositive = 0;
  let sumNegative = 0;
  let zeros = 0;
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) if (d[a * n + b] <= ZERO_DISTANCE) zeros++;
    let rowMin = Infinity;
    for (let j = 0; j < n; j++) rowMin = Math.min(rowMin, d[a * n + j]);
    for (let p = 0; p < n; p++) {
      if (p === a || ids[p] !== ids[a]) continue;
      const dap = d[a * n + p];
      let semiHard = Infinity;
      let hardest = -Infinity;
      for (let j = 0; j < n; j++) {
        if (ids[j] === ids[a]) continue;
        const dan = d[a * n + j];
        if (dan > dap && dan < semiHard) semiHard = dan;
        if (dan > hardest) hardest = dan;
      }
      const negative = semiHard !== Infinity ? semiHard : hardest !== -Infinity ? hardest : rowMin;
      pairs++;
      sumPositive += dap;
      sumNegative += negative;
      if (margin + dap - negative > 0) active++;
    }
  }
  if (pairs === 0) return null;
  const distinct = (n * (n - 1)) / 2;
  return {
    activeFraction: active / pairs,
    meanPositiveDistance: sumPositive / pairs,
    meanNegativeDistance: sumNegative / pairs,
    zeroDistanceFraction: distinct > 0 ? zeros / distinct : 0,
    positivePairs: pairs,
  };
}

/**
 * A warning when an epoch's mean loss sits at the margin (within 1 %): every triplet gives
 * margin + d(a,p) − d(a,n) with d(a,p) ≈ d(a,n), which is what collapsed embeddings (every
 * example mapped to one point) look like. Null otherwise.
 */
export function tripletCollapseWarning(diagnostics: Partial<TripletDiagnostics>, meanLoss: number, margin: number): string | null {
  if (!(margin > 0) || !Number.isFinite(meanLoss) || Math.abs(meanLoss - margin) > 0.01 * margin) return null;
  const zero = diagnostics.zeroDistanceFraction;
  const share = zero === undefined ? "" : ` (${(100 * zero).toFixed(0)} % of pairwise distances are zero)`;
  const collapsed = zero !== undefined && zero >= 0.5;
  return `the loss ${meanLoss.toFixed(4)} sits at the margin ${margin}${share}: ${collapsed ? "the embeddings have collapsed to one point" : "d(a,p) ≈ d(a,n), the embeddings do not separate the classes"}; try a lower learning rate, or check the labels and the data`;
}

function metricConfig(className: string, metric: DistanceMetric): string {
  if (typeof metric === "function") {
    throw new Error(`${className}: a custom distanceMetric function cannot be serialized; use "L2", "squared-L2" or "angular"`);
  }
  return metric;
}

export interface TripletSemiHardLossConfig {
  margin?: number;
  distanceMetric?: DistanceMetric;
  name?: string;
}

export interface TripletHardLossConfig extends TripletSemiHardLossConfig {
  soft?: boolean;
}

/** The semi-hard triplet loss as an object (Keras's TripletSemiHardLoss): `call(labels, embeddings)`. */
export class TripletSemiHardLoss {
  readonly className = "TripletSemiHardLoss";
  readonly name: string;
  readonly margin: number;
  readonly distanceMetric: DistanceMetric;

  constructor(config: TripletSemiHardLossConfig = {}) {
    this.margin = checkMargin(this.className, config.margin ?? 1.0);
    this.distanceMetric = config.distanceMetric ?? "L2";
    this.name = config.name ?? "triplet_semihard_loss";
  }

  call(labels: TripletLabels, embeddings: Tensor): Tensor {
    return tripletSemiHardLoss(labels, embeddings, { margin: this.margin, distanceMetric: this.distanceMetric });
  }

  /** The semi-hard mining's figures for a batch (for `fit`'s per-epoch report); no tape. */
  diagnostics(labels: TripletLabels, embeddings: Tensor): Record<string, number> | null {
    const d = tripletSemiHardDiagnostics(labels, embeddings, { margin: this.margin, distanceMetric: this.distanceMetric });
    return d ? { ...d } : null;
  }

  /** A warning when an epoch's mean loss sits at the margin (collapsed embeddings). */
  diagnosticsWarning(diagnostics: Record<string, number>, meanLoss: number): string | null {
    return tripletCollapseWarning(diagnostics, meanLoss, this.margin);
  }

  getConfig(): { margin: number; distanceMetric: string; name: string } {
    return { margin: this.margin, distanceMetric: metricConfig(this.className, this.distanceMetric), name: this.name };
  }

  get config(): { margin: number; distanceMetric: string; name: string } {
    return this.getConfig();
  }

  toJSON(): { className: string; config: ReturnType<TripletSemiHardLoss["getConfig"]> } {
    return { className: this.className, config: this.getConfig() };
  }

  static fromConfig(config: TripletSemiHardLossConfig): TripletSemiHardLoss {
    return new TripletSemiHardLoss(config);
  }
}

/** The hard triplet loss as an object (Keras's TripletHardLoss): `call(labels, embeddings)`. */
export class TripletHardLoss {
  readonly className = "TripletHardLoss";
  readonly name: string;
  readonly margin: number;
  readonly soft: boolean;
  readonly distanceMetric: DistanceMetric;

  constructor(config: TripletHardLossConfig = {}) {
    this.margin = checkMargin(this.className, config.margin ?? 1.0);
    this.soft = config.soft ?? false;
    this.distanceMetric = config.distanceMetric ?? "L2";
    this.name = config.name ?? "triplet_hard_loss";
  }

  call(labels: TripletLabels, embeddings: Tensor): Tensor {
    return tripletHardLoss(labels, embeddings, { margin: this.margin, soft: this.soft, distanceMetric: this.distanceMetric });
  }

  getConfig(): { margin: number; soft: boolean; distanceMetric: string; name: string } {
    return { margin: this.margin, soft: this.soft, distanceMetric: metricConfig(this.className, this.distanceMetric), name: this.name };
  }

  get config(): { margin: number; soft: boolean; distanceMetric: string; name: string } {
    return this.getConfig();
  }

  toJSON(): { className: string; config: ReturnType<TripletHardLoss["getConfig"]> } {
    return { className: this.className, config: this.getConfig() };
  }

  static fromConfig(config: TripletHardLossConfig): TripletHardLoss {
    return new TripletHardLoss(config);
  }
}
