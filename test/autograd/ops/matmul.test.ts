import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { gradcheck, matmul, memoryStats, tensor, tidy } from "../../../src/index.js";
import { gemm, gemmSingleThread } from "../../../src/wasm/gemm.js";
import { kernels } from "../../../src/wasm/loader.js";
import { gemmReference, matmulReference } from "../../reference/matmul.js";
import { expectClose, floats, setup } from "../../helpers/setup.js";

beforeAll(setup);

const size = fc.integer({ min: 1, max: 40 });

/** Sizes, flags and values of one raw GEMM call. */
const gemmCase = fc
  .record({ m: size, n: size, k: size, transA: fc.boolean(), transB: fc.boolean(), accumulate: fc.boolean(), bias: fc.boolean(), relu: fc.boolean() })
  .chain((s) =>
    fc.record({ s: fc.constant(s), a: floats(s.m * s.k), b: floats(s.k * s.n), c: floats(s.m * s.n), biasValues: floats(s.n) }),
  );

function runGemm(s: { m: number; n: number; k: number; transA: boolean; transB: boolean; accumulate: boolean; bias: boolean; relu: boolean },
  a: number[], b: number[], c0: number[], biasValues: number[]) {
  return tidy(() => {
    const c = tensor(c0);
    gemm({ a: tensor(a), b: tensor(b), c, ...s, bias: s.bias ? tensor(biasValues) : undefined });
    const expected = gemmReference({ a, b, c: c0, ...s, bias: s.bias ? biasValues : undefined });
    expectClose(c.toArray(), expected, 1e-4, 1e-4);
  });
}

/** Deterministic values in [-1, 1) for bigger cases than fast-check's: a linear congruential generator. */
function seededValues(seed: number): (len: number) => number[] {
  return (len) => Array.from({ length: len }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1);
}

/** gemm.ts's kernel on a sub-matrix (leading dimensions given), and its scratch and K block. */
interface PartKernels {
  gemm_part(a: number, b: number, c: number, m: number, n: number, k: number, lda: number, ldb: number, ldc: number, kc: number,
    transA: number, transB: number, accumulate: number, bias: number, relu: number, scratch: number): void;
  gemm_scratch_floats(n: number, k: number): number;
  gemm_block_rows(n: number, k: number): number;
}

