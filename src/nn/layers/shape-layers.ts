// Layers without parameters: MaxPooling2D, Dropout, Flatten, L2Normalize.

import { dropout } from "../../autograd/ops/dropout.js";
import { l2Normalize } from "../../autograd/ops/l2normalize.js";
import { maxPool2d } from "../../autograd/ops/maxpool2d.js";
import { flatten } from "../../autograd/ops/reshape.js";
import type { Tensor } from "../../autograd/tensor.js";
import { Dense } from "./dense.js";
import { CallContext, FusedRun, Layer, LayerConfig, ShapeNoBatch } from "./layer.js";
import { pair } from "./util.js";

export interface MaxPooling2DConfig extends LayerConfig {
  poolSize?: number | [number, number];
  strides?: number | [number, number];
  padding?: "same" | "valid";
}

export class MaxPooling2D extends Layer {
  readonly className = "MaxPooling2D";
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: "same" | "valid";

  constructor(config: MaxPooling2DConfig = {}) {
    super(config, "max_pooling2d");
    this.poolSize = pair("MaxPooling2D", "poolSize", config.poolSize ?? 2);
    this.strides = pair("MaxPooling2D", "strides", config.strides ?? this.poolSize);
    this.padding = config.padding ?? "valid";
    if (this.padding !== "same" && this.padding !== "valid") throw new Error(`MaxPooling2D: padding must be "same" or "valid", got ${String(config.padding)}`);
  }

  outputShape(inputShape: ShapeNoBatch): number[] {
    if (inputShape.length !== 3) throw new Error(`${this.name} (MaxPooling2D): expects inputs [batch, height, width, channels], got [batch, ${inputShape}]`);
    const [h, w, c] = inputShape;
    const out = (n: number, k: number, s: number) => (this.padding === "same" ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1);
    const oh = out(h, this.poolSize[0], this.strides[0]);
    const ow = out(w, this.poolSize[1], this.strides[1]);
    if (oh < 1 || ow < 1) throw new Error(`${this.name} (MaxPooling2D): a ${this.poolSize.join("x")} pool does not fit an input of ${h}x${w}`);
    return [oh, ow, c];
  }

  call(x: Tensor, _context: CallContext): Tensor {
    this.checkInput(x);
    return maxPool2d(x, { poolSize: this.poolSize, strides: this.strides, padding: this.padding });
  }

  getConfig() {
    return { name: this.name, poolSize: this.poolSize, strides: this.strides, padding: this.padding, inputShape: this.inputShape };
  }
}

export interface DropoutConfig extends LayerConfig {
  rate: number;
}

export class Dropout extends Layer {
  readonly className = "Dropout";
  readonly rate: number;

  /** `new Dropout(0.3)` or `new Dropout({ rate: 0.3 })`. */
  constructor(config: number | DropoutConfig) {
    const c = typeof config === "number" ? { rate: config } : config;
    super(c, "dropout");
    if (typeof c.rate !== "number" || !(c.rate >= 0 && c.rate < 1)) throw new Error(`Dropout: rate must be in [0, 1), got ${c.rate}`);
    this.rate = c.rate;
  }

  outputShape(inputShape: ShapeNoBatch): number[] {
    return [...inputShape];
  }

  call(x: Tensor, context: CallContext): Tensor {
    this.checkInput(x);
    return dropout(x, this.rate, { training: context.training });
  }

  getConfig() {
    return { name: this.name, rate: this.rate, inputShape: this.inputShape };
  }
}

export class Flatten extends Layer {
  readonly className = "Flatten";

  constructor(config: LayerConfig = {}) {
    super(config, "flatten");
  }

  outputShape(inputShape: ShapeNoBatch): number[] {
    return [inputShape.reduce((a, b) => a * b, 1)];
  }

  call(x: Tensor, _context: CallContext): Tensor {
    this.checkInput(x);
    return flatten(x);
  }

  /** Followed by a Dense layer: the dense op reads the input as flattened, with no copy either way. */
  override fusedWith(following: readonly Layer[]): FusedRun | null {
    const next = following[0];
    if (!(next instanceof Dense)) return null;
    return {
      layers: 2,
      call: (x) => {
        this.checkInput(x);
        return next.callFlattened(x);
      },
    };
  }

  getConfig() {
    return { name: this.name, inputShape: this.inputShape };
  }
}

export interface L2NormalizeConfig extends LayerConfig {
  epsilon?: number;
}

/** Normalizes each example's vector to unit length (tf.math.l2_normalize on the last axis). */
export class L2Normalize extends Layer {
  readonly className = "L2Normalize";
  readonly epsilon: number;

  constructor(config: L2NormalizeConfig = {}) {
    super(config, "l2_normalize");
    this.epsilon = config.epsilon ?? 1e-12;
  }

  outputShape(inputShape: ShapeNoBatch): number[] {
    if (inputShape.length !== 1) throw new Error(`${this.name} (L2Normalize): expects inputs [batch, features], got [batch, ${inputShape}]`);
    return [...inputShape];
  }

  call(x: Tensor, _context: CallContext): Tensor {
    this.checkInput(x);
    return l2Normalize(x, { axis: -1, epsilon: this.epsilon });
  }

  getConfig() {
    return { name: this.name, epsilon: this.epsilon, inputShape: this.inputShape };
  }
}
