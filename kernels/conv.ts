import { fillRun, addRun } from "./runs";

// 2-D convolution kernels. NHWC input [n, h, w, cin], kernel [kh, kw, cin, cout], output
// [n, oh, ow, cout]. pt/pl: padding before (top/left); taps falling in the padding read 0.
// Within one kernel row (ky), the taps (kx, ci) are contiguous both in the input and in the
// kernel, so every kernel works on runs of (kx1 - kx0) * cin values.

// ---------------------------------------------------------------------------------------------
// im2col / col2im: the GEMM path. patches [n*oh*ow, kh*kw*cin], columns in (ky, kx, ci) order,
// which is the kernel's row order, so the kernel is a [kh*kw*cin, cout] matrix as it is.

@inline function copyRun(dst: usize, src: usize, len: i32): void {
  let i = 0;
  for (; i + 4 <= len; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  for (; i < len; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}



/** patches[p, (ky, kx, ci)] = x[img, oy*sh + ky - pt, ox*sw + kx - pl, ci], or 0 in the padding. */
export function conv2d_im2col(x: usize, patches: usize, n: i32, h: i32, w: i32, cin: i32,
                              kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, oh: i32, ow: i32): void {
  const rowLen = kw * cin;
  let dst = patches;
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      const iy0 = oy * sh - pt;
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = ox * sw - pl;
        const kx0 = max(0, -ix0);
        const kx1 = min(kw, w - ix0);
        for (let ky = 0; ky < kh; ky++) {
          const iy = iy0 + ky;
          if (iy < 0 || iy >= h || kx1 <= kx0) {
            fillRun(dst, rowLen, 0);
          } else {
            fillRun(dst, kx0 * cin, 0);
            const src = x + ((<usize>((img * h + iy) * w + ix0 + kx0) * cin) << 2);
            copyRun(dst + (<usize>(kx0 * cin) << 2), src, (kx1 - kx0) * cin);
            fillRun(dst + (<usize>(kx1 * cin) << 2), (kw - kx1) * cin, 0);
          }
          dst += <usize>rowLen << 2;
        }
      }
    }
  }
}

/** dx = 0, then dx[img, iy, ix, ci] += dpatches[p, (ky, kx, ci)] for every tap inside the input. */
export function conv2d_col2im(dpatches: usize, dx: usize, n: i32, h: i32, w: i32, cin: i32,
                              kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, oh: i32, ow: i32): void {
  fillRun(dx, n * h * w * cin, 0);
  const rowLen = kw * cin;
  let src = dpatches;
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      const iy0 = oy * sh - pt;
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = ox * sw - pl;
        const kx0 = max(0, -ix0);
        const kx1 = min(kw, w - ix0);
        for (let ky = 0; ky < kh; ky++) {
          const iy = iy0 + ky;
          if (iy >= 0 && iy < h && kx1 > kx0) {
            const dst = dx + ((<usize>((img * h + iy) * w + ix0 + kx0) * cin) << 2);
            addRun(dst, src + (<usize>(kx0 * cin) << 2), (kx1 - kx0) * cin);
          }
          src += <usize>rowLen << 2;
        }
      }
    }
  }
}

/** y[r, c] = act(y[r, c] + b[c]) in place, after the GEMM. b = 0: no bias; relu != 0: max(., 0). */
export function conv2d_bias_act(y: usize, b: usize, rows: i32, cout: i32, relu: i32): void {
  const zero = f32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const yr = y + (<usize>(r * cout) << 2);
    let c = 0;
    for (; c + 4 <= cout; c += 4) {
      const o = <usize>c << 2;
      let v = v128.load(yr + o);
      if (b) v = f32x4.add(v, v128.load(b + o));
      if (relu) v = f32x4.max(v, zero);
      v128.store(yr + o, v);
    }
    for (; c < cout; c++) {
      const o = <usize>c << 2;
      let v = load<f32>(yr + o);
      if (b) v += load<f32>(b + o);
      if (relu) v = max<f32>(v, 0);
      store<f32>(yr + o, v);
    }
  }
}

