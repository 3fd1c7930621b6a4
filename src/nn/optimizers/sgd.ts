// Stochastic gradient descent with optional momentum, as Keras defines it.

import { Tensor } from "../../autograd/tensor.js";
import { kernels } from "../../wasm/loader.js";
import { checkPositive, Optimizer } from "./optimizer.js";

interface SgdKernels {
  sgd_update(p: number, g: number, vel: number, n: number, lr: number, momentum: number): void;
}

export interface SGDOptions {
  learningRate?: number;
  momentum?: number;
}

export class SGD extends Optimizer {
  readonly className = "SGD";
  readonly learningRate: number;
  readonly momentum: number;
  private readonly velocities = new Map<Tensor, Tensor>();

  constructor({ learningRate = 0.01, momentum = 0 }: SGDOptions = {}) {
    super();
    this.learningRate = checkPositive("SGD", "learningRate", learningRate);
    if (!(momentum >= 0 && momentum < 1)) throw new Error(`SGD: momentum must be in [0, 1), got ${momentum}`);
    this.momentum = momentum;
  }

  getConfig() {
    return { learningRate: this.learningRate, momentum: this.momentum };
  }

  protected slots(params: readonly Tensor[]): Tensor[][] {
    return this.momentum > 0 ? params.map((p) => [this.velocity(p)]) : params.map(() => []);
  }

  private velocity(p: Tensor): Tensor {
    let vel = this.velocities.get(p);
    if (!vel) {
      vel = Tensor.zeros(p.shape, { persistent: true });
      this.velocities.set(p, vel);
    }
    return vel;
  }

  step(params: readonly Tensor[]): void {
    this.iterations++;
    const k = kernels<SgdKernels>();
    for (const p of params) {
      if (!p.grad) continue;
      const vel = this.momentum > 0 ? this.velocity(p).ptr : 0;
      k.sgd_update(p.ptr, p.grad.ptr, vel, p.size, this.learningRate, this.momentum);
    }
  }

  dispose(): void {
    for (const v of this.velocities.values()) v.dispose();
    this.velocities.clear();
  }
}
