// Weights moving to and from TensorFlow.js (Layers format): the same MNIST images give the same
// embeddings in wasmgrad and in tfjs-layers (CPU backend), both ways.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tfc from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import "@tensorflow/tfjs-backend-cpu";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Adam, Conv2D, Dense, fromTfjsArtifacts, globalGenerator, L2Normalize, loadMnist, manualSeed, registerTfjsL2Normalize, Sequential,
  tidy, toTfjsArtifacts, tripletTutorialModel, TripletSemiHardLoss, type TfjsModuleLike,
} from "../../src/index.js";
import { expectClose, setup } from "../helpers/setup.js";

const tf = { ...tfc, ...tfl } as unknown as TfjsModuleLike;
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "wasmgrad-tfjs-"));
  dirs.push(d);
  return d;
};

/** A TF.js IOHandler reading model.json and its weight shards from a folder. */
function fileHandler(dir: string): tfc.io.IOHandler {
  return {
    async load() {
      const json = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
      const groups = json.weightsManifest as tfc.io.WeightsManifestConfig;
      const shards = groups.flatMap((g) => g.paths.map((p) => new Uint8Array(readFileSync(join(dir, p)))));
      const data = new Uint8Array(shards.reduce((n, s) => n + s.length, 0));
      shards.reduce((offset, s) => (data.set(s, offset), offset + s.length), 0);
      return { modelTopology: json.modelTopology, format: json.format, weightSpecs: groups.flatMap((g) => g.weights), weightData: data.buffer };
    },
  };
}

/** A TF.js save handler writing what model.save hands over as model.json + one shard. */
function fileSaver(dir: string): tfc.io.IOHandler {
  return tfc.io.withSaveHandler(async (artifacts) => {
    const weightData = tfc.io.CompositeArrayBuffer.join(artifacts.weightData);
    writeFileSync(join(dir, "weights.bin"), new Uint8Array(weightData));
    const { modelTopology, format, generatedBy, convertedBy, weightSpecs } = artifacts;
    writeFileSync(join(dir, "model.json"), JSON.stringify({ modelTopology, format, generatedBy, convertedBy, weightsManifest: [{ paths: ["weights.bin"], weights: weightSpecs }] }));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  });
}

let images: Float32Array;

beforeAll(async () => {
  await setup();
  await tfc.setBackend("cpu");
  const { test } = await loadMnist({ limitTrain: 0, limitTest: 64 });
  images = Float32Array.from(test.images, (v) => v / 255);
});

afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tfjsEmbeddings(model: tfl.LayersModel, x: Float32Array): Float32Array {
  return tfc.tidy(() => (model.predict(tfc.tensor4d(x, [x.length / 784, 28, 28, 1])) as tfc.Tensor).dataSync() as Float32Array);
}

