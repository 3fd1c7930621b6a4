import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  angularDistance, gradcheck, noGrad, pairwiseDistance, Tensor, tensor, tidy, TripletHardLoss, tripletHardLoss, TripletSemiHardLoss, tripletSemiHardLoss,
} from "../../../src/index.js";
import type { DistanceMetric } from "../../../src/index.js";
import { tripletHardFromDistances, tripletSemiHardFromDistances } from "../../../src/autograd/ops/triplet.js";
import { tripletHardReference, tripletSemiHardReference } from "../../reference/triplet.js";
import { expectClose, setup } from "../../helpers/setup.js";

beforeAll(setup);

const sqrt5 = Math.sqrt(5);
const sqrt13 = Math.sqrt(13);
const softplus = (x: number) => Math.log1p(Math.exp(x));

// Points (0,0) (1,0) | (0,2) (3,0), labels 0 0 1 1. L2 distances:
// d01 = 1, d02 = 2, d03 = 3, d12 = √5 ≈ 2.236, d13 = 2, d23 = √13 ≈ 3.606.
const points = [0, 0, 1, 0, 0, 2, 3, 0];
const labels4 = [0, 0, 1, 1];

/** Runs the loss op on `dist` as a leaf; returns its value and dLoss/dDist. */
function onDistances(fn: (d: Tensor) => Tensor, dist: ArrayLike<number>, n: number) {
  return tidy(() => {
    const d = tensor(dist, [n, n], { requiresGrad: true });
    const loss = fn(d);
    const value = loss.item();
    loss.backward();
    return { value, grad: d.grad!.toArray() };
  });
}

