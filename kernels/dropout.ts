// Dropout: the keep mask comes from a counter-based hash of (seed, index), so the JS side draws
// only two 32-bit words per call and any thread computes any range of it. The forward stores the
// mask as bytes for the backward: the hash, not memory, bounds the forward (0.23 ms for conv1's
// 401,408 elements at batch 32, in L1 or not), and reading a byte an element is cheaper than
// hashing again.
//
// bits(i) = fmix32((seed_lo + i·0x9e3779b9) ^ seed_hi)   (splitmix32-style: Weyl counter, murmur3's
//           finalizer; one round: two rounds cost twice the time, the kernel being bound by the hash)
// keep(i) = bits(i) >= threshold (unsigned), threshold = floor(rate · 2^32)
// y[i]    = keep(i) ? x[i] · scale : 0

import { DROPOUT_CONSTANTS, dropoutBits, dropoutKeep4 } from "./dropout_hash";

/**
 * dst = src · keep · scale, the keep mask hashed from (seed_lo, seed_hi); with `mask` != 0 also
 * stores the mask there, a byte an element (0xff kept, 0 dropped), for the backward.
 */
// @ts-ignore: decorator
@inline function dropoutApply(src: usize, dst: usize, mask: usize, n: i32, seedLo: u32, seedHi: u32, threshold: u32, scale: f32): void {
  const m1 = v128.load(DROPOUT_CONSTANTS);
  const m2 = v128.load(DROPOUT_CONSTANTS, 16);
  const step = v128.load(DROPOUT_CONSTANTS, 32);
  const hi = i32x4.splat(seedHi);
  const thr = i32x4.splat(threshold);
  const s = f32x4.splat(scale);
  // Weyl counter seed_lo + i·golden for lanes i..i+3, advanced by 4·golden each group of 4.
  let weyl = i32x4.add(i32x4.splat(seedLo), v128.load(DROPOUT_CONSTANTS, 48));
  let i = 0;
  // 16 elements an iteration: four keep vectors narrow to the 16 mask bytes.
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const k0 = dropoutKeep4(weyl, hi, thr, m1, m2);
    weyl = i32x4.add(weyl, step);
    const k1 = dropoutKeep4(weyl, hi, thr, m1, m2);
    weyl = i32x4.add(weyl, step);
    const k2 = dropoutKeep4(weyl, hi, thr, m1, m2);
    weyl = i32x4.add(weyl, step);
    const k3 = dropoutKeep4(weyl, hi, thr, m1, m2);
    weyl = i32x4.add(weyl, step);
    v128.store(dst + o, v128.and(f32x4.mul(v128.load(src + o), s), k0));
    v128.store(dst + o, v128.and(f32x4.mul(v128.load(src + o, 16), s), k1), 16);
    v128.store(dst + o, v128.and(f32x4.mul(v128.load(src + o, 32), s), k2), 32);
    v128.store(dst + o, v128.and(f32x4.mul(v128.load(src + o, 48), s), k3), 48);
    if (mask) v128.store(mask + <usize>i, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(k0, k1), i16x8.narrow_i32x4_s(k2, k3)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const keep = dropoutBits(<u32>i, seedLo, seedHi) >= threshold;
    store<f32>(dst + o, keep ? load<f32>(src + o) * scale : 0);
    if (mask) store<u8>(mask + <usize>i, keep ? 0xff : 0);
  }
}

/**
 * y = x · mask · scale, the mask drawn from (seed_lo, seed_hi) with P(drop) = threshold / 2^32;
 * the mask's bytes stored at `mask` (n bytes) when it is not 0.
 */
export function dropout_forward(x: usize, y: usize, mask: usize, n: i32, seed_lo: u32, seed_hi: u32, threshold: u32, scale: f32): void {
  dropoutApply(x, y, mask, n, seed_lo, seed_hi, threshold, scale);
}

/** gx = gy · mask · scale with the forward's stored mask bytes: no hashing, a pass over memory. */
export function dropout_backward(gy: usize, mask: usize, gx: usize, n: i32, scale: f32): void {
  const s = f32x4.splat(scale);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    // 0xff / 0 bytes sign-extend to all-ones / zero lanes.
    const bytes = v128.load(mask + <usize>i);
    const lo = i16x8.extend_low_i8x16_s(bytes);
    const hi = i16x8.extend_high_i8x16_s(bytes);
    v128.store(gx + o, v128.and(f32x4.mul(v128.load(gy + o), s), i32x4.extend_low_i16x8_s(lo)));
    v128.store(gx + o, v128.and(f32x4.mul(v128.load(gy + o, 16), s), i32x4.extend_high_i16x8_s(lo)), 16);
    v128.store(gx + o, v128.and(f32x4.mul(v128.load(gy + o, 32), s), i32x4.extend_low_i16x8_s(hi)), 32);
    v128.store(gx + o, v128.and(f32x4.mul(v128.load(gy + o, 48), s), i32x4.extend_high_i16x8_s(hi)), 48);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(gx + o, load<u8>(mask + <usize>i) ? load<f32>(gy + o) * scale : 0);
  }
}
