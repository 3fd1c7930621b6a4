import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { conv2d, conv2dMaxPool, dropout, Generator, gradcheck, maxPool2d, memoryStats, tensor, Tensor, tidy } from "../../../src/index.js";
import { conv2dReference, conv2dReferenceBackward } from "../../reference/conv2d.js";
import { maxPool2dReference, maxPool2dReferenceBackward } from "../../reference/maxpool2d.js";
import { expectClose, setup } from "../../helpers/setup.js";

beforeAll(setup);

interface Case {
  n: number; h: number; w: number; cin: number; cout: number; kh: number; kw: number;
  strides: [number, number]; padding: "same" | "valid"; bias: boolean; relu: boolean; seed: number;
}

/**
 * Shapes the fused kernels take: few taps (kh*kw*cin ≤ 16, the direct path), cout a multiple of
 * 4, a convolution output of at least 2x2 (odd sizes leave a row or column out of the windows).
 */
const fusableCases = fc.record({
  n: fc.integer({ min: 1, max: 4 }), h: fc.integer({ min: 2, max: 9 }), w: fc.integer({ min: 2, max: 9 }),
  cin: fc.integer({ min: 1, max: 2 }), cout: fc.constantFrom(4, 8, 12, 64),
  kh: fc.integer({ min: 1, max: 2 }), kw: fc.integer({ min: 1, max: 2 }),
  strides: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
  padding: fc.constantFrom("same" as const, "valid" as const), bias: fc.boolean(), relu: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1e9 }),
}).filter((c) => {
  const out = (n: number, k: number, s: number) => (c.padding === "same" ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1);
  return out(c.h, c.kh, c.strides[0]) >= 2 && out(c.w, c.kw, c.strides[1]) >= 2;
});

function data(c: Case) {
  const rng = new Generator(c.seed);
  const values = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
  return {
    x: values(c.n * c.h * c.w * c.cin),
    k: values(c.kh * c.kw * c.cin * c.cout),
    b: c.bias ? values(c.cout) : null,
    xShape: [c.n, c.h, c.w, c.cin] as const,
    kShape: [c.kh, c.kw, c.cin, c.cout] as const,
    rng,
  };
}

const options = (c: Case) => ({ strides: c.strides, padding: c.padding, activation: c.relu ? "relu" as const : "linear" as const });

/**
 * y, and the gradients of x (if it requires one), the kernel and the bias, for an output gradient
 * of sin(i), zero at every third value (as dropout after the pooling leaves it). With `rate`, a
 * dropout follows the pooling (fused: conv2dMaxPool's option), its seeds from Generator(c.seed + 1).
 */
function run(c: Case, fused: boolean, xGrad = false, rate?: number): { y: Float32Array; op: string; dx?: Float32Array; dk: Float32Array; db?: Float32Array } {
  return tidy(() => {
    const d = data(c);
    const x = tensor(d.x, d.xShape, { requiresGrad: xGrad });
    const k = tensor(d.k, d.kShape, { requiresGrad: true });
    const b = d.b ? tensor(d.b, [c.cout], { requiresGrad: true }) : null;
    const generator = new Generator(c.seed + 1);
    const y = rate === undefined
      ? fused ? conv2dMaxPool(x, k, b, options(c)) : maxPool2d(conv2d(x, k, b, options(c)), { poolSize: 2 })
      : fused ? conv2dMaxPool(x, k, b, { ...options(c), dropout: { rate, generator } })
      : dropout(maxPool2d(conv2d(x, k, b, options(c)), { poolSize: 2 }), rate, { generator });
    const op = y.node!.op;
    y.backward(tensor(Array.from({ length: y.size }, (_, i) => (i % 3 === 2 ? 0 : Math.sin(i))), y.shape));
    return { y: y.toArray(), op, dx: xGrad ? x.grad!.toArray() : undefined, dk: k.grad!.toArray(), db: b?.grad!.toArray() };
  });
}

