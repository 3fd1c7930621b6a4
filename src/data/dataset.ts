// Dataset: a lazy, re-iterable pipeline in the manner of tf.data. Nothing runs until iterated; each
// `[Symbol.iterator]()` call is one epoch, computed afresh from the source (so a shuffle reshuffles).
//
// Randomness: a shuffle owns a Generator (seeded, given, or the global one). At the start of each
// epoch it draws a fresh per-epoch generator from it, so an epoch's order depends only on the
// owner's state when the epoch began — not on what else draws from the owner meanwhile — and
// `state()`/`restore()` of the owners resumes a run exactly (see `state`).

import { Generator, globalGenerator, type GeneratorState } from "../random.js";

export interface ShuffleOptions {
  /** Seeds a generator owned by this shuffle; same seed, same sequence of epochs. */
  seed?: number;
  /** Draw from this generator instead (default: the global generator). Ignored if `seed` is set. */
  generator?: Generator;
  /** A new order every epoch (default true); false repeats the first epoch's order. */
  reshuffleEachIteration?: boolean;
}

export interface BatchOptions {
  /** Drop the last batch if it is smaller than the batch size (default false: keep it). */
  dropRemainder?: boolean;
}

/** The states of the generators a pipeline draws from, in pipeline order. */
export interface DatasetState {
  generators: GeneratorState[];
}

type ColumnElements<C> = { [K in keyof C]: C[K] extends ArrayLike<infer E> ? E : never };

export class Dataset<T> implements Iterable<T> {
  /** Number of elements: Infinity for an endless repeat, undefined when not known in advance. */
  readonly size: number | undefined;
  private readonly make: () => Iterator<T>;
  /** Generators of the random steps in this pipeline, for state()/restore(). */
  private readonly generators: readonly Generator[];

  private constructor(make: () => Iterator<T>, size: number | undefined, generators: readonly Generator[] = []) {
    this.make = make;
    this.size = size;
    this.generators = generators;
  }

  /** A dataset over whatever `factory` returns; it is called once per epoch. */
  static from<T>(factory: () => Iterable<T>, size?: number): Dataset<T> {
    if (typeof factory !== "function") throw new Error(`Dataset.from: expected a function returning an iterable, got ${typeof factory}`);
    if (size !== undefined) checkCount("Dataset.from", "size", size, true);
    return new Dataset(() => factory()[Symbol.iterator](), size);
  }

  /** The elements of an array (read lazily: later changes to it show in later epochs). */
  static fromArray<T>(items: ArrayLike<T>): Dataset<T> {
    return new Dataset(function* () {
      for (let i = 0; i < items.length; i++) yield items[i];
    }, items.length);
  }

  /**
   * Zips equally long arrays: `fromArrays({ x, y })` yields `{ x: x[i], y: y[i] }`,
   * `fromArrays(x, y)` yields `[x[i], y[i]]` (like tf.data's from_tensor_slices).
   */
  static fromArrays<C extends Record<string, ArrayLike<unknown>>>(columns: C): Dataset<ColumnElements<C>>;
  static fromArrays<C extends ArrayLike<unknown>[]>(...arrays: C): Dataset<ColumnElements<C>>;
  static fromArrays(...args: unknown[]): Dataset<unknown> {
    const isRecord = args.length === 1 && !isArrayLike(args[0]);
    const columns = (isRecord ? args[0] : args) as Record<string, ArrayLike<unknown>>;
    const keys = Object.keys(columns);
    if (keys.length === 0) throw new Error("Dataset.fromArrays: expected at least one array");
    for (const key of keys) {
      if (!isArrayLike(columns[key])) throw new Error(`Dataset.fromArrays: column ${key} is not an array`);
    }
    const n = columns[keys[0]].length;
    const bad = keys.find((key) => columns[key].length !== n);
    if (bad !== undefined) {
      throw new Error(`Dataset.fromArrays: arrays differ in length: ${keys.map((key) => `${key} has ${columns[key].length}`).join(", ")}`);
    }
    return new Dataset(function* () {
      for (let i = 0; i < n; i++) {
        if (isRecord) {
          const element: Record<string, unknown> = {};
          for (const key of keys) element[key] = columns[key][i];
          yield element;
        } else {
          yield keys.map((key) => columns[key][i]);
        }
      }
    }, n);
  }

