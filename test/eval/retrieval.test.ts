import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { Generator, memoryStats, retrievalMetrics, tensor, tidy } from "../../src/index.js";
import { retrievalReference } from "../reference/retrieval.js";
import { setup } from "../helpers/setup.js";

beforeAll(setup);

/** Rows of `dim` values: `xs[i]` in the first coordinate, 7 in the others (distances unchanged). */
function onALine(xs: number[], dim: number): Float32Array {
  const out = new Float32Array(xs.length * dim).fill(7);
  xs.forEach((x, i) => (out[i * dim] = x));
  return out;
}

function expectMetrics(actual: ReturnType<typeof retrievalMetrics>, expected: ReturnType<typeof retrievalMetrics>): void {
  expect(actual.count).toBe(expected.count);
  expect(actual.precisionAt1).toBeCloseTo(expected.precisionAt1, 12);
  expect(actual.rPrecision).toBeCloseTo(expected.rPrecision, 12);
  expect(actual.mapAtR).toBeCloseTo(expected.mapAtR, 12);
}

describe("retrievalMetrics", () => {
  it("gives 1 everywhere for three well-separated clusters, for every metric", () => {
    const g = new Generator(1);
    const dim = 8;
    const n = 30;
    const x = new Float32Array(n * dim);
    const labels = Array.from({ length: n }, (_, i) => i % 3);
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < dim; p++) x[i * dim + p] = (p === labels[i] ? 10 : 0) + 0.1 * g.normal();
    }
    for (const metric of ["L2", "squared-L2", "angular"] as const) {
      expect(retrievalMetrics(x, labels, { dim, metric })).toEqual({ precisionAt1: 1, rPrecision: 1, mapAtR: 1, count: n });
    }
  });

  it("matches a case worked out by hand", () => {
    // Points on a line (index: x, label): 0: 0 A, 1: 1 A, 2: 4 A, 3: 5 B, 4: 9 B, 5: 100 C.
    //  query 0 (R=2): 1 A, 2 A, 3 B, 4 B       -> P@1 1, R-prec 1,   MAP@R (1+1)/2 = 1
    //  query 1 (R=2): 0 A, 2 A, 3 B, 4 B       -> P@1 1, R-prec 1,   MAP@R 1
    //  query 2 (R=2): 3 B, 1 A, 0 A, 4 B       -> P@1 0, R-prec 1/2, MAP@R (0 + 1/2)/2 = 1/4
    //  query 3 (R=1): 2 A, ...                 -> 0, 0, 0
    //  query 4 (R=1): 3 B, ...                 -> 1, 1, 1
    //  query 5: C occurs once, R=0: skipped.   count 5
    // P@1 = 3/5, R-precision = 3.5/5 = 0.7, MAP@R = 3.25/5 = 0.65.
    const labels = [0, 0, 0, 1, 1, 2];
    for (const dim of [1, 3, 5]) {
      const m = retrievalMetrics(onALine([0, 1, 4, 5, 9, 100], dim), labels, { dim });
      expectMetrics(m, { precisionAt1: 0.6, rPrecision: 0.7, mapAtR: 0.65, count: 5 });
    }
  });

  it("breaks ties in distance by index (lower first)", () => {
    // Query 0 at x=0 has two neighbours at distance 1: index 1 (x=-1) and index 2 (x=1).
    // Labels B and C occur once, so only the two A's are queries.
    const x = onALine([0, -1, 1, 10], 2);
    // Index 1 is a B: it wins the tie, query 0 misses; query at x=1 finds x=0 (A). P@1 = 1/2.
    expect(retrievalMetrics(x, [0, 1, 0, 2], { dim: 2 }).precisionAt1).toBe(0.5);
    // Index 1 is the other A: query 0 hits; query at x=-1 finds x=0 (A). P@1 = 1.
    expect(retrievalMetrics(x, [0, 0, 1, 2], { dim: 2 }).precisionAt1).toBe(1);
  });

  it("skips queries whose label occurs once (R = 0) and counts the rest", () => {
    // Labels 6 and 7 occur once; the two 5's (x=0 and x=1) are each other's nearest.
    const x = onALine([0, 10, 1, 20], 1);
    expectMetrics(retrievalMetrics(x, [5, 6, 5, 7], { dim: 1 }), { precisionAt1: 1, rPrecision: 1, mapAtR: 1, count: 2 });
    const lone = retrievalMetrics(x, [0, 1, 2, 3], { dim: 1 });
    expect(lone.count).toBe(0);
    expect(lone.precisionAt1).toBeNaN();
  });

  it("matches the brute-force reference (full sort) on random small data, L2", () => {
    // Small integers: every distance is exact in float32, so ties are real and must agree.
    fc.assert(
      fc.property(
        fc.record({ n: fc.integer({ min: 1, max: 40 }), dim: fc.integer({ min: 1, max: 6 }), classes: fc.integer({ min: 1, max: 4 }), block: fc.integer({ min: 1, max: 9 }) })
          .chain(({ n, dim, classes, block }) => fc.record({
            dim: fc.constant(dim),
            block: fc.constant(block),
            x: fc.array(fc.integer({ min: -3, max: 3 }), { minLength: n * dim, maxLength: n * dim }),
            labels: fc.array(fc.integer({ min: 0, max: classes - 1 }), { minLength: n, maxLength: n }),
          })),
        ({ dim, block, x, labels }) => {
          const expected = retrievalReference(x, labels, dim);
          for (const metric of ["L2", "squared-L2"] as const) {
            const actual = retrievalMetrics(Float32Array.from(x), labels, { dim, metric, blockSize: block });
            if (expected.count === 0) expect(actual.count).toBe(0);
            else expectMetrics(actual, expected);
          }
        },
      ),
    );
  });

  it("matches the reference for angular, and ignores each row's scale", () => {
    // Entries in {-1, 0, 1}: cosines of distinct values differ by far more than float32 rounding.
    fc.assert(
      fc.property(
        fc.record({ n: fc.integer({ min: 2, max: 30 }), dim: fc.integer({ min: 1, max: 4 }) })
          .chain(({ n, dim }) => fc.record({
            dim: fc.constant(dim),
            x: fc.array(fc.integer({ min: -1, max: 1 }), { minLength: n * dim, maxLength: n * dim }),
            scales: fc.array(fc.integer({ min: -3, max: 3 }), { minLength: n, maxLength: n }),
            labels: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: n, maxLength: n }),
          })),
        ({ dim, x, scales, labels }) => {
          const expected = retrievalReference(x, labels, dim, "angular");
          const scaled = Float32Array.from(x, (v, i) => v * 2 ** scales[Math.floor(i / dim)]);
          const actual = retrievalMetrics(scaled, labels, { dim, metric: "angular", blockSize: 7 });
          if (expected.count === 0) expect(actual.count).toBe(0);
          else expectMetrics(actual, expected);
        },
      ),
    );
  });

  it("takes a Tensor, leaves it alive and frees its own memory", () =>
    tidy(() => {
      const x = onALine([0, 1, 4, 5, 9, 100], 3);
      const t = tensor(x, [6, 3]);
      const before = memoryStats().liveBytes;
      const m = retrievalMetrics(t, [0, 0, 0, 1, 1, 2]);
      expect(memoryStats().liveBytes).toBe(before);
      expectMetrics(m, { precisionAt1: 0.6, rPrecision: 0.7, mapAtR: 0.65, count: 5 });
      expect(t.isDisposed).toBe(false);
      expectMetrics(retrievalMetrics(t, [0, 0, 0, 1, 1, 2], { metric: "angular" }), retrievalReference(x, [0, 0, 0, 1, 1, 2], 3, "angular"));
    }));

  it("names shape mismatches", () => {
    expect(() => retrievalMetrics(new Float32Array(10), [0, 1, 2], { dim: 3 })).toThrow(/length 10 is not divisible by dim 3/);
    expect(() => retrievalMetrics(new Float32Array(9), [0, 1], { dim: 3 })).toThrow(/2 labels for 3 embeddings/);
    expect(() => retrievalMetrics(new Float32Array(9), [0, 1, 2])).toThrow(/dim option is required/);
    expect(() => retrievalMetrics(new Float32Array(9), [0, 1, 2], { dim: 3, metric: "cosine" as never })).toThrow(/unknown metric "cosine"/);
    tidy(() => {
      expect(() => retrievalMetrics(tensor(new Float32Array(8), [2, 2, 2]), [0, 1])).toThrow(/shape \[2,2,2\], expected \[N, dim\]/);
    });
  });
});