/**
 * The gradient at the pre-activation and the bias gradient, in one pass over the output gradient.
 * relu != 0: dz = gy where y > 0, else 0 (written to dz); else dz is gy itself and is not written.
 * db != 0: db[c] = sum over rows of dz[r, c].
 */
export function conv2d_backward_bias(y: usize, gy: usize, dz: usize, db: usize, rows: i32, cout: i32, relu: i32): void {
  const zero = f32x4.splat(0);
  if (db) fillRun(db, cout, 0);
  for (let r = 0; r < rows; r++) {
    const off = <usize>(r * cout) << 2;
    let c = 0;
    for (; c + 4 <= cout; c += 4) {
      const o = off + (<usize>c << 2);
      let g = v128.load(gy + o);
      if (relu) {
        g = v128.and(g, f32x4.gt(v128.load(y + o), zero));
        v128.store(dz + o, g);
      }
      if (db) v128.store(db + (<usize>c << 2), f32x4.add(v128.load(db + (<usize>c << 2)), g));
    }
    for (; c < cout; c++) {
      const o = off + (<usize>c << 2);
      let g = load<f32>(gy + o);
      if (relu) {
        g = load<f32>(y + o) > 0 ? g : 0;
        store<f32>(dz + o, g);
      }
      if (db) store<f32>(db + (<usize>c << 2), load<f32>(db + (<usize>c << 2)) + g);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Direct convolution: for small kh*kw*cin (conv1: 2x2x1), where a GEMM would be bound by writing
// its output. Each output pixel's cout values are computed in f32x4 lanes, with the bias and the
// relu fused, and written once. For each output row, the kh input rows it reads are first copied
// into scratch with their padding (`gatherRows`): a tap t = (ky, kx, ci) of the pixel ox is then
// at rows + tapOffset(t) + ox * sw*cin*4, so the inner loops splat taps straight from there.

/** The padded width (in pixels) of the input rows that an output row of ow pixels reads. */
// @ts-ignore: decorator
@inline function paddedWidth(ow: i32, kw: i32, sw: i32): i32 {
  return (ow - 1) * sw + kw;
}

/**
 * rows[ky, c, ci] = x[iy0 + ky, c - pl, ci] for c in [0, wp) (one image x), or 0 outside it.
 * `rows` holds kh * wp * cin floats.
 */
// @ts-ignore: decorator
@inline function gatherRows(x: usize, rows: usize, h: i32, w: i32, cin: i32, kh: i32, iy0: i32, pl: i32, wp: i32): void {
  const rowFloats = wp * cin;
  const c0 = min(pl, wp);
  const c1 = min(wp, pl + w);
  let dst = rows;
  for (let ky = 0; ky < kh; ky++) {
    const iy = iy0 + ky;
    if (iy < 0 || iy >= h) {
      fillRun(dst, rowFloats, 0);
    } else {
      fillRun(dst, c0 * cin, 0);
      copyRun(dst + (<usize>(c0 * cin) << 2), x + (<usize>((iy * w + c0 - pl) * cin) << 2), (c1 - c0) * cin);
      fillRun(dst + (<usize>(c1 * cin) << 2), (wp - c1) * cin, 0);
    }
    dst += <usize>rowFloats << 2;
  }
}

/** Byte offset of tap t = (ky, kx, ci) in the gathered rows, for the output pixel 0. */
// @ts-ignore: decorator
@inline function tapOffset(t: i32, kw: i32, cin: i32, rowFloats: i32): usize {
  const ky = t / (kw * cin);
  return <usize>(ky * rowFloats + t - ky * kw * cin) << 2;
}

/**
 * One pass of `nt` taps (1..4, a constant once inlined) over the ow pixels of an output row, for
 * 4 channels whose weights stay in registers: y[px] = pmax(init[px] + sum over the nt taps of
 * tap(px, t) · w[t], floor). init is the bias (stride 0) for the first pass, y itself after.
 * (8 channels, 8 weight registers, spill in V8's 15 xmm registers, as it hoists the 4 splats.)
 */
// @ts-ignore: decorator
@inline function forwardPass4(yp: usize, init: usize, initStride: usize, p: usize, step: usize,
                              o0: usize, o1: usize, o2: usize, o3: usize,
                              wp: usize, wRow: usize, ow: i32, floor: v128, nt: i32): void {
  const w0 = v128.load(wp);
  const w1 = nt > 1 ? v128.load(wp + wRow) : w0;
  const w2 = nt > 2 ? v128.load(wp + 2 * wRow) : w0;
  const w3 = nt > 3 ? v128.load(wp + 3 * wRow) : w0;
  for (let ox = 0; ox < ow; ox++) {
    let a = v128.load(init);
    a = f32x4.add(a, f32x4.mul(v128.load32_splat(p + o0), w0));
    if (nt > 1) a = f32x4.add(a, f32x4.mul(v128.load32_splat(p + o1), w1));
    if (nt > 2) a = f32x4.add(a, f32x4.mul(v128.load32_splat(p + o2), w2));
    if (nt > 3) a = f32x4.add(a, f32x4.mul(v128.load32_splat(p + o3), w3));
    // pmax(a, floor) = a < floor ? floor : a: relu with floor 0 (NaN stays NaN), identity with -inf.
    v128.store(yp, f32x4.pmax(a, floor));
    init += initStride;
    p += step;
    yp += wRow;
  }
}

/**
 * y = act(conv(x, wt) + b). b = 0: no bias. `scratch` holds 4 + kh * wp * cin floats (wp: the
 * padded width, (ow - 1) * sw + kw); its first 4 are zeroed here and stand for a missing bias.
 * Blocks of 4 channels take each output row in passes of up to 4 taps, their weights in
 * registers (the row's output stays in L1 between passes); the last cout % 4 channels go pixel
 * by pixel.
 */
export function conv2d_direct_forward(x: usize, wt: usize, b: usize, y: usize, scratch: usize,
                                      n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32,
                                      kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, relu: i32): void {
  const negInf = f32x4.splat(-Infinity);
  const lastFloor = relu ? f32x4.splat(0) : negInf;
  const taps = kh * kw * cin;
  const wRow = <usize>cout << 2;
  const wp = paddedWidth(ow, kw, sw);
  const rowFloats = wp * cin;
  const step = <usize>(sw * cin) << 2;
  const zeros = scratch;
  fillRun(zeros, 4, 0);
  const rows = scratch + 16;
  const cout4 = cout & ~3;
  let yp = y;
  for (let img = 0; img < n; img++) {
    const xi = x + (<usize>(img * h * w * cin) << 2);
    for (let oy = 0; oy < oh; oy++) {
      gatherRows(xi, rows, h, w, cin, kh, oy * sh - pt, pl, wp);
      for (let t = 0; t < taps; t += 4) {
        const nt = taps - t;
        const o0 = tapOffset(t, kw, cin, rowFloats);
        const o1 = nt > 1 ? tapOffset(t + 1, kw, cin, rowFloats) : 0;
        const o2 = nt > 2 ? tapOffset(t + 2, kw, cin, rowFloats) : 0;
        const o3 = nt > 3 ? tapOffset(t + 3, kw, cin, rowFloats) : 0;
        const initStride = t > 0 ? wRow : 0;
        const floor = t + 4 >= taps ? lastFloor : negInf;
        for (let co = 0; co < cout4; co += 4) {
          const bo = <usize>co << 2;
          const init = t > 0 ? yp + bo : b ? b + bo : zeros;
          const wtp = wt + (<usize>(t * cout) << 2) + bo;
          if (nt >= 4) forwardPass4(yp + bo, init, initStride, rows, step, o0, o1, o2, o3, wtp, wRow, ow, floor, 4);
          else if (nt == 3) forwardPass4(yp + bo, init, initStride, rows, step, o0, o1, o2, o3, wtp, wRow, ow, floor, 3);
          else if (nt == 2) forwardPass4(yp + bo, init, initStride, rows, step, o0, o1, o2, o3, wtp, wRow, ow, floor, 2);
          else forwardPass4(yp + bo, init, initStride, rows, step, o0, o1, o2, o3, wtp, wRow, ow, floor, 1);
        }
      }
      for (let co = cout4; co < cout; co++) {
        const bo = <usize>co << 2;
        let p = rows;
        let yt = yp + bo;
        for (let ox = 0; ox < ow; ox++) {
          let s: f32 = b ? load<f32>(b + bo) : 0;
          let wtp = wt + bo;
          for (let ky = 0; ky < kh; ky++) {
            const pr = p + (<usize>(ky * rowFloats) << 2);
            for (let r = 0; r < kw * cin; r++) {
              s += load<f32>(pr + (<usize>r << 2)) * load<f32>(wtp);
              wtp += wRow;
            }
          }
          store<f32>(yt, relu && s < 0 ? 0 : s);
          p += step;
          yt += wRow;
        }
      }
      yp += <usize>ow * wRow;
    }
  }
}

/**
 * One output row's contribution to dw[t..t+4, 8 channels]: dw[t + j] += sum over the row's pixels
 * of tap(px, t + j) · dz[px]. masked (a constant once inlined): dz = gy where y > 0, else dz = gy;
 * withDb: db[8 channels] += sum of dz too. Registers: 8 accumulators + 2 dz + splat (+ 2 db).
 */
// @ts-ignore: decorator
@inline function filterRow8(dw0: usize, dwRow: usize, gp: usize, yp: usize, dzRow: usize, dbp: usize,
                            p: usize, step: usize, o0: usize, o1: usize, o2: usize, o3: usize, ow: i32,
                            masked: bool, withDb: bool): void {
  const zero = f32x4.splat(0);
  let a00 = v128.load(dw0), a01 = v128.load(dw0, 16);
  let a10 = v128.load(dw0 + dwRow), a11 = v128.load(dw0 + dwRow, 16);
  let a20 = v128.load(dw0 + 2 * dwRow), a21 = v128.load(dw0 + 2 * dwRow, 16);
  let a30 = v128.load(dw0 + 3 * dwRow), a31 = v128.load(dw0 + 3 * dwRow, 16);
  let s0 = zero, s1 = zero;
  if (withDb) { s0 = v128.load(dbp); s1 = v128.load(dbp, 16); }
  for (let ox = 0; ox < ow; ox++) {
    let d0 = v128.load(gp), d1 = v128.load(gp, 16);
    if (masked) {
      d0 = v128.and(d0, f32x4.gt(v128.load(yp), zero));
      d1 = v128.and(d1, f32x4.gt(v128.load(yp, 16), zero));
      yp += dzRow;
    }
    if (withDb) { s0 = f32x4.add(s0, d0); s1 = f32x4.add(s1, d1); }
    let v = v128.load32_splat(p + o0);
    a00 = f32x4.add(a00, f32x4.mul(v, d0)); a01 = f32x4.add(a01, f32x4.mul(v, d1));
    v = v128.load32_splat(p + o1);
    a10 = f32x4.add(a10, f32x4.mul(v, d0)); a11 = f32x4.add(a11, f32x4.mul(v, d1));
    v = v128.load32_splat(p + o2);
    a20 = f32x4.add(a20, f32x4.mul(v, d0)); a21 = f32x4.add(a21, f32x4.mul(v, d1));
    v = v128.load32_splat(p + o3);
    a30 = f32x4.add(a30, f32x4.mul(v, d0)); a31 = f32x4.add(a31, f32x4.mul(v, d1));
    gp += dzRow;
    p += step;
  }
  v128.store(dw0, a00); v128.store(dw0, a01, 16);
  v128.store(dw0 + dwRow, a10); v128.store(dw0 + dwRow, a11, 16);
  v128.store(dw0 + 2 * dwRow, a20); v128.store(dw0 + 2 * dwRow, a21, 16);
  v128.store(dw0 + 3 * dwRow, a30); v128.store(dw0 + 3 * dwRow, a31, 16);
  if (withDb) { v128.store(dbp, s0); v128.store(dbp, s1, 16); }
}

/**
 * dw[t, co] = sum over output pixels of tap(pixel, t) * dz[pixel, co], t = (ky, kx, ci), where
 * dz = gy, or with y != 0, dz = gy where y > 0 else 0 (relu's mask, so that dz is never written).
 * db != 0: db[co] = sum over output pixels of dz[pixel, co], in the same pass. `scratch` holds
 * kh * wp * cin floats (see conv2d_direct_forward). Taps go in groups of 4 and cout in blocks of
 * 8 (8 accumulators), one output row at a time so that gy and y stay in cache across the blocks.
 * dw has room for the taps rounded up to a multiple of 4 (the extra rows hold junk: the caller
 * drops them). Every sum runs over the pixels in order, so that it does not depend on cout.
 */
export function conv2d_direct_backward_filter(x: usize, y: usize, gy: usize, dw: usize, db: usize, scratch: usize,
                                              n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32,
                                              kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  const taps = kh * kw * cin;
  const tpad = (taps + 3) & ~3;
  fillRun(dw, tpad * cout, 0);
  if (db) fillRun(db, cout, 0);
  const dzRow = <usize>cout << 2;
  const wp = paddedWidth(ow, kw, sw);
  const rowFloats = wp * cin;
  const step = <usize>(sw * cin) << 2;
  const rows = scratch;
  const cout8 = cout & ~7;
  for (let img = 0; img < n; img++) {
    const xi = x + (<usize>(img * h * w * cin) << 2);
    for (let oy = 0; oy < oh; oy++) {
      gatherRows(xi, rows, h, w, cin, kh, oy * sh - pt, pl, wp);
      const rowOff = <usize>((img * oh + oy) * ow) * dzRow;
      const gr = gy + rowOff;
      const yr = y ? y + rowOff : 0;
      for (let t = 0; t < tpad; t += 4) {
        // Taps past the last (t + j >= taps) read tap 0: their dw rows are junk, dropped.
        const o0 = tapOffset(t, kw, cin, rowFloats);
        const o1 = t + 1 < taps ? tapOffset(t + 1, kw, cin, rowFloats) : 0;
        const o2 = t + 2 < taps ? tapOffset(t + 2, kw, cin, rowFloats) : 0;
        const o3 = t + 3 < taps ? tapOffset(t + 3, kw, cin, rowFloats) : 0;
        const dw0 = dw + (<usize>(t * cout) << 2);
        const withDb = db != 0 && t == 0;
        for (let co = 0; co < cout8; co += 8) {
          const o = <usize>co << 2;
          if (y) {
            if (withDb) filterRow8(dw0 + o, dzRow, gr + o, yr + o, dzRow, db + o, rows, step, o0, o1, o2, o3, ow, true, true);
            else filterRow8(dw0 + o, dzRow, gr + o, yr + o, dzRow, 0, rows, step, o0, o1, o2, o3, ow, true, false);
          } else {
            if (withDb) filterRow8(dw0 + o, dzRow, gr + o, 0, dzRow, db + o, rows, step, o0, o1, o2, o3, ow, false, true);
            else filterRow8(dw0 + o, dzRow, gr + o, 0, dzRow, 0, rows, step, o0, o1, o2, o3, ow, false, false);
          }
        }
        // The last cout % 8 channels, one at a time (runtime mask and bias flags: a small share).
        for (let co = cout8; co < cout; co++) {
          const o = <usize>co << 2;
          let s0 = load<f32>(dw0 + o), s1 = load<f32>(dw0 + dzRow + o);
          let s2 = load<f32>(dw0 + 2 * dzRow + o), s3 = load<f32>(dw0 + 3 * dzRow + o);
          let sb: f32 = withDb ? load<f32>(db + o) : 0;
          let gp = gr + o;
          let yp = yr + o;
          let p = rows;
          for (let ox = 0; ox < ow; ox++) {
            let d = load<f32>(gp);
            if (y) {
              d = load<f32>(yp) > 0 ? d : 0;
              yp += dzRow;
            }
            sb += d;
            s0 += load<f32>(p + o0) * d;
            s1 += load<f32>(p + o1) * d;
            s2 += load<f32>(p + o2) * d;
            s3 += load<f32>(p + o3) * d;
            gp += dzRow;
            p += step;
          }
          store<f32>(dw0 + o, s0); store<f32>(dw0 + dzRow + o, s1);
          store<f32>(dw0 + 2 * dzRow + o, s2); store<f32>(dw0 + 3 * dzRow + o, s3);
          if (withDb) store<f32>(db + o, sb);
        }
      }
    }
  }
}
