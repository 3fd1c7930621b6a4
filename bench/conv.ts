// conv2d and maxPool2d at the tutorial model's shapes (batch 32): each path of the op (direct
// kernels, im2col + GEMM) and the plain TypeScript reference. Backward rows time `backward()`
// alone (the forward runs untimed before each sample), with only the named inputs requiring
// gradients, so dW (with db and the relu mask) and dX are measured apart. Without dX, the direct
// path's dW+db row is the fused kernel gradient (relu mask and db in the same pass, as conv1 in
// training), the other paths write dZ first. conv1+pool1 and conv2+pool2 rows: each convolution
// and its 2x2 pooling as one op (conv2dMaxPool) against the two ops one after the other, forward
// and backward, with the ratio of the two medians; then the same with the model's dropout after
// the pooling (+dropout rows: conv2dMaxPool's option, as Sequential runs the tutorial's model,
// against three ops).

import { conv2d, conv2dMaxPool, dropout, maxPool2d, Generator, tensor, tidy, type Tensor } from "../src/index.js";
import { conv2dStrategy, type Conv2dPath } from "../src/autograd/ops/conv2d.js";
import { conv2dReference, conv2dReferenceBackward } from "../test/reference/conv2d.js";
import { maxPool2dReference, maxPool2dReferenceBackward } from "../test/reference/maxpool2d.js";
import { clock, measure, row, summarize, type BenchOptions, type BenchRow, type Timing } from "./harness.js";

export const group = "conv";

interface ConvShape {
  name: string;
  x: [number, number, number, number];
  k: [number, number, number, number];
}

const CONVS: ConvShape[] = [
  { name: "conv1", x: [32, 28, 28, 1], k: [2, 2, 1, 64] },
  { name: "conv2", x: [32, 14, 14, 64], k: [2, 2, 64, 32] },
];
const POOLS: { name: string; x: [number, number, number, number] }[] = [
  { name: "pool1", x: [32, 28, 28, 64] },
  { name: "pool2", x: [32, 14, 14, 32] },
];

function random(n: number, seed: number): Float32Array {
  const rng = new Generator(seed);
  return Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
}

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Times only `timed` in each sample; `prepare` runs untimed before it, inside the same scope. */
function measureSplit<T>(prepare: () => T, timed: (state: T) => void, quick: boolean): Timing {
  const warmup = 2;
  const minMs = quick ? 150 : 600;
  const samples: number[] = [];
  const start = clock();
  for (let i = 0; samples.length < (quick ? 5 : 10) || clock() - start < minMs; i++) {
    tidy(() => {
      const state = prepare();
      const t0 = clock();
      timed(state);
      if (i >= warmup) samples.push(clock() - t0);
    });
    if (samples.length >= 500) break;
  }
  return summarize(samples);
}

/** The tutorial model's dropout rate after each pooling. */
const DROPOUT_RATE = 0.3;

/**
 * Each convolution and its pooling as one op and as two, forward and backward; then with the
 * dropout after them, as one op and as three. conv1's backward is dW+db (its input is the data);
 * conv2's is dX+dW+db, from a pooled gradient with a third of its values zero, as dropout(0.3)
 * after the pooling leaves it in training.
 */

function fusedRows(quick: boolean): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const rate of [0, DROPOUT_RATE]) CONVS.forEach((c, index) => {
    const [n, h, w] = c.x;
    const cout = c.k[3];
    const xGrad = index > 0;
    const xv = random(size(c.x), 1);
    const kv = random(size(c.k), 2);
    const bv = random(cout, 3);
    const gyv = random(n * (h / 2) * (w / 2) * cout, 4).map((v, i) => (i % 3 === 2 ? 0 : v));
    const opts = { padding: "same" as const, activation: "relu" as const };
    const flops = 2 * n * h * w * cout * size(c.k.slice(0, 3));
    const shape = `(${c.x})*(${c.k}) same relu, 2x2/2`;
    // With a rate, the model's dropout after the pooling (fused into the op's kernels either way).
    const drop = () => ({ rate, generator: new Generator(7) });
    const ways = rate === 0 ? {
      fused: (x: Tensor, k: Tensor, b: Tensor) => conv2dMaxPool(x, k, b, opts),
      separate: (x: Tensor, k: Tensor, b: Tensor) => maxPool2d(conv2d(x, k, b, opts)),
    } : {
      fused: (x: Tensor, k: Tensor, b: Tensor) => conv2dMaxPool(x, k, b, { ...opts, dropout: drop() }),
      separate: (x: Tensor, k: Tensor, b: Tensor) => dropout(maxPool2d(conv2d(x, k, b, opts)), rate, drop()),
    };
    const name = `${c.name}+pool${index + 1}${rate === 0 ? "" : "+dropout"}`;
    const backward = xGrad ? "backward dX+dW+db" : "backward dW+db";
    for (const pass of ["forward", backward]) {
      const timings = Object.entries(ways).map(([way, op]) => {
        const t = pass === "forward"
          ? tidy(() => {
            const [x, k, b] = [tensor(xv, c.x), tensor(kv, c.k), tensor(bv, [cout])];
            return measure(() => tidy(() => void op(x, k, b)), { minMs: quick ? 150 : 600 });
          })
          : measureSplit(
            () => ({
              y: op(tensor(xv, c.x, { requiresGrad: xGrad }), tensor(kv, c.k, { requiresGrad: true }), tensor(bv, [cout], { requiresGrad: true })),
              gy: tensor(gyv, [n, h / 2, w / 2, cout]),
            }),
            ({ y, gy }) => y.backward(gy),
            quick,
          );
        // The dense equivalent: the fused conv2 backward does fewer (it skips the zero gradients).
        return row({ group, name: `${name} ${pass}`, shape, impl: `simd-${way}` }, t, { flops: pass === "forward" ? flops : (xGrad ? 2 : 1) * flops });
      });
      timings[0].extra = { "separate / fused": timings[1].medianMs / timings[0].medianMs };
      rows.push(...timings);
    }
  });
  return rows;
}

