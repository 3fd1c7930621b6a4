// Sequential: a stack of layers with Keras's compile / fit / trainOnBatch / predict / summary.
// One training step runs in one scope: forward, loss, backward and the optimizer's update, after
// which every temporary of the step is freed together.

import { Tensor, tensor, tidy } from "../autograd/tensor.js";
import { noGrad, zeroGrad } from "../autograd/tape.js";
import { kernels } from "../wasm/loader.js";
import type { CallContext, Layer, NamedParameter, ShapeNoBatch } from "./layers/layer.js";
import type { Optimizer } from "./optimizers/optimizer.js";

/**
 * @internal Whether apply() runs adjacent layers that have a fused op (Layer.fusedWith) as that
 * op. The fused ops give the same values and gradients; tests and benchmarks compare both ways.
 */
export const layerFusion = { enabled: true };

/** Labels for a batch: integers, one per example. */
export type Labels = Int32Array | readonly number[] | ArrayLike<number>;

/** Named figures about one batch (e.g. a triplet loss's share of active triplets); all finite. */
export type LossDiagnostics = Record<string, number>;

/**
 * A loss: a class with `call(labels, predictions)` (e.g. TripletSemiHardLoss) or a plain function.
 * A class may also offer `diagnostics` (figures about a batch, computed without the tape; null when
 * the batch has none) and `diagnosticsWarning` (a warning about an epoch's mean figures, or null).
 */
export type LossLike = {
  call(labels: Labels, predictions: Tensor): Tensor;
  getConfig?(): unknown;
  readonly className?: string;
  diagnostics?(labels: Labels, predictions: Tensor): LossDiagnostics | null;
  diagnosticsWarning?(diagnostics: LossDiagnostics, meanLoss: number): string | null;
} | ((labels: Labels, predictions: Tensor) => Tensor);

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
  /** Means of the loss's diagnostics over the sampled steps of the epoch (if the loss has them). */
  diagnostics?: LossDiagnostics;
  /** Warnings about the epoch (e.g. collapsed embeddings). */
  warnings?: string[];
}

export interface BatchLogs {
  epoch: number;
  step: number;
  loss: number;
  /** Mean loss of the epoch so far. */
  meanLoss: number;
  samples: number;
}

/**
 * Hooks into `fit`. A hook may return a promise: `fitAsync` waits for it before going on (e.g. to
 * write a checkpoint at the end of an epoch); `fit` does not. A hook that throws stops training.
 */
export interface Callbacks {
  /** Called first, with the model being trained (as Keras's `callback.model`). */
  setModel?(model: Sequential): void;
  onTrainBegin?(): void | Promise<void>;
  onEpochBegin?(epoch: number): void | Promise<void>;
  onBatchEnd?(logs: BatchLogs): void | Promise<void>;
  onEpochEnd?(logs: EpochLogs): void | Promise<void>;
  onTrainEnd?(history: History): void | Promise<void>;
}