describe("tripletSemiHardLoss: hand-computed", () => {
  it("margin 0.5: only the anchors without a farther negative lose", () =>
    tidy(() => {
      // 4 positive pairs. (0,1): negatives of 0 farther than 1 are 2 and 3, smallest 2: 0.5+1−2 < 0 → 0.
      // (1,0): negatives √5, 2, smallest 2 → 0. (2,3): d_ap = √13, no negative farther (2, √5): the
      // largest, √5: 0.5+√13−√5. (3,2): negatives 3, 2, none farther: largest 3: 0.5+√13−3.
      const x = tensor(points, [4, 2]);
      const expected = (0.5 + sqrt13 - sqrt5 + 0.5 + sqrt13 - 3) / 4;
      expect(tripletSemiHardLoss(labels4, x, { margin: 0.5 }).item()).toBeCloseTo(expected, 6);
    }));

  it("margin 1.5: semi-hard negatives for the first class", () =>
    tidy(() => {
      // (0,1): 1.5+1−2 = 0.5; (1,0): 1.5+1−2 = 0.5; (2,3): 1.5+√13−√5; (3,2): 1.5+√13−3.
      const x = tensor(points, [4, 2]);
      const expected = (0.5 + 0.5 + 1.5 + sqrt13 - sqrt5 + 1.5 + sqrt13 - 3) / 4;
      expect(tripletSemiHardLoss(labels4, x, { margin: 1.5 }).item()).toBeCloseTo(expected, 6);
    }));

  it("squared-L2 and angular metrics", () =>
    tidy(() => {
      const x = tensor(points, [4, 2]);
      // squared: d01 = 1, d02 = 4, d03 = 9, d12 = 5, d13 = 4, d23 = 13. margin 1:
      // (0,1): farther negatives 4, 9 → 1+1−4 < 0. (1,0): 5, 4 → 4: 1+1−4 < 0.
      // (2,3): 13 vs negatives 4, 5: none farther → 5: 1+13−5 = 9. (3,2): 9, 4 → 9: 1+13−9 = 5.
      expect(tripletSemiHardLoss(labels4, x, { distanceMetric: "squared-L2" }).item()).toBeCloseTo((9 + 5) / 4, 5);
      // angular: directions (0,0)→ zero row: cos 0 with all, d = 1 (diagonal too); (1,0),(0,1),(1,0).
      // row 0: [1,1,1,1]; row 1: [1,0,1,0]; row 2: [1,1,0,1]; row 3: [1,0,1,0].
      // (0,1): d_ap 1, negatives 1, 1: none farther → largest 1: 1+1−1 = 1. (1,0): 1, negatives
      // d12 = 1, d13 = 0: none farther → 1: 1+1−1 = 1. (2,3): 1 vs 1, 1 → 1: 1. (3,2): 1 vs d30 = 1,
      // d31 = 0 → 1: 1. Loss 1.
      expect(tripletSemiHardLoss(labels4, x, { distanceMetric: "angular" }).item()).toBeCloseTo(1, 6);
    }));

  it("gradient w.r.t. the distances: +w on d(a,p), −w on the chosen negative", () => {
    // margin 0.5, L2 distances: active pairs (2,3) → negative d21, (3,2) → negative d30; w = 1/4.
    const d = [0, 1, 2, 3, 1, 0, sqrt5, 2, 2, sqrt5, 0, sqrt13, 3, 2, sqrt13, 0];
    const { grad } = onDistances((t) => tripletSemiHardFromDistances(t, Int32Array.from(labels4), 0.5), d, 4);
    const expected = new Array(16).fill(0);
    expected[2 * 4 + 3] = 0.25;
    expected[2 * 4 + 1] = -0.25;
    expected[3 * 4 + 2] = 0.25;
    expected[3 * 4 + 0] = -0.25;
    expectClose(grad, expected, 1e-7, 0);
  });

  it("splits the gradient like TF's reduce_min/reduce_max when extremes tie", () => {
    // labels 0 0 0 1; row 0 = [0, 1, 3, 3]: anchor 0's only negative (3) sits at the row maximum, as
    // does positive 2. margin 2.5, 6 positive pairs: w = 1/6.
    // (0,1): d_ap = 1, negative 3 > 1: TF's min((r − 3)·mask) = min(0·, 0·, 0·, 0) = 0: all 4 entries tie,
    //   d03 gets −w/4 directly; the "+ max r" term gets −w·(1 − 1/4) = −3w/4, split between the two
    //   entries equal to 3: d02 and d03 get −3w/8 each. Loss 2.5 + 1 − 3 = 0.5 ≥ 0, d01 gets +w.
    // (0,2): d_ap = 3, no negative farther: masked max over negatives = (3 − 0)·1 + 0 = 3, unique:
    //   d03 gets −w, d02 gets +w. Loss 2.5 + 3 − 3 = 2.5.
    // Row 0: [0, w, w − 3w/8, −w/4 − 3w/8 − w] = [0, w, 5w/8, −13w/8].
    const d = [
      0, 1, 3, 3,
      1, 0, 2, 9,
      2, 2, 0, 9,
      3, 9, 9, 0,
    ];
    const labels = Int32Array.from([0, 0, 0, 1]);
    const { grad } = onDistances((t) => tripletSemiHardFromDistances(t, labels, 2.5), d, 4);
    const w = 1 / 6;
    expectClose(grad.slice(0, 4), [0, w, (5 * w) / 8, (-13 * w) / 8], 1e-7, 1e-6);
    const ref = tripletSemiHardReference(d, labels, 4, 2.5);
    expectClose(grad, ref.grad, 1e-7, 1e-6);
  });

  it("an anchor with no negatives takes the row minimum (TF's masked max over an empty set)", () => {
    // One class: every pair positive, no negatives. Row minimum is the diagonal 0, so each pair loses
    // margin + d(a,p) − 0, and the −w goes to the (tied) row minimum entries.
    // d = [[0,1],[1,0]], margin 1: (0,1): 1 + 1 − 0 = 2; (1,0): 2; mean 2.
    const { value, grad } = onDistances((t) => tripletSemiHardFromDistances(t, Int32Array.from([7, 7]), 1), [0, 1, 1, 0], 2);
    expect(value).toBeCloseTo(2, 6);
    // TF: max((r − 0)·0) = 0 ties over both entries, none in the mask: all −w to min r = d00 → [−w, +w].
    expectClose(grad, [-0.5, 0.5, 0.5, -0.5], 1e-7, 0);
  });

  it("no positive pair: 0 and a zero gradient (TF returns NaN)", () =>
    tidy(() => {
      const x = tensor([1, 2, 3, 4, 5, 6], [3, 2], { requiresGrad: true });
      const loss = tripletSemiHardLoss([0, 1, 2], x);
      expect(loss.item()).toBe(0);
      loss.backward();
      expect(Array.from(x.grad!.toArray())).toEqual([0, 0, 0, 0, 0, 0]);
      expect(Number.isNaN(tripletSemiHardReference([0, 1, 1, 0], [0, 1], 2, 1).loss)).toBe(true);
    }));
});

