// The demo's training worker: loads an MNIST slice, trains the tutorial's model with wasmgrad,
// embeds the test slice and lays it out in 2-D, posting progress to the page as it goes.
// The page stays responsive because all of this runs here; the worker yields to its event loop
// every few steps so that a "stop" message is seen.

import {
  Adam, TripletSemiHardLoss, formatFloat32, init, loadMnist, manualSeed, memoryStats, mnistDataset,
  retrievalMetrics, tidy, tripletTutorialModel, umap2d,
} from "/dist/src/index.js";

let stopRequested = false;
let running = false;

const post = (message, transfer = []) => self.postMessage(message, transfer);

// Instantiating the kernels at start-up tells the page whether they run here: the module uses
// v128 instructions throughout, so it compiles only where WebAssembly SIMD is supported.
const kernelsReady = init().then(
  () => post({ type: "kernels", ok: true }),
  (error) => post({ type: "kernels", ok: false, message: String(error?.message ?? error) }),
);

self.onmessage = (event) => {
  const { type } = event.data;
  if (type === "stop") stopRequested = true;
  if (type === "start" && !running) {
    running = true;
    stopRequested = false;
    train(event.data.config)
      .catch((error) => post({ type: "error", message: String(error?.stack ?? error) }))
      .finally(() => { running = false; });
  }
};

const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

function mnistUrls() {
  const at = (file) => new URL(`/mnist/${file}`, self.location.href).href;
  return {
    trainImages: at("train-images-idx3-ubyte"),
    trainLabels: at("train-labels-idx1-ubyte"),
    testImages: at("t10k-images-idx3-ubyte"),
    testLabels: at("t10k-labels-idx1-ubyte"),
  };
}

async function train(config) {
  const { limitTrain, limitTest, batchSize, epochs, learningRate, seed, postEvery, umapEpochs } = config;
  await kernelsReady;
  manualSeed(seed);
  const timings = {};
  let t = performance.now();

  post({ type: "phase", phase: "loading", text: "loading MNIST…" });
  const { train, test } = await loadMnist({ urls: mnistUrls(), limitTrain, limitTest });
  timings.loadSeconds = (performance.now() - t) / 1000;
  const stepsPerEpoch = Math.ceil(train.count / batchSize);
  post({ type: "data", trainCount: train.count, testCount: test.count, stepsPerEpoch, totalSteps: stepsPerEpoch * epochs });

  // As the tutorial: Adam, TripletSemiHardLoss (margin 1, L2), shuffle(1024).batch(n).
  const model = tripletTutorialModel([train.height, train.width, train.channels]);
  model.compile({ optimizer: new Adam({ learningRate }), loss: new TripletSemiHardLoss() });
  const batches = mnistDataset(train, { batchSize, bufferSize: 1024, seed });

  post({ type: "phase", phase: "training", text: "training…" });
  t = performance.now();
  let step = 0;
  let samples = 0;
  let pending = [];
  training: for (let epoch = 0; epoch < epochs; epoch++) {
    for (const batch of batches) {
      const loss = model.trainOnBatch(batch.images, batch.labels);
      if (!Number.isFinite(loss)) throw new Error(`loss is ${loss} at epoch ${epoch + 1}, step ${step + 1}`);
      pending.push(loss);
      step++;
      samples += batch.count;
      if (step % postEvery === 0) {
        const seconds = (performance.now() - t) / 1000;
        post({ type: "progress", step, epoch, losses: pending, samplesPerSecond: samples / seconds });
        pending = [];
        await nextTask();
        if (stopRequested) break training;
      }
    }
  }
  timings.trainSeconds = (performance.now() - t) / 1000;
  post({ type: "progress", step, epoch: epochs - 1, losses: pending, samplesPerSecond: samples / timings.trainSeconds, stopped: stopRequested });

  post({ type: "phase", phase: "evaluating", text: `embedding ${test.count} test images…` });
  t = performance.now();
  const embeddings = embed(model, test);
  const dim = embeddings.length / test.count;
  timings.embedSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const metrics = retrievalMetrics(embeddings, test.labels, { dim, metric: "L2" });
  timings.metricsSeconds = (performance.now() - t) / 1000;
  post({ type: "metrics", metrics, timings });

  post({ type: "phase", phase: "layout", text: "laying the test embeddings out in 2-D…" });
  await nextTask();
  t = performance.now();
  const points = umap2d(embeddings, dim, { seed, nEpochs: umapEpochs });
  const method = "UMAP";
  const note = null;
  timings.layoutSeconds = (performance.now() - t) / 1000;

  const vecs = toVecsTsv(embeddings, dim);
  const meta = Array.from(test.labels, String).join("\n") + "\n";
  const labels = Int32Array.from(test.labels);
  post({
    type: "done", points, labels, method, note, vecs, meta, metrics, timings,
    steps: step, stopped: stopRequested, memory: memoryStats(),
  }, [points.buffer, labels.buffer]);
}

/** Embeds a split in batches without the tape (as the Node job's embed()). */
function embed(model, split, batchSize = 250) {
  const dim = model.outputShapes().at(-1).reduce((a, b) => a * b, 1);
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


/** The projector's vecs.tsv: one row of tab-separated numbers per point, no header. */
function toVecsTsv(embeddings, dim) {
  const lines = [];
  const cells = new Array(dim);
  for (let i = 0; i < embeddings.length / dim; i++) {
    for (let j = 0; j < dim; j++) cells[j] = formatFloat32(embeddings[i * dim + j]);
    lines.push(cells.join("\t"));
  }
  return lines.join("\n") + "\n";
}
