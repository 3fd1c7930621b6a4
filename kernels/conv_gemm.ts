// Convolutions as implicit GEMMs: the patch matrix ([pixels, kh*kw*cin], 6.4 MB for conv2 at
// batch 32) is never written or read back, and the input gradient needs no col2im scatter. The
// forward and input gradient read their 4 rows of A straight from the image (strips_in_place.ts):
// for each tap, 4 pointers to the 4 pixels' channels (a zero buffer outside the image), instead of
// gathering and transposing them into a packed strip first (reading in place made them
// 1.10–1.15x faster on the relaxed build). Same blocking and packed B as gemm.ts, and the same
// bits. The kernel gradient packs its strips (4 taps' channels over pixels).
//
// forward   y[p, co]        = Σ_{t, c} x[p shifted by t, c] · W[t, c, co]        (any stride)
// filter   dW[t, c, co]     = Σ_p x[p shifted by t, c] · dz[p, co]
// input    dx[q, c]         = Σ_{t, co} dz[q shifted back by t, co] · W[t, c, co]  (stride 1)
//
// Each kernel computes the rows [i0, i1) of its GEMM's C (i0 a multiple of 4), so threads can
// share one product: every element is summed in the same order whatever the split.

import { blockRows, pack_b, roundUp8, strip4, STAGE_FLOATS } from "./gemm";
import { pack_b16, strips_taps } from "./strips_in_place";
import { NR } from "./tile";

/**
 * Floats of scratch an implicit kernel needs: B operand (k x n), K blocks of whole taps of perTap
 * values (perTap 0: any block size, the filter kernel), the packed strip of A (the filter kernel)
 * or the tap pointers (4 a tap), and a zero buffer of ch channels (at least 4 floats).
 */
export function conv_gemm_scratch_floats(n: i32, k: i32, perTap: i32, ch: i32): i32 {
  const kc = perTap > 0 ? tapsPerBlock(n, k, perTap) * perTap : blockRows(n, k);
  return (roundUp8(n) + 4) * kc + STAGE_FLOATS + 16 + max(ch, 4);
}

/**
 * For 4 grid points (image img[r], row gy[r], column gx[r]) and taps t0..t1 of a kw-wide kernel,
 * the address of the ch channels of the source image at (gy·strideY + sign·ky + offY,
 * gx·strideX + sign·kx + offX), or `zeroes` (ch zero floats) outside it: table[t - t0][r] (u32).
 */
function tap_pointers(src: usize, sh: i32, sw: i32, ch: i32, imgs: usize, t0: i32, t1: i32, kw: i32,
                      strideY: i32, strideX: i32, sign: i32, offY: i32, offX: i32, table: usize, zeroes: usize): void {
  const row = <usize>ch << 2;
  for (let t = t0; t < t1; t++) {
    const ky = t / kw;
    const kx = t - ky * kw;
    for (let r = 0; r < 4; r++) {
      const info = imgs + (<usize>r * 12);
      const img = load<i32>(info);
      let p = zeroes;
      if (img >= 0) {
        const iy = load<i32>(info, 4) * strideY + sign * ky + offY;
        const ix = load<i32>(info, 8) * strideX + sign * kx + offX;
        if (iy >= 0 && iy < sh && ix >= 0 && ix < sw) p = src + ((<usize>img * sh + iy) * sw + ix) * row;
      }
      store<u32>(table + (<usize>((t - t0) * 4 + r) << 2), <u32>p);
    }
  }
}

/** Writes the (image, row, column) of grid points i..i+3 of an n x gh x gw grid (image −1 past the end). */
@inline function points4(info: usize, i: i32, total: i32, gh: i32, gw: i32): void {
  for (let r = 0; r < 4; r++) {
    const p = i + r;
    const o = info + (<usize>r * 12);
    if (p >= total) {
      store<i32>(o, -1);
      continue;
    }
    const img = p / (gh * gw);
    const rest = p - img * gh * gw;
    const gy = rest / gw;
    store<i32>(o, img);
    store<i32>(o, gy, 4);
    store<i32>(o, rest - gy * gw, 8);
  }
}

/** Taps per K block: whole taps, as many as the packing budget allows, at least one. */
@inline function tapsPerBlock(n: i32, k: i32, perTap: i32): i32 {
  const t = blockRows(n, k) / perTap;
  return t < 1 ? 1 : t;
}

/**
 * y = conv(x, wt) (+ bias) (relu), NHWC, wt [kh, kw, cin, cout], any stride and padding.
 * scratch: conv_gemm_scratch_floats(cout, kh*kw*cin, cin, cin) floats.
 */
