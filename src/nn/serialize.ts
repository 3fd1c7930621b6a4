// A Sequential model as a JSON topology plus little-endian float32 weights, and back.
// Pure (no file system): src/nn/io.ts writes and reads these in Node.

import { Conv2D } from "./layers/conv2d.js";
import { Dense } from "./layers/dense.js";
import type { Layer } from "./layers/layer.js";
import { Dropout, Flatten, L2Normalize, MaxPooling2D } from "./layers/shape-layers.js";
import { Sequential } from "./sequential.js";

export const FORMAT = "wasmgrad-sequential";
export const FORMAT_VERSION = 1;

export interface WeightEntry {
  name: string;
  shape: number[];
  /** Offset into the weights buffer, in bytes. */
  offset: number;
}

export interface ModelTopology {
  format: typeof FORMAT;
  version: number;
  inputShape: number[];
  layers: { className: string; config: Record<string, unknown> }[];
  weights: WeightEntry[];
  /** Total bytes of the weights buffer. */
  byteLength: number;
}

type LayerConstructor = new (config: never) => Layer;
const registry = new Map<string, LayerConstructor>([
  ["Conv2D", Conv2D as LayerConstructor],
  ["Dense", Dense as LayerConstructor],
  ["MaxPooling2D", MaxPooling2D as LayerConstructor],
  ["Dropout", Dropout as LayerConstructor],
  ["Flatten", Flatten as LayerConstructor],
  ["L2Normalize", L2Normalize as LayerConstructor],
]);

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function serializeModel(model: Sequential): { topology: ModelTopology; weights: Uint8Array } {
  const inputShape = model.inputShape;
  if (!inputShape) throw new Error("save: the model is not built: give the first layer an inputShape, or call build(inputShape)");
  const params = model.namedParameters();
  const entries: WeightEntry[] = [];
  let offset = 0;
  for (const p of params) {
    entries.push({ name: p.name, shape: [...p.tensor.shape], offset });
    offset += p.tensor.size * 4;
  }
  const weights = new Uint8Array(offset);
  const view = new DataView(weights.buffer);
  params.forEach((p, i) => {
    const values = p.tensor.toArray();
    if (littleEndian) weights.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), entries[i].offset);
    else values.forEach((v, j) => view.setFloat32(entries[i].offset + 4 * j, v, true));
  });
  return {
    topology: {
      format: FORMAT,
      version: FORMAT_VERSION,
      inputShape,
      layers: model.layers.map((l) => ({ className: l.className, config: l.getConfig() })),
      weights: entries,
      byteLength: offset,
    },
    weights,
  };
}

export function deserializeModel(topology: ModelTopology, weights: Uint8Array, source = "model"): Sequential {
  if (!topology || topology.format !== FORMAT) throw new Error(`${source}: not a wasmgrad model (format ${JSON.stringify(topology?.format)}, expected "${FORMAT}")`);
  if (topology.version > FORMAT_VERSION) throw new Error(`${source}: format version ${topology.version} is newer than this wasmgrad reads (${FORMAT_VERSION})`);
  if (weights.byteLength !== topology.byteLength) {
    throw new Error(`${source}: the weights file has ${weights.byteLength} bytes, the topology says ${topology.byteLength}`);
  }
  const layers = topology.layers.map(({ className, config }, i) => {
    const Ctor = registry.get(className);
    if (!Ctor) throw new Error(`${source}: layer ${i} has unknown class ${JSON.stringify(className)} (known: ${[...registry.keys()].join(", ")})`);
    const { inputShape: _ignored, ...rest } = config;
    return new Ctor(rest as never);
  });
  const model = new Sequential(layers);
  model.build(topology.inputShape);
  const params = model.namedParameters();
  if (params.length !== topology.weights.length) {
    throw new Error(`${source}: the topology lists ${topology.weights.length} weights, the model has ${params.length}`);
  }
  const view = new DataView(weights.buffer, weights.byteOffset, weights.byteLength);
  params.forEach((p, i) => {
    const e = topology.weights[i];
    if (e.shape.length !== p.tensor.rank || e.shape.some((d, j) => d !== p.tensor.shape[j])) {
      throw new Error(`${source}: weight ${e.name} has shape [${e.shape}], layer parameter ${p.name} has [${p.tensor.shape}]`);
    }
    if (e.offset < 0 || e.offset + p.tensor.size * 4 > weights.byteLength) throw new Error(`${source}: weight ${e.name} lies outside the weights file`);
    const values = new Float32Array(p.tensor.size);
    for (let j = 0; j < values.length; j++) values[j] = view.getFloat32(e.offset + 4 * j, true);
    p.tensor.set(values);
  });
  return model;
}