/** The plain TypeScript reference: conv2d then max pooling (float64 sums), and its gradients for run()'s output gradient. */
function reference(c: Case) {
  const d = data(c);
  const conv = conv2dReference(d.x, d.xShape, d.k, d.kShape, d.b, { strides: c.strides, padding: c.padding, relu: c.relu });
  const pool = maxPool2dReference(conv.y, conv.shape, { poolSize: [2, 2], strides: [2, 2], padding: "valid" });
  const gy = Float32Array.from({ length: pool.y.length }, (_, i) => (i % 3 === 2 ? 0 : Math.sin(i)));
  const gConv = maxPool2dReferenceBackward(conv.y.length, pool.argmax, gy);
  return { y: pool.y, ...conv2dReferenceBackward(d.x, d.xShape, d.k, d.kShape, conv.y, gConv, { strides: c.strides, padding: c.padding, relu: c.relu }) };
}

/** Finite differences of 1e-3 must not move a convolution output across 0 (relu) or past its window's runner-up. */
function awayFromKinks(c: Case): boolean {
  const d = data(c);
  const z = conv2dReference(d.x, d.xShape, d.k, d.kShape, d.b, { strides: c.strides, padding: c.padding }).y;
  if (c.relu && !z.every((v) => Math.abs(v) > 2e-2)) return false;
  const sorted = Array.from(z).sort((a, b) => a - b);
  return sorted.every((v, i) => i === 0 || v - sorted[i - 1] > 2e-2);
}

