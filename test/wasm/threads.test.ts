// Kernels on two threads over one shared memory: GEMM splits give the single-thread results bit
// for bit, growing the memory keeps the workers working, worker errors surface as Errors, a
// deferred dispatch is finished before anything reads or writes the memory, and dense through the
// tape is the same on 1 and 2 threads. A file of its own: init({ threads: 2 }).
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dense } from "../../src/autograd/ops/dense.js";
import { backward, clearTape } from "../../src/autograd/tape.js";
import { tensor, tidy } from "../../src/autograd/tensor.js";
import { gemm, gemmParallelism, gemmSingleThread, setGemmMinFlopsPerThread, type GemmArgs } from "../../src/wasm/gemm.js";
import { allocator, finishKernels, init, kernels, memory, parallelRun, parallelRunParts, shutdown, threadCount, wasmModule } from "../../src/wasm/loader.js";
import { ThreadPool } from "../../src/wasm/parallel.js";
import { Generator } from "../../src/random.js";

beforeAll(() => init({ threads: 2 }));
afterAll(() => shutdown());

/** Fills n floats at ptr from rng (a fresh view: the memory may have grown). */
function fill(ptr: number, n: number, rng: Generator): void {
  const view = new Float32Array(memory().buffer, ptr, n);
  for (let i = 0; i < n; i++) view[i] = rng.uniform(-1, 1);
}

/** Index of the first element where two blocks of n floats differ bitwise, or -1. */
function firstDifference(p: number, q: number, n: number): number {
  const x = new Uint32Array(memory().buffer, p, n);
  const y = new Uint32Array(memory().buffer, q, n);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return i;
  return -1;
}

interface Shape {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  accumulate: boolean;
  bias: boolean;
  relu: boolean;
}

/** Runs gemm (split over the threads) and gemmSingleThread on the same operands; returns the split used. */
function compareWithSingleThread(s: Shape, seed: number): ReturnType<typeof gemmParallelism> {
  const alloc = allocator();
  const rng = new Generator(seed);
  const { m, n, k } = s;
  const a = alloc.alloc(m * k * 4);
  const b = alloc.alloc(k * n * 4);
  const bias = alloc.alloc(n * 4);
  const c1 = alloc.alloc(m * n * 4);
  const c2 = alloc.alloc(m * n * 4);
  try {
    fill(a, m * k, rng);
    fill(b, k * n, rng);
    fill(bias, n, rng);
    fill(c1, m * n, rng);
    new Float32Array(memory().buffer, c2, m * n).set(new Float32Array(memory().buffer, c1, m * n));
    const args = (c: number): GemmArgs => ({ a, b, c, m, n, k, transA: s.transA, transB: s.transB,
      accumulate: s.accumulate, bias: s.bias ? bias : undefined, relu: s.relu });
    const plan = gemmParallelism(m, n, k);
    gemmSingleThread(args(c1));
    gemm(args(c2));
    const at = firstDifference(c1, c2, m * n);
    if (at >= 0) throw new Error(`${JSON.stringify(s)} split ${plan.split}: element ${at} differs`);
    return plan;
  } finally {
    for (const p of [a, b, bias, c1, c2]) alloc.release(p);
  }
}

const shapes = fc.record({
  m: fc.integer({ min: 1, max: 70 }),
  n: fc.integer({ min: 1, max: 70 }),
  k: fc.integer({ min: 0, max: 70 }),
  transA: fc.boolean(),
  transB: fc.boolean(),
  accumulate: fc.boolean(),
  bias: fc.boolean(),
  relu: fc.boolean(),
});

