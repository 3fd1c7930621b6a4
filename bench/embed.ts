// Embedding-head ops at the tutorial's shapes, batch 32: dropout on the pooled conv2 output
// (32,14,14,64), flatten of (32,7,7,32), L2 normalization of the (32,256) embeddings (memory-bound:
// GB/s counts the bytes each pass must read and write once), and the loss's distance matrices
// over the (32,256) embeddings.

import { angularDistance, dropout, flatten, Generator, l2Normalize, noGrad, pairwiseDistance, Tensor, tidy } from "../src/index.js";
import { kernels } from "../src/wasm/loader.js";
import { dropoutReference } from "../test/reference/dropout.js";
import { angularDistanceReference, pairwiseDistanceReference } from "../test/reference/distance.js";
import { l2NormalizeGradReference, l2NormalizeReference } from "../test/reference/l2normalize.js";
import { type BenchOptions, type BenchRow, measure, row } from "./harness.js";

export const group = "embed";

interface EmbedKernels {
  dropout_forward(x: number, y: number, mask: number, n: number, seedLo: number, seedHi: number, threshold: number, scale: number): void;
  dropout_backward(gy: number, mask: number, gx: number, n: number, scale: number): void;
  l2_normalize_forward(x: number, y: number, sumsq: number, rows: number, d: number, epsilon: number): void;
  l2_normalize_backward(y: number, gy: number, sumsq: number, gx: number, rows: number, d: number, epsilon: number): void;
}

function filled(shape: number[], seed: number): Tensor {
  const g = new Generator(seed);
  const t = Tensor.empty(shape, { persistent: true });
  const v = t.view();
  for (let i = 0; i < v.length; i++) v[i] = g.uniform(-1, 1);
  return t;
}

export async function run(options: BenchOptions): Promise<BenchRow[]> {
  const timing = { minMs: options.quick ? 150 : 600, warmup: 3 };
  const k = kernels<EmbedKernels>();
  const rows: BenchRow[] = [];

  // Dropout, rate 0.5, in training: the forward stores the mask (a byte an element) that the
  // backward reads.
  const dShape = [32, 14, 14, 64];
  const n = dShape.reduce((a, b) => a * b, 1);
  const shape = "(32,14,14,64)";
  const x = filled(dShape, 1);
  x.requiresGrad = true;
  const gy = filled(dShape, 2);
  const gx = Tensor.empty(dShape, { persistent: true });
  const generator = new Generator(3);
  const rate = 0.5;
  const threshold = Math.floor(rate * 4294967296) | 0;
  const scale = Math.fround(1 / (1 - rate));
  const dBytes = 2 * n * 4 + n;
  const mask = Tensor.empty([n / 4], { persistent: true });
  k.dropout_forward(x.ptr, gx.ptr, mask.ptr, n, 0x12345678, 0x9abcdef, threshold, scale);
  rows.push(row({ group, name: "dropout forward", shape, impl: "simd" },
    measure(() => tidy(() => void dropout(x, rate, { generator })), timing), { bytes: dBytes }));
  rows.push(row({ group, name: "dropout backward (kernel)", shape, impl: "simd" },
    measure(() => k.dropout_backward(gy.ptr, mask.ptr, gx.ptr, n, scale), timing), { bytes: dBytes }));
  const xs = x.toArray();
  const gys = gy.toArray();
  rows.push(row({ group, name: "dropout forward", shape, impl: "reference" },
    measure(() => void dropoutReference(xs, rate, 0x12345678, 0x9abcdef), timing), { bytes: dBytes }));
  rows.push(row({ group, name: "dropout backward", shape, impl: "reference" },
    measure(() => void dropoutReference(gys, rate, 0x12345678, 0x9abcdef), timing), { bytes: dBytes }));

  // L2 normalization of the embeddings.
  const eShape = "(32,256)";
  const e = filled([32, 256], 4);
  const ge = filled([32, 256], 5);
  const ye = Tensor.empty([32, 256], { persistent: true });
  const gxe = Tensor.empty([32, 256], { persistent: true });
  const sumsq = Tensor.empty([32], { persistent: true });
  const m = 32 * 256;
  k.l2_normalize_forward(e.ptr, ye.ptr, sumsq.ptr, 32, 256, 1e-12);
  rows.push(row({ group, name: "l2Normalize forward", shape: eShape, impl: "simd" },
    measure(() => tidy(() => void l2Normalize(e)), timing), { bytes: 2 * m * 4 }));
  rows.push(row({ group, name: "l2Normalize backward (kernel)", shape: eShape, impl: "simd" },
    measure(() => k.l2_normalize_backward(ye.ptr, ge.ptr, sumsq.ptr, gxe.ptr, 32, 256, 1e-12), timing), { bytes: 3 * m * 4 }));
  const es = e.toArray();
  const ges = ge.toArray();
  rows.push(row({ group, name: "l2Normalize forward", shape: eShape, impl: "reference" },
    measure(() => void l2NormalizeReference(es, 256), timing), { bytes: 2 * m * 4 }));
  rows.push(row({ group, name: "l2Normalize backward", shape: eShape, impl: "reference" },
    measure(() => void l2NormalizeGradReference(es, ges, 256), timing), { bytes: 3 * m * 4 }));

  // Flatten (a copy, and its gradient reshaped back).
  const f = filled([32, 7, 7, 32], 6);
  f.requiresGrad = true;
  const fBytes = 2 * f.size * 4;
  rows.push(row({ group, name: "flatten forward", shape: "(32,7,7,32)", impl: "simd" },
    measure(() => tidy(() => void noGrad(() => flatten(f))), timing), { bytes: fBytes }));
  rows.push(row({ group, name: "flatten forward+backward", shape: "(32,7,7,32)", impl: "simd" },
    measure(() => tidy(() => { const y = flatten(f); y.backward(Tensor.zeros(y.shape)); f.grad?.dispose(); f.grad = null; }), timing), { bytes: 2 * fBytes }));

  // The loss's distances: D = 256 per row, 32x32 out; the GEMM x·xᵀ is 2·32·32·256 FLOP.
  const flops = 2 * 32 * 32 * 256;
  e.requiresGrad = true;
  for (const [name, op, reference] of [
    ["pairwiseDistance", (t: Tensor) => pairwiseDistance(t), (v: Float32Array) => pairwiseDistanceReference(v, 32, 256)],
    ["angularDistance", (t: Tensor) => angularDistance(t), (v: Float32Array) => angularDistanceReference(v, 32, 256)],
  ] as const) {
    rows.push(row({ group, name: `${name} forward`, shape: eShape, impl: "simd" },
      measure(() => tidy(() => void noGrad(() => op(e))), timing), { flops }));
    rows.push(row({ group, name: `${name} forward+backward`, shape: eShape, impl: "simd" },
      measure(() => tidy(() => { const d = op(e); d.backward(Tensor.zeros(d.shape).set(new Float32Array(d.size).fill(1e-3))); e.grad?.dispose(); e.grad = null; }), timing), { flops: 3 * flops }));
    rows.push(row({ group, name: `${name} forward`, shape: eShape, impl: "reference" }, measure(() => void reference(es), timing), { flops }));
  }

  for (const t of [x, gy, gx, mask, e, ge, ye, gxe, sumsq, f]) t.dispose();
  return rows;
}
