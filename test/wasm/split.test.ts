// How work is cut into parts for the threads: tapered ranges cover the items once, in order,
// every part non-empty, the big ones first.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { taperedRanges } from "../../src/wasm/split.js";

describe("taperedRanges", () => {
  it("covers n items in order with `parts` non-empty ranges that never grow", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 32 }), fc.integer({ min: 0, max: 5000 }), (parts, extra) => {
      const n = parts + extra;
      const ranges = taperedRanges(n, parts);
      expect(ranges).toHaveLength(parts);
      let next = 0;
      for (const [start, count] of ranges) {
        expect(start).toBe(next);
        expect(count).toBeGreaterThanOrEqual(1);
        next = start + count;
      }
      expect(next).toBe(n);
      for (let p = 1; p < parts; p++) expect(ranges[p][1]).toBeLessThanOrEqual(ranges[p - 1][1]);
    }));
  });

  it("shrinks linearly: part p of P holds (P - p) / (P (P + 1) / 2) of the items, give or take 2", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 32 }), fc.integer({ min: 0, max: 100000 }), (parts, extra) => {
      const n = parts + extra;
      const total = (parts * (parts + 1)) / 2;
      taperedRanges(n, parts).forEach(([, count], p) => {
        expect(Math.abs(count - (n * (parts - p)) / total)).toBeLessThanOrEqual(2);
      });
    }));
    expect(taperedRanges(36008, 8).map((r) => r[1])).toEqual([8001, 7001, 6001, 5001, 4001, 3001, 2001, 1001]);
  });
});
