// init({ threads }): validation, the single-thread fallbacks, and shutdown/init again.
import { readFile } from "node:fs/promises";
import { afterAll, describe, expect, it, vi } from "vitest";
import { init, limitThreads, memory, shutdown, threadCount } from "../../src/wasm/loader.js";
import { gemm, gemmParallelism } from "../../src/wasm/gemm.js";
import { tensor, tidy } from "../../src/autograd/tensor.js";

afterAll(() => shutdown());

describe("init threads", () => {
  it("refuses a thread count that is not a positive integer", async () => {
    await expect(init({ threads: 0 })).rejects.toThrow("init: threads must be a positive integer, got 0");
    await expect(init({ threads: 1.5 })).rejects.toThrow(/got 1.5/);
  });

  it("runs on 1 thread, with a warning, when only the single-thread build is given", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const wasm = await readFile(new URL("../../src/wasm/kernels.wasm", import.meta.url));
      await init({ wasm, threads: 2 });
      expect(threadCount()).toBe(1);
      expect(memory().buffer).not.toBeInstanceOf(SharedArrayBuffer);
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/1 thread: init\(\{ wasm \}\) was given without sharedWasm/));
    } finally {
      warn.mockRestore();
    }
  });

  it("starts again with another thread count after shutdown", async () => {
    await shutdown();
    expect(() => threadCount()).toThrow(/not initialized/);
    await init({ threads: 3 });
    expect(threadCount()).toBe(3);
    expect(memory().buffer).toBeInstanceOf(SharedArrayBuffer);
    await shutdown();
    await init({ threads: 1 });
    expect(threadCount()).toBe(1);
  });

  it("refuses a spinMicroseconds that is not a non-negative integer", async () => {
    await shutdown();
    await expect(init({ threads: 2, spinMicroseconds: -1 })).rejects.toThrow("init: spinMicroseconds must be a non-negative integer, got -1");
  });

  it("limitThreads caps the threads work is split over, with the same results", async () => {
    await shutdown();
    await init({ threads: 2, spinMicroseconds: 0 });
    const [m, n, k] = [768, 64, 192]; // 19 MFLOP: enough to split over 2 threads
    const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i));
    const product = () => tidy(() => {
      const c = tensor(new Float32Array(m * n), [m, n]);
      gemm({ a: tensor(a, [m, k]), b: tensor(b, [k, n]), c, m, n, k });
      return Array.from(c.view());
    });
    expect(gemmParallelism(m, n, k).threads).toBe(2);
    const split = product();
    expect(limitThreads(1)).toBe(Infinity);
    try {
      expect(threadCount()).toBe(1);
      expect(gemmParallelism(m, n, k)).toEqual({ threads: 1, split: "none" });
      expect(product()).toEqual(split);
    } finally {
      limitThreads(Infinity);
    }
    expect(threadCount()).toBe(2);
    expect(() => limitThreads(0)).toThrow("limitThreads: threads must be a positive integer or Infinity, got 0");
    limitThreads(1);
    await shutdown();
    await init({ threads: 2, spinMicroseconds: 0 });
    expect(threadCount()).toBe(2); // the limit went with the runtime it was set on
  });
});