export function conv2d_implicit_forward(x: usize, wt: usize, bias: usize, y: usize, scratch: usize,
                                        n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32,
                                        kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, relu: i32,
                                        i0: i32, i1: i32): void {
  const taps = kh * kw;
  const tpb = implicit_forward_taps_per_block(cin, cout, kh, kw);
  implicit_forward_prepare(scratch, cin, cout, tpb);
  const m = min(n * oh * ow, i1);
  for (let t0 = 0; t0 < taps; t0 += tpb) {
    const t1 = min(taps, t0 + tpb);
    implicit_forward_pack(wt, scratch, cin, cout, t0, t1);
    implicit_forward_block(x, bias, y, scratch, tpb, n, h, w, cin, oh, ow, cout, kh, kw, sh, sw, pt, pl, relu, t0, t1, i0, m);
  }
}

/** Taps a K block of the implicit forward takes: whole taps, as many as the packing budget allows. */
@inline export function implicit_forward_taps_per_block(cin: i32, cout: i32, kh: i32, kw: i32): i32 {
  return tapsPerBlock(cout, kh * kw * cin, cin);
}

// The implicit forward's scratch (conv_gemm_scratch_floats(cout, taps*cin, cin, cin) floats):
// packed B, then the tap pointers (4 a tap), the stage, the 4 points' (image, row, column), and
// a zero pixel.
@inline function forwardTable(scratch: usize, cout: i32, tpb: i32, cin: i32): usize {
  return scratch + (<usize>roundUp8(cout) * (tpb * cin) << 2);
}
@inline function forwardStage(scratch: usize, cout: i32, tpb: i32, cin: i32): usize {
  return forwardTable(scratch, cout, tpb, cin) + (<usize>(tpb * cin) << 4);
}

/** Zeroes the stage's first vector and the zero pixel of an implicit forward's scratch. */
@inline export function implicit_forward_prepare(scratch: usize, cin: i32, cout: i32, tpb: i32): void {
  const stage = forwardStage(scratch, cout, tpb, cin);
  v128.store(stage, v128.xor(v128.load(stage), v128.load(stage)));
  zero_fill(stage + (STAGE_FLOATS << 2) + 64, max(cin, 4));
}

/** Packs taps t0..t1 of wt (their rows of B) into the scratch. */
@inline export function implicit_forward_pack(wt: usize, scratch: usize, cin: i32, cout: i32, t0: i32, t1: i32): void {
  // Output channels in multiples of 16 take the 2x16 tile (its own packing of B).
  if ((cout & 15) == 0) pack_b16(wt, cout, scratch, cout, t0 * cin, (t1 - t0) * cin);
  else pack_b(wt, cout, scratch, cout, t0 * cin, (t1 - t0) * cin, 0);
}

/**
 * Rows [i0, m) of y (the n x oh x ow output pixels) over the K block of taps t0..t1, packed in
 * the scratch: the first block writes (with the bias), the others add, the last applies relu.
 */
@inline export function implicit_forward_block(x: usize, bias: usize, y: usize, scratch: usize, tpb: i32,
                                               n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32,
                                               kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, relu: i32,
                                               t0: i32, t1: i32, i0: i32, m: i32): void {
  const table = forwardTable(scratch, cout, tpb, cin);
  const stage = forwardStage(scratch, cout, tpb, cin);
  const info = stage + (STAGE_FLOATS << 2);
  const zeroes = info + 64;
  const ldc = <usize>cout << 2;
  const wide = (cout & 15) == 0;
  const first = t0 == 0;
  const last = t1 == kh * kw;
  for (let i = i0; i < m; i += 4) {
    points4(info, i, m, oh, ow);
    tap_pointers(x, h, w, cin, info, t0, t1, kw, sh, sw, 1, -pt, -pl, table, zeroes);
    strips_taps(table, t1 - t0, cin, scratch, y + <usize>i * ldc, ldc, cout, !first, first ? bias : 0, last && relu != 0,
      stage, min(4, m - i), wide);
  }
}

/**
 * dx = the input gradient of a stride-1 conv: dx[q, c] = Σ_{t, co} dz[q − t + pad, co] · wt[t, c, co].
 * dz is [n, oh, ow, cout]; dx [n, h, w, cin]. scratch: conv_gemm_scratch_floats(cin, kh*kw*cout, cout, cout).
 */
