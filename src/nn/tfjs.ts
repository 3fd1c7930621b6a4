// A Sequential model as TensorFlow.js Layers-format artifacts (what `tf.io.fromMemory` takes and
// what `model.save(handler)` hands over), and back. Pure: no file system, no TF.js at run time.
// src/nn/io.ts writes and reads them as model.json + group1-shard1of1.bin in Node.
//
// The topology is the Keras Sequential config that tfjs-layers 4.22 writes: snake_case fields,
// `batch_input_shape` on the first layer, NHWC (`data_format: "channels_last"`), and weights named
// `<layer name>/kernel` and `<layer name>/bias` in layer order. Kernels already have the Keras
// layouts ([kh, kw, cin, cout], [in, out]), so weights move as-is.
//
// L2Normalize has no tfjs-layers (nor Keras) built-in: the tutorial uses a Python Lambda, which
// TF.js cannot load. It is exported as a custom layer of class name "L2Normalize" with config
// `{ axis: -1, epsilon }`. TF.js loads it once the user registers that class:
// `registerTfjsL2Normalize(tf)` from src/nn/tfjs-l2normalize.ts defines and registers it on the
// user's own TF.js module. Importing reads that same class name back.

import { Conv2D } from "./layers/conv2d.js";
import { Dense } from "./layers/dense.js";
import type { Layer } from "./layers/layer.js";
import { Dropout, Flatten, L2Normalize, MaxPooling2D } from "./layers/shape-layers.js";
import { Sequential } from "./sequential.js";

/** The tfjs-layers version whose format this writes (as `keras_version`, as tfjs-layers itself does). */
export const TFJS_LAYERS_VERSION = "4.22.0";
export const TFJS_WEIGHTS_FILE = "group1-shard1of1.bin";

/** One weight's entry in the manifest, as tf.io.WeightsManifestEntry. */
export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  /** Present on quantized weights (the converter's --quantize options); not supported here. */
  quantization?: { dtype: string; [key: string]: unknown };
  /** TF.js puts the optimizer's weights in group "optimizer" (model.save with includeOptimizer). */
  group?: string;
}

/** A Keras layer in a topology: `{ class_name, config }`. */
export interface KerasLayerJson {
  class_name: string;
  config: Record<string, unknown>;
}