describe("conv2dMaxPool", () => {
  it("gives maxPool2d(conv2d(...))'s values and kernel and bias gradients bit for bit, on the fused kernels, and dropout(...)'s with dropout", () => {
    fc.assert(
      fc.property(fusableCases, fc.constantFrom(undefined, 0.1, 0.3, 0.5, 0.9), (c, rate) => {
        const fused = run(c, true, false, rate);
        const separate = run(c, false, false, rate);
        expect(fused.op).toBe(rate === undefined ? "conv2dMaxPool" : "conv2dMaxPoolDropout");
        expect(fused.y).toEqual(separate.y);
        expect(fused.dk).toEqual(separate.dk);
        expect(fused.db).toEqual(separate.db);
      }),
    );
  });

  it("matches the plain TypeScript reference (conv2d then max pooling, float64 sums)", () => {
    fc.assert(
      fc.property(fusableCases, (c) => {
        const ref = reference(c);
        const got = run(c, true);
        expectClose(got.y, ref.y, 1e-5, 1e-5);
        expectClose(got.dk, ref.dk, 1e-4, 1e-4);
        if (c.bias) expectClose(got.db!, ref.db, 1e-4, 1e-4);
      }),
    );
  });

  it("passes gradcheck for the kernel and the bias, away from the relu kink and pooling ties, with or without dropout", () => {
    const small = fusableCases.filter((c) => c.n <= 2 && c.h <= 5 && c.w <= 5 && c.cout <= 8 && awayFromKinks(c));
    fc.assert(
      fc.property(small, fc.boolean(), (c, drop) =>
        tidy(() => {
          const d = data(c);
          const x = tensor(d.x, d.xShape);
          const inputs = [tensor(d.k, d.kShape, { requiresGrad: true })];
          if (d.b) inputs.push(tensor(d.b, [c.cout], { requiresGrad: true }));
          // A fresh generator each evaluation: the same mask every time.
          const withDropout = () => (drop ? { dropout: { rate: 0.3, generator: new Generator(c.seed) } } : {});
          const fn = (k: Tensor, b?: Tensor) => conv2dMaxPool(x, k, b ?? null, { ...options(c), ...withDropout() });
          return gradcheck(fn, inputs, { eps: 1e-3, atol: 1e-2, rtol: 1e-2 }).ok;
        }),
      ),
      { numRuns: 20 },
    );
  });

  it("runs the two ops when the input needs a gradient, or the shape does not fit the fused kernels", () => {
    const base: Case = { n: 2, h: 6, w: 5, cin: 1, cout: 8, kh: 2, kw: 2, strides: [1, 1], padding: "same", bias: true, relu: true, seed: 3 };
    for (const [c, xGrad] of [[base, true], [{ ...base, cout: 6 }, false], [{ ...base, cin: 5, kh: 2, kw: 2 }, false]] as [Case, boolean][]) {
      const fused = run(c, true, xGrad);
      const separate = run(c, false, xGrad);
      expect(fused.op).toBe("maxPool2d");
      expect(fused.y).toEqual(separate.y);
      expect(fused.dk).toEqual(separate.dk);
      expect(fused.dx).toEqual(separate.dx);
    }
  });

  it("needs no tape without gradients: the same values under plain tensors", () => {
    const c: Case = { n: 3, h: 28, w: 28, cin: 1, cout: 64, kh: 2, kw: 2, strides: [1, 1], padding: "same", bias: true, relu: true, seed: 5 };
    const d = data(c);
    tidy(() => {
      const x = tensor(d.x, d.xShape);
      const k = tensor(d.k, d.kShape);
      const b = tensor(d.b!, [c.cout]);
      const y = conv2dMaxPool(x, k, b, options(c));
      expect(y.shape).toEqual([3, 14, 14, 64]);
      expect(y.node).toBeNull();
      expect(y.toArray()).toEqual(maxPool2d(conv2d(x, k, b, options(c))).toArray());
    });
  });

  it("keeps a byte an output for the backward besides the output itself", () => {
    const c: Case = { n: 4, h: 28, w: 28, cin: 1, cout: 64, kh: 2, kw: 2, strides: [1, 1], padding: "same", bias: true, relu: true, seed: 8 };
    const d = data(c);
    tidy(() => {
      const x = tensor(d.x, d.xShape);
      const k = tensor(d.k, d.kShape, { requiresGrad: true });
      const b = tensor(d.b!, [c.cout], { requiresGrad: true });
      const before = memoryStats().liveBytes;
      const y = conv2dMaxPool(x, k, b, { ...options(c), dropout: { rate: 0.3, generator: new Generator(1) } });
      expect(y.node!.op).toBe("conv2dMaxPoolDropout");
      // [4, 14, 14, 64] floats and as many code bytes: no pooled values before dropout, no i32 winners, no mask.
      const grew = memoryStats().liveBytes - before;
      expect(grew).toBeGreaterThanOrEqual(5 * y.size);
      expect(grew).toBeLessThan(5 * y.size + 1024);
    });
  });

  it("rejects bad arguments naming the op", () =>
    tidy(() => {
      const x = tensor(new Float32Array(2 * 4 * 4), [2, 4, 4, 1]);
      expect(() => conv2dMaxPool(x, tensor(new Float32Array(8), [2, 2, 2, 1]), null)).toThrow(/conv2dMaxPool: input has 1 channels, kernel expects 2/);
      expect(() => conv2dMaxPool(x, tensor(new Float32Array(4), [2, 2, 1, 1]), null, { activation: "tanh" as "relu" })).toThrow(/conv2dMaxPool: activation/);
      expect(() => conv2dMaxPool(x, tensor(new Float32Array(16), [2, 2, 1, 4]), null, { dropout: { rate: 1 } }))
        .toThrow("conv2dMaxPool: dropout.rate must be a number in [0, 1), got 1");
    }));
});

/**
 * Shapes that take the other way: input and output channels multiples of 4 and more than 16 taps
 * per output (or an input that needs a gradient), so the backward visits the pooled gradient's
 * nonzero values (kernels/conv_pool_sparse.ts); 36 input channels exercise its 4-channel tail.
 */
