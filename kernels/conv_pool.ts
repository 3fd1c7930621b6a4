// A direct convolution (bias, optional relu) followed by 2x2 max pooling with stride 2, computed
// one pair of output rows at a time: the pair is pooled while it is still in L1, so the
// full-resolution activation (conv1's: 6.4 MB at batch 32) is never written, and the backward
// rebuilds the pair's gradient from the pooled one in L1 too, instead of reading a
// full-resolution gradient and activation back. Without an input gradient only (conv1 reads the
// data). The sums are those of conv2d_direct_forward / maxpool2d / conv2d_direct_backward_filter,
// in the same order: the same bits as the unfused ops.
//
// The winner of each pooled value is recorded as its position in the window, 0..3 (row-major).
// Output rows past the last whole window (odd oh or ow) are never pooled: their gradient is 0.

import { fillRun } from "./runs";
import { relu_backward } from "./elementwise";
import { conv2d_direct_scratch_floats, direct_filter_rows, direct_forward_row } from "./conv";
import { pool2x2_window, unpool2x2_window } from "./pool_window";

/** Scratch floats of both kernels: the direct kernels' rows, a pair of output rows, a pooled row. */
export function conv2d_maxpool2x2_scratch_floats(ow: i32, cin: i32, kh: i32, kw: i32, sw: i32, cout: i32): i32 {
  return conv2d_direct_scratch_floats(ow, cin, kh, kw, sw) + 2 * ow * cout + (ow >> 1) * cout;
}

/**
 * y[n, oh/2, ow/2, cout] = maxpool2x2(act(conv(x, wt) + b)) with arg, the winners' positions (i32);
 * oh, ow: the convolution's output size. cout a multiple of 4.
 */
export function conv2d_maxpool2x2_forward(x: usize, wt: usize, b: usize, y: usize, arg: usize, scratch: usize,
                                          n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32,
                                          kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, relu: i32): void {
  const pair = scratch + (<usize>conv2d_direct_scratch_floats(ow, cin, kh, kw, sw) << 2);
  const row = <usize>cout << 2;
  const convRow = <usize>ow * row;
  const poh = oh >> 1, pw = ow >> 1;
  let yp = y;
  let ap = arg;
  for (let img = 0; img < n; img++) {
    const xi = x + (<usize>(img * h * w * cin) << 2);
    for (let py = 0; py < poh; py++) {
      const oy = 2 * py;
      direct_forward_row(xi, wt, b, pair, scratch, h, w, cin, ow, cout, kh, kw, sw, oy * sh - pt, pl, relu);
      direct_forward_row(xi, wt, b, pair + convRow, scratch, h, w, cin, ow, cout, kh, kw, sw, (oy + 1) * sh - pt, pl, relu);
      for (let px = 0; px < pw; px++) {
        pool2x2_window(pair + <usize>px * 2 * row, row, convRow, yp, ap, row,
          i32x4.splat(0), i32x4.splat(1), i32x4.splat(2), i32x4.splat(3));
        yp += row;
        ap += row;
      }
    }
  }
}

/**
 * dw (taps rounded up to 4 rows) and db (if b != 0) of conv2d_maxpool2x2_forward, from the pooled
 * output y, its winners arg and its gradient gy: each pair of output rows gets its gradient back
 * from the pooled row (relu's mask from y > 0, the winner's value), then the direct kernel
 * gradient's row sums run over it.
 */
export function conv2d_maxpool2x2_backward_filter(x: usize, y: usize, arg: usize, gy: usize, dw: usize, db: usize, scratch: usize,
                                                  n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32,
                                                  kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, relu: i32): void {
  const taps = kh * kw * cin;
  fillRun(dw, ((taps + 3) & ~3) * cout, 0);
  if (db) fillRun(db, cout, 0);
  const pair = scratch + (<usize>conv2d_direct_scratch_floats(ow, cin, kh, kw, sw) << 2);
  const row = <usize>cout << 2;
  const convRow = <usize>ow * row;
  const masked = pair + 2 * convRow;
  const poh = oh >> 1, pw = ow >> 1;
  // An odd last column is in no window: its gradient stays 0.
  if (ow & 1) {
    fillRun(pair + convRow - row, cout, 0);
    fillRun(pair + 2 * convRow - row, cout, 0);
  }
  const pooledRow = pw * cout;
  for (let img = 0; img < n; img++) {
    const xi = x + (<usize>(img * h * w * cin) << 2);
    for (let py = 0; py < poh; py++) {
      const off = <usize>((img * poh + py) * pooledRow) << 2;
      let gp = gy + off;
      if (relu) {
        relu_backward(y + off, gp, masked, pooledRow);
        gp = masked;
      }
      let ap = arg + off;
      for (let px = 0; px < pw; px++) {
        unpool2x2_window(gp, ap, pair + <usize>px * 2 * row, row, convRow, row,
          i32x4.splat(0), i32x4.splat(1), i32x4.splat(2), i32x4.splat(3));
        gp += row;
        ap += row;
      }
      const oy = 2 * py;
      direct_filter_rows(xi, pair, dw, db, scratch, h, w, cin, ow, cout, kh, kw, sh, sw, oy * sh - pt, pl, 1);
      direct_filter_rows(xi, pair + convRow, dw, db, scratch, h, w, cin, ow, cout, kh, kw, sh, sw, (oy + 1) * sh - pt, pl, 1);
    }
  }
}
