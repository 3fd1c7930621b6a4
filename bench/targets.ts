// The speed targets of the training-speed issue, judged on one run's own rows and printed after
// its table (and under "targets" with --json), so that a run says by itself which held. A target
// whose rows did not run (--only) is left out. The default train:mnist run's time and peak RSS
// are reported by that run, not here.

import type { BenchRow } from "./harness.js";
import { QUIET_FRACTION } from "./paired.js";
import { IDLE_SHARE } from "./ceiling.js";

export interface TargetRow {
  target: string;
  /** This run's figure, with what it was taken from. */
  figure: string;
  threshold: string;
  met: boolean;
  /**
   * For a paired GEMM row: the same figure over the run's quiet rounds alone (bench/paired.ts); for
   * the thread speed-up, over its idle rounds alone (bench/ceiling.ts). `met` undefined when
   * there was no such round.
   */
  quiet?: { figure: string; met?: boolean; rounds: "quiet" | "idle" };
}

const STEP = "train step (fwd+loss+bwd+Adam)";
const MAX_STEP_MS = 15;
const MIN_TFJS_FACTOR = 10;
const MIN_STEP_SHARE = 0.5;
const MIN_THREAD_SPEEDUP = 1.6;
const MIN_GEMM_SHARE = 75;

/**
 * value.toFixed(digits), with more digits (up to 3 more) while the rounded figure would pass or
 * fail `met` where the value does not: 74.76 against ≥ 75 shows as 74.8, not 75.
 */
export function shown(value: number, digits: number, met: (v: number) => boolean): string {
  let d = digits;
  let s = value.toFixed(d);
  while (met(Number(s)) !== met(value) && d < digits + 3) s = value.toFixed(++d);
  return s;
}

