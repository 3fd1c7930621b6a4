// The end of a 4x8 micro-kernel tile, shared by gemm.ts and strips_in_place.ts. Not re-exported by
// index.ts: an inline helper taking v128 values, not a kernel.

/** Columns of a tile: two f32x4 vectors, the width of a packed B panel. */
export const NR = 8;

/**
 * Writes 8 columns of one row of C: x (+ C if loadC) (+ bias) (relu). When nc < 8 the row goes
 * through `stage` and only nc columns are written. `zero` is loaded from memory by the caller.
 */
@inline export function finish_row(c: usize, x0: v128, x1: v128, nc: i32, loadC: bool, bias: usize, relu: bool,
                            zero: v128, stage: usize): void {
  if (nc == NR) {
    if (loadC) {
      x0 = f32x4.add(x0, v128.load(c));
      x1 = f32x4.add(x1, v128.load(c, 16));
    }
    if (bias) {
      x0 = f32x4.add(x0, v128.load(bias));
      x1 = f32x4.add(x1, v128.load(bias, 16));
    }
    if (relu) {
      x0 = f32x4.max(x0, zero);
      x1 = f32x4.max(x1, zero);
    }
    v128.store(c, x0);
    v128.store(c, x1, 16);
  } else {
    v128.store(stage, x0);
    v128.store(stage, x1, 16);
    for (let j = 0; j < nc; j++) {
      const o = <usize>j << 2;
      let v = load<f32>(stage + o);
      if (loadC) v += load<f32>(c + o);
      if (bias) v += load<f32>(bias + o);
      if (relu) v = max<f32>(v, 0);
      store<f32>(c + o, v);
    }
  }
}

/**
 * Writes the 4x8 tile x (rows x·0, x·1 of 8 columns) at column j of rows c0.. of C (ldc bytes
 * apart, n columns, only the first `rows` rows), through finish_row. stage: the micro-kernel's
 * stage (a zero vector, then the partial-panel row at +64).
 */
@inline export function finish_tile(c0: usize, ldc: usize, j: i32, n: i32, x00: v128, x01: v128, x10: v128, x11: v128,
                                    x20: v128, x21: v128, x30: v128, x31: v128, loadC: bool, bias: usize, relu: bool,
                                    zero: v128, stage: usize, rows: i32): void {
  const nc = min(NR, n - j);
  const cq = c0 + (<usize>j << 2);
  const bq = bias ? bias + (<usize>j << 2) : 0;
  if (nc == NR) {
    // Whole tile: one test here instead of one a row (each finish_row below folds to its full case).
    finish_row(cq, x00, x01, NR, loadC, bq, relu, zero, stage + 64);
    if (rows > 1) finish_row(cq + ldc, x10, x11, NR, loadC, bq, relu, zero, stage + 64);
    if (rows > 2) finish_row(cq + 2 * ldc, x20, x21, NR, loadC, bq, relu, zero, stage + 64);
    if (rows > 3) finish_row(cq + 3 * ldc, x30, x31, NR, loadC, bq, relu, zero, stage + 64);
    return;
  }
  finish_row(cq, x00, x01, nc, loadC, bq, relu, zero, stage + 64);
  if (rows > 1) finish_row(cq + ldc, x10, x11, nc, loadC, bq, relu, zero, stage + 64);
  if (rows > 2) finish_row(cq + 2 * ldc, x20, x21, nc, loadC, bq, relu, zero, stage + 64);
  if (rows > 3) finish_row(cq + 3 * ldc, x30, x31, nc, loadC, bq, relu, zero, stage + 64);
}

/**
 * Writes a 2x16 tile (row 0: x00..x03, row 1: x10..x13, four f32x4 each) at c0 and c0 + ldc,
 * 16 columns, through finish_row; only the first `rows` (1 or 2) rows. bias: 0 or the tile's 16
 * values. stage: the micro-kernel's stage (a zero vector, then the partial-panel row at +64).
 */
@inline export function finish_tile2x16(c0: usize, ldc: usize, x00: v128, x01: v128, x02: v128, x03: v128, x10: v128,
                                        x11: v128, x12: v128, x13: v128, loadC: bool, bias: usize, relu: bool, zero: v128,
                                        stage: usize, rows: i32): void {
  const bias8 = bias ? bias + 32 : 0;
  finish_row(c0, x00, x01, NR, loadC, bias, relu, zero, stage + 64);
  finish_row(c0 + 32, x02, x03, NR, loadC, bias8, relu, zero, stage + 64);
  if (rows > 1) {
    finish_row(c0 + ldc, x10, x11, NR, loadC, bias, relu, zero, stage + 64);
    finish_row(c0 + ldc + 32, x12, x13, NR, loadC, bias8, relu, zero, stage + 64);
  }
}
