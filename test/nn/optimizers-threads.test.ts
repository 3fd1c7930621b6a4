// Adam's update split across 2 threads (a large parameter, by element ranges) equals one thread's.
import { afterAll, describe, expect, it } from "vitest";
import { Adam, Generator, init, shutdown, Tensor, tensor, threadCount } from "../../src/index.js";
import { itemRanges } from "../../src/wasm/split.js";

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
      expect(itemRanges(size, size * 20).length).toBe(threads);
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
    expect(results[1]).toEqual(results[0]);
    expect(results[0]).not.toEqual(p0);
  });
});
