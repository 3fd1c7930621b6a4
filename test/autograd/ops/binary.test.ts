import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { add, gradcheck, mul, sub, Tensor, tensor, tidy } from "../../../src/index.js";
import { binaryReference, BinaryName } from "../../reference/binary.js";
import { expectClose, setup } from "../../helpers/setup.js";
import { broadcastPairs, sizeOf, values } from "../../helpers/shapes.js";

beforeAll(setup);

const ops = { add, sub, mul } as const;
const names: BinaryName[] = ["add", "sub", "mul"];

function input(shape: number[], seed: number, requiresGrad = false): Tensor {
  return tensor(values(seed, sizeOf(shape)), shape, { requiresGrad });
}

// Shapes of every kernel path: equal, [N,C] op [C], scalars, [N,1] op [N,C], and strided ones.
const patterns: [number[], number[]][] = [
  [[2, 3], [2, 3]],
  [[3, 5], [5]],
  [[5], [3, 5]],
  [[], [2, 3]],
  [[2, 3], [1]],
  [[3, 1], [3, 5]],
  [[3, 5], [3, 1]],
  [[3, 1], [1, 4]],
  [[2, 1, 3], [4, 1]],
  [[2, 3, 1, 2], [3, 2, 1]],
  [[], []],
];

describe.each(names)("%s", (name) => {
  const op = ops[name];

  it("matches the reference over random broadcastable shapes (rank 0-4, sizes 1-9)", () => {
    fc.assert(
      fc.property(broadcastPairs(), fc.integer(), ([aShape, bShape], seed) =>
        tidy(() => {
          const a = input(aShape, seed);
          const b = input(bShape, seed + 1);
          const want = binaryReference(name, a.toArray(), aShape, b.toArray(), bShape);
          const y = op(a, b);
          expect(y.shape).toEqual(want.shape);
          // One correctly rounded float32 operation: exact.
          expectClose(y.toArray(), want.data, 0, 0);
        }),
      ),
      { numRuns: 150 },
    );
  });

  it.each([
    [[37, 19], [37, 19]],
    [[37, 19], [19]],
    [[19], [37, 19]],
    [[37, 19], []],
    [[1], [37, 19]],
    [[37, 1], [37, 19]],
    [[37, 19], [37, 1]],
    [[37, 1], [1, 19]],
  ])("matches the reference on the SIMD paths: [%s] and [%s]", (aShape, bShape) =>
    tidy(() => {
      const a = input(aShape, 1);
      const b = input(bShape, 2);
      expectClose(op(a, b).toArray(), binaryReference(name, a.toArray(), aShape, b.toArray(), bShape).data, 0, 0);
    }));

  it.each(patterns)("passes gradcheck for [%s] and [%s]", (aShape, bShape) =>
    tidy(() => {
      const a = input(aShape, 3, true);
      const b = input(bShape, 4, true);
      expect(gradcheck(op, [a, b], { eps: 1e-2, atol: 1e-2, rtol: 1e-2 }).ok).toBe(true);
    }));

  it("passes gradcheck over random broadcastable shapes, one input requiring a gradient", () => {
    fc.assert(
      fc.property(broadcastPairs(3, 3), fc.integer(), fc.boolean(), ([aShape, bShape], seed, first) =>
        tidy(() => {
          const a = input(aShape, seed, first);
          const b = input(bShape, seed + 1, !first);
          const r = gradcheck(op, [a, b], { eps: 1e-2, atol: 1e-2, rtol: 1e-2 });
          // The input without requiresGrad gets no gradient.
          return r.ok && (first ? b.grad === null : a.grad === null);
        }),
      ),
      { numRuns: 25 },
    );
  });

  it("names both shapes when they cannot be broadcast", () =>
    tidy(() => {
      expect(() => op(Tensor.zeros([2, 3]), Tensor.zeros([4]))).toThrow(`${name}: shapes [2,3] and [4] cannot be broadcast`);
      expect(() => op(Tensor.zeros([2, 1, 3]), Tensor.zeros([5, 2]))).toThrow(`${name}: shapes [2,1,3] and [5,2] cannot be broadcast`);
    }));

  it("gives a gradient of the input's own shape (leading 1s kept, dims broadcast summed)", () =>
    tidy(() => {
      const a = input([1, 3], 5, true);
      const b = input([2, 1, 3], 6, true);
      op(a, b).backward(Tensor.zeros([2, 1, 3]));
      expect(a.grad!.shape).toEqual([1, 3]);
      expect(b.grad!.shape).toEqual([2, 1, 3]);
    }));
});

describe("binary ops, fixed inputs", () => {
  it("sums a bias gradient over the batch and a per-row scale over the columns", () =>
    tidy(() => {
      const x = tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
      const bias = tensor([10, 20, 30], [3], { requiresGrad: true });
      const rowScale = tensor([2, 3], [2, 1], { requiresGrad: true });
      const y = mul(add(x, bias), rowScale);
      expect(Array.from(y.toArray())).toEqual([22, 44, 66, 42, 75, 108]);
      y.backward(Tensor.zeros([2, 3]).set([1, 1, 1, 1, 1, 1]));
      expect(Array.from(bias.grad!.toArray())).toEqual([5, 5, 5]);
      expect(Array.from(rowScale.grad!.toArray())).toEqual([66, 75]);
      expect(Array.from(x.grad!.toArray())).toEqual([2, 2, 2, 3, 3, 3]);
    }));

  it("sub of a broadcast left operand and a gradient of -1 for the right", () =>
    tidy(() => {
      const a = tensor([1, 2], [2], { requiresGrad: true });
      const b = tensor([1, 1, 1, 1, 1, 1], [3, 2], { requiresGrad: true });
      const y = sub(a, b);
      expect(Array.from(y.toArray())).toEqual([0, 1, 0, 1, 0, 1]);
      y.backward(Tensor.zeros([3, 2]).set([1, 2, 3, 4, 5, 6]));
      expect(Array.from(a.grad!.toArray())).toEqual([9, 12]);
      expect(Array.from(b.grad!.toArray())).toEqual([-1, -2, -3, -4, -5, -6]);
    }));

  it("adds both gradients when one tensor is both inputs", () =>
    tidy(() => {
      const x = tensor([1, -2, 3], [3], { requiresGrad: true });
      add(x, x).backward(tensor([1, 1, 1]));
      expect(Array.from(x.grad!.toArray())).toEqual([2, 2, 2]);
      x.grad = null;
      mul(x, x).backward(tensor([1, 1, 1]));
      expect(Array.from(x.grad!.toArray())).toEqual([2, -4, 6]);
    }));

  it("handles empty tensors", () =>
    tidy(() => {
      expect(add(Tensor.zeros([0, 3]), Tensor.zeros([3])).shape).toEqual([0, 3]);
      expect(mul(Tensor.zeros([2, 0]), Tensor.zeros([1])).size).toBe(0);
    }));
});
