// Micro-kernels that read A's rows in place, through a table of row pointers, instead of from a
// packed strip: for each of `taps` taps, 4 u32 pointers (one a row of the strip), each to `ch`
// consecutive values of that row for this tap. The implicit convolutions point them into the image
// (conv_gemm.ts: a tap is one kernel position's channels); the GEMM points them at A's rows
// (gemm.ts: one tap, the K block). Reading in place skips gathering and transposing 4 rows into a
// packed strip first. The sums run over (tap, value) in the order a packed strip's would, so the
// results are the same bits as strip4's. B is packed as gemm.ts's pack_b (8 columns a panel) or
// pack_b16 (16 columns, for the 2x16 tile).

import { madd } from "./madd";
import { finish_tile, finish_tile2x16, NR } from "./tile";

/**
 * How many taps from t on (one at least) make one run for rows r0 .. r0 + rows - 1 of `table`:
 * each next tap's channels start, for every one of those rows, where the previous tap's end
 * (run bytes later), as for horizontal neighbours inside the image.
 */
@inline function tapsInRun(table: usize, t: i32, taps: i32, r0: i32, rows: i32, run: usize): i32 {
  const first = table + (<usize>(t * 4 + r0) << 2);
  let joined = 1;
  for (; t + joined < taps; joined++) {
    const next = first + (<usize>joined << 4);
    const offset = <usize>joined * run;
    for (let r = 0; r < rows; r++) {
      if (<usize>load<u32>(next + (<usize>r << 2)) != <usize>load<u32>(first + (<usize>r << 2)) + offset) return joined;
    }
  }
  return joined;
}

/**
 * strip4 with A read in place: rows c0.. (ldc bytes apart, n columns, `rows` of them written) of
 * C = A · packed, where A's 4 rows are, for each of `taps` taps, the ch values at the 4 pointers
 * of `table` (conv_gemm.ts's tap_pointers, or gemm.ts's 4 row pointers). kc = taps * ch, the
 * packed B block's rows. Consecutive taps whose
 * channels follow on in memory for every row (horizontal neighbours inside the image) are read
 * as one run: half the inner loop's starts for a 2x2 kernel, the same reads in the same order
 * (scratch A/B: 1.05x on conv2's forward and input gradient on the plain build, 1.00-1.05x on the
 * relaxed one).
 */
function strip4_taps(table: usize, taps: i32, ch: i32, packed: usize, c0: usize, ldc: usize, n: i32, loadC: bool,
                     bias: usize, relu: bool, stage: usize, rows: i32): void {
  const zero = v128.load(stage); // stage starts zeroed: a zero vector not rematerialized in loops
  const panels = (n + NR - 1) / NR;
  const panelBytes = <usize>(taps * ch) * (NR * 4);
  const run = <usize>ch << 2;
  for (let q = 0; q < panels; q++) {
    let pb = packed + <usize>q * panelBytes;
    let x00 = v128.xor(zero, zero), x01 = x00, x10 = x00, x11 = x00;
    let x20 = x00, x21 = x00, x30 = x00, x31 = x00;
    for (let t = 0; t < taps;) {
      const tp = table + (<usize>t << 4);
      let p0 = <usize>load<u32>(tp), p1 = <usize>load<u32>(tp, 4);
      let p2 = <usize>load<u32>(tp, 8), p3 = <usize>load<u32>(tp, 12);
      const joined = tapsInRun(table, t, taps, 0, 4, run);
      t += joined;
      const end = p0 + <usize>joined * run;
      while (p0 < end) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        const e0 = v128.load32_splat(p0);
        x00 = madd(e0, b0, x00);
        x01 = madd(e0, b1, x01);
        const e1 = v128.load32_splat(p1);
        x10 = madd(e1, b0, x10);
        x11 = madd(e1, b1, x11);
        const e2 = v128.load32_splat(p2);
        x20 = madd(e2, b0, x20);
        x21 = madd(e2, b1, x21);
        const e3 = v128.load32_splat(p3);
        x30 = madd(e3, b0, x30);
        x31 = madd(e3, b1, x31);
        p0 += 4;
        p1 += 4;
        p2 += 4;
        p3 += 4;
        pb += NR * 4;
      }
    }
    finish_tile(c0, ldc, q * NR, n, x00, x01, x10, x11, x20, x21, x30, x31, loadC, bias, relu, zero, stage, rows);
  }
}

