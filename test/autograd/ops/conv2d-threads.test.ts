// The implicit-GEMM convolution split across 2 threads gives bit-identical results to 1 thread.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conv2d, init, shutdown, tensor, threadCount, tidy } from "../../../src/index.js";
import { conv2dStrategy } from "../../../src/autograd/ops/conv2d.js";
import { setGemmMinFlopsPerThread } from "../../../src/wasm/gemm.js";
import { Generator } from "../../../src/random.js";

function run(shape: number[], kshape: number[], strides: number) {
  const g = new Generator(9);
  const xs = Array.from({ length: shape.reduce((a, b) => a * b) }, () => g.uniform(-1, 1));
  const ks = Array.from({ length: kshape.reduce((a, b) => a * b) }, () => g.uniform(-1, 1));
  return tidy(() => {
    const x = tensor(xs, shape, { requiresGrad: true });
    const k = tensor(ks, kshape, { requiresGrad: true });
    const b = tensor(ks.slice(0, kshape[3]), [kshape[3]], { requiresGrad: true });
    const y = conv2d(x, k, b, { padding: "same", strides, activation: "relu" });
    y.backward(tensor(Array.from({ length: y.size }, (_, i) => Math.sin(i)), y.shape));
    return [y.toArray(), x.grad!.toArray(), k.grad!.toArray(), b.grad!.toArray()];
  });
}

describe("conv2d on threads", () => {
  beforeAll(() => {
    conv2dStrategy.forward = conv2dStrategy.filter = "implicit";
  });
  afterAll(async () => {
    conv2dStrategy.forward = conv2dStrategy.filter = "auto";
    await shutdown();
  });

  it("is bit-identical on 1 and 2 threads (forward, input, kernel and bias gradients)", async () => {
    const cases: [number[], number[], number][] = [[[3, 9, 7, 12], [2, 3, 12, 10], 1], [[2, 8, 8, 5], [3, 3, 5, 7], 2], [[32, 14, 14, 64], [2, 2, 64, 32], 1]];
    const results: Float32Array[][][] = [];
    for (const threads of [1, 2]) {
      await shutdown();
      await init({ threads });
      expect(threadCount()).toBe(threads);
      const previous = setGemmMinFlopsPerThread(1); // split even the small cases
      results.push(cases.map(([s, k, st]) => run(s, k, st)));
      setGemmMinFlopsPerThread(previous);
    }
    for (let c = 0; c < cases.length; c++) {
      for (let i = 0; i < 4; i++) expect(Array.from(results[1][c][i])).toEqual(Array.from(results[0][c][i]));
    }
  });
});
