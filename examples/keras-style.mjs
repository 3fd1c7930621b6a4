import {
  init, loadMnist, mnistDataset, toBatch, tidy, retrievalMetrics, writeProjectorFiles,
  Sequential, Conv2D, MaxPooling2D, Dropout, Flatten, Dense, L2Normalize, Adam, TripletSemiHardLoss,
} from "wasmgrad";

await init(); // all cores; init({ threads: 1 }) for one
const { train, test } = await loadMnist({ limitTrain: 2048, limitTest: 500 });

const model = new Sequential([
  new Conv2D({ filters: 64, kernelSize: 2, padding: "same", activation: "relu", inputShape: [28, 28, 1] }),
  new MaxPooling2D({ poolSize: 2 }),
  new Dropout(0.3),
  new Conv2D({ filters: 32, kernelSize: 2, padding: "same", activation: "relu" }),
  new MaxPooling2D({ poolSize: 2 }),
  new Dropout(0.3),
  new Flatten(),
  new Dense({ units: 256 }),
  new L2Normalize(),
]);
model.compile({ optimizer: new Adam({ learningRate: 0.001 }), loss: new TripletSemiHardLoss({ margin: 1.0 }) });

const batches = mnistDataset(train, { batchSize: 32, bufferSize: 1024, seed: 1 }).map((b) => ({ x: b.images, labels: b.labels }));
const history = model.fit(batches, { epochs: 1 });
console.log("loss", history.lossPerEpoch[0].toFixed(3));

const all = toBatch(test, Array.from({ length: test.count }, (_, i) => i));
const embeddings = tidy(() => model.predict(all.images).toArray());
const { precisionAt1 } = retrievalMetrics(embeddings, all.labels, { dim: 256 });
console.log("precision@1", precisionAt1.toFixed(3));
writeProjectorFiles("runs/example", embeddings, 256, all.labels); // vecs.tsv, meta.tsv for projector.tensorflow.org
