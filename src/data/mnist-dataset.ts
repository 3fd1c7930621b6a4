// Training batches from an MNIST split: the pipeline shuffles and batches example indices only,
// and a batch's pixels become float32 (value/255, NHWC) when that batch is built, so memory holds
// the bytes plus one batch rather than the whole set as floats.

import { Dataset } from "./dataset.js";
import type { Generator } from "../random.js";
import type { MnistSplit } from "./mnist.js";

export interface MnistBatch {
  /** count × height × width × channels pixels scaled to [0, 1]. */
  images: Float32Array;
  labels: Int32Array;
  count: number;
  /** [count, height, width, channels] (NHWC). */
  shape: [number, number, number, number];
  /** The examples' indices in the split. */
  indices: Int32Array;
}

export interface MnistDatasetOptions {
  /** Default 32. */
  batchSize?: number;
  /** Shuffle each epoch (default true). */
  shuffle?: boolean;
  /** Shuffle buffer (default: the split's size, a uniform permutation; the tutorial uses 1024). */
  bufferSize?: number;
  seed?: number;
  generator?: Generator;
  reshuffleEachIteration?: boolean;
  /** Drop a last batch smaller than batchSize (default false). */
  dropRemainder?: boolean;
  /**
   * Write every batch's images into one buffer, so that the next batch overwrites them (default
   * false): for loops that are done with a batch before taking the next, as `fit` is. Without it
   * each batch allocates its own 100 KB (at batch 32): the default 5-epoch train:mnist reached
   * 231 MiB of RSS before its UMAP picture that way, 209–215 MiB with it.
   */
  reuseBuffer?: boolean;
}

/** pixel value → value / 255 as float32, the same rounding as TF's `x / 255.` */
const SCALE = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/**
 * Builds the batch of the given examples of `split`. `into`: a buffer to write the images to
 * (reused across batches by callers that embed a whole split, so no garbage piles up); the batch's
 * images are then a view of its first count × pixels floats.
 */
export function toBatch(split: MnistSplit, indices: ArrayLike<number>, into?: Float32Array): MnistBatch {
  const count = indices.length;
  const pixels = split.height * split.width * split.channels;
  if (into && into.length < count * pixels) {
    throw new Error(`toBatch: the buffer holds ${into.length} floats, ${count} images of ${pixels} pixels need ${count * pixels}`);
  }
  const images = into ? into.subarray(0, count * pixels) : new Float32Array(count * pixels);
  const labels = new Int32Array(count);
  const picked = new Int32Array(count);
  for (let b = 0; b < count; b++) {
    const index = indices[b];
    if (!Number.isInteger(index) || index < 0 || index >= split.count) {
      throw new Error(`toBatch: index ${index} at position ${b} is outside the split's ${split.count} examples`);
    }
    picked[b] = index;
    labels[b] = split.labels[index];
    const from = index * pixels;
    const to = b * pixels;
    for (let p = 0; p < pixels; p++) images[to + p] = SCALE[split.images[from + p]];
  }
  return { images, labels, count, shape: [count, split.height, split.width, split.channels], indices: picked };
}

/** Shuffled (by default) batches of a split, each materialized only when reached. */
export function mnistDataset(split: MnistSplit, options: MnistDatasetOptions = {}): Dataset<MnistBatch> {
  const { batchSize = 32, shuffle = true, dropRemainder = false } = options;
  let indices = Dataset.range(split.count);
  if (shuffle) {
    indices = indices.shuffle(options.bufferSize ?? Math.max(1, split.count), {
      seed: options.seed,
      generator: options.generator,
      reshuffleEachIteration: options.reshuffleEachIteration,
    });
  }
  const buffer = options.reuseBuffer ? new Float32Array(batchSize * split.height * split.width * split.channels) : undefined;
  return indices.batch(batchSize, { dropRemainder }).map((batch) => toBatch(split, batch, buffer));
}
