import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { dropout, Generator, globalGenerator, gradcheck, Tensor, tensor, tidy } from "../../../src/index.js";
import { dropoutMaskReference, dropoutReference } from "../../reference/dropout.js";
import { floats, setup } from "../../helpers/setup.js";

beforeAll(setup);

/** The two seed words a dropout call would draw from a generator in this state. */
function seedWords(state: readonly number[]): [number, number] {
  const g = new Generator();
  g.setState(state);
  return [g.nextUint32(), g.nextUint32()];
}

/** x = 1, 2, 3, … (never 0, so a 0 in the output means dropped). */
function ramp(shape: number[]): Tensor {
  const t = Tensor.empty(shape);
  const v = t.view();
  for (let i = 0; i < v.length; i++) v[i] = (i % 1000) + 1;
  return t;
}

function keptMask(y: Tensor): Uint8Array {
  return Uint8Array.from(y.view(), (v) => (v !== 0 ? 1 : 0));
}

describe("dropout", () => {
  it("matches the reference mask and values bit for bit (any size, incl. 1 and non-multiples of 4)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 67 }).chain((n) => floats(n, -3, 3)),
        fc.double({ min: 0, max: 0.95, noNaN: true }),
        fc.integer({ min: 0, max: 1e9 }),
        (x, rate, seed) =>
          tidy(() => {
            const generator = new Generator(seed);
            const [lo, hi] = seedWords(generator.getState());
            const y = dropout(tensor(x), rate, { generator }).toArray();
            const expected = dropoutReference(x, rate, lo, hi);
            for (let i = 0; i < x.length; i++) {
              if (!Object.is(y[i], expected[i]) && !(y[i] === 0 && expected[i] === 0)) {
                throw new Error(`index ${i}: got ${y[i]}, expected ${expected[i]} (rate ${rate})`);
              }
            }
          }),
      ),
    );
  });

  it("keeps a fraction 1 − rate of a large tensor, within binomial tolerance, in every SIMD lane", () =>
    tidy(() => {
      const n = 32 * 14 * 14 * 64;
      const x = ramp([32, 14, 14, 64]);
      for (const rate of [0.1, 0.5, 0.9]) {
        const mask = keptMask(dropout(x, rate, { generator: new Generator(123) }));
        const p = 1 - rate;
        // 5 standard deviations of a binomial proportion.
        const tol = (m: number) => 5 * Math.sqrt((p * (1 - p)) / m);
        let kept = 0;
        const lanes = [0, 0, 0, 0];
        let pairs = 0;
        for (let i = 0; i < n; i++) {
          kept += mask[i];
          lanes[i & 3] += mask[i];
          if (i + 1 < n) pairs += mask[i] & mask[i + 1];
        }
        expect(Math.abs(kept / n - p)).toBeLessThan(tol(n));
        for (const l of lanes) expect(Math.abs(l / (n / 4) - p)).toBeLessThan(tol(n / 4));
        // Neighbours independent: P(both kept) = p².
        expect(Math.abs(pairs / (n - 1) - p * p)).toBeLessThan(5 * Math.sqrt((p * p * (1 - p * p)) / n));
        // The 16 patterns of each aligned group of 4 (one SIMD vector): chi-square, 15 degrees of
        // freedom, 50 is far in the tail (p ≈ 1e-5).
        const counts = new Array(16).fill(0);
        for (let i = 0; i + 4 <= n; i += 4) counts[mask[i] | (mask[i + 1] << 1) | (mask[i + 2] << 2) | (mask[i + 3] << 3)]++;
        let chi2 = 0;
        counts.forEach((c, pattern) => {
          let k = 0;
          for (let b = 0; b < 4; b++) k += (pattern >> b) & 1;
          const expected = (n / 4) * p ** k * (1 - p) ** (4 - k);
          chi2 += (c - expected) ** 2 / expected;
        });
        expect(chi2).toBeLessThan(50);
      }
    }));

  it("scales kept values by 1/(1 − rate) exactly (x · fround(1/(1 − rate))) and zeroes the rest", () =>
    tidy(() => {
      const rate = 0.3;
      const x = tensor(Array.from({ length: 1001 }, (_, i) => Math.fround(0.37 * (i + 1))));
      const y = dropout(x, rate, { generator: new Generator(5) }).toArray();
      const xs = x.toArray();
      const scale = Math.fround(1 / (1 - rate));
      let kept = 0;
      for (let i = 0; i < xs.length; i++) {
        if (y[i] === 0) continue;
        kept++;
        expect(y[i]).toBe(Math.fround(xs[i] * scale));
        // And within half an ulp or so of x / (1 − rate) computed in float64.
        expect(Math.abs(y[i] - xs[i] / (1 - rate))).toBeLessThanOrEqual(Math.abs(y[i]) * 2 ** -22);
      }
      expect(kept).toBeGreaterThan(600);
      expect(kept).toBeLessThan(800);
    }));

  it("gives the same mask for the same generator state and a different one for another", () =>
    tidy(() => {
      const x = ramp([4099]);
      const a = new Generator(77);
      const b = new Generator(77);
      const first = keptMask(dropout(x, 0.5, { generator: a }));
      expect(Array.from(keptMask(dropout(x, 0.5, { generator: b })))).toEqual(Array.from(first));
      // The next call on the same generator draws new words: a different mask.
      const next = keptMask(dropout(x, 0.5, { generator: a }));
      const other = keptMask(dropout(x, 0.5, { generator: new Generator(78) }));
      for (const m of [next, other]) {
        let differ = 0;
        for (let i = 0; i < x.size; i++) differ += m[i] ^ first[i];
        // Independent masks at rate 0.5 differ in half the places.
        expect(Math.abs(differ / x.size - 0.5)).toBeLessThan(0.05);
      }
    }));

  it("draws exactly two words from the generator per call, whatever the size, and uses globalGenerator by default", () =>
    tidy(() => {
      const g = new Generator(9);
      const before = g.getState();
      dropout(ramp([10000]), 0.5, { generator: g });
      const probe = new Generator();
      probe.setState(before);
      probe.nextUint32();
      probe.nextUint32();
      expect(g.getState()).toEqual(probe.getState());

      const state = globalGenerator.getState();
      const x = ramp([257]);
      const y = dropout(x, 0.4).toArray();
      const [lo, hi] = seedWords(state);
      expect(Array.from(keptMask(tensor(y)))).toEqual(Array.from(dropoutMaskReference(257, 0.4, lo, hi)));
    }));

  it("backward multiplies the gradient by the forward's mask and scale", () =>
    tidy(() => {
      const rate = 0.25;
      const x = ramp([3, 37]);
      x.requiresGrad = true;
      const y = dropout(x, rate, { generator: new Generator(11) });
      const mask = keptMask(y);
      const g = tensor(Array.from({ length: x.size }, (_, i) => (i % 7) - 3 + 0.5), x.shape);
      y.backward(g);
      const gx = x.grad!.toArray();
      const gs = g.toArray();
      const scale = Math.fround(1 / (1 - rate));
      for (let i = 0; i < x.size; i++) expect(gx[i]).toBe(mask[i] ? Math.fround(gs[i] * scale) : 0);
    }));

  it("passes gradcheck with the generator reset before each evaluation", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 23 }).chain((n) => floats(n, -2, 2)),
        fc.double({ min: 0.05, max: 0.8, noNaN: true }),
        (x, rate) =>
          tidy(() => {
            const generator = new Generator(3);
            const state = generator.getState();
            const f = (t: Tensor) => {
              generator.setState(state);
              return dropout(t, rate, { generator });
            };
            return gradcheck(f, [tensor(x, [x.length], { requiresGrad: true })], { eps: 1e-2, atol: 1e-2, rtol: 1e-2 }).ok;
          }),
      ),
      { numRuns: 20 },
    );
  });

  it("returns the input itself, with nothing drawn or recorded, when not training or at rate 0", () =>
    tidy(() => {
      const x = ramp([5, 3]);
      x.requiresGrad = true;
      const g = new Generator(1);
      const before = g.getState();
      expect(dropout(x, 0.5, { training: false, generator: g })).toBe(x);
      expect(dropout(x, 0, { generator: g })).toBe(x);
      expect(g.getState()).toEqual(before);
    }));

  it("rejects rates outside [0, 1), naming the value", () =>
    tidy(() => {
      const x = ramp([4]);
      for (const rate of [1, 1.5, -0.1, Number.NaN, Infinity]) {
        expect(() => dropout(x, rate)).toThrow(`dropout: rate must be a number in [0, 1), got ${rate}`);
      }
      // Even when not training: a wrong rate is a bug either way.
      expect(() => dropout(x, 2, { training: false })).toThrow("got 2");
    }));
});
