import fc from "fast-check";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { conv2d, Generator, gradcheck, tensor, Tensor, tidy } from "../../../src/index.js";
import { conv2dStrategy, type Conv2dPath } from "../../../src/autograd/ops/conv2d.js";
import { conv2dReference, conv2dReferenceBackward } from "../../reference/conv2d.js";
import { expectClose, setup } from "../../helpers/setup.js";
import { kernels } from "../../../src/wasm/loader.js";

beforeAll(setup);
afterEach(() => {
  conv2dStrategy.forward = "auto";
  conv2dStrategy.filter = "auto";
});

interface Case {
  n: number; h: number; w: number; cin: number; cout: number; kh: number; kw: number;
  strides: [number, number]; padding: "same" | "valid"; bias: boolean; relu: boolean; seed: number;
  /** Whether x requires a gradient: without, the direct kernel gradient masks gy itself (fused). */
  xGrad?: boolean;
}

/** Random shapes; 'valid' only where the kernel fits. */
const cases = (max: { n: number; hw: number; cin: number; cout: number }) =>
  fc.record({
    n: fc.integer({ min: 1, max: max.n }), h: fc.integer({ min: 1, max: max.hw }), w: fc.integer({ min: 1, max: max.hw }),
    cin: fc.integer({ min: 1, max: max.cin }), cout: fc.integer({ min: 1, max: max.cout }),
    kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }),
    strides: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    padding: fc.constantFrom("same" as const, "valid" as const), bias: fc.boolean(), relu: fc.boolean(),
    seed: fc.integer({ min: 0, max: 1e9 }), xGrad: fc.boolean(),
  }).map((c): Case => (c.padding === "valid" && (c.kh > c.h || c.kw > c.w) ? { ...c, padding: "same" } : c));

function values(rng: Generator, n: number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
}

function data(c: Case) {
  const rng = new Generator(c.seed);
  return {
    x: values(rng, c.n * c.h * c.w * c.cin),
    k: values(rng, c.kh * c.kw * c.cin * c.cout),
    b: c.bias ? values(rng, c.cout) : null,
    xShape: [c.n, c.h, c.w, c.cin] as const,
    kShape: [c.kh, c.kw, c.cin, c.cout] as const,
    rng,
  };
}

const options = (c: Case) => ({ strides: c.strides, padding: c.padding, activation: c.relu ? "relu" as const : "linear" as const });

/** Forward and backward of one case on the given paths, against the reference. */
function checkCase(c: Case, forward: Conv2dPath, filter: Conv2dPath): void {
  conv2dStrategy.forward = forward;
  conv2dStrategy.filter = filter;
  tidy(() => {
    const d = data(c);
    const x = tensor(d.x, d.xShape, { requiresGrad: c.xGrad ?? true });
    const k = tensor(d.k, d.kShape, { requiresGrad: true });
    const b = d.b ? tensor(d.b, [c.cout], { requiresGrad: true }) : null;
    const y = conv2d(x, k, b, options(c));
    const ref = conv2dReference(d.x, d.xShape, d.k, d.kShape, d.b, { strides: c.strides, padding: c.padding, relu: c.relu });
    expect(y.shape).toEqual(ref.shape);
    expectClose(y.toArray(), ref.y, 1e-5, 1e-4);
    const gy = values(d.rng, y.size);
    // The op's own y decides the relu mask, so that values at ~0 cannot disagree.
    const g = conv2dReferenceBackward(d.x, d.xShape, d.k, d.kShape, y.toArray(), gy, { strides: c.strides, padding: c.padding, relu: c.relu });
    y.backward(tensor(gy, y.shape));
    if (c.xGrad ?? true) expectClose(x.grad!.toArray(), g.dx, 1e-5, 1e-4);
    else expect(x.grad).toBeNull();
    expectClose(k.grad!.toArray(), g.dk, 1e-4, 1e-4);
    if (b) expectClose(b.grad!.toArray(), g.db, 1e-4, 1e-4);
  });
}

