// The kernel that adds the partial sums of fixed parts of a batch (kernels/elementwise.ts,
// sum_parts), against float32 additions in the same order: the same bits, whatever the length
// (SIMD body and tail), the stride between parts and their count.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { tensor, tidy } from "../../src/index.js";
import { kernels } from "../../src/wasm/loader.js";
import { setup } from "../helpers/setup.js";

beforeAll(setup);

interface SumPartsKernel {
  sum_parts(dst: number, parts: number, n: number, stride: number, count: number): void;
}

describe("sum_parts", () => {
  it("gives ((p0 + p1) + p2) + ... bit for bit, reading n of every stride floats", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 37 }), fc.integer({ min: 0, max: 5 }), fc.integer(),
        (count, n, pad, seed) => {
          const stride = n + pad;
          const values = Float32Array.from({ length: count * stride }, (_, i) => Math.sin(seed + i * 12.9898) * 1e3);
          const expected = new Float32Array(n);
          for (let i = 0; i < n; i++) {
            let sum = values[i];
            for (let j = 1; j < count; j++) sum = Math.fround(sum + values[j * stride + i]);
            expected[i] = sum;
          }
          const got = tidy(() => {
            const parts = tensor(values);
            const dst = tensor(new Float32Array(n + 1).fill(-7));
            kernels<SumPartsKernel>().sum_parts(dst.ptr, parts.ptr, n, stride, count);
            return dst.toArray();
          });
          expect(new Uint32Array(got.buffer, 0, n)).toEqual(new Uint32Array(expected.buffer));
          expect(got[n]).toBe(-7); // nothing written past n
        }),
    );
  });
});
