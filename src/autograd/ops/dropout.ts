// dropout: in training, zeroes each unit with probability `rate` and scales the kept ones by
// 1/(1-rate) (Keras). The mask is a counter-based hash of two words drawn from the generator
// (see kernels/dropout.ts), so the backward regenerates it instead of keeping it.

import { Generator, globalGenerator } from "../../random.js";
import { kernels } from "../../wasm/loader.js";
import { record } from "../tape.js";
import { Tensor } from "../tensor.js";

interface DropoutKernels {
  dropout_forward(x: number, y: number, n: number, seedLo: number, seedHi: number, threshold: number, scale: number): void;
  dropout_backward(gy: number, gx: number, n: number, seedLo: number, seedHi: number, threshold: number, scale: number): void;
}

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
  const k = kernels<DropoutKernels>();
  const y = Tensor.empty(x.shape);
  // u32 arguments cross into wasm as i32: pass the same bits.
  k.dropout_forward(x.ptr, y.ptr, x.size, seedLo | 0, seedHi | 0, threshold | 0, scale);
  record("dropout", [x], y, (gy) => {
    const gx = Tensor.empty(x.shape);
    k.dropout_backward(gy.ptr, gx.ptr, x.size, seedLo | 0, seedHi | 0, threshold | 0, scale);
    return [gx];
  });
  return y;
}
