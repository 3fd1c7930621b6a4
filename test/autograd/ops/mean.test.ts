import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { gradcheck, mean, Tensor, tensor, tidy } from "../../../src/index.js";
import { sumReference } from "../../reference/sum.js";
import { expectClose, setup } from "../../helpers/setup.js";
import { axesOf, shapesWithAxes, sizeOf, values } from "../../helpers/shapes.js";

beforeAll(setup);

describe("mean", () => {
  it("matches the reference over random shapes (rank 0-4, sizes 1-9) and axes", () => {
    fc.assert(
      fc.property(shapesWithAxes(), fc.integer(), ([shape, axis, keepDims], seed) =>
        tidy(() => {
          const x = tensor(values(seed, sizeOf(shape)), shape);
          const want = sumReference(x.toArray(), shape, axesOf(axis), keepDims, true);
          const y = mean(x, { axis, keepDims });
          expect(y.shape).toEqual(want.shape);
          expectClose(y.toArray(), want.data, 1e-5, 1e-4);
        }),
      ),
      { numRuns: 150 },
    );
  });

  it.each([
    [[1003], undefined],
    [[37, 67], -1],
    [[37, 67], 0],
    [[5, 37, 19], [0, 2]],
  ] as [number[], number | number[] | undefined][])("matches the reference on the SIMD paths: [%s] over axis %s", (shape, axis) =>
    tidy(() => {
      const x = tensor(values(8, sizeOf(shape)), shape);
      expectClose(mean(x, { axis }).toArray(), sumReference(x.toArray(), shape, axesOf(axis), false, true).data, 1e-5, 1e-4);
    }));

  it("passes gradcheck over random shapes and axes", () => {
    fc.assert(
      fc.property(shapesWithAxes(3, 4), fc.integer(), ([shape, axis, keepDims], seed) =>
        tidy(() => {
          const x = tensor(values(seed, sizeOf(shape)), shape, { requiresGrad: true });
          return gradcheck((t) => mean(t, { axis, keepDims }), [x], { eps: 1e-2, atol: 1e-3, rtol: 1e-2 }).ok;
        }),
      ),
      { numRuns: 30 },
    );
  });

  it("divides the repeated gradient by the count", () =>
    tidy(() => {
      const x = tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 4], { requiresGrad: true });
      const y = mean(x, { axis: 0 });
      expect(Array.from(y.toArray())).toEqual([3, 4, 5, 6]);
      y.backward(tensor([2, 4, 6, 8]));
      expect(Array.from(x.grad!.toArray())).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
      expect(mean(x).item()).toBe(4.5);
    }));

  it("is NaN over no elements, as NumPy", () =>
    tidy(() => {
      expect(mean(Tensor.zeros([0])).item()).toBeNaN();
    }));

  it("names the op in errors", () =>
    tidy(() => {
      expect(() => mean(Tensor.zeros([2]), { axis: 1 })).toThrow("mean: axis 1 is out of range");
    }));
});
