// A direct convolution (bias, optional relu) followed by 2x2 max pooling with stride 2, and
// optionally dropout, computed one pair of output rows at a time: the pair is pooled (and the
// dropout applied) while it is still in L1, so the full-resolution activation (conv1's: 6.4 MB at
// batch 32) and the pooled one before dropout are never written, and the backward rebuilds the
// pair's gradient from the output's in L1 too. Without an input gradient only (conv1 reads the
// data). The sums are those of conv2d_direct_forward / maxpool2d / dropout /
// conv2d_direct_backward_filter, in the same order: the same bits as the unfused ops.
//
// Each output value keeps a code byte for the backward (pool_window.ts): its winner's position in
// the window and whether a gradient passes (relu's positive maximum, dropout's kept element), in
// place of the pooled values and i32 positions the backward read before: per image of conv1,
// 12.5 KB instead of 100 KB, and no dropout mask of its own.
// Output rows past the last whole window (odd oh or ow) are never pooled: their gradient is 0.

import { fillRun } from "./runs";
import { conv2d_direct_scratch_floats, direct_filter_rows, direct_forward_row } from "./conv";
import { GOLDEN } from "./dropout_hash";
import { CODE_CONSTANTS, pool_row_coded_any, unpool2x2_window_coded } from "./pool_window";

/** Scratch floats of both kernels: the direct kernels' rows and a pair of output rows. */
export function conv2d_maxpool2x2_scratch_floats(ow: i32, cin: i32, kh: i32, kw: i32, sw: i32, cout: i32): i32 {
  return conv2d_direct_scratch_floats(ow, cin, kh, kw, sw) + 2 * ow * cout;
}

/**
 * y[n, oh/2, ow/2, cout] = maxpool2x2(act(conv(x, wt) + b)), then with threshold != 0 dropout as
 * dropout_forward (seed_lo: the Weyl counter of y's first element); code: a byte an element of y
 * (pool2x2_window_coded). oh, ow: the convolution's output size. cout a multiple of 4.
 */
export function conv2d_maxpool2x2_forward(x: usize, wt: usize, b: usize, y: usize, code: usize, scratch: usize,
                                          n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32,
                                          kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, relu: i32,
                                          seed_lo: u32, seed_hi: u32, threshold: u32, scale: f32): void {
  const pair = scratch + (<usize>conv2d_direct_scratch_floats(ow, cin, kh, kw, sw) << 2);
  const row = <usize>cout << 2;
  const convRow = <usize>ow * row;
  const poh = oh >> 1, pw = ow >> 1;
  const hi = i32x4.splat(seed_hi);
  const thr = i32x4.splat(threshold);
  const s = f32x4.splat(scale);
  const rowWeyl = <u32>(pw * cout) * GOLDEN;
  let yp = y;
  let cp = code;
  let weyl = seed_lo;
  for (let img = 0; img < n; img++) {
    const xi = x + (<usize>(img * h * w * cin) << 2);
    for (let py = 0; py < poh; py++) {
      const oy = 2 * py;
      direct_forward_row(xi, wt, b, pair, scratch, h, w, cin, ow, cout, kh, kw, sw, oy * sh - pt, pl, relu);
      direct_forward_row(xi, wt, b, pair + convRow, scratch, h, w, cin, ow, cout, kh, kw, sw, (oy + 1) * sh - pt, pl, relu);
      pool_row_coded_any(pair, convRow, pw, cout, yp, cp, relu, threshold, weyl, hi, thr, s);
      yp += <usize>pw * row;
      cp += <usize>(pw * cout);
      weyl += rowWeyl;
    }
  }
}

/**
 * dw (taps rounded up to 4 rows) and db (if b != 0) of conv2d_maxpool2x2_forward, from the code
 * bytes and the gradient gy of its output (scale: dropout's, 0 without dropout): each pair of
 * output rows gets its gradient back from the output's, then the direct kernel gradient's row
 * sums run over it. relu is not read (the codes carry its gate): the geometry is the forward's.
 */
export function conv2d_maxpool2x2_backward_filter(x: usize, code: usize, gy: usize, dw: usize, db: usize, scratch: usize,
                                                  n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32,
                                                  kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, relu: i32,
                                                  scale: f32): void {
  const taps = kh * kw * cin;
  fillRun(dw, ((taps + 3) & ~3) * cout, 0);
  if (db) fillRun(db, cout, 0);
  const pair = scratch + (<usize>conv2d_direct_scratch_floats(ow, cin, kh, kw, sw) << 2);
  const row = <usize>cout << 2;
  const convRow = <usize>ow * row;
  const poh = oh >> 1, pw = ow >> 1;
  // An odd last column is in no window: its gradient stays 0.
  if (ow & 1) {
    fillRun(pair + convRow - row, cout, 0);
    fillRun(pair + 2 * convRow - row, cout, 0);
  }
  const s = f32x4.splat(scale);
  const t0 = v128.load(CODE_CONSTANTS);
  const t1 = v128.load(CODE_CONSTANTS, 16);
  const t2 = v128.load(CODE_CONSTANTS, 32);
  const t3 = v128.load(CODE_CONSTANTS, 48);
  const pass = v128.load(CODE_CONSTANTS, 64);
  const position = v128.load(CODE_CONSTANTS, 80);
  let gp = gy;
  let cp = code;
  for (let img = 0; img < n; img++) {
    const xi = x + (<usize>(img * h * w * cin) << 2);
    for (let py = 0; py < poh; py++) {
      for (let px = 0; px < pw; px++) {
        const d00 = pair + <usize>px * 2 * row;
        if (scale != 0) unpool2x2_window_coded(gp, cp, d00, row, convRow, row, true, s, t0, t1, t2, t3, pass, position);
        else unpool2x2_window_coded(gp, cp, d00, row, convRow, row, false, s, t0, t1, t2, t3, pass, position);
        gp += row;
        cp += <usize>cout;
      }
      const oy = 2 * py;
      direct_filter_rows(xi, pair, dw, db, scratch, h, w, cin, ow, cout, kh, kw, sh, sw, oy * sh - pt, pl, 1);
      direct_filter_rows(xi, pair + convRow, dw, db, scratch, h, w, cin, ow, cout, kh, kw, sh, sw, (oy + 1) * sh - pt, pl, 1);
    }
  }
}
