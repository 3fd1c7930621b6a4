// gradcheck: the tape's analytic gradients against central finite differences, as
// torch.autograd.gradcheck does. The output is projected on a fixed random vector v, so one
// backward pass gives vᵀJ for every input, and each numeric derivative is of the scalar vᵀf(x),
// summed in float64. Perturbations are made in float32, and the difference actually applied
// (x+ − x−, after rounding) is the denominator.

import { Generator } from "../random.js";
import { backward, noGrad } from "./tape.js";
import { Tensor, tidy } from "./tensor.js";

export interface GradcheckOptions {
  /** Perturbation (default 1e-3). */
  eps?: number;
  /** Absolute tolerance (default 1e-3). */
  atol?: number;
  /** Relative tolerance, to the numeric gradient (default 1e-2). */
  rtol?: number;
  /** Throw on failure (default true), else return the result. */
  raiseException?: boolean;
  /** Seed of the projection vector. */
  seed?: number;
}

export interface GradcheckWorst {
  /** Which input (index into `inputs`). */
  input: number;
  /** Flat index of the element within that input. */
  index: number;
  analytic: number;
  numeric: number;
}

export interface GradcheckResult {
  ok: boolean;
  maxAbsError: number;
  /** The element whose error most exceeds (or comes closest to) atol + rtol·|numeric|. */
  worst: GradcheckWorst | null;
}

export function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: Tensor[],
  options: GradcheckOptions = {},
): GradcheckResult {
  const { eps = 1e-3, atol = 1e-3, rtol = 1e-2, raiseException = true, seed = 1234 } = options;
  const checked = inputs.map((t, i) => {
    if (!(t instanceof Tensor)) throw new Error(`gradcheck: input ${i} is not a Tensor`);
    return t.requiresGrad;
  });
  if (!checked.some(Boolean)) throw new Error("gradcheck: no input has requiresGrad set");

  // Analytic: vᵀJ from one backward pass.
  const saved = inputs.map((t) => t.grad);
  inputs.forEach((t) => (t.grad = null));
  let v: Float64Array = new Float64Array(0);
  const analytic: Float32Array[] = tidy(() => {
    const out = fn(...inputs);
    const rng = new Generator(seed);
    v = Float64Array.from({ length: out.size }, () => rng.uniform(-1, 1));
    if (!out.requiresGrad) throw new Error("gradcheck: the function's output does not depend on any input that requires a gradient");
    backward(out, Tensor.empty(out.shape).set(v));
    return inputs.map((t, i) => (checked[i] && t.grad ? t.grad.toArray() : new Float32Array(t.size)));
  });
  inputs.forEach((t, i) => {
    t.grad?.dispose();
    t.grad = saved[i];
  });

  const projected = () =>
    tidy(() => {
      const out = noGrad(() => fn(...inputs));
      const data = out.view();
      let s = 0;
      for (let i = 0; i < data.length; i++) s += v[i] * data[i];
      return s;
    });

  const result: GradcheckResult = { ok: true, maxAbsError: 0, worst: null };
  let worstExcess = -Infinity;
  inputs.forEach((t, i) => {
    if (!checked[i]) return;
    for (let j = 0; j < t.size; j++) {
      const x = t.view()[j];
      t.view()[j] = x + eps;
      const xp = t.view()[j];
      const fp = projected();
      t.view()[j] = x - eps;
      const xm = t.view()[j];
      const fm = projected();
      t.view()[j] = x;
      const numeric = (fp - fm) / (xp - xm);
      const a = analytic[i][j];
      const err = Math.abs(a - numeric);
      const excess = err - (atol + rtol * Math.abs(numeric));
      if (!(err <= atol + rtol * Math.abs(numeric))) result.ok = false;
      result.maxAbsError = Math.max(result.maxAbsError, Number.isNaN(err) ? Infinity : err);
      if (excess > worstExcess || Number.isNaN(err)) {
        worstExcess = Number.isNaN(err) ? Infinity : excess;
        result.worst = { input: i, index: j, analytic: a, numeric };
      }
    }
  });
  if (!result.ok && raiseException) {
    const w = result.worst!;
    throw new Error(
      `gradcheck: gradient mismatch for input ${w.input} (shape [${inputs[w.input].shape}]) at flat index ${w.index}: ` +
        `analytic ${w.analytic}, numeric ${w.numeric} (atol ${atol}, rtol ${rtol}, eps ${eps})`,
    );
  }
  return result;
}
