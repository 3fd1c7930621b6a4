// Sequential: a stack of layers with Keras's compile / fit / trainOnBatch / predict / summary.
// One training step runs in one scope: forward, loss, backward and the optimizer's update, after
// which every temporary of the step is freed together.

import { Tensor, tensor, tidy } from "../autograd/tensor.js";
import { noGrad, zeroGrad } from "../autograd/tape.js";
import type { CallContext, Layer, NamedParameter, ShapeNoBatch } from "./layers/layer.js";
import type { Optimizer } from "./optimizers/optimizer.js";

/** Labels for a batch: integers, one per example. */
export type Labels = Int32Array | readonly number[] | ArrayLike<number>;

/** A loss: a class with `call(labels, predictions)` (e.g. TripletSemiHardLoss) or a plain function. */
export type LossLike = { call(labels: Labels, predictions: Tensor): Tensor; getConfig?(): unknown; readonly className?: string }
  | ((labels: Labels, predictions: Tensor) => Tensor);

/** One batch of a dataset given to `fit`: inputs (NHWC float32, flat or a Tensor) and labels. */
export interface Batch {
  x: Float32Array | Tensor;
  labels: Labels;
}

export interface EpochLogs {
  epoch: number;
  /** Mean of the step losses of this epoch. */
  loss: number;
  steps: number;
  samples: number;
  seconds: number;
  samplesPerSecond: number;
}

export interface BatchLogs {
  epoch: number;
  step: number;
  loss: number;
  /** Mean loss of the epoch so far. */
  meanLoss: number;
  samples: number;
}

export interface Callbacks {
  onTrainBegin?(): void;
  onEpochBegin?(epoch: number): void;
  onBatchEnd?(logs: BatchLogs): void;
  onEpochEnd?(logs: EpochLogs): void;
  onTrainEnd?(history: History): void;
}

export interface FitOptions {
  epochs?: number;
  /** Epoch to start counting from (resuming). */
  initialEpoch?: number;
  callbacks?: Callbacks | Callbacks[];
}

export interface History {
  lossPerEpoch: number[];
  secondsPerEpoch: number[];
  epochs: EpochLogs[];
}

export class Sequential {
  readonly layers: Layer[] = [];
  optimizer: Optimizer | null = null;
  loss: LossLike | null = null;
  /** Set by a callback to end `fit` after the current step. */
  stopTraining = false;
  private inputShapeNoBatch: number[] | null = null;

  constructor(layers: Layer[] = []) {
    for (const l of layers) this.add(l);
  }

  add(layer: Layer): this {
    if (this.layers.includes(layer)) throw new Error(`Sequential: layer ${layer.name} was added twice`);
    this.layers.push(layer);
    if (this.layers.length === 1 && layer.inputShape) this.build(layer.inputShape);
    else if (this.inputShapeNoBatch) this.build(this.inputShapeNoBatch);
    return this;
  }

  /** Creates every layer's parameters for inputs of this shape (without the batch). */
  build(inputShape: ShapeNoBatch): void {
    let shape: ShapeNoBatch = inputShape;
    for (const layer of this.layers) {
      layer.build(shape);
      shape = layer.outputShape(shape);
    }
    this.inputShapeNoBatch = [...inputShape];
  }

  get built(): boolean {
    return this.inputShapeNoBatch !== null;
  }

  /** The shape of one input example, once known. */
  get inputShape(): number[] | null {
    return this.inputShapeNoBatch ? [...this.inputShapeNoBatch] : null;
  }

  /** The output shape of each layer (without the batch). */
  outputShapes(): number[][] {
    const shapes: number[][] = [];
    let shape: ShapeNoBatch = this.requireBuilt("outputShapes");
    for (const layer of this.layers) {
      shape = layer.outputShape(shape);
      shapes.push([...shape]);
    }
    return shapes;
  }

  namedParameters(): NamedParameter[] {
    return this.layers.flatMap((l) => l.parameters());
  }

  parameters(): Tensor[] {
    return this.namedParameters().map((p) => p.tensor);
  }

