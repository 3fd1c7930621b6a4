import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Dataset, Generator } from "../../src/index.js";
import { forkGenerator } from "../../src/data/dataset.js";
import "../helpers/setup.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** tf.data's shuffle, straight from its description, drawing from `random`. */
function shuffleReference<T>(items: T[], bufferSize: number, random: Generator): T[] {
  const buffer: T[] = [];
  const out: T[] = [];
  for (const item of items) {
    if (buffer.length < bufferSize) {
      buffer.push(item);
    } else {
      const slot = random.nextInt(bufferSize);
      out.push(buffer[slot]);
      buffer[slot] = item;
    }
  }
  while (buffer.length > 0) {
    const slot = random.nextInt(buffer.length);
    out.push(buffer[slot]);
    buffer[slot] = buffer[buffer.length - 1];
    buffer.pop();
  }
  return out;
}

describe("Dataset sources", () => {
  it("range, fromArray, from", () => {
    expect(Dataset.range(4).toArray()).toEqual([0, 1, 2, 3]);
    expect(Dataset.range(2, 11, 3).toArray()).toEqual([2, 5, 8]);
    expect(Dataset.range(5, 0, -2).toArray()).toEqual([5, 3, 1]);
    expect(Dataset.range(5, 0, -2).size).toBe(3);
    expect(Dataset.range(0).toArray()).toEqual([]);
    expect(Dataset.fromArray(new Uint8Array([3, 1])).toArray()).toEqual([3, 1]);
    const ds = Dataset.from(() => new Set(["a", "b"]));
    expect(ds.size).toBeUndefined();
    expect([...ds, ...ds]).toEqual(["a", "b", "a", "b"]);
    expect(() => Dataset.range(1.5)).toThrow("Dataset.range: stop must be an integer, got 1.5");
  });

  it("fromArrays zips records and tuples, and checks lengths", () => {
    const records = Dataset.fromArrays({ x: [1, 2], y: new Int32Array([5, 6]) });
    expect(records.toArray()).toEqual([{ x: 1, y: 5 }, { x: 2, y: 6 }]);
    expect(Dataset.fromArrays([1, 2], ["a", "b"]).toArray()).toEqual([[1, "a"], [2, "b"]]);
    expect(() => Dataset.fromArrays({ x: [1, 2], y: [1] })).toThrow("Dataset.fromArrays: arrays differ in length: x has 2, y has 1");
  });
});

describe("Dataset.shuffle", () => {
  it("emits a permutation, for any size and buffer", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 80 }), fc.integer(), (n, b, seed) => {
        const out = Dataset.range(n).shuffle(b, { seed }).toArray();
        expect([...out].sort((x, y) => x - y)).toEqual(range(n));
      }),
    );
  });

  it("follows tf.data's buffer algorithm exactly", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 50 }), fc.integer(), (n, b, seed) => {
        const ds = Dataset.range(n).shuffle(b, { seed });
        const owner = new Generator(seed);
        for (let epoch = 0; epoch < 3; epoch++) {
          expect(ds.toArray()).toEqual(shuffleReference(range(n), b, forkGenerator(owner)));
        }
      }),
    );
  });

  it("with a buffer of B, output j is among the first B + j inputs (the first among the first B)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 20 }), fc.integer(), (n, b, seed) => {
        const out = Dataset.range(n).shuffle(b, { seed }).toArray();
        out.forEach((value, j) => expect(value).toBeLessThan(b + j));
      }),
    );
  });

  it("keeps the order with a buffer of 1", () => {
    expect(Dataset.range(20).shuffle(1, { seed: 3 }).toArray()).toEqual(range(20));
  });

  it("is repeatable with a seed and reshuffles each epoch", () => {
    const a = Dataset.range(50).shuffle(50, { seed: 7 });
    const b = Dataset.range(50).shuffle(50, { seed: 7 });
    const [a1, a2, a3] = [a.toArray(), a.toArray(), a.toArray()];
    expect([b.toArray(), b.toArray(), b.toArray()]).toEqual([a1, a2, a3]);
    expect(a1).not.toEqual(a2);
    expect(a2).not.toEqual(a3);
    expect(Dataset.range(50).shuffle(50, { seed: 8 }).toArray()).not.toEqual(a1);
  });

  it("repeats one order when reshuffleEachIteration is false", () => {
    const ds = Dataset.range(30).shuffle(30, { seed: 1, reshuffleEachIteration: false });
    const first = ds.toArray();
    expect(first).not.toEqual(range(30));
    expect(ds.toArray()).toEqual(first);
    expect(ds.repeat(2).toArray()).toEqual([...first, ...first]);
  });

  it("draws from a given generator, and by default from the global one", () => {
    const g1 = new Generator(5);
    const g2 = new Generator(5);
    expect(Dataset.range(10).shuffle(10, { generator: g1 }).toArray()).toEqual(Dataset.range(10).shuffle(10, { generator: g2 }).toArray());
    expect(g1.getState()).toEqual(g2.getState());
    expect(g1.getState()).not.toEqual(new Generator(5).getState());
  });

  it("picks the first element uniformly when the buffer holds everything", () => {
    const ds = Dataset.range(5).shuffle(5, { seed: 11 });
    const counts = new Array(5).fill(0);
    for (let epoch = 0; epoch < 5000; epoch++) counts[ds[Symbol.iterator]().next().value as number]++;
    // Expected 1000 each, standard deviation ~28; 6 sigma.
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(170);
  });

  it("reshuffles each repeat", () => {
    const out = Dataset.range(20).shuffle(20, { seed: 2 }).repeat(2).toArray();
    expect([...out.slice(0, 20)].sort((x, y) => x - y)).toEqual(range(20));
    expect([...out.slice(20)].sort((x, y) => x - y)).toEqual(range(20));
    expect(out.slice(0, 20)).not.toEqual(out.slice(20));
  });

  it("checks the buffer size", () => {
    expect(() => Dataset.range(3).shuffle(0)).toThrow("Dataset.shuffle: bufferSize must be a positive integer or Infinity, got 0");
    expect(Dataset.range(9).shuffle(Infinity, { seed: 1 }).toArray().sort()).toEqual(range(9));
  });
});

