// Saving and loading a Sequential model in a folder (Node): model.json + weights.bin, and the
// TensorFlow.js Layers format (model.json + group1-shard1of1.bin) for exportTfjs / importTfjs.
// Files are written to a temporary name and renamed, so a crash never leaves half a model.

import { deserializeModel, serializeModel, type ModelTopology } from "./serialize.js";
import type { Sequential } from "./sequential.js";

const fsName = "node:fs/promises";
const pathName = "node:path";

async function nodeModules() {
  const fs = (await import(/* @vite-ignore */ fsName)) as typeof import("node:fs/promises");
  const path = (await import(/* @vite-ignore */ pathName)) as typeof import("node:path");
  return { fs, path };
}

/** Writes `data` to `file` atomically (temporary file, then rename). */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const { fs } = await nodeModules();
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}

export async function saveModel(model: Sequential, dir: string): Promise<{ topologyPath: string; weightsPath: string }> {
  const { fs, path } = await nodeModules();
  const { topology, weights } = serializeModel(model);
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (e) {
    throw new Error(`save: cannot create folder ${dir}: ${(e as Error).message}`);
  }
  const weightsPath = path.join(dir, "weights.bin");
  const topologyPath = path.join(dir, "model.json");
  await writeFileAtomic(weightsPath, weights);
  await writeFileAtomic(topologyPath, JSON.stringify(topology, null, 2));
  return { topologyPath, weightsPath };
}

export async function loadModel(dir: string): Promise<Sequential> {
  const { fs, path } = await nodeModules();
  const topologyPath = path.join(dir, "model.json");
  const weightsPath = path.join(dir, "weights.bin");
  let topology: ModelTopology;
  try {
    topology = JSON.parse(await fs.readFile(topologyPath, "utf8")) as ModelTopology;
  } catch (e) {
    throw new Error(`load: cannot read ${topologyPath}: ${(e as Error).message}`);
  }
  let weights: Uint8Array;
  try {
    weights = await fs.readFile(weightsPath);
  } catch (e) {
    throw new Error(`load: cannot read ${weightsPath}: ${(e as Error).message}`);
  }
  return deserializeModel(topology, weights, dir);
}

/**
 * Writes the model in the TensorFlow.js Layers format (Node): model.json (topology and weights
 * manifest) and group1-shard1of1.bin, loadable with tf.loadLayersModel (see src/nn/tfjs.ts).
 */
export async function exportTfjsModel(model: Sequential, dir: string): Promise<{ modelJsonPath: string; weightsPath: string }> {
  const { fs, path } = await nodeModules();
  const { toTfjsArtifacts, TFJS_WEIGHTS_FILE } = await import("./tfjs.js");
  const artifacts = toTfjsArtifacts(model);
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (e) {
    throw new Error(`exportTfjs: cannot create folder ${dir}: ${(e as Error).message}`);
  }
  const modelJson = {
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: artifacts.weightSpecs }],
  };
  const weightsPath = path.join(dir, TFJS_WEIGHTS_FILE);
  const modelJsonPath = path.join(dir, "model.json");
  await writeFileAtomic(weightsPath, new Uint8Array(artifacts.weightData));
  await writeFileAtomic(modelJsonPath, JSON.stringify(modelJson));
  return { modelJsonPath, weightsPath };
}

interface TfjsModelJson {
  format?: string;
  modelTopology?: unknown;
  weightsManifest?: { paths: string[]; weights: import("./tfjs.js").TfjsWeightSpec[] }[];
}

/**
 * Reads a TensorFlow.js Layers model (Node): `dir` is the folder holding model.json, or the path
 * of the .json file itself; the weight shards are read from the paths in its weights manifest.
 */
export async function importTfjsModel(dir: string): Promise<Sequential> {
  const { fs, path } = await nodeModules();
  const { fromTfjsArtifacts } = await import("./tfjs.js");
  const modelJsonPath = dir.endsWith(".json") ? dir : path.join(dir, "model.json");
  let json: TfjsModelJson;
  try {
    json = JSON.parse(await fs.readFile(modelJsonPath, "utf8")) as TfjsModelJson;
  } catch (e) {
    throw new Error(`importTfjs: cannot read ${modelJsonPath}: ${(e as Error).message}`);
  }
  if (json.format != null && json.format !== "layers-model") {
    throw new Error(`importTfjs: ${modelJsonPath} has format ${JSON.stringify(json.format)}; only "layers-model" (TensorFlow.js Layers) can be imported`);
  }
  if (json.modelTopology == null) throw new Error(`importTfjs: ${modelJsonPath} has no modelTopology`);
  const manifest = json.weightsManifest ?? [];
  if (!Array.isArray(manifest) || manifest.some((g) => !Array.isArray(g?.paths) || !Array.isArray(g?.weights))) {
    throw new Error(`importTfjs: ${modelJsonPath}: weightsManifest must be a list of { paths, weights }`);
  }
  const folder = path.dirname(modelJsonPath);
  const shards: ArrayBuffer[] = [];
  for (const file of manifest.flatMap((g) => g.paths)) {
    const shardPath = path.join(folder, file);
    try {
      const bytes = await fs.readFile(shardPath);
      shards.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    } catch (e) {
      throw new Error(`importTfjs: cannot read weights file ${shardPath} (listed in ${modelJsonPath}): ${(e as Error).message}`);
    }
  }
  return fromTfjsArtifacts({ modelTopology: json.modelTopology, weightSpecs: manifest.flatMap((g) => g.weights), weightData: shards }, modelJsonPath);
}
