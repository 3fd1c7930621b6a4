// a * b + c on f32x4 lanes: one fused multiply-add (relaxed SIMD) in the relaxed builds, a multiply
// then an add in the plain ones. The relaxed builds are only loaded where the runtime validates
// relaxed SIMD (src/wasm/loader.ts); the plain ones must contain no relaxed opcode at all, which
// the compile-time constant guarantees (the other branch is not even compiled).
// FMA rounds once instead of twice: results differ from the plain build in the last bits.

/** a * b + c, lane-wise. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
