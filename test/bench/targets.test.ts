// The bench's verdict on the speed targets (bench/targets.ts) reads the right rows of a run and
// compares them with the right thresholds; targets whose rows did not run are left out.

import { describe, expect, it } from "vitest";
import type { BenchRow } from "../../bench/harness.js";
import { judgeTargets, shown, targetsTable } from "../../bench/targets.js";

const timing = (medianMs: number) => ({ medianMs, p10Ms: medianMs, p90Ms: medianMs, runs: 5 });
const STEP = "train step (fwd+loss+bwd+Adam)";

function run(o: { oneMs: number; speedup: number; tfjsMs: number; stepGflops: number; peakGflops: number; gemm: number[] }): BenchRow[] {
  return [
    { group: "step", name: STEP, shape: "batch 32", impl: "relaxed simd, 1 thread", ...timing(o.oneMs), gflops: o.stepGflops },
    { group: "step", name: STEP, shape: "batch 32", impl: "relaxed simd, 2 threads", ...timing(o.oneMs / o.speedup),
      extra: { "vs 1 thread": o.speedup } },
    // A later 1-thread step row (another build) must not be taken for the paired one.
    { group: "step", name: STEP, shape: "batch 32", impl: "plain simd, 1 thread", ...timing(99) },
    { group: "gemm", name: "f32x4 peak (mul+add)", shape: "12 accumulators", impl: "plain simd", ...timing(4), gflops: o.peakGflops },
    { group: "gemm", name: "4x8 micro-kernel alone (packed, in L1)", shape: "", impl: "relaxed simd, 1 thread", ...timing(1),
      extra: { "% mul+add peak": 10 } },
    ...o.gemm.map((share, i): BenchRow => ({ group: "gemm", name: `product ${i}`, shape: "", impl: "relaxed simd, 1 thread",
      ...timing(1), extra: { "% mul+add peak": share } })),
    { group: "gemm", name: "product 0", shape: "", impl: "reference", ...timing(100) },
    { group: "threads", name: "f32x4 peak (relaxed madd), machine ceiling", shape: "", impl: "2 threads at once", ...timing(2),
      extra: { "speed-up": 1.9 } },
    { group: "tfjs", name: "tfjs-wasm train step (stand-in Conv2DBackpropFilter)", shape: "", impl: "tfjs-wasm", ...timing(o.tfjsMs) },
  ];
}

describe("bench targets", () => {
  it("judges every target on its rows, at its threshold", () => {
    const good = judgeTargets(run({ oneMs: 15, speedup: 1.6, tfjsMs: 150, stepGflops: 21, peakGflops: 42, gemm: [75, 90] }));
    expect(good.map((t) => t.met)).toEqual(new Array(6).fill(true));
    expect(good.map((t) => t.target)).toEqual([
      "train step, 1 thread, median",
      "faster than TF.js wasm (stand-in Conv2DBackpropFilter), 1 thread",
      "train step's effective rate, 1 thread, of the f32x4 mul+add peak",
      "train step, 2 threads against 1 (paired rounds)",
      "GEMM, 1 thread, of the mul+add peak: product 0",
      "GEMM, 1 thread, of the mul+add peak: product 1",
    ]);
    expect(good[3].figure).toBe("1.60× (machine ceiling 1.90×)");

    const bad = judgeTargets(run({ oneMs: 15.1, speedup: 1.59, tfjsMs: 150, stepGflops: 20.9, peakGflops: 42, gemm: [74.9, 90] }));
    expect(bad.map((t) => t.met)).toEqual([false, false, false, false, false, true]);
    expect(targetsTable(bad)).toMatch(/^targets: 1 of 6 met in this run\n/);
    // A figure that would round onto its threshold gets the digits that show why it missed.
    expect(good[4].figure).toBe("75 %");
    expect(bad.map((t) => t.figure.replace(/ \(.*/, ""))).toEqual(["15.10 ms", "9.9×", "49.8 %", "1.59×", "74.9 %", "90 %"]);
  });

  it("reads the thread speed-up against the machine's ceiling in the same rounds, and over the idle rounds alone", () => {
    const rows = run({ oneMs: 10, speedup: 1.55, tfjsMs: 300, stepGflops: 30, peakGflops: 42, gemm: [80] });
    const two = rows.find((r) => r.extra?.["vs 1 thread"] !== undefined)!;
    two.extra = { ...two.extra, "machine ceiling, same rounds": 1.48, "idle rounds": 3, "rounds": 40, "vs 1 thread, idle rounds": 1.82 };
    const threads = judgeTargets(rows).find((t) => t.target.startsWith("train step, 2 threads"))!;
    // Judged over all rounds, whatever the idle ones show.
    expect(threads.met).toBe(false);
    expect(threads.figure).toBe("1.55× (machine ceiling 1.48× in the same rounds)");
    expect(threads.quiet).toEqual({ figure: "1.82× (3 of 40 rounds)", met: true, rounds: "idle" });
    const table = targetsTable(judgeTargets(rows));
    expect(table).toMatch(/over its idle rounds alone .*: 1\.82× \(3 of 40 rounds\), met\n/);
    // The GEMM summary counts GEMM rows only.
    expect(table).not.toMatch(/GEMM rows over their quiet rounds/);

    two.extra = { ...two.extra, "idle rounds": 0, "vs 1 thread, idle rounds": undefined as unknown as number };
    const none = judgeTargets(rows).find((t) => t.target.startsWith("train step, 2 threads"))!;
    expect(none.quiet).toEqual({ figure: "none (0 of 40 rounds)", rounds: "idle" });
  });

  it("shows a figure with more digits while rounding would flip its verdict", () => {
    const atLeast75 = (v: number) => v >= 75;
    expect(shown(74.76, 0, atLeast75)).toBe("74.8");
    expect(shown(74.996, 0, atLeast75)).toBe("74.996");
    expect(shown(75.4, 0, atLeast75)).toBe("75");
    expect(shown(80.2, 0, atLeast75)).toBe("80");
    expect(shown(15.004, 2, (ms) => ms <= 15)).toBe("15.004");
    expect(shown(1.5951, 2, (x) => x >= 1.6)).toBe("1.595");
  });

  it("leaves out targets whose rows did not run", () => {
    const rows = run({ oneMs: 10, speedup: 1.8, tfjsMs: 300, stepGflops: 30, peakGflops: 42, gemm: [80] });
    const onlyStep = rows.filter((r) => r.group === "step");
    expect(judgeTargets(onlyStep).map((t) => t.target)).toEqual(["train step, 1 thread, median", "train step, 2 threads against 1 (paired rounds)"]);
    expect(judgeTargets([])).toEqual([]);
  });
});
