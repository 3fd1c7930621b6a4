// The backward of a convolution (bias, optional relu) followed by 2x2 max pooling with stride 2,
// from the pooled gradient alone. Max pooling passes each pooled value's gradient to one pixel of
// its window, and relu keeps it only where the pooled value is positive, so at most a quarter of
// the convolution's output gradient is not zero (conv2 of the tutorial at batch 32: about a tenth,
// with dropout after the pooling). The dense kernels multiply all of it; this one visits only the
// nonzero values (g at output pixel p, channel c):
//   dx[p's taps] += g · w[c]     grouped by pixel: 24 channels of dx stay in registers while
//                                every channel that won at p adds to them
//   dw[c] += g · x[p's taps]     grouped by channel: 24 taps of dw stay in registers while
//                                every pixel where c won adds to them
//   db[c] += g
// The forward pools with maxpool2x2_coded_forward, which applies the dropout after the pooling,
// if any, and keeps a code byte an output: the winner's place in its window (0..3, so the
// backward needs no division to find it) and whether a gradient passes (relu's positive maximum,
// dropout's kept element), in place of the pooled values, an i32 place and a dropout mask.
// Sums run image by image, and within an image window by window, channel by channel: the input
// gradient of an image depends only on that image, so ranges of images give the same bits on any
// thread count; the kernel and bias gradients are summed per range (the caller adds fixed halves).
// Channels are multiples of 4 (SIMD rows of the input, of its gradient and of the pooled values).

import { fillRun } from "./runs";
import { madd } from "./madd";
import { GOLDEN } from "./dropout_hash";
import { CODE_CONSTANTS, CODE_POSITION, pool_row_coded_any } from "./pool_window";
import { conv_gemm_scratch_floats, implicit_forward_block, implicit_forward_pack, implicit_forward_prepare,
  implicit_forward_taps_per_block } from "./conv_gemm";

/**
 * y[n, oh/2, ow/2, c] = 2x2 max pooling with stride 2 of x[n, oh, ow, c] (rows or columns past
 * the last whole window left out), the values and the tie rule (the first maximum) of
 * maxpool2d_forward, then with threshold != 0 dropout as dropout_forward (seed_lo: the Weyl counter
 * of y's first element); code: a byte an element of y (pool_window.ts: the winner's place in its
 * window, and whether a gradient passes: relu's positive maximum, dropout's kept element).
 * c a multiple of 4.
 */
export function maxpool2x2_coded_forward(x: usize, y: usize, code: usize, n: i32, oh: i32, ow: i32, c: i32, relu: i32,
                                         seed_lo: u32, seed_hi: u32, threshold: u32, scale: f32): void {
  const row = <usize>c << 2;
  const down = <usize>ow * row;
  const poh = oh >> 1, pw = ow >> 1;
  const hi = i32x4.splat(seed_hi);
  const thr = i32x4.splat(threshold);
  const s = f32x4.splat(scale);
  const rowWeyl = <u32>(pw * c) * GOLDEN;
  let yp = y;
  let cp = code;
  let weyl = seed_lo;
  for (let img = 0; img < n; img++) {
    for (let py = 0; py < poh; py++) {
      pool_row_coded_any(x + (<usize>((img * oh + 2 * py) * ow) * row), down, pw, c, yp, cp, relu, threshold, weyl, hi, thr, s);
      yp += <usize>pw * row;
      cp += <usize>(pw * c);
      weyl += rowWeyl;
    }
  }
}

/**
 * Scratch floats of conv2d_implicit_forward_maxpool2x2 for parts of up to `images` images: the
 * implicit forward's, then the convolution's output of one image (when one K block holds every
 * tap) or of `images` images.
 */
export function conv2d_implicit_maxpool2x2_scratch_floats(images: i32, oh: i32, ow: i32, cin: i32, cout: i32, kh: i32, kw: i32): i32 {
  const taps = kh * kw;
  const group = implicit_forward_taps_per_block(cin, cout, kh, kw) >= taps ? 1 : images;
  return conv_gemm_scratch_floats(cout, taps * cin, cin, cin) + group * oh * ow * cout;
}