const sparseCases = fc.record({
  n: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 2, max: 9 }), w: fc.integer({ min: 2, max: 9 }),
  cin: fc.constantFrom(4, 8, 12, 36), cout: fc.constantFrom(4, 8, 12),
  kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }),
  strides: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
  padding: fc.constantFrom("same" as const, "valid" as const), bias: fc.boolean(), relu: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1e9 }), xGrad: fc.boolean(),
}).filter((c) => {
  const out = (n: number, k: number, s: number) => (c.padding === "same" ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1);
  const fits = c.kh <= c.h && c.kw <= c.w;
  return fits && out(c.h, c.kh, c.strides[0]) >= 2 && out(c.w, c.kw, c.strides[1]) >= 2 && (c.xGrad || c.kh * c.kw * c.cin > 16);
});

describe("conv2dMaxPool, backward from the pooled gradient's nonzero values", () => {
  it("gives maxPool2d(conv2d(...))'s values bit for bit and its gradients to float rounding", () => {
    fc.assert(
      fc.property(sparseCases, (c) => {
        const fused = run(c, true, c.xGrad);
        const separate = run(c, false, c.xGrad);
        expect(fused.op).toBe("conv2dMaxPool");
        expect(fused.y).toEqual(separate.y);
        expectClose(fused.dk, separate.dk, 1e-5, 1e-4);
        if (c.bias) expectClose(fused.db!, separate.db!, 1e-5, 1e-4);
        if (c.xGrad) expectClose(fused.dx!, separate.dx!, 1e-5, 1e-4);
      }),
      { numRuns: 60 },
    );
  });

  it("matches the plain TypeScript reference (conv2d then max pooling, float64 sums)", () => {
    fc.assert(
      fc.property(sparseCases, (c) => {
        const ref = reference(c);
        const got = run(c, true, true);
        expectClose(got.y, ref.y, 1e-5, 1e-5);
        expectClose(got.dk, ref.dk, 1e-4, 1e-4);
        expectClose(got.dx!, ref.dx, 1e-4, 1e-4);
        if (c.bias) expectClose(got.db!, ref.db, 1e-4, 1e-4);
      }),
    );
  });

  it("passes gradcheck for the input, the kernel and the bias, away from the relu kink and pooling ties", () => {
    const small = sparseCases.filter((c) => c.n <= 2 && c.h <= 5 && c.w <= 5 && c.cin <= 12 && c.cout <= 8 && awayFromKinks(c));
    fc.assert(
      fc.property(small, (c) =>
        tidy(() => {
          const d = data(c);
          const inputs = [tensor(d.x, d.xShape, { requiresGrad: true }), tensor(d.k, d.kShape, { requiresGrad: true })];
          if (d.b) inputs.push(tensor(d.b, [c.cout], { requiresGrad: true }));
          const fn = (x: Tensor, k: Tensor, b?: Tensor) => conv2dMaxPool(x, k, b ?? null, options(c));
          return gradcheck(fn, inputs, { eps: 1e-3, atol: 1e-2, rtol: 1e-2 }).ok;
        }),
      ),
      { numRuns: 10 },
    );
  });

  it("gives the same values bit for bit when the taps take several K blocks of the implicit forward (64 channels, up to 3x3 taps)", () => {
    // 2x2 or 3x3 taps of 64 channels: 256 or 576 rows of B, more than one block of 384 rows at
    // 16 output channels; 7x7 or 5x9 pixels an image end 4-row strips inside images.
    const blocks = fc.record({
      n: fc.integer({ min: 1, max: 3 }), h: fc.constantFrom(5, 7), w: fc.constantFrom(7, 9), cin: fc.constant(64),
      cout: fc.constantFrom(4, 16), kh: fc.constantFrom(2, 3), kw: fc.constant(3), strides: fc.constant<[number, number]>([1, 1]),
      padding: fc.constantFrom("same" as const, "valid" as const), bias: fc.boolean(), relu: fc.boolean(),
      seed: fc.integer({ min: 0, max: 1e9 }),
    });
    fc.assert(
      fc.property(blocks, fc.constantFrom(undefined, 0.3), (c, rate) => {
        const fused = run(c, true, false, rate);
        expect(fused.y).toEqual(run(c, false, false, rate).y);
      }),
      { numRuns: 20 },
    );
  });

  it("keeps no full-resolution activation for the backward: it frees the convolution's output at once", () => {
    const c: Case = { n: 4, h: 14, w: 14, cin: 64, cout: 32, kh: 2, kw: 2, strides: [1, 1], padding: "same", bias: true, relu: true, seed: 7 };
    const d = data(c);
    tidy(() => {
      const x = tensor(d.x, d.xShape, { requiresGrad: true });
      const k = tensor(d.k, d.kShape, { requiresGrad: true });
      const b = tensor(d.b!, [c.cout], { requiresGrad: true });
      const before = memoryStats().liveBytes;
      const y = conv2dMaxPool(x, k, b, options(c));
      // The pooled output [4, 7, 7, 32] and a code byte for each of its values, nothing of [4, 14, 14, 32].
      expect(memoryStats().liveBytes - before).toBeLessThan(5 * y.size + 1024);
    });
  });
});