  /** 0, 1, …, n-1; or start, start+step, … below stop (above, for a negative step). */
  static range(n: number): Dataset<number>;
  static range(start: number, stop: number, step?: number): Dataset<number>;
  static range(a: number, b?: number, step = 1): Dataset<number> {
    const [start, stop] = b === undefined ? [0, a] : [a, b];
    for (const [name, value] of [["start", start], ["stop", stop], ["step", step]] as const) {
      if (!Number.isInteger(value)) throw new Error(`Dataset.range: ${name} must be an integer, got ${value}`);
    }
    if (step === 0) throw new Error("Dataset.range: step must not be 0");
    const size = Math.max(0, Math.ceil((stop - start) / step));
    return new Dataset(function* () {
      for (let i = 0; i < size; i++) yield start + i * step;
    }, size);
  }

  /** One epoch. */
  [Symbol.iterator](): Iterator<T> {
    return this.make();
  }

  /** Applies `fn` to each element as it is read (`index` counts from 0 in each epoch). */
  map<U>(fn: (element: T, index: number) => U): Dataset<U> {
    if (typeof fn !== "function") throw new Error(`Dataset.map: expected a function, got ${typeof fn}`);
    const source = this;
    return this.derive(function* () {
      let index = 0;
      for (const element of source) yield fn(element, index++);
    }, this.size);
  }

  /** Keeps the elements for which `predicate` is true (the size becomes unknown). */
  filter(predicate: (element: T, index: number) => boolean): Dataset<T> {
    if (typeof predicate !== "function") throw new Error(`Dataset.filter: expected a function, got ${typeof predicate}`);
    const source = this;
    return this.derive(function* () {
      let index = 0;
      for (const element of source) if (predicate(element, index++)) yield element;
    }, this.size === 0 ? 0 : undefined);
  }

  /** The first `count` elements of each epoch. */
  take(count: number): Dataset<T> {
    checkCount("Dataset.take", "count", count, true);
    const source = this;
    return this.derive(function* () {
      if (count === 0) return;
      let taken = 0;
      for (const element of source) {
        yield element;
        if (++taken >= count) return;
      }
    }, this.size === undefined ? (count === 0 ? 0 : undefined) : Math.min(this.size, count));
  }

  /** All but the first `count` elements of each epoch (e.g. to resume mid-epoch). */
  skip(count: number): Dataset<T> {
    checkCount("Dataset.skip", "count", count, true);
    const source = this;
    return this.derive(function* () {
      let skipped = 0;
      for (const element of source) {
        if (skipped < count) skipped++;
        else yield element;
      }
    }, this.size === undefined ? undefined : this.size === Infinity ? Infinity : Math.max(0, this.size - count));
  }

  /**
   * `count` epochs of the source back to back (default: forever); each is a fresh iteration, so
   * a shuffle before `repeat` reshuffles. An empty source ends the repeat instead of spinning.
   */
  repeat(count = Infinity): Dataset<T> {
    checkCount("Dataset.repeat", "count", count, true);
    const source = this;
    const size = count === 0 || this.size === 0 ? 0 : this.size === undefined ? undefined : this.size * count;
    return this.derive(function* () {
      for (let pass = 0; pass < count; pass++) {
        let any = false;
        for (const element of source) {
          any = true;
          yield element;
        }
        if (!any) return;
      }
    }, size);
  }

