// Optimizer updates, in place over a parameter and its state (SIMD body, scalar tail).

/**
 * Adam (Keras form, "epsilon hat"): m = b1·m + (1−b1)·g; v = b2·v + (1−b2)·g²;
 * p −= lrT·m / (sqrt(v) + eps), where lrT = lr·sqrt(1 − b2^t) / (1 − b1^t) is computed by the caller.
 */
export function adam_update(p: usize, g: usize, m: usize, v: usize, n: i32,
                            lrT: f32, beta1: f32, beta2: f32, epsilon: f32): void {
  const b1 = f32x4.splat(beta1);
  const c1 = f32x4.splat(1 - beta1);
  const b2 = f32x4.splat(beta2);
  const c2 = f32x4.splat(1 - beta2);
  const lr = f32x4.splat(lrT);
  const eps = f32x4.splat(epsilon);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gv = v128.load(g + o);
    const mv = f32x4.add(f32x4.mul(b1, v128.load(m + o)), f32x4.mul(c1, gv));
    const vv = f32x4.add(f32x4.mul(b2, v128.load(v + o)), f32x4.mul(c2, f32x4.mul(gv, gv)));
    v128.store(m + o, mv);
    v128.store(v + o, vv);
    const step = f32x4.div(f32x4.mul(lr, mv), f32x4.add(f32x4.sqrt(vv), eps));
    v128.store(p + o, f32x4.sub(v128.load(p + o), step));
  }
  // The tail takes the body's operations in the body's order, (1−b2)·(g·g) included: where a
  // range ends (a thread's part) must not change an element's bits.
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gs = load<f32>(g + o);
    const ms = beta1 * load<f32>(m + o) + (1 - beta1) * gs;
    const vs = beta2 * load<f32>(v + o) + (1 - beta2) * (gs * gs);
    store<f32>(m + o, ms);
    store<f32>(v + o, vs);
    store<f32>(p + o, load<f32>(p + o) - lrT * ms / (sqrt<f32>(vs) + epsilon));
  }
}

/** SGD with momentum (Keras form): vel = momentum·vel − lr·g; p += vel. Without momentum: p −= lr·g. */
export function sgd_update(p: usize, g: usize, vel: usize, n: i32, lr: f32, momentum: f32): void {
  const lrv = f32x4.splat(lr);
  const mom = f32x4.splat(momentum);
  let i = 0;
  if (vel == 0) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.mul(lrv, v128.load(g + o))));
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(p + o, load<f32>(p + o) - lr * load<f32>(g + o));
    }
    return;
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const nv = f32x4.sub(f32x4.mul(mom, v128.load(vel + o)), f32x4.mul(lrv, v128.load(g + o)));
    v128.store(vel + o, nv);
    v128.store(p + o, f32x4.add(v128.load(p + o), nv));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const nv = momentum * load<f32>(vel + o) - lr * load<f32>(g + o);
    store<f32>(vel + o, nv);
    store<f32>(p + o, load<f32>(p + o) + nv);
  }
}
