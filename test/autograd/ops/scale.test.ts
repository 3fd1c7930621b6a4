import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { gradcheck, scale, tensor, tidy } from "../../../src/index.js";
import { scaleReference } from "../../reference/scale.js";
import { expectClose, setup } from "../../helpers/setup.js";
import { shapes, sizeOf, values } from "../../helpers/shapes.js";

beforeAll(setup);

describe("scale", () => {
  it("matches the reference over random shapes (rank 0-4, sizes 1-9)", () => {
    fc.assert(
      fc.property(shapes(), fc.integer(), fc.double({ min: -10, max: 10, noNaN: true }), (shape, seed, c) =>
        tidy(() => {
          const x = tensor(values(seed, sizeOf(shape)), shape);
          const y = scale(x, c);
          expect(y.shape).toEqual(shape);
          // The kernel multiplies by fround(c) in float32, rounding once, as the reference does: exact.
          expectClose(y.toArray(), scaleReference(x.toArray(), Math.fround(c)), 0, 0);
        }),
      ),
    );
  });

  it("passes gradcheck", () => {
    fc.assert(
      fc.property(shapes(3, 3), fc.integer(), fc.double({ min: -3, max: 3, noNaN: true }), (shape, seed, c) =>
        tidy(() => gradcheck((t) => scale(t, c), [tensor(values(seed, sizeOf(shape)), shape, { requiresGrad: true })], { eps: 1e-2, atol: 1e-2, rtol: 1e-2 }).ok),
      ),
      { numRuns: 20 },
    );
  });

  it("scales the gradient by the same factor", () =>
    tidy(() => {
      const x = tensor([1, 2, 3], [3], { requiresGrad: true });
      scale(x, -2).backward(tensor([1, 10, 100]));
      expect(Array.from(x.grad!.toArray())).toEqual([-2, -20, -200]);
    }));
});
