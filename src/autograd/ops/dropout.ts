// dropout: in training, zeroes each unit with probability `rate` and scales the kept ones by
// 1/(1-rate) (Keras). The mask is a counter-based hash of two words drawn from the generator
// (see kernels/dropout.ts), so the backward regenerates it instead of keeping it.

import { Generator, globalGenerator } from "../../random.js";
import { runOverRanges } from "../../wasm/split.js";
import { record } from "../tape.js";
import { Tensor } from "../tensor.js";

export interface DropoutOptions {
  /** Apply the mask (default true); when false the input is returned as it is. */
  training?: boolean;
  /** Source of the mask's seed (default `globalGenerator`). */
  generator?: Generator;
}

/** The kernel's parameters for a rate: drop where the 32 random bits fall below `threshold`. */
function dropoutThreshold(rate: number): { threshold: number; scale: number } {
  return { threshold: Math.min(Math.floor(rate * 4294967296), 4294967295), scale: Math.fround(1 / (1 - rate)) };
}

export function dropout(x: Tensor, rate: number, options: DropoutOptions = {}): Tensor {
  if (typeof rate !== "number" || !(rate >= 0 && rate < 1)) {
    throw new Error(`dropout: rate must be a number in [0, 1), got ${rate}`);
  }
  const { training = true, generator = globalGenerator } = options;
  if (!training || rate === 0) return x;
  const { threshold, scale } = dropoutThreshold(rate);
  // Two words per call, whatever the size: the same generator state gives the same mask.
  const seedLo = generator.nextUint32();
  const seedHi = generator.nextUint32();
  const y = Tensor.empty(x.shape);
  // Threads take element ranges; a range starting at element `start` hashes its local index i as
  // the whole tensor's start + i by starting the Weyl counter at seedLo + start·golden, so the mask
  // is the same on any thread count. u32 arguments cross into wasm as i32: the same bits.
  const apply = (kernel: "dropout_forward" | "dropout_backward", src: number, dst: number) =>
    runOverRanges(kernel, x.size, x.size * 8, (start, count) =>
      [src + 4 * start, dst + 4 * start, count, (seedLo + Math.imul(start, 0x9e3779b9)) | 0, seedHi | 0, threshold | 0, scale]);
  apply("dropout_forward", x.ptr, y.ptr);
  record("dropout", [x], y, (gy) => {
    const gx = Tensor.empty(x.shape);
    apply("dropout_backward", gy.ptr, gx.ptr);
    return [gx];
  });
  return y;
}
