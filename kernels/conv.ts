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
// relu fused, and written once.

/**
 * y = act(conv(x, wt) + b). b = 0: no bias. Each output row's patches are first gathered into
 * `scratch` (ow*taps floats) so that padding costs nothing in the inner loop, which reads 4 taps
 * with one load and updates 16 output channels (4 accumulators).
 */
export function conv2d_direct_forward(x: usize, wt: usize, b: usize, y: usize, scratch: usize,
                                      n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32,
                                      kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, relu: i32): void {
  const zero = f32x4.splat(0);
  const taps = kh * kw * cin;
  const wRow = <usize>cout << 2;
  const patchRow = <usize>taps << 2;
  let yp = y;
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      conv2d_im2col(x + ((<usize>(img * h * w * cin)) << 2), scratch, 1, h, w, cin, kh, kw, sh, sw, pt - oy * sh, pl, 1, ow);
      let pp = scratch;
      for (let ox = 0; ox < ow; ox++) {
        let co = 0;
        for (; co + 16 <= cout; co += 16) {
          const bo = <usize>co << 2;
          let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
          if (b) {
            a0 = v128.load(b + bo); a1 = v128.load(b + bo + 16);
            a2 = v128.load(b + bo + 32); a3 = v128.load(b + bo + 48);
          }
          let wp = wt + bo;
          let t = 0;
          for (; t + 4 <= taps; t += 4) {
            const p = v128.load(pp + (<usize>t << 2));
            let xv = i32x4.shuffle(p, p, 0, 0, 0, 0);
            a0 = f32x4.add(a0, f32x4.mul(xv, v128.load(wp))); a1 = f32x4.add(a1, f32x4.mul(xv, v128.load(wp + 16)));
            a2 = f32x4.add(a2, f32x4.mul(xv, v128.load(wp + 32))); a3 = f32x4.add(a3, f32x4.mul(xv, v128.load(wp + 48)));
            wp += wRow;
            xv = i32x4.shuffle(p, p, 1, 1, 1, 1);
            a0 = f32x4.add(a0, f32x4.mul(xv, v128.load(wp))); a1 = f32x4.add(a1, f32x4.mul(xv, v128.load(wp + 16)));
            a2 = f32x4.add(a2, f32x4.mul(xv, v128.load(wp + 32))); a3 = f32x4.add(a3, f32x4.mul(xv, v128.load(wp + 48)));
            wp += wRow;
            xv = i32x4.shuffle(p, p, 2, 2, 2, 2);
            a0 = f32x4.add(a0, f32x4.mul(xv, v128.load(wp))); a1 = f32x4.add(a1, f32x4.mul(xv, v128.load(wp + 16)));
            a2 = f32x4.add(a2, f32x4.mul(xv, v128.load(wp + 32))); a3 = f32x4.add(a3, f32x4.mul(xv, v128.load(wp + 48)));
            wp += wRow;
            xv = i32x4.shuffle(p, p, 3, 3, 3, 3);
            a0 = f32x4.add(a0, f32x4.mul(xv, v128.load(wp))); a1 = f32x4.add(a1, f32x4.mul(xv, v128.load(wp + 16)));
            a2 = f32x4.add(a2, f32x4.mul(xv, v128.load(wp + 32))); a3 = f32x4.add(a3, f32x4.mul(xv, v128.load(wp + 48)));
            wp += wRow;
          }
          for (; t < taps; t++) {
            const xv = v128.load32_splat(pp + (<usize>t << 2));
            a0 = f32x4.add(a0, f32x4.mul(xv, v128.load(wp))); a1 = f32x4.add(a1, f32x4.mul(xv, v128.load(wp + 16)));
            a2 = f32x4.add(a2, f32x4.mul(xv, v128.load(wp + 32))); a3 = f32x4.add(a3, f32x4.mul(xv, v128.load(wp + 48)));
            wp += wRow;
          }
          if (relu) {
            a0 = f32x4.max(a0, zero); a1 = f32x4.max(a1, zero);
            a2 = f32x4.max(a2, zero); a3 = f32x4.max(a3, zero);
          }
          v128.store(yp + bo, a0); v128.store(yp + bo + 16, a1);
          v128.store(yp + bo + 32, a2); v128.store(yp + bo + 48, a3);
        }
        for (; co + 4 <= cout; co += 4) {
          const bo = <usize>co << 2;
          let a0 = b ? v128.load(b + bo) : zero;
          let wp = wt + bo;
          for (let t = 0; t < taps; t++) {
            a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(pp + (<usize>t << 2)), v128.load(wp)));
            wp += wRow;
          }
          if (relu) a0 = f32x4.max(a0, zero);
          v128.store(yp + bo, a0);
        }
        for (; co < cout; co++) {
          const bo = <usize>co << 2;
          let s: f32 = b ? load<f32>(b + bo) : 0;
          let wp = wt + bo;
          for (let t = 0; t < taps; t++) {
            s += load<f32>(pp + (<usize>t << 2)) * load<f32>(wp);
            wp += wRow;
          }
          store<f32>(yp + bo, relu ? max<f32>(s, 0) : s);
        }
        yp += wRow;
        pp += patchRow;
      }
    }
  }
}

/**
 * dw[t, co] = sum over output pixels of patch(pixel, t) * dz[pixel, co], t = (ky, kx, ci).
 * Each output row's patches are first gathered into `scratch` (ow*taps + 4 floats), so the inner
 * loop reads 4 taps with one load. Taps go in groups of 4 and cout in blocks of 8 (8 accumulators),
 * one output row at a time so that dz stays in cache across the blocks. dw has room for the taps
 * rounded up to a multiple of 4 (the extra rows hold junk: the caller drops them).
 */
