import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { nearestNeighbors, tensor, tidy } from "../../src/index.js";
import { expectClose, setup } from "../helpers/setup.js";

beforeAll(setup);

type Metric = "L2" | "squared-L2" | "angular";

/** k nearest by the definition: the point itself, then the others by distance, ties to the lower index. */
function bruteNeighbors(x: number[][], k: number, metric: Metric) {
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, a) => s + a * a, 0));
  const distance = (u: number[], v: number[]) => {
    if (metric === "angular") {
      const nu = norm(u);
      const nv = norm(v);
      return nu === 0 || nv === 0 ? 1 : 1 - u.reduce((s, a, p) => s + a * v[p], 0) / (nu * nv);
    }
    const squared = u.reduce((s, a, p) => s + (a - v[p]) ** 2, 0);
    return metric === "L2" ? Math.sqrt(squared) : squared;
  };
  return x.map((u, q) => {
    const others = x.map((v, j) => ({ j, d: distance(u, v) })).filter(({ j }) => j !== q);
    others.sort((a, b) => a.d - b.d || a.j - b.j);
    return [{ j: q, d: 0 }, ...others.slice(0, k - 1)];
  });
}

const cases = (values: fc.Arbitrary<number>) =>
  fc.record({ n: fc.integer({ min: 1, max: 40 }), dim: fc.integer({ min: 1, max: 9 }), blockSize: fc.integer({ min: 1, max: 16 }) })
    .chain(({ n, dim, blockSize }) => fc.record({
      x: fc.array(fc.array(values, { minLength: dim, maxLength: dim }), { minLength: n, maxLength: n }),
      k: fc.integer({ min: 1, max: n }),
      blockSize: fc.constant(blockSize),
    }));

describe("nearestNeighbors", () => {
  it("equals the brute-force kNN for the L2 metrics, ties to the lower index (integer points: exact keys)", () => {
    fc.assert(fc.property(cases(fc.integer({ min: -3, max: 3 })), fc.constantFrom<Metric>("L2", "squared-L2"), ({ x, k, blockSize }, metric) => {
      const dim = x[0].length;
      const knn = nearestNeighbors(Float32Array.from(x.flat()), k, { dim, metric, blockSize });
      const expected = bruteNeighbors(x, k, metric);
      expect(Array.from(knn.indices)).toEqual(expected.flatMap((row) => row.map((e) => e.j)));
      expectClose(knn.distances, expected.flatMap((row) => row.map((e) => e.d)), 1e-5, 1e-6);
    }));
  });

  it("equals the brute-force kNN for the angular metric, from a Tensor", () => {
    const values = fc.float({ min: -1, max: 1, noNaN: true }).filter((v) => Math.abs(v) > 1e-3);
    fc.assert(fc.property(cases(values), ({ x, k, blockSize }) => {
      const dim = x[0].length;
      const expected = bruteNeighbors(x, k, "angular");
      // Near-ties may rank either way in float32: only cases whose k nearest are well apart.
      const full = bruteNeighbors(x, x.length, "angular");
      fc.pre(full.every((row) => row.slice(1, k + 1).every((e, i, r) => i === 0 || e.d - r[i - 1].d > 1e-4)));
      tidy(() => {
        const knn = nearestNeighbors(tensor(Float32Array.from(x.flat()), [x.length, dim]), k, { metric: "angular", blockSize });
        expect(Array.from(knn.indices)).toEqual(expected.flatMap((row) => row.map((e) => e.j)));
        expectClose(knn.distances, expected.flatMap((row) => row.map((e) => e.d)), 1e-5, 1e-5);
      });
    }));
  });

  it("names bad arguments", () => {
    expect(() => nearestNeighbors(new Float32Array(6), 4, { dim: 2 })).toThrow(/k must be an integer in \[1, 3\] for 3 points, got 4/);
    expect(() => nearestNeighbors(new Float32Array(5), 1, { dim: 2 })).toThrow(/length 5 is not divisible by dim 2/);
  });
});
