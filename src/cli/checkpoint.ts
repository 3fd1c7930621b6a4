// Checkpoints of a training run in <out>/checkpoint/: the weights and the optimizer's state (one
// binary file each, named by epoch), and checkpoint.json (epoch, settings, generator and data
// pipeline states, history, and each file's size and checksum). The binary files are written
// first, then checkpoint.json is renamed into place: that rename is the commit, so a crash or an
// interrupt at any moment leaves the previous checkpoint whole. Files of older epochs go last.

import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { DatasetState } from "../data/dataset.js";
import { writeFileAtomic } from "../nn/io.js";
import type { Optimizer } from "../nn/optimizers/optimizer.js";
import type { Sequential } from "../nn/sequential.js";
import type { GeneratorState } from "../random.js";

export const CHECKPOINT_FOLDER = "checkpoint";
export const CHECKPOINT_MANIFEST = "checkpoint.json";
const FORMAT = "wasmgrad-checkpoint";

interface FileRef {
  file: string;
  bytes: number;
  /** FNV-1a (32-bit) of the bytes, hex. */
  fnv1a: string;
}

export interface CheckpointHistory {
  lossPerEpoch: number[];
  secondsPerEpoch: number[];
  stepsPerEpoch: number[];
  samplesPerEpoch: number[];
  diagnosticsPerEpoch: (Record<string, number> | null)[];
}

export interface CheckpointManifest {
  format: typeof FORMAT;
  version: 1;
  /** Epochs completed; training resumes at this epoch index. */
  epoch: number;
  /** Training settings that a resumed run must share (batch size, learning rate, seed, ...). */
  settings: Record<string, unknown>;
  /** The command-line flags of the run (for `--resume`). */
  args: Record<string, unknown>;
  parameters: { name: string; shape: number[] }[];
  weights: FileRef;
  optimizer: FileRef & { className: string; config: Record<string, number>; iterations: number; slotsPerParameter: number[] };
  globalGenerator: GeneratorState;
  dataset: DatasetState;
  history: CheckpointHistory;
  writtenAt: string;
}

export interface CheckpointContents {
  manifest: CheckpointManifest;
  weights: Float32Array;
  optimizerValues: Float32Array;
}

export interface CheckpointState {
  model: Sequential;
  optimizer: Optimizer;
  epoch: number;
  settings: Record<string, unknown>;
  args: Record<string, unknown>;
  globalGenerator: GeneratorState;
  dataset: DatasetState;
  history: CheckpointHistory;
}

export function checkpointFolder(out: string): string {
  return join(out, CHECKPOINT_FOLDER);
}

function fnv1a(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

function concat(arrays: Float32Array[]): Float32Array {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

// Float32Array bytes in the platform's order: little-endian on every platform Node and browsers run on.
const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Writes the checkpoint of `out` atomically; returns the path of its checkpoint.json. */
export async function writeCheckpoint(out: string, state: CheckpointState): Promise<string> {
  const dir = checkpointFolder(out);
  await mkdir(dir, { recursive: true });
  const named = state.model.namedParameters();
  const params = named.map((p) => p.tensor);
  const weights = concat(params.map((p) => p.toArray()));
  const optimizerState = state.optimizer.getState(params);
  const optimizerValues = concat(optimizerState.slots.flat());
  const tag = `epoch${String(state.epoch).padStart(4, "0")}`;
  const files = { weights: `weights-${tag}.bin`, optimizer: `optimizer-${tag}.bin` };
  await writeFileAtomic(join(dir, files.weights), bytesOf(weights));
  await writeFileAtomic(join(dir, files.optimizer), bytesOf(optimizerValues));
  const manifest: CheckpointManifest = {
    format: FORMAT,
    version: 1,
    epoch: state.epoch,
    settings: state.settings,
    args: state.args,
    parameters: named.map((p) => ({ name: p.name, shape: [...p.tensor.shape] })),
    weights: { file: files.weights, bytes: weights.byteLength, fnv1a: fnv1a(bytesOf(weights)) },
    optimizer: {
      file: files.optimizer,
      bytes: optimizerValues.byteLength,
      fnv1a: fnv1a(bytesOf(optimizerValues)),
      className: optimizerState.className,
      config: optimizerState.config,
      iterations: optimizerState.iterations,
      slotsPerParameter: optimizerState.slots.map((s) => s.length),
    },
    globalGenerator: state.globalGenerator,
    dataset: state.dataset,
    history: state.history,
    writtenAt: new Date().toISOString(),
  };
  const manifestPath = join(dir, CHECKPOINT_MANIFEST);
  await writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2));
  // Only now may the previous epoch's files (and temporaries of an earlier crash) go.
  for (const name of await readdir(dir)) {
    const stale = (/^(weights|optimizer)-epoch\d+\.bin$/.test(name) && name !== files.weights && name !== files.optimizer) || name.includes(".tmp-");
    if (stale) await rm(join(dir, name), { force: true });
  }
  return manifestPath;
}

