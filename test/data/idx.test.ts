import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeIdx, parseIdx, type IdxDtype } from "../../src/index.js";
import "../helpers/setup.js";

const DTYPES: IdxDtype[] = ["uint8", "int8", "int16", "int32", "float32", "float64"];

/** A header written by hand: magic, type code, dims (big-endian u32). */
function header(typeCode: number, dims: number[]): number[] {
  const out = [0, 0, typeCode, dims.length];
  for (const d of dims) out.push((d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255);
  return out;
}

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}

describe("parseIdx", () => {
  it("decodes every dtype big-endian (bytes written by hand)", () => {
    const cases: [number, IdxDtype, number[], number[]][] = [
      [0x08, "uint8", [0, 7, 255], [0, 7, 255]],
      [0x09, "int8", [0x7f, 0x80, 0xff], [127, -128, -1]],
      [0x0b, "int16", [0x01, 0x02, 0xff, 0xfe, 0x80, 0x00], [258, -2, -32768]],
      [0x0c, "int32", [0x01, 0x02, 0x03, 0x04, 0xff, 0xff, 0xff, 0xfd, 0x80, 0, 0, 0], [0x01020304, -3, -2147483648]],
      [0x0d, "float32", [0x3f, 0xc0, 0, 0, 0xc1, 0x20, 0, 0, 0x7f, 0x80, 0, 0], [1.5, -10, Infinity]],
      [0x0e, "float64", [0xc0, 0, 0, 0, 0, 0, 0, 0, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a, 0, 0, 0, 0, 0, 0, 0, 1], [-2, 0.1, 5e-324]],
    ];
    for (const [code, dtype, data, expected] of cases) {
      const parsed = parseIdx(new Uint8Array([...header(code, [3]), ...data]), "case");
      expect(parsed.dtype).toBe(dtype);
      expect(parsed.shape).toEqual([3]);
      expect(Array.from(parsed.data)).toEqual(expected);
    }
  });

  it("reads multi-dimensional shapes, zero-sized dims and scalars", () => {
    const images = parseIdx(new Uint8Array([...header(0x08, [2, 2, 3]), ...Array.from({ length: 12 }, (_, i) => i)]));
    expect(images.shape).toEqual([2, 2, 3]);
    expect(Array.from(images.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(parseIdx(new Uint8Array(header(0x0c, [5, 0, 7]))).data.length).toBe(0);
    const scalar = parseIdx(new Uint8Array([...header(0x0b, []), 0x12, 0x34]));
    expect(scalar.shape).toEqual([]);
    expect(Array.from(scalar.data)).toEqual([0x1234]);
  });

  it("works on a subarray at an odd byte offset", () => {
    const file = encodeIdx("int32", [2], [-5, 123456789]);
    const padded = new Uint8Array(file.length + 3);
    padded.set(file, 1);
    const parsed = parseIdx(padded.subarray(1, 1 + file.length));
    expect(Array.from(parsed.data)).toEqual([-5, 123456789]);
  });

  it("round-trips encodeIdx for every dtype and random shapes", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DTYPES),
        fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }),
        fc.integer(),
        (dtype, shape, seed) => {
          const n = shape.reduce((a, b) => a * b, 1);
          const data = Array.from({ length: n }, (_, i) => valueFor(dtype, seed + i * 7919));
          const parsed = parseIdx(encodeIdx(dtype, shape, data));
          expect(parsed.dtype).toBe(dtype);
          expect(parsed.shape).toEqual(shape);
          expect(Array.from(parsed.data)).toEqual(data);
        },
      ),
    );
  });

  it("reports a truncated file with the header's sizes and the file's", () => {
    const bytes = new Uint8Array([...header(0x08, [10000, 28, 28]), ...new Array(100).fill(0)]);
    expect(errorOf(() => parseIdx(bytes, "t10k-images-idx3-ubyte")).message).toContain(
      "t10k-images-idx3-ubyte: truncated: header says 10000x28x28 = 7840000 bytes of data, file has 100",
    );
    const floats = new Uint8Array([...header(0x0d, [3, 2]), ...new Array(20).fill(0)]);
    expect(errorOf(() => parseIdx(floats, "f.idx")).message).toBe(
      "f.idx: truncated: header says 3x2 float32 values of 4 bytes = 24 bytes of data, file has 20 (after the 12-byte header)",
    );
  });

  it("reports a header cut short", () => {
    expect(errorOf(() => parseIdx(new Uint8Array([0, 0, 8]), "a")).message).toBe("a: truncated: 3 bytes, an IDX header needs at least 4");
    expect(errorOf(() => parseIdx(new Uint8Array([0, 0, 8, 3, 0, 0, 0, 1]), "b")).message).toBe(
      "b: truncated: the header of 3 dimensions needs 16 bytes, file has 8",
    );
  });

  it("reports an empty file", () => {
    expect(errorOf(() => parseIdx(new Uint8Array(0), "train-labels-idx1-ubyte")).message).toBe(
      "train-labels-idx1-ubyte: empty file (0 bytes), expected an IDX file",
    );
  });

  it("reports a wrong magic, showing the bytes (e.g. a gzipped file)", () => {
    const message = errorOf(() => parseIdx(new Uint8Array([0x1f, 0x8b, 0x08, 0x08, 1, 2, 3]), "x.gz")).message;
    expect(message).toContain("x.gz: not an IDX file: magic bytes are 0x1f 0x8b 0x08 0x08");
  });

  it("reports an unknown type code", () => {
    const message = errorOf(() => parseIdx(new Uint8Array([...header(0x0a, [1]), 0]), "u")).message;
    expect(message).toMatch(/^u: unknown IDX type code 0x0a \(magic 0x00 0x00 0x0a 0x01\), expected one of 0x08 uint8, .*0x0e float64$/);
  });

  it("reports too many dimensions", () => {
    expect(errorOf(() => parseIdx(new Uint8Array([0, 0, 8, 200]), "d")).message).toBe(
      "d: too many dimensions: header says 200, at most 16 supported",
    );
  });

  it("reports dimensions that disagree with the length, both ways", () => {
    const file = encodeIdx("int16", [2, 3], [1, 2, 3, 4, 5, 6]);
    const longer = new Uint8Array([...file, 9, 9, 9]);
    expect(errorOf(() => parseIdx(longer, "t")).message).toBe(
      "t: trailing bytes: header says 2x3 int16 values of 2 bytes = 12 bytes of data, file has 3 more (15 after the 12-byte header)",
    );
    const shorter = file.subarray(0, file.length - 1);
    expect(errorOf(() => parseIdx(shorter, "s")).message).toContain("s: truncated: header says 2x3 int16 values of 2 bytes = 12 bytes of data, file has 11");
  });

  it("rejects a hostile header quickly, without allocating", () => {
    const huge = new Uint8Array([...header(0x0e, new Array(16).fill(0xffffffff)), 1, 2, 3]);
    const started = performance.now();
    const message = errorOf(() => parseIdx(huge, "h")).message;
    expect(performance.now() - started).toBeLessThan(100);
    expect(message).toMatch(/^h: truncated: header says 4294967295x.*x4294967295 float64 values of 8 bytes = \d+ bytes of data, file has 3/);
  });

  it("rejects a non-Uint8Array argument", () => {
    expect(errorOf(() => parseIdx([0, 0, 8, 0] as unknown as Uint8Array, "n")).message).toBe("n: expected the file's bytes as a Uint8Array, got Array");
  });

  describe("fuzz: any bytes give a consistent tensor or an Error naming the file", () => {
    function check(bytes: Uint8Array): void {
      let result;
      try {
        result = parseIdx(bytes, "fuzz.idx");
      } catch (error) {
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message.startsWith("fuzz.idx: ")).toBe(true);
        return;
      }
      expect(DTYPES).toContain(result.dtype);
      expect(result.data.length).toBe(result.shape.reduce((a, b) => a * b, 1));
      const width = result.data.BYTES_PER_ELEMENT;
      expect(4 + 4 * result.shape.length + result.data.length * width).toBe(bytes.length);
    }

    it("random bytes", () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), check), { numRuns: 500 });
    });

    it("random bytes after a plausible magic", () => {
      const plausible = fc.tuple(fc.constantFrom(0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e, 0x0a, 0xff), fc.integer({ min: 0, max: 20 }), fc.uint8Array({ maxLength: 80 }));
      fc.assert(fc.property(plausible, ([code, ndims, rest]) => check(new Uint8Array([0, 0, code, ndims, ...rest]))), { numRuns: 500 });
    });

    it("mutations and truncations of valid files", () => {
      const validFile = fc
        .tuple(fc.constantFrom(...DTYPES), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 4 }))
        .map(([dtype, shape]) => encodeIdx(dtype, shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i % 100)));
      const mutation = fc.oneof(
        fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
        fc.record({ kind: fc.constant("truncate" as const), at: fc.nat(), value: fc.constant(0) }),
        fc.record({ kind: fc.constant("append" as const), at: fc.nat({ max: 9 }), value: fc.integer({ min: 0, max: 255 }) }),
      );
      fc.assert(
        fc.property(validFile, fc.array(mutation, { maxLength: 4 }), (file, mutations) => {
          let bytes = Array.from(file);
          for (const { kind, at, value } of mutations) {
            if (kind === "set" && bytes.length > 0) bytes[at % bytes.length] = value;
            else if (kind === "truncate") bytes = bytes.slice(0, at % (bytes.length + 1));
            else if (kind === "append") bytes.push(...new Array(at).fill(value));
          }
          check(new Uint8Array(bytes));
        }),
        { numRuns: 1000 },
      );
    });
  });
});

/** A deterministic value representable exactly in `dtype`. */
function valueFor(dtype: IdxDtype, seed: number): number {
  const x = Math.abs(Math.imul(seed, 2654435761)) >>> 0;
  switch (dtype) {
    case "uint8": return x & 255;
    case "int8": return (x & 255) - 128;
    case "int16": return (x & 0xffff) - 32768;
    case "int32": return x | 0;
    case "float32": return Math.fround((x - 2 ** 31) / 1024);
    case "float64": return (x - 2 ** 31) / 3;
  }
}
