// Cross-check: the TF.js port of TF Addons' triplet_semihard_loss (bench/tfjs/triplet-loss.ts,
// differentiated by TF.js's autodiff on the cpu backend) and wasmgrad's tripletSemiHardLoss
// (its own kernels and backward) agree in value and in the gradient w.r.t. the embeddings.
// Two independent implementations agreeing validates both.

import { beforeAll, describe, expect, it } from "vitest";
import { Generator, tensor, tidy, tripletSemiHardLoss } from "../../src/index.js";
import { tf, useBackend } from "../../bench/tfjs/tf.js";
import { pairwiseDistance, tripletSemiHardLoss as tfjsTripletSemiHardLoss } from "../../bench/tfjs/triplet-loss.js";
import { expectClose, setup } from "../helpers/setup.js";

beforeAll(async () => {
  await setup();
  // Fails the whole file loudly when TF.js or its cpu backend cannot load.
  await useBackend("cpu");
});

/** Random embeddings [n, d] and labels of `classes` classes with each class at least twice. */
function randomCase(seed: number, n: number, d: number, classes: number, normalize: boolean) {
  const rng = new Generator(seed);
  const x = Float32Array.from({ length: n * d }, () => rng.uniform(-1, 1));
  if (normalize) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += x[i * d + j] ** 2;
      for (let j = 0; j < d; j++) x[i * d + j] /= Math.sqrt(s);
    }
  }
  const labels = Int32Array.from({ length: n }, (_, i) => (i < 2 * classes ? i % classes : rng.nextInt(classes)));
  return { x, labels };
}

function wasmgradLossAndGrad(x: Float32Array, labels: Int32Array, n: number, d: number, margin: number) {
  return tidy(() => {
    const e = tensor(x, [n, d], { requiresGrad: true });
    const loss = tripletSemiHardLoss(labels, e, { margin });
    const value = loss.item();
    loss.backward();
    return { value, grad: e.grad!.toArray() };
  });
}

function tfjsLossAndGrad(x: Float32Array, labels: Int32Array, n: number, d: number, margin: number) {
  return tf.tidy(() => {
    const y = tf.tensor1d(labels, "int32");
    const e = tf.tensor2d(x, [n, d]);
    const { value, grad } = tf.valueAndGrad((emb: tf.Tensor) => tfjsTripletSemiHardLoss(y, emb as tf.Tensor2D, margin))(e);
    return { value: value.dataSync()[0], grad: Float32Array.from(grad.dataSync()) };
  });
}

describe("TF.js port of TF Addons' triplet_semihard_loss vs wasmgrad", () => {
  it("runs on the cpu backend", () => {
    expect(tf.getBackend()).toBe("cpu");
  });

  it("pairwise_distance matches the definition, with exact zeros on the diagonal", () => {
    const { x } = randomCase(1, 5, 3, 2, false);
    const got = tf.tidy(() => pairwiseDistance(tf.tensor2d(x, [5, 3])).dataSync());
    const want: number[] = [];
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 5; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += (x[i * 3 + k] - x[j * 3 + k]) ** 2;
        want.push(i === j ? 0 : Math.sqrt(s));
      }
    }
    expectClose(got, want, 1e-5, 1e-5);
    for (let i = 0; i < 5; i++) expect(got[i * 5 + i]).toBe(0);
  });

  const cases = [
    { seed: 11, n: 16, d: 8, classes: 4, margin: 1, normalize: true },
    { seed: 12, n: 16, d: 8, classes: 3, margin: 1, normalize: true },
    { seed: 13, n: 16, d: 8, classes: 5, margin: 0.2, normalize: true },
    { seed: 14, n: 15, d: 7, classes: 4, margin: 1, normalize: false },
    { seed: 15, n: 12, d: 8, classes: 2, margin: 0.5, normalize: true },
  ];
  for (const c of cases) {
    it(`same value and gradient: N=${c.n}, D=${c.d}, ${c.classes} classes, margin ${c.margin}${c.normalize ? ", unit rows" : ""}`, () => {
      const { x, labels } = randomCase(c.seed, c.n, c.d, c.classes, c.normalize);
      const ours = wasmgradLossAndGrad(x, labels, c.n, c.d, c.margin);
      const theirs = tfjsLossAndGrad(x, labels, c.n, c.d, c.margin);
      expect(ours.value).toBeGreaterThan(0); // a case where the loss, and so the gradient, is live
      expect(Math.abs(ours.value - theirs.value)).toBeLessThanOrEqual(1e-5);
      expect(theirs.grad.some((g) => g !== 0)).toBe(true);
      expectClose(ours.grad, theirs.grad, 1e-5, 0);
    });
  }

  it("both mining branches occur in these cases (a semi-hard negative, and the fallback to the largest)", () => {
    // For the first case, count positive pairs with and without a negative farther than the positive.
    const c = cases[0];
    const { x, labels } = randomCase(c.seed, c.n, c.d, c.classes, c.normalize);
    const dist = tf.tidy(() => pairwiseDistance(tf.tensor2d(x, [c.n, c.d])).dataSync());
    let outside = 0;
    let inside = 0;
    for (let a = 0; a < c.n; a++) {
      for (let p = 0; p < c.n; p++) {
        if (p === a || labels[p] !== labels[a]) continue;
        let found = false;
        for (let q = 0; q < c.n; q++) if (labels[q] !== labels[a] && dist[a * c.n + q] > dist[a * c.n + p]) found = true;
        if (found) outside++;
        else inside++;
      }
    }
    expect(outside).toBeGreaterThan(0);
    expect(inside).toBeGreaterThan(0);
  });
});