/**
 * maxpool2x2_coded_forward(conv2d_implicit_forward(...)) for n images, without the convolution's
 * output leaving the thread's scratch: with one K block (conv2: 2x2 taps of 64 channels), B is
 * packed once and each image is convolved and pooled while its output (25 KB for conv2) is in L1;
 * otherwise every image through each K block, then all pooled. The same sums as the two kernels,
 * so the same bits; seed_lo is the dropout's Weyl counter of y's first element.
 */
export function conv2d_implicit_forward_maxpool2x2(x: usize, wt: usize, bias: usize, y: usize, code: usize, scratch: usize,
                                                   n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32,
                                                   kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, relu: i32,
                                                   seed_lo: u32, seed_hi: u32, threshold: u32, scale: f32): void {
  const taps = kh * kw;
  const tpb = implicit_forward_taps_per_block(cin, cout, kh, kw);
  implicit_forward_prepare(scratch, cin, cout, tpb);
  const full = scratch + (<usize>conv_gemm_scratch_floats(cout, taps * cin, cin, cin) << 2);
  const pixels = oh * ow;
  const inImage = <usize>(h * w * cin) << 2;
  const outImage = (oh >> 1) * (ow >> 1) * cout; // pooled floats (and code bytes) of an image
  const oneBlock = tpb >= taps;
  const group = oneBlock ? 1 : n;
  if (oneBlock) implicit_forward_pack(wt, scratch, cin, cout, 0, taps);
  for (let g0 = 0; g0 < n; g0 += group) {
    for (let t0 = 0; t0 < taps; t0 += tpb) {
      const t1 = min(taps, t0 + tpb);
      if (!oneBlock) implicit_forward_pack(wt, scratch, cin, cout, t0, t1);
      implicit_forward_block(x + <usize>g0 * inImage, bias, full, scratch, tpb, group, h, w, cin, oh, ow, cout,
        kh, kw, sh, sw, pt, pl, relu, t0, t1, 0, group * pixels);
    }
    maxpool2x2_coded_forward(full, y + (<usize>(g0 * outImage) << 2), code + <usize>(g0 * outImage), group, oh, ow, cout, relu,
      seed_lo + <u32>(g0 * outImage) * GOLDEN, seed_hi, threshold, scale);
  }
}

/**
 * Scratch floats: the kernel transposed to [cout][taps], its gradient in that layout, a zero input
 * pixel (cin), the 4 window pixels' lists of (g, the channel's row of wT) (cout each), and per
 * channel a count and one entry per window (g and the kh·kw pointers of its input pixels).
 */
export function conv2d_maxpool2x2_sparse_scratch_floats(kh: i32, kw: i32, cin: i32, cout: i32, windows: i32): i32 {
  return 2 * kh * kw * cin * cout + cin + 8 * cout + ((cout + 3) & ~3) + cout * windows * (1 + kh * kw);
}

/**
 * dx (if not 0: [n, h, w, cin], overwritten), dw (if not 0: [taps rounded up to 4][cout],
 * overwritten) and db (if not 0: [cout], overwritten) of y = maxpool2x2(act(conv(x, wt) + b)),
 * then dropout if scale != 0, from the code bytes of maxpool2x2_coded_forward and the gradient gy
 * of its output. oh, ow: the convolution's output size. cin and cout multiples of 4. relu is not
 * read (the codes carry its gate).
 */
