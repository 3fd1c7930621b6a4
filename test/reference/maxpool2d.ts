// Plain TypeScript reference for maxPool2d (NHWC), straight from the definition. Used only by
// tests and benchmarks. Padded positions are not candidates; ties go to the first maximum in
// row-major window order (TensorFlow's rule).

import { convGeometry } from "./conv2d.js";

export interface PoolReferenceOptions {
  poolSize?: [number, number];
  strides?: [number, number];
  padding?: "same" | "valid";
}

type Shape4 = readonly [number, number, number, number];

/** y and, per output value, the flat index into x of the winner. */
export function maxPool2dReference(x: ArrayLike<number>, xShape: Shape4, options: PoolReferenceOptions = {}): { y: Float32Array; argmax: Int32Array; shape: Shape4 } {
  const [n, h, w, c] = xShape;
  const [ph, pw] = options.poolSize ?? [2, 2];
  const strides = options.strides ?? [ph, pw];
  const { oh, ow, pt, pl } = convGeometry(h, w, ph, pw, strides, options.padding ?? "valid");
  const y = new Float32Array(n * oh * ow * c);
  const argmax = new Int32Array(y.length);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity;
          let at = -1;
          for (let ky = 0; ky < ph; ky++)
            for (let kx = 0; kx < pw; kx++) {
              const iy = oy * strides[0] + ky - pt;
              const ix = ox * strides[1] + kx - pl;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              const i = ((b * h + iy) * w + ix) * c + ch;
              if (at < 0 || x[i] > best) {
                best = x[i];
                at = i;
              }
            }
          const o = ((b * oh + oy) * ow + ox) * c + ch;
          y[o] = best;
          argmax[o] = at;
        }
  return { y, argmax, shape: [n, oh, ow, c] };
}

/** dx[argmax[o]] += gy[o]. */
export function maxPool2dReferenceBackward(xSize: number, argmax: Int32Array, gy: ArrayLike<number>): Float32Array {
  const dx = new Float32Array(xSize);
  for (let o = 0; o < argmax.length; o++) dx[argmax[o]] += gy[o];
  return dx;
}