describe("tripletHardLoss: hand-computed", () => {
  it("hinge and soft", () =>
    tidy(() => {
      const x = tensor(points, [4, 2]);
      // margin 0.5. anchor 0: hp = 1, hn = min(2, 3) = 2 → 1−2+0.5 < 0. anchor 1: hp 1, hn min(√5, 2) = 2 → 0.
      // anchor 2: hp √13, hn min(2, √5) = 2 → √13 − 1.5. anchor 3: hp √13, hn min(3, 2) = 2 → √13 − 1.5.
      expect(tripletHardLoss(labels4, x, { margin: 0.5 }).item()).toBeCloseTo((2 * (sqrt13 - 1.5)) / 4, 6);
      // soft: softplus(hp − hn) = softplus(−1), softplus(−1), softplus(√13 − 2) twice.
      const soft = (2 * softplus(-1) + 2 * softplus(sqrt13 - 2)) / 4;
      expect(tripletHardLoss(labels4, x, { soft: true }).item()).toBeCloseTo(soft, 6);
    }));

  it("soft is a stable softplus: no Infinity for large gaps, exact for small ones", () => {
    // Anchor 0: hp = 1e30·… : x = 200 → softplus 200 (log1p(exp(200)) would overflow float32 to Infinity).
    const big = onDistances((t) => tripletHardFromDistances(t, Int32Array.from([0, 0, 1]), 1, true), [0, 201, 1, 201, 0, 1, 1, 1, 0], 3);
    // anchor 0: hp 201, hn 1 → 200; anchor 1: same; anchor 2: no positive: hp = row min 0, hn = 1 → softplus(−1).
    expect(big.value).toBeCloseTo((400 + softplus(-1)) / 3, 3);
    expect(big.grad.every(Number.isFinite)).toBe(true);
    // x = −40: softplus ≈ 4.25e-18, kept (not rounded to 0 by 1 + exp(x)).
    const small = onDistances((t) => tripletHardFromDistances(t, Int32Array.from([0, 0, 1]), 1, true), [0, 1, 41, 1, 0, 41, 41, 41, 0], 3);
    // anchor 2: hp = 0 (row minimum), hn = 41: also −41 → softplus(−41).
    expect(small.value / ((2 * Math.exp(-40) + Math.exp(-41)) / 3)).toBeCloseTo(1, 5);
  });

  it("splits tied hardest positives equally; no negatives → hn is the row maximum", () => {
    // One class, row 0 = [0, 2, 2]: hp = 2 with two tied positives (g/2 each); hn: no negatives, TF's
    // min((r − 2)·0) = 0 over all 3 entries, none masked in → −g to the row max, split over d01, d02.
    // So row 0: [0, g/2 − g/2, g/2 − g/2] = 0. Rows 1, 2 likewise. margin 1: loss per anchor 2 − 2 + 1 = 1.
    const d = [0, 2, 2, 2, 0, 2, 2, 2, 0];
    const { value, grad } = onDistances((t) => tripletHardFromDistances(t, Int32Array.from([1, 1, 1]), 1, false), d, 3);
    expect(value).toBeCloseTo(1, 6);
    expectClose(grad, new Array(9).fill(0), 1e-7, 0);
    // Two classes, row 0 = [0, 2, 2, 5]: hp = 2 tied (d01, d02: +g/2 each), hn = d03 = 5 (−g); g = 1/4.
    const d2 = [0, 2, 2, 5, 2, 0, 1, 5, 2, 1, 0, 5, 5, 5, 5, 0];
    const r = onDistances((t) => tripletHardFromDistances(t, Int32Array.from([0, 0, 0, 1]), 4, false), d2, 4);
    expectClose(r.grad.slice(0, 4), [0, 0.125, 0.125, -0.25], 1e-7, 0);
    expectClose(r.grad, tripletHardReference(d2, [0, 0, 0, 1], 4, 4, false).grad, 1e-7, 1e-6);
  });
});

// -- properties: kernel against the reference ------------------------------------------------------

type LabelPattern = "single" | "distinct" | "few";
const labelsFor = (n: number, pattern: LabelPattern, seed: number) =>
  Int32Array.from({ length: n }, (_, i) =>
    pattern === "single" ? 3 : pattern === "distinct" ? i * 7 - 20 : (Math.imul(i + 1, 2654435761 + seed) >>> 28) % 3);

