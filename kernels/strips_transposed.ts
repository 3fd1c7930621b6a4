// Rows of C = Aᵀ·B for a transposed A and a narrow B whose n is a multiple of 16: 2x16 tiles, as
// the row-major A's path (strips_in_place.ts) has, instead of gemm.ts's 4x8 ones. A(i..i+3, p)
// are 4 adjacent floats, cs bytes from those of p + 1: a strip of 4 rows reads one 16-byte piece
// of each of kc lines. Each strip's A is packed (16 bytes a p) so that its tiles read it from L1
// at fixed offsets: rows 0, 1 at 0 and 4, rows 2, 3 at 8 and 12. The packing is software-
// pipelined: the tiles of strip s copy strip s + 1's pieces into the other of two buffers, a share
// each, so the strided loads (from beyond L2 for a quarter of the strips: conv2's dB reads a
// 6.4 MB A) overlap multiply-adds instead of stalling a tile that needs them at once. Each value
// of C is summed as the 4x8 tiles sum it (p ascending, then C, bias, relu): the same bits.
// Scratch A/B, interleaved, the same bits, conv2's dB (256x32, k = 6272), relaxed build: 2x16
// tiles against 4x8 ones 1.00-1.10x; then, against the first tile packing its own strip, taking
// both of a panel's tiles before the next panel (its 16 KB stays in L1) 1.015-1.034x, and the
// pipelining 1.03-1.05x on top (plain build 1.00-1.01x over both). Packing 16 rows at a time from
// whole lines was slower (0.84-0.90x); a pass reading each K block in order first gained nothing
// (0.97-1.02x).

import { madd } from "./madd";
import { finish_tile2x16 } from "./tile";

/**
 * Rows r, r + 1 of C (c0, c0 + ldc) for 16 columns: A's two values of each p at pa + off and
 * pa + off + 4 (packed, 16 bytes a p), B's 16 in a pack_b16 panel at pb. Its first `copy` steps
 * also copy a p each of the next strip's A: 16 bytes from next (cs bytes apart) to nextDst.
 */
@inline function tile2x16(pa: usize, off: usize, pb: usize, c0: usize, ldc: usize, kc: i32, loadC: bool, bias: usize,
                          relu: bool, stage: usize, next: usize, cs: usize, nextDst: usize, copy: i32): void {
  const zero = v128.load(stage); // stage starts zeroed: a zero vector not rematerialized in loops
  let x00 = v128.xor(zero, zero), x01 = x00, x02 = x00, x03 = x00;
  let x10 = x00, x11 = x00, x12 = x00, x13 = x00;
  const copied = pb + (<usize>copy << 6);
  const end = pb + (<usize>kc << 6);
  let sa = pa + off;
  let src = next;
  let d = nextDst;
  // Two loops rather than one testing `copy` every step: scratch A/B, one loop 0.96-0.98x (relaxed), 0.88x (plain).
  while (pb < copied) {
    v128.store(d, v128.load(src));
    src += cs;
    d += 16;
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const b2 = v128.load(pb, 32);
    const b3 = v128.load(pb, 48);
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
    sa += 16;
    pb += 64;
  }
  while (pb < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const b2 = v128.load(pb, 32);
    const b3 = v128.load(pb, 48);
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
    sa += 16;
    pb += 64;
  }
  finish_tile2x16(c0, ldc, x00, x01, x02, x03, x10, x11, x12, x13, loadC, bias, relu, zero, stage, 2);
}

/**
 * Rows c.. (m of them, m a multiple of 4, ldc bytes apart; n columns, n a multiple of 16) of
 * C (+)= Aᵀ·B over one K block of kc values of p: A(i, p) at a + 4i + p*cs bytes; B in pack_b16's
 * panels at `packed`; packedA: 8*kc floats of scratch (two strips' packed A). bias: 0 or the n
 * values to add; stage: gemm.ts's (a zero vector, then the partial-panel row at +64).
 */
export function strips2x16_transposed(a: usize, cs: usize, packedA: usize, packed: usize, c: usize, ldc: usize, m: i32,
                                      n: i32, kc: i32, loadC: bool, bias: usize, relu: bool, stage: usize): void {
  const panelBytes = <usize>kc << 6;
  const panels = n >> 4;
  const bufferBytes = <usize>kc << 4;
  const share = (kc + 2 * panels - 1) / (2 * panels); // p's of the next strip each tile copies
  // Strip 0's A, in a pass of its own.
  let src = a;
  let d = packedA;
  for (let p = 0; p < kc; p++) {
    v128.store(d, v128.load(src));
    src += cs;
    d += 16;
  }
  const strips = m >> 2;
  for (let s = 0; s < strips; s++) {
    const current = packedA + <usize>(s & 1) * bufferBytes;
    const following = packedA + <usize>((s + 1) & 1) * bufferBytes;
    const last = s + 1 == strips;
    const next = a + (<usize>(s + 1) << 4);
    const c0 = c + <usize>(4 * s) * ldc;
    let p0 = 0;
    // Both tiles of a panel before the next panel: its 16 KB (kc = 256) is read from L1 the second time.
    for (let q = 0; q < panels; q++) {
      const o = <usize>q << 6;
      const pb = packed + <usize>q * panelBytes;
      const bq = bias ? bias + o : 0;
      let copy = last ? 0 : min(share, kc - p0);
      tile2x16(current, 0, pb, c0 + o, ldc, kc, loadC, bq, relu, stage, next + <usize>p0 * cs, cs, following + (<usize>p0 << 4), copy);
      p0 += copy;
      copy = last ? 0 : min(share, kc - p0);
      tile2x16(current, 8, pb, c0 + 2 * ldc + o, ldc, kc, loadC, bq, relu, stage, next + <usize>p0 * cs, cs, following + (<usize>p0 << 4), copy);
      p0 += copy;
    }
  }
}
