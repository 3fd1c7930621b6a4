// Dense layer: x·W + b, kernel [in, units], glorot-uniform kernel and zero bias.

import { dense } from "../../autograd/ops/dense.js";
import type { Tensor } from "../../autograd/tensor.js";
import { glorotUniform, zerosParameter } from "../initializers.js";
import { CallContext, kernelAndBias, Layer, LayerConfig, NamedParameter, ShapeNoBatch } from "./layer.js";
import { checkActivation, type Activation } from "./util.js";

export interface DenseConfig extends LayerConfig {
  units: number;
  activation?: Activation;
  useBias?: boolean;
}

export class Dense extends Layer {
  readonly className = "Dense";
  readonly units: number;
  readonly activation: Activation;
  readonly useBias: boolean;
  kernel: Tensor | null = null;
  bias: Tensor | null = null;

  constructor(config: DenseConfig) {
    super(config, "dense");
    if (!Number.isInteger(config.units) || config.units < 1) throw new Error(`Dense: units must be a positive integer, got ${config.units}`);
    this.units = config.units;
    this.activation = checkActivation("Dense", config.activation);
    this.useBias = config.useBias ?? true;
  }

  outputShape(inputShape: ShapeNoBatch): number[] {
    if (inputShape.length !== 1) throw new Error(`${this.name} (Dense): expects inputs [batch, features], got [batch, ${inputShape}]; add a Flatten layer before it`);
    return [this.units];
  }

  override build(inputShape: ShapeNoBatch): void {
    if (this.built) return;
    this.outputShape(inputShape);
    this.kernel = glorotUniform([inputShape[0], this.units]);
    if (this.useBias) this.bias = zerosParameter([this.units]);
    super.build(inputShape);
  }

  call(x: Tensor, _context: CallContext): Tensor {
    this.checkInput(x);
    return dense(x, this.kernel!, this.bias, { activation: this.activation });
  }

  /** call() on a Flatten layer's input, without the flattened copy (Flatten.fusedWith). */
  callFlattened(x: Tensor): Tensor {
    if (!this.built) throw new Error(`${this.name} (Dense): called before it was built`);
    return dense(x, this.kernel!, this.bias, { activation: this.activation, flattenInput: true });
  }

  override parameters(): NamedParameter[] {
    return kernelAndBias(this.name, this.kernel, this.bias);
  }

  getConfig() {
    return { name: this.name, units: this.units, activation: this.activation, useBias: this.useBias, inputShape: this.inputShape };
  }
}