describe("Dataset.batch", () => {
  it("keeps the last partial batch by default, drops it on request, and knows the count", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 1, max: 12 }), fc.boolean(), (n, size, dropRemainder) => {
        const ds = Dataset.range(n).batch(size, { dropRemainder });
        const batches = ds.toArray();
        expect(batches.length).toBe(ds.size);
        const full = Math.floor(n / size);
        batches.forEach((batch, i) => expect(batch.length).toBe(i < full ? size : n % size));
        expect(batches.flat()).toEqual(range(dropRemainder ? full * size : n));
      }),
    );
    expect(Dataset.range(10).batch(3).toArray().map((b) => b.length)).toEqual([3, 3, 3, 1]);
    expect(Dataset.range(10).batch(3, { dropRemainder: true }).toArray().map((b) => b.length)).toEqual([3, 3, 3]);
  });

  it("checks the batch size", () => {
    expect(() => Dataset.range(3).batch(0)).toThrow("Dataset.batch: batchSize must be a positive integer or Infinity, got 0");
  });
});

describe("map, filter, take, skip, repeat", () => {
  it("map applies lazily, with the index in the epoch", () => {
    let calls = 0;
    const ds = Dataset.range(5).map((x, i) => {
      calls++;
      return x * 10 + i;
    });
    expect(calls).toBe(0);
    expect(ds.size).toBe(5);
    expect(ds.take(2).toArray()).toEqual([0, 11]);
    expect(calls).toBe(2);
    expect(ds.toArray()).toEqual([0, 11, 22, 33, 44]);
  });

  it("filter keeps matching elements", () => {
    const ds = Dataset.range(10).filter((x) => x % 3 === 0);
    expect(ds.size).toBeUndefined();
    expect(ds.toArray()).toEqual([0, 3, 6, 9]);
  });

  it("take and skip", () => {
    expect(Dataset.range(10).take(3).toArray()).toEqual([0, 1, 2]);
    expect(Dataset.range(2).take(5).size).toBe(2);
    expect(Dataset.range(10).skip(7).toArray()).toEqual([7, 8, 9]);
    expect(Dataset.range(10).skip(70).size).toBe(0);
    let pulled = 0;
    const counted = Dataset.from(function* () {
      for (;;) yield pulled++;
    });
    expect(counted.take(0).toArray()).toEqual([]);
    expect(counted.take(3).toArray()).toEqual([0, 1, 2]);
    expect(pulled).toBe(3);
  });

  it("repeat: a count, forever, and an empty source that ends instead of spinning", () => {
    expect(Dataset.range(3).repeat(2).toArray()).toEqual([0, 1, 2, 0, 1, 2]);
    expect(Dataset.range(3).repeat(2).size).toBe(6);
    expect(Dataset.range(3).repeat(0).toArray()).toEqual([]);
    const forever = Dataset.range(3).repeat();
    expect(forever.size).toBe(Infinity);
    expect(() => forever.toArray()).toThrow("endless");
    expect(forever.take(7).toArray()).toEqual([0, 1, 2, 0, 1, 2, 0]);
    expect(forever.take(7).size).toBe(7);
    expect(Dataset.range(0).repeat().toArray()).toEqual([]);
    expect(Dataset.range(5).filter(() => false).repeat().toArray()).toEqual([]);
  });

  it("is re-iterable, and independent iterators do not interfere", () => {
    const ds = Dataset.range(4).map((x) => x + 1).batch(2);
    const a = ds[Symbol.iterator]();
    const b = ds[Symbol.iterator]();
    expect(a.next().value).toEqual([1, 2]);
    expect(b.next().value).toEqual([1, 2]);
    expect(a.next().value).toEqual([3, 4]);
    expect(ds.toArray()).toEqual([[1, 2], [3, 4]]);
  });
});

describe("state and restore", () => {
  it("replays the next epoch, and resumes mid-epoch with skip", () => {
    const ds = Dataset.range(40).shuffle(16, { seed: 3 }).batch(8);
    ds.toArray(); // a first epoch
    const saved = ds.state();
    const second = ds.toArray();
    const third = ds.toArray();
    ds.restore(saved);
    expect(ds.skip(2).toArray()).toEqual(second.slice(2));
    expect(ds.toArray()).toEqual(third);
    // A pipeline rebuilt from scratch (as after a restart) resumes too.
    const rebuilt = Dataset.range(40).shuffle(16, { seed: 999 }).batch(8);
    rebuilt.restore(saved);
    expect(rebuilt.toArray()).toEqual(second);
  });

  it("covers every shuffle in the pipeline and checks the state's shape", () => {
    const ds = Dataset.range(10).shuffle(4, { seed: 1 }).batch(2).shuffle(3, { seed: 2 });
    expect(ds.state().generators.length).toBe(2);
    expect(() => ds.restore({ generators: [] })).toThrow("Dataset.restore: this pipeline has 2 generators, the state has 0");
  });
});
