// Adam, as Keras defines it (learning rate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7), one SIMD
// kernel call per parameter updating it and its moments in place.

import { Tensor } from "../../autograd/tensor.js";
import { runOverRanges } from "../../wasm/split.js";
import { checkPositive, Optimizer } from "./optimizer.js";

export interface AdamOptions {
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export class Adam extends Optimizer {
  readonly className = "Adam";
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private readonly moments = new Map<Tensor, [Tensor, Tensor]>();

  constructor({ learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7 }: AdamOptions = {}) {
    super();
    this.learningRate = checkPositive("Adam", "learningRate", learningRate);
    this.epsilon = checkPositive("Adam", "epsilon", epsilon);
    for (const [name, b] of [["beta1", beta1], ["beta2", beta2]] as const) {
      if (!(b >= 0 && b < 1)) throw new Error(`Adam: ${name} must be in [0, 1), got ${b}`);
    }
    this.beta1 = beta1;
    this.beta2 = beta2;
  }

  getConfig() {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  protected slots(params: readonly Tensor[]): Tensor[][] {
    return params.map((p) => this.moment(p));
  }

  private moment(p: Tensor): [Tensor, Tensor] {
    let mv = this.moments.get(p);
    if (!mv) {
      mv = [Tensor.zeros(p.shape, { persistent: true }), Tensor.zeros(p.shape, { persistent: true })];
      this.moments.set(p, mv);
    }
    return mv;
  }

  step(params: readonly Tensor[]): void {
    this.iterations++;
    const t = this.iterations;
    const lrT = (this.learningRate * Math.sqrt(1 - this.beta2 ** t)) / (1 - this.beta1 ** t);
    for (const p of params) {
      if (!p.grad) continue;
      const [m, v] = this.moment(p);
      // Elementwise: large parameters are split across threads, with the same result.
      const [pp, gp, mp, vp] = [p.ptr, p.grad.ptr, m.ptr, v.ptr];
      runOverRanges("adam_update", p.size, p.size * 20, (start, count) =>
        [pp + 4 * start, gp + 4 * start, mp + 4 * start, vp + 4 * start, count, lrT, this.beta1, this.beta2, this.epsilon]);
    }
  }

  dispose(): void {
    for (const [m, v] of this.moments.values()) {
      m.dispose();
      v.dispose();
    }
    this.moments.clear();
  }
}
