// SGEMM, register-blocked: C (m x n) = op(A) (m x k) · op(B) (k x n) [+ C] [+ bias] [relu].
// Row-major. transA: A is stored (k x m); transB: B is stored (n x k).
//
// B is packed, one block of KC rows at a time, into panels NR = 8 columns wide (zero-padded), so
// the micro-kernel reads it contiguously; a row-major B is packed by the block's first strip of A
// as it reads it (strip4_packing), a transposed one in a pass of its own (pack_b).
// The micro-kernel computes a 4x8 tile of C in 8 f32x4 accumulators: with 2 B vectors and 4 A
// broadcasts that is 14 of the 15 xmm registers V8 gives wasm; bigger tiles spill. Each strip of
// 4 rows of A is packed too (4 values per k of the block) so its `v128.load32_splat`s sit at
// fixed offsets of one pointer, and is reused by every panel.
// Rows beyond the last multiple of 4 go through a 1x8 tile reading A in place; columns beyond the
// last multiple of 8 are computed on the zero padding and stored through a scalar epilogue.
// Narrow products (n <= 96) with a row-major A skip packing A: strips_in_place.ts's kernels read
// its rows in place (a 2x16 tile when n is a multiple of 16), summing in the same order. With a
// transposed A they pack each strip during its first panel, which reads the strip in place (or,
// when n is a multiple of 16 and m of 4, strips_transposed.ts's 2x16 tiles pack each strip while
// computing the one before).

import { madd } from "./madd";
import { pack_b16, strips_taps } from "./strips_in_place";
import { strips2x16_transposed } from "./strips_transposed";
import { finish_row, finish_tile, NR } from "./tile";

/**
 * Bytes of packed B per K block, for narrow products (at least MIN_BLOCK_ROWS rows per block):
 * small enough that the panels a 4-row strip streams through stay in L1 (32 KB here) next to the
 * packed strip of A.
 */
const PACK_BUDGET_BYTES = 24 * 1024;
/**
 * Fewest rows of B per K block. Each block ends with C read, added to and written back for every
 * tile, which short blocks pay often, more so once FMA halved the micro-kernel's instructions: in
 * interleaved A/B runs of the model's shapes on one thread (relaxed build, 11
 * rounds), 256 against 64 made dense forward 1.05×, dense dx 1.10×, dense dW 1.05×, conv2's
 * implicit forward 1.05× and its input gradient 1.20× faster, the rest within ±8 % (plain build:
 * 0.93–1.08×). Packed B stays within MAX_BLOCK_BYTES: the implicit convolutions cut K shorter
 * for wide B (blockRows, at least 64 rows); GEMMs pack wide B a chunk of columns at a time.
 */
const MIN_BLOCK_ROWS = 256;
const MAX_BLOCK_BYTES = 256 * 1024;
/**
 * Widest B (columns in a chunk) for which a row-major A is read in place (gemm_block_in_place)
 * rather than packed 4 rows a strip: packing a strip costs the same whatever n and is repaid over
 * n/8 panels. Scratch A/B against packed strips (interleaved, 15 rounds; the same bits): n <= 96
 * 1.00-1.46x on the relaxed build (conv2's forward as a GEMM, n = 32, 1.06-1.21x), 0.97-1.29x on
 * the plain one; n = 128 0.97x, n = 256 0.76-1.00x (relaxed), where the dense forward's fused
 * packing of B wins.
 */
const IN_PLACE_MAX_COLUMNS = 96;
/**
 * Bytes of A's K block (rows x kc floats) above which gemm_block_in_place reads the 4 rows of a
 * strip a quarter of the block apart rather than adjacent. Adjacent rows of a 256-float K block
 * (1 KB) share 4 KB pages, so a strip's 2 or 4 row streams interleave the lines of one page; rows
 * in different pages, each its own ascending stream, are read faster from beyond L2 (1 MB here).
 * Rows 4 KB apart gave most of the gain, which points at the hardware prefetchers following
 * streams page by page (a guess: this machine has no performance counters). Scratch A/B,
 * interleaved, the same bits: conv2's forward as a GEMM (6272x256·256x32) 1.18-1.28x on the
 * relaxed build and 1.08-1.10x on the plain one; n = 8, 24, 72, 96, 16 with blocks of 4-8 MB
 * 1.02-1.36x; rows 4 KB apart instead of a quarter of the block 1.09-1.10x. Blocks of 0.5-1 MB
 * (in L2 when called again) 0.98-1.01x, 2 MB 1.06x; a 37-row block 0.93-0.95x, hence the threshold.
 */
