// Files for the TensorBoard Embedding Projector (projector.tensorflow.org, "Load"): vecs.tsv,
// meta.tsv and projector_config.json. Node only (see node.ts).

import { builtin } from "./node.js";

export interface ProjectorOptions {
  /** The tensor's name in projector_config.json. Default "embeddings". */
  name?: string;
}

export interface ProjectorFiles {
  vectors: string;
  metadata: string;
  config: string;
}

/** Bytes of vecs.tsv text gathered per write: small enough that no big string or array ever exists. */
const VECTOR_CHUNK_BYTES = 1 << 16;
/** Label lines joined per write of meta.tsv (labels are short; this file is small). */
const LABELS_PER_CHUNK = 1000;

/**
 * Writes `dir`/vecs.tsv (one row of `dim` tab-separated numbers per point, no header),
 * `dir`/meta.tsv (one label a line, no header: the projector's single-column form) and
 * `dir`/projector_config.json; creates `dir` if needed. Numbers are written in the shortest form
 * that reads back to the same float32. Returns the three paths.
 */
export function writeProjectorFiles(
  dir: string,
  embeddings: Float32Array,
  dim: number,
  labels: ArrayLike<number | string>,
  options: ProjectorOptions = {},
): ProjectorFiles {
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`writeProjectorFiles: dim must be a positive integer, got ${dim}`);
  if (embeddings.length % dim !== 0) {
    throw new Error(`writeProjectorFiles: embeddings length ${embeddings.length} is not divisible by dim ${dim}, expected N x ${dim} values`);
  }
  const n = embeddings.length / dim;
  if (labels.length !== n) {
    throw new Error(`writeProjectorFiles: ${labels.length} labels for ${n} embeddings (of dim ${dim}), expected one label per embedding`);
  }
  const { closeSync, mkdirSync, openSync, writeFileSync, writeSync } = builtin("node:fs", "writeProjectorFiles");
  const { join } = builtin("node:path", "writeProjectorFiles");
  const files = {
    vectors: join(dir, "vecs.tsv"),
    metadata: join(dir, "meta.tsv"),
    config: join(dir, "projector_config.json"),
  };
  attempt(dir, () => mkdirSync(dir, { recursive: true }));

  const writeAll = (fd: number, bytes: Uint8Array, length: number) => {
    for (let done = 0; done < length;) done += writeSync(fd, bytes, done, length - done);
  };
  const writeTo = (path: string, write: (fd: number) => void) =>
    attempt(path, () => {
      const fd = openSync(path, "w");
      try {
        write(fd);
      } finally {
        closeSync(fd);
      }
    });
  // vecs.tsv (~25 MB for 10,000 x 256) goes out through one 64 KiB byte buffer: the numbers are
  // ASCII, so their characters are copied as bytes, and only each number's short string is garbage.
  writeTo(files.vectors, (fd) => {
    const chunk = new Uint8Array(VECTOR_CHUNK_BYTES);
    let used = 0;
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < dim; p++) {
        const text = formatFloat32(embeddings[i * dim + p]);
        if (used + text.length + 1 > chunk.length) {
          writeAll(fd, chunk, used);
          used = 0;
        }
        for (let c = 0; c < text.length; c++) chunk[used++] = text.charCodeAt(c);
        chunk[used++] = p === dim - 1 ? 0x0a : 0x09; // "\n" ends the row, "\t" separates
      }
    }
    writeAll(fd, chunk, used);
  });
  writeTo(files.metadata, (fd) => {
    for (let from = 0; from < n; from += LABELS_PER_CHUNK) {
      const lines: string[] = [];
      // A tab or line break inside a label would split the row.
      for (let i = from; i < Math.min(n, from + LABELS_PER_CHUNK); i++) lines.push(String(labels[i]).replace(/[\t\r\n]/g, " ") + "\n");
      writeSync(fd, lines.join(""));
    }
  });
  const config = {
    embeddings: [{
      tensorName: options.name ?? "embeddings",
      tensorShape: [n, dim],
      tensorPath: "vecs.tsv",
      metadataPath: "meta.tsv",
    }],
  };
  attempt(files.config, () => writeFileSync(files.config, JSON.stringify(config, null, 2) + "\n"));
  return files;
}

/** The shortest decimal (6 to 9 significant digits) that reads back as the same float32. */
export function formatFloat32(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return x === 0 ? "0" : String(x);
  for (let digits = 6; digits < 9; digits++) {
    const s = x.toPrecision(digits);
    if (Math.fround(Number(s)) === x) return shortestForm(s);
  }
  // 9 significant digits always round-trip a float32.
  return shortestForm(x.toPrecision(9));
}

/**
 * String(Number(s)) for an output `s` of toPrecision, built from s's own digits: its trailing
 * zeros dropped, then JavaScript's Number::toString layout. Not String(number) itself: V8 caches
 * its results, which keeps them alive and grows the young heap by ~40 MB over a 25 MB vecs.tsv.
 * (s's digits are the shortest that read back as Number(s): a shorter decimal of <= 9 digits
 * would differ by far more than a double's rounding.)
 */
function shortestForm(s: string): string {
  const negative = s.charCodeAt(0) === 45; // "-"
  const e = s.indexOf("e");
  const mantissa = s.slice(negative ? 1 : 0, e < 0 ? s.length : e);
  const dot = mantissa.indexOf(".");
  const whole = dot < 0 ? mantissa : mantissa.slice(0, dot);
  const allDigits = dot < 0 ? mantissa : whole + mantissa.slice(dot + 1);
  // The value is 0.<digits> x 10^point.
  let point = whole.length + (e < 0 ? 0 : Number(s.slice(e + 1)));
  let first = 0;
  while (first < allDigits.length - 1 && allDigits.charCodeAt(first) === 48) {
    first++;
    point--;
  }
  let end = allDigits.length;
  while (end > first + 1 && allDigits.charCodeAt(end - 1) === 48) end--;
  const digits = allDigits.slice(first, end);
  const k = digits.length;
  let out: string;
  if (k <= point && point <= 21) out = digits + "0".repeat(point - k);
  else if (0 < point && point <= 21) out = digits.slice(0, point) + "." + digits.slice(point);
  else if (-6 < point && point <= 0) out = "0." + "0".repeat(-point) + digits;
  else out = digits[0] + (k > 1 ? "." + digits.slice(1) : "") + (point > 0 ? "e+" : "e-") + Math.abs(point - 1);
  return negative ? "-" + out : out;
}

function attempt(path: string, write: () => void): void {
  try {
    write();
  } catch (error) {
    throw new Error(`writeProjectorFiles: cannot write ${path}: ${(error as Error).message}`);
  }
}
