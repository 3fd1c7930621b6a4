// Saving and loading a Sequential model in a folder (Node): model.json + weights.bin.
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
