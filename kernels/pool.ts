import { pool2x2_window, unpool2x2_window } from "./pool_window";

// 2-D max pooling, NHWC, SIMD over channels (contiguous). pt/pl: padding before; padded
// positions are skipped, so they never win. The forward records, per output value, the index of
// the input pixel ((img*h + iy)*w + ix) that won: the FIRST maximum in row-major window order
// (TensorFlow's tie rule), since a later tap replaces the best only when strictly greater.

/** y = max over each window; arg[i] = input pixel index of the winner of y[i] (i32). */
export function maxpool2d_forward(x: usize, y: usize, arg: usize, n: i32, h: i32, w: i32, c: i32,
                                  ph: i32, pw: i32, sh: i32, sw: i32, pt: i32, pl: i32, oh: i32, ow: i32): void {
  if (ph == 2 && pw == 2 && sh == 2 && sw == 2 && pt == 0 && pl == 0 && 2 * oh <= h && 2 * ow <= w && (c & 3) == 0) {
    maxpool2x2_forward(x, y, arg, n, h, w, c, oh, ow);
    return;
  }
  const row = <usize>c << 2;
  let yp = y;
  let ap = arg;
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      const iy0 = oy * sh - pt;
      const ky0 = max(0, -iy0);
      const ky1 = min(ph, h - iy0);
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = ox * sw - pl;
        const kx0 = max(0, -ix0);
        const kx1 = min(pw, w - ix0);
        // The first valid tap seeds the maximum.
        const first = (img * h + iy0 + ky0) * w + ix0 + kx0;
        const xFirst = x + <usize>first * row;
        let ch = 0;
        for (; ch + 4 <= c; ch += 4) {
          const o = <usize>ch << 2;
          let best = v128.load(xFirst + o);
          let idx = i32x4.splat(first);
          for (let ky = ky0; ky < ky1; ky++) {
            const pixRow = (img * h + iy0 + ky) * w + ix0;
            for (let kx = kx0; kx < kx1; kx++) {
              const pix = pixRow + kx;
              const v = v128.load(x + <usize>pix * row + o);
              const m = f32x4.gt(v, best);
              best = v128.bitselect(v, best, m);
              idx = v128.bitselect(i32x4.splat(pix), idx, m);
            }
          }
          v128.store(yp + o, best);
          v128.store(ap + o, idx);
        }
        for (; ch < c; ch++) {
          const o = <usize>ch << 2;
          let best = load<f32>(xFirst + o);
          let idx = first;
          for (let ky = ky0; ky < ky1; ky++) {
            const pixRow = (img * h + iy0 + ky) * w + ix0;
            for (let kx = kx0; kx < kx1; kx++) {
              const pix = pixRow + kx;
              const v = load<f32>(x + <usize>pix * row + o);
              if (v > best) {
                best = v;
                idx = pix;
              }
            }
          }
          store<f32>(yp + o, best);
          store<i32>(ap + o, idx);
        }
        yp += row;
        ap += row;
      }
    }
  }
}

/**
 * gx = 0, then each gy value is added at its recorded winner (overlapping windows accumulate).
 * SIMD: for each tap of the window, the lanes whose winner is that tap's pixel add their gy.
 */
export function maxpool2d_backward(gy: usize, arg: usize, gx: usize, n: i32, h: i32, w: i32, c: i32,
                                   ph: i32, pw: i32, sh: i32, sw: i32, pt: i32, pl: i32, oh: i32, ow: i32): void {
  if (ph == 2 && pw == 2 && sh == 2 && sw == 2 && pt == 0 && pl == 0 && 2 * oh == h && 2 * ow == w && (c & 3) == 0) {
    maxpool2x2_backward(gy, arg, gx, n, h, w, c, oh, ow);
    return;
  }
  const row = <usize>c << 2;
  // Windows that do not overlap own their pixels: store instead of read-add-write.
  const overlap = sh < ph || sw < pw;
  // When they also tile the input exactly, every pixel is stored below (0 where it lost, in the
  // SIMD lanes): no need to zero the gradient first. The scalar channel tail adds, so it needs it.
  const tiles = !overlap && sh == ph && sw == pw && pt == 0 && pl == 0 && oh * sh == h && ow * sw == w && (c & 3) == 0;
  if (!tiles) {
    const zero = f32x4.splat(0);
    const total = n * h * w * c;
    let i = 0;
    for (; i + 4 <= total; i += 4) v128.store(gx + (<usize>i << 2), zero);
    for (; i < total; i++) store<f32>(gx + (<usize>i << 2), 0);
  }
  let gp = gy;
  let ap = arg;
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      const iy0 = oy * sh - pt;
      const ky0 = max(0, -iy0);
      const ky1 = min(ph, h - iy0);
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = ox * sw - pl;
        const kx0 = max(0, -ix0);
        const kx1 = min(pw, w - ix0);
        let ch = 0;
        for (; ch + 4 <= c; ch += 4) {
          const o = <usize>ch << 2;
          const g = v128.load(gp + o);
          const idx = v128.load(ap + o);
          for (let ky = ky0; ky < ky1; ky++) {
            const pixRow = (img * h + iy0 + ky) * w + ix0;
            for (let kx = kx0; kx < kx1; kx++) {
              const pix = pixRow + kx;
              const dst = gx + <usize>pix * row + o;
              const m = i32x4.eq(idx, i32x4.splat(pix));
              const v = v128.and(g, m);
              v128.store(dst, overlap ? f32x4.add(v128.load(dst), v) : v);
            }
          }
        }
        for (; ch < c; ch++) {
          const o = <usize>ch << 2;
          const dst = gx + <usize>load<i32>(ap + o) * row + o;
          store<f32>(dst, load<f32>(dst) + load<f32>(gp + o));
        }
        gp += row;
        ap += row;
      }
    }
  }
}

// The model's pooling, 2x2 windows with stride 2 and no padding, without the general loops:
// the four pixels of a window are four pointers, compared channel group by channel group, with
// the same first-maximum rule (a later pixel wins only when strictly greater): pool_window.ts.

function maxpool2x2_forward(x: usize, y: usize, arg: usize, n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32): void {
  const row = <usize>c << 2;
  const down = <usize>w * row;
  let yp = y;
  let ap = arg;
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      const pixRow = (img * h + 2 * oy) * w;
      for (let ox = 0; ox < ow; ox++) {
        const pix = pixRow + 2 * ox;
        pool2x2_window(x + <usize>pix * row, row, down, yp, ap, row,
          i32x4.splat(pix), i32x4.splat(pix + 1), i32x4.splat(pix + w), i32x4.splat(pix + w + 1));
        yp += row;
        ap += row;
      }
    }
  }
}

/** Every input pixel belongs to exactly one window: each gets its gradient or 0, no zeroing pass. */
function maxpool2x2_backward(gy: usize, arg: usize, gx: usize, n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32): void {
  const row = <usize>c << 2;
  const down = <usize>w * row;
  let gp = gy;
  let ap = arg;
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      const pixRow = (img * h + 2 * oy) * w;
      for (let ox = 0; ox < ow; ox++) {
        const pix = pixRow + 2 * ox;
        unpool2x2_window(gp, ap, gx + <usize>pix * row, row, down, row,
          i32x4.splat(pix), i32x4.splat(pix + 1), i32x4.splat(pix + w), i32x4.splat(pix + w + 1));
        gp += row;
        ap += row;
      }
    }
  }
}