describe("threads", () => {
  it("runs on 2 threads", () => {
    expect(threadCount()).toBe(2);
    expect(memory().buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it("splits small GEMMs (threshold lowered) with results bit-identical to one thread", () => {
    const old = setGemmMinFlopsPerThread(1);
    try {
      const splits = new Set<string>();
      fc.assert(fc.property(shapes, fc.integer(), (s, seed) => {
        splits.add(compareWithSingleThread(s, seed).split);
      }), { numRuns: 150 });
      // The property must have exercised both ways of splitting.
      expect(splits).toContain("rows");
      expect(splits).toContain("columns");
    } finally {
      setGemmMinFlopsPerThread(old);
    }
  });

  it("splits the model's GEMMs (default threshold) with results bit-identical to one thread", () => {
    const model: [number, number, number, boolean, boolean][] = [
      [32, 256, 1568, false, false], // dense forward
      [32, 1568, 256, false, true], // dense dx
      [1568, 256, 32, true, false], // dense dW
      [6272, 32, 256, false, false], // conv2 forward
      [256, 32, 6272, true, false], // conv2 dW
      [197, 61, 1001, true, true], // ragged sizes
    ];
    for (const [m, n, k, transA, transB] of model) {
      const plan = compareWithSingleThread({ m, n, k, transA, transB, accumulate: false, bias: true, relu: true }, m + n + k);
      expect(plan.threads, `${m}x${n}x${k}`).toBe(2);
    }
    expect(gemmParallelism(32, 256, 1568).split).toBe("columns");
    expect(gemmParallelism(6272, 32, 256).split).toBe("rows");
    expect(gemmParallelism(8, 8, 8).threads).toBe(1);
  });

  it("keeps working after the shared memory grows", () => {
    const alloc = allocator();
    const before = memory().buffer.byteLength;
    // Push the top of the heap past the current end, so the operands below sit in new pages.
    const filler = alloc.alloc(before);
    try {
      expect(memory().buffer.byteLength).toBeGreaterThan(before);
      const plan = compareWithSingleThread(
        { m: 300, n: 64, k: 700, transA: false, transB: false, accumulate: true, bias: false, relu: false }, 5);
      expect(plan.threads).toBe(2);
    } finally {
      alloc.release(filler);
    }
  });

  it("serves dispatches that follow the workers' start at once, many times over", async () => {
    // gemm_part with m = 0 returns at once: only the dispatch is exercised.
    const nothing = [0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0, 0, 0];
    const pool = await ThreadPool.start(wasmModule(), memory(), kernels<WebAssembly.Exports>(), 1, { timeoutMs: 5000 });
    try {
      for (let i = 0; i < 3000; i++) pool.run("gemm_part", [nothing, nothing]);
    } finally {
      await pool.terminate();
    }
    expect(() => pool.run("gemm_part", [nothing, nothing])).toThrow(/shut down/);
  });

  it("surfaces an error in a worker as an Error naming the kernel, and stays usable", () => {
    const alloc = allocator();
    const floats = 64;
    const a = alloc.alloc(floats * 4);
    const work = alloc.alloc(4096 * 4);
    const work2 = alloc.alloc(4096 * 4);
    try {
      const ok = [a, a, a, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0, 0, work];
      // A pointer beyond the 2 GiB maximum: the worker's kernel traps.
      const bad = [0xffff0000, a, a, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0, 0, work2];
      expect(() => parallelRun("gemm_part", [ok, bad])).toThrow(/gemm_part failed in worker 1: .*out of bounds/);
      expect(() => parallelRun("gemm_part", [bad, ok])).toThrow(/gemm_part failed on the main thread/);
      expect(() => parallelRun("no_such_kernel", [ok])).toThrow(/no kernel named "no_such_kernel"/);
      expect(() => parallelRun("gemm_part", [ok, ok, ok])).toThrow(/3 shares of work for 2 threads/);
      parallelRun("gemm_part", [ok, ok]);
    } finally {
      for (const p of [a, work, work2]) alloc.release(p);
    }
    compareWithSingleThread({ m: 200, n: 200, k: 300, transA: false, transB: false, accumulate: false, bias: false, relu: false }, 9);
  });

  it("runs every shared part once, with the running thread's own value for its local argument", () => {
    const alloc = allocator();
    // 32 parts of 64k floats each (about 0.1 ms a part): long enough for the worker to take some.
    const parts = 32;
    const floats = 65536;
    const buffer = alloc.alloc(parts * floats * 4);
    try {
      const view = () => new Float32Array(memory().buffer, buffer, parts * floats);
      for (let round = 0; round < 20; round++) {
        view().fill(-1);
        // fill(dst, n, value): the value (argument 2) is the thread's own: 1 on this thread, 2 on the worker.
        parallelRunParts("fill", Array.from({ length: parts }, (_, p) => [buffer + p * floats * 4, floats, 0]), { arg: 2, values: [1, 2] });
        const v = view();
        for (let p = 0; p < parts; p++) {
          const first = v[p * floats];
          expect([1, 2], `part ${p}, round ${round}`).toContain(first);
          expect(v.subarray(p * floats, (p + 1) * floats).every((x) => x === first), `part ${p} written whole by one thread`).toBe(true);
        }
      }
      const many = Array.from({ length: 33 }, () => [buffer, 4, 0]);
      expect(() => parallelRunParts("fill", many)).toThrow(/fill: 33 parts, at most 32/);
      expect(() => parallelRunParts("fill", [[buffer, 4, 0]], { arg: 2, values: [] })).toThrow(/0 thread-local values where 1 are needed/);
      expect(() => parallelRunParts("fill", [[buffer, 4, 0], [buffer, 4, 0]], { arg: 2, values: [1] })).toThrow(/1 thread-local values where 2 are needed/);
    } finally {
      alloc.release(buffer);
    }
  });

  it("surfaces an error in a shared part as an Error naming the kernel, and stays usable", () => {
    const alloc = allocator();
    const buffer = alloc.alloc(1024 * 4);
    try {
      const ok = [buffer, 1024, 3];
      // A pointer beyond the 2 GiB maximum: whichever thread takes this part traps.
      const bad = [0xffff0000, 1024, 3];
      for (let i = 0; i < 10; i++) {
        expect(() => parallelRunParts("fill", [ok, ok, bad, ok])).toThrow(/fill failed (on the main thread|in worker 1): .*out of bounds/);
      }
      parallelRunParts("fill", [ok, ok, ok, ok]);
      expect(new Float32Array(memory().buffer, buffer, 1024).every((x) => x === 3)).toBe(true);
    } finally {
      alloc.release(buffer);
    }
  });

  it("finishes a deferred dispatch before memory(), any kernel call or the next dispatch, and throws its error there", () => {
    const alloc = allocator();
    // 32 parts of 64k floats (about 0.1 ms a part): the calling thread's parts wait for the finish.
    const parts = 32;
    const floats = 65536;
    const buffer = alloc.alloc(parts * floats * 4);
    const out = alloc.alloc(16);
    const partsOf = (value: number, count = parts) => Array.from({ length: count }, (_, p) => [buffer + p * floats * 4, floats, value]);
    const view = () => new Float32Array(memory().buffer, buffer, parts * floats);
    const sumParts = (dst: number) => kernels<{ sum_parts(dst: number, src: number, n: number, stride: number, count: number): void }>()
      .sum_parts(dst, buffer, 1, floats, parts);
    try {
      for (let round = 1; round <= 5; round++) {
        // memory(): a view made after the call sees every part.
        parallelRunParts("fill", partsOf(round), undefined, 2, true);
        expect(view().every((x) => x === round), `round ${round}`).toBe(true);
        // A kernel call: sum_parts reads the first float of every part.
        parallelRunParts("fill", partsOf(10 * round), undefined, 2, true);
        sumParts(out);
        expect(new Float32Array(memory().buffer, out, 1)[0]).toBe(10 * round * parts);
        // The next dispatch: it runs after the deferred one, so its writes are the ones that stay.
        parallelRunParts("fill", partsOf(7), undefined, 2, true);
        parallelRunParts("fill", partsOf(8, parts / 2), undefined, 2);
        const v = view();
        expect(v.subarray(0, (parts / 2) * floats).every((x) => x === 8)).toBe(true);
        expect(v.subarray((parts / 2) * floats).every((x) => x === 7)).toBe(true);
      }
      // A part that traps: the call returns, the error comes at the finish, naming the kernel.
      const bad = [0xffff0000, 1024, 3];
      for (let i = 0; i < 5; i++) {
        parallelRunParts("fill", [...partsOf(1, 3), bad], undefined, 2, true);
        expect(() => finishKernels()).toThrow(/fill failed (on the main thread|in worker 1): .*out of bounds/);
        finishKernels(); // nothing left: no error the second time
      }
      parallelRunParts("fill", partsOf(4), undefined, 2, true);
      expect(view().every((x) => x === 4)).toBe(true);
    } finally {
      alloc.release(buffer);
      alloc.release(out);
    }
  });

  it("finishes a deferred dispatch when the pool stops, and throws its error after stopping the workers", async () => {
    const alloc = allocator();
    const floats = 65536;
    const buffer = alloc.alloc(8 * floats * 4);
    try {
      for (const failing of [false, true]) {
        const pool = await ThreadPool.start(wasmModule(), memory(), kernels<WebAssembly.Exports>(), 1, { timeoutMs: 5000 });
        const parts = Array.from({ length: 8 }, (_, p) => [buffer + p * floats * 4, floats, 5]);
        if (failing) parts.push([0xffff0000, 1024, 3]);
        pool.runParts("fill", parts, 2, undefined, true);
        expect(pool.busy).toBe(true);
        if (failing) await expect(pool.terminate()).rejects.toThrow(/fill failed/);
        else await pool.terminate();
        expect(pool.busy).toBe(false);
        expect(new Float32Array(memory().buffer, buffer, 8 * floats).every((x) => x === 5)).toBe(true);
      }
    } finally {
      alloc.release(buffer);
    }
  });

  it("gives the same dense forward and backward on 1 and 2 threads", async () => {
    const rng = new Generator(11);
    const values = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
    // The model's dense layer at batch 32, and a small one split only with the threshold lowered.
    const cases = [
      { rows: 32, inputs: 1568, outputs: 256, minFlops: undefined },
      { rows: 13, inputs: 37, outputs: 21, minFlops: 1 },
    ].map((c) => ({ ...c, x: values(c.rows * c.inputs), w: values(c.inputs * c.outputs), b: values(c.outputs), dy: values(c.rows * c.outputs) }));

    const runAll = () => cases.map((c) => {
      const old = c.minFlops === undefined ? null : setGemmMinFlopsPerThread(c.minFlops);
      try {
        return tidy(() => {
          const x = tensor(c.x, [c.rows, c.inputs], { requiresGrad: true });
          const w = tensor(c.w, [c.inputs, c.outputs], { requiresGrad: true });
          const b = tensor(c.b, [c.outputs], { requiresGrad: true });
          const y = dense(x, w, b, { activation: "relu" });
          backward(y, tensor(c.dy, [c.rows, c.outputs]));
          const out = [y, x.grad!, w.grad!, b.grad!].map((t) => t.toArray());
          clearTape();
          return out;
        });
      } finally {
        if (old !== null) setGemmMinFlopsPerThread(old);
      }
    });

    expect(threadCount()).toBe(2);
    const twoThreads = runAll();
    await shutdown();
    await init({ threads: 1 });
    expect(threadCount()).toBe(1);
    expect(memory().buffer).not.toBeInstanceOf(SharedArrayBuffer);
    const oneThread = runAll();
    for (let i = 0; i < cases.length; i++) {
      for (let j = 0; j < 4; j++) {
        expect(new Uint32Array(Float32Array.from(twoThreads[i][j]).buffer),
          `case ${i}, ${["y", "dx", "dW", "db"][j]}`).toEqual(new Uint32Array(Float32Array.from(oneThread[i][j]).buffer));
      }
    }
  });
});