/** Distance-like matrices: coarse grid values (many exact ties), or wide ones (rounding merges). */
const distanceCase = fc.record({
  n: fc.integer({ min: 2, max: 24 }),
  pattern: fc.constantFrom<LabelPattern>("single", "distinct", "few", "few"),
  kind: fc.constantFrom("grid", "grid", "wide", "smooth"),
  margin: fc.constantFrom(0, 0.25, 0.5, 1, 2),
  seed: fc.integer({ min: 0, max: 1 << 20 }),
}).chain((c) =>
  fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: c.n * c.n, maxLength: c.n * c.n }).map((ints) => {
    const dist = ints.map((v, i) => {
      if (c.kind === "grid") return (v % 9) / 4; // 0, 0.25, …, 2: exact ties and exact hinge zeros
      if (c.kind === "wide") return v % 97 === 0 ? 1e4 + v : 0.1 + v * 1e-7 * (i % 3); // f32(d − 1e4) merges
      return 0.5 + v / 333;
    });
    for (let i = 0; i < c.n; i++) dist[i * c.n + i] = 0;
    return { ...c, dist: Float32Array.from(dist), labels: labelsFor(c.n, c.pattern, c.seed) };
  }),
);

describe("triplet kernels against the reference (values and gradients, ties included)", () => {
  it("semi-hard", () => {
    fc.assert(
      fc.property(distanceCase, ({ n, dist, labels, margin }) => {
        const ref = tripletSemiHardReference(dist, labels, n, margin);
        const got = onDistances((t) => tripletSemiHardFromDistances(t, labels, margin), dist, n);
        if (Number.isNaN(ref.loss)) {
          expect(got.value).toBe(0);
          expect(got.grad.every((g) => g === 0)).toBe(true);
          return;
        }
        expect(Math.abs(got.value - ref.loss)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(ref.loss)) * 8);
        expectClose(got.grad, ref.grad, 1e-7, 1e-5);
      }),
      { numRuns: 150 },
    );
  });

  it("semi-hard with more than 64 negatives an anchor (the radix sort; fewer take an insertion sort)", () => {
    const wide = fc.record({ n: fc.integer({ min: 70, max: 90 }), seed: fc.integer({ min: 0, max: 1 << 20 }), margin: fc.constantFrom(0.25, 1) })
      .chain((c) => fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: c.n * c.n, maxLength: c.n * c.n }).map((ints) => {
        // Grid values: ties among the sorted negatives, whose order must be the columns'.
        const dist = Float32Array.from(ints, (v) => (v % 13) / 6);
        for (let i = 0; i < c.n; i++) dist[i * c.n + i] = 0;
        // 30 classes: at most 3 examples each, so every anchor has at least 67 negatives.
        return { ...c, dist, labels: Int32Array.from({ length: c.n }, (_, i) => (i * 7 + c.seed) % 30) };
      }));
    fc.assert(
      fc.property(wide, ({ n, dist, labels, margin }) => {
        const ref = tripletSemiHardReference(dist, labels, n, margin);
        const got = onDistances((t) => tripletSemiHardFromDistances(t, labels, margin), dist, n);
        expect(Math.abs(got.value - ref.loss)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(ref.loss)) * 8);
        expectClose(got.grad, ref.grad, 1e-7, 1e-5);
      }),
      { numRuns: 15 },
    );
  });

  it("hard and soft", () => {
    fc.assert(
      fc.property(distanceCase, fc.boolean(), ({ n, dist, labels, margin }, soft) => {
        const ref = tripletHardReference(dist, labels, n, margin, soft);
        const got = onDistances((t) => tripletHardFromDistances(t, labels, margin, soft), dist, n);
        expect(Math.abs(got.value - ref.loss)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(ref.loss)) * 8);
        expectClose(got.grad, ref.grad, 1e-7, 1e-5);
      }),
      { numRuns: 150 },
    );
  });

  it("with real distances of embeddings with duplicate points", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 24 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom<LabelPattern>("single", "distinct", "few"),
        fc.integer({ min: 0, max: 1 << 20 }), fc.constantFrom<DistanceMetric>("L2", "squared-L2", "angular"),
        (n, d, pattern, seed, metric) =>
          tidy(() => {
            // Coordinates on a coarse grid: duplicate points and repeated distances.
            const x = Array.from({ length: n * d }, (_, i) => ((Math.imul(i + 1, 40503 + seed) >>> 13) % 5) - 2);
            const labels = labelsFor(n, pattern, seed);
            const e = tensor(x, [n, d]);
            const dist = noGrad(() =>
              metric === "L2" ? pairwiseDistance(e) : metric === "squared-L2" ? pairwiseDistance(e, { squared: true }) : angularDistance(e),
            ).toArray();
            const semi = tripletSemiHardReference(dist, labels, n, 1);
            const semiGot = onDistances((t) => tripletSemiHardFromDistances(t, labels, 1), dist, n);
            if (!Number.isNaN(semi.loss)) {
              expect(semiGot.value).toBeCloseTo(semi.loss, 5);
              expectClose(semiGot.grad, semi.grad, 1e-7, 1e-5);
            }
            const hard = tripletHardReference(dist, labels, n, 1, false);
            const hardGot = onDistances((t) => tripletHardFromDistances(t, labels, 1, false), dist, n);
            expect(hardGot.value).toBeCloseTo(hard.loss, 5);
            expectClose(hardGot.grad, hard.grad, 1e-7, 1e-5);
          }),
      ),
      { numRuns: 60 },
    );
  });
});