/** The artifacts of a Layers model, compatible with tf.io.ModelArtifacts. */
export interface TfjsArtifacts {
  modelTopology: Record<string, unknown>;
  weightSpecs: TfjsWeightSpec[];
  weightData: ArrayBuffer;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

/** What `fromTfjsArtifacts` accepts: weightData may also be split (TF.js 4.x) or a byte view. */
export interface TfjsArtifactsInput {
  modelTopology?: unknown;
  weightSpecs?: TfjsWeightSpec[];
  weightData?: ArrayBuffer | ArrayBuffer[] | ArrayBufferView;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const glorotUniform = { class_name: "GlorotUniform", config: { seed: null } };
const zeros = { class_name: "Zeros", config: {} };

function kerasLayer(layer: Layer): KerasLayerJson {
  const base = { name: layer.name, trainable: true, dtype: "float32" };
  if (layer instanceof Conv2D) {
    return {
      class_name: "Conv2D",
      config: {
        ...base, filters: layer.filters, kernel_size: [...layer.kernelSize], strides: [...layer.strides], padding: layer.padding,
        data_format: "channels_last", dilation_rate: [1, 1], activation: layer.activation, use_bias: layer.useBias,
        kernel_initializer: glorotUniform, bias_initializer: zeros, kernel_regularizer: null, bias_regularizer: null,
        activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
      },
    };
  }
  if (layer instanceof Dense) {
    return {
      class_name: "Dense",
      config: {
        ...base, units: layer.units, activation: layer.activation, use_bias: layer.useBias,
        kernel_initializer: glorotUniform, bias_initializer: zeros, kernel_regularizer: null, bias_regularizer: null,
        activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
      },
    };
  }
  if (layer instanceof MaxPooling2D) {
    return {
      class_name: "MaxPooling2D",
      config: { ...base, pool_size: [...layer.poolSize], strides: [...layer.strides], padding: layer.padding, data_format: "channels_last" },
    };
  }
  if (layer instanceof Dropout) return { class_name: "Dropout", config: { ...base, rate: layer.rate, noise_shape: null, seed: null } };
  if (layer instanceof Flatten) return { class_name: "Flatten", config: { ...base, data_format: "channels_last" } };
  if (layer instanceof L2Normalize) return { class_name: "L2Normalize", config: { ...base, axis: -1, epsilon: layer.epsilon } };
  throw new Error(`exportTfjs: layer ${layer.name} has class ${layer.className}, which has no TensorFlow.js Layers equivalent here`);
}

/**
 * The model as TF.js Layers artifacts: `tf.loadLayersModel(tf.io.fromMemory(toTfjsArtifacts(model)))`
 * loads it (after `registerTfjsL2Normalize(tf)` if the model ends with L2Normalize).
 */
export function toTfjsArtifacts(model: Sequential): TfjsArtifacts & { format: "layers-model"; generatedBy: string; convertedBy: null } {
  const inputShape = model.inputShape;
  if (!inputShape) throw new Error("exportTfjs: the model is not built: give the first layer an inputShape, or call build(inputShape)");
  const layers = model.layers.map(kerasLayer);
  if (layers.length > 0) layers[0].config.batch_input_shape = [null, ...inputShape];
  const params = model.namedParameters();
  const weightSpecs: TfjsWeightSpec[] = params.map((p) => ({ name: p.name, shape: [...p.tensor.shape], dtype: "float32" }));
  const bytes = new Uint8Array(params.reduce((n, p) => n + 4 * p.tensor.size, 0));
  const view = new DataView(bytes.buffer);
  let offset = 0;
  for (const p of params) {
    const values = p.tensor.toArray();
    if (littleEndian) bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offset);
    else values.forEach((v, j) => view.setFloat32(offset + 4 * j, v, true));
    offset += values.byteLength;
  }
  return {
    format: "layers-model",
    generatedBy: "wasmgrad",
    convertedBy: null,
    modelTopology: {
      class_name: "Sequential",
      config: { name: "sequential", layers },
      keras_version: `tfjs-layers ${TFJS_LAYERS_VERSION}`,
      backend: "tensor_flow.js",
    },
    weightSpecs,
    weightData: bytes.buffer,
  };
}

const supported = ["Conv2D", "Dense", "Dropout", "Flatten", "InputLayer", "L2Normalize", "MaxPooling2D"];

type Config = Record<string, unknown>;

/** Reads one Keras layer config into a wasmgrad layer, naming the layer in every error. */
class LayerReader {
  constructor(private readonly where: string, private readonly config: Config) {}

  fail(what: string): never {
    throw new Error(`${this.where}: ${what}`);
  }

  pair(key: string, fallback?: [number, number]): [number, number] {
    const v = this.config[key];
    if (v == null) return fallback ?? this.fail(`${key} is missing`);
    const p = typeof v === "number" ? [v, v] : Array.isArray(v) ? v : null;
    if (!p || p.length !== 2 || p.some((d) => !Number.isInteger(d) || d < 1)) this.fail(`${key} must be a positive integer or a pair of them, got ${JSON.stringify(v)}`);
    return [p[0], p[1]];
  }

