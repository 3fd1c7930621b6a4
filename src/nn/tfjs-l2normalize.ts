// The "L2Normalize" custom layer for TensorFlow.js, so that models exported by `exportTfjs` (which
// end with L2Normalize) load with `tf.loadLayersModel`. wasmgrad does not depend on TF.js: the class
// is defined on the TF.js module the caller passes in.

/** A TF.js tensor (opaque here: only TF.js ops touch it). */
type TfTensor = { readonly shape: number[] };

/** The base class of tfjs-layers layers (tf.layers.Layer), as far as this layer uses it. */
interface TfLayerBase {
  getConfig(): Record<string, unknown>;
}

/**
 * The parts of TF.js this needs: `@tensorflow/tfjs` itself, or, with the split packages,
 * `{ ...tfjsCore, ...tfjsLayers }` (or `{ layers: tfl.layers, serialization: tfc.serialization, tidy: tfc.tidy }`).
 */
export interface TfjsModuleLike {
  layers: { Layer: new (config: Record<string, unknown>) => TfLayerBase };
  serialization: { registerClass(cls: unknown): void };
  tidy<T>(fn: () => T): T;
  // Functions, not tensor methods: tfjs-core alone does not register the chained ops.
  square(x: TfTensor): TfTensor;
  sum(x: TfTensor, axis: number, keepDims: boolean): TfTensor;
  maximum(a: TfTensor, b: number): TfTensor;
  sqrt(x: TfTensor): TfTensor;
  div(a: TfTensor, b: TfTensor): TfTensor;
}

export interface L2NormalizeLayerConfig {
  /** Only -1 (the last axis). */
  axis?: number;
  /** Lower bound of the squared norm (default 1e-12, as tf.math.l2_normalize). */
  epsilon?: number;
  name?: string;
  inputShape?: number[];
  [key: string]: unknown;
}

const registered = new WeakMap<object, unknown>();

/**
 * Defines the tfjs-layers class `L2Normalize` (y = x / sqrt(max(Σx², ε)) over the last axis, like
 * wasmgrad's L2Normalize and tf.math.l2_normalize), registers it with
 * `tf.serialization.registerClass`, and returns it (`new L2Normalize({})` adds it to a tf.sequential).
 * Call once before `tf.loadLayersModel` on a model exported by wasmgrad; later calls with the same
 * module return the same class.
 */
export function registerTfjsL2Normalize(tf: TfjsModuleLike): new (config?: L2NormalizeLayerConfig) => TfLayerBase {
  const ops = ["tidy", "square", "sum", "maximum", "sqrt", "div"] as const;
  if (!tf?.layers?.Layer || typeof tf.serialization?.registerClass !== "function" || ops.some((op) => typeof tf[op] !== "function")) {
    throw new Error(`registerTfjsL2Normalize: expected the TF.js module (with layers.Layer, serialization.registerClass, ${ops.join(", ")}), e.g. @tensorflow/tfjs`);
  }
  // Keyed by the registry, which stays the same however the caller assembles the module.
  const known = registered.get(tf.serialization);
  if (known) return known as new (config?: L2NormalizeLayerConfig) => TfLayerBase;
  const Base = tf.layers.Layer;
  class L2Normalize extends Base {
    static className = "L2Normalize";
    readonly axis: number;
    readonly epsilon: number;

    constructor(config: L2NormalizeLayerConfig = {}) {
      const { axis = -1, epsilon = 1e-12, ...rest } = config;
      super(rest);
      if (axis !== -1) throw new Error(`L2Normalize: axis ${axis} is not supported; only -1 (the last axis) is`);
      if (typeof epsilon !== "number" || !(epsilon > 0)) throw new Error(`L2Normalize: epsilon must be a positive number, got ${epsilon}`);
      this.axis = axis;
      this.epsilon = epsilon;
    }

    computeOutputShape(inputShape: number[]): number[] {
      return inputShape;
    }

    call(inputs: TfTensor | TfTensor[]): TfTensor {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return tf.tidy(() => tf.div(x, tf.sqrt(tf.maximum(tf.sum(tf.square(x), -1, true), this.epsilon))));
    }

    override getConfig(): Record<string, unknown> {
      return { ...super.getConfig(), axis: this.axis, epsilon: this.epsilon };
    }
  }
  tf.serialization.registerClass(L2Normalize);
  registered.set(tf.serialization, L2Normalize);
  return L2Normalize;
}
