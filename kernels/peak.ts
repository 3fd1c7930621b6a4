import { madd } from "./madd";
import { strip4 } from "./gemm";

// The runtime's f32x4 peak: 12 independent mul+add chains (enough to cover the latency of both
// the multiply and the add on two pipes each), 96 FLOP per iteration. For the bench only. In the
// relaxed builds each chain is one fused multiply-add (kernels/madd.ts): the FMA peak.

/** Runs `iterations` rounds of acc = acc * s + t on 12 f32x4 accumulators; returns their sum. */
export function peak_f32x4(iterations: i32, seed: f32): f32 {
  const s = f32x4.splat(0.999);
  const t = f32x4.splat(seed);
  let a0 = t, a1 = f32x4.add(t, s), a2 = f32x4.add(a1, s), a3 = f32x4.add(a2, s);
  let a4 = f32x4.add(a3, s), a5 = f32x4.add(a4, s), a6 = f32x4.add(a5, s), a7 = f32x4.add(a6, s);
  let a8 = f32x4.add(a7, s), a9 = f32x4.add(a8, s), a10 = f32x4.add(a9, s), a11 = f32x4.add(a10, s);
  for (let i = 0; i < iterations; i++) {
    a0 = madd(a0, s, t);
    a1 = madd(a1, s, t);
    a2 = madd(a2, s, t);
    a3 = madd(a3, s, t);
    a4 = madd(a4, s, t);
    a5 = madd(a5, s, t);
    a6 = madd(a6, s, t);
    a7 = madd(a7, s, t);
    a8 = madd(a8, s, t);
    a9 = madd(a9, s, t);
    a10 = madd(a10, s, t);
    a11 = madd(a11, s, t);
  }
  const sum = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)),
    f32x4.add(f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)), f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11))));
  return f32x4.extract_lane(sum, 0) + f32x4.extract_lane(sum, 1) + f32x4.extract_lane(sum, 2) + f32x4.extract_lane(sum, 3);
}

/**
 * The GEMMs' 4x8 micro-kernel (gemm.ts's strip4) over the same packed strip of A and n/8 panels of
 * B, `calls` times, no C read: with data that fits in L1, the rate of a kernel bound by its loads
 * and multiply-adds. For the bench only (bench/gemm.ts's micro-kernel row and the probe of its
 * paired rounds): a busy host slows it by up to half while peak_f32x4 keeps its speed.
 */
export function micro_f32x4(calls: i32, packedA: usize, packedB: usize, c: usize, n: i32, kc: i32, stage: usize): void {
  for (let i = 0; i < calls; i++) strip4(packedA, packedB, c, <usize>n << 2, n, kc, false, 0, false, stage, 4);
}