const SPREAD_MIN_BYTES: usize = 1 << 20;
/** A 4x8 tile staged for the scalar epilogue of the last, partial panel. */
export const STAGE_FLOATS = 32;

@inline export function roundUp8(n: i32): i32 {
  return (n + 7) & ~7;
}

/** Rows of B packed per block for n columns: as many as PACK_BUDGET_BYTES allows, at least MIN_BLOCK_ROWS (fewer for wide B). */
@inline export function blockRows(n: i32, k: i32): i32 {
  const rowBytes = roundUp8(n) * 4;
  let kc = (PACK_BUDGET_BYTES / rowBytes) & ~3;
  if (kc < MIN_BLOCK_ROWS) kc = max(64, min(MIN_BLOCK_ROWS, (MAX_BLOCK_BYTES / rowBytes) & ~3));
  return kc < k ? kc : k;
}

/**
 * Rows of B a GEMM packs per K block: blockRows's, but at least MIN_BLOCK_ROWS however wide B is:
 * a wide B is packed a chunk of columns at a time instead (chunkColumns), so that no K block is
 * cut short (the dense input gradient, n = 1568, took blocks of 64 rows: C read and written back
 * 4 times, and a tile's end every 64 steps).
 */
@inline function gemmBlockRows(n: i32, k: i32): i32 {
  const kc = max(MIN_BLOCK_ROWS, (PACK_BUDGET_BYTES / (roundUp8(n) * 4)) & ~3);
  return kc < k ? kc : k;
}

/** Columns of B packed at a time in blocks of kc rows: whole panels, MAX_BLOCK_BYTES at most. */
@inline function chunkColumns(n: i32, kc: i32): i32 {
  const columns = max(NR, (MAX_BLOCK_BYTES / (max(kc, 1) * 4)) & ~(NR - 1));
  return columns < n ? columns : n;
}

/** Floats of scratch `gemm_blocked` needs for these sizes (the JS side allocates it). */
export function gemm_scratch_floats(n: i32, k: i32): i32 {
  const kc = gemmBlockRows(n, k);
  return (roundUp8(chunkColumns(n, kc)) + 8) * kc + STAGE_FLOATS;
}

/**
 * Packs rows k0..k0+kc of op(B) into panels of NR columns: panel q holds, for each row p, the 8
 * values op(B)[k0 + p][8q .. 8q + 7], zero beyond column n. Panel q starts at dst + q*kc*32 bytes.
 * ldb: floats between rows of B as stored.
 */
export function pack_b(b: usize, ldb: i32, dst: usize, n: i32, k0: i32, kc: i32, transB: i32): void {
  const panels = (n + NR - 1) / NR;
  for (let q = 0; q < panels; q++) {
    const j0 = q * NR;
    const nc = min(NR, n - j0);
    let d = dst + <usize>q * kc * (NR * 4);
    if (nc == NR && !transB) {
      let s = b + ((<usize>k0 * ldb + j0) << 2);
      const ld = <usize>ldb << 2;
      for (let p = 0; p < kc; p++) {
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
        s += ld;
        d += NR * 4;
      }
    } else if (nc == NR) {
      // B stored (n x k): 8 rows of storage become one panel; transpose 4x4 blocks.
      const ld = <usize>ldb << 2;
      let s = b + ((<usize>j0 * ldb + k0) << 2);
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        transpose4(s, ld, d, NR * 4);
        transpose4(s + 4 * ld, ld, d + 16, NR * 4);
        s += 16;
        d += 4 * NR * 4;
      }
      for (; p < kc; p++) {
        for (let c = 0; c < NR; c++) store<f32>(d + (<usize>c << 2), load<f32>(s + <usize>c * ld));
        s += 4;
        d += NR * 4;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let c = 0; c < NR; c++) {
          let v: f32 = 0;
          if (c < nc) {
            const j = j0 + c;
            const kk = k0 + p;
            v = transB ? load<f32>(b + ((<usize>j * ldb + kk) << 2)) : load<f32>(b + ((<usize>kk * ldb + j) << 2));
          }
          store<f32>(d + (<usize>c << 2), v);
        }
        d += NR * 4;
      }
    }
  }
}

