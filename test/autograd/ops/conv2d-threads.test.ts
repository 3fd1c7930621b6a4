// Convolutions (implicit GEMM split by rows, direct kernels split by images, the direct kernel
// gradient by two fixed halves of the batch, fused with the relu mask and db or not) and max
// pooling split across 2 threads give bit-identical results to 1 thread, as does the fused
// convolution + pooling (conv2dMaxPool, both of its ways, with and without dropout after it; its
// implicit-GEMM forward pools each range of images in the thread that convolved it).
import { afterAll, describe, expect, it } from "vitest";
import { conv2d, conv2dMaxPool, init, maxPool2d, shutdown, tensor, threadCount, tidy } from "../../../src/index.js";
import { conv2dStrategy, type Conv2dPath } from "../../../src/autograd/ops/conv2d.js";
import { setGemmMinFlopsPerThread } from "../../../src/wasm/gemm.js";
import { Generator } from "../../../src/random.js";

/**
 * xGrad false: the direct kernel gradient masks gy and sums db itself (fused), in two halves.
 * pooled: conv2dMaxPool, the convolution and pooling as one op (its input needs no gradient);
 * "dropout": with dropout after the pooling.
 */
function run(shape: number[], kshape: number[], strides: number, path: Conv2dPath, xGrad = true, pooled: boolean | "dropout" = false) {
  conv2dStrategy.forward = conv2dStrategy.filter = path;
  const g = new Generator(9);
  const xs = Array.from({ length: shape.reduce((a, b) => a * b) }, () => g.uniform(-1, 1));
  const ks = Array.from({ length: kshape.reduce((a, b) => a * b) }, () => g.uniform(-1, 1));
  return tidy(() => {
    const x = tensor(xs, shape, { requiresGrad: xGrad });
    const k = tensor(ks, kshape, { requiresGrad: true });
    const b = tensor(ks.slice(0, kshape[3]), [kshape[3]], { requiresGrad: true });
    const options = { padding: "same" as const, strides, activation: "relu" as const };
    const drop = pooled === "dropout" ? { dropout: { rate: 0.3, generator: new Generator(3) } } : {};
    const y = pooled ? conv2dMaxPool(x, k, b, { ...options, ...drop }) : maxPool2d(conv2d(x, k, b, options));
    if (pooled) expect(y.node!.op).toBe(pooled === "dropout" ? "conv2dMaxPoolDropout" : "conv2dMaxPool");
    y.backward(tensor(Array.from({ length: y.size }, (_, i) => Math.sin(i)), y.shape));
    return [y.toArray(), xGrad ? x.grad!.toArray() : new Float32Array(0), k.grad!.toArray(), b.grad!.toArray()];
  });
}

describe("conv2d on threads", () => {
  afterAll(async () => {
    conv2dStrategy.forward = conv2dStrategy.filter = "auto";
    await shutdown();
  });

  it("is bit-identical on 1 and 2 threads (forward, input, kernel and bias gradients)", async () => {
    const cases: [number[], number[], number, Conv2dPath, boolean?, (boolean | "dropout")?][] = [
      [[3, 9, 7, 12], [2, 3, 12, 10], 1, "implicit"], [[2, 8, 8, 5], [3, 3, 5, 7], 2, "implicit"],
      [[32, 14, 14, 64], [2, 2, 64, 32], 1, "auto"], [[32, 28, 28, 1], [2, 2, 1, 64], 1, "auto"], [[5, 9, 9, 3], [2, 2, 3, 8], 1, "direct"],
      // conv1 as in training (its input needs no gradient): the fused kernel gradient, split in two
      // threads; an odd batch and cout, on the direct path.
      [[32, 28, 28, 1], [2, 2, 1, 64], 1, "auto", false], [[33, 20, 20, 2], [2, 2, 2, 21], 1, "direct", false],
      // conv1 and its pooling as one op (images split for the forward, two halves for dW, db).
      [[32, 28, 28, 1], [2, 2, 1, 64], 1, "auto", false, true], [[33, 21, 19, 2], [2, 2, 2, 20], 1, "auto", false, true],
      // ... and the dropout after it, fused: each range of images hashes its own elements' mask.
      [[32, 28, 28, 1], [2, 2, 1, 64], 1, "auto", false, "dropout"], [[33, 21, 19, 2], [2, 2, 2, 20], 1, "auto", false, "dropout"],
      // conv2 and its pooling as one op, the backward from the pooled gradient's nonzeros (two
      // halves for dW, db; dx image by image); odd sizes, stride 2 and 36 channels (32 + 4).
      [[32, 14, 14, 64], [2, 2, 64, 32], 1, "auto", true, true], [[33, 15, 13, 36], [3, 2, 36, 12], 2, "auto", true, true],
      [[32, 14, 14, 64], [2, 2, 64, 32], 1, "auto", true, "dropout"], [[33, 15, 13, 36], [3, 2, 36, 12], 2, "auto", true, "dropout"],
      // ... with taps in two K blocks (576 rows of B for 16 channels): every image of a part
      // through each block, then pooled; 7x7 pixels an image, so 4-row strips end inside images.
      [[9, 7, 7, 64], [3, 3, 64, 16], 1, "auto", true, "dropout"],
    ];
    const results: Float32Array[][][] = [];
    for (const threads of [1, 2]) {
      await shutdown();
      await init({ threads });
      expect(threadCount()).toBe(threads);
      const previous = setGemmMinFlopsPerThread(1); // split even the small cases
      results.push(cases.map(([s, k, st, path, xGrad, pooled]) => run(s, k, st, path, xGrad, pooled)));
      setGemmMinFlopsPerThread(previous);
    }
    for (let c = 0; c < cases.length; c++) {
      for (let i = 0; i < 4; i++) expect(Array.from(results[1][c][i])).toEqual(Array.from(results[0][c][i]));
    }
  });
});
