import { fillRun, addRun } from "./runs";
import { madd } from "./madd";
import { relu_backward } from "./elementwise";

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
// into scratch with their padding, then its patches [ow, taps] gathered from them
// (`gatherPatches`), so that the inner loops splat the taps of a pixel at fixed offsets.

/**
 * The scratch floats of the direct forward (and of one row of the kernel gradient): kh padded
 * input rows of (ow - 1) * sw + kw pixels, then an output row's patches, ow * taps floats, then 8
 * floats of slack (the kernel gradient reads up to 3 taps past the last patch; the forward zeroes
 * them for a missing bias).
 */
export function conv2d_direct_scratch_floats(ow: i32, cin: i32, kh: i32, kw: i32, sw: i32): i32 {
  return kh * ((ow - 1) * sw + kw) * cin + ow * kh * kw * cin + 8;
}

/**
 * patches[ox, (ky, kx, ci)] = x[iy0 + ky, ox * sw + kx - pl, ci] (x: one image), or 0 in the
 * padding, for the ow pixels of an output row, through `rows`: the kh input rows, padded.
 */
// @ts-ignore: decorator
@inline function gatherPatches(x: usize, rows: usize, patches: usize, h: i32, w: i32, cin: i32,
                               kh: i32, kw: i32, sw: i32, iy0: i32, pl: i32, ow: i32): void {
  padRows(x, rows, h, w, cin, kh, kw, sw, iy0, pl, ow);
  const wp = (ow - 1) * sw + kw;
  const rowFloats = wp * cin;
  const run = kw * cin; // a pixel's taps of one kernel row: contiguous in the padded row
  const taps = kh * run;
  const step = <usize>(sw * cin) << 2;
  const patchRow = <usize>taps << 2;
  if (run < 4) {
    // Short runs (conv1: 2): one tap at a time over the pixels.
    for (let ky = 0; ky < kh; ky++) {
      for (let r = 0; r < run; r++) {
        let src = rows + (<usize>(ky * rowFloats + r) << 2);
        let d = patches + (<usize>(ky * run + r) << 2);
        for (let ox = 0; ox < ow; ox++) {
          store<f32>(d, load<f32>(src));
          src += step;
          d += patchRow;
        }
      }
    }
  } else {
    let d = patches;
    for (let ox = 0; ox < ow; ox++) {
      for (let ky = 0; ky < kh; ky++) {
        copyRun(d, rows + (<usize>(ky * rowFloats) << 2) + <usize>ox * step, run);
        d += <usize>run << 2;
      }
    }
  }
}

/**
 * rows[ky] = the input row iy0 + ky of x (one image) over the (ow - 1) * sw + kw pixels an output
 * row's windows cover, from column -pl, zero in the padding.
 */
