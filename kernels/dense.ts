// Kernels of the dense layer besides its GEMMs.

/** db[j] = sum over rows i of dy[i][j] (dy is rows x cols, row-major): the bias gradient. */
export function dense_bias_grad(dy: usize, db: usize, rows: i32, cols: i32): void {
  const ld = <usize>cols << 2;
  let j = 0;
  // 16 columns at a time: 4 independent accumulators.
  for (; j + 16 <= cols; j += 16) {
    let p = dy + (<usize>j << 2);
    let s0 = v128.xor(v128.load(p), v128.load(p)), s1 = s0, s2 = s0, s3 = s0;
    for (let i = 0; i < rows; i++) {
      s0 = f32x4.add(s0, v128.load(p));
      s1 = f32x4.add(s1, v128.load(p, 16));
      s2 = f32x4.add(s2, v128.load(p, 32));
      s3 = f32x4.add(s3, v128.load(p, 48));
      p += ld;
    }
    const o = db + (<usize>j << 2);
    v128.store(o, s0);
    v128.store(o, s1, 16);
    v128.store(o, s2, 32);
    v128.store(o, s3, 48);
  }
  for (; j + 4 <= cols; j += 4) {
    let p = dy + (<usize>j << 2);
    let s = v128.xor(v128.load(p), v128.load(p));
    for (let i = 0; i < rows; i++) {
      s = f32x4.add(s, v128.load(p));
      p += ld;
    }
    v128.store(db + (<usize>j << 2), s);
  }
  for (; j < cols; j++) {
    let p = dy + (<usize>j << 2);
    let s: f32 = 0;
    for (let i = 0; i < rows; i++) {
      s += load<f32>(p);
      p += ld;
    }
    store<f32>(db + (<usize>j << 2), s);
  }
}
