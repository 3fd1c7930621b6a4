import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { Generator, gradcheck, maxPool2d, tensor, Tensor, tidy } from "../../../src/index.js";
import { maxPool2dReference, maxPool2dReferenceBackward } from "../../reference/maxpool2d.js";
import { expectClose, setup } from "../../helpers/setup.js";

beforeAll(setup);

interface Case {
  n: number; h: number; w: number; c: number; pool: [number, number]; strides: [number, number];
  padding: "same" | "valid"; seed: number;
}

/** Random shapes; 'valid' only where the pool fits. */
const cases = (maxHw: number, maxC: number) =>
  fc.record({
    n: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 1, max: maxHw }), w: fc.integer({ min: 1, max: maxHw }),
    c: fc.integer({ min: 1, max: maxC }),
    pool: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    padding: fc.constantFrom("same" as const, "valid" as const), seed: fc.integer({ min: 0, max: 1e9 }),
  }).map((c): Case => (c.padding === "valid" && (c.pool[0] > c.h || c.pool[1] > c.w) ? { ...c, padding: "same" } : c));

const shapeOf = (c: Case) => [c.n, c.h, c.w, c.c] as const;
const options = (c: Case) => ({ poolSize: c.pool, strides: c.strides, padding: c.padding });

/** Values with many ties (a few integers), or all distinct (a shuffled ladder spaced by 0.1). */
function values(c: Case, ties: boolean): Float32Array {
  const rng = new Generator(c.seed);
  const size = c.n * c.h * c.w * c.c;
  if (ties) return Float32Array.from({ length: size }, () => rng.nextInt(3) - 2);
  const v = Float32Array.from({ length: size }, (_, i) => (i - size / 2) * 0.1);
  for (let i = size - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [v[i], v[j]] = [v[j], v[i]];
  }
  return v;
}

function checkCase(c: Case, ties: boolean): void {
  tidy(() => {
    const xv = values(c, ties);
    const x = tensor(xv, shapeOf(c), { requiresGrad: true });
    const y = maxPool2d(x, options(c));
    const ref = maxPool2dReference(xv, shapeOf(c), options(c));
    expect(y.shape).toEqual(ref.shape);
    expectClose(y.toArray(), ref.y, 0, 0);
    const rng = new Generator(c.seed + 1);
    const gy = Float32Array.from({ length: y.size }, () => rng.uniform(-1, 1));
    y.backward(tensor(gy, y.shape));
    expectClose(x.grad!.toArray(), maxPool2dReferenceBackward(xv.length, ref.argmax, gy), 1e-6, 1e-6);
  });
}

