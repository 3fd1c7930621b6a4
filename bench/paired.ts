// Paired rounds: a kernel's rate as a share of the plain build's f32x4 peak, measured so that this
// shared machine's changes of speed cancel out. They are not even: when the host is busy, kernels
// that load from L1 lose up to half their speed for seconds at a time while the register-only peak
// kernel keeps its own (scratch, one process: the 4x8 micro-kernel on data in L1 ran at 45-92 % of
// the peak within one minute, the peak within 10 %). So each round times three short blocks back
// to back: the kernel, the peak, and a probe of the load side (that micro-kernel), and keeps the
// kernel's and the probe's rates as shares of the peak's. A round is "quiet" when its probe ran
// within QUIET_FRACTION of the probe's usual best in the run (QUIET_PERCENTILE of all its rounds).

import { clock } from "./harness.js";

export interface Block {
  /** One call of the kernel. */
  run: () => unknown;
  /** Its FLOPs a call. */
  flops: number;
}

export interface Round {
  /** The kernel's rate over the peak's in this round. */
  share: number;
  /** The probe's rate over the peak's in this round. */
  probe: number;
}

/** A round is quiet when its probe reached this fraction of the run's reference level. */
export const QUIET_FRACTION = 0.9;
/** The reference level: this percentile of the probe's shares over every round of the run. */
export const QUIET_PERCENTILE = 0.9;

/** Calls of a block: the block's time is their median. */
const CALLS_PER_BLOCK = 5;

/** The median time (ms, by `now`) of CALLS_PER_BLOCK calls. */
function block(f: () => unknown, now: () => number): number {
  const t: number[] = [];
  for (let i = 0; i < CALLS_PER_BLOCK; i++) {
    const t0 = now();
    f();
    t.push(now() - t0);
  }
  return t.sort((a, b) => a - b)[CALLS_PER_BLOCK >> 1];
}

/** `rounds` rounds of kernel, peak and probe blocks, the order reversed every other round. */
export function pairedRounds(kernel: Block, peak: Block, probe: Block, rounds: number, now: () => number = clock): Round[] {
  const out: Round[] = [];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? [kernel, peak, probe] : [probe, peak, kernel];
    const ms = new Map<Block, number>();
    for (const b of order) ms.set(b, block(b.run, now));
    const rate = (b: Block) => b.flops / ms.get(b)!;
    out.push({ share: rate(kernel) / rate(peak), probe: rate(probe) / rate(peak) });
  }
  return out;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[s.length >> 1];
}

/** The probe's share above which a round counts as quiet, from every round of a run. */
export function quietLevel(all: readonly Round[]): number {
  const s = all.map((r) => r.probe).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return QUIET_FRACTION * s[Math.min(s.length - 1, Math.floor(QUIET_PERCENTILE * (s.length - 1) + 0.5))];
}

/**
 * A row's columns from its rounds (percentages): its share of the peak over all rounds (the
 * figure the targets judge), over the quiet rounds alone, and against the probe in the same round;
 * the probe's own share while the row ran, and how many rounds were quiet.
 */
export function roundColumns(rounds: readonly Round[], level: number): Record<string, number> {
  const quiet = rounds.filter((r) => r.probe >= level);
  return {
    "% mul+add peak": 100 * median(rounds.map((r) => r.share)),
    "% mul+add peak, quiet rounds": 100 * median(quiet.map((r) => r.share)),
    "quiet rounds": quiet.length,
    "rounds": rounds.length,
    "% micro-kernel (same round)": 100 * median(rounds.map((r) => r.share / r.probe)),
    "micro-kernel % mul+add peak": 100 * median(rounds.map((r) => r.probe)),
  };
}
