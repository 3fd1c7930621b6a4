// The 2x2 max-pooling window, forward and backward, SIMD over channels: shared by maxpool2d's
// fast path and the fused convolution + pooling (conv_pool.ts). Not re-exported by index.ts:
// inline helpers taking v128 values, not kernels.

import { DROPOUT_CONSTANTS, dropoutKeep4, GOLDEN } from "./dropout_hash";

/**
 * One 2x2 window over `row` bytes of channels (a multiple of 16): its top-left pixel at p00, the
 * others `right` and `down` bytes away. Writes the maxima at yp and, at ap, the winner's tag
 * among t00, t01, t10, t11 (row-major window order).
 */
// @ts-ignore: decorator
@inline export function pool2x2_window(p00: usize, right: usize, down: usize, yp: usize, ap: usize, row: usize,
                                       t00: v128, t01: v128, t10: v128, t11: v128): void {
  for (let o: usize = 0; o < row; o += 16) {
    let best = v128.load(p00 + o);
    let idx = t00;
    let v = v128.load(p00 + right + o);
    let m = f32x4.gt(v, best);
    best = v128.bitselect(v, best, m);
    idx = v128.bitselect(t01, idx, m);
    v = v128.load(p00 + down + o);
    m = f32x4.gt(v, best);
    best = v128.bitselect(v, best, m);
    idx = v128.bitselect(t10, idx, m);
    v = v128.load(p00 + down + right + o);
    m = f32x4.gt(v, best);
    best = v128.bitselect(v, best, m);
    idx = v128.bitselect(t11, idx, m);
    v128.store(yp + o, best);
    v128.store(ap + o, idx);
  }
}

/**
 * The backward of pool2x2_window: each of the window's 4 pixels (d00 and `right`, `down` bytes
 * away) gets gp's gradient in the lanes it won (tag in ap), 0 in the others; stored, not added.
 */
// @ts-ignore: decorator
@inline export function unpool2x2_window(gp: usize, ap: usize, d00: usize, right: usize, down: usize, row: usize,
                                         t00: v128, t01: v128, t10: v128, t11: v128): void {
  for (let o: usize = 0; o < row; o += 16) {
    const g = v128.load(gp + o);
    const idx = v128.load(ap + o);
    v128.store(d00 + o, v128.and(g, i32x4.eq(idx, t00)));
    v128.store(d00 + right + o, v128.and(g, i32x4.eq(idx, t01)));
    v128.store(d00 + down + o, v128.and(g, i32x4.eq(idx, t10)));
    v128.store(d00 + down + right + o, v128.and(g, i32x4.eq(idx, t11)));
  }
}

/**
 * A coded window's byte (pool2x2_window_coded): bits 0-1 the winner's position in the window
 * (row-major), CODE_PASS set when a gradient passes back through it.
 */
export const CODE_PASS = 4;
/** The position bits of a code byte. */
export const CODE_POSITION = 3;

/**
 * Positions 0..3, CODE_PASS and CODE_POSITION, 4 lanes each, for the coded windows' callers to
 * load once (V8 rematerializes v128 constants inside loops).
 */
export const CODE_CONSTANTS = memory.data<i32>([
  0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3,
  CODE_PASS, CODE_PASS, CODE_PASS, CODE_PASS, CODE_POSITION, CODE_POSITION, CODE_POSITION, CODE_POSITION,
], 16);

/**
 * pool2x2_window for the fused convolution + pooling (+ dropout): a code byte a channel at cp
 * instead of an i32 tag, and the gradient's gate folded into it: CODE_PASS is set where the
 * maximum is positive (with relu) and kept (with dropout). yp gets the maximum, or with `drop`
 * what dropout_forward makes of it (maximum · scale where kept, 0 elsewhere), the same bits.
 * weyl: the dropout's Weyl counter (seed_lo + i·GOLDEN) of the window's first channel; hi, thr,
 * scale: splats of seed_hi, the threshold and the scale; m1, m2, lanes: DROPOUT_CONSTANTS's;
 * t0..t3: the positions 0..3 and pass CODE_PASS, splat; zero: 0.0 splat.
 */