export function conv2d_direct_backward_filter(x: usize, dz: usize, dw: usize, scratch: usize,
                                              n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32,
                                              kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32): void {
  const taps = kh * kw * cin;
  const tpad = (taps + 3) & ~3;
  fillRun(dw, tpad * cout, 0);
  const dzRow = <usize>cout << 2;
  const patchRow = <usize>taps << 2;
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      conv2d_im2col(x + ((<usize>(img * h * w * cin)) << 2), scratch, 1, h, w, cin, kh, kw, sh, sw, pt - oy * sh, pl, 1, ow);
      const dzr = dz + (<usize>((img * oh + oy) * ow) * dzRow);
      for (let t = 0; t < tpad; t += 4) {
        const dw0 = dw + (<usize>(t * cout) << 2);
        const pr = scratch + (<usize>t << 2);
        let co = 0;
        for (; co + 8 <= cout; co += 8) {
          const o = <usize>co << 2;
          let a00 = v128.load(dw0 + o), a01 = v128.load(dw0 + o + 16);
          let a10 = v128.load(dw0 + dzRow + o), a11 = v128.load(dw0 + dzRow + o + 16);
          let a20 = v128.load(dw0 + 2 * dzRow + o), a21 = v128.load(dw0 + 2 * dzRow + o + 16);
          let a30 = v128.load(dw0 + 3 * dzRow + o), a31 = v128.load(dw0 + 3 * dzRow + o + 16);
          let dp = dzr + o;
          let pp = pr;
          for (let ox = 0; ox < ow; ox++) {
            const d0 = v128.load(dp), d1 = v128.load(dp + 16);
            const p = v128.load(pp);
            const x0 = i32x4.shuffle(p, p, 0, 0, 0, 0);
            a00 = f32x4.add(a00, f32x4.mul(x0, d0)); a01 = f32x4.add(a01, f32x4.mul(x0, d1));
            const x1 = i32x4.shuffle(p, p, 1, 1, 1, 1);
            a10 = f32x4.add(a10, f32x4.mul(x1, d0)); a11 = f32x4.add(a11, f32x4.mul(x1, d1));
            const x2 = i32x4.shuffle(p, p, 2, 2, 2, 2);
            a20 = f32x4.add(a20, f32x4.mul(x2, d0)); a21 = f32x4.add(a21, f32x4.mul(x2, d1));
            const x3 = i32x4.shuffle(p, p, 3, 3, 3, 3);
            a30 = f32x4.add(a30, f32x4.mul(x3, d0)); a31 = f32x4.add(a31, f32x4.mul(x3, d1));
            dp += dzRow;
            pp += patchRow;
          }
          v128.store(dw0 + o, a00); v128.store(dw0 + o + 16, a01);
          v128.store(dw0 + dzRow + o, a10); v128.store(dw0 + dzRow + o + 16, a11);
          v128.store(dw0 + 2 * dzRow + o, a20); v128.store(dw0 + 2 * dzRow + o + 16, a21);
          v128.store(dw0 + 3 * dzRow + o, a30); v128.store(dw0 + 3 * dzRow + o + 16, a31);
        }
        for (; co + 4 <= cout; co += 4) {
          const o = <usize>co << 2;
          let a0 = v128.load(dw0 + o), a1 = v128.load(dw0 + dzRow + o);
          let a2 = v128.load(dw0 + 2 * dzRow + o), a3 = v128.load(dw0 + 3 * dzRow + o);
          let dp = dzr + o;
          let pp = pr;
          for (let ox = 0; ox < ow; ox++) {
            const d = v128.load(dp);
            const p = v128.load(pp);
            a0 = f32x4.add(a0, f32x4.mul(i32x4.shuffle(p, p, 0, 0, 0, 0), d));
            a1 = f32x4.add(a1, f32x4.mul(i32x4.shuffle(p, p, 1, 1, 1, 1), d));
            a2 = f32x4.add(a2, f32x4.mul(i32x4.shuffle(p, p, 2, 2, 2, 2), d));
            a3 = f32x4.add(a3, f32x4.mul(i32x4.shuffle(p, p, 3, 3, 3, 3), d));
            dp += dzRow;
            pp += patchRow;
          }
          v128.store(dw0 + o, a0); v128.store(dw0 + dzRow + o, a1);
          v128.store(dw0 + 2 * dzRow + o, a2); v128.store(dw0 + 3 * dzRow + o, a3);
        }
        for (; co < cout; co++) {
          const o = <usize>co << 2;
          let s0 = load<f32>(dw0 + o), s1 = load<f32>(dw0 + dzRow + o);
          let s2 = load<f32>(dw0 + 2 * dzRow + o), s3 = load<f32>(dw0 + 3 * dzRow + o);
          let dp = dzr + o;
          let pp = pr;
          for (let ox = 0; ox < ow; ox++) {
            const d = load<f32>(dp);
            s0 += load<f32>(pp) * d;
            s1 += load<f32>(pp, 4) * d;
            s2 += load<f32>(pp, 8) * d;
            s3 += load<f32>(pp, 12) * d;
            dp += dzRow;
            pp += patchRow;
          }
          store<f32>(dw0 + o, s0); store<f32>(dw0 + dzRow + o, s1);
          store<f32>(dw0 + 2 * dzRow + o, s2); store<f32>(dw0 + 3 * dzRow + o, s3);
        }
      }
    }
  }
}
