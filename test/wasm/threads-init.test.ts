// init({ threads }): validation, the single-thread fallbacks, and shutdown/init again.
import { readFile } from "node:fs/promises";
import { afterAll, describe, expect, it, vi } from "vitest";
import { init, memory, shutdown, threadCount } from "../../src/wasm/loader.js";

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
});
