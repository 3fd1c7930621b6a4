// The 2x2 max-pooling window, forward and backward, SIMD over channels: shared by maxpool2d's
// fast path and the fused convolution + pooling (conv_pool.ts). Not re-exported by index.ts:
// inline helpers taking v128 values, not kernels.

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
