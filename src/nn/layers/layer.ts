// The layer interface: a named piece of a Sequential model that knows its output shape, builds its
// parameters from the input shape, and maps a batch to a batch on the tape.

import type { Tensor } from "../../autograd/tensor.js";

/** A shape without the batch dimension. */
export type ShapeNoBatch = readonly number[];

export interface CallContext {
  /** True in training (dropout active), false in inference. */
  training: boolean;
}

export interface LayerConfig {
  name?: string;
  /** The shape of one example (without the batch), for the first layer. */
  inputShape?: ShapeNoBatch;
}

export interface NamedParameter {
  /** e.g. "conv2d_1/kernel" */
  name: string;
  tensor: Tensor;
}

/** A layer's kernel and bias, those that exist, named as Keras names them (`dense/kernel`). */
export function kernelAndBias(layer: string, kernel: Tensor | null, bias: Tensor | null): NamedParameter[] {
  const ps: NamedParameter[] = [];
  if (kernel) ps.push({ name: `${layer}/kernel`, tensor: kernel });
  if (bias) ps.push({ name: `${layer}/bias`, tensor: bias });
  return ps;
}

const counters = new Map<string, number>();

/** Keras-style unique layer names: conv2d, conv2d_1, … */
export function uniqueName(base: string): string {
  const n = counters.get(base) ?? 0;
  counters.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

/** Layers run as one op (Layer.fusedWith). */
export interface FusedRun {
  /** How many layers the op stands for, the fusing layer included. */
  layers: number;
  call(x: Tensor, context: CallContext): Tensor;
}

export abstract class Layer {
  abstract readonly className: string;
  readonly name: string;
  readonly inputShape: ShapeNoBatch | undefined;
  protected builtFor: ShapeNoBatch | null = null;

  constructor(config: LayerConfig, baseName: string) {
    this.name = config.name ?? uniqueName(baseName);
    this.inputShape = config.inputShape ? [...config.inputShape] : undefined;
  }

  get built(): boolean {
    return this.builtFor !== null;
  }

  /** Creates the parameters for this input shape (once). */
  build(inputShape: ShapeNoBatch): void {
    this.builtFor = [...inputShape];
  }

  /** The output shape (without batch) for an input shape, checking that the input fits. */
  abstract outputShape(inputShape: ShapeNoBatch): number[];

  /** The forward pass on a batch. */
  abstract call(x: Tensor, context: CallContext): Tensor;

  /**
   * The forward pass of this layer and the first layers of `following` (the layers after it, in
   * order) as one op, when this layer has a fused op for them that gives the same values and
   * gradients (Sequential runs it instead of their calls); null otherwise, as here.
   */
  fusedWith(_following: readonly Layer[]): FusedRun | null {
    return null;
  }

  /** Trainable parameters with their names, in a fixed order. */
  parameters(): NamedParameter[] {
    return [];
  }

  /** The constructor arguments that recreate this layer (JSON). */
  abstract getConfig(): Record<string, unknown>;

  /** Frees the parameters. */
  dispose(): void {
    for (const p of this.parameters()) p.tensor.dispose();
  }

  /** Checks a batch against the shape the layer was built for, naming the layer. */
  protected checkInput(x: Tensor): void {
    const expected = this.builtFor;
    if (!expected) return;
    const got = x.shape.slice(1);
    if (got.length !== expected.length || got.some((d, i) => d !== expected[i])) {
      throw new Error(`${this.name} (${this.className}): input has shape [${x.shape}], expected [batch, ${expected}]`);
    }
  }
}