export interface FitOptions {
  epochs?: number;
  /** Epoch to start counting from (resuming). */
  initialEpoch?: number;
  callbacks?: Callbacks | Callbacks[];
  /**
   * Compute the loss's diagnostics (if it has them) on every N-th step and on an epoch's last
   * step, from that step's own predictions (default 10; 0 turns them off).
   */
  diagnosticsEvery?: number;
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
    for (let i = 0; i < this.layers.length; i++) {
      const layer = this.layers[i];
      const fused = layerFusion.enabled && i + 1 < this.layers.length ? layer.fusedWith(this.layers.slice(i + 1)) : null;
      if (fused) {
        h = fused.call(h, context);
        i += fused.layers - 1;
      } else {
        h = layer.call(h, context);
      }
    }
    return h;
  }

  private computeLoss(labels: Labels, predictions: Tensor): Tensor {
    const loss = this.loss!;
    return typeof loss === "function" ? loss(labels, predictions) : loss.call(labels, predictions);
  }

  private toInput(x: Float32Array | Tensor, what: string): Tensor {
    const shape = this.requireBuilt(what);
    if (x instanceof Tensor) {
      checkFinite(what, x, x.shape.slice(1));
      return x;
    }
    if (!(x instanceof Float32Array)) throw new Error(`${what}: inputs must be a Float32Array or a Tensor, got ${describeValue(x)}`);
    const per = shape.reduce((a, b) => a * b, 1);
    if (x.length % per !== 0) throw new Error(`${what}: ${x.length} input values are not a whole number of examples of shape [${shape}] (${per} values each)`);
    // Copied first, then checked in wasm (the caller's scope frees the copy if it throws).
    const input = tensor(x, [x.length / per, ...shape]);
    checkFinite(what, input, shape);
    return input;
  }

  /** One optimizer step on one batch; returns the loss. */
  trainOnBatch(x: Float32Array | Tensor, labels: Labels): number {
    return this.trainStep(x, labels, "trainOnBatch", false).loss;
  }

  /**
   * One step: forward, loss, backward, update. The input batch and labels are checked first (one
   * pass each). With `diagnose`, the loss's diagnostics are computed from this step's predictions.
   * A non-finite loss returns without an update.
   */
  private trainStep(x: Float32Array | Tensor, labels: Labels, what: string, diagnose: boolean): { loss: number; diagnostics: LossDiagnostics | null } {
    if (!this.optimizer || !this.loss) throw new Error(`${what}: call compile({ optimizer, loss }) first`);
    if (x instanceof Tensor && !this.built) this.build(x.shape.slice(1));
    const params = this.parameters();
    return tidy(() => {
      const input = this.toInput(x, what);
      checkLabels(what, labels, input.shape[0]);
      const predictions = this.apply(input, { training: true });
      const lossObject = this.loss!;
      const diagnostics = diagnose && typeof lossObject !== "function" && lossObject.diagnostics
        ? noGrad(() => tidy(() => lossObject.diagnostics!(labels, predictions)))
        : null;
      // The output is checked too (one pass over [N, D]): the triplet kernels' comparisons turn
      // NaN distances into a finite loss (the margin) with NaN gradients, which would slip by.
      if (firstNonFiniteIn(predictions) >= 0) return { loss: NaN, diagnostics };
      const loss = this.computeLoss(labels, predictions);
      const value = loss.item();
      if (!Number.isFinite(value)) return { loss: value, diagnostics }; // the caller reports it; no update with a bad gradient
      // Freed, not zeroed: backward hands each parameter its gradient (no fill, no add).
      zeroGrad(params, { free: true });
      if (loss.requiresGrad) loss.backward();
      this.optimizer!.step(params);
      return { loss: value, diagnostics };
    });
  }

  /**
   * Trains on a dataset: an iterable of batches, iterated afresh each epoch (a Dataset reshuffles
   * each time). Checks the loss every step and stops with an error naming the epoch, step and first
   * layer at a non-finite loss (no update is applied for that step). Runs without returning to the
   * event loop; see `fitAsync` to let signals, timers and async callbacks run between steps.
   */
  fit(dataset: Iterable<Batch>, options: FitOptions = {}): History {
    const loop = this.fitLoop(dataset, options);
    let next = loop.next();
    while (!next.done) next = loop.next();
    return next.value;
  }

  /**
   * `fit` that returns to the event loop after every step (so a SIGINT handler, an AbortSignal or
   * a progress redraw can run) and waits for callbacks that return promises (e.g. checkpoint writes).
   * The same steps in the same order as `fit`: the same seed gives the same weights.
   */
  async fitAsync(dataset: Iterable<Batch>, options: FitOptions = {}): Promise<History> {
    const loop = this.fitLoop(dataset, options);
    let next = loop.next();
    while (!next.done) {
      await Promise.all(next.value);
      await yieldToEventLoop();
      next = loop.next();
    }
    return next.value;
  }

  /** The training loop; yields what the callbacks returned after each hook and each step. */
  private *fitLoop(dataset: Iterable<Batch>, { epochs = 1, initialEpoch = 0, callbacks = [], diagnosticsEvery = 10 }: FitOptions): Generator<unknown[], History, void> {
    if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`fit: epochs must be a positive integer, got ${epochs}`);
    if (!Number.isInteger(initialEpoch) || initialEpoch < 0) throw new Error(`fit: initialEpoch must be a non-negative integer, got ${initialEpoch}`);
    if (!Number.isInteger(diagnosticsEvery) || diagnosticsEvery < 0) throw new Error(`fit: diagnosticsEvery must be a non-negative integer, got ${diagnosticsEvery}`);
    if (!dataset || typeof (dataset as Iterable<Batch>)[Symbol.iterator] !== "function") {
      throw new Error(`fit: the dataset must be an iterable of { x, labels } batches (e.g. a Dataset), got ${describeValue(dataset)}`);
    }
    const cbs = Array.isArray(callbacks) ? callbacks : [callbacks];
    const history: History = { lossPerEpoch: [], secondsPerEpoch: [], epochs: [] };
    const size = Array.isArray(dataset) ? dataset.length : (dataset as { size?: number }).size;
    const stepsPerEpoch = typeof size === "number" && Number.isFinite(size) ? size : undefined;
    this.stopTraining = false;
    cbs.forEach((c) => c.setModel?.(this));
    yield cbs.map((c) => c.onTrainBegin?.());
    for (let epoch = initialEpoch; epoch < initialEpoch + epochs && !this.stopTraining; epoch++) {
      yield cbs.map((c) => c.onEpochBegin?.(epoch));
      const start = performance.now();
      let sum = 0;
      let steps = 0;
      let samples = 0;
      const diagnostics = new DiagnosticsMean();
      for (const batch of dataset) {
        const where = `fit: epoch ${epoch + 1}, step ${steps + 1}`;
        if (!batch || typeof batch !== "object" || !("x" in batch) || !("labels" in batch)) {
          throw new Error(`${where}: a batch must be { x, labels }, got ${describeValue(batch)}`);
        }
        const diagnose = diagnosticsEvery > 0 && ((steps + 1) % diagnosticsEvery === 0 || steps + 1 === stepsPerEpoch);
        const { loss, diagnostics: d } = this.trainStep(batch.x, batch.labels, where, diagnose);
        if (!Number.isFinite(loss)) throw new Error(this.describeNonFinite(loss, epoch, steps, batch));
        if (d) diagnostics.add(d);
        // Weights can go bad without a bad loss (a callback, a NaN gradient the loss did not see):
        // scan them now and then, and at every epoch's end, so no checkpoint holds them.
        if (diagnose) this.checkParameters(`epoch ${epoch + 1}, step ${steps + 1}`);
        sum += loss;
        steps++;
        samples += batch.labels.length;
        const logs: BatchLogs = { epoch, step: steps, loss, meanLoss: sum / steps, samples };
        yield cbs.map((c) => c.onBatchEnd?.(logs));
        if (this.stopTraining) break;
      }
      if (steps > 0) this.checkParameters(`the end of epoch ${epoch + 1} (step ${steps})`);
      const seconds = (performance.now() - start) / 1000;
      const logs: EpochLogs = { epoch, loss: steps ? sum / steps : NaN, steps, samples, seconds, samplesPerSecond: samples / seconds };
      const means = diagnostics.mean();
      if (means) {
        logs.diagnostics = means;
        const lossObject = this.loss;
        const warning = lossObject && typeof lossObject !== "function" ? lossObject.diagnosticsWarning?.(means, logs.loss) : null;
        if (warning) logs.warnings = [warning];
      }
      history.lossPerEpoch.push(logs.loss);
      history.secondsPerEpoch.push(seconds);
      history.epochs.push(logs);
      yield cbs.map((c) => c.onEpochEnd?.(logs));
    }
    yield cbs.map((c) => c.onTrainEnd?.(history));
    return history;
  }

  /** Throws naming the first parameter holding NaN or ±Infinity (one pass over the weights). */
  private checkParameters(when: string): void {
    for (const p of this.namedParameters()) {
      const bad = firstNonFiniteIn(p.tensor);
      if (bad >= 0) {
        throw new Error(`fit: parameter ${p.name} holds ${p.tensor.view()[bad]} at index ${bad} after ${when}, though every loss so far was finite. Training stopped; try a lower learning rate.`);
      }
    }
  }

  /** Re-runs the failing batch layer by layer (only after a failure, so it costs nothing normally). */
  private describeNonFinite(loss: number, epoch: number, step: number, batch: Batch): string {
    const where = `fit: the loss became ${loss} at epoch ${epoch + 1}, step ${step + 1}`;
    const culprit = tidy(() =>
      noGrad(() => {
        let h = this.toInput(batch.x, "fit");
        for (const p of this.namedParameters()) {
          if (firstNonFiniteIn(p.tensor) >= 0) return `parameter ${p.name} has non-finite values`;
        }
        for (const layer of this.layers) {
          h = layer.call(h, { training: true });
          const bad = firstNonFiniteIn(h);
          if (bad >= 0) return `the first non-finite output is that of layer ${layer.name} (${layer.className}): ${h.view()[bad]} at index ${bad} of its output [${h.shape}]`;
        }
        return "every layer's output is finite: the loss itself produced it";
      }),
    );
    return `${where}; ${culprit}. Training stopped; no update was applied for this step (try a lower learning rate).`;
  }

  /** Inference without the tape, in batches; returns [N, ...outputShape] in the current scope. */
  predict(x: Float32Array | Tensor, { batchSize = 256 }: { batchSize?: number } = {}): Tensor {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`predict: batchSize must be a positive integer, got ${batchSize}`);
    const input = x instanceof Tensor ? x : null;
    const shape = input ? (this.built ? this.requireBuilt("predict") : (this.build(input.shape.slice(1)), input.shape.slice(1))) : this.requireBuilt("predict");
    const per = shape.reduce((a, b) => a * b, 1);
    if (!input && !(x instanceof Float32Array)) throw new Error(`predict: inputs must be a Float32Array or a Tensor, got ${describeValue(x)}`);
    const total = input ? input.shape[0] : (x as Float32Array).length / per;
    if (!Number.isInteger(total)) throw new Error(`predict: ${(x as Float32Array).length} input values are not a whole number of examples of shape [${shape}]`);
    checkFinite("predict", input ?? (x as Float32Array), shape);
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