describe("TensorFlow.js Layers interop", () => {
  it("a trained model exported with exportTfjs gives the same embeddings in tf.loadLayersModel", async () => {
    manualSeed(11);
    const model = tripletTutorialModel();
    model.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: new TripletSemiHardLoss() });
    const x = Float32Array.from({ length: 32 * 784 }, () => globalGenerator.nextFloat());
    const labels = Int32Array.from({ length: 32 }, (_, i) => i % 4);
    for (let i = 0; i < 3; i++) model.trainOnBatch(x, labels);
    const biases = model.namedParameters().filter((p) => p.name.endsWith("/bias"));
    expect(biases.some((b) => b.tensor.toArray().some((v) => v !== 0))).toBe(true); // trained, not the init

    const dir = tempDir();
    const { modelJsonPath } = await model.exportTfjs(dir);
    const json = JSON.parse(readFileSync(modelJsonPath, "utf8"));
    expect(json.format).toBe("layers-model");
    expect(json.weightsManifest[0].paths).toEqual(["group1-shard1of1.bin"]);
    const conv = json.modelTopology.config.layers[0];
    expect(conv.class_name).toBe("Conv2D");
    expect(conv.config).toMatchObject({ filters: 64, kernel_size: [2, 2], strides: [1, 1], padding: "same", activation: "relu", use_bias: true, data_format: "channels_last", batch_input_shape: [null, 28, 28, 1] });
    expect(json.weightsManifest[0].weights[0]).toEqual({ name: `${model.layers[0].name}/kernel`, shape: [2, 2, 1, 64], dtype: "float32" });

    registerTfjsL2Normalize(tf);
    const loaded = await tfl.loadLayersModel(fileHandler(dir));
    expect(loaded.layers.map((l) => l.getClassName())).toEqual(model.layers.map((l) => l.className));
    const ours = tidy(() => model.predict(images).toArray());
    const theirs = tfjsEmbeddings(loaded, images);
    expect(ours.length).toBe(64 * 256);
    expectClose(theirs, ours, 1e-4, 0);

    // The pure artifacts load the same way, through tf.io.fromMemory.
    const fromMemory = await tfl.loadLayersModel(tfc.io.fromMemory(toTfjsArtifacts(model)));
    expectClose(tfjsEmbeddings(fromMemory, images.subarray(0, 4 * 784)), ours.subarray(0, 4 * 256), 1e-4, 0);
    loaded.dispose();
    fromMemory.dispose();
    model.dispose();
  });

  it("a model built and saved in TF.js imports with importTfjs and gives the same embeddings", async () => {
    const L2 = registerTfjsL2Normalize(tf);
    const tfModel = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ filters: 64, kernelSize: 2, padding: "same", activation: "relu", inputShape: [28, 28, 1] }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.dropout({ rate: 0.3 }),
        tfl.layers.conv2d({ filters: 32, kernelSize: 2, padding: "same", activation: "relu" }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.dropout({ rate: 0.3 }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 256 }),
        new L2({}) as unknown as tfl.layers.Layer,
      ],
    });
    // Non-zero biases too, so a bias lost on the way would show.
    tfModel.setWeights(tfModel.getWeights().map((w, i) => tfc.randomNormal(w.shape, 0, 0.1, "float32", 100 + i)));
    const dir = tempDir();
    await tfModel.save(fileSaver(dir));

    const model = await Sequential.importTfjs(dir);
    expect(model.layers.map((l) => l.className)).toEqual(["Conv2D", "MaxPooling2D", "Dropout", "Conv2D", "MaxPooling2D", "Dropout", "Flatten", "Dense", "L2Normalize"]);
    expect(model.countParams()).toBe(410208);
    expect((model.layers[0] as Conv2D).activation).toBe("relu");
    expect((model.layers[7] as Dense).activation).toBe("linear");
    const ours = tidy(() => model.predict(images).toArray());
    expectClose(ours, tfjsEmbeddings(tfModel, images), 1e-4, 0);
    const norms = Array.from({ length: 64 }, (_, i) => Math.hypot(...ours.subarray(i * 256, (i + 1) * 256)));
    expectClose(norms, new Array(64).fill(1), 1e-5, 0);
    model.dispose();
    tfModel.dispose();
  });

  it("round-trips through the artifacts and names what is wrong", async () => {
    manualSeed(12);
    const good = new Sequential([new Dense({ units: 3, inputShape: [4], activation: "relu" }), new L2Normalize({ epsilon: 1e-6 })]);
    const a = toTfjsArtifacts(good);
    const back = fromTfjsArtifacts(a);
    expect((back.layers[1] as L2Normalize).epsilon).toBe(1e-6);
    const x = Float32Array.from({ length: 8 }, (_, i) => i - 3);
    expectClose(tidy(() => back.predict(x).toArray()), tidy(() => good.predict(x).toArray()), 0, 0);

    const withLayer = (layer: object) => {
      const t = structuredClone(a.modelTopology) as { config: { layers: object[] } };
      t.config.layers.splice(1, 0, layer);
      return { ...a, modelTopology: t };
    };
    expect(() => fromTfjsArtifacts(withLayer({ class_name: "BatchNormalization", config: { name: "bn" } }), "m.json"))
      .toThrow('m.json: layer 1 "bn" (BatchNormalization): class BatchNormalization cannot be imported (supported: Conv2D, Dense, Dropout, Flatten, InputLayer, L2Normalize, MaxPooling2D)');
    expect(() => fromTfjsArtifacts(withLayer({ class_name: "Dense", config: { name: "d2", units: 4, activation: "tanh" } }), "m.json"))
      .toThrow('m.json: layer 1 "d2" (Dense): activation "tanh" is not supported (only "relu" and "linear")');
    expect(() => fromTfjsArtifacts({ ...a, weightData: a.weightData.slice(4) }, "m.json")).toThrow("m.json: the weight specs describe 60 bytes, the weight data has 56");
    const renamed = { ...a, weightSpecs: a.weightSpecs.map((s, i) => (i === 0 ? { ...s, name: "other/kernel" } : s)) };
    expect(() => fromTfjsArtifacts(renamed, "m.json")).toThrow(/m.json: no weight named dense\S*\/kernel in the weight specs/);
    const reshaped = { ...a, weightSpecs: a.weightSpecs.map((s, i) => (i === 0 ? { ...s, shape: [3, 4] } : s)) };
    expect(() => fromTfjsArtifacts(reshaped, "m.json")).toThrow(/weight dense\S*\/kernel has shape \[3,4\], layer parameter dense\S*\/kernel needs \[4,3\]/);
    expect(() => fromTfjsArtifacts({ ...a, modelTopology: { class_name: "Functional", config: {} } }, "m.json")).toThrow("m.json: the model is a Functional; only Sequential models can be imported");
    await expect(Sequential.importTfjs(join(tempDir(), "missing"))).rejects.toThrow(/importTfjs: cannot read .*missing.*model\.json/);
    good.dispose();
    back.dispose();
  });
});