export async function run(options: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const { quick } = options;
  const refRuns = { minMs: 0, minRuns: quick ? 1 : 3, maxRuns: quick ? 1 : 3, warmup: 0 };
  const saved = { ...conv2dStrategy };
  try {
    for (const c of CONVS) {
      const [n, h, w, cin] = c.x;
      const [kh, kw, , cout] = c.k;
      const shape = `(${c.x})*(${c.k}) same relu`;
      const flops = 2 * n * h * w * cout * kh * kw * cin; // 'same', stride 1: oh*ow = h*w
      const xv = random(size(c.x), 1);
      const kv = random(size(c.k), 2);
      const bv = random(cout, 3);
      const gyv = random(n * h * w * cout, 4);
      const opts = { padding: "same" as const, activation: "relu" as const };
      const base = (name: string, impl: string) => ({ group, name: `${c.name} ${name}`, shape, impl });

      for (const path of ["direct", "implicit", "gemm"] as Conv2dPath[]) {
        conv2dStrategy.forward = conv2dStrategy.filter = path;
        const t = tidy(() => {
          const x = tensor(xv, c.x);
          const k = tensor(kv, c.k);
          const b = tensor(bv, [cout]);
          return measure(() => tidy(() => void conv2d(x, k, b, opts)), { minMs: quick ? 150 : 600 });
        });
        rows.push(row(base("forward", `simd-${path}`), t, { flops }));
        const backward = (grads: "dW+db" | "dX") => {
          const tb = measureSplit(
            () => {
              const x = tensor(xv, c.x, { requiresGrad: grads === "dX" });
              const k = tensor(kv, c.k, { requiresGrad: grads !== "dX" });
              const b = tensor(bv, [cout], { requiresGrad: grads !== "dX" });
              return { y: conv2d(x, k, b, opts), gy: tensor(gyv, [n, h, w, cout]) };
            },
            ({ y, gy }) => y.backward(gy),
            quick,
          );
          rows.push(row(base(`backward ${grads}`, `simd-${path}`), tb, { flops }));
        };
        backward("dW+db");
        // The dX path is im2col-free GEMM + col2im either way; conv1 never needs it.
        if (path === "gemm" && c.name !== "conv1") backward("dX");
      }

      const y = conv2dReference(xv, c.x, kv, c.k, bv, { padding: "same", relu: true });
      rows.push(row(base("forward", "reference"), measure(() => conv2dReference(xv, c.x, kv, c.k, bv, { padding: "same", relu: true }), refRuns), { flops }));
      rows.push(row(base("backward dX+dW+db", "reference"),
        measure(() => conv2dReferenceBackward(xv, c.x, kv, c.k, y.y, gyv, { padding: "same", relu: true }), refRuns), { flops: 2 * flops }));
    }

    Object.assign(conv2dStrategy, saved); // the paths the model runs
    rows.push(...fusedRows(quick));

    for (const p of POOLS) {
      const [n, h, w, ch] = p.x;
      const ySize = n * (h / 2) * (w / 2) * ch;
      const xv = random(size(p.x), 5);
      const gyv = random(ySize, 6);
      const shape = `(${p.x}) 2x2/2`;
      const base = (name: string, impl: string) => ({ group, name: `${p.name} ${name}`, shape, impl });
      // Bytes moved: forward reads x, writes y and the i32 winners; backward reads gy and the
      // winners and writes gx.
      const fwdBytes = 4 * (xv.length + 2 * ySize);
      const bwdBytes = 4 * (xv.length + 2 * ySize);
      const t = tidy(() => {
        const x = tensor(xv, p.x);
        return measure(() => tidy(() => void maxPool2d(x)), { minMs: quick ? 150 : 600 });
      });
      rows.push(row(base("forward", "simd"), t, { bytes: fwdBytes }));
      const tb = measureSplit(
        () => ({ y: maxPool2d(tensor(xv, p.x, { requiresGrad: true })), gy: tensor(gyv, [n, h / 2, w / 2, ch]) }),
        ({ y, gy }) => y.backward(gy),
        quick,
      );
      rows.push(row(base("backward", "simd"), tb, { bytes: bwdBytes }));
      const ref = maxPool2dReference(xv, p.x);
      rows.push(row(base("forward", "reference"), measure(() => maxPool2dReference(xv, p.x), refRuns), { bytes: fwdBytes }));
      rows.push(row(base("backward", "reference"), measure(() => maxPool2dReferenceBackward(xv.length, ref.argmax, gyv), refRuns), { bytes: bwdBytes }));
    }
  } finally {
    Object.assign(conv2dStrategy, saved);
  }
  return rows;
}
