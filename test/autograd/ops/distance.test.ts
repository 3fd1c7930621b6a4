import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { angularDistance, gradcheck, pairwiseDistance, tensor, tidy } from "../../../src/index.js";
import { angularDistanceReference, pairwiseDistanceReference } from "../../reference/distance.js";
import { expectClose, floats, setup } from "../../helpers/setup.js";

beforeAll(setup);

const matrices = (maxN: number, maxD: number) =>
  fc.record({ n: fc.integer({ min: 1, max: maxN }), d: fc.integer({ min: 1, max: maxD }) })
    .chain(({ n, d }) => floats(n * d, -2, 2).map((x) => ({ n, d, x })));

describe("pairwiseDistance", () => {
  it("matches the reference (squared and not) for any shape", () => {
    fc.assert(
      fc.property(matrices(19, 13), fc.boolean(), ({ n, d, x }, squared) =>
        tidy(() => {
          const out = pairwiseDistance(tensor(x, [n, d]), { squared });
          expect(out.shape).toEqual([n, n]);
          // float32 cancellation in ‖a‖² + ‖b‖² − 2a·b: absolute error ~1e-6·‖x‖², more after sqrt near 0.
          const expected = pairwiseDistanceReference(x, n, d, squared);
          expectClose(out.toArray(), expected, squared ? 2e-5 : 4e-3, 1e-4);
        }),
      ),
    );
  });

  it("computes a hand-checked 3x2 example", () =>
    tidy(() => {
      // (0,0), (3,4), (0,1): d01 = 5, d02 = 1, d12 = sqrt(9 + 9) = sqrt(18).
      const x = tensor([0, 0, 3, 4, 0, 1], [3, 2]);
      expectClose(pairwiseDistance(x).toArray(), [0, 5, 1, 5, 0, Math.sqrt(18), 1, Math.sqrt(18), 0], 1e-6, 1e-6);
      expectClose(pairwiseDistance(x, { squared: true }).toArray(), [0, 25, 1, 25, 0, 18, 1, 18, 0], 1e-6, 1e-6);
    }));

  it("gives 0 and a finite (zero) gradient for coincident points", () =>
    tidy(() => {
      // Rows 0 and 1 coincide: d01 = 0 exactly; TF's 1e-16 trick leaves their gradient 0.
      const x = tensor([1, 2, 1, 2, 4, 6], [3, 2], { requiresGrad: true });
      const out = pairwiseDistance(x);
      expect(out.view()[1]).toBe(0);
      out.backward(tensor([0, 1, 0, 1, 0, 0, 0, 0, 0], [3, 3]));
      expect(Array.from(x.grad!.toArray())).toEqual([0, 0, 0, 0, 0, 0]);
    }));

  it("backward: d/dx_i of ‖x_i − x_j‖ is the unit vector (x_i − x_j)/‖x_i − x_j‖", () =>
    tidy(() => {
      // (0,0) and (3,4): only entry (0,1) seeded, so dx0 = −(3,4)/5, dx1 = (3,4)/5.
      const x = tensor([0, 0, 3, 4], [2, 2], { requiresGrad: true });
      pairwiseDistance(x).backward(tensor([0, 1, 0, 0], [2, 2]));
      expectClose(x.grad!.toArray(), [-0.6, -0.8, 0.6, 0.8], 1e-6, 1e-6);
    }));

  it("passes gradcheck (points apart)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), fc.boolean(), fc.integer(), (n, d, squared, seed) =>
        tidy(() => {
          // Distinct, well-separated points: index i on a line plus bounded noise.
          const x = Array.from({ length: n * d }, (_, i) => Math.floor(i / d) * (1 + (i % d)) + 0.3 * Math.sin(seed + i));
          return gradcheck((t) => pairwiseDistance(t, { squared }), [tensor(x, [n, d], { requiresGrad: true })], { eps: 1e-2, atol: 1e-2, rtol: 1e-2 }).ok;
        }),
      ),
      { numRuns: 20 },
    );
  });

  it("rejects a non-matrix", () =>
    tidy(() => {
      expect(() => pairwiseDistance(tensor([1, 2, 3]))).toThrow(/pairwiseDistance: input has shape \[3\], expected a matrix/);
    }));
});

describe("angularDistance", () => {
  it("matches the reference for any shape", () => {
    fc.assert(
      fc.property(matrices(19, 13), ({ n, d, x }) =>
        tidy(() => expectClose(angularDistance(tensor(x, [n, d])).toArray(), angularDistanceReference(x, n, d), 2e-5, 1e-4)),
      ),
    );
  });

  it("computes a hand-checked example (diagonal kept, zero row allowed)", () =>
    tidy(() => {
      // (1,0), (0,2), (−3,0), (0,0): cos = 0 (⟂), −1 (opposite); the zero row normalizes to 0, cos 0 → 1.
      const out = angularDistance(tensor([1, 0, 0, 2, -3, 0, 0, 0], [4, 2])).toArray();
      expectClose(out, [0, 1, 2, 1, 1, 0, 1, 1, 2, 1, 0, 1, 1, 1, 1, 1], 1e-6, 1e-6);
    }));

  it("is scale invariant: its gradient is orthogonal to each row", () =>
    tidy(() => {
      const x = tensor([1, 2, -1, 0.5, 3, 1, -2, 1, 1], [3, 3], { requiresGrad: true });
      angularDistance(x).backward(tensor([0, 1, 2, 3, 0, 1, 2, 3, 0], [3, 3]));
      const xv = x.toArray();
      const g = x.grad!.toArray();
      for (let i = 0; i < 3; i++) {
        const dot = xv[3 * i] * g[3 * i] + xv[3 * i + 1] * g[3 * i + 1] + xv[3 * i + 2] * g[3 * i + 2];
        expect(Math.abs(dot)).toBeLessThan(1e-5);
      }
    }));

  it("passes gradcheck (no clamped entries)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 2, max: 5 }), fc.integer(), (n, d, seed) =>
        tidy(() => {
          const x = Array.from({ length: n * d }, (_, i) => 1 + 0.8 * Math.sin(seed + 3 * i));
          const f = (t: Parameters<typeof angularDistance>[0]) => angularDistance(t);
          return gradcheck(f, [tensor(x, [n, d], { requiresGrad: true })], { eps: 1e-3, atol: 1e-2, rtol: 1e-2 }).ok;
        }),
      ),
      { numRuns: 20 },
    );
  });
});
