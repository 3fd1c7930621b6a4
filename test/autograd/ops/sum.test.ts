import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { gradcheck, sum, Tensor, tensor, tidy } from "../../../src/index.js";
import { sumReference } from "../../reference/sum.js";
import { expectClose, setup } from "../../helpers/setup.js";
import { axesOf, shapesWithAxes, sizeOf, values } from "../../helpers/shapes.js";

beforeAll(setup);

describe("sum", () => {
  it("matches the reference over random shapes (rank 0-4, sizes 1-9) and axes", () => {
    fc.assert(
      fc.property(shapesWithAxes(), fc.integer(), ([shape, axis, keepDims], seed) =>
        tidy(() => {
          const x = tensor(values(seed, sizeOf(shape)), shape);
          const want = sumReference(x.toArray(), shape, axesOf(axis), keepDims);
          const y = sum(x, { axis, keepDims });
          expect(y.shape).toEqual(want.shape);
          expectClose(y.toArray(), want.data, 1e-3, 1e-4);
        }),
      ),
      { numRuns: 150 },
    );
  });

  it.each([
    [[1003], undefined],
    [[37, 67], -1],
    [[37, 67], 0],
    [[5, 37, 19], 1],
    [[5, 37, 19], [0, 2]],
    [[6, 5, 7, 3], [1, 3]],
  ] as [number[], number | number[] | undefined][])("matches the reference on the SIMD paths: [%s] over axis %s", (shape, axis) =>
    tidy(() => {
      const x = tensor(values(7, sizeOf(shape)), shape);
      expectClose(sum(x, { axis }).toArray(), sumReference(x.toArray(), shape, axesOf(axis)).data, 1e-3, 1e-4);
    }));

  it("passes gradcheck over random shapes and axes", () => {
    fc.assert(
      fc.property(shapesWithAxes(3, 4), fc.integer(), ([shape, axis, keepDims], seed) =>
        tidy(() => {
          const x = tensor(values(seed, sizeOf(shape)), shape, { requiresGrad: true });
          return gradcheck((t) => sum(t, { axis, keepDims }), [x], { eps: 1e-2, atol: 1e-2, rtol: 1e-2 }).ok;
        }),
      ),
      { numRuns: 30 },
    );
  });

  it("reduces to a scalar of shape [] by default, and keeps dims as 1s on request", () =>
    tidy(() => {
      const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      expect(sum(x).shape).toEqual([]);
      expect(sum(x).item()).toBe(21);
      expect(sum(x, { keepDims: true }).shape).toEqual([1, 1]);
      expect(Array.from(sum(x, { axis: 0 }).toArray())).toEqual([5, 7, 9]);
      expect(Array.from(sum(x, { axis: -1, keepDims: true }).toArray())).toEqual([6, 15]);
      expect(sum(x, { axis: -1, keepDims: true }).shape).toEqual([2, 1]);
      expect(sum(x, { axis: [] }).shape).toEqual([2, 3]);
      expect(sum(tensor([4], [])).item()).toBe(4);
      expect(sum(Tensor.zeros([0, 3])).item()).toBe(0);
    }));

  it("repeats the gradient along the reduced axes", () =>
    tidy(() => {
      const x = tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
      sum(x, { axis: 1 }).backward(tensor([10, 20]));
      expect(Array.from(x.grad!.toArray())).toEqual([10, 10, 10, 20, 20, 20]);
    }));

  it("rejects axes out of range or given twice", () =>
    tidy(() => {
      const x = Tensor.zeros([2, 3]);
      expect(() => sum(x, { axis: 2 })).toThrow("sum: axis 2 is out of range for shape [2,3] (rank 2)");
      expect(() => sum(x, { axis: -3 })).toThrow("out of range");
      expect(() => sum(x, { axis: [1, -1] })).toThrow("sum: axis -1 is given twice");
    }));
});
