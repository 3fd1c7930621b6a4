// Triplet losses on a distance matrix (N x N) and integer labels, exactly as TF Addons'
// triplet_semihard_loss and triplet_hard_loss compute them after their distance step (values,
// and gradients including TF's equal split among tied extremes: see kernels/triplet.ts).
// The forward kernel also writes the gradient for a unit upstream gradient (O(N²) memory);
// the backward only scales it, in place.

import { kernels, memory } from "../../wasm/loader.js";
import { isGradEnabled, record } from "../tape.js";
import { Tensor } from "../tensor.js";

interface TripletKernels {
  triplet_semihard(dist: number, labels: number, n: number, margin: number, weight: number,
                   dgrad: number, wantGrad: number, keys: number, tmp: number, diff: number, hist: number): number;
  triplet_hard(dist: number, labels: number, n: number, margin: number, soft: number, weight: number,
               dgrad: number, wantGrad: number): number;
  triplet_scale(src: number, dst: number, m: number, s: number): void;
}

function checkDistances(op: string, dist: Tensor, labels: Int32Array): number {
  if (!(dist instanceof Tensor)) throw new Error(`${op}: distances must be a Tensor of shape [N, N], got ${String(dist)}`);
  if (dist.rank !== 2 || dist.shape[0] !== dist.shape[1]) {
    throw new Error(`${op}: distances have shape [${dist.shape}], expected a square matrix [N, N]`);
  }
  const n = dist.shape[0];
  if (labels.length !== n) throw new Error(`${op}: got ${labels.length} labels for ${n} embeddings, expected one label per embedding`);
  if (n === 0) throw new Error(`${op}: the batch is empty, expected at least one embedding`);
  return n;
}

/** Copies the labels into WebAssembly memory (int32) in a scratch tensor of the current scope. */
function labelsInMemory(labels: Int32Array): Tensor {
  const t = Tensor.empty([labels.length]);
  new Int32Array(memory().buffer, t.ptr, labels.length).set(labels);
  return t;
}

/** Number of ordered pairs (a, p), a ≠ p, with equal labels. */
export function countPositivePairs(labels: Int32Array): number {
  const counts = new Map<number, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  let pairs = 0;
  for (const c of counts.values()) pairs += c * (c - 1);
  return pairs;
}

function recordScaled(op: string, dist: Tensor, loss: Tensor, unitGrad: Tensor | null): void {
  if (!unitGrad) return;
  const k = kernels<TripletKernels>();
  record(op, [dist], loss, (gy) => {
    // A node's backward runs once (the tape is cleared after), so the unit gradient is scaled in place.
    const s = gy.item();
    if (s !== 1) k.triplet_scale(unitGrad.ptr, unitGrad.ptr, dist.size, s);
    return [unitGrad];
  });
}

/**
 * Semi-hard triplet loss of a distance matrix: the mean over positive pairs (a, p) of
 * max(margin + d(a,p) − d_neg, 0), d_neg the smallest d(a,n) over negatives with d(a,n) > d(a,p),
 * else TF's masked maximum over negatives. Scalar.
 *
 * Where TF returns NaN (no positive pair: 0/0) this returns 0, with a zero gradient.
 */
export function tripletSemiHardFromDistances(dist: Tensor, labels: Int32Array, margin: number): Tensor {
  const op = "tripletSemiHardLoss";
  const n = checkDistances(op, dist, labels);
  const k = kernels<TripletKernels>();
  const positives = countPositivePairs(labels);
  const wantGrad = dist.requiresGrad && isGradEnabled();
  const unitGrad = wantGrad ? Tensor.empty([n, n]) : null;
  const loss = Tensor.empty([]);
  if (positives === 0) {
    unitGrad?.view().fill(0);
    loss.view()[0] = 0;
  } else {
    const labelsMem = labelsInMemory(labels);
    // keys, tmp: n u64 each; diff: n + 1 f64; hist: 2048 i32. Sized in floats.
    const scratch = Tensor.empty([4 * n + 2 * (n + 1) + 2048]);
    const keys = scratch.ptr;
    const tmp = keys + 8 * n;
    const diff = tmp + 8 * n;
    const hist = diff + 8 * (n + 1);
    const weight = Math.fround(1 / positives);
    const total = k.triplet_semihard(dist.ptr, labelsMem.ptr, n, margin, weight,
      unitGrad ? unitGrad.ptr : 0, wantGrad ? 1 : 0, keys, tmp, diff, hist);
    loss.view()[0] = total / positives;
    scratch.dispose();
    labelsMem.dispose();
  }
  recordScaled(op, dist, loss, unitGrad);
  return loss;
}

/**
 * Hard triplet loss of a distance matrix: the mean over anchors of max(hp − hn + margin, 0), or
 * softplus(hp − hn) when soft, with hp the largest positive and hn the smallest negative distance
 * (TF's masked extremes: an anchor without positives gets the row minimum as hp, one without
 * negatives the row maximum as hn). Scalar.
 */
export function tripletHardFromDistances(dist: Tensor, labels: Int32Array, margin: number, soft: boolean): Tensor {
  const op = "tripletHardLoss";
  const n = checkDistances(op, dist, labels);
  const k = kernels<TripletKernels>();
  const wantGrad = dist.requiresGrad && isGradEnabled();
  const unitGrad = wantGrad ? Tensor.empty([n, n]) : null;
  const loss = Tensor.empty([]);
  const labelsMem = labelsInMemory(labels);
  const total = k.triplet_hard(dist.ptr, labelsMem.ptr, n, margin, soft ? 1 : 0, Math.fround(1 / n),
    unitGrad ? unitGrad.ptr : 0, wantGrad ? 1 : 0);
  labelsMem.dispose();
  loss.view()[0] = total / n;
  recordScaled(op, dist, loss, unitGrad);
  return loss;
}