// @ts-ignore: decorator
@inline function padRows(x: usize, rows: usize, h: i32, w: i32, cin: i32, kh: i32, kw: i32, sw: i32, iy0: i32, pl: i32, ow: i32): void {
  const wp = (ow - 1) * sw + kw;
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

/**
 * One pass of `nt` taps (1..4, a constant once inlined) over the ow pixels of an output row, for
 * 4 channels whose weights stay in registers: y[px] = pmax(init + sum over the nt taps of
 * patch[px, t] · w[t], floor), where init is `bias` if `first` (a constant too), else y[px] (an
 * earlier pass's). Registers: 4 weights, up to 4 splats (V8 hoists loads), floor, bias and one
 * accumulator; 8 channels, with twice the weights, bias and accumulators, spill in V8's 15.
 */
// @ts-ignore: decorator
@inline function forwardPass4(yp: usize, pp: usize, patchRow: usize, wp: usize, wRow: usize, ow: i32,
                              bias: v128, floor: v128, nt: i32, first: bool): void {
  const w0 = v128.load(wp);
  const w1 = nt > 1 ? v128.load(wp + wRow) : w0;
  const w2 = nt > 2 ? v128.load(wp + 2 * wRow) : w0;
  const w3 = nt > 3 ? v128.load(wp + 3 * wRow) : w0;
  for (let ox = 0; ox < ow; ox++) {
    let a = first ? bias : v128.load(yp);
    a = madd(v128.load32_splat(pp), w0, a);
    if (nt > 1) a = madd(v128.load32_splat(pp, 4), w1, a);
    if (nt > 2) a = madd(v128.load32_splat(pp, 8), w2, a);
    if (nt > 3) a = madd(v128.load32_splat(pp, 12), w3, a);
    // pmax(a, floor) = a < floor ? floor : a: relu with floor 0 (NaN stays NaN), identity with -inf.
    v128.store(yp, f32x4.pmax(a, floor));
    pp += patchRow;
    yp += wRow;
  }
}

/**
 * forwardPass4 for exactly 4 taps (conv1: 2x2x1) and 8 channels, the bias read from memory and
 * the relu specialized (a constant once inlined), so that the 8 weights fit in registers (V8
 * spills about one): half the loop overhead per channel of forwardPass4.
 */
// @ts-ignore: decorator
@inline function forwardPass8Taps4(yp: usize, b: usize, pp: usize, patchRow: usize, wp: usize, wRow: usize, ow: i32, relu: bool): void {
  const zero = f32x4.splat(0);
  const w00 = v128.load(wp), w01 = v128.load(wp, 16);
  const w10 = v128.load(wp + wRow), w11 = v128.load(wp + wRow, 16);
  const w20 = v128.load(wp + 2 * wRow), w21 = v128.load(wp + 2 * wRow, 16);
  const w30 = v128.load(wp + 3 * wRow), w31 = v128.load(wp + 3 * wRow, 16);
  for (let ox = 0; ox < ow; ox++) {
    let a0 = v128.load(b), a1 = v128.load(b, 16);
    let s = v128.load32_splat(pp);
    a0 = madd(s, w00, a0); a1 = madd(s, w01, a1);
    s = v128.load32_splat(pp, 4);
    a0 = madd(s, w10, a0); a1 = madd(s, w11, a1);
    s = v128.load32_splat(pp, 8);
    a0 = madd(s, w20, a0); a1 = madd(s, w21, a1);
    s = v128.load32_splat(pp, 12);
    a0 = madd(s, w30, a0); a1 = madd(s, w31, a1);
    if (relu) { a0 = f32x4.pmax(a0, zero); a1 = f32x4.pmax(a1, zero); }
    v128.store(yp, a0); v128.store(yp, a1, 16);
    pp += patchRow;
    yp += wRow;
  }
}

/**
 * y = act(conv(x, wt) + b). b = 0: no bias. `scratch`: conv2d_direct_scratch_floats floats.
 * Blocks of 4 channels take each output row in passes of up to 4 taps, their weights in
 * registers (the row's output stays in L1 between passes), or with exactly 4 taps, blocks of 8 in
 * one pass; the last cout % 4 channels go pixel by pixel.
 */
export function conv2d_direct_forward(x: usize, wt: usize, b: usize, y: usize, scratch: usize,
                                      n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32,
                                      kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, relu: i32): void {
  const rowBytes = <usize>(ow * cout) << 2;
  let yp = y;
  for (let img = 0; img < n; img++) {
    const xi = x + (<usize>(img * h * w * cin) << 2);
    for (let oy = 0; oy < oh; oy++) {
      direct_forward_row(xi, wt, b, yp, scratch, h, w, cin, ow, cout, kh, kw, sw, oy * sh - pt, pl, relu);
      yp += rowBytes;
    }
  }
}

/**
 * One output row of conv2d_direct_forward: yp[ox, co] for the ow pixels of the row whose kernel
 * window starts at input row iy0 (xi: one image; scratch as there).
 */
export function direct_forward_row(xi: usize, wt: usize, b: usize, yp: usize, scratch: usize,
                                   h: i32, w: i32, cin: i32, ow: i32, cout: i32,
                                   kh: i32, kw: i32, sw: i32, iy0: i32, pl: i32, relu: i32): void {
  const zero = f32x4.splat(0);
  const negInf = f32x4.splat(-Infinity);
  const lastFloor = relu ? zero : negInf;
  const taps = kh * kw * cin;
  const wRow = <usize>cout << 2;
  const patchRow = <usize>taps << 2;
  const rows = scratch;
  const patches = scratch + (<usize>(kh * ((ow - 1) * sw + kw) * cin) << 2);
  const cout4 = cout & ~3;
  const zeros = patches + (<usize>(ow * taps) << 2); // the slack: a missing bias
  fillRun(zeros, 8, 0);
  gatherPatches(xi, rows, patches, h, w, cin, kh, kw, sw, iy0, pl, ow);
  let co0 = 0;
  if (taps == 4) {
    for (; co0 + 8 <= cout; co0 += 8) {
      const bo = <usize>co0 << 2;
      if (relu) forwardPass8Taps4(yp + bo, b ? b + bo : zeros, patches, patchRow, wt + bo, wRow, ow, true);
      else forwardPass8Taps4(yp + bo, b ? b + bo : zeros, patches, patchRow, wt + bo, wRow, ow, false);
    }
  }
  for (let co = co0; co < cout4; co += 4) {
    const bo = <usize>co << 2;
    const bias = b ? v128.load(b + bo) : zero;
    // The first pass starts from the bias, the next ones from y; the last applies the relu.
    for (let t = 0; t < taps; t += 4) {
      const nt = taps - t;
      const floor = nt <= 4 ? lastFloor : negInf;
      const pp = patches + (<usize>t << 2);
      const wtp = wt + (<usize>(t * cout) << 2) + bo;
      if (t == 0) {
        if (nt >= 4) forwardPass4(yp + bo, pp, patchRow, wtp, wRow, ow, bias, floor, 4, true);
        else if (nt == 3) forwardPass4(yp + bo, pp, patchRow, wtp, wRow, ow, bias, floor, 3, true);
        else if (nt == 2) forwardPass4(yp + bo, pp, patchRow, wtp, wRow, ow, bias, floor, 2, true);
        else forwardPass4(yp + bo, pp, patchRow, wtp, wRow, ow, bias, floor, 1, true);
      } else {
        if (nt >= 4) forwardPass4(yp + bo, pp, patchRow, wtp, wRow, ow, bias, floor, 4, false);
        else if (nt == 3) forwardPass4(yp + bo, pp, patchRow, wtp, wRow, ow, bias, floor, 3, false);
        else if (nt == 2) forwardPass4(yp + bo, pp, patchRow, wtp, wRow, ow, bias, floor, 2, false);
        else forwardPass4(yp + bo, pp, patchRow, wtp, wRow, ow, bias, floor, 1, false);
      }
    }
  }
  for (let co = cout4; co < cout; co++) {
    const bo = <usize>co << 2;
    let pp = patches;
    let yt = yp + bo;
    for (let ox = 0; ox < ow; ox++) {
      let s: f32 = b ? load<f32>(b + bo) : 0;
      let wtp = wt + bo;
      for (let t = 0; t < taps; t++) {
        s += load<f32>(pp + (<usize>t << 2)) * load<f32>(wtp);
        wtp += wRow;
      }
      store<f32>(yt, relu && s < 0 ? 0 : s);
      pp += patchRow;
      yt += wRow;
    }
  }
}

/**
 * `rows` output rows' contribution to dw[t..t+4, 8 channels]: dw[t + j] += sum over the rows'
 * pixels, row after row, of patch[px, t + j] · dz[px]. A row's ow pixels are dzRow / patchRow
 * bytes apart, and rows dzRows / patchRows bytes apart. Registers: 8 accumulators, 2 dz and the 4
 * splats; they are loaded and stored once for all the rows.
 */
// @ts-ignore: decorator
@inline function filterRow8(dw0: usize, dwRow: usize, gp0: usize, dzRow: usize, pp0: usize, patchRow: usize, ow: i32,
                            rows: i32, dzRows: usize, patchRows: usize): void {
  let a00 = v128.load(dw0), a01 = v128.load(dw0, 16);
  let a10 = v128.load(dw0 + dwRow), a11 = v128.load(dw0 + dwRow, 16);
  let a20 = v128.load(dw0 + 2 * dwRow), a21 = v128.load(dw0 + 2 * dwRow, 16);
  let a30 = v128.load(dw0 + 3 * dwRow), a31 = v128.load(dw0 + 3 * dwRow, 16);
  for (let r = 0; r < rows; r++) {
    let gp = gp0 + <usize>r * dzRows;
    let pp = pp0 + <usize>r * patchRows;
    for (let ox = 0; ox < ow; ox++) {
      const d0 = v128.load(gp), d1 = v128.load(gp, 16);
      let v = v128.load32_splat(pp);
      a00 = madd(v, d0, a00); a01 = madd(v, d1, a01);
      v = v128.load32_splat(pp, 4);
      a10 = madd(v, d0, a10); a11 = madd(v, d1, a11);
      v = v128.load32_splat(pp, 8);
      a20 = madd(v, d0, a20); a21 = madd(v, d1, a21);
      v = v128.load32_splat(pp, 12);
      a30 = madd(v, d0, a30); a31 = madd(v, d1, a31);
      gp += dzRow;
      pp += patchRow;
    }
  }
  v128.store(dw0, a00); v128.store(dw0, a01, 16);
  v128.store(dw0 + dwRow, a10); v128.store(dw0 + dwRow, a11, 16);
  v128.store(dw0 + 2 * dwRow, a20); v128.store(dw0 + 2 * dwRow, a21, 16);
  v128.store(dw0 + 3 * dwRow, a30); v128.store(dw0 + 3 * dwRow, a31, 16);
}

/** filterRow8 for 4 channels: 4 accumulators, 1 dz, the 4 splats. */
// @ts-ignore: decorator
@inline function filterRow4(dw0: usize, dwRow: usize, gp0: usize, dzRow: usize, pp0: usize, patchRow: usize, ow: i32,
                            rows: i32, dzRows: usize, patchRows: usize): void {
  let a0 = v128.load(dw0), a1 = v128.load(dw0 + dwRow);
  let a2 = v128.load(dw0 + 2 * dwRow), a3 = v128.load(dw0 + 3 * dwRow);
  for (let r = 0; r < rows; r++) {
    let gp = gp0 + <usize>r * dzRows;
    let pp = pp0 + <usize>r * patchRows;
    for (let ox = 0; ox < ow; ox++) {
      const d = v128.load(gp);
      a0 = madd(v128.load32_splat(pp), d, a0);
      a1 = madd(v128.load32_splat(pp, 4), d, a1);
      a2 = madd(v128.load32_splat(pp, 8), d, a2);
      a3 = madd(v128.load32_splat(pp, 12), d, a3);
      gp += dzRow;
      pp += patchRow;
    }
  }
  v128.store(dw0, a0); v128.store(dw0 + dwRow, a1);
  v128.store(dw0 + 2 * dwRow, a2); v128.store(dw0 + 3 * dwRow, a3);
}

/**
 * db[co] += sum over the ow pixels of an output row of dz[px, co], pixel after pixel, 8 channels
 * at a time (the row is in cache: just masked, or about to be read by the kernel gradient).
 */
// @ts-ignore: decorator
@inline function sumRow(dz: usize, db: usize, ow: i32, cout: i32): void {
  const dzRow = <usize>cout << 2;
  let co = 0;
  for (; co + 8 <= cout; co += 8) {
    const o = <usize>co << 2;
    let s0 = v128.load(db + o), s1 = v128.load(db + o, 16);
    let p = dz + o;
    for (let ox = 0; ox < ow; ox++) {
      s0 = f32x4.add(s0, v128.load(p)); s1 = f32x4.add(s1, v128.load(p, 16));
      p += dzRow;
    }
    v128.store(db + o, s0); v128.store(db + o, s1, 16);
  }
  for (; co < cout; co++) {
    const o = <usize>co << 2;
    let s = load<f32>(db + o);
    let p = dz + o;
    for (let ox = 0; ox < ow; ox++) {
      s += load<f32>(p);
      p += dzRow;
    }
    store<f32>(db + o, s);
  }
}

/**
 * Output rows per pass of the direct kernel gradient when it reads channels in place (cin a
 * multiple of 4, conv2): the accumulators are loaded and stored once a pass instead of once a
 * row, and the pass's input rows are padded once. 1 when it gathers patches.
 */
const FILTER_ROWS_IN_PLACE = 4;

// @ts-ignore: decorator
@inline function filterRowsPerPass(cin: i32): i32 {
  return (cin & 3) == 0 ? FILTER_ROWS_IN_PLACE : 1;
}

/** Floats before the masked output-gradient rows in the kernel gradient's scratch. */
// @ts-ignore: decorator
@inline function filterScratchHead(ow: i32, cin: i32, kh: i32, kw: i32, sh: i32, sw: i32): i32 {
  const r = filterRowsPerPass(cin);
  const rowFloats = ((ow - 1) * sw + kw) * cin;
  // In place: the padded input rows a pass of r output rows reads. Else: kh rows, then patches.
  return r > 1 ? ((r - 1) * sh + kh) * rowFloats : conv2d_direct_scratch_floats(ow, cin, kh, kw, sw);
}

/** The scratch floats of conv2d_direct_backward_filter (cout = 0: gy is not masked, no rows of it kept). */
export function conv2d_direct_filter_scratch_floats(ow: i32, cin: i32, kh: i32, kw: i32, sh: i32, sw: i32, cout: i32): i32 {
  return filterScratchHead(ow, cin, kh, kw, sh, sw) + filterRowsPerPass(cin) * ow * cout;
}

/**
 * dw[t, co] = sum over output pixels of patch(pixel, t) * dz[pixel, co], t = (ky, kx, ci), where
 * dz = gy, or with y != 0, dz = gy where y > 0 else 0: relu's mask, applied a pass of output rows
 * at a time into scratch (in cache), so that the whole dz is never written. db != 0: db[co] = sum
 * over output pixels of dz[pixel, co], from the same cached rows. `scratch`:
 * conv2d_direct_filter_scratch_floats(ow, cin, kh, kw, sh, sw, y ? cout : 0) floats. Taps go in
 * groups of 4 and cout in blocks of 8 (8 accumulators), over a pass of output rows (4 when the
 * channels are read in place, else 1) so that their dz stays in cache across the blocks. dw has
 * room for the taps rounded up to a multiple of 4 (the extra rows hold junk: the caller drops
 * them). Every sum runs over the pixels in order, row after row.
 */
export function conv2d_direct_backward_filter(x: usize, y: usize, gy: usize, dw: usize, db: usize, scratch: usize,
                                              n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32,
                                              kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  const taps = kh * kw * cin;
  fillRun(dw, ((taps + 3) & ~3) * cout, 0);
  if (db) fillRun(db, cout, 0);
  const dzBuffer = scratch + (<usize>filterScratchHead(ow, cin, kh, kw, sh, sw) << 2);
  const perPass = filterRowsPerPass(cin);
  const rowFloats = ow * cout;
  for (let img = 0; img < n; img++) {
    const xi = x + (<usize>(img * h * w * cin) << 2);
    for (let oy = 0; oy < oh; oy += perPass) {
      const count = min(perPass, oh - oy);
      const rowOff = <usize>((img * oh + oy) * rowFloats) << 2;
      let dzr = gy + rowOff;
      if (y) {
        relu_backward(y + rowOff, dzr, dzBuffer, count * rowFloats); // relu's mask, into cache
        dzr = dzBuffer;
      }
      direct_filter_rows(xi, dzr, dw, db, scratch, h, w, cin, ow, cout, kh, kw, sh, sw, oy * sh - pt, pl, count);
    }
  }
}

/**
 * `count` consecutive output rows' share of conv2d_direct_backward_filter: dw[t, co] += sum over
 * their pixels, row after row, of patch(px, t) * dz[px, co], and db[co] += sum of dz[px, co]
 * (db != 0). dzr: the rows' output gradient (count * ow * cout floats); the first row's kernel
 * window starts at input row iy0 of xi (one image), the next ones sh rows lower. count > 1 only
 * with cin a multiple of 4. dw has the taps rounded up to 4 rows.
 */
export function direct_filter_rows(xi: usize, dzr: usize, dw: usize, db: usize, scratch: usize,
                                   h: i32, w: i32, cin: i32, ow: i32, cout: i32,
                                   kh: i32, kw: i32, sh: i32, sw: i32, iy0: i32, pl: i32, count: i32): void {
  const taps = kh * kw * cin;
  const tpad = (taps + 3) & ~3;
  const dzRow = <usize>cout << 2;
  const rows = scratch;
  const patches = scratch + (<usize>(kh * ((ow - 1) * sw + kw) * cin) << 2);
  // With cin a multiple of 4 (conv2), each group of 4 taps is 4 channels of one input pixel: read
  // them in the padded rows, pixel after pixel (sw * cin floats apart), with no patches to gather
  // (1.05x faster for conv2's kernel gradient alone). Otherwise (conv1: 1 channel) gather patches.
  const inPlace = (cin & 3) == 0;
  const rowFloats = ((ow - 1) * sw + kw) * cin;
  if (inPlace) padRows(xi, rows, h, w, cin, (count - 1) * sh + kh, kw, sw, iy0, pl, ow);
  else gatherPatches(xi, rows, patches, h, w, cin, kh, kw, sw, iy0, pl, ow);
  const patchRow: usize = inPlace ? <usize>(sw * cin) << 2 : <usize>taps << 2;
  const dzRows = <usize>ow * dzRow;
  const patchRows = <usize>(sh * rowFloats) << 2;
  if (db) sumRow(dzr, db, count * ow, cout);
  for (let t = 0; t < tpad; t += 4) {
    const dw0 = dw + (<usize>(t * cout) << 2);
    let pr = patches + (<usize>t << 2);
    if (inPlace) {
      const ky = t / (kw * cin);
      pr = rows + (<usize>(ky * rowFloats + t - ky * kw * cin) << 2);
    }
    let co = 0;
    for (; co + 8 <= cout; co += 8) filterRow8(dw0 + (<usize>co << 2), dzRow, dzr + (<usize>co << 2), dzRow, pr, patchRow, ow, count, dzRows, patchRows);
    for (; co + 4 <= cout; co += 4) filterRow4(dw0 + (<usize>co << 2), dzRow, dzr + (<usize>co << 2), dzRow, pr, patchRow, ow, count, dzRows, patchRows);
    // The last cout % 4 channels one at a time.
    for (; co < cout; co++) {
      const o = <usize>co << 2;
      let s0 = load<f32>(dw0 + o), s1 = load<f32>(dw0 + dzRow + o);
      let s2 = load<f32>(dw0 + 2 * dzRow + o), s3 = load<f32>(dw0 + 3 * dzRow + o);
      for (let r = 0; r < count; r++) {
        let gp = dzr + o + <usize>r * dzRows;
        let pp = pr + <usize>r * patchRows;
        for (let ox = 0; ox < ow; ox++) {
          const d = load<f32>(gp);
          s0 += load<f32>(pp) * d;
          s1 += load<f32>(pp, 4) * d;
          s2 += load<f32>(pp, 8) * d;
          s3 += load<f32>(pp, 12) * d;
          gp += dzRow;
          pp += patchRow;
        }
      }
      store<f32>(dw0 + o, s0); store<f32>(dw0 + dzRow + o, s1);
      store<f32>(dw0 + 2 * dzRow + o, s2); store<f32>(dw0 + 3 * dzRow + o, s3);
    }
  }
}