// @ts-ignore: decorator
@inline export function pool2x2_window_coded(p00: usize, right: usize, down: usize, yp: usize, cp: usize, row: usize,
                                             relu: bool, drop: bool, weyl: u32, hi: v128, thr: v128, scale: v128,
                                             m1: v128, m2: v128, lanes: v128, t0: v128, t1: v128, t2: v128, t3: v128,
                                             pass: v128, zero: v128): void {
  for (let o: usize = 0; o < row; o += 16) {
    let best = v128.load(p00 + o);
    let idx = t0;
    let v = v128.load(p00 + right + o);
    let m = f32x4.gt(v, best);
    best = v128.bitselect(v, best, m);
    idx = v128.bitselect(t1, idx, m);
    v = v128.load(p00 + down + o);
    m = f32x4.gt(v, best);
    best = v128.bitselect(v, best, m);
    idx = v128.bitselect(t2, idx, m);
    v = v128.load(p00 + down + right + o);
    m = f32x4.gt(v, best);
    best = v128.bitselect(v, best, m);
    idx = v128.bitselect(t3, idx, m);
    let code = idx;
    if (drop) {
      const keep = dropoutKeep4(i32x4.add(i32x4.splat(weyl), lanes), hi, thr, m1, m2);
      weyl += GOLDEN << 2;
      v128.store(yp + o, v128.and(f32x4.mul(best, scale), keep));
      code = v128.or(code, v128.and(relu ? v128.and(f32x4.gt(best, zero), keep) : keep, pass));
    } else {
      v128.store(yp + o, best);
      code = v128.or(code, relu ? v128.and(f32x4.gt(best, zero), pass) : pass);
    }
    // The 4 lanes' low bytes (values 0..7) to 4 bytes.
    const narrow = i16x8.narrow_i32x4_u(code, code);
    v128.store32_lane(cp + (o >> 2), i8x16.narrow_i16x8_u(narrow, narrow), 0);
  }
}

/**
 * The backward of pool2x2_window_coded: each of the window's 4 pixels (d00 and `right`, `down`
 * bytes away) gets gp's gradient (times `scale` with `drop`, as dropout_backward computes it) in
 * the lanes it won where the code lets it pass, 0 in the others; stored, not added. t0..t3, pass:
 * as there; position: CODE_POSITION splat.
 */
// @ts-ignore: decorator
@inline export function unpool2x2_window_coded(gp: usize, cp: usize, d00: usize, right: usize, down: usize, row: usize,
                                               drop: bool, scale: v128, t0: v128, t1: v128, t2: v128, t3: v128,
                                               pass: v128, position: v128): void {
  for (let o: usize = 0; o < row; o += 16) {
    let g = v128.load(gp + o);
    if (drop) g = f32x4.mul(g, scale);
    const code = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(cp + (o >> 2))));
    g = v128.and(g, i32x4.eq(v128.and(code, pass), pass));
    const idx = v128.and(code, position);
    v128.store(d00 + o, v128.and(g, i32x4.eq(idx, t0)));
    v128.store(d00 + right + o, v128.and(g, i32x4.eq(idx, t1)));
    v128.store(d00 + down + o, v128.and(g, i32x4.eq(idx, t2)));
    v128.store(d00 + down + right + o, v128.and(g, i32x4.eq(idx, t3)));
  }
}

/**
 * A row of pw coded windows (pool2x2_window_coded), cout channels a pixel: the windows' top-left
 * pixels 2·cout floats apart from `top`, their bottom row `down` bytes below; the outputs at yp
 * and their code bytes at cp; weyl: the dropout's Weyl counter of the first output. relu and drop
 * are constants where this is inlined, so each case gets a loop with only its own work.
 */
// @ts-ignore: decorator
@inline function pool_row_coded(top: usize, down: usize, pw: i32, cout: i32, yp: usize, cp: usize, relu: bool, drop: bool,
                                weyl: u32, hi: v128, thr: v128, scale: v128): void {
  const m1 = v128.load(DROPOUT_CONSTANTS);
  const m2 = v128.load(DROPOUT_CONSTANTS, 16);
  const lanes = v128.load(DROPOUT_CONSTANTS, 48);
  const t0 = v128.load(CODE_CONSTANTS);
  const t1 = v128.load(CODE_CONSTANTS, 16);
  const t2 = v128.load(CODE_CONSTANTS, 32);
  const t3 = v128.load(CODE_CONSTANTS, 48);
  const pass = v128.load(CODE_CONSTANTS, 64);
  const zero = f32x4.splat(0);
  const row = <usize>cout << 2;
  const weylPerWindow = <u32>cout * GOLDEN;
  for (let px = 0; px < pw; px++) {
    pool2x2_window_coded(top + <usize>px * 2 * row, row, down, yp, cp, row, relu, drop, weyl, hi, thr, scale,
      m1, m2, lanes, t0, t1, t2, t3, pass, zero);
    yp += row;
    cp += <usize>cout;
    weyl += weylPerWindow;
  }
}

/**
 * pool_row_coded with relu (0 or 1) and the dropout (threshold 0: none; hi, thr, scale: splats of
 * seed_hi, the threshold and the scale) known at run time: one of its four cases.
 */
// @ts-ignore: decorator
@inline export function pool_row_coded_any(top: usize, down: usize, pw: i32, cout: i32, yp: usize, cp: usize, relu: i32,
                                           threshold: u32, weyl: u32, hi: v128, thr: v128, scale: v128): void {
  if (threshold) {
    if (relu) pool_row_coded(top, down, pw, cout, yp, cp, true, true, weyl, hi, thr, scale);
    else pool_row_coded(top, down, pw, cout, yp, cp, false, true, weyl, hi, thr, scale);
  } else {
    if (relu) pool_row_coded(top, down, pw, cout, yp, cp, true, false, weyl, hi, thr, scale);
    else pool_row_coded(top, down, pw, cout, yp, cp, false, false, weyl, hi, thr, scale);
  }
}
