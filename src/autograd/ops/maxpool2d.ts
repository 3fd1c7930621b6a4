// maxPool2d: NHWC, TensorFlow's 'valid'/'same' padding (padded positions never win). The forward
// records the winning input pixel of every output value (i32, in a scratch tensor); the backward
// routes each gradient there. Ties: the first maximum in row-major window order wins, as in
// TensorFlow; overlapping windows accumulate.

import { runOverRanges } from "../../wasm/split.js";
import { isGradEnabled, record } from "../tape.js";
import { Tensor } from "../tensor.js";
import { axis, checkPadding, pair, type Padding } from "./window.js";

export interface MaxPool2dOptions {
  /** Default 2. */
  poolSize?: number | [number, number];
  /** Default: poolSize. */
  strides?: number | [number, number];
  /** Default "valid". */
  padding?: Padding;
}

type PoolArgs = [n: number, h: number, w: number, c: number, ph: number, pw: number,
  sh: number, sw: number, pt: number, pl: number, oh: number, ow: number];

export function maxPool2d(x: Tensor, options: MaxPool2dOptions = {}): Tensor {
  if (x.rank !== 4) throw new Error(`maxPool2d: input must have rank 4 [batch, height, width, channels], got shape [${x.shape}]`);
  if (x.size === 0) throw new Error(`maxPool2d: input shape [${x.shape}] has a zero size`);
  const [n, h, w, c] = x.shape;
  const [ph, pw] = pair("maxPool2d", "poolSize", options.poolSize ?? 2);
  const [sh, sw] = pair("maxPool2d", "strides", options.strides ?? [ph, pw]);
  const padding = checkPadding("maxPool2d", options.padding ?? "valid");
  if (padding === "valid" && (ph > h || pw > w)) {
    throw new Error(`maxPool2d: pool ${ph}x${pw} is larger than the input ${h}x${w} with 'valid' padding`);
  }
  const rowsAxis = axis(h, ph, sh, padding);
  const colsAxis = axis(w, pw, sw, padding);
  const args: PoolArgs = [n, h, w, c, ph, pw, sh, sw, rowsAxis.before, colsAxis.before, rowsAxis.out, colsAxis.out];
  if (n * h * w > 0x7fffffff) throw new Error(`maxPool2d: input has ${n * h * w} pixels, more than the i32 indices can hold`);
  const y = Tensor.empty([n, rowsAxis.out, colsAxis.out, c]);
  // Winner indices, as i32 bit patterns in a float32-sized buffer. Threads take ranges of images;
  // the indices are relative to a range's first image, and the backward splits the same way.
  const arg = Tensor.empty(y.shape);
  const inBytes = (h * w * c) * 4;
  const outBytes = (rowsAxis.out * colsAxis.out * c) * 4;
  const bytes = n * (inBytes + 2 * outBytes);
  const tail = args.slice(1);
  runOverRanges("maxpool2d_forward", n, bytes, (start, count) =>
    [x.ptr + start * inBytes, y.ptr + start * outBytes, arg.ptr + start * outBytes, count, ...tail]);
  if (!isGradEnabled() || !x.requiresGrad) {
    arg.dispose();
    return y;
  }
  record("maxPool2d", [x], y, (gy) => {
    const gx = Tensor.empty(x.shape);
    runOverRanges("maxpool2d_backward", n, bytes, (start, count) =>
      [gy.ptr + start * outBytes, arg.ptr + start * outBytes, gx.ptr + start * inBytes, count, ...tail]);
    return [gx];
  });
  return y;
}
