import { addRun, fillRun, scaleRun } from "./runs";

// Elementwise kernels over float32 buffers: SIMD body, scalar tail.

/** dst[i] += src[i] (gradient accumulation). */
export function accumulate(dst: usize, src: usize, n: i32): void {
  addRun(dst, src, n);
}

/**
 * dst[i] = ((p_0[i] + p_1[i]) + p_2[i]) + ... + p_{count-1}[i] for i < n, where p_j starts at
 * parts + j·stride floats: partial sums (of fixed parts of a batch) added in a fixed order.
 */
export function sum_parts(dst: usize, parts: usize, n: i32, stride: i32, count: i32): void {
  memory.copy(dst, parts, <usize>n << 2);
  for (let j = 1; j < count; j++) addRun(dst, parts + (<usize>j * stride << 2), n);
}

/** dst[i] = value. */
export function fill(dst: usize, n: i32, value: f32): void {
  fillRun(dst, n, value);
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

// ---- Binary ops (add, sub, mul) with broadcasting ----
// `op` picks the operation: y = x op s, where x is the operand with the output's shape in the
// kernel's pattern and s the other one. RSUB (y = s − x) lets a broadcast left operand of a
// subtraction be passed as s. Each exported kernel switches on `op` once, outside the loops, into
// a loop specialised at compile time by a tag type (a plain `op` constant passed to an inlined
// loop lets binaryen fold the four copies back into one loop that branches on op every step).

const BINARY_ADD: i32 = 0;
const BINARY_SUB: i32 = 1;
const BINARY_MUL: i32 = 2;
const BINARY_RSUB: i32 = 3;

// Tag types: only their size is used, to tell the specialisations apart.
type Add = u8;
type Sub = u16;
type Mul = u32;
type RSub = u64;

@inline function apply4<Op>(x: v128, s: v128): v128 {
  if (sizeof<Op>() == 1) return f32x4.add(x, s);
  if (sizeof<Op>() == 2) return f32x4.sub(x, s);
  if (sizeof<Op>() == 4) return f32x4.mul(x, s);
  return f32x4.sub(s, x);
}

@inline function apply1<Op>(x: f32, s: f32): f32 {
  if (sizeof<Op>() == 1) return x + s;
  if (sizeof<Op>() == 2) return x - s;
  if (sizeof<Op>() == 4) return x * s;
  return s - x;
}

/** y[i] = x[i] op s[i], i < n. */
function same_loop<Op>(x: usize, s: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const y0 = apply4<Op>(v128.load(x + o), v128.load(s + o));
    const y1 = apply4<Op>(v128.load(x + o, 16), v128.load(s + o, 16));
    v128.store(y + o, y0);
    v128.store(y + o, y1, 16);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, apply4<Op>(v128.load(x + o), v128.load(s + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, apply1<Op>(load<f32>(x + o), load<f32>(s + o)));
  }
}

/** y[i] = x[i] op s[0], i < n. */
function scalar_loop<Op>(x: usize, s: usize, y: usize, n: i32): void {
  const sv = v128.load32_splat(s);
  const s1 = load<f32>(s);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const y0 = apply4<Op>(v128.load(x + o), sv);
    const y1 = apply4<Op>(v128.load(x + o, 16), sv);
    v128.store(y + o, y0);
    v128.store(y + o, y1, 16);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, apply4<Op>(v128.load(x + o), sv));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, apply1<Op>(load<f32>(x + o), s1));
  }
}

function row_loop<Op>(x: usize, s: usize, y: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const o = <usize>r * stride;
    same_loop<Op>(x + o, s, y + o, cols);
  }
}

function col_loop<Op>(x: usize, s: usize, y: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const o = <usize>r * stride;
    scalar_loop<Op>(x + o, s + (<usize>r << 2), y + o, cols);
  }
}

/** Equal shapes: y = x op s over n elements. */
export function binary_same(op: i32, x: usize, s: usize, y: usize, n: i32): void {
  if (op == BINARY_ADD) same_loop<Add>(x, s, y, n);
  else if (op == BINARY_SUB) same_loop<Sub>(x, s, y, n);
  else if (op == BINARY_MUL) same_loop<Mul>(x, s, y, n);
  else same_loop<RSub>(x, s, y, n);
}

