// Conv2D layer: NHWC, kernel [kh, kw, cin, filters], glorot-uniform kernel and zero bias.

import { conv2d } from "../../autograd/ops/conv2d.js";
import { conv2dMaxPool } from "../../autograd/ops/conv2d-maxpool.js";
import type { Tensor } from "../../autograd/tensor.js";
import { glorotUniform, zerosParameter } from "../initializers.js";
import { CallContext, FusedRun, kernelAndBias, Layer, LayerConfig, NamedParameter, ShapeNoBatch } from "./layer.js";
import { Dropout, MaxPooling2D } from "./shape-layers.js";
import { checkActivation, pair, type Activation } from "./util.js";

export interface Conv2DConfig extends LayerConfig {
  filters: number;
  kernelSize: number | [number, number];
  strides?: number | [number, number];
  padding?: "same" | "valid";
  activation?: Activation;
  useBias?: boolean;
}

export class Conv2D extends Layer {
  readonly className = "Conv2D";
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: "same" | "valid";
  readonly activation: Activation;
  readonly useBias: boolean;
  kernel: Tensor | null = null;
  bias: Tensor | null = null;

  constructor(config: Conv2DConfig) {
    super(config, "conv2d");
    if (!Number.isInteger(config.filters) || config.filters < 1) throw new Error(`Conv2D: filters must be a positive integer, got ${config.filters}`);
    this.filters = config.filters;
    this.kernelSize = pair("Conv2D", "kernelSize", config.kernelSize);
    this.strides = pair("Conv2D", "strides", config.strides ?? 1);
    this.padding = config.padding ?? "valid";
    if (this.padding !== "same" && this.padding !== "valid") throw new Error(`Conv2D: padding must be "same" or "valid", got ${String(config.padding)}`);
    this.activation = checkActivation("Conv2D", config.activation);
    this.useBias = config.useBias ?? true;
  }

  outputShape(inputShape: ShapeNoBatch): number[] {
    if (inputShape.length !== 3) throw new Error(`${this.name} (Conv2D): expects inputs [batch, height, width, channels], got [batch, ${inputShape}]`);
    const [h, w] = inputShape;
    const [kh, kw] = this.kernelSize;
    const [sh, sw] = this.strides;
    const out = (n: number, k: number, s: number) => (this.padding === "same" ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1);
    const oh = out(h, kh, sh);
    const ow = out(w, kw, sw);
    if (oh < 1 || ow < 1) throw new Error(`${this.name} (Conv2D): a ${kh}x${kw} kernel does not fit an input of ${h}x${w} with padding "valid"`);
    return [oh, ow, this.filters];
  }

  override build(inputShape: ShapeNoBatch): void {
    if (this.built) return;
    this.outputShape(inputShape);
    const [kh, kw] = this.kernelSize;
    this.kernel = glorotUniform([kh, kw, inputShape[2], this.filters]);
    if (this.useBias) this.bias = zerosParameter([this.filters]);
    super.build(inputShape);
  }

  call(x: Tensor, _context: CallContext): Tensor {
    this.checkInput(x);
    return conv2d(x, this.kernel!, this.bias, this.convOptions());
  }

  /**
   * Followed by a 2x2 max pooling with stride 2 and 'valid' padding, and maybe a Dropout after it:
   * conv2dMaxPool, with the dropout as its option.
   */
  override fusedWith(following: readonly Layer[]): FusedRun | null {
    const [pool, next] = following;
    if (!(pool instanceof MaxPooling2D) || pool.padding !== "valid" || [...pool.poolSize, ...pool.strides].some((v) => v !== 2)) return null;
    const drop = next instanceof Dropout ? next : null;
    return {
      layers: drop ? 3 : 2,
      call: (x, context) => {
        this.checkInput(x);
        const options = this.convOptions();
        return conv2dMaxPool(x, this.kernel!, this.bias, drop ? { ...options, dropout: { rate: drop.rate, training: context.training } } : options);
      },
    };
  }

  private convOptions() {
    return { strides: this.strides, padding: this.padding, activation: this.activation };
  }

  override parameters(): NamedParameter[] {
    return kernelAndBias(this.name, this.kernel, this.bias);
  }

  getConfig() {
    return {
      name: this.name, filters: this.filters, kernelSize: this.kernelSize, strides: this.strides,
      padding: this.padding, activation: this.activation, useBias: this.useBias, inputShape: this.inputShape,
    };
  }
}
