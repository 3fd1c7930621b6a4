// General matrix multiply: C (m x n) = op(A) (m x k) . op(B) (k x n) [+ C].
// Row-major. transA: A is stored (k x m); transB: B is stored (n x k).
// Simple SIMD version over 4 output columns at a time; to be register-blocked and packed.

export function gemm(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32,
                     transA: i32, transB: i32, accumulate: i32): void {
  for (let i = 0; i < m; i++) {
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      let acc = f32x4.splat(0);
      for (let p = 0; p < k; p++) {
        const av = transA ? load<f32>(a + ((<usize>p * m + i) << 2)) : load<f32>(a + ((<usize>i * k + p) << 2));
        let bv: v128;
        if (transB) {
          bv = f32x4(
            load<f32>(b + ((<usize>j * k + p) << 2)),
            load<f32>(b + ((<usize>(j + 1) * k + p) << 2)),
            load<f32>(b + ((<usize>(j + 2) * k + p) << 2)),
            load<f32>(b + ((<usize>(j + 3) * k + p) << 2)));
        } else {
          bv = v128.load(b + ((<usize>p * n + j) << 2));
        }
        acc = f32x4.add(acc, f32x4.mul(f32x4.splat(av), bv));
      }
      const co = c + ((<usize>i * n + j) << 2);
      v128.store(co, accumulate ? f32x4.add(v128.load(co), acc) : acc);
    }
    for (; j < n; j++) {
      let s: f32 = 0;
      for (let p = 0; p < k; p++) {
        const av = transA ? load<f32>(a + ((<usize>p * m + i) << 2)) : load<f32>(a + ((<usize>i * k + p) << 2));
        const bv = transB ? load<f32>(b + ((<usize>j * k + p) << 2)) : load<f32>(b + ((<usize>p * n + j) << 2));
        s += av * bv;
      }
      const co = c + ((<usize>i * n + j) << 2);
      store<f32>(co, accumulate ? load<f32>(co) + s : s);
    }
  }
}