/** s is one element: y = x op s[0] over n elements. */
export function binary_scalar(op: i32, x: usize, s: usize, y: usize, n: i32): void {
  if (op == BINARY_ADD) scalar_loop<Add>(x, s, y, n);
  else if (op == BINARY_SUB) scalar_loop<Sub>(x, s, y, n);
  else if (op == BINARY_MUL) scalar_loop<Mul>(x, s, y, n);
  else scalar_loop<RSub>(x, s, y, n);
}

/** x is [rows, cols], s is [cols] (a bias): y[r, c] = x[r, c] op s[c]. */
export function binary_row(op: i32, x: usize, s: usize, y: usize, rows: i32, cols: i32): void {
  if (op == BINARY_ADD) row_loop<Add>(x, s, y, rows, cols);
  else if (op == BINARY_SUB) row_loop<Sub>(x, s, y, rows, cols);
  else if (op == BINARY_MUL) row_loop<Mul>(x, s, y, rows, cols);
  else row_loop<RSub>(x, s, y, rows, cols);
}

/** x is [rows, cols], s is [rows, 1]: y[r, c] = x[r, c] op s[r]. */
export function binary_col(op: i32, x: usize, s: usize, y: usize, rows: i32, cols: i32): void {
  if (op == BINARY_ADD) col_loop<Add>(x, s, y, rows, cols);
  else if (op == BINARY_SUB) col_loop<Sub>(x, s, y, rows, cols);
  else if (op == BINARY_MUL) col_loop<Mul>(x, s, y, rows, cols);
  else col_loop<RSub>(x, s, y, rows, cols);
}

/**
 * Any broadcast, over `rank` collapsed dims. `meta` holds 4·rank i32s: the output sizes, the
 * element strides of a and of b (0 where broadcast), and rank zeroed counters (scratch). The
 * innermost dim has strides 0 or 1 and runs as a SIMD loop; the others run as an odometer.
 * Here a and b keep their order: y = a op b (op is never RSUB).
 */
export function binary_strided(op: i32, a: usize, b: usize, y: usize, meta: usize, rank: i32): void {
  const last = rank - 1;
  const sizes = meta;
  const aStr = meta + (<usize>rank << 2);
  const bStr = aStr + (<usize>rank << 2);
  const count = bStr + (<usize>rank << 2);
  const inner = load<i32>(sizes + (<usize>last << 2));
  const aInner = load<i32>(aStr + (<usize>last << 2));
  const bInner = load<i32>(bStr + (<usize>last << 2));
  let outer = 1;
  for (let d = 0; d < last; d++) outer *= load<i32>(sizes + (<usize>d << 2));
  let ao: usize = 0;
  let bo: usize = 0;
  let yo: usize = 0;
  const rowBytes = <usize>inner << 2;
  for (let row = 0; row < outer; row++) {
    const ap = a + (ao << 2);
    const bp = b + (bo << 2);
    const yp = y + yo;
    if (aInner != 0 && bInner != 0) binary_same(op, ap, bp, yp, inner);
    else if (aInner != 0) binary_scalar(op, ap, bp, yp, inner);
    else binary_scalar(op == BINARY_SUB ? BINARY_RSUB : op, bp, ap, yp, inner);
    yo += rowBytes;
    // Advance the odometer over the outer dims, last first.
    for (let d = last - 1; d >= 0; d--) {
      const dOff = <usize>d << 2;
      const c = load<i32>(count + dOff) + 1;
      if (c < load<i32>(sizes + dOff)) {
        store<i32>(count + dOff, c);
        ao += <usize>load<i32>(aStr + dOff);
        bo += <usize>load<i32>(bStr + dOff);
        break;
      }
      store<i32>(count + dOff, 0);
      ao -= <usize>load<i32>(aStr + dOff) * <usize>(c - 1);
      bo -= <usize>load<i32>(bStr + dOff) * <usize>(c - 1);
    }
  }
}

/** y = x · c. */
export function scale_forward(x: usize, y: usize, n: i32, c: f32): void {
  scaleRun(x, y, n, c);
}

/** dst[0..n) = src[0..n) (reshape's copy). */
export function copy(dst: usize, src: usize, n: i32): void {
  memory.copy(dst, src, <usize>n << 2);
}
