// The optimizer interface: updates parameters in place from their `.grad`, keeping its own state
// (persistent tensors) per parameter. State can be exported and restored for checkpoints.

import type { Tensor } from "../../autograd/tensor.js";

export interface OptimizerState {
  className: string;
  config: Record<string, number>;
  iterations: number;
  /** Per parameter (in the order given to `step`), its state tensors' values. */
  slots: Float32Array[][];
}

export abstract class Optimizer {
  abstract readonly className: string;
  /** Number of updates applied so far. */
  iterations = 0;

  /** Applies one update to each parameter that has a gradient. */
  abstract step(params: readonly Tensor[]): void;

  abstract getConfig(): Record<string, number>;

  /** The state tensors of each parameter, in `step` order, for checkpoints. */
  protected abstract slots(params: readonly Tensor[]): Tensor[][];

  getState(params: readonly Tensor[]): OptimizerState {
    return {
      className: this.className,
      config: this.getConfig(),
      iterations: this.iterations,
      slots: this.slots(params).map((s) => s.map((t) => t.toArray())),
    };
  }

  setState(params: readonly Tensor[], state: OptimizerState): void {
    if (state.className !== this.className) throw new Error(`${this.className}.setState: state is for ${state.className}`);
    const slots = this.slots(params);
    if (state.slots.length !== slots.length) {
      throw new Error(`${this.className}.setState: state has ${state.slots.length} parameters, the model has ${slots.length}`);
    }
    slots.forEach((s, i) =>
      s.forEach((t, j) => {
        const values = state.slots[i][j];
        if (!values || values.length !== t.size) throw new Error(`${this.className}.setState: parameter ${i} slot ${j} has ${values?.length} values, expected ${t.size}`);
        t.set(values);
      }),
    );
    this.iterations = state.iterations;
  }

  /** Frees the state tensors. */
  abstract dispose(): void;
}

export function checkPositive(owner: string, name: string, value: number, allowZero = false): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new Error(`${owner}: ${name} must be a ${allowZero ? "non-negative" : "positive"} finite number, got ${value}`);
  }
  return value;
}
