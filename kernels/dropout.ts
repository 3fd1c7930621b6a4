// Dropout: the keep mask comes from a counter-based hash of (seed, index), so the JS side draws
// only two 32-bit words per call, and the backward regenerates the same mask from them.
//
// bits(i) = fmix32((seed_lo + i·0x9e3779b9) ^ seed_hi)   (splitmix32-style: Weyl counter, murmur3's
//           finalizer; one round: two rounds cost twice the time, the kernel being bound by the hash)
// keep(i) = bits(i) >= threshold (unsigned), threshold = floor(rate · 2^32)
// y[i]    = keep(i) ? x[i] · scale : 0

const GOLDEN: u32 = 0x9e3779b9;
const M1: u32 = 0x85ebca6b;
const M2: u32 = 0xc2b2ae35;

// V8 rematerializes v128 constants inside loops; loading them from memory once keeps them in registers.
const CONSTANTS = memory.data<u32>([
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

/** The mask's random bits for element i (scalar; the tail and the reference use this definition). */
// @ts-ignore: decorator
@inline function dropoutBits(i: u32, seedLo: u32, seedHi: u32): u32 {
  return fmix32((seedLo + i * GOLDEN) ^ seedHi);
}

// @ts-ignore: decorator
@inline function dropoutApply(src: usize, dst: usize, n: i32, seedLo: u32, seedHi: u32, threshold: u32, scale: f32): void {
  const m1 = v128.load(CONSTANTS);
  const m2 = v128.load(CONSTANTS, 16);
  const step = v128.load(CONSTANTS, 32);
  const hi = i32x4.splat(seedHi);
  const thr = i32x4.splat(threshold);
  const s = f32x4.splat(scale);
  // Weyl counter seed_lo + i·golden for lanes i..i+3, advanced by 4·golden each iteration.
  let weyl = i32x4.add(i32x4.splat(seedLo), v128.load(CONSTANTS, 48));
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const bits = fmix32x4(v128.xor(weyl, hi), m1, m2);
    const keep = i32x4.ge_u(bits, thr);
    v128.store(dst + o, v128.and(f32x4.mul(v128.load(src + o), s), keep));
    weyl = i32x4.add(weyl, step);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const keep = dropoutBits(<u32>i, seedLo, seedHi) >= threshold;
    store<f32>(dst + o, keep ? load<f32>(src + o) * scale : 0);
  }
}

/** y = x · mask · scale, the mask drawn from (seed_lo, seed_hi) with P(drop) = threshold / 2^32. */
export function dropout_forward(x: usize, y: usize, n: i32, seed_lo: u32, seed_hi: u32, threshold: u32, scale: f32): void {
  dropoutApply(x, y, n, seed_lo, seed_hi, threshold, scale);
}

/** gx = gy · mask · scale with the forward's mask, regenerated from the same seed words. */
export function dropout_backward(gy: usize, gx: usize, n: i32, seed_lo: u32, seed_hi: u32, threshold: u32, scale: f32): void {
  dropoutApply(gy, gx, n, seed_lo, seed_hi, threshold, scale);
}
