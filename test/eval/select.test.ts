import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sortSmallest } from "../../src/eval/select.js";

describe("sortSmallest", () => {
  it("puts the r smallest first, in order, and keeps the same multiset (duplicates too)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 1, maxLength: 300 }).chain((xs) =>
          fc.tuple(fc.constant(xs), fc.integer({ min: 1, max: xs.length }))),
        ([xs, r]) => {
          const values = Float64Array.from(xs);
          sortSmallest(values, values.length, r);
          const sorted = [...xs].sort((a, b) => a - b);
          expect(Array.from(values.subarray(0, r))).toEqual(sorted.slice(0, r));
          expect(Array.from(values).sort((a, b) => a - b)).toEqual(sorted);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("only looks at the first count values", () => {
    const values = Float64Array.from([5, 3, 9, 1, -100, -200]);
    sortSmallest(values, 4, 2);
    expect(Array.from(values.subarray(0, 2))).toEqual([1, 3]);
    expect(Array.from(values.subarray(4))).toEqual([-100, -200]);
  });
});