describe("conv2dMaxPool with dropout after the pooling", () => {
  const rates = fc.constantFrom(0.1, 0.3, 0.5, 0.9);

  it("gives dropout(maxPool2d(conv2d(...)))'s values bit for bit and its gradients to float rounding on the other way", () => {
    fc.assert(
      fc.property(sparseCases, rates, (c, rate) => {
        const fused = run(c, true, c.xGrad, rate);
        const separate = run(c, false, c.xGrad, rate);
        expect(fused.op).toBe("conv2dMaxPoolDropout");
        expect(fused.y).toEqual(separate.y);
        expectClose(fused.dk, separate.dk, 1e-5, 1e-4);
        if (c.xGrad) expectClose(fused.dx!, separate.dx!, 1e-5, 1e-4);
      }),
      { numRuns: 30 },
    );
  });

  it("drops nothing out of training or at rate 0: the op without dropout, and no seed drawn", () => {
    const c: Case = { n: 2, h: 8, w: 8, cin: 1, cout: 8, kh: 2, kw: 2, strides: [1, 1], padding: "same", bias: true, relu: true, seed: 4 };
    const plain = run(c, true);
    tidy(() => {
      const d = data(c);
      const x = tensor(d.x, d.xShape);
      const k = tensor(d.k, d.kShape, { requiresGrad: true });
      const b = tensor(d.b!, [c.cout], { requiresGrad: true });
      for (const drop of [{ rate: 0.5, training: false }, { rate: 0 }]) {
        const generator = new Generator(3);
        const y = conv2dMaxPool(x, k, b, { ...options(c), dropout: { ...drop, generator } });
        expect(y.node!.op).toBe("conv2dMaxPool");
        expect(y.toArray()).toEqual(plain.y);
        expect(generator.nextUint32()).toBe(new Generator(3).nextUint32());
      }
    });
  });

  it("drops about the rate's share, with a different mask for each draw", () => {
    const c: Case = { n: 8, h: 28, w: 28, cin: 1, cout: 64, kh: 2, kw: 2, strides: [1, 1], padding: "same", bias: true, relu: false, seed: 6 };
    const d = data(c);
    tidy(() => {
      const x = tensor(d.x, d.xShape);
      const k = tensor(d.k, d.kShape);
      const generator = new Generator(11);
      const masks = [0, 1].map(() => Array.from(conv2dMaxPool(x, k, null, { ...options(c), dropout: { rate: 0.3, generator } }).toArray(), (v) => v === 0));
      const dropped = masks[0].filter(Boolean).length / masks[0].length;
      // 100,352 values: the binomial's standard deviation is 0.0014.
      expect(Math.abs(dropped - 0.3)).toBeLessThan(0.01);
      expect(masks[1]).not.toEqual(masks[0]);
    });
  });
});
