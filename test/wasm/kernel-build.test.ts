// init({ simd }): which build of the kernels runs (relaxed SIMD with fused multiply-add, or plain
// SIMD), on this thread and on the workers. `npm test` runs this under Node 20's default (no relaxed
// SIMD: the plain build must validate and be chosen); `npm run test:relaxed` runs the whole suite
// with --experimental-wasm-relaxed-simd and WASMGRAD_EXPECT_KERNEL_BUILD=relaxed.
import { readFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { init, kernelBuild, parallelRun, relaxedSimdSupported, shutdown, threadCount } from "../../src/wasm/loader.js";
import { Tensor, tidy } from "../../src/autograd/tensor.js";

const wasmFile = (name: string) => readFile(new URL(`../../src/wasm/${name}`, import.meta.url));

afterEach(() => shutdown());

// distance_row_sq_norms on the row [1, 0, 0, 0, b, 0, 0, 0]: lane 0 accumulates 1·1, then b·b + 1,
// which rounds differently fused (once) and unfused (twice) for this b. It tells the builds apart.
const b = Math.fround(1.374280333518982);
const fused = Math.fround(b * b + 1); // b·b is exact in float64
const unfused = Math.fround(Math.fround(b * b) + 1);

/** The sum of squares of that row, computed on each of `threads` threads (0: this one). */
function sqNormsPerThread(threads: number): number[] {
  return tidy(() => {
    const x = Tensor.empty([8]);
    x.view().set([1, 0, 0, 0, b, 0, 0, 0]);
    const out = Tensor.empty([threads]);
    parallelRun("distance_row_sq_norms", Array.from({ length: threads }, (_, t) => [x.ptr, out.ptr + 4 * t, 1, 8]));
    return Array.from(out.view());
  });
}

describe("kernel builds", () => {
  it("the probe agrees with validating the relaxed builds themselves; the plain builds validate everywhere", async () => {
    expect(fused).not.toBe(unfused);
    for (const name of ["kernels-relaxed.wasm", "kernels-relaxed-shared.wasm"]) {
      expect(WebAssembly.validate(await wasmFile(name)), name).toBe(relaxedSimdSupported());
    }
    for (const name of ["kernels.wasm", "kernels-shared.wasm"]) {
      expect(WebAssembly.validate(await wasmFile(name)), name).toBe(true);
    }
  });

  it('"auto" (the default) picks relaxed exactly when the runtime validates the relaxed build', async () => {
    const validates = WebAssembly.validate(await wasmFile("kernels-relaxed.wasm"));
    await init({ threads: 1 });
    expect(kernelBuild()).toBe(validates ? "relaxed" : "plain");
  });

  // `npm run test:relaxed` sets WASMGRAD_EXPECT_KERNEL_BUILD=relaxed: fails if its flag did not reach the runtime.
  it("the build is the one the test script expects (WASMGRAD_EXPECT_KERNEL_BUILD, else what the runtime validates)", async () => {
    await init();
    expect(kernelBuild()).toBe(process.env.WASMGRAD_EXPECT_KERNEL_BUILD ?? (relaxedSimdSupported() ? "relaxed" : "plain"));
  });

  it('init({ simd: "plain" }) runs the plain build (multiply, then add) on this thread and on the worker', async () => {
    await init({ simd: "plain", threads: 2 });
    expect(kernelBuild()).toBe("plain");
    expect(threadCount()).toBe(2);
    expect(sqNormsPerThread(2)).toEqual([unfused, unfused]);
  });

  // One of the two branches runs under `npm test` (Node 20 without the flag), the other under `npm run test:relaxed`.
  it('init({ simd: "relaxed" }) runs fused multiply-add on this thread and on the worker, or says why it cannot', async () => {
    if (relaxedSimdSupported()) {
      await init({ simd: "relaxed", threads: 2 });
      expect(kernelBuild()).toBe("relaxed");
      // V8 emits a real FMA for relaxed_madd on x64 with FMA3 and on arm64 (relaxed SIMD would allow either).
      expect(sqNormsPerThread(2)).toEqual([fused, fused]);
    } else {
      await expect(init({ simd: "relaxed" })).rejects.toThrow(
        /simd "relaxed" was asked but this runtime does not support relaxed SIMD.*--experimental-wasm-relaxed-simd/);
      await init({ threads: 1 });
      expect(kernelBuild()).toBe("plain");
    }
  });

  it("refuses an unknown simd value", async () => {
    await expect(init({ simd: "fma" as "auto" })).rejects.toThrow('init: simd must be "auto", "relaxed" or "plain", got "fma"');
  });

  it('"auto" keeps kernels given only as the plain `wasm` (the caller chose them); relaxedWasm is used when given', async () => {
    await init({ wasm: await wasmFile("kernels.wasm") });
    expect(kernelBuild()).toBe("plain");
    expect(sqNormsPerThread(1)).toEqual([unfused]);
    await shutdown();
    if (!relaxedSimdSupported()) return;
    await init({ relaxedWasm: await wasmFile("kernels-relaxed.wasm") });
    expect(kernelBuild()).toBe("relaxed");
    expect(threadCount()).toBe(1);
    expect(sqNormsPerThread(1)).toEqual([fused]);
  });
});