/** pack_b for a row-major B whose n columns are a multiple of 16: panels 16 columns wide. */
export function pack_b16(b: usize, ldb: i32, dst: usize, n: i32, k0: i32, kc: i32): void {
  const ld = <usize>ldb << 2;
  for (let q = 0; q < n >> 4; q++) {
    let s = b + ((<usize>k0 * ldb + q * 16) << 2);
    let d = dst + <usize>q * kc * 64;
    for (let p = 0; p < kc; p++) {
      v128.store(d, v128.load(s));
      v128.store(d, v128.load(s, 16), 16);
      v128.store(d, v128.load(s, 32), 32);
      v128.store(d, v128.load(s, 48), 48);
      s += ld;
      d += 64;
    }
  }
}

/**
 * strip4_taps for 2 rows with a 2x16 tile (n a multiple of 16, B in pack_b16's panels): the same
 * 8 accumulators, but two A pointers to step instead of four, which V8's loop spends instructions
 * on (scratch A/B: 1.04–1.06x on conv2's forward, 1.02x on its input gradient). The pointers are entries r0 and r0 + 1 of
 * each tap's 4 in `table`; the sums run in the same order, so the results are the same bits.
 */
function strip2x16_taps(table: usize, r0: i32, taps: i32, ch: i32, packed: usize, c0: usize, ldc: usize, n: i32, loadC: bool,
                        bias: usize, relu: bool, stage: usize, rows: i32): void {
  const zero = v128.load(stage); // stage starts zeroed: a zero vector not rematerialized in loops
  const panelBytes = <usize>(taps * ch) * 64;
  const run = <usize>ch << 2;
  for (let q = 0; q < n >> 4; q++) {
    let pb = packed + <usize>q * panelBytes;
    let x00 = v128.xor(zero, zero), x01 = x00, x02 = x00, x03 = x00;
    let x10 = x00, x11 = x00, x12 = x00, x13 = x00;
    for (let t = 0; t < taps;) {
      const tp = table + (<usize>(t * 4 + r0) << 2);
      let p0 = <usize>load<u32>(tp), p1 = <usize>load<u32>(tp, 4);
      const joined = tapsInRun(table, t, taps, r0, 2, run);
      t += joined;
      const end = p0 + <usize>joined * run;
      while (p0 < end) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        const b2 = v128.load(pb, 32);
        const b3 = v128.load(pb, 48);
        const e0 = v128.load32_splat(p0);
        x00 = madd(e0, b0, x00);
        x01 = madd(e0, b1, x01);
        x02 = madd(e0, b2, x02);
        x03 = madd(e0, b3, x03);
        const e1 = v128.load32_splat(p1);
        x10 = madd(e1, b0, x10);
        x11 = madd(e1, b1, x11);
        x12 = madd(e1, b2, x12);
        x13 = madd(e1, b3, x13);
        p0 += 4;
        p1 += 4;
        pb += 64;
      }
    }
    const j = <usize>q << 6;
    finish_tile2x16(c0 + j, ldc, x00, x01, x02, x03, x10, x11, x12, x13, loadC, bias ? bias + j : 0, relu, zero, stage, rows);
  }
}

/**
 * Up to 4 rows of C from the taps of `table` (see strip4_taps): a 4x8 tile, or with `wide` (n a
 * multiple of 16, B packed 16 columns wide) two 2x16 tiles.
 */
@inline export function strips_taps(table: usize, taps: i32, ch: i32, packed: usize, c0: usize, ldc: usize, n: i32, loadC: bool,
                             bias: usize, relu: bool, stage: usize, rows: i32, wide: bool): void {
  if (!wide) {
    strip4_taps(table, taps, ch, packed, c0, ldc, n, loadC, bias, relu, stage, rows);
    return;
  }
  strip2x16_taps(table, 0, taps, ch, packed, c0, ldc, n, loadC, bias, relu, stage, min(2, rows));
  if (rows > 2) strip2x16_taps(table, 2, taps, ch, packed, c0 + 2 * ldc, ldc, n, loadC, bias, relu, stage, rows - 2);
}