describe("gemm kernel", () => {
  it("matches the reference for m, n, k in 1..40 and every transA/transB/accumulate/bias/relu", () => {
    fc.assert(fc.property(gemmCase, ({ s, a, b, c, biasValues }) => runGemm(s, a, b, c, biasValues)), { numRuns: 150 });
  });

  it("covers every flag combination at edge sizes (m % 4, n % 8 not 0)", () => {
    const bits = [false, true];
    for (const [m, n, k] of [[1, 1, 1], [3, 7, 2], [5, 9, 4], [4, 8, 1], [6, 15, 13], [9, 17, 40]])
      for (const transA of bits) for (const transB of bits) for (const accumulate of bits) for (const relu of bits) {
        const r = (len: number) => Array.from({ length: len }, (_, i) => Math.sin(i * 12.9898 + m + 3 * n + 7 * k));
        runGemm({ m, n, k, transA, transB, accumulate, bias: relu, relu }, r(m * k), r(k * n), r(m * n), r(n));
      }
  });

  it("packs wide B a chunk of columns at a time and blocks K past 256 rows, for every transpose", () => {
    // Wide B is packed 256 columns (256 KiB of 256 rows) at a time: n = 301 takes chunks of 256
    // and 45 columns, k = 333 blocks of 256 and 77 rows; n = 1100, five chunks of one block;
    // n = 520, chunks of 256, 256 and 8, each in blocks of 256, 256 and 88 rows.
    for (const [m, n, k] of [[6, 301, 333], [3, 1100, 150], [5, 520, 600]])
      for (const transA of [false, true]) for (const transB of [false, true]) {
        const r = (len: number, f: number) => Array.from({ length: len }, (_, i) => Math.cos(i * f) * 0.5);
        runGemm({ m, n, k, transA, transB, accumulate: true, bias: true, relu: true }, r(m * k, 0.37), r(k * n, 0.11), r(m * n, 0.5), r(n, 0.3));
      }
  });

  it("reads B in place for A·Bᵀ with few rows of A (dot products), any row tail, odd n, accumulating or not", () => {
    // n >= 64, k a multiple of 4, no bias or relu: the dense input gradient's kind of product,
    // computed by kernels/gemm_abt.ts (each element 4 lane sums, then across them).
    const abtCase = fc.record({
      m: fc.integer({ min: 1, max: 13 }), n: fc.integer({ min: 64, max: 140 }), k4: fc.integer({ min: 1, max: 24 }),
      accumulate: fc.boolean(),
    }).chain((s) => fc.record({ s: fc.constant(s), a: floats(s.m * 4 * s.k4), b: floats(4 * s.k4 * s.n), c: floats(s.m * s.n) }));
    fc.assert(fc.property(abtCase, ({ s, a, b, c }) =>
      runGemm({ m: s.m, n: s.n, k: 4 * s.k4, transA: false, transB: true, accumulate: s.accumulate, bias: false, relu: false }, a, b, c, [])),
    { numRuns: 60 });
  });

  it("reads a row-major A in place for narrow B (n <= 96): 2x16 tiles, 4x8 ones, row tails, K blocks, every flag", () => {
    // n a multiple of 16 with B row-major takes the 2x16 tile, other n (or B transposed) the 4x8
    // one; k up to 700 spans up to three K blocks; m % 4 != 0 leaves a partial strip.
    const narrowCase = fc.record({
      m: fc.integer({ min: 1, max: 23 }), n: fc.oneof(fc.constantFrom(16, 32, 48, 80, 96), fc.integer({ min: 1, max: 96 })),
      k: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 250, max: 700 })),
      transB: fc.boolean(), accumulate: fc.boolean(), bias: fc.boolean(), relu: fc.boolean(),
    }).chain((s) => fc.record({ s: fc.constant(s), a: floats(s.m * s.k), b: floats(s.k * s.n), c: floats(s.m * s.n), biasValues: floats(s.n) }));
    fc.assert(fc.property(narrowCase, ({ s, a, b, c, biasValues }) => runGemm({ ...s, transA: false }, a, b, c, biasValues)), { numRuns: 80 });
  });

  it("packs a transposed A's strips during their first panel for narrow B (n <= 96): one panel or more, row tails, K blocks, every flag", () => {
    // m >= 5 gives strips after a K block's first (which packs B); n <= 8 is that first panel
    // alone, n > 8 adds the packed strip's other panels; m % 4 != 0 leaves rows for the 1x8 tile.
    // With B not transposed, n % 16 = 0 and m % 4 = 0 go to 2x16 tiles instead (the next test).
    const transposedCase = fc.record({
      m: fc.integer({ min: 5, max: 23 }), n: fc.oneof(fc.constantFrom(8, 32, 96), fc.integer({ min: 1, max: 96 })),
      k: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 250, max: 700 })),
      transB: fc.boolean(), accumulate: fc.boolean(), bias: fc.boolean(), relu: fc.boolean(),
    }).filter((s) => s.transB || s.n % 16 !== 0 || s.m % 4 !== 0)
      .chain((s) => fc.record({ s: fc.constant(s), a: floats(s.m * s.k), b: floats(s.k * s.n), c: floats(s.m * s.n), biasValues: floats(s.n) }));
    fc.assert(fc.property(transposedCase, ({ s, a, b, c, biasValues }) => runGemm({ ...s, transA: true }, a, b, c, biasValues)), { numRuns: 80 });
  });

  it("takes 2x16 tiles for a transposed A with narrow B, n % 16 = 0 and m % 4 = 0: one panel or more, K blocks, every flag", () => {
    // m = 4 is one strip, packed alone; more strips are each packed by the tiles of the one before,
    // in two shares for n = 16 (two tiles), in more and smaller ones for more panels; k past 256
    // adds K blocks, the last one partial, that add to C.
    const wideCase = fc.record({
      m: fc.integer({ min: 1, max: 10 }).map((x) => 4 * x), n: fc.constantFrom(16, 32, 48, 96),
      k: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 250, max: 700 })),
      accumulate: fc.boolean(), bias: fc.boolean(), relu: fc.boolean(),
    }).chain((s) => fc.record({ s: fc.constant(s), a: floats(s.m * s.k), b: floats(s.k * s.n), c: floats(s.m * s.n), biasValues: floats(s.n) }));
    fc.assert(fc.property(wideCase, ({ s, a, b, c, biasValues }) => runGemm({ ...s, transA: true, transB: false }, a, b, c, biasValues)), { numRuns: 80 });
  });

  it("sums a transposed A's 2x16 tiles in the 4x8 tiles' order: the same bits", () =>
    tidy(() => {
      // 12 rows at once take the 2x16 tiles; rows 0-4 and 5-11 alone (m % 4 != 0) the 4x8 ones.
      const [m, n, k] = [12, 32, 300];
      const random = seededValues(5);
      const [a, b, c0, biasValues] = [tensor(random(k * m)), tensor(random(k * n)), random(m * n), tensor(random(n))];
      const whole = tensor(c0);
      gemmSingleThread({ a, b, c: whole, m, n, k, transA: true, accumulate: true, bias: biasValues, relu: true });
      const parts = tensor(c0);
      const kern = kernels<PartKernels>();
      const scratch = tensor(new Float32Array(kern.gemm_scratch_floats(n, k)));
      for (const [r0, r1] of [[0, 5], [5, 12]]) {
        // A is stored (k x m): rows r0.. of C start r0 floats into each of A's rows (lda = m).
        kern.gemm_part(a.ptr + r0 * 4, b.ptr, parts.ptr + r0 * n * 4, r1 - r0, n, k, m, n, n, kern.gemm_block_rows(n, k),
          1, 0, 1, biasValues.ptr, 1, scratch.ptr);
      }
      expect(Array.from(whole.toArray())).toEqual(Array.from(parts.toArray()));
    }));

  it("reads a K block of A over 1 MiB in strips of rows a quarter of m apart, with the same bits as adjacent strips", () =>
    tidy(() => {
      // m x 256 floats pass the 1 MiB of SPREAD_MIN_BYTES (gemm.ts); m % 4 = 1, 2, 3, 0 leaves strips of
      // 1 to 3 rows; n = 32 and 16 take the 2x16 tile, 24 and 5 the 4x8 one; k = 300 adds a K block.
      // Each half of the rows alone (512 KB) is read by adjacent strips: the sums must not change.
      const random = seededValues(11);
      const cases = [
        [1025, 32, 256, false, false, false], [1026, 24, 300, true, true, true], [1027, 16, 300, false, true, false], [1028, 5, 256, true, false, true],
      ] as const;
      for (const [m, n, k, accumulate, withBias, relu] of cases) {
        const [a, b, c0, biasValues] = [random(m * k), random(k * n), random(m * n), random(n)];
        const [at, bt, bias] = [tensor(a), tensor(b), withBias ? tensor(biasValues) : undefined];
        const whole = tensor(c0);
        gemmSingleThread({ a: at, b: bt, c: whole, m, n, k, accumulate, bias, relu });
        const halves = tensor(c0);
        for (const [r0, r1] of [[0, 512], [512, m]]) {
          gemmSingleThread({ a: at.ptr + r0 * k * 4, b: bt, c: halves.ptr + r0 * n * 4, m: r1 - r0, n, k, accumulate, bias, relu });
        }
        expect(Array.from(whole.toArray())).toEqual(Array.from(halves.toArray()));
        const expected = gemmReference({ a, b, c: c0, m, n, k, accumulate, bias: withBias ? biasValues : undefined, relu });
        expectClose(whole.toArray(), expected, 1e-4, 1e-4);
      }
    }));

  it("with k = 0 gives (C or 0) + bias", () =>
    tidy(() => {
      const c = tensor([1, -2, 3, -4], [2, 2]);
      gemm({ a: 0, b: 0, c, m: 2, n: 2, k: 0, accumulate: true, bias: tensor([10, 0]) });
      expect(Array.from(c.toArray())).toEqual([11, -2, 13, -4]);
      gemm({ a: 0, b: 0, c, m: 2, n: 2, k: 0, relu: true, bias: tensor([-1, 2]) });
      expect(Array.from(c.toArray())).toEqual([0, 2, 0, 2]);
    }));

  it("writes nothing outside C", () =>
    tidy(() => {
      // C is a window of a larger buffer: the guards around it must survive edge tiles, of the
      // blocked kernel (n > 96 or A transposed), of the ones reading A in place (2x16 and 4x8 tiles),
      // of a transposed A packed during its first panel (n <= 96; in 2x16 tiles for n = 32, m = 8)
      // and of the A·Bᵀ one (n >= 64, k a multiple of 4, transB); 7 rows leave a tail of 3.
      const cases = [[5, 13, 7, false, true], [7, 104, 9, false, false], [7, 32, 9, false, false], [6, 21, 5, false, false],
        [7, 40, 6, true, false], [7, 65, 8, true, false], [11, 20, 9, false, true], [9, 7, 5, true, true], [8, 32, 9, false, true]] as const;
      for (const [m, n, k, transB, transA] of cases) {
        const buf = tensor(new Array(m * n + 32).fill(7));
        const r = (len: number) => Array.from({ length: len }, (_, i) => (i % 5) - 2);
        const [a, b] = [r(m * k), r(k * n)];
        gemm({ a: tensor(a), b: tensor(b), c: buf.ptr + 64, m, n, k, transA, transB });
        const v = buf.toArray();
        expect(Array.from(v.subarray(0, 16))).toEqual(new Array(16).fill(7));
        expect(Array.from(v.subarray(16 + m * n))).toEqual(new Array(16).fill(7));
        expectClose(v.subarray(16, 16 + m * n), gemmReference({ a, b, m, n, k, transA, transB }), 1e-5, 1e-5);
      }
    }));

  it("reuses one packing buffer (no memory held per call)", () =>
    tidy(() => {
      const a = tensor(new Array(6 * 20).fill(1), [6, 20]);
      const b = tensor(new Array(20 * 9).fill(1), [20, 9]);
      matmul(a, b);
      const before = memoryStats().liveBytes;
      for (let i = 0; i < 3; i++) gemm({ a, b, c: matmul(a, b), m: 6, n: 9, k: 20 });
      // Only the three outputs (6x9 floats, rounded up to 64-byte blocks) stay allocated.
      expect(memoryStats().liveBytes - before).toBe(3 * Math.ceil((6 * 9 * 4) / 64) * 64);
    }));

  it("rejects invalid sizes", () => {
    expect(() => gemm({ a: 0, b: 0, c: 0, m: -1, n: 2, k: 2 })).toThrow(/gemm: m must be a non-negative integer, got -1/);
  });
});