export function conv2d_implicit_input(dz: usize, wt: usize, dx: usize, scratch: usize,
                                      n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32,
                                      kh: i32, kw: i32, pt: i32, pl: i32, i0: i32, i1: i32): void {
  const taps = kh * kw;
  const k = taps * cout;
  const m = min(n * h * w, i1);
  const tpb = tapsPerBlock(cin, k, cout);
  const kcMax = tpb * cout;
  const packed = scratch;
  const table = packed + (<usize>roundUp8(cin) * kcMax << 2); // the pointers: 4 a tap
  const stage = table + (<usize>kcMax << 4);
  const info = stage + (STAGE_FLOATS << 2);
  const zeroes = info + 64;
  v128.store(stage, v128.xor(v128.load(stage), v128.load(stage)));
  zero_fill(zeroes, max(cout, 4));
  const ldc = <usize>cin << 2;
  // Input channels in multiples of 16 take the 2x16 tile.
  const wide = (cin & 15) == 0;
  for (let t0 = 0; t0 < taps; t0 += tpb) {
    const t1 = min(taps, t0 + tpb);
    pack_b_taps_transposed(wt, packed, cin, cout, t0, t1, wide ? 16 : NR);
    const first = t0 == 0;
    for (let i = i0; i < m; i += 4) {
      points4(info, i, m, h, w);
      tap_pointers(dz, oh, ow, cout, info, t0, t1, kw, 1, 1, -1, pt, pl, table, zeroes);
      strips_taps(table, t1 - t0, cout, packed, dx + <usize>i * ldc, ldc, cin, !first, 0, false, stage, min(4, m - i), wide);
    }
  }
}

/** Packs B(t·cout + co, c) = wt[t, c, co] for taps t0..t1 into NR-wide panels of c (zero-padded). */
function pack_b_taps_transposed(wt: usize, dst: usize, cin: i32, cout: i32, t0: i32, t1: i32, width: i32): void {
  const kb = (t1 - t0) * cout;
  const panels = (cin + width - 1) / width;
  for (let q = 0; q < panels; q++) {
    let d = dst + <usize>q * kb * (width * 4);
    for (let t = t0; t < t1; t++) {
      for (let co = 0; co < cout; co++) {
        for (let j = 0; j < width; j++) {
          const c = q * width + j;
          store<f32>(d + (<usize>j << 2), c < cin ? load<f32>(wt + ((<usize>(t * cin + c) * cout + co) << 2)) : 0);
        }
        d += width * 4;
      }
    }
  }
}

/**
 * dw[t, c, co] (+)= Σ_p x[p shifted by t, c] · dz[p, co] over output pixels p (any stride).
 * M = kh*kw*cin rows of dW, K = pixels. scratch: conv_gemm_scratch_floats(cout, pixels, 0, 0).
 */
export function conv2d_implicit_filter(x: usize, dz: usize, dw: usize, scratch: usize,
                                       n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32,
                                       kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, i0: i32, i1: i32): void {
  const m = min(kh * kw * cin, i1);
  const pixels = n * oh * ow;
  const kcMax = blockRows(cout, pixels);
  const packed = scratch;
  const packedA = packed + (<usize>roundUp8(cout) * kcMax << 2);
  const stage = packedA + (<usize>kcMax << 4);
  v128.store(stage, v128.xor(v128.load(stage), v128.load(stage)));
  const ldc = <usize>cout << 2;
  const row = <usize>cin << 2;
  for (let k0 = 0; k0 < pixels; k0 += kcMax) {
    const kb = min(kcMax, pixels - k0);
    pack_b(dz, cout, packed, cout, k0, kb, 0);
    for (let i = i0; i < m; i += 4) {
      // Rows i..i+3 of dW: (tap, channel) pairs; the strip reads, for each pixel, those 4 values.
      const rows = min(4, m - i);
      const t = i / cin;
      const c = i - t * cin;
      const sameTap = rows == 4 && c + 4 <= cin;
      const tky = t / kw;
      const tkx = t - tky * kw;
      const cOff = <usize>c << 2;
      let img = k0 / (oh * ow);
      let rest = k0 - img * oh * ow;
      let oy = rest / ow;
      let ox = rest - oy * ow;
      let d = packedA;
      for (let p = 0; p < kb; p++) {
        if (sameTap) {
          const iy = oy * sh + tky - pt;
          const ix = ox * sw + tkx - pl;
          if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
            v128.store(d, v128.load(x + ((<usize>img * h + iy) * w + ix) * row + cOff));
          } else {
            v128.store(d, v128.xor(v128.load(stage), v128.load(stage)));
          }
        } else {
          for (let r = 0; r < 4; r++) {
            let v: f32 = 0;
            if (r < rows) {
              const tr = (i + r) / cin;
              const cr = i + r - tr * cin;
              const ky = tr / kw;
              const kx = tr - ky * kw;
              const iy = oy * sh + ky - pt;
              const ix = ox * sw + kx - pl;
              if (iy >= 0 && iy < h && ix >= 0 && ix < w) v = load<f32>(x + ((<usize>img * h + iy) * w + ix) * row + (<usize>cr << 2));
            }
            store<f32>(d + (<usize>r << 2), v);
          }
        }
        d += 16;
        if (++ox == ow) {
          ox = 0;
          if (++oy == oh) {
            oy = 0;
            img++;
          }
        }
      }
      strip4(packedA, packed, dw + <usize>i * ldc, ldc, cout, kb, k0 > 0, 0, false, stage, rows);
    }
  }
}

@inline function zero_fill(p: usize, floats: i32): void {
  memory.fill(p, 0, <usize>floats << 2);
}