export function conv2d_maxpool2x2_backward_sparse(x: usize, wt: usize, code: usize, gy: usize,
                                                  dx: usize, dw: usize, db: usize, scratch: usize,
                                                  n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32,
                                                  kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, relu: i32,
                                                  scale: f32): void {
  const taps = kh * kw * cin;
  const kernelPixels = kh * kw;
  const pw = ow >> 1;
  const windows = (oh >> 1) * pw;
  const wT = scratch;
  const dwT = wT + (<usize>(taps * cout) << 2);
  const zeroPixel = dwT + (<usize>(taps * cout) << 2);
  const lists = zeroPixel + (<usize>cin << 2); // 4 lists of up to cout (g, wT row) pairs
  const counts = lists + (<usize>(8 * cout) << 2); // per channel: entries in its bucket
  const buckets = counts + (<usize>((cout + 3) & ~3) << 2); // per channel: `windows` entries
  const entryBytes = <usize>(1 + kernelPixels) << 2;
  const bucketBytes = <usize>windows * entryBytes;

  // The kernel's column for output channel c becomes row c: contiguous taps.
  for (let t = 0; t < taps; t++) {
    for (let c = 0; c < cout; c++) store<f32>(wT + (<usize>(c * taps + t) << 2), load<f32>(wt + (<usize>(t * cout + c) << 2)));
  }
  fillRun(zeroPixel, cin, 0);
  if (dw) fillRun(dwT, taps * cout, 0);
  if (db) fillRun(db, cout, 0);
  const imageFloats = h * w * cin;
  if (dx) fillRun(dx, n * imageFloats, 0);
  const pixelBytes = <usize>cin << 2;
  const zero = f32x4.splat(0);
  const s = f32x4.splat(scale);
  const passBit = v128.load(CODE_CONSTANTS, 64);
  let q: usize = 0; // pooled value index
  for (let img = 0; img < n; img++) {
    const xi = x + (<usize>(img * imageFloats) << 2);
    const dxi = dx + (<usize>(img * imageFloats) << 2);
    fillRun(counts, cout, 0);
    for (let win = 0; win < windows; win++) {
      const oy0 = (win / pw) << 1, ox0 = (win % pw) << 1;
      let n0 = 0, n1 = 0, n2 = 0, n3 = 0;
      for (let c0 = 0; c0 < cout; c0 += 4, q += 4) {
        // The nonzero gradients (NaN included) that the code lets through (relu's positive
        // maximum, dropout's kept element), 4 channels at a time, times dropout's scale as
        // dropout_backward would give them.
        let g4 = v128.load(gy + (q << 2));
        if (scale != 0) g4 = f32x4.mul(g4, s);
        const codes = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(code + q)));
        const pass = v128.and(v128.not(f32x4.eq(g4, zero)), i32x4.eq(v128.and(codes, passBit), passBit));
        let bits = i32x4.bitmask(pass);
        while (bits) {
          const lane = ctz(bits);
          bits &= bits - 1;
          const c = c0 + lane;
          const o = (q + <usize>lane) << 2;
          // The lane's value, as the vector multiply rounds it.
          const g = scale != 0 ? load<f32>(gy + o) * scale : load<f32>(gy + o);
          if (db) store<f32>(db + (<usize>c << 2), load<f32>(db + (<usize>c << 2)) + g);
          const a = load<u8>(code + q + <usize>lane) & CODE_POSITION;
          // Into the winning pixel's list, for dx.
          const count = a == 0 ? n0++ : a == 1 ? n1++ : a == 2 ? n2++ : n3++;
          const slot = lists + (<usize>(a * 2 * cout + 2 * count) << 2);
          store<f32>(slot, g);
          store<u32>(slot, <u32>(wT + (<usize>(c * taps) << 2)), 4);
          if (!dw) continue;
          // Into the channel's bucket, for dw: g and the pointers of the window's input pixels.
          const k = load<i32>(counts + (<usize>c << 2));
          store<i32>(counts + (<usize>c << 2), k + 1);
          let e = buckets + <usize>c * bucketBytes + <usize>k * entryBytes;
          store<f32>(e, g);
          const iy0 = (oy0 + (a >> 1)) * sh - pt, ix0 = (ox0 + (a & 1)) * sw - pl;
          for (let ky = 0; ky < kh; ky++) {
            for (let kx = 0; kx < kw; kx++) {
              e += 4;
              const iy = iy0 + ky, ix = ix0 + kx;
              const inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
              store<u32>(e, inside ? <u32>(xi + <usize>(iy * w + ix) * pixelBytes) : <u32>zeroPixel);
            }
          }
        }
      }
      if (!dx) continue;
      for (let a = 0; a < 4; a++) {
        const count = a == 0 ? n0 : a == 1 ? n1 : a == 2 ? n2 : n3;
        if (count == 0) continue;
        const list = lists + (<usize>(a * 2 * cout) << 2);
        const iy0 = (oy0 + (a >> 1)) * sh - pt, ix0 = (ox0 + (a & 1)) * sw - pl;
        for (let ky = max(0, -iy0); ky < min(kh, h - iy0); ky++) {
          for (let kx = max(0, -ix0); kx < min(kw, w - ix0); kx++) {
            const dxp = dxi + <usize>((iy0 + ky) * w + ix0 + kx) * pixelBytes;
            accumulateRows(dxp, list, count, 8, 4, <usize>((ky * kw + kx) * cin) << 2, cin);
          }
        }
      }
    }
    if (!dw) continue;
    for (let c = 0; c < cout; c++) {
      const count = load<i32>(counts + (<usize>c << 2));
      if (count == 0) continue;
      const bucket = buckets + <usize>c * bucketBytes;
      for (let kp = 0; kp < kernelPixels; kp++) {
        accumulateRows(dwT + (<usize>(c * taps + kp * cin) << 2), bucket, count, entryBytes, <usize>(1 + kp) << 2, 0, cin);
      }
    }
  }
  if (dw) {
    // Back to the kernel's layout, rows rounded up to 4 (zero).
    for (let t = 0; t < taps; t++) {
      for (let c = 0; c < cout; c++) store<f32>(dw + (<usize>(t * cout + c) << 2), load<f32>(dwT + (<usize>(c * taps + t) << 2)));
    }
    fillRun(dw + (<usize>(taps * cout) << 2), (((taps + 3) & ~3) - taps) * cout, 0);
  }
}

