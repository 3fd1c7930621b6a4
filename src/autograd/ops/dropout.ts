// dropout: in training, zeroes each unit with probability `rate` and scales the kept ones by
// 1/(1-rate) (Keras). The mask is a counter-based hash of two words drawn from the generator
// (see kernels/dropout.ts); the forward keeps it as a byte an element for the backward.

import { Generator, globalGenerator } from "../../random.js";
import { runOverRanges } from "../../wasm/split.js";
import { isGradEnabled, record } from "../tape.js";
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

/** The golden-ratio step of the mask's counter between successive elements (kernels/dropout_hash.ts). */
const GOLDEN = 0x9e3779b9;

/** What a dropout's kernels take: seeds drawn from the generator, the threshold and the scale. */
export interface DropoutDraw {
  seedLo: number;
  seedHi: number;
  threshold: number;
  scale: number;
}

/** Throws unless rate is in [0, 1); `what` names it in the error (e.g. "dropout: rate"). */
export function checkDropoutRate(what: string, rate: number): void {
  if (typeof rate !== "number" || !(rate >= 0 && rate < 1)) {
    throw new Error(`${what} must be a number in [0, 1), got ${rate}`);
  }
}

/**
 * Checks the rate and draws a dropout's seeds as `dropout` does (two words, whatever the size: the
 * same generator state gives the same mask); null when nothing is dropped (not training, rate 0).
 * `what` names the rate in the error (e.g. "dropout: rate").
 */
export function drawDropout(what: string, rate: number, options: DropoutOptions): DropoutDraw | null {
  checkDropoutRate(what, rate);
  const { training = true, generator = globalGenerator } = options;
  if (!training || rate === 0) return null;
  const seedLo = generator.nextUint32();
  const seedHi = generator.nextUint32();
  return { seedLo, seedHi, ...dropoutThreshold(rate) };
}

/**
 * The seed_lo argument (an i32) for a kernel that starts at element `start` of the masked tensor:
 * the Weyl counter seed_lo + start·GOLDEN, so that any range of elements gets the whole tensor's mask.
 */
export function seedAt(draw: DropoutDraw, start: number): number {
  return (draw.seedLo + Math.imul(start, GOLDEN)) | 0;
}

export function dropout(x: Tensor, rate: number, options: DropoutOptions = {}): Tensor {
  const draw = drawDropout("dropout: rate", rate, options);
  if (!draw) return x;
  const { seedHi, threshold, scale } = draw;
  const y = Tensor.empty(x.shape);
  const recording = isGradEnabled() && x.requiresGrad;
  // The keep mask, a byte an element (0xff kept), for the backward: only when there is one.
  const mask = recording ? Tensor.empty([Math.ceil(x.size / 4)]) : null;
  // Threads take element ranges; a range starting at element `start` hashes its local index i as
  // the whole tensor's start + i by starting the Weyl counter at seedLo + start·golden, so the mask
  // is the same on any thread count. u32 arguments cross into wasm as i32: the same bits.
  runOverRanges("dropout_forward", x.size, x.size * 8, (start, count) =>
    [x.ptr + 4 * start, y.ptr + 4 * start, mask ? mask.ptr + start : 0, count, seedAt(draw, start), seedHi | 0, threshold | 0, scale]);
  if (!mask) return y;
  record("dropout", [x], y, (gy) => {
    const gx = Tensor.empty(x.shape);
    runOverRanges("dropout_backward", x.size, x.size * 9, (start, count) =>
      [gy.ptr + 4 * start, mask.ptr + start, gx.ptr + 4 * start, count, scale]);
    return [gx];
  });
  return y;
}
