// Shared test set-up: the kernels, and fast-check's defaults.
import fc from "fast-check";
import { init } from "../../src/index.js";

export async function setup(): Promise<void> {
  await init();
}

fc.configureGlobal({ numRuns: 40 });

/** A random float32 array of `n` values in [lo, hi). */
export function floats(n: number, lo = -1, hi = 1) {
  return fc.array(fc.float({ min: Math.fround(lo), max: Math.fround(hi), noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n });
}

/** Asserts two arrays agree elementwise within atol + rtol·|expected|, naming the first bad index. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-5, rtol = 1e-5): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e)) && !(Number.isNaN(a) && Number.isNaN(e))) {
      throw new Error(`index ${i}: got ${a}, expected ${e} (atol ${atol}, rtol ${rtol})`);
    }
  }
}