function num(r: BenchRow | undefined, key: string): number | undefined {
  const v = r?.extra?.[key];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

export function judgeTargets(rows: BenchRow[]): TargetRow[] {
  const out: TargetRow[] = [];
  const add = (target: string, value: number, figure: string, threshold: string, met: boolean) => {
    if (Number.isFinite(value)) out.push({ target, figure, threshold, met });
  };
  // The step group's first pair: 1 and 2 threads in alternating blocks, the speed-up per round.
  const one = rows.find((r) => r.group === "step" && r.name === STEP && r.impl.endsWith(", 1 thread"));
  const two = rows.find((r) => r.group === "step" && r.name === STEP && num(r, "vs 1 thread") !== undefined);
  const tfjsWasm = rows.find((r) => r.group === "tfjs" && r.name.startsWith("tfjs-wasm train step"));
  const plainPeak = rows.find((r) => r.group === "gemm" && r.name === "f32x4 peak (mul+add)");
  const ceiling = rows.find((r) => r.group === "threads" && r.name.endsWith("machine ceiling") && num(r, "speed-up") !== undefined);

  if (one) {
    const fast = (ms: number) => ms <= MAX_STEP_MS;
    add("train step, 1 thread, median", one.medianMs, `${shown(one.medianMs, 2, fast)} ms`, `≤ ${MAX_STEP_MS} ms`, fast(one.medianMs));
    if (tfjsWasm) {
      const factor = tfjsWasm.medianMs / one.medianMs;
      const enough = (f: number) => f >= MIN_TFJS_FACTOR;
      add("faster than TF.js wasm (stand-in Conv2DBackpropFilter), 1 thread", factor,
        `${shown(factor, 1, enough)}× (${tfjsWasm.medianMs.toFixed(0)} ms a step)`,
        `≥ ${MIN_TFJS_FACTOR}×`, enough(factor));
    }
    if (plainPeak?.gflops && one.gflops) {
      const share = one.gflops / plainPeak.gflops;
      const enough = (percent: number) => percent >= 100 * MIN_STEP_SHARE;
      add("train step's effective rate, 1 thread, of the f32x4 mul+add peak", share,
        `${shown(100 * share, 0, enough)} % (${one.gflops.toFixed(1)} GFLOP/s)`,
        `≥ ${100 * MIN_STEP_SHARE} %`, enough(100 * share));
    }
  }
  if (two) {
    const speedup = num(two, "vs 1 thread")!;
    // The machine's ceiling measured in the step's own rounds, else the threads group's.
    const sameRounds = num(two, "machine ceiling, same rounds");
    const machine = sameRounds ?? num(ceiling, "speed-up");
    const enough = (x: number) => x >= MIN_THREAD_SPEEDUP;
    add(`train step, ${two.impl.replace(/.*, /, "")} against 1 (paired rounds)`, speedup,
      `${shown(speedup, 2, enough)}×${machine === undefined ? "" : ` (machine ceiling ${machine.toFixed(2)}×${sameRounds === undefined ? "" : " in the same rounds"})`}`,
      `≥ ${MIN_THREAD_SPEEDUP}×`, enough(speedup));
    // Over the rounds on an idle machine alone (bench/ceiling.ts): shown beside it, not judged.
    const idleRounds = num(two, "idle rounds");
    if (idleRounds !== undefined) {
      const idleSpeedup = num(two, "vs 1 thread, idle rounds");
      const of = `(${idleRounds} of ${num(two, "rounds")} rounds)`;
      out[out.length - 1].quiet = idleSpeedup === undefined ? { figure: `none ${of}`, rounds: "idle" }
        : { figure: `${shown(idleSpeedup, 2, enough)}× ${of}`, met: enough(idleSpeedup), rounds: "idle" };
    }
  }
  // Every GEMM-shaped product on one thread (the micro-kernel alone is their ceiling, not a product).
  // Judged over all its paired rounds; the quiet rounds' figure is shown beside it, not judged.
  const enoughShare = (percent: number) => percent >= MIN_GEMM_SHARE;
  for (const r of rows) {
    const share = num(r, "% mul+add peak");
    if (r.group !== "gemm" || share === undefined || r.name.includes("micro-kernel")) continue;
    add(`GEMM, 1 thread, of the mul+add peak: ${r.name}`, share, `${shown(share, 0, enoughShare)} %`, `≥ ${MIN_GEMM_SHARE} %`, enoughShare(share));
    const quietRounds = num(r, "quiet rounds");
    if (quietRounds === undefined) continue;
    const quiet = num(r, "% mul+add peak, quiet rounds");
    const of = `(${quietRounds} of ${num(r, "rounds")} rounds)`;
    out[out.length - 1].quiet = quiet === undefined ? { figure: `none ${of}`, rounds: "quiet" }
      : { figure: `${shown(quiet, 0, enoughShare)} % ${of}`, met: enoughShare(quiet), rounds: "quiet" };
  }
  return out;
}

export function targetsTable(targets: TargetRow[]): string {
  const met = targets.filter((t) => t.met).length;
  const quiet = targets.filter((t) => t.quiet);
  const head = ["target", "this run", "needs", "met", "quiet (idle) rounds only"];
  const body = targets.map((t) => [t.target, t.figure, t.threshold, t.met ? "yes" : "NO",
    t.quiet ? `${t.quiet.figure}${t.quiet.met === undefined ? "" : t.quiet.met ? " yes" : " no"}` : ""]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  const summary = [`targets: ${met} of ${targets.length} met in this run`];
  const idleStep = targets.find((t) => t.quiet?.rounds === "idle");
  if (idleStep) {
    summary.push(`${idleStep.target} over its idle rounds alone (the peak kernel's speed-up on every thread at once ` +
      `≥ ${Math.round(100 * IDLE_SHARE)} % of the thread count before and after the round's blocks; shown, not judged): ` +
      `${idleStep.quiet!.figure}${idleStep.quiet!.met === undefined ? "" : idleStep.quiet!.met ? ", met" : ", not met"}`);
  }
  const gemmQuiet = quiet.filter((t) => t.quiet!.rounds === "quiet");
  if (gemmQuiet.length > 0) {
    const judged = gemmQuiet.filter((t) => t.quiet!.met !== undefined);
    const none = gemmQuiet.length - judged.length;
    summary.push(`GEMM rows over their quiet rounds alone (the L1 micro-kernel within ${Math.round(100 * (1 - QUIET_FRACTION))} % ` +
      `of its usual best in this run; shown, not judged): ${judged.filter((t) => t.quiet!.met).length} of ${judged.length} at ` +
      `≥ ${MIN_GEMM_SHARE} %${none > 0 ? `, ${none} with no quiet round` : ""}`);
  }
  return [...summary, line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}