// V8 loads all of an iteration's vectors before its FMAs: accumulators, loaded vectors and the
// splat must fit in its 15 xmm registers, so 6 accumulators (13 registers) at a time; 8 spilled
// one accumulator to the stack, a store and a load on every entry's dependency chain.

/**
 * acc[0..cin) += Σ over `count` entries (entryBytes apart, g at offset 0, a row pointer at
 * pointerAt) of g · row[rowOffset .., cin floats]: 24 floats of acc at a time in registers, then
 * 16, then 4. dx: the entries are a pixel's (g, row of wT for its channel); dw: a channel's (g,
 * pointers to its window's input pixels).
 */
// @ts-ignore: decorator
@inline function accumulateRows(acc: usize, entries: usize, count: i32, entryBytes: usize, pointerAt: usize, rowOffset: usize, cin: i32): void {
  const end = entries + <usize>count * entryBytes;
  let ci = 0;
  for (; ci + 24 <= cin; ci += 24) {
    const d = acc + (<usize>ci << 2);
    const o = rowOffset + (<usize>ci << 2);
    let a0 = v128.load(d), a1 = v128.load(d, 16), a2 = v128.load(d, 32), a3 = v128.load(d, 48), a4 = v128.load(d, 64), a5 = v128.load(d, 80);
    for (let e = entries; e < end; e += entryBytes) {
      const rp = <usize>load<u32>(e + pointerAt) + o;
      const g = v128.load32_splat(e);
      a0 = madd(g, v128.load(rp), a0);
      a1 = madd(g, v128.load(rp, 16), a1);
      a2 = madd(g, v128.load(rp, 32), a2);
      a3 = madd(g, v128.load(rp, 48), a3);
      a4 = madd(g, v128.load(rp, 64), a4);
      a5 = madd(g, v128.load(rp, 80), a5);
    }
    v128.store(d, a0); v128.store(d, a1, 16); v128.store(d, a2, 32); v128.store(d, a3, 48); v128.store(d, a4, 64); v128.store(d, a5, 80);
  }
  for (; ci + 16 <= cin; ci += 16) {
    const d = acc + (<usize>ci << 2);
    const o = rowOffset + (<usize>ci << 2);
    let a0 = v128.load(d), a1 = v128.load(d, 16), a2 = v128.load(d, 32), a3 = v128.load(d, 48);
    for (let e = entries; e < end; e += entryBytes) {
      const rp = <usize>load<u32>(e + pointerAt) + o;
      const g = v128.load32_splat(e);
      a0 = madd(g, v128.load(rp), a0);
      a1 = madd(g, v128.load(rp, 16), a1);
      a2 = madd(g, v128.load(rp, 32), a2);
      a3 = madd(g, v128.load(rp, 48), a3);
    }
    v128.store(d, a0); v128.store(d, a1, 16); v128.store(d, a2, 32); v128.store(d, a3, 48);
  }
  for (; ci < cin; ci += 4) {
    const d = acc + (<usize>ci << 2);
    const o = rowOffset + (<usize>ci << 2);
    let a0 = v128.load(d);
    for (let e = entries; e < end; e += entryBytes) a0 = madd(v128.load32_splat(e), v128.load(<usize>load<u32>(e + pointerAt) + o), a0);
    v128.store(d, a0);
  }
}
