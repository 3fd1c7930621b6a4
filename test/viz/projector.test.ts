import fc from "fast-check";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatFloat32, Generator, writeProjectorFiles } from "../../src/index.js";

const root = mkdtempSync(join(tmpdir(), "wasmgrad-projector-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("writeProjectorFiles", () => {
  it("writes vecs.tsv, meta.tsv and projector_config.json that read back", () => {
    const g = new Generator(3);
    const n = 2345; // more than one 64 KiB chunk of text
    const dim = 7;
    const x = Float32Array.from({ length: n * dim }, () => g.normal() * 10 ** g.uniform(-8, 8));
    x[0] = 0;
    x[1] = -0;
    const labels = Array.from({ length: n }, (_, i) => i % 10);
    const dir = join(root, "a", "b");
    const files = writeProjectorFiles(dir, x, dim, labels, { name: "mnist_test" });
    expect(files).toEqual({ vectors: join(dir, "vecs.tsv"), metadata: join(dir, "meta.tsv"), config: join(dir, "projector_config.json") });

    const rows = readFileSync(files.vectors, "utf8").split("\n");
    expect(rows.pop()).toBe(""); // a final newline, no blank rows
    expect(rows.length).toBe(n);
    const back = new Float32Array(n * dim);
    rows.forEach((row, i) => {
      const cells = row.split("\t");
      expect(cells.length).toBe(dim);
      cells.forEach((cell, p) => (back[i * dim + p] = Number(cell)));
    });
    expect(Array.from(back)).toEqual(Array.from(x, (v) => v + 0)); // bit-exact as float32 (-0 reads as 0)

    expect(readFileSync(files.metadata, "utf8")).toBe(labels.join("\n") + "\n");
    expect(JSON.parse(readFileSync(files.config, "utf8"))).toEqual({
      embeddings: [{ tensorName: "mnist_test", tensorShape: [n, dim], tensorPath: "vecs.tsv", metadataPath: "meta.tsv" }],
    });
  });

  it("keeps a label with a tab or newline on its own line", () => {
    const dir = join(root, "labels");
    writeProjectorFiles(dir, new Float32Array([1, 2, 3]), 1, ["a\tb", "c\nd", 7]);
    expect(readFileSync(join(dir, "meta.tsv"), "utf8")).toBe("a b\nc d\n7\n");
    expect(JSON.parse(readFileSync(join(dir, "projector_config.json"), "utf8")).embeddings[0].tensorName).toBe("embeddings");
  });

  it("names the path it cannot write, and shape mismatches", () => {
    const file = join(root, "a-file");
    writeFileSync(file, "");
    expect(() => writeProjectorFiles(join(file, "sub"), new Float32Array(2), 1, [0, 1])).toThrow(new RegExp(`cannot write ${join(file, "sub")}`));
    expect(() => writeProjectorFiles(root, new Float32Array(5), 2, [0, 1])).toThrow(/length 5 is not divisible by dim 2/);
    expect(() => writeProjectorFiles(root, new Float32Array(4), 2, [0])).toThrow(/1 labels for 2 embeddings/);
  });
});

describe("formatFloat32", () => {
  it("reads back as the same float32, in at most 9 significant digits", () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (v) => {
        const s = formatFloat32(v);
        expect(Math.fround(Number(s))).toBe(v + 0);
        expect(s.replace(/^-|e.*$|\./g, "").replace(/^0+|0+$/g, "").length).toBeLessThanOrEqual(9);
      }),
      { numRuns: 2000 },
    );
    expect(formatFloat32(Math.fround(0.1))).toBe("0.1");
    expect(formatFloat32(1)).toBe("1");
  });

  it("is JavaScript's own form of the shortest toPrecision that reads back (every exponent, both layouts)", () => {
    const definition = (v: number) => {
      for (let digits = 6; digits <= 9; digits++) {
        const s = v.toPrecision(digits);
        if (Math.fround(Number(s)) === v || digits === 9) return String(Number(s));
      }
      return "";
    };
    const bits = new Uint32Array(1);
    const asFloat = new Float32Array(bits.buffer);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (word) => {
        bits[0] = word;
        const v = asFloat[0];
        if (v === 0 || !Number.isFinite(v)) return;
        expect(formatFloat32(v)).toBe(definition(v));
      }),
      { numRuns: 20000 },
    );
    for (const v of [1234567, 123456.7, 1e21, 1.5e21, 1e20, 123e18, 1e-6, 1.5e-7, 0.000123457, 3.4028235e38, 1.4e-45, -0.5, 100, 1e6]) {
      expect(formatFloat32(Math.fround(v))).toBe(definition(Math.fround(v)));
    }
  });
});