// -- gradients through the whole loss ----------------------------------------------------------------

/** Embeddings in general position: distinct pairwise distances, no ties, no hinge at 0 (checked below). */
function spreadEmbeddings(n: number, d: number, seed: number): number[] {
  return Array.from({ length: n * d }, (_, i) => Math.sin(seed * 0.37 + i * 1.91) * 1.3 + Math.cos(i * i * 0.7 + seed));
}

const metrics: DistanceMetric[] = ["L2", "squared-L2", "angular"];

describe("gradcheck of the losses (every metric, away from ties and kinks)", () => {
  for (const metric of metrics) {
    it(`semi-hard, ${metric}`, () => {
      let checked = 0;
      for (let seed = 1; checked < 4 && seed < 400; seed++) {
        const n = 5 + (seed % 4);
        const d = 2 + (seed % 2);
        const labels = labelsFor(n, "few", seed);
        const margin = metric === "squared-L2" ? 2 : 0.5;
        tidy(() => {
          const x = tensor(spreadEmbeddings(n, d, seed), [n, d], { requiresGrad: true });
          if (!farFromKinks(x, labels, metric, margin, "semi")) return;
          checked++;
          gradcheck((e) => tripletSemiHardLoss(labels, e, { margin, distanceMetric: metric }), [x], { eps: 1e-3, atol: 2e-3, rtol: 2e-2 });
        });
      }
      expect(checked).toBe(4);
    });

    it(`hard (hinge and soft), ${metric}`, () => {
      let checked = 0;
      for (let seed = 1; checked < 4 && seed < 400; seed++) {
        const n = 5 + (seed % 4);
        const d = 2 + (seed % 2);
        const labels = labelsFor(n, "few", seed);
        const soft = seed % 2 === 0;
        tidy(() => {
          const x = tensor(spreadEmbeddings(n, d, seed), [n, d], { requiresGrad: true });
          if (!farFromKinks(x, labels, metric, 1, soft ? "soft" : "hard")) return;
          checked++;
          gradcheck((e) => tripletHardLoss(labels, e, { margin: 1, soft, distanceMetric: metric }), [x], { eps: 1e-3, atol: 2e-3, rtol: 2e-2 });
        });
      }
      expect(checked).toBe(4);
    });
  }
});

/** True when no two distances of a row are within 0.02, no hinge is within 0.02 of 0 and no distance is near the angular clamp. */
function farFromKinks(x: Tensor, labels: Int32Array, metric: DistanceMetric, margin: number, kind: "semi" | "hard" | "soft"): boolean {
  const n = x.shape[0];
  const dist = noGrad(() =>
    metric === "L2" ? pairwiseDistance(x) : metric === "squared-L2" ? pairwiseDistance(x, { squared: true }) : angularDistance(x),
  ).toArray();
  const gap = 0.02;
  for (let a = 0; a < n; a++) {
    const row = Array.from(dist.slice(a * n, a * n + n)).filter((_, j) => j !== a).sort((p, q) => p - q);
    for (let j = 1; j < row.length; j++) if (row[j] - row[j - 1] < gap) return false;
    if (row[0] < gap) return false;
  }
  // Hinge arguments, from the reference's own mining: perturb the margin by ±gap and require the same loss slope.
  if (kind !== "soft") {
    const loss = (m: number) =>
      kind === "semi" ? tripletSemiHardReference(dist, labels, n, m).loss : tripletHardReference(dist, labels, n, m, false).loss;
    const lo = loss(margin - gap);
    const mid = loss(margin);
    const hi = loss(margin + gap);
    if (Number.isNaN(mid) || Math.abs(hi - mid - (mid - lo)) > 1e-4) return false;
  }
  return true;
}

// -- safety and API ------------------------------------------------------------------------------------

