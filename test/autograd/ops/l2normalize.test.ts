import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { gradcheck, l2Normalize, tensor, tidy } from "../../../src/index.js";
import { l2NormalizeGradReference, l2NormalizeReference } from "../../reference/l2normalize.js";
import { expectClose, floats, setup } from "../../helpers/setup.js";

beforeAll(setup);

/** rows x d values (rows 1..9, d 1..40, incl. non-multiples of 4) and a gradient of the same size. */
const rowsAndGrad = fc
  .tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 40 }))
  .chain(([rows, d]) => fc.tuple(fc.constant(rows), fc.constant(d), floats(rows * d, -3, 3), floats(rows * d, -2, 2)));

/** Per row: error within 1e-5 of the row's gradient scale |g|max / norm (cancellation in g − y·(g·y)). */
function expectGradClose(actual: Float32Array, expected: Float32Array, x: number[], g: number[], d: number): void {
  for (let r = 0; r * d < x.length; r++) {
    let ss = 0;
    let gmax = 0;
    for (let j = 0; j < d; j++) {
      ss += x[r * d + j] ** 2;
      gmax = Math.max(gmax, Math.abs(g[r * d + j]));
    }
    const scale = gmax / Math.sqrt(Math.max(ss, 1e-12));
    expectClose(actual.subarray(r * d, (r + 1) * d), expected.subarray(r * d, (r + 1) * d), 1e-5 * scale + 1e-30, 1e-5);
  }
}

describe("l2Normalize", () => {
  it("matches the reference forward and gradient for any rows x d", () => {
    fc.assert(
      fc.property(rowsAndGrad, ([rows, d, x, g]) =>
        tidy(() => {
          const xt = tensor(x, [rows, d], { requiresGrad: true });
          const y = l2Normalize(xt);
          expectClose(y.toArray(), l2NormalizeReference(x, d), 1e-6, 1e-5);
          y.backward(tensor(g, [rows, d]));
          expectGradClose(xt.grad!.toArray(), l2NormalizeGradReference(x, g, d), x, g, d);
        }),
      ),
    );
  });

  it("gives rows of unit norm", () =>
    tidy(() => {
      const x = tensor(Array.from({ length: 32 * 256 }, (_, i) => Math.sin(i * 0.37) * ((i % 5) + 1)), [32, 256]);
      const y = l2Normalize(x).toArray();
      for (let r = 0; r < 32; r++) {
        let ss = 0;
        for (let j = 0; j < 256; j++) ss += y[r * 256 + j] ** 2;
        expect(Math.abs(ss - 1)).toBeLessThan(1e-5);
      }
    }));

  it("passes gradcheck on rows away from zero norm", () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 9 })).chain(([rows, d]) =>
          fc.tuple(
            fc.constant(rows),
            fc.constant(d),
            fc.array(fc.oneof(fc.double({ min: 0.3, max: 2, noNaN: true }), fc.double({ min: -2, max: -0.3, noNaN: true })), {
              minLength: rows * d,
              maxLength: rows * d,
            }),
          ),
        ),
        ([rows, d, x]) =>
          tidy(() => gradcheck((t) => l2Normalize(t), [tensor(x, [rows, d], { requiresGrad: true })], { eps: 1e-3, atol: 1e-2, rtol: 1e-2 }).ok),
      ),
      { numRuns: 25 },
    );
  });

  it("below epsilon divides by sqrt(epsilon), and its gradient is g / sqrt(epsilon)", () =>
    tidy(() => {
      // Row 0: five values of 1e-8 (Σx² = 5e-16 < 1e-12); row 1: an ordinary row.
      const x = tensor([1e-8, 1e-8, 1e-8, 1e-8, 1e-8, 3, 0, 4, 0, 0], [2, 5], { requiresGrad: true });
      const y = l2Normalize(x);
      const ys = y.toArray();
      for (let j = 0; j < 5; j++) expect(ys[j]).toBeCloseTo(1e-8 / 1e-6, 8);
      expectClose(ys.subarray(5), [0.6, 0, 0.8, 0, 0], 1e-7, 1e-6);
      const g = [1, -2, 0.5, 3, -1, 1, 2, 3, 4, 5];
      y.backward(tensor(g, [2, 5]));
      const gx = x.grad!.toArray();
      expectClose(gx.subarray(0, 5), g.slice(0, 5).map((v) => v / 1e-6), 0, 1e-5);
      // Ordinary row: (g − y·(g·y)) / 5 with y = (0.6, 0, 0.8, 0, 0), g·y = 0.6 + 2.4 = 3.
      expectClose(gx.subarray(5), [(1 - 0.6 * 3) / 5, 2 / 5, (3 - 0.8 * 3) / 5, 4 / 5, 5 / 5], 1e-6, 1e-5);
    }));

  it("gives zeros and the finite gradient g / sqrt(epsilon) for an all-zero row", () =>
    tidy(() => {
      const x = tensor(new Array(7).fill(0), [1, 7], { requiresGrad: true });
      const y = l2Normalize(x);
      expect(Array.from(y.toArray())).toEqual(new Array(7).fill(0));
      const g = [1, 2, 3, 4, 5, 6, 7];
      y.backward(tensor(g, [1, 7]));
      const gx = x.grad!.toArray();
      for (const v of gx) expect(Number.isFinite(v)).toBe(true);
      expectClose(gx, g.map((v) => v * 1e6), 0, 1e-5);
    }));

  it("takes the ordinary gradient when Σx² equals epsilon exactly (TensorFlow's max sends it to x)", () =>
    tidy(() => {
      const g = [1, 2, 3, 4];
      const grad = (epsilon: number) => {
        const x = tensor([0.5, 0.5, 0.5, 0.5], [1, 4], { requiresGrad: true });
        l2Normalize(x, { epsilon }).backward(tensor(g, [1, 4]));
        return Array.from(x.grad!.toArray());
      };
      // Σx² = 1 = ε: y = 0.5 each, g·y = 5, gx = g − 2.5.
      expect(grad(1)).toEqual([-1.5, -0.5, 0.5, 1.5]);
      // ε just above Σx²: the constant wins, gx = g / sqrt(ε).
      expectClose(grad(1.0001), g.map((v) => v / Math.sqrt(1.0001)), 0, 1e-6);
    }));

  it("normalizes the last axis of any rank and accepts axis = rank − 1", () =>
    tidy(() => {
      const values = Array.from({ length: 2 * 3 * 6 }, (_, i) => Math.cos(i) * 2);
      const y = l2Normalize(tensor(values, [2, 3, 6]), { axis: 2 });
      expect(y.shape).toEqual([2, 3, 6]);
      expectClose(y.toArray(), l2NormalizeReference(values, 6), 1e-6, 1e-5);
      expectClose(l2Normalize(tensor([3, 4])).toArray(), [0.6, 0.8], 1e-7, 1e-6);
    }));

  it("rejects other axes, naming the axis, and a bad epsilon", () =>
    tidy(() => {
      const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      expect(() => l2Normalize(x, { axis: 0 })).toThrow("l2Normalize: axis 0 is not supported for shape [2,3]");
      expect(() => l2Normalize(x, { axis: -2 })).toThrow("axis -2");
      expect(() => l2Normalize(x, { epsilon: 0 })).toThrow("epsilon must be a positive finite number, got 0");
      expect(() => l2Normalize(tensor([1], []))).toThrow("scalar");
    }));
});
