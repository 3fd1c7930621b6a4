// The GEMM rows' paired rounds (bench/paired.ts): each round's shares come from the blocks timed in
// it, quiet rounds are told by the probe, and the targets table shows the quiet figure beside the
// judged one without judging it.

import { describe, expect, it } from "vitest";
import type { BenchRow } from "../../bench/harness.js";
import { pairedRounds, QUIET_FRACTION, quietLevel, roundColumns, type Block, type Round } from "../../bench/paired.js";
import { judgeTargets, targetsTable } from "../../bench/targets.js";

describe("paired rounds", () => {
  it("takes each round's shares from the blocks timed in that round", () => {
    // A fake clock: each call advances it by the block's cost in that round. The peak costs 1 ms
    // for 100 flops; the kernel 2 ms for 100 (half the peak's rate); the probe runs at the peak's
    // rate in even rounds and at 60 % of it in odd ones, and the kernel slows with it.
    let clock = 0;
    let round = 0;
    const costs = () => (round % 2 === 0 ? { kernel: 2, probe: 1 } : { kernel: 4, probe: 1 / 0.6 });
    const calls = { kernel: 0, peak: 0, probe: 0 };
    const order: string[] = [];
    const blockOf = (name: "kernel" | "peak" | "probe"): Block => ({
      flops: 100,
      run: () => {
        if (calls[name]++ % 5 === 0) order.push(name); // a block's first call
        clock += name === "peak" ? 1 : costs()[name];
        if (name === (round % 2 === 0 ? "probe" : "kernel") && calls[name] % 5 === 0) round++;
      },
    });
    const rounds = pairedRounds(blockOf("kernel"), blockOf("peak"), blockOf("probe"), 4, () => clock);
    expect(calls).toEqual({ kernel: 20, peak: 20, probe: 20 });
    expect(order.slice(0, 6)).toEqual(["kernel", "peak", "probe", "probe", "peak", "kernel"]);
    rounds.forEach((r, i) => {
      expect(r.share).toBeCloseTo(i % 2 === 0 ? 0.5 : 0.25, 12);
      expect(r.probe).toBeCloseTo(i % 2 === 0 ? 1 : 0.6, 12);
    });
  });

  it("counts a round quiet when its probe is within QUIET_FRACTION of the run's usual best", () => {
    const all: Round[] = Array.from({ length: 11 }, (_, i) => ({ share: 0.5, probe: 0.5 + i * 0.05 })); // 0.50 .. 1.00
    const level = quietLevel(all);
    expect(level).toBeCloseTo(QUIET_FRACTION * 0.95, 12); // the 90th percentile of 11 is the 10th value
    expect(quietLevel([])).toBeNaN();

    const rounds: Round[] = [
      { share: 0.6, probe: 0.5 },
      { share: 0.9, probe: 0.95 },
      { share: 0.7, probe: 0.6 },
      { share: 0.8, probe: 0.9 },
      { share: 0.95, probe: 1.0 },
    ];
    const columns = roundColumns(rounds, 0.85);
    expect(columns["% mul+add peak"]).toBeCloseTo(80, 10); // median of all five shares
    expect(columns["% mul+add peak, quiet rounds"]).toBeCloseTo(90, 10); // median of 0.9, 0.8, 0.95
    expect(columns["quiet rounds"]).toBe(3);
    expect(columns["rounds"]).toBe(5);
    expect(columns["micro-kernel % mul+add peak"]).toBeCloseTo(90, 10);
    expect(columns["% micro-kernel (same round)"]).toBeCloseTo(95, 10); // median of the rounds' ratios: 0.95 / 1
    expect(roundColumns(rounds, 2)["% mul+add peak, quiet rounds"]).toBeNaN();
  });

  it("shows the quiet rounds' figure in the targets table without judging it", () => {
    const timing = { medianMs: 1, p10Ms: 1, p90Ms: 1, runs: 5 };
    const product = (name: string, extra: BenchRow["extra"]): BenchRow => ({ group: "gemm", name, shape: "", impl: "relaxed simd, 1 thread", ...timing, extra });
    const rows = [
      product("busy", { "% mul+add peak": 70, "% mul+add peak, quiet rounds": 80, "quiet rounds": 4, "rounds": 21 }),
      product("slow", { "% mul+add peak": 70, "% mul+add peak, quiet rounds": 72, "quiet rounds": 9, "rounds": 21 }),
      product("never quiet", { "% mul+add peak": 76, "% mul+add peak, quiet rounds": NaN, "quiet rounds": 0, "rounds": 21 }),
      product("unpaired", { "% mul+add peak": 90 }),
    ];
    const targets = judgeTargets(rows);
    expect(targets.map((t) => t.met)).toEqual([false, false, true, true]);
    expect(targets.map((t) => t.quiet)).toEqual([
      { figure: "80 % (4 of 21 rounds)", met: true, rounds: "quiet" },
      { figure: "72 % (9 of 21 rounds)", met: false, rounds: "quiet" },
      { figure: "none (0 of 21 rounds)", rounds: "quiet" },
      undefined,
    ]);
    const table = targetsTable(targets);
    expect(table).toMatch(/^targets: 2 of 4 met in this run\n/);
    expect(table).toContain("shown, not judged): 1 of 2 at ≥ 75 %, 1 with no quiet round\n");
    expect(table).toMatch(/busy +70 % +≥ 75 % +NO +80 % \(4 of 21 rounds\) yes\n/);
  });
});
