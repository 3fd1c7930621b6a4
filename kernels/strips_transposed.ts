// Four rows of C = Aᵀ·B for a transposed A and a narrow B whose n is a multiple of 16: 2x16 tiles,
// as the row-major A's path (strips_in_place.ts) has, instead of gemm.ts's 4x8 ones. A(i..i+3, p)
// are 4 adjacent floats, cs bytes from those of p + 1. The first tile (rows 0, 1, columns 0-15)
// reads them there and stores them packed (16 bytes a p) as it goes; every other tile reads the
// packed copy: rows 0, 1 at offsets 0 and 4, rows 2, 3 at 8 and 12. Each value of C is summed
// as the 4x8 tiles sum it (p ascending, then C, bias, relu), so the results are the same bits.
// Scratch A/B against the 4x8 tiles that pack in their first panel (interleaved, blocks of 5
// calls, the same bits): conv2's dB (256x32, k = 6272) 1.00-1.10x on the relaxed build (1.05-1.10x
// while the machine was busy, 1.00x while it was quiet), 1.08-1.09x on the plain one; other Aᵀ·B
// shapes with n = 16 or 32 0.94-1.07x (relaxed, noisy) and 0.97-1.17x (plain).

import { madd } from "./madd";
import { finish_tile2x16 } from "./tile";

/**
 * Rows r, r + 1 of C (c0, c0 + ldc) for 16 columns: A's two values of each p at src + off and
 * src + off + 4 (successive p `step` bytes apart), B's 16 in a pack_b16 panel at pb. With `pack`,
 * also stores the 16 bytes at src (A's 4 values of the p) to dst, 16 bytes a p.
 */
@inline function tile2x16(src: usize, step: usize, off: usize, pack: bool, dst: usize, pb: usize, c0: usize, ldc: usize,
                          kc: i32, loadC: bool, bias: usize, relu: bool, stage: usize): void {
  const zero = v128.load(stage); // stage starts zeroed: a zero vector not rematerialized in loops
  let x00 = v128.xor(zero, zero), x01 = x00, x02 = x00, x03 = x00;
  let x10 = x00, x11 = x00, x12 = x00, x13 = x00;
  const end = pb + (<usize>kc << 6);
  let sa = src + off;
  let d = dst;
  while (pb < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const b2 = v128.load(pb, 32);
    const b3 = v128.load(pb, 48);
    if (pack) {
      v128.store(d, v128.load(sa));
      d += 16;
    }
    const e0 = v128.load32_splat(sa);
    x00 = madd(e0, b0, x00);
    x01 = madd(e0, b1, x01);
    x02 = madd(e0, b2, x02);
    x03 = madd(e0, b3, x03);
    const e1 = v128.load32_splat(sa, 4);
    x10 = madd(e1, b0, x10);
    x11 = madd(e1, b1, x11);
    x12 = madd(e1, b2, x12);
    x13 = madd(e1, b3, x13);
    sa += step;
    pb += 64;
  }
  finish_tile2x16(c0, ldc, x00, x01, x02, x03, x10, x11, x12, x13, loadC, bias, relu, zero, stage, 2);
}

/**
 * Rows c0.. (4 of them, ldc bytes apart, n columns, n a multiple of 16) of C (+)= Aᵀ·B over one
 * K block of kc values of p: A(i, p) for the 4 rows at a + 4i + p*cs bytes; B in pack_b16's
 * panels at `packed`; packedA: 4*kc floats of scratch. bias: 0 or the n values to add; stage:
 * gemm.ts's (a zero vector, then the partial-panel row at +64).
 */
export function strips2x16_transposed(a: usize, cs: usize, packedA: usize, packed: usize, c0: usize, ldc: usize, n: i32,
                                      kc: i32, loadC: bool, bias: usize, relu: bool, stage: usize): void {
  const panelBytes = <usize>kc << 6;
  const panels = n >> 4;
  tile2x16(a, cs, 0, true, packedA, packed, c0, ldc, kc, loadC, bias, relu, stage);
  for (let q = 1; q < panels; q++) {
    const o = <usize>q << 6;
    tile2x16(packedA, 16, 0, false, 0, packed + <usize>q * panelBytes, c0 + o, ldc, kc, loadC, bias ? bias + o : 0, relu, stage);
  }
  for (let q = 0; q < panels; q++) {
    const o = <usize>q << 6;
    tile2x16(packedA, 16, 8, false, 0, packed + <usize>q * panelBytes, c0 + 2 * ldc + o, ldc, kc, loadC, bias ? bias + o : 0,
      relu, stage);
  }
}