  countParams(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** A Keras-style table of layers, output shapes and parameter counts; printed unless `print` is null. */
  summary(print: ((line: string) => void) | null = console.log): string {
    const shapes = this.outputShapes();
    const rows = this.layers.map((l, i) => [
      `${l.name} (${l.className})`,
      `(None, ${shapes[i].join(", ")})`,
      l.parameters().reduce((n, p) => n + p.tensor.size, 0).toLocaleString("en-US"),
    ]);
    const head = ["Layer (type)", "Output Shape", "Param #"];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)) + 2);
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("").trimEnd();
    const rule = "=".repeat(widths.reduce((a, b) => a + b, 0));
    const text = [
      'Model: "sequential"',
      rule,
      line(head),
      rule,
      ...rows.map(line),
      rule,
      `Total params: ${this.countParams().toLocaleString("en-US")}`,
      `Trainable params: ${this.countParams().toLocaleString("en-US")}`,
      "Non-trainable params: 0",
    ].join("\n");
    print?.(text);
    return text;
  }

  compile({ optimizer, loss }: { optimizer: Optimizer; loss: LossLike }): void {
    if (!optimizer || typeof optimizer.step !== "function") throw new Error("compile: optimizer must be an Optimizer (e.g. new Adam())");
    if (!loss || (typeof loss !== "function" && typeof loss.call !== "function")) {
      throw new Error("compile: loss must be a loss object with call(labels, predictions) or a function");
    }
    this.optimizer = optimizer;
    this.loss = loss;
  }

  /** The forward pass on a batch [N, ...inputShape], recorded on the tape. */
  apply(x: Tensor, context: CallContext = { training: false }): Tensor {
    if (!this.built) this.build(x.shape.slice(1));
    const expected = this.inputShapeNoBatch!;
    if (x.rank !== expected.length + 1 || x.shape.slice(1).some((d, i) => d !== expected[i])) {
      throw new Error(`Sequential: input has shape [${x.shape}], the model expects [batch, ${expected}]`);
    }
    let h = x;
    for (const layer of this.layers) h = layer.call(h, context);
    return h;
  }

  private computeLoss(labels: Labels, predictions: Tensor): Tensor {
    const loss = this.loss!;
    return typeof loss === "function" ? loss(labels, predictions) : loss.call(labels, predictions);
  }

  private toInput(x: Float32Array | Tensor, what: string): Tensor {
    const shape = this.requireBuilt(what);
    if (x instanceof Tensor) return x;
    const per = shape.reduce((a, b) => a * b, 1);
    if (x.length % per !== 0) throw new Error(`${what}: ${x.length} input values are not a whole number of examples of shape [${shape}] (${per} values each)`);
    return tensor(x, [x.length / per, ...shape]);
  }

  /** One optimizer step on one batch; returns the loss. */
  trainOnBatch(x: Float32Array | Tensor, labels: Labels): number {
    if (!this.optimizer || !this.loss) throw new Error("trainOnBatch: call compile({ optimizer, loss }) first");
    if (x instanceof Tensor && !this.built) this.build(x.shape.slice(1));
    const params = this.parameters();
    return tidy(() => {
      const input = this.toInput(x, "trainOnBatch");
      if (labels.length !== input.shape[0]) {
        throw new Error(`trainOnBatch: ${labels.length} labels for a batch of ${input.shape[0]} examples`);
      }
      const loss = this.computeLoss(labels, this.apply(input, { training: true }));
      const value = loss.item();
      if (!Number.isFinite(value)) return value; // the caller reports it; no update with a bad gradient
      zeroGrad(params);
      if (loss.requiresGrad) loss.backward();
      this.optimizer!.step(params);
      return value;
    });
  }

  /**
   * Trains on a dataset: an iterable of batches, iterated afresh each epoch (a Dataset reshuffles
   * each time). Stops with an error naming the epoch, step and first layer at a non-finite loss.
   */
  fit(dataset: Iterable<Batch>, { epochs = 1, initialEpoch = 0, callbacks = [] }: FitOptions = {}): History {
    if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`fit: epochs must be a positive integer, got ${epochs}`);
    const cbs = Array.isArray(callbacks) ? callbacks : [callbacks];
    const history: History = { lossPerEpoch: [], secondsPerEpoch: [], epochs: [] };
    this.stopTraining = false;
    cbs.forEach((c) => c.onTrainBegin?.());
    for (let epoch = initialEpoch; epoch < initialEpoch + epochs && !this.stopTraining; epoch++) {
      cbs.forEach((c) => c.onEpochBegin?.(epoch));
      const start = performance.now();
      let sum = 0;
      let steps = 0;
      let samples = 0;
      for (const batch of dataset) {
        const loss = this.trainOnBatch(batch.x, batch.labels);
        if (!Number.isFinite(loss)) throw new Error(this.describeNonFinite(loss, epoch, steps, batch));
        sum += loss;
        steps++;
        samples += batch.labels.length;
        const logs: BatchLogs = { epoch, step: steps, loss, meanLoss: sum / steps, samples };
        cbs.forEach((c) => c.onBatchEnd?.(logs));
        if (this.stopTraining) break;
      }
      const seconds = (performance.now() - start) / 1000;
      const logs: EpochLogs = { epoch, loss: steps ? sum / steps : NaN, steps, samples, seconds, samplesPerSecond: samples / seconds };
      history.lossPerEpoch.push(logs.loss);
      history.secondsPerEpoch.push(seconds);
      history.epochs.push(logs);
      cbs.forEach((c) => c.onEpochEnd?.(logs));
    }
    cbs.forEach((c) => c.onTrainEnd?.(history));
    return history;
  }

  /** Re-runs the failing batch layer by layer (only after a failure, so it costs nothing normally). */
  private describeNonFinite(loss: number, epoch: number, step: number, batch: Batch): string {
    const where = `fit: the loss became ${loss} at epoch ${epoch + 1}, step ${step + 1}`;
    const culprit = tidy(() =>
      noGrad(() => {
        let h = this.toInput(batch.x, "fit");
        if (!h.view().every(Number.isFinite)) return "the input batch itself has non-finite values";
        for (const p of this.namedParameters()) {
          if (!p.tensor.view().every(Number.isFinite)) return `parameter ${p.name} has non-finite values`;
        }
        for (const layer of this.layers) {
          h = layer.call(h, { training: true });
          if (!h.view().every(Number.isFinite)) return `the first non-finite output is that of layer ${layer.name} (${layer.className})`;
        }
        return "every layer's output is finite: the loss itself produced it";
      }),
    );
    return `${where}; ${culprit}. Training stopped; no update was applied for this step.`;
  }

  /** Inference without the tape, in batches; returns [N, ...outputShape] in the current scope. */
  predict(x: Float32Array | Tensor, { batchSize = 256 }: { batchSize?: number } = {}): Tensor {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`predict: batchSize must be a positive integer, got ${batchSize}`);
    const input = x instanceof Tensor ? x : null;
    const shape = input ? (this.built ? this.requireBuilt("predict") : (this.build(input.shape.slice(1)), input.shape.slice(1))) : this.requireBuilt("predict");
    const per = shape.reduce((a, b) => a * b, 1);
    const total = input ? input.shape[0] : (x as Float32Array).length / per;
    if (!Number.isInteger(total)) throw new Error(`predict: ${(x as Float32Array).length} input values are not a whole number of examples of shape [${shape}]`);
    const outShape = this.outputShapes().at(-1) ?? shape;
    const outPer = outShape.reduce((a, b) => a * b, 1);
    const out = Tensor.empty([total, ...outShape]);
    for (let start = 0; start < total; start += batchSize) {
      const n = Math.min(batchSize, total - start);
      tidy(() =>
        noGrad(() => {
          const batch = Tensor.empty([n, ...shape]);
          // The source view is made after the allocation, which may have grown memory.
          const source = input ? input.view() : (x as Float32Array);
          batch.view().set(source.subarray(start * per, (start + n) * per));
          const y = this.apply(batch, { training: false });
          out.view().set(y.view(), start * outPer);
        }),
      );
    }
    return out;
  }

  private requireBuilt(what: string): number[] {
    if (!this.inputShapeNoBatch) throw new Error(`${what}: the model is not built: give the first layer an inputShape, or call build(inputShape)`);
    return this.inputShapeNoBatch;
  }

  /** Writes model.json (topology) and weights.bin (little-endian float32) to `dir` (Node). */
  async save(dir: string): Promise<{ topologyPath: string; weightsPath: string }> {
    const { saveModel } = await import("./io.js");
    return saveModel(this, dir);
  }

  /** Loads a model written by `save` (Node). */
  static async load(dir: string): Promise<Sequential> {
    const { loadModel } = await import("./io.js");
    return loadModel(dir);
  }

  /**
   * Writes the model in the TensorFlow.js Layers format to `dir` (Node): model.json and
   * group1-shard1of1.bin, for tf.loadLayersModel. An L2Normalize layer needs the custom class from
   * `registerTfjsL2Normalize(tf)` on the TF.js side (see src/nn/tfjs.ts).
   */
  async exportTfjs(dir: string): Promise<{ modelJsonPath: string; weightsPath: string }> {
    const { exportTfjsModel } = await import("./io.js");
    return exportTfjsModel(this, dir);
  }

  /** Loads a TensorFlow.js Layers model (the folder of its model.json, or that file's path) (Node). */
  static async importTfjs(dir: string): Promise<Sequential> {
    const { importTfjsModel } = await import("./io.js");
    return importTfjsModel(dir);
  }

  /** Frees every parameter (and the optimizer's state). */
  dispose(): void {
    for (const l of this.layers) l.dispose();
    this.optimizer?.dispose();
  }
}