/** Reads and verifies the checkpoint of `out` (sizes and checksums), naming the file at fault. */
export async function readCheckpoint(out: string): Promise<CheckpointContents> {
  const dir = checkpointFolder(out);
  const manifestPath = join(dir, CHECKPOINT_MANIFEST);
  let text: string;
  try {
    text = await readFile(manifestPath, "utf8");
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === "ENOENT";
    throw new Error(missing
      ? `no checkpoint in ${out}: ${manifestPath} does not exist (a run writes one at the end of every epoch)`
      : `cannot read ${manifestPath}: ${(e as Error).message}`);
  }
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(text) as CheckpointManifest;
  } catch (e) {
    throw new Error(`${manifestPath} is not valid JSON: ${(e as Error).message}`);
  }
  if (manifest?.format !== FORMAT || manifest.version !== 1) {
    throw new Error(`${manifestPath} is not a wasmgrad checkpoint (format ${JSON.stringify(manifest?.format)} version ${JSON.stringify(manifest?.version)}, expected "${FORMAT}" version 1)`);
  }
  const load = async (ref: FileRef): Promise<Float32Array> => {
    const path = join(dir, ref.file);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (e) {
      throw new Error(`checkpoint file ${path} (listed in ${manifestPath}) cannot be read: ${(e as Error).message}`);
    }
    if (bytes.length !== ref.bytes) throw new Error(`checkpoint file ${path} has ${bytes.length} bytes, ${manifestPath} says ${ref.bytes}: it is truncated or from another run`);
    const sum = fnv1a(bytes);
    if (sum !== ref.fnv1a) throw new Error(`checkpoint file ${path} is corrupt: checksum ${sum}, ${manifestPath} says ${ref.fnv1a}`);
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    return new Float32Array(copy.buffer);
  };
  return { manifest, weights: await load(manifest.weights), optimizerValues: await load(manifest.optimizer) };
}

/** Puts a checkpoint's weights and optimizer state into a model built with the same layers. */
export function restoreCheckpoint(contents: CheckpointContents, model: Sequential, optimizer: Optimizer): void {
  const { manifest, weights, optimizerValues } = contents;
  const named = model.namedParameters();
  const where = `checkpoint (epoch ${manifest.epoch})`;
  if (named.length !== manifest.parameters.length) {
    throw new Error(`${where} has ${manifest.parameters.length} parameters, the model has ${named.length}`);
  }
  let at = 0;
  named.forEach((p, i) => {
    const saved = manifest.parameters[i];
    // Layer names carry a per-process counter (conv2d_2): compare the weight's own name and shape.
    const own = (name: string) => name.slice(name.lastIndexOf("/") + 1);
    if (own(saved.name) !== own(p.name) || saved.shape.join() !== p.tensor.shape.join()) {
      throw new Error(`${where}: parameter ${i} is ${saved.name} [${saved.shape}], the model's is ${p.name} [${p.tensor.shape}]`);
    }
    p.tensor.set(weights.subarray(at, at + p.tensor.size));
    at += p.tensor.size;
  });
  if (at !== weights.length) throw new Error(`${where}: the weights file has ${weights.length} values, the model ${at}`);

  const o = manifest.optimizer;
  if (o.className !== optimizer.className) throw new Error(`${where} holds ${o.className} state, the run uses ${optimizer.className}`);
  for (const [key, value] of Object.entries(optimizer.getConfig())) {
    if (o.config[key] !== value) throw new Error(`${where}: the optimizer's ${key} was ${o.config[key]}, the run asks for ${value}`);
  }
  const slots: Float32Array[][] = [];
  let offset = 0;
  named.forEach((p, i) => {
    const list: Float32Array[] = [];
    for (let s = 0; s < (o.slotsPerParameter[i] ?? 0); s++) {
      list.push(optimizerValues.subarray(offset, offset + p.tensor.size));
      offset += p.tensor.size;
    }
    slots.push(list);
  });
  if (offset !== optimizerValues.length) throw new Error(`${where}: the optimizer file has ${optimizerValues.length} values, expected ${offset}`);
  optimizer.setState(named.map((p) => p.tensor), { className: o.className, config: o.config, iterations: o.iterations, slots });
}