describe("maxPool2d", () => {
  const shapes = cases(9, 10);
  it("matches the reference, forward and backward, with many ties (first maximum wins)", () => {
    fc.assert(fc.property(shapes, (c) => checkCase(c, true)));
  });

  it("matches the reference, forward and backward, with distinct values", () => {
    fc.assert(fc.property(shapes, (c) => checkCase(c, false)));
  });

  it("matches the reference at the model's shapes (batch 2)", () => {
    const base = { n: 2, pool: [2, 2] as [number, number], strides: [2, 2] as [number, number], padding: "valid" as const, seed: 3 };
    checkCase({ ...base, h: 28, w: 28, c: 64 }, false);
    checkCase({ ...base, h: 14, w: 14, c: 32 }, true);
  });

  it("passes gradcheck with distinct values (no ties)", () => {
    fc.assert(
      fc.property(cases(5, 5), (c) =>
        tidy(() => gradcheck((x) => maxPool2d(x, options(c)), [tensor(values(c, false), shapeOf(c), { requiresGrad: true })], { eps: 1e-2, atol: 1e-2, rtol: 1e-2 }).ok),
      ),
      { numRuns: 20 },
    );
  });

  it("routes a tie's gradient to the first maximum in row-major window order", () =>
    tidy(() => {
      // Five channels (a SIMD group of 4 and a scalar tail), each with its own tie pattern.
      // Window 2x2, pixels in order (0,0) (0,1) (1,0) (1,1).
      const pixels = [
        [5, 1, 7, 3, 2],
        [5, 7, 0, 3, 9],
        [5, 7, 7, 3, 9],
        [5, 2, 7, 3, 1],
      ];
      const x = tensor(pixels.flat(), [1, 2, 2, 5], { requiresGrad: true });
      const y = maxPool2d(x);
      expect(Array.from(y.toArray())).toEqual([5, 7, 7, 3, 9]);
      y.backward(tensor([1, 2, 3, 4, 5], [1, 1, 1, 5]));
      expect(Array.from(x.grad!.toArray())).toEqual([
        1, 0, 3, 4, 0,
        0, 2, 0, 0, 5,
        0, 0, 0, 0, 0,
        0, 0, 0, 0, 0,
      ]);
    }));

  it("routes ties to the first maximum on the 2x2/stride-2 fast path too (channels a multiple of 4)", () =>
    tidy(() => {
      // The first four channels of the case above, so the specialised 2x2 kernel runs.
      const pixels = [
        [5, 1, 7, 3],
        [5, 7, 0, 3],
        [5, 7, 7, 3],
        [5, 2, 7, 3],
      ];
      const x = tensor(pixels.flat(), [1, 2, 2, 4], { requiresGrad: true });
      const y = maxPool2d(x);
      expect(Array.from(y.toArray())).toEqual([5, 7, 7, 3]);
      y.backward(tensor([1, 2, 3, 4], [1, 1, 1, 4]));
      expect(Array.from(x.grad!.toArray())).toEqual([
        1, 0, 3, 4,
        0, 2, 0, 0,
        0, 0, 0, 0,
        0, 0, 0, 0,
      ]);
    }));

  it("accumulates the gradients of overlapping windows", () =>
    tidy(() => {
      const x = tensor([1, 9, 2, 3], [1, 1, 4, 1], { requiresGrad: true });
      const y = maxPool2d(x, { poolSize: [1, 2], strides: 1 });
      expect(Array.from(y.toArray())).toEqual([9, 9, 3]);
      y.backward(tensor([1, 1, 1], [1, 1, 3, 1]));
      expect(Array.from(x.grad!.toArray())).toEqual([0, 2, 0, 1]);
    }));

  it("never lets a padded position win with 'same' padding (nothing before, one after)", () =>
    tidy(() => {
      const x = tensor([-1, -2, -3, -4, -5, -6, -7, -8, -9], [1, 3, 3, 1], { requiresGrad: true });
      const y = maxPool2d(x, { padding: "same" });
      expect(y.shape).toEqual([1, 2, 2, 1]);
      // Windows rows {0,1}|{2}, columns {0,1}|{2}.
      expect(Array.from(y.toArray())).toEqual([-1, -3, -7, -9]);
      y.backward(tensor([1, 2, 3, 4], [1, 2, 2, 1]));
      expect(Array.from(x.grad!.toArray())).toEqual([1, 0, 2, 0, 0, 0, 3, 0, 4]);
    }));

  it("rejects bad arguments with messages that say what was expected", () =>
    tidy(() => {
      expect(() => maxPool2d(Tensor.zeros([2, 2, 3]))).toThrow(/maxPool2d: input must have rank 4.*\[2,2,3\]/);
      expect(() => maxPool2d(Tensor.zeros([1, 1, 3, 2]))).toThrow("maxPool2d: pool 2x2 is larger than the input 1x3 with 'valid' padding");
      expect(() => maxPool2d(Tensor.zeros([1, 4, 4, 2]), { poolSize: [2, 0] })).toThrow(/maxPool2d: poolSize must be a positive integer/);
      expect(() => maxPool2d(Tensor.zeros([1, 4, 4, 2]), { strides: 1.5 })).toThrow(/maxPool2d: strides must be a positive integer/);
      expect(() => maxPool2d(Tensor.zeros([1, 4, 4, 2]), { padding: "causal" as "same" })).toThrow(/maxPool2d: padding must be/);
      expect(maxPool2d(Tensor.zeros([1, 1, 3, 2]), { padding: "same" }).shape).toEqual([1, 1, 2, 2]);
    }));
});
