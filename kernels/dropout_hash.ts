// The dropout mask's hash, shared by dropout.ts and the fused convolution + pooling + dropout
// (conv_pool.ts via pool_window.ts): bits(i) = fmix32((seed_lo + i·GOLDEN) ^ seed_hi), keep(i) =
// bits(i) >= threshold. Not re-exported by index.ts: inline helpers and constants, not kernels.

/** The Weyl counter's step between successive elements. */
export const GOLDEN: u32 = 0x9e3779b9;
const M1: u32 = 0x85ebca6b;
const M2: u32 = 0xc2b2ae35;

// V8 rematerializes v128 constants inside loops; loading them from memory once keeps them in registers.
/** M1, M2 (4 lanes each), 4·GOLDEN (the counter's step over 4 lanes), then lane offsets 0..3·GOLDEN. */
export const DROPOUT_CONSTANTS = memory.data<u32>([
  M1, M1, M1, M1,
  M2, M2, M2, M2,
  GOLDEN << 2, GOLDEN << 2, GOLDEN << 2, GOLDEN << 2, // the Weyl counter's step over 4 lanes
  0, GOLDEN, GOLDEN << 1, GOLDEN * 3, // lane offsets
], 16);

// @ts-ignore: decorator
@inline function fmix32(h: u32): u32 {
  h ^= h >>> 16;
  h *= M1;
  h ^= h >>> 13;
  h *= M2;
  h ^= h >>> 16;
  return h;
}

// @ts-ignore: decorator
@inline function fmix32x4(h: v128, m1: v128, m2: v128): v128 {
  h = v128.xor(h, i32x4.shr_u(h, 16));
  h = i32x4.mul(h, m1);
  h = v128.xor(h, i32x4.shr_u(h, 13));
  h = i32x4.mul(h, m2);
  return v128.xor(h, i32x4.shr_u(h, 16));
}

/**
 * The keep mask of 4 elements (all-ones lanes kept) from their Weyl counters seed_lo + i·GOLDEN:
 * m1, m2 from DROPOUT_CONSTANTS, hi = splat(seed_hi), thr = splat(threshold).
 */
// @ts-ignore: decorator
@inline export function dropoutKeep4(weyl: v128, hi: v128, thr: v128, m1: v128, m2: v128): v128 {
  return i32x4.ge_u(fmix32x4(v128.xor(weyl, hi), m1, m2), thr);
}

/** The mask's random bits for element i (scalar; the tail and the reference use this definition). */
// @ts-ignore: decorator
@inline export function dropoutBits(i: u32, seedLo: u32, seedHi: u32): u32 {
  return fmix32((seedLo + i * GOLDEN) ^ seedHi);
}