/** Reads 4 rows of 4 floats (row stride ld bytes) at s; writes their 4 columns at d, dstride bytes apart. */
@inline function transpose4(s: usize, ld: usize, d: usize, dstride: usize): void {
  const r0 = v128.load(s);
  const r1 = v128.load(s + ld);
  const r2 = v128.load(s + 2 * ld);
  const r3 = v128.load(s + 3 * ld);
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(d + dstride, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(d + 2 * dstride, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(d + 3 * dstride, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

/**
 * Packs 4 rows of A (A(r, p) at a + r*rs + p*cs bytes) for kc columns: dst holds, for each p,
 * the 4 values A(0..3, p), so the micro-kernel's broadcasts are at fixed offsets of one pointer.
 */
function pack_a4(a: usize, rs: usize, cs: usize, kc: i32, dst: usize): void {
  if (rs == 4) {
    // transA: the 4 values of one p are adjacent.
    for (let p = 0; p < kc; p++) {
      v128.store(dst, v128.load(a));
      a += cs;
      dst += 16;
    }
    return;
  }
  let p = 0;
  for (; p + 4 <= kc; p += 4) {
    transpose4(a, rs, dst, 16);
    a += 16;
    dst += 64;
  }
  for (; p < kc; p++) {
    store<f32>(dst, load<f32>(a));
    store<f32>(dst, load<f32>(a + rs), 4);
    store<f32>(dst, load<f32>(a + 2 * rs), 8);
    store<f32>(dst, load<f32>(a + 3 * rs), 12);
    a += 4;
    dst += 16;
  }
}

/**
 * Four rows of C (c0 and the next three rows, ldc bytes apart, n columns) from a packed strip of
 * A (kc x 4, see pack_a4) and packed B panels: the 4x8 micro-kernel over every panel. Only the
 * first `rows` rows are written (a last, partial strip packed with zero rows). stage: see gemm_part.
 */
export function strip4(packedA: usize, packed: usize, c0: usize, ldc: usize, n: i32, kc: i32, loadC: bool,
                       bias: usize, relu: bool, stage: usize, rows: i32): void {
  // The common ends, 4 rows with no bias or relu to apply (every K block but a bias's first and a
  // relu's last), get loops of their own where the tile's end folds to its loads and stores. When K is short the end is a good part of a tile:
  // scratch A/B, dense dW and conv2's dA (k = 32) 1.07-1.15x, the others unchanged.
  if (rows == 4 && !bias && !relu) {
    if (loadC) strip4_tiles(packedA, packed, c0, ldc, n, kc, true, 0, false, stage, 4, 0, 0, false, 0, 0, false);
    else strip4_tiles(packedA, packed, c0, ldc, n, kc, false, 0, false, stage, 4, 0, 0, false, 0, 0, false);
  } else {
    strip4_tiles(packedA, packed, c0, ldc, n, kc, loadC, bias, relu, stage, rows, 0, 0, false, 0, 0, false);
  }
}

/**
 * strip4 for 4 rows that also packs B: kc rows of a row-major B at b (rows ld bytes apart) into
 * the panels at `packed` as pack_b would, each whole panel as the micro-kernel first reads it,
 * so that the first strip of a K block pays for the packing's loads in a loop bound by its
 * multiply-adds instead of in a pass of its own (the dense forward packs 1.6 MB a call).
 */
function strip4_packing(packedA: usize, b: usize, ld: usize, packed: usize, c0: usize, ldc: usize, n: i32, kc: i32,
                        loadC: bool, bias: usize, relu: bool, stage: usize): void {
  const whole = n & ~(NR - 1);
  if (whole < n) pack_b(b + (<usize>whole << 2), <i32>(ld >> 2), packed + <usize>(whole >> 3) * kc * (NR * 4), n - whole, 0, kc, 0);
  if (!bias && !relu) {
    if (loadC) strip4_tiles(packedA, packed, c0, ldc, n, kc, true, 0, false, stage, 4, b, ld, true, 0, 0, false);
    else strip4_tiles(packedA, packed, c0, ldc, n, kc, false, 0, false, stage, 4, b, ld, true, 0, 0, false);
  } else {
    strip4_tiles(packedA, packed, c0, ldc, n, kc, loadC, bias, relu, stage, 4, b, ld, true, 0, 0, false);
  }
}

/**
 * strip4 for a transposed A read in place (A(0..3, p) adjacent at a + p*cs bytes): the first panel
 * reads the strip there and packs it into packedA as it goes, so the strided loads overlap that
 * panel's multiply-adds instead of taking a pass of their own; the other panels read it packed.
 */
function strip4_packing_a(a: usize, cs: usize, packedA: usize, packed: usize, c0: usize, ldc: usize, n: i32, kc: i32,
                          loadC: bool, bias: usize, relu: bool, stage: usize): void {
  const first = min(n, NR);
  if (!bias && !relu) {
    if (loadC) strip4_tiles(packedA, packed, c0, ldc, first, kc, true, 0, false, stage, 4, 0, 0, false, a, cs, true);
    else strip4_tiles(packedA, packed, c0, ldc, first, kc, false, 0, false, stage, 4, 0, 0, false, a, cs, true);
  } else {
    strip4_tiles(packedA, packed, c0, ldc, first, kc, loadC, bias, relu, stage, 4, 0, 0, false, a, cs, true);
  }
  if (n > NR) strip4(packedA, packed + <usize>kc * (NR * 4), c0 + NR * 4, ldc, n - NR, kc, loadC, bias ? bias + NR * 4 : 0, relu, stage, 4);
}

/**
 * The 4x8 micro-kernel over every panel of a strip. With `packing`, whole panels are read from B
 * in place (b, rows ld bytes apart) and written to their packed place as they are used; the
 * partial last panel must already be packed. With `packingA`, the strip of A is read in place
 * instead (its 4 values of each p adjacent at a, cs bytes between p) and written to packedA; it is
 * meant for one panel (strip4_packing_a passes n <= NR): each further panel would read A again.
 */
@inline function strip4_tiles(packedA: usize, packed: usize, c0: usize, ldc: usize, n: i32, kc: i32, loadC: bool,
                              bias: usize, relu: bool, stage: usize, rows: i32, b: usize, ld: usize, packing: bool,
                              a: usize, cs: usize, packingA: bool): void {
  const zero = v128.load(stage); // stage starts zeroed: a zero vector not rematerialized in loops
  const panels = (n + NR - 1) / NR;
  const panelBytes = <usize>kc * (NR * 4);
  const aEnd = packedA + (<usize>kc << 4);
  for (let q = 0; q < panels; q++) {
    let pa = packedA;
    let sa = a; // with packingA: where the strip's values are read
    let pb = packed + <usize>q * panelBytes;
    let x00 = v128.xor(zero, zero), x01 = x00, x10 = x00, x11 = x00;
    let x20 = x00, x21 = x00, x30 = x00, x31 = x00;
    // B's rows: the packed panel, or with `packing`, a whole panel read in place and packed as it goes
    // (a partial one, already packed, is rewritten with its own values).
    let src = pb;
    let step: usize = NR * 4;
    if (packing && (q + 1) * NR <= n) {
      src = b + (<usize>q << 5);
      step = ld;
    }
    while (pa < aEnd) {
      const b0 = v128.load(src);
      const b1 = v128.load(src, 16);
      if (packing) {
        v128.store(pb, b0);
        v128.store(pb, b1, 16);
      }
      const ra = packingA ? sa : pa;
      if (packingA) v128.store(pa, v128.load(sa));
      const e0 = v128.load32_splat(ra);
      x00 = madd(e0, b0, x00);
      x01 = madd(e0, b1, x01);
      const e1 = v128.load32_splat(ra, 4);
      x10 = madd(e1, b0, x10);
      x11 = madd(e1, b1, x11);
      const e2 = v128.load32_splat(ra, 8);
      x20 = madd(e2, b0, x20);
      x21 = madd(e2, b1, x21);
      const e3 = v128.load32_splat(ra, 12);
      x30 = madd(e3, b0, x30);
      x31 = madd(e3, b1, x31);
      pa += 16;
      if (packingA) sa += cs;
      pb += NR * 4;
      src += step;
    }
    finish_tile(c0, ldc, q * NR, n, x00, x01, x10, x11, x20, x21, x30, x31, loadC, bias, relu, zero, stage, rows);
  }
}

/**
 * One K block: C[i0.., j..] (+)= A[.., k0..k0+kc] · packed, for every row and panel.
 * A(i, p) is at a + i*rs + p*cs (bytes); rows of C are ldc bytes apart. bias is 0 or the bias to add
 * in this block.
 */
function gemm_block(a: usize, rs: usize, cs: usize, packed: usize, packedA: usize, c: usize, ldc: usize, m: i32, n: i32,
                    kc: i32, loadC: bool, bias: usize, relu: bool, stage: usize, b: usize, ld: usize): void {
  const zero = v128.load(stage); // stage starts zeroed: a zero vector not rematerialized in loops
  const panels = (n + NR - 1) / NR;
  const panelBytes = <usize>kc * (NR * 4);
  let i = 0;
  if (b) {
    // B not packed yet: the first strip packs it.
    pack_a4(a, rs, cs, kc, packedA);
    strip4_packing(packedA, b, ld, packed, c, ldc, n, kc, loadC, bias, relu, stage);
    i = 4;
  }
  // A transposed with narrow B (n not a multiple of 16 or m not of 4: gemm_part gives the others
  // to strips_transposed.ts): a pass of its own to pack the strip is repaid over few panels.
  // Scratch A/B against that pass (interleaved, 15 rounds, the same bits): conv2's dB (256x32,
  // k = 6272, before it went to strips_transposed.ts) 1.08x on the relaxed build, 1.12x on the
  // plain one; other transposed shapes with n <= 96 1.00-1.25x.
  const packInFirstPanel = rs == 4 && n <= IN_PLACE_MAX_COLUMNS;
  for (; i + 4 <= m; i += 4) {
    if (packInFirstPanel) {
      strip4_packing_a(a + <usize>i * rs, cs, packedA, packed, c + <usize>i * ldc, ldc, n, kc, loadC, bias, relu, stage);
      continue;
    }
    pack_a4(a + <usize>i * rs, rs, cs, kc, packedA);
    strip4(packedA, packed, c + <usize>i * ldc, ldc, n, kc, loadC, bias, relu, stage, 4);
  }
  for (; i < m; i++) {
    const a0 = a + <usize>i * rs;
    const c0 = c + <usize>i * ldc;
    for (let q = 0; q < panels; q++) {
      let pa = a0;
      let pb = packed + <usize>q * panelBytes;
      let x0 = v128.xor(zero, zero), x1 = x0;
      for (let p = 0; p < kc; p++) {
        const e = v128.load32_splat(pa);
        x0 = madd(e, v128.load(pb), x0);
        x1 = madd(e, v128.load(pb, 16), x1);
        pa += cs;
        pb += NR * 4;
      }
      const j = q * NR;
      finish_row(c0 + (<usize>j << 2), x0, x1, min(NR, n - j), loadC, bias ? bias + (<usize>j << 2) : 0, relu, zero, stage + 64);
    }
  }
}

/**
 * gemm_block for a row-major A (rows rs bytes apart) read in place by strips_in_place.ts's
 * kernels: each strip's 4 row pointers, one tap of kc values, go in `table` (16 bytes); a strip
 * with fewer rows points its missing ones at its first. B is packed: pack_b16's panels if `wide`
 * (n a multiple of 16), pack_b's otherwise.
 * A block of A bigger than SPREAD_MIN_BYTES is read by strips whose rows are a quarter of m apart
 * (rows i, i + g, i + 2g, i + 3g, g = ceil(m / 4)) instead of adjacent: see SPREAD_MIN_BYTES.
 */
function gemm_block_in_place(a: usize, rs: usize, packed: usize, table: usize, c: usize, ldc: usize, m: i32, n: i32,
                             kc: i32, loadC: bool, bias: usize, relu: bool, stage: usize, wide: bool): void {
  const spread = <usize>m * kc * 4 > SPREAD_MIN_BYTES;
  const strips = (m + 3) >> 2;
  const gap = spread ? strips : 1; // rows between a strip's rows
  const end = spread ? strips : m; // first rows of the strips: 0, 1, .. strips - 1, or 0, 4, 8, ..
  for (let i = 0; i < end; i += spread ? 1 : 4) {
    let rows = 0;
    for (let r = 0; r < 4; r++) {
      const row = i + r * gap;
      if (row < m) rows++;
      store<u32>(table + (<usize>r << 2), <u32>(a + <usize>(row < m ? row : i) * rs));
    }
    strips_taps(table, 1, kc, packed, c + <usize>i * ldc, <usize>gap * ldc, n, loadC, bias, relu, stage, rows, wide);
  }
}

/**
 * C (m x n) = op(A) · op(B) [+ C if accumulate] [+ bias (n floats) if bias != 0] [relu if relu].
 * scratch: gemm_scratch_floats(n, k) floats, 16-byte aligned, contents undefined.
 */
export function gemm_blocked(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32,
                             transA: i32, transB: i32, accumulate: i32, bias: usize, relu: i32,
                             scratch: usize): void {
  gemm_part(a, b, c, m, n, k, transA ? m : k, transB ? k : n, n, gemmBlockRows(n, k),
    transA, transB, accumulate, bias, relu, scratch);
}

/** The K block gemm_blocked uses for a problem n columns wide: gemm_part's kc for the same sums. */
export function gemm_block_rows(n: i32, k: i32): i32 {
  return gemmBlockRows(n, k);
}

/**
 * gemm_blocked on a sub-matrix: leading dimensions lda, ldb, ldc (floats between stored rows) and
 * the K block kc given, so that a piece of a bigger product (a range of rows or of columns, for one
 * thread) sums each element in exactly the order the whole product would, given the whole
 * product's kc. B is packed chunkColumns(n, kc) columns at a time, each chunk's K blocks summed
 * as the whole product's would be. scratch: (roundUp8(chunkColumns(n, kc)) + 8) * kc + 32 floats
 * (gemm_scratch_floats(n, k) suffices when kc = gemm_block_rows(n, k)).
 */
export function gemm_part(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32,
                          lda: i32, ldb: i32, ldc: i32, kc: i32,
                          transA: i32, transB: i32, accumulate: i32, bias: usize, relu: i32,
                          scratch: usize): void {
  if (m <= 0 || n <= 0) return;
  const doRelu = relu != 0;
  if (k <= 0) {
    // Empty sum: C = (C or 0) + bias, then relu.
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const o = c + ((<usize>i * ldc + j) << 2);
        let v: f32 = accumulate ? load<f32>(o) : 0;
        if (bias) v += load<f32>(bias + (<usize>j << 2));
        if (doRelu) v = max<f32>(v, 0);
        store<f32>(o, v);
      }
    }
    return;
  }
  if (kc > k) kc = k;
  const chunk = chunkColumns(n, kc);
  const packed = scratch;
  const packedA = packed + (<usize>roundUp8(chunk) * kc << 2);
  const stage = packedA + (<usize>kc << 5); // packedA: two strips' worth (strips_transposed.ts)
  // stage[0..16) bytes: a zero vector; stage[64..128): the partial-panel row.
  v128.store(stage, v128.xor(v128.load(stage), v128.load(stage)));
  const rs: usize = transA ? 4 : <usize>lda << 2;
  const cs: usize = transA ? <usize>lda << 2 : 4;
  for (let j0 = 0; j0 < n; j0 += chunk) {
    const nc = min(chunk, n - j0);
    const bj = transB ? b + (<usize>j0 * ldb << 2) : b + (<usize>j0 << 2);
    const cj = c + (<usize>j0 << 2);
    const biasj = bias ? bias + (<usize>j0 << 2) : 0;
    for (let k0 = 0; k0 < k; k0 += kc) {
      const kb = min(kc, k - k0);
      const first = k0 == 0;
      const last = k0 + kb >= k;
      const loadC = !first || accumulate != 0;
      const blockBias = first ? biasj : 0;
      const blockRelu = last && doRelu;
      if (transA && !transB && nc <= IN_PLACE_MAX_COLUMNS && (nc & 15) == 0 && (m & 3) == 0) {
        // A transposed, B narrow and 16 columns a panel, whole strips: 2x16 tiles (strips_transposed.ts).
        pack_b16(bj, ldb, packed, nc, k0, kb);
        strips2x16_transposed(a + <usize>k0 * cs, cs, packedA, packed, cj, <usize>ldc << 2, m, nc, kb,
          loadC, blockBias, blockRelu, stage);
        continue;
      }
      if (!transA && nc <= IN_PLACE_MAX_COLUMNS) {
        // Narrow B: A's rows read in place; B in 16-column panels for the 2x16 tile when it can.
        const wide = !transB && (nc & 15) == 0;
        if (wide) pack_b16(bj, ldb, packed, nc, k0, kb);
        else pack_b(bj, ldb, packed, nc, k0, kb, transB);
        gemm_block_in_place(a + <usize>k0 * cs, rs, packed, packedA, cj, <usize>ldc << 2, m, nc, kb,
          loadC, blockBias, blockRelu, stage, wide);
        continue;
      }
      // A row-major B is packed by the first strip of the block as it goes, when there is one.
      const packLater = !transB && m >= 4;
      if (!packLater) pack_b(bj, ldb, packed, nc, k0, kb, transB);
      gemm_block(a + <usize>k0 * cs, rs, cs, packed, packedA, cj, <usize>ldc << 2, m, nc, kb,
        loadC, blockBias, blockRelu, stage, packLater ? bj + (<usize>k0 * ldb << 2) : 0, <usize>ldb << 2);
    }
  }
}
