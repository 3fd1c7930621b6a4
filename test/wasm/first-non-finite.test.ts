// The wasm finiteness check (kernels/finite.ts) that a training step runs on its input batch and
// predictions, against the definition: the index of the first NaN or ±Infinity, or -1.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { tensor, tidy } from "../../src/index.js";
import { kernels } from "../../src/wasm/loader.js";
import { setup } from "../helpers/setup.js";

beforeAll(setup);

const firstNonFiniteReference = (xs: ArrayLike<number>) => Array.prototype.findIndex.call(xs, (v: number) => !Number.isFinite(v));

function firstNonFiniteKernel(xs: number[]): number {
  return tidy(() => {
    const t = tensor(xs);
    return kernels<{ first_non_finite(x: number, n: number): number }>().first_non_finite(t.ptr, t.size);
  });
}

describe("first_non_finite", () => {
  it("finds the first NaN or ±Infinity at any position, in the SIMD body or the tail, of any length", () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 0, maxLength: 70 }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(Number.NaN, Infinity, -Infinity)), { maxLength: 3 }),
        (xs, bad) => {
          for (const [at, value] of bad) if (xs.length > 0) xs[at % xs.length] = value;
          expect(firstNonFiniteKernel(xs)).toBe(firstNonFiniteReference(Float32Array.from(xs)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("answers -1 for finite extremes whose product with 0 is still 0 (largest float32, subnormals, -0)", () => {
    const xs = [3.4028234663852886e38, -3.4028234663852886e38, 1e-45, -1e-45, -0, 0, 1, 2, 3];
    expect(firstNonFiniteKernel(xs)).toBe(-1);
    expect(firstNonFiniteKernel([...xs, Infinity])).toBe(xs.length);
  });
});
