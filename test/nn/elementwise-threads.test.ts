// Elementwise work split across 2 threads by element ranges gives the one-thread result: Adam's
// update, dropout's mask (hashed from each element's index in the whole tensor), and a leaf's
// gradient accumulated into .grad and cleared by zeroGrad.
import { afterAll, describe, expect, it } from "vitest";
import { Adam, dropout, Generator, init, mul, shutdown, sum, Tensor, tensor, threadCount, tidy, zeroGrad } from "../../src/index.js";
import { kernels } from "../../src/wasm/loader.js";
import { itemThreads } from "../../src/wasm/split.js";
import { dropoutReference } from "../reference/dropout.js";

describe("Adam on threads", () => {
  afterAll(shutdown);

  it("gives bit-identical parameters on 1 and 2 threads", async () => {
    const size = 100_003; // not a multiple of 4: ranges end inside a SIMD group
    const g = new Generator(5);
    const p0 = Float32Array.from({ length: size }, () => g.uniform(-1, 1));
    const grads = [0, 1, 2].map(() => Float32Array.from({ length: size }, () => g.uniform(-1, 1)));
    const results: Float32Array[] = [];
    for (const threads of [1, 2]) {
      await shutdown();
      await init({ threads });
      expect(threadCount()).toBe(threads);
      expect(itemThreads(size, size * 20)).toBe(threads);
      const p = tensor(p0, [size], { requiresGrad: true, persistent: true });
      p.grad = Tensor.owned([size], true);
      const adam = new Adam();
      for (const grad of grads) {
        p.grad.set(grad);
        adam.step([p]);
      }
      results.push(p.toArray());
      adam.dispose();
      p.dispose();
    }
    expect(results[1].findIndex((v, i) => !Object.is(v, results[0][i]))).toBe(-1);
    expect(results[0]).not.toEqual(p0);
  });

  it("updates an element the same in a range's SIMD body as in its scalar tail, wherever the range starts", async () => {
    // Ranges end where the threads' parts do: each element must come out the same whichever of
    // the two loops takes it.
    await shutdown();
    await init({ threads: 1 });
    const n = 4096;
    const g = new Generator(8);
    const values = () => Float32Array.from({ length: n }, () => g.uniform(-1, 1));
    const [p0, grad, m0] = [values(), values(), values()];
    const v0 = Float32Array.from(values(), (x) => x * x);
    const k = kernels<{ adam_update(p: number, g: number, m: number, v: number, n: number, lrT: number, b1: number, b2: number, eps: number): void }>();
    const run = (ranges: [number, number][]) => tidy(() => {
      const [p, gr, m, v] = [p0, grad, m0, v0].map((a) => tensor(a));
      for (const [start, count] of ranges) {
        k.adam_update(p.ptr + 4 * start, gr.ptr + 4 * start, m.ptr + 4 * start, v.ptr + 4 * start, count, 0.01, 0.9, 0.999, 1e-7);
      }
      return [p, m, v].map((t) => t.toArray());
    });
    const whole = run([[0, n]]);
    // Ranges of 1, 2, 3, 1, 2, 3, ... elements: too short for the SIMD body, starting anywhere in a group of 4.
    const short: [number, number][] = [];
    for (let start = 0, i = 0; start < n; i++) {
      const count = Math.min(1 + (i % 3), n - start);
      short.push([start, count]);
      start += count;
    }
    const tails = run(short);
    for (let t = 0; t < 3; t++) expect(whole[t].findIndex((x, i) => !Object.is(x, tails[t][i])), ["p", "m", "v"][t]).toBe(-1);
  });
});

describe("dropout on threads", () => {
  afterAll(shutdown);

  it("draws the same mask on 2 threads as the reference hash over the whole tensor", async () => {
    await shutdown();
    await init({ threads: 2 });
    const size = 32 * 14 * 14 * 64 + 3;
    expect(itemThreads(size, size * 8)).toBe(2);
    const g = new Generator(8);
    const xs = Float32Array.from({ length: size }, () => g.uniform(-1, 1));
    const words = new Generator(99);
    const seedLo = words.nextUint32();
    const seedHi = words.nextUint32();
    const y = tidy(() => dropout(tensor(xs), 0.3, { generator: new Generator(99) }).toArray());
    const expected = dropoutReference(xs, 0.3, seedLo, seedHi);
    // The first differing index (-1: none), rather than a diff of 400k values.
    expect(y.findIndex((v, i) => !Object.is(v, expected[i]))).toBe(-1);
  });

  it("stores the mask over 2 threads' ranges and the backward applies it to the gradient", async () => {
    await shutdown();
    await init({ threads: 2 });
    const size = 32 * 14 * 14 * 64 + 5; // ranges end inside a 16-element group of the mask's bytes
    expect(itemThreads(size, size * 9)).toBe(2);
    const g = new Generator(18);
    const xs = Float32Array.from({ length: size }, () => g.uniform(-1, 1));
    const gys = Float32Array.from({ length: size }, () => g.uniform(-1, 1));
    const words = new Generator(7);
    const seedLo = words.nextUint32();
    const seedHi = words.nextUint32();
    const [y, gx] = tidy(() => {
      const x = tensor(xs, [size], { requiresGrad: true });
      const out = dropout(x, 0.3, { generator: new Generator(7) });
      out.backward(tensor(gys));
      return [out.toArray(), x.grad!.toArray()];
    });
    const expectedY = dropoutReference(xs, 0.3, seedLo, seedHi);
    expect(y.findIndex((v, i) => !Object.is(v, expectedY[i]))).toBe(-1);
    // The gradient is the same function of gy as the forward is of x: same mask, same scale.
    const expected = dropoutReference(gys, 0.3, seedLo, seedHi);
    expect(gx.findIndex((v, i) => !Object.is(v, expected[i]))).toBe(-1);
  });
});

describe("gradient accumulation on threads", () => {
  afterAll(shutdown);

  it("adds into .grad and clears it with zeroGrad the same on 1 and 2 threads", async () => {
    const size = 401_411; // the dense layer's kernel is 401,408: large enough to split
    const g = new Generator(12);
    const x0 = Float32Array.from({ length: size }, () => g.uniform(-1, 1));
    const w = Float32Array.from({ length: size }, () => g.uniform(-1, 1));
    const results: Float32Array[][] = [];
    for (const threads of [1, 2]) {
      await shutdown();
      await init({ threads });
      expect(itemThreads(size, size * 12)).toBe(threads);
      const x = tensor(x0, [size], { requiresGrad: true, persistent: true });
      const weights = tensor(w, [size]);
      const seen: Float32Array[] = [];
      // Two backward passes add up (grad = 2w), zeroGrad clears, a third gives w again.
      for (let pass = 0; pass < 3; pass++) {
        if (pass === 2) {
          zeroGrad([x]);
          seen.push(x.grad!.toArray());
        }
        tidy(() => sum(mul(x, weights)).backward());
        seen.push(x.grad!.toArray());
      }
      results.push(seen);
      x.dispose();
      weights.dispose();
    }
    const [one, two] = results;
    expect(one[1]).toEqual(Float32Array.from(w, (v) => Math.fround(v + v)));
    expect(one[2].every((v) => v === 0)).toBe(true);
    expect(one[3]).toEqual(w);
    for (let i = 0; i < one.length; i++) expect(two[i].findIndex((v, j) => !Object.is(v, one[i][j]))).toBe(-1);
  });
});
