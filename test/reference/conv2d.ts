// Plain TypeScript reference for conv2d (NHWC, kernel [kh, kw, cin, cout]), in float64, straight
// from the definitions: loops over output positions and taps. Used only by tests and benchmarks.

export interface ConvReferenceOptions {
  strides?: [number, number];
  padding?: "same" | "valid";
  relu?: boolean;
}

export interface ConvReferenceGeometry {
  oh: number;
  ow: number;
  /** Padding before (top, left). */
  pt: number;
  pl: number;
}

/** TensorFlow's padding: 'same' → ceil(in/s) outputs, total max((out-1)s + k - in, 0), smaller half before. */
export function convGeometry(h: number, w: number, kh: number, kw: number, strides: [number, number], padding: "same" | "valid"): ConvReferenceGeometry {
  const [sh, sw] = strides;
  if (padding === "valid") return { oh: Math.floor((h - kh) / sh) + 1, ow: Math.floor((w - kw) / sw) + 1, pt: 0, pl: 0 };
  const oh = Math.ceil(h / sh);
  const ow = Math.ceil(w / sw);
  const padH = Math.max((oh - 1) * sh + kh - h, 0);
  const padW = Math.max((ow - 1) * sw + kw - w, 0);
  return { oh, ow, pt: Math.floor(padH / 2), pl: Math.floor(padW / 2) };
}

type Shape4 = readonly [number, number, number, number];

/** y[b, oy, ox, co] = act(bias[co] + Σ_{ky,kx,ci} x[b, oy*sh+ky-pt, ox*sw+kx-pl, ci] · k[ky, kx, ci, co]). */
export function conv2dReference(
  x: ArrayLike<number>, xShape: Shape4, kernel: ArrayLike<number>, kShape: Shape4,
  bias: ArrayLike<number> | null, options: ConvReferenceOptions = {},
): { y: Float32Array; shape: Shape4 } {
  const [n, h, w, cin] = xShape;
  const [kh, kw, , cout] = kShape;
  const strides = options.strides ?? [1, 1];
  const { oh, ow, pt, pl } = convGeometry(h, w, kh, kw, strides, options.padding ?? "valid");
  const y = new Float32Array(n * oh * ow * cout);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let co = 0; co < cout; co++) {
          let s = bias ? bias[co] : 0;
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              const iy = oy * strides[0] + ky - pt;
              const ix = ox * strides[1] + kx - pl;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              for (let ci = 0; ci < cin; ci++) s += x[((b * h + iy) * w + ix) * cin + ci] * kernel[((ky * kw + kx) * cin + ci) * cout + co];
            }
          y[((b * oh + oy) * ow + ox) * cout + co] = options.relu ? Math.max(s, 0) : s;
        }
  return { y, shape: [n, oh, ow, cout] };
}

/**
 * Gradients of conv2d given the output y and its gradient gy: dz = gy (masked by y > 0 with relu),
 * dx and dk by the chain rule over the same loops, db = Σ dz.
 */
export function conv2dReferenceBackward(
  x: ArrayLike<number>, xShape: Shape4, kernel: ArrayLike<number>, kShape: Shape4,
  y: ArrayLike<number>, gy: ArrayLike<number>, options: ConvReferenceOptions = {},
): { dx: Float32Array; dk: Float32Array; db: Float32Array } {
  const [n, h, w, cin] = xShape;
  const [kh, kw, , cout] = kShape;
  const strides = options.strides ?? [1, 1];
  const { oh, ow, pt, pl } = convGeometry(h, w, kh, kw, strides, options.padding ?? "valid");
  const dx = new Float64Array(x.length);
  const dk = new Float64Array(kernel.length);
  const db = new Float64Array(cout);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let co = 0; co < cout; co++) {
          const o = ((b * oh + oy) * ow + ox) * cout + co;
          const dz = options.relu && !(y[o] > 0) ? 0 : gy[o];
          db[co] += dz;
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              const iy = oy * strides[0] + ky - pt;
              const ix = ox * strides[1] + kx - pl;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              for (let ci = 0; ci < cin; ci++) {
                const xi = ((b * h + iy) * w + ix) * cin + ci;
                const ki = ((ky * kw + kx) * cin + ci) * cout + co;
                dx[xi] += dz * kernel[ki];
                dk[ki] += dz * x[xi];
              }
            }
        }
  return { dx: Float32Array.from(dx), dk: Float32Array.from(dk), db: Float32Array.from(db) };
}