describe("triplet losses: never NaN, API", () => {
  it("finite loss and gradients for finite input (duplicates, zero rows, one class, all distinct)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 5 }), fc.constantFrom<LabelPattern>("single", "distinct", "few"),
        fc.integer({ min: 0, max: 1 << 20 }), fc.constantFrom<DistanceMetric>("L2", "squared-L2", "angular"), fc.boolean(), fc.boolean(),
        (n, d, pattern, seed, metric, hard, soft) =>
          tidy(() => {
            const x = tensor(Array.from({ length: n * d }, (_, i) => ((Math.imul(i + 3, 69069 + seed) >>> 12) % 3) - 1), [n, d], { requiresGrad: true });
            const labels = labelsFor(n, pattern, seed);
            const loss = hard ? tripletHardLoss(labels, x, { soft, distanceMetric: metric }) : tripletSemiHardLoss(labels, x, { distanceMetric: metric });
            expect(Number.isFinite(loss.item())).toBe(true);
            loss.backward();
            expect(x.grad!.toArray().every(Number.isFinite)).toBe(true);
          }),
      ),
      { numRuns: 80 },
    );
  });

  it("accepts labels as a Tensor [N] or [N, 1] and a custom metric", () =>
    tidy(() => {
      const x = tensor(points, [4, 2]);
      const expected = tripletSemiHardLoss(labels4, x, { margin: 1.5 }).item();
      expect(tripletSemiHardLoss(tensor(labels4), x, { margin: 1.5 }).item()).toBe(expected);
      expect(tripletSemiHardLoss(tensor(labels4, [4, 1]), x, { margin: 1.5 }).item()).toBe(expected);
      expect(tripletSemiHardLoss(Int32Array.from(labels4), x, { margin: 1.5, distanceMetric: (e) => pairwiseDistance(e) }).item()).toBe(expected);
    }));

  it("classes: call, name, config round trip", () =>
    tidy(() => {
      const x = tensor(points, [4, 2]);
      const semi = new TripletSemiHardLoss({ margin: 1.5 });
      expect(semi.call(labels4, x).item()).toBe(tripletSemiHardLoss(labels4, x, { margin: 1.5 }).item());
      expect(semi.name).toBe("triplet_semihard_loss");
      expect(JSON.parse(JSON.stringify(semi))).toEqual({ className: "TripletSemiHardLoss", config: { margin: 1.5, distanceMetric: "L2", name: "triplet_semihard_loss" } });
      const hard = new TripletHardLoss({ soft: true, distanceMetric: "angular" });
      const again = TripletHardLoss.fromConfig(hard.getConfig() as never);
      expect(again.config).toEqual({ margin: 1, soft: true, distanceMetric: "angular", name: "triplet_hard_loss" });
      expect(again.call(labels4, x).item()).toBe(tripletHardLoss(labels4, x, { soft: true, distanceMetric: "angular" }).item());
      expect(() => new TripletSemiHardLoss({ distanceMetric: (e) => e }).getConfig()).toThrow(/custom distanceMetric function cannot be serialized/);
    }));

  it("rejects bad input with messages naming the problem", () =>
    tidy(() => {
      const x = tensor(points, [4, 2]);
      expect(() => tripletSemiHardLoss([0, 1, 0], x)).toThrow(/tripletSemiHardLoss: got 3 labels for 4 embeddings/);
      expect(() => tripletHardLoss([0, 1, 0.5, 1], x)).toThrow(/tripletHardLoss: label 2 is 0.5/);
      expect(() => tripletSemiHardLoss(tensor([0, 1, 0, 1], [2, 2]), x)).toThrow(/labels tensor has shape \[2,2\]/);
      expect(() => tripletSemiHardLoss(labels4, tensor([1, 2, 3, 4]))).toThrow(/embeddings must be a Tensor of shape \[N, D\]/);
      expect(() => tripletSemiHardLoss(labels4, x, { distanceMetric: "L1" as never })).toThrow(/unknown distanceMetric "L1"/);
      expect(() => tripletSemiHardLoss(labels4, x, { margin: NaN })).toThrow(/margin is NaN/);
      expect(() => tripletSemiHardLoss(labels4, x, { distanceMetric: () => tensor([1, 2], [1, 2]) })).toThrow(/returned shape \[1,2\], expected a Tensor \[4, 4\]/);
    }));

  it("under noGrad records nothing and allocates no gradient", () =>
    tidy(() => {
      const x = tensor(points, [4, 2], { requiresGrad: true });
      const loss = noGrad(() => tripletSemiHardLoss(labels4, x, { margin: 1.5 }));
      expect(loss.requiresGrad).toBe(false);
    }));
});