  positiveInteger(key: string): number {
    const v = this.config[key];
    if (!Number.isInteger(v) || (v as number) < 1) this.fail(`${key} must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  }

  padding(): "same" | "valid" {
    const v = this.config.padding ?? "valid";
    if (v !== "same" && v !== "valid") this.fail(`padding ${JSON.stringify(v)} is not supported (only "same" and "valid")`);
    return v;
  }

  activation(): "relu" | "linear" {
    const v = this.config.activation ?? "linear";
    if (v !== "relu" && v !== "linear") this.fail(`activation ${JSON.stringify(v)} is not supported (only "relu" and "linear")`);
    return v;
  }

  useBias(): boolean {
    const v = this.config.use_bias ?? true;
    if (typeof v !== "boolean") this.fail(`use_bias must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  channelsLast(): void {
    const v = this.config.data_format;
    if (v != null && v !== "channels_last") this.fail(`data_format ${JSON.stringify(v)} is not supported (only "channels_last", NHWC)`);
  }

  /** The shape of one example, if this layer declares one (batch_input_shape, or Keras 3's batch_shape). */
  inputShape(): number[] | null {
    const v = this.config.batch_input_shape ?? this.config.batch_shape;
    if (v == null) return null;
    if (!Array.isArray(v) || v.length < 2 || v.slice(1).some((d) => !Number.isInteger(d) || d < 1)) {
      this.fail(`batch_input_shape must be [batch, ...positive sizes], got ${JSON.stringify(v)}`);
    }
    return v.slice(1) as number[];
  }
}

function toLayer(className: string, r: LayerReader, c: Config): Layer {
  const name = c.name as string;
  switch (className) {
    case "Conv2D": {
      r.channelsLast();
      const dilation = r.pair("dilation_rate", [1, 1]);
      if (dilation[0] !== 1 || dilation[1] !== 1) r.fail(`dilation_rate [${dilation}] is not supported (only 1)`);
      if (c.groups != null && c.groups !== 1) r.fail(`groups ${JSON.stringify(c.groups)} is not supported (only 1)`);
      return new Conv2D({
        name, filters: r.positiveInteger("filters"), kernelSize: r.pair("kernel_size"), strides: r.pair("strides", [1, 1]),
        padding: r.padding(), activation: r.activation(), useBias: r.useBias(),
      });
    }
    case "Dense":
      return new Dense({ name, units: r.positiveInteger("units"), activation: r.activation(), useBias: r.useBias() });
    case "MaxPooling2D": {
      r.channelsLast();
      const poolSize = r.pair("pool_size", [2, 2]);
      return new MaxPooling2D({ name, poolSize, strides: r.pair("strides", poolSize), padding: r.padding() });
    }
    case "Dropout": {
      if (typeof c.rate !== "number" || !(c.rate >= 0 && c.rate < 1)) r.fail(`rate must be in [0, 1), got ${JSON.stringify(c.rate)}`);
      if (c.noise_shape != null) r.fail("noise_shape is not supported");
      return new Dropout({ name, rate: c.rate });
    }
    case "Flatten":
      r.channelsLast();
      return new Flatten({ name });
    case "L2Normalize": {
      if (c.axis != null && c.axis !== -1) r.fail(`axis ${JSON.stringify(c.axis)} is not supported (only -1, the last axis)`);
      const epsilon = c.epsilon ?? 1e-12;
      if (typeof epsilon !== "number" || !(epsilon > 0)) r.fail(`epsilon must be a positive number, got ${JSON.stringify(epsilon)}`);
      return new L2Normalize({ name, epsilon });
    }
    default:
      return r.fail(`class ${className} cannot be imported (supported: ${supported.join(", ")})`);
  }
}

/** Keras topologies come bare or wrapped ({ model_config, training_config }, as the Python converter writes). */
function sequentialLayers(topology: unknown, source: string): { layers: KerasLayerJson[]; buildInputShape: unknown } {
  let t = topology as Config | null;
  if (t && typeof t === "object" && t.model_config != null) t = t.model_config as Config;
  if (!t || typeof t !== "object" || typeof t.class_name !== "string") {
    throw new Error(`${source}: modelTopology is not a Keras model config ({ class_name, config })`);
  }
  if (t.class_name !== "Sequential") throw new Error(`${source}: the model is a ${t.class_name}; only Sequential models can be imported`);
  const config = t.config as Config | KerasLayerJson[] | undefined;
  // Old Keras wrote the layer list as the config itself.
  const layers = Array.isArray(config) ? config : config?.layers;
  if (!Array.isArray(layers)) throw new Error(`${source}: the Sequential config has no layers list`);
  return { layers: layers as KerasLayerJson[], buildInputShape: Array.isArray(config) ? undefined : config?.build_input_shape };
}

const joinBuffers = (data: TfjsArtifactsInput["weightData"]): Uint8Array | null => {
  if (data == null) return null;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.reduce((n, b) => n + b.byteLength, 0));
  let offset = 0;
  for (const b of data) {
    out.set(new Uint8Array(b), offset);
    offset += b.byteLength;
  }
  return out;
};

const bytesPerElement: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/**
 * A wasmgrad Sequential from TF.js Layers artifacts (tf.io.ModelArtifacts: modelTopology,
 * weightSpecs, weightData). Supports Conv2D, MaxPooling2D, Dropout, Flatten, Dense (relu or linear,
 * NHWC) and the custom L2Normalize layer; anything else throws an error naming the layer and class.
 * `source` names the origin (e.g. the model.json path) in error messages.
 */
export function fromTfjsArtifacts(artifacts: TfjsArtifactsInput, source = "TF.js model"): Sequential {
  if (!artifacts || typeof artifacts !== "object") throw new Error(`${source}: expected TF.js model artifacts { modelTopology, weightSpecs, weightData }`);
  const { layers: json, buildInputShape } = sequentialLayers(artifacts.modelTopology, source);
  let inputShape: number[] | null = null;
  const layers: Layer[] = [];
  json.forEach((entry, i) => {
    const config = (entry?.config ?? {}) as Config;
    const className = entry?.class_name;
    const name = typeof config.name === "string" ? config.name : `layer_${i}`;
    const r = new LayerReader(`${source}: layer ${i} "${name}" (${className})`, { ...config, name });
    if (typeof className !== "string") r.fail("has no class_name");
    if (typeof config.dtype === "string" && config.dtype !== "float32") r.fail(`dtype ${config.dtype} is not supported (only float32)`);
    const declared = r.inputShape();
    if (declared && !inputShape && layers.length === 0) inputShape = declared;
    if (className === "InputLayer") {
      if (layers.length > 0) r.fail("an InputLayer may only come first");
      if (!declared) r.fail("the InputLayer has no batch_input_shape");
      return;
    }
    layers.push(toLayer(className, r, { ...config, name }));
  });
  if (!inputShape && Array.isArray(buildInputShape)) inputShape = buildInputShape.slice(1) as number[];
  if (!inputShape) throw new Error(`${source}: the model has no input shape (batch_input_shape on the first layer)`);

  const model = new Sequential(layers);
  try {
    model.build(inputShape);
  } catch (e) {
    throw new Error(`${source}: the layers do not fit together for input shape [${inputShape}]: ${(e as Error).message}`);
  }
  try {
    loadWeights(model, artifacts, source);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

function loadWeights(model: Sequential, artifacts: TfjsArtifactsInput, source: string): void {
  const params = model.namedParameters();
  const specs = artifacts.weightSpecs ?? [];
  const data = joinBuffers(artifacts.weightData);
  if (!Array.isArray(specs)) throw new Error(`${source}: weightSpecs must be a list`);
  if (params.length > 0 && (!data || specs.length === 0)) throw new Error(`${source}: the model has ${params.length} weights but the artifacts carry no weights`);

  // Byte offsets follow the spec order; every spec must be readable to find the next one.
  const offsets = new Map<TfjsWeightSpec, number>();
  let offset = 0;
  for (const spec of specs) {
    if (spec.quantization) throw new Error(`${source}: weight ${spec.name} is quantized (${spec.quantization.dtype}); only float32 weights are supported`);
    const per = bytesPerElement[spec.dtype];
    if (per === undefined) throw new Error(`${source}: weight ${spec.name} has dtype ${spec.dtype}; only float32 weights are supported`);
    offsets.set(spec, offset);
    offset += per * spec.shape.reduce((a, b) => a * b, 1);
  }
  const byteLength = data?.byteLength ?? 0;
  if (offset !== byteLength) throw new Error(`${source}: the weight specs describe ${offset} bytes, the weight data has ${byteLength}`);

  const modelSpecs = specs.filter((s) => s.group !== "optimizer");
  const used = new Set<TfjsWeightSpec>();
  const view = data ? new DataView(data.buffer, data.byteOffset, data.byteLength) : null;
  for (const p of params) {
    // Exact name, else a nested one ("sequential/conv2d/kernel"), as tfjs-layers also accepts.
    const matches = modelSpecs.filter((s) => s.name === p.name);
    const candidates = matches.length ? matches : modelSpecs.filter((s) => s.name.endsWith(`/${p.name}`));
    if (candidates.length !== 1) {
      throw new Error(`${source}: ${candidates.length === 0 ? "no" : "more than one"} weight named ${p.name} in the weight specs (names: ${modelSpecs.map((s) => s.name).join(", ")})`);
    }
    const spec = candidates[0];
    if (spec.dtype !== "float32") throw new Error(`${source}: weight ${spec.name} has dtype ${spec.dtype}; only float32 weights are supported`);
    const shape = p.tensor.shape;
    if (spec.shape.length !== shape.length || spec.shape.some((d, j) => d !== shape[j])) {
      throw new Error(`${source}: weight ${spec.name} has shape [${spec.shape}], layer parameter ${p.name} needs [${shape}]`);
    }
    const start = offsets.get(spec)!;
    const values = new Float32Array(p.tensor.size);
    for (let j = 0; j < values.length; j++) values[j] = view!.getFloat32(start + 4 * j, true);
    p.tensor.set(values);
    used.add(spec);
  }
  const extra = modelSpecs.filter((s) => !used.has(s));
  if (extra.length) throw new Error(`${source}: weights ${extra.map((s) => s.name).join(", ")} belong to no layer of the model`);
}
