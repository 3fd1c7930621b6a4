import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { flatten, gradcheck, mul, reshape, Tensor, tensor, tidy } from "../../../src/index.js";
import { reshapeShapeReference } from "../../reference/reshape.js";
import { setup } from "../../helpers/setup.js";
import { shapes, sizeOf, values } from "../../helpers/shapes.js";

beforeAll(setup);

/** A shape and a reordering of its sizes (same element count), with one size maybe -1. */
const reshapes = (maxRank: number, maxSize: number) =>
  shapes(maxRank, maxSize).chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.shuffledSubarray(shape, { minLength: shape.length, maxLength: shape.length }),
      fc.integer({ min: -1, max: shape.length - 1 }),
      fc.boolean(),
    ).map(([from, to, unknown, merge]) => {
      // Optionally merge the first two target sizes, so ranks change too.
      const target = merge && to.length >= 2 ? [to[0] * to[1], ...to.slice(2)] : [...to];
      if (unknown >= 0 && unknown < target.length) target[unknown] = -1;
      return [from, target] as const;
    }),
  );

describe("reshape", () => {
  it("keeps the elements in order under any shape of the same size (rank 0-4, sizes 1-9)", () => {
    fc.assert(
      fc.property(reshapes(4, 9), fc.integer(), ([from, to], seed) =>
        tidy(() => {
          const data = values(seed, sizeOf(from));
          const y = reshape(tensor(data, from), to);
          expect(y.shape).toEqual(reshapeShapeReference(data.length, to));
          expect(y.toArray()).toEqual(data);
        }),
      ),
      { numRuns: 100 },
    );
  });

  it("copies the data: writing the result leaves the input alone", () =>
    tidy(() => {
      const x = tensor([1, 2, 3, 4], [2, 2]);
      reshape(x, [4]).set([9, 9, 9, 9]);
      expect(Array.from(x.toArray())).toEqual([1, 2, 3, 4]);
    }));

  it("passes gradcheck", () => {
    fc.assert(
      fc.property(reshapes(3, 3), fc.integer(), ([from, to], seed) =>
        tidy(() => {
          const x = tensor(values(seed, sizeOf(from)), from, { requiresGrad: true });
          // mul by a fixed tensor, so that the gradient depends on the element order.
          const w = tensor(values(seed + 1, sizeOf(from)), [sizeOf(from)]);
          return gradcheck((t) => mul(reshape(t, to), reshape(w, to)), [x], { eps: 1e-2, atol: 1e-2, rtol: 1e-2 }).ok;
        }),
      ),
      { numRuns: 20 },
    );
  });

  it("gives a gradient of the input's shape", () =>
    tidy(() => {
      const x = tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
      reshape(x, [3, -1]).backward(tensor([1, 2, 3, 4, 5, 6], [3, 2]));
      expect(x.grad!.shape).toEqual([2, 3]);
      expect(Array.from(x.grad!.toArray())).toEqual([1, 2, 3, 4, 5, 6]);
    }));

  it("names both shapes and sizes when they disagree", () =>
    tidy(() => {
      const x = Tensor.zeros([2, 3]);
      expect(() => reshape(x, [4, 2])).toThrow("reshape: cannot reshape [2,3] (6 elements) to [4,2] (8 elements)");
      expect(() => reshape(x, [4, -1])).toThrow("reshape: cannot reshape [2,3] (6 elements) to [4,-1]: 6 elements are not a multiple of 4");
      expect(() => reshape(x, [-1, -1])).toThrow("only one size may be -1");
      expect(() => reshape(x, [2.5, 2])).toThrow("size 2.5 is not");
    }));
});

describe("flatten", () => {
  it("gives (N, product of the rest) with the same elements", () => {
    fc.assert(
      fc.property(shapes(4, 9, 1), fc.integer(), (shape, seed) =>
        tidy(() => {
          const data = values(seed, sizeOf(shape));
          const y = flatten(tensor(data, shape));
          expect(y.shape).toEqual([shape[0], sizeOf(shape.slice(1))]);
          expect(y.toArray()).toEqual(data);
        }),
      ),
    );
  });

  it("passes gradcheck on the tutorial's pooled shape, scaled down", () =>
    tidy(() => {
      const x = tensor(values(3, 2 * 3 * 3 * 2), [2, 3, 3, 2], { requiresGrad: true });
      const w = tensor(values(4, 18), [18]);
      expect(gradcheck((t) => mul(flatten(t), w), [x], { eps: 1e-2, atol: 1e-2, rtol: 1e-2 }).ok).toBe(true);
    }));

  it("rejects scalars", () =>
    tidy(() => {
      expect(() => flatten(tensor([1], []))).toThrow("flatten: expected a tensor of rank 1 or more");
    }));
});
