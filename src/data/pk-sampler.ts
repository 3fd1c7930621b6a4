// Class-balanced batches for metric learning: each batch holds P classes × K examples, the shape
// that lets a triplet loss find positives and negatives for every anchor.

import { Dataset, forkGenerator } from "./dataset.js";
import { Generator, globalGenerator } from "../random.js";

export interface PkSamplerOptions {
  /** Classes per batch (distinct). */
  p: number;
  /** Examples per class per batch. */
  k: number;
  seed?: number;
  /** Ignored if `seed` is set; default: the global generator. */
  generator?: Generator;
  /** Batches per epoch; default floor(examples / (p·k)), at least 1. */
  batches?: number;
}

/**
 * Batches of p·k example indices, grouped by class: `k` indices of one class, then `k` of the
 * next. The p classes are drawn without replacement for each batch; within a class, the k examples
 * are distinct when it has at least k, else drawn with replacement.
 */
export function pkSampler(labels: ArrayLike<number>, options: PkSamplerOptions): Dataset<Int32Array> {
  const { p, k } = options;
  for (const [name, value] of [["p", p], ["k", k]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`pkSampler: ${name} must be a positive integer, got ${value}`);
  }
  if (labels.length === 0) throw new Error("pkSampler: no labels");

  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    let members = byClass.get(label);
    if (!members) byClass.set(label, (members = []));
    members.push(i);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  if (p > classes.length) {
    throw new Error(`pkSampler: p = ${p} classes per batch, but the labels have only ${classes.length} classes`);
  }
  const members = classes.map((label) => Int32Array.from(byClass.get(label)!));
  const batches = options.batches ?? Math.max(1, Math.floor(labels.length / (p * k)));
  if (!Number.isInteger(batches) || batches < 0) throw new Error(`pkSampler: batches must be a non-negative integer, got ${batches}`);

  const owner = options.seed !== undefined ? new Generator(options.seed) : options.generator ?? globalGenerator;
  function* epoch(): IterableIterator<Int32Array> {
    const random = forkGenerator(owner);
    // Partial Fisher-Yates on per-epoch copies: each epoch depends only on its own draws.
    const classOrder = Int32Array.from(classes.keys());
    const pools = members.map((m) => m.slice());
    for (let b = 0; b < batches; b++) {
      const batch = new Int32Array(p * k);
      for (let c = 0; c < p; c++) {
        swap(classOrder, c, c + random.nextInt(classOrder.length - c));
        const pool = pools[classOrder[c]];
        for (let j = 0; j < k; j++) {
          let pick: number;
          if (pool.length >= k) {
            swap(pool, j, j + random.nextInt(pool.length - j));
            pick = pool[j];
          } else {
            pick = pool[random.nextInt(pool.length)];
          }
          batch[c * k + j] = pick;
        }
      }
      yield batch;
    }
  }
  return Dataset.withGenerators(epoch, batches, [owner]);
}

function swap(array: Int32Array, i: number, j: number): void {
  const t = array[i];
  array[i] = array[j];
  array[j] = t;
}