const matmulCase = fc
  .record({ m: size, n: size, k: size, transposeA: fc.boolean(), transposeB: fc.boolean() })
  .chain((s) => fc.record({ s: fc.constant(s), a: floats(s.m * s.k), b: floats(s.k * s.n) }));

/** The stored (transposed) layout of a row-major r x c matrix. */
function transpose(x: ArrayLike<number>, r: number, c: number): number[] {
  const t = new Array<number>(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = x[i * c + j];
  return t;
}

describe("matmul", () => {
  it("matches the reference for any shapes and transposes", () => {
    fc.assert(
      fc.property(matmulCase, ({ s, a, b }) =>
        tidy(() => {
          const { m, n, k, transposeA, transposeB } = s;
          const at = transposeA ? tensor(transpose(a, m, k), [k, m]) : tensor(a, [m, k]);
          const bt = transposeB ? tensor(transpose(b, k, n), [n, k]) : tensor(b, [k, n]);
          const c = matmul(at, bt, { transposeA, transposeB });
          expect(c.shape).toEqual([m, n]);
          expectClose(c.toArray(), matmulReference(a, b, m, n, k), 1e-4, 1e-4);
        }),
      ),
    );
  });

  it("passes gradcheck for every transpose", () => {
    fc.assert(
      fc.property(
        fc.record({ m: fc.integer({ min: 1, max: 5 }), n: fc.integer({ min: 1, max: 9 }), k: fc.integer({ min: 1, max: 6 }), transposeA: fc.boolean(), transposeB: fc.boolean() })
          .chain((s) => fc.record({ s: fc.constant(s), a: floats(s.m * s.k), b: floats(s.k * s.n) })),
        ({ s, a, b }) =>
          tidy(() => {
            const { m, n, k, transposeA, transposeB } = s;
            const at = tensor(a, transposeA ? [k, m] : [m, k], { requiresGrad: true });
            const bt = tensor(b, transposeB ? [n, k] : [k, n], { requiresGrad: true });
            return gradcheck((x, y) => matmul(x, y, { transposeA, transposeB }), [at, bt], { eps: 1e-2, atol: 1e-2, rtol: 1e-2 }).ok;
          }),
      ),
      { numRuns: 30 },
    );
  });

  it("computes gradients only for inputs that require them", () =>
    tidy(() => {
      const a = tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
      const b = tensor([1, 0, 0, 1, 1, 1], [3, 2]);
      matmul(a, b).backward(tensor([1, 1, 1, 1], [2, 2]));
      expect(Array.from(a.grad!.toArray())).toEqual([1, 1, 2, 1, 1, 2]);
      expect(b.grad).toBeNull();
    }));

  it("names the shapes when the inner sizes differ", () =>
    tidy(() => {
      expect(() => matmul(tensor([1, 2, 3, 4, 5, 6], [2, 3]), tensor([1, 2, 3, 4], [2, 2]))).toThrow("matmul: inner sizes differ: [2,3] · [2,2] (3 vs 2)");
      expect(() => matmul(tensor([1, 2, 3, 4, 5, 6], [2, 3]), tensor([1, 2, 3, 4, 5, 6], [3, 2]), { transposeA: true }))
        .toThrow("matmul: inner sizes differ: [2,3]ᵀ · [3,2] (2 vs 3)");
      expect(() => matmul(tensor([1, 2, 3], [3]), tensor([1], [1, 1]))).toThrow("matmul: expected two matrices, got shapes [3] and [1,1]");
    }));
});
