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

/** Rows formatted per write: ~1,000 rows of 256 numbers is ~2.5 MB of text. */
const ROWS_PER_CHUNK = 1000;

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

  const writeChunked = (path: string, rows: number, chunk: (from: number, to: number) => string) =>
    attempt(path, () => {
      const fd = openSync(path, "w");
      try {
        for (let from = 0; from < rows; from += ROWS_PER_CHUNK) writeSync(fd, chunk(from, Math.min(rows, from + ROWS_PER_CHUNK)));
      } finally {
        closeSync(fd);
      }
    });
  writeChunked(files.vectors, n, (from, to) => {
    const lines: string[] = [];
    const cells: string[] = new Array(dim);
    for (let i = from; i < to; i++) {
      for (let p = 0; p < dim; p++) cells[p] = formatFloat32(embeddings[i * dim + p]);
      lines.push(cells.join("\t"));
    }
    return lines.join("\n") + "\n";
  });
  writeChunked(files.metadata, n, (from, to) => {
    const lines: string[] = [];
    // A tab or line break inside a label would split the row.
    for (let i = from; i < to; i++) lines.push(String(labels[i]).replace(/[\t\r\n]/g, " "));
    return lines.join("\n") + "\n";
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
    if (Math.fround(Number(s)) === x) return String(Number(s));
  }
  // 9 significant digits always round-trip a float32.
  return String(Number(x.toPrecision(9)));
}

function attempt(path: string, write: () => void): void {
  try {
    write();
  } catch (error) {
    throw new Error(`writeProjectorFiles: cannot write ${path}: ${(error as Error).message}`);
  }
}