describe("conv2d", () => {
  const shapes = cases({ n: 3, hw: 9, cin: 6, cout: 21 });
  for (const [forward, filter] of [["auto", "auto"], ["direct", "direct"], ["implicit", "implicit"], ["gemm", "gemm"]] as const) {
    it(`matches the reference, forward and backward (${forward} forward, ${filter} kernel gradient)`, () => {
      fc.assert(fc.property(shapes, (c) => checkCase(c, forward, filter)), { numRuns: 30 });
    });
  }

  it("matches the reference on the direct path with exactly 4 taps (conv1's kernels: 8-channel blocks)", () => {
    // kh x kw x cin = 4 in every way; cout across multiples of 4 and 8 and not.
    const taps4 = fc.record({
      n: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 2, max: 9 }), w: fc.integer({ min: 2, max: 9 }),
      k: fc.constantFrom([2, 2, 1], [1, 2, 2], [2, 1, 2], [1, 1, 4], [1, 4, 1], [4, 1, 1]),
      cout: fc.integer({ min: 1, max: 40 }),
      strides: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
      padding: fc.constantFrom("same" as const, "valid" as const), bias: fc.boolean(), relu: fc.boolean(),
      seed: fc.integer({ min: 0, max: 1e9 }), xGrad: fc.boolean(),
    }).map(({ k: [kh, kw, cin], ...c }): Case => {
      const d = { ...c, kh, kw, cin };
      return d.padding === "valid" && (kh > d.h || kw > d.w) ? { ...d, padding: "same" } : d;
    });
    fc.assert(fc.property(taps4, (c) => checkCase(c, "direct", "direct")), { numRuns: 40 });
  });

  it("matches the reference on the direct path for 1 to 9 taps, x with and without a gradient", () => {
    const few = fc.record({
      n: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 1, max: 8 }), w: fc.integer({ min: 1, max: 8 }),
      cin: fc.integer({ min: 1, max: 3 }), cout: fc.integer({ min: 1, max: 35 }),
      kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }),
      strides: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
      padding: fc.constantFrom("same" as const, "valid" as const), bias: fc.boolean(), relu: fc.boolean(),
      seed: fc.integer({ min: 0, max: 1e9 }), xGrad: fc.boolean(),
    }).filter((c) => c.kh * c.kw * c.cin <= 9)
      .map((c): Case => (c.padding === "valid" && (c.kh > c.h || c.kw > c.w) ? { ...c, padding: "same" } : c));
    fc.assert(fc.property(few, (c) => checkCase(c, "direct", "direct")), { numRuns: 40 });
  });

  it("matches the reference on the implicit kernels' 2x16 tiles (channels a multiple of 16), any row tail", () => {
    // Output channels a multiple of 16: the forward's wide tile; input channels too (half the
    // cases), with stride 1: the input gradient's.
    const wide = cases({ n: 3, hw: 7, cin: 4, cout: 3 }).map((c): Case => ({ ...c, cin: c.seed % 2 ? 16 * c.cin : c.cin, cout: 16 * c.cout }));
    fc.assert(fc.property(wide, (c) => checkCase(c, "implicit", "implicit")), { numRuns: 30 });
  });

  it("matches the reference on the direct kernel gradient with channels a multiple of 4 (read in place, no patches)", () => {
    const quads = cases({ n: 2, hw: 7, cin: 2, cout: 13 }).map((c): Case => ({ ...c, cin: 4 * c.cin }));
    fc.assert(fc.property(quads, (c) => checkCase(c, "implicit", "direct")), { numRuns: 30 });
  });

  it("writes nothing outside the implicit kernels' outputs, whole 4x8 tiles and row tails of 3", () =>
    tidy(() => {
      // Raw kernel calls, each output a window of a buffer with 16 guard floats on each side.
      // 15 rows of C (two 4-row strips and 3 rows) by 8 columns: whole tiles, ending without a
      // bias and relu (the filter gradient, the input gradient) or with them (the forward).
      const k = kernels<Record<string, (...args: number[]) => void> & { conv_gemm_scratch_floats(n: number, k: number, perTap: number, ch: number): number }>();
      const rng = new Generator(11);
      const guarded = (floats: number) => {
        const t = tensor(new Array(floats + 32).fill(7));
        return {
          ptr: t.ptr + 64,
          inside: () => t.toArray().slice(16, 16 + floats),
          guards: () => [...t.toArray().subarray(0, 16), ...t.toArray().subarray(16 + floats)],
        };
      };
      const run = (c: Case, call: (x: Tensor, kt: Tensor, b: Tensor, gy: Tensor, out: number, scratch: number, g: number[]) => void,
        expected: (ref: ReturnType<typeof conv2dReferenceBackward>, y: Float32Array) => Float32Array) => {
        const d = data({ ...c, bias: true });
        const y = conv2dReference(d.x, d.xShape, d.k, d.kShape, d.b, { strides: [1, 1], padding: "same", relu: true });
        const gy = values(d.rng, y.y.length);
        const ref = conv2dReferenceBackward(d.x, d.xShape, d.k, d.kShape, y.y, gy, { strides: [1, 1], padding: "same", relu: false });
        const want = expected(ref, y.y);
        const out = guarded(want.length);
        const scratch = Tensor.empty([1 << 16]);
        // 'same' at stride 1 with TensorFlow's padding: nothing before, the rest after.
        call(tensor(d.x), tensor(d.k), tensor(d.b!), tensor(gy), out.ptr, scratch.ptr, [c.n, c.h, c.w, c.cin, c.h, c.w, c.cout, c.kh, c.kw]);
        expectClose(out.inside(), want, 1e-5, 1e-4);
        expect(out.guards()).toEqual(new Array(32).fill(7));
      };
      const base = { n: 1, h: 3, w: 5, strides: [1, 1] as [number, number], padding: "same" as const, bias: true, relu: true, seed: 4 };
      // Forward: 15 pixels by cout = 8 (4x8 tiles: not a multiple of 16), bias and relu.
      run({ ...base, cin: 3, cout: 8, kh: 2, kw: 2 }, (x, kt, b, _gy, out, scratch, g) =>
        k.conv2d_implicit_forward(x.ptr, kt.ptr, b.ptr, out, scratch, ...g, 1, 1, 0, 0, 1, 0, 15), (_ref, y) => y);
      // Input gradient: 15 pixels by cin = 8.
      run({ ...base, cin: 8, cout: 3, kh: 2, kw: 2 }, (_x, kt, _b, gy, out, scratch, g) =>
        k.conv2d_implicit_input(gy.ptr, kt.ptr, out, scratch, ...g, 0, 0, 0, 15), (ref) => ref.dx);
      // Kernel gradient: 1x1 taps by 11 input channels = 11 rows (4, 4 and 3) by cout = 8.
      run({ ...base, cin: 11, cout: 8, kh: 1, kw: 1 }, (x, _kt, _b, gy, out, scratch, g) =>
        k.conv2d_implicit_filter(x.ptr, gy.ptr, out, scratch, ...g, 1, 1, 0, 0, 0, 11), (ref) => ref.dk);
    }));

  it("gives the same kernel and bias gradients, bit for bit, whether or not the mask is fused", () => {
    // Fused (x without a gradient) and unfused (dZ written first) sum the same terms in the same
    // order, and split the batch in the same fixed parts (up to 8: batches of 1 to 11 images).
    const batches = cases({ n: 11, hw: 6, cin: 3, cout: 21 });
    fc.assert(
      fc.property(batches, (c) => {
        conv2dStrategy.forward = conv2dStrategy.filter = "direct";
        const grads = (xGrad: boolean) => tidy(() => {
          const d = data(c);
          const x = tensor(d.x, d.xShape, { requiresGrad: xGrad });
          const k = tensor(d.k, d.kShape, { requiresGrad: true });
          const b = d.b ? tensor(d.b, [c.cout], { requiresGrad: true }) : null;
          const y = conv2d(x, k, b, options(c));
          y.backward(tensor(values(d.rng, y.size), y.shape));
          return [Array.from(k.grad!.toArray()), b ? Array.from(b.grad!.toArray()) : []];
        });
        expect(grads(false)).toEqual(grads(true));
      }),
      { numRuns: 30 },
    );
  });

  it("matches the reference at the model's shapes (conv1 and conv2, batch 2)", () => {
    checkCase({ n: 2, h: 28, w: 28, cin: 1, cout: 64, kh: 2, kw: 2, strides: [1, 1], padding: "same", bias: true, relu: true, seed: 1 }, "auto", "auto");
    checkCase({ n: 2, h: 28, w: 28, cin: 1, cout: 64, kh: 2, kw: 2, strides: [1, 1], padding: "same", bias: true, relu: true, seed: 3, xGrad: false }, "auto", "auto");
    checkCase({ n: 2, h: 14, w: 14, cin: 64, cout: 32, kh: 2, kw: 2, strides: [1, 1], padding: "same", bias: true, relu: true, seed: 2 }, "auto", "auto");
  });

  it("passes gradcheck away from the relu kink", () => {
    const small = cases({ n: 2, hw: 4, cin: 3, cout: 5 }).filter((c) => {
      if (!c.relu) return true;
      const d = data(c);
      const z = conv2dReference(d.x, d.xShape, d.k, d.kShape, d.b, { strides: c.strides, padding: c.padding }).y;
      return z.every((v) => Math.abs(v) > 2e-2);
    });
    fc.assert(
      fc.property(small, (c) =>
        tidy(() => {
          const d = data(c);
          const inputs = [tensor(d.x, d.xShape, { requiresGrad: true }), tensor(d.k, d.kShape, { requiresGrad: true })];
          if (d.b) inputs.push(tensor(d.b, [c.cout], { requiresGrad: true }));
          const fn = (x: Tensor, k: Tensor, b?: Tensor) => conv2d(x, k, b ?? null, options(c));
          return gradcheck(fn, inputs, { eps: 1e-3, atol: 1e-2, rtol: 1e-2 }).ok;
        }),
      ),
      { numRuns: 20 },
    );
  });

  it("pads a 2x2 kernel 'same' as TensorFlow: nothing before, one after (hand-derived)", () =>
    tidy(() => {
      const x = tensor([1, 2, 3, 4], [1, 2, 2, 1], { requiresGrad: true });
      const k = tensor([1, 10, 100, 1000], [2, 2, 1, 1], { requiresGrad: true });
      for (const path of ["direct", "implicit", "gemm"] as const) {
        conv2dStrategy.forward = conv2dStrategy.filter = path;
        x.grad = k.grad = null;
        const y = conv2d(x, k, null, { padding: "same" });
        // y[0,0] = 1·1 + 2·10 + 3·100 + 4·1000; the right column and bottom row see zeros after.
        expect(Array.from(y.toArray())).toEqual([4321, 402, 43, 4]);
        y.backward(tensor([1, 1, 1, 1], [1, 2, 2, 1]));
        expect(Array.from(k.grad!.toArray())).toEqual([1 + 2 + 3 + 4, 2 + 4, 3 + 4, 4]);
        expect(Array.from(x.grad!.toArray())).toEqual([1, 1 + 10, 1 + 100, 1 + 10 + 100 + 1000]);
      }
    }));

  it("pads 'same' with stride 2 as TensorFlow: 3 rows, kernel 2 → 2 outputs, 0 before, 1 after", () =>
    tidy(() => {
      const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
      const y = conv2d(x, tensor([1, 0, 0, 0], [2, 2, 1, 1]), null, { padding: "same", strides: 2 });
      // The top-left tap picks x[0,0], x[0,2], x[2,0], x[2,2].
      expect(y.shape).toEqual([1, 2, 2, 1]);
      expect(Array.from(y.toArray())).toEqual([1, 3, 7, 9]);
    }));

  it("fuses bias and relu, and masks the backward by output > 0", () =>
    tidy(() => {
      const x = tensor([1, -1], [1, 1, 2, 1]);
      const k = tensor([2], [1, 1, 1, 1], { requiresGrad: true });
      const b = tensor([0.5], [1], { requiresGrad: true });
      const y = conv2d(x, k, b, { activation: "relu" });
      expect(Array.from(y.toArray())).toEqual([2.5, 0]);
      y.backward(tensor([3, 7], [1, 1, 2, 1]));
      expect(Array.from(k.grad!.toArray())).toEqual([3]);
      expect(Array.from(b.grad!.toArray())).toEqual([3]);
    }));

  it("skips the input gradient when the input does not require one", () =>
    tidy(() => {
      const x = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
      const k = tensor([1, 1, 1, 1], [2, 2, 1, 1], { requiresGrad: true });
      conv2d(x, k, null, { padding: "same" }).backward(tensor([1, 1, 1, 1], [1, 2, 2, 1]));
      expect(x.grad).toBeNull();
      expect(k.grad).not.toBeNull();
    }));

  it("rejects bad arguments with messages that say what was expected", () =>
    tidy(() => {
      const x = Tensor.zeros([1, 4, 4, 3]);
      expect(() => conv2d(x, Tensor.zeros([2, 2, 1, 8]), null)).toThrow("conv2d: input has 3 channels, kernel expects 1");
      expect(() => conv2d(Tensor.zeros([4, 4, 3]), Tensor.zeros([2, 2, 3, 8]), null)).toThrow(/conv2d: input must have rank 4.*\[4,4,3\]/);
      expect(() => conv2d(x, Tensor.zeros([2, 3, 8]), null)).toThrow(/conv2d: kernel must have rank 4/);
      expect(() => conv2d(x, Tensor.zeros([2, 2, 3, 8]), Tensor.zeros([4]))).toThrow("conv2d: bias has shape [4], expected [8]");
      expect(() => conv2d(x, Tensor.zeros([5, 2, 3, 8]), null, { padding: "valid" })).toThrow("conv2d: kernel 5x2 is larger than the input 4x4 with 'valid' padding");
      expect(() => conv2d(x, Tensor.zeros([2, 2, 3, 8]), null, { strides: 0 })).toThrow(/conv2d: strides must be a positive integer/);
      expect(() => conv2d(x, Tensor.zeros([2, 2, 3, 8]), null, { padding: "full" as "same" })).toThrow(/conv2d: padding must be "same" or "valid"/);
      expect(() => conv2d(x, Tensor.zeros([2, 2, 3, 8]), null, { activation: "tanh" as "relu" })).toThrow(/conv2d: activation must be/);
      expect(conv2d(x, Tensor.zeros([5, 5, 3, 8]), null, { padding: "same" }).shape).toEqual([1, 4, 4, 8]);
    }));
});