/** Index of the first NaN or ±Infinity, or -1. One pass: x·0 is 0 for finite x and NaN otherwise. */
export function firstNonFinite(values: ArrayLike<number>): number {
  let acc = 0;
  for (let i = 0; i < values.length; i++) acc += values[i] * 0;
  if (acc === 0) return -1;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

interface FiniteKernels {
  first_non_finite(x: number, n: number): number;
}

/** firstNonFinite of a tensor's values, in one SIMD pass in wasm (a step checks its input and output). */
function firstNonFiniteIn(t: Tensor): number {
  return kernels<FiniteKernels>().first_non_finite(t.ptr, t.size);
}

/** Throws naming the first non-finite input value, its example and its position in the example. */
function checkFinite(what: string, input: Tensor | ArrayLike<number>, exampleShape: readonly number[]): void {
  const bad = input instanceof Tensor ? firstNonFiniteIn(input) : firstNonFinite(input);
  if (bad < 0) return;
  const values = input instanceof Tensor ? input.view() : input;
  const per = Math.max(1, exampleShape.reduce((a, b) => a * b, 1));
  const example = Math.floor(bad / per);
  let rest = bad % per;
  const position = exampleShape.map((_, i) => {
    const stride = exampleShape.slice(i + 1).reduce((a, b) => a * b, 1);
    const p = Math.floor(rest / stride);
    rest %= stride;
    return p;
  });
  throw new Error(`${what}: the input batch has a non-finite value ${values[bad]} at index ${bad} (example ${example}, position [${position}] of [${exampleShape}]); inputs must be finite numbers`);
}

/** Labels: one integer per example. One pass. */
function checkLabels(what: string, labels: Labels, count: number): void {
  if (!labels || typeof (labels as ArrayLike<number>).length !== "number") throw new Error(`${what}: labels must be an array of integers, got ${describeValue(labels)}`);
  if (labels.length !== count) throw new Error(`${what}: ${labels.length} labels for a batch of ${count} examples, expected one label per example`);
  if (labels instanceof Int32Array || labels instanceof Uint8Array || labels instanceof Int16Array || labels instanceof Uint16Array || labels instanceof Int8Array) return;
  for (let i = 0; i < labels.length; i++) {
    if (!Number.isInteger(labels[i])) throw new Error(`${what}: label ${i} is ${labels[i]}, expected an integer class label`);
  }
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  return typeof value;
}

/** Running means of diagnostics over the sampled steps of an epoch. */
class DiagnosticsMean {
  private readonly sums = new Map<string, number>();
  private count = 0;

  add(d: LossDiagnostics): void {
    for (const [k, v] of Object.entries(d)) if (Number.isFinite(v)) this.sums.set(k, (this.sums.get(k) ?? 0) + v);
    this.count++;
  }

  mean(): LossDiagnostics | undefined {
    if (this.count === 0) return undefined;
    return Object.fromEntries([...this.sums].map(([k, v]) => [k, v / this.count]));
  }
}

/** Lets the event loop run (signal handlers, I/O); setImmediate in Node, a macrotask elsewhere. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === "function" ? setImmediate(resolve) : setTimeout(resolve, 0)));
}
