// Elementwise kernels over float32 buffers: SIMD body, scalar tail.

/** dst[i] += src[i] (gradient accumulation). */
export function accumulate(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

/** dst[i] = value. */
export function fill(dst: usize, n: i32, value: f32): void {
  const v = f32x4.splat(value);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v);
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), value);
}

/** y = max(x, 0). */
export function relu_forward(x: usize, y: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.max(v128.load(x + o), zero));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, max<f32>(load<f32>(x + o), 0));
  }
}

/** gx = gy where y > 0, else 0 (the subgradient at 0 is 0, as in TensorFlow). */
export function relu_backward(y: usize, gy: usize, gx: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(gx + o, v128.and(v128.load(gy + o), f32x4.gt(v128.load(y + o), zero)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(gx + o, load<f32>(y + o) > 0 ? load<f32>(gy + o) : 0);
  }
}
