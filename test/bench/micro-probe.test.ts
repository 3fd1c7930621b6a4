// The bench's load-side probe (kernels/peak.ts's micro_f32x4) runs the GEMMs' real 4x8 tile: each
// call writes C = (packed strip of A) · (packed panels of B), so its timing is that of the work.

import { beforeAll, describe, expect, it } from "vitest";
import { tensor, tidy } from "../../src/index.js";
import { kernels } from "../../src/wasm/loader.js";
import { expectClose, setup } from "../helpers/setup.js";

beforeAll(setup);

interface ProbeKernel {
  micro_f32x4(calls: number, packedA: number, packedB: number, c: number, n: number, kc: number, stage: number): void;
}

describe("micro_f32x4", () => {
  it("writes the product of the packed strip and panels, however many calls", () => {
    const kc = 5;
    const n = 16;
    // packedA: for each p the 4 values A(0..3, p); packedB: panel q holds for each p B(p, 8q..8q+7).
    const a = Array.from({ length: 4 * kc }, (_, i) => ((i * 7) % 11) - 5);
    const b = Array.from({ length: kc * n }, (_, i) => ((i * 5) % 13) / 4 - 1.5);
    const expected: number[] = [];
    for (let r = 0; r < 4; r++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < kc; p++) sum += a[p * 4 + r] * b[(j >> 3) * kc * 8 + p * 8 + (j & 7)];
        expected.push(sum);
      }
    }
    for (const calls of [1, 3]) {
      tidy(() => {
        const c = tensor(new Array(4 * n).fill(123));
        const stage = tensor(new Array(64).fill(0));
        kernels<ProbeKernel>().micro_f32x4(calls, tensor(a).ptr, tensor(b).ptr, c.ptr, n, kc, stage.ptr);
        expectClose(c.toArray(), expected, 1e-6, 1e-6);
      });
    }
    expect(expected.some((v) => v !== 0)).toBe(true);
  });
});
