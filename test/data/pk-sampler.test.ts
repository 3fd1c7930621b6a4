import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pkSampler } from "../../src/index.js";
import "../helpers/setup.js";

/** Labels for classes of the given sizes, interleaved so that a class's indices are not contiguous. */
function labelsFor(sizes: number[]): number[] {
  const labels: number[] = [];
  const remaining = [...sizes];
  while (remaining.some((r) => r > 0)) {
    remaining.forEach((r, c) => {
      if (r > 0) {
        labels.push(c * 3 + 1);
        remaining[c]--;
      }
    });
  }
  return labels;
}

describe("pkSampler", () => {
  it("gives batches of exactly P distinct classes with K examples each", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer(),
        (sizes, pWanted, k, seed) => {
          const p = Math.min(pWanted, sizes.length);
          const labels = labelsFor(sizes);
          const batches = pkSampler(labels, { p, k, seed, batches: 5 }).toArray();
          expect(batches.length).toBe(5);
          for (const batch of batches) {
            expect(batch.length).toBe(p * k);
            const classes = new Set<number>();
            for (let c = 0; c < p; c++) {
              const group = Array.from(batch.subarray(c * k, (c + 1) * k));
              const label = labels[group[0]];
              expect(group.every((i) => labels[i] === label)).toBe(true);
              classes.add(label);
              const classSize = labels.filter((l) => l === label).length;
              if (classSize >= k) expect(new Set(group).size).toBe(k);
            }
            expect(classes.size).toBe(p);
          }
        },
      ),
    );
  });

  it("is repeatable with a seed, differs between epochs, and covers all classes over time", () => {
    const labels = labelsFor([20, 20, 20, 20, 20]);
    const a = pkSampler(labels, { p: 2, k: 4, seed: 9 });
    const b = pkSampler(labels, { p: 2, k: 4, seed: 9 });
    expect(a.size).toBe(12);
    const [a1, a2] = [a.toArray(), a.toArray()];
    expect([b.toArray(), b.toArray()]).toEqual([a1, a2]);
    expect(a1).not.toEqual(a2);
    const seen = new Set(a1.flatMap((batch) => Array.from(batch, (i) => labels[i])));
    expect(seen.size).toBe(5);
  });

  it("samples with replacement inside a class smaller than K", () => {
    const labels = [0, 0, 1, 1, 1, 1, 1];
    for (const batch of pkSampler(labels, { p: 2, k: 4, seed: 1, batches: 20 })) {
      const zeros = Array.from(batch).filter((i) => labels[i] === 0);
      expect(zeros.length).toBe(4);
      expect(zeros.every((i) => i === 0 || i === 1)).toBe(true);
    }
  });

  it("rejects P larger than the number of classes, and bad sizes", () => {
    expect(() => pkSampler([0, 1, 1, 2], { p: 4, k: 2 })).toThrow("pkSampler: p = 4 classes per batch, but the labels have only 3 classes");
    expect(() => pkSampler([0, 1], { p: 0, k: 2 })).toThrow("pkSampler: p must be a positive integer, got 0");
    expect(() => pkSampler([], { p: 1, k: 1 })).toThrow("pkSampler: no labels");
  });

  it("state/restore replays an epoch", () => {
    const sampler = pkSampler(labelsFor([5, 6, 7]), { p: 3, k: 2, seed: 4 });
    const saved = sampler.state();
    const first = sampler.toArray();
    sampler.restore(saved);
    expect(sampler.toArray()).toEqual(first);
  });
});