  /**
   * tf.data's buffered shuffle: fill a buffer with the first `bufferSize` elements, then
   * repeatedly emit a uniformly random slot and refill it with the next element; at the end,
   * drain the buffer in random order. A buffer at least as large as the dataset gives a uniform
   * permutation; a buffer of 1 keeps the order.
   */
  shuffle(bufferSize: number, options: ShuffleOptions = {}): Dataset<T> {
    checkCount("Dataset.shuffle", "bufferSize", bufferSize, false);
    if (bufferSize < 1) throw new Error(`Dataset.shuffle: bufferSize must be at least 1, got ${bufferSize}`);
    const owner = options.seed !== undefined ? new Generator(options.seed) : options.generator ?? globalGenerator;
    const reshuffle = options.reshuffleEachIteration ?? true;
    // Without reshuffling every epoch replays one order, fixed when the pipeline is built.
    const fixed = reshuffle ? null : forkGenerator(owner).getState();
    const source = this;
    return this.derive(function* () {
      const random = new Generator();
      random.setState(fixed ?? forkGenerator(owner).getState());
      const buffer: T[] = [];
      for (const element of source) {
        if (buffer.length < bufferSize) {
          buffer.push(element);
          continue;
        }
        const slot = random.nextInt(bufferSize);
        const out = buffer[slot];
        buffer[slot] = element;
        yield out;
      }
      while (buffer.length > 0) {
        const slot = random.nextInt(buffer.length);
        const out = buffer[slot];
        buffer[slot] = buffer[buffer.length - 1];
        buffer.pop();
        yield out;
      }
    }, this.size, reshuffle ? [owner] : []);
  }

  /** Groups consecutive elements into arrays of `batchSize`; the last may be shorter. */
  batch(batchSize: number, options: BatchOptions = {}): Dataset<T[]> {
    checkCount("Dataset.batch", "batchSize", batchSize, false);
    if (batchSize < 1) throw new Error(`Dataset.batch: batchSize must be at least 1, got ${batchSize}`);
    const dropRemainder = options.dropRemainder ?? false;
    const source = this;
    const size = this.size === undefined || this.size === Infinity
      ? this.size
      : dropRemainder ? Math.floor(this.size / batchSize) : Math.ceil(this.size / batchSize);
    return this.derive(function* () {
      let current: T[] = [];
      for (const element of source) {
        current.push(element);
        if (current.length === batchSize) {
          yield current;
          current = [];
        }
      }
      if (current.length > 0 && !dropRemainder) yield current;
    }, size);
  }

  /** One epoch as an array. */
  toArray(): T[] {
    if (this.size === Infinity) throw new Error("Dataset.toArray: the dataset is endless (repeat() without a count)");
    return Array.from(this);
  }

  /**
   * The generators' states, to checkpoint a run. Taken between epochs, `restore()` of it makes the
   * next epoch identical to the one that followed; to resume mid-epoch, save the state at the start
   * of the epoch and, after restoring it, iterate `skip(elementsDone)`. Includes the global
   * generator when a shuffle uses it.
   */
  state(): DatasetState {
    return { generators: this.generators.map((g) => g.getState()) };
  }

  restore(state: DatasetState): void {
    const states = state?.generators;
    if (!Array.isArray(states) || states.length !== this.generators.length) {
      throw new Error(`Dataset.restore: this pipeline has ${this.generators.length} generators, the state has ${Array.isArray(states) ? states.length : "none"}`);
    }
    this.generators.forEach((g, i) => g.setState(states[i]));
  }

  /** A step after this one, inheriting its generators (plus `more`). */
  private derive<U>(make: () => Iterator<U>, size: number | undefined, more: readonly Generator[] = []): Dataset<U> {
    const generators = [...this.generators];
    for (const g of more) if (!generators.includes(g)) generators.push(g);
    return new Dataset(make, size, generators);
  }

  /** @internal A source dataset with its own generators (samplers). */
  static withGenerators<T>(make: () => Iterator<T>, size: number | undefined, generators: readonly Generator[]): Dataset<T> {
    return new Dataset(make, size, generators);
  }
}

/** A new generator whose state is drawn from `parent` (four words; never the all-zero state). */
export function forkGenerator(parent: Generator): Generator {
  const state = [parent.nextUint32(), parent.nextUint32(), parent.nextUint32(), parent.nextUint32()];
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1;
  const child = new Generator();
  child.setState(state);
  return child;
}

function checkCount(where: string, name: string, value: number, allowZero: boolean): void {
  const ok = value === Infinity || (Number.isInteger(value) && value >= (allowZero ? 0 : 1));
  if (!ok) throw new Error(`${where}: ${name} must be ${allowZero ? "a non-negative" : "a positive"} integer or Infinity, got ${value}`);
}

function isArrayLike(value: unknown): value is ArrayLike<unknown> {
  return Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
}
