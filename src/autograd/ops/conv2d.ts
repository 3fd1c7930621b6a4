// conv2d: NHWC input [n, h, w, cin], kernel [kh, kw, cin, cout], bias [cout], TensorFlow's
// 'same'/'valid' padding, optional fused relu. Three paths:
// - direct kernels, for few taps per output (kh*kw*cin small: conv1 is 2x2x1): the output is
//   written once with bias and relu fused, and the kernel gradient is accumulated directly;
// - implicit GEMM (kernels/conv_gemm.ts) for the rest: the GEMM micro-kernel reads patches
//   gathered straight from the image, so the patch matrix is never materialized; the input
//   gradient (stride 1) is the same kind of GEMM over the output gradient, with no col2im;
// - im2col + GEMM, explicitly: patches [n*oh*ow, kh*kw*cin] · kernel [kh*kw*cin, cout];
//   backward dW = patchesᵀ·dZ, dPatches = dZ·Wᵀ scattered back by col2im. Kept as a reference
//   path for tests and benchmarks, and for the input gradient of strided convolutions.
// With relu, the backward masks the output gradient by y > 0 (dZ), as relu's backward does;
// without an input gradient (conv1: its input is the data), the direct kernel gradient applies
// the mask a few output rows at a time and sums db itself, so dZ is never written.

import { gemm, gemmParallelism, partsForProduct } from "../../wasm/gemm.js";
import { kernels, parallelRunParts } from "../../wasm/loader.js";
import { itemThreads, runOverRanges, taperedRanges } from "../../wasm/split.js";
import { isGradEnabled, record } from "../tape.js";
import { Tensor } from "../tensor.js";
import { axis, checkPadding, pair, type Padding } from "./window.js";

export interface Conv2dOptions {
  /** Default 1. */
  strides?: number | [number, number];
  /** Default "valid", as Keras. */
  padding?: Padding;
  /** Default "linear". */
  activation?: "linear" | "relu";
}

export type Geometry = [n: number, h: number, w: number, cin: number, oh: number, ow: number, cout: number,
  kh: number, kw: number, sh: number, sw: number, pt: number, pl: number];

interface ConvKernels {
  conv2d_im2col(x: number, patches: number, n: number, h: number, w: number, cin: number,
    kh: number, kw: number, sh: number, sw: number, pt: number, pl: number, oh: number, ow: number): void;
  conv2d_col2im(dpatches: number, dx: number, n: number, h: number, w: number, cin: number,
    kh: number, kw: number, sh: number, sw: number, pt: number, pl: number, oh: number, ow: number): void;
  conv2d_bias_act(y: number, b: number, rows: number, cout: number, relu: number): void;
  conv2d_backward_bias(y: number, gy: number, dz: number, db: number, rows: number, cout: number, relu: number): void;
  conv2d_direct_scratch_floats(ow: number, cin: number, kh: number, kw: number, sw: number): number;
  conv2d_direct_filter_scratch_floats(ow: number, cin: number, kh: number, kw: number, sh: number, sw: number, cout: number): number;
  conv2d_direct_forward(x: number, wt: number, b: number, y: number, scratch: number, ...geometryAndRelu: [...Geometry, number]): void;
  conv2d_direct_backward_filter(x: number, y: number, gy: number, dw: number, db: number, scratch: number, ...geometry: Geometry): void;
  conv_gemm_scratch_floats(n: number, k: number, perTap: number, ch: number): number;
  sum_parts(dst: number, parts: number, n: number, stride: number, count: number): void;
}

export type Conv2dPath = "auto" | "direct" | "implicit" | "gemm";

/**
 * @internal Forces a path, for tests and benchmarks. "auto" picks per shape: direct up to this
 * many taps per output (kh*kw*cin), the implicit GEMM above. Measured inside a training step
 * (`bench/conv.ts` has rows for every path in isolation): the forward of conv1 (4 taps) is
 * fastest direct and conv2's (256 taps) as an implicit GEMM; the kernel gradient of both is
 * fastest direct (conv2: 9.9 ms direct, 14.2 implicit, 12.3 im2col+GEMM for its whole backward
 * on one thread), since the implicit one re-reads the input once per strip of 4 (tap, channel)s.
 */
export const conv2dStrategy: { forward: Conv2dPath; filter: Conv2dPath } = { forward: "auto", filter: "auto" };
const DIRECT_FORWARD_MAX_TAPS = 16;
const DIRECT_FILTER_MAX_TAPS = 1024;

function direct(path: Conv2dPath, taps: number, maxTaps: number): boolean {
  return path === "direct" || (path === "auto" && taps <= maxTaps);
}

/**
 * Runs an implicit-GEMM conv kernel (an (m x n) · (n... x k) product computed by rows [i0, i1))
 * on as many threads as gemm() would use for a product of that size, in parts of whole 4-row
 * strips that the threads take as they become free, each with its own scratch. `args` are the
 * arguments before i0, i1, with argument `scratchArg` to be replaced by the thread's scratch.
 */
function implicitGemm(kernel: string, m: number, n: number, k: number, scratchFloats: number, scratchArg: number, args: number[]): void {
  const threads = gemmParallelism(m, n, k).threads;
  const strips = Math.ceil(m / 4);
  // Each part packs all of B (k x n).
  const parts = partsForProduct(2 * m * n * k, k * n, threads, strips);
  const shares = taperedRanges(strips, parts).map(([s0, count]) => [...args, 4 * s0, Math.min(m, 4 * (s0 + count))]);
  const scratch = Array.from({ length: threads }, () => Tensor.empty([scratchFloats]));
  parallelRunParts(kernel, shares, { arg: scratchArg, values: scratch.map((w) => w.ptr) }, threads, true);
  for (const w of scratch) w.dispose();
}

/** A convolution's checked arguments: its geometry, the relu flag and the taps per output. */
export interface ConvSetup {
  g: Geometry;
  relu: 0 | 1;
  taps: number;
}

/** Checks conv2d's arguments (errors name the op `op`) and computes the geometry. */
export function convSetup(op: string, x: Tensor, kernel: Tensor, bias: Tensor | null, options: Conv2dOptions): ConvSetup {
  if (x.rank !== 4) throw new Error(`${op}: input must have rank 4 [batch, height, width, channels], got shape [${x.shape}]`);
  if (kernel.rank !== 4) throw new Error(`${op}: kernel must have rank 4 [height, width, inChannels, outChannels], got shape [${kernel.shape}]`);
  const [n, h, w, cin] = x.shape;
  const [kh, kw, kcin, cout] = kernel.shape;
  if (x.size === 0) throw new Error(`${op}: input shape [${x.shape}] has a zero size`);
  if (kernel.size === 0) throw new Error(`${op}: kernel shape [${kernel.shape}] has a zero size`);
  if (cin !== kcin) throw new Error(`${op}: input has ${cin} channels, kernel expects ${kcin}`);
  if (bias && (bias.rank !== 1 || bias.size !== cout)) throw new Error(`${op}: bias has shape [${bias.shape}], expected [${cout}]`);
  const [sh, sw] = pair(op, "strides", options.strides ?? 1);
  const padding = checkPadding(op, options.padding ?? "valid");
  const activation = options.activation ?? "linear";
  if (activation !== "linear" && activation !== "relu") throw new Error(`${op}: activation must be "linear" or "relu", got ${JSON.stringify(activation)}`);
  if (padding === "valid" && (kh > h || kw > w)) {
    throw new Error(`${op}: kernel ${kh}x${kw} is larger than the input ${h}x${w} with 'valid' padding`);
  }
  const rowsAxis = axis(h, kh, sh, padding);
  const colsAxis = axis(w, kw, sw, padding);
  const g: Geometry = [n, h, w, cin, rowsAxis.out, colsAxis.out, cout, kh, kw, sh, sw, rowsAxis.before, colsAxis.before];
  return { g, relu: activation === "relu" ? 1 : 0, taps: kh * kw * cin };
}

/** Whether the forward runs the direct kernel for a convolution with this many taps per output. */
export function directForward(taps: number): boolean {
  return direct(conv2dStrategy.forward, taps, DIRECT_FORWARD_MAX_TAPS);
}

/** Whether the forward runs the implicit GEMM (kernels/conv_gemm.ts) for a convolution with this many taps per output. */
export function implicitForward(taps: number): boolean {
  return !directForward(taps) && conv2dStrategy.forward !== "gemm";
}

/**
 * Threads and parts for an implicit-GEMM forward of n images ((rows x taps) · (taps x cout), rows
 * the output pixels of all of them) split by whole images, as implicitGemm splits it by rows.
 */
export function implicitForwardImageParts(n: number, rows: number, cout: number, taps: number): { threads: number; parts: number } {
  const threads = Math.min(n, gemmParallelism(rows, cout, taps).threads);
  return { threads, parts: Math.min(n, partsForProduct(2 * rows * cout * taps, taps * cout, threads, n)) };
}

/** Whether the kernel gradient runs the direct kernel for a convolution with this many taps per output. */
export function directFilter(taps: number): boolean {
  return direct(conv2dStrategy.filter, taps, DIRECT_FILTER_MAX_TAPS);
}

/**
 * Fixed parts of the batch a direct kernel gradient is summed in, whatever the thread count: each
 * part has its own dW and db, added in order after; enough of them that two threads share them
 * evenly when one is slowed down.
 */
const FILTER_PARTS = 8;

/**
 * A direct kernel gradient (`kernel`) summed over a batch of n in FILTER_PARTS fixed parts of the
 * batch, each into its own buffers (dw with the taps rounded up to 4, as the kernels write them;
 * db if given), then added in order: the threads take the parts as they become free, and the sums
 * are the same bit for bit on any thread count. `share(start, count, dw, db)` gives a part's
 * arguments (pointers; dw and db 0 when not given), in which argument `scratchArg` is replaced by
 * the running thread's scratch of `scratchFloats`; `bytes`: what the whole batch touches. Writes
 * dw (the kernel's shape) and db.
 */
export function directFilterInParts(kernel: string, n: number, taps: number, cout: number, dw: Tensor | null, db: Tensor | null,
                                    scratchFloats: number, scratchArg: number, bytes: number,
                                    share: (start: number, count: number, dw: number, db: number) => number[]): void {
  const k = kernels<ConvKernels>();
  const parts = taperedRanges(n, Math.max(1, Math.min(FILTER_PARTS, n)));
  const partFloats = ((taps + 3) & ~3) * cout;
  const dwParts = dw ? Tensor.empty([parts.length, partFloats]) : null;
  const dbParts = db ? Tensor.empty([parts.length, cout]) : null;
  const threads = Math.min(itemThreads(n, bytes), parts.length);
  const scratch = Array.from({ length: threads }, () => Tensor.empty([scratchFloats]));
  const shares = parts.map(([start, count], i) =>
    share(start, count, dwParts ? dwParts.ptr + i * partFloats * 4 : 0, dbParts ? dbParts.ptr + i * cout * 4 : 0));
  parallelRunParts(kernel, shares, { arg: scratchArg, values: scratch.map((s) => s.ptr) }, threads, true);
  if (dw) k.sum_parts(dw.ptr, dwParts!.ptr, dw.size, partFloats, parts.length);
  if (db) k.sum_parts(db.ptr, dbParts!.ptr, cout, cout, parts.length);
  for (const t of [dwParts, dbParts, ...scratch]) t?.dispose();
}

export function conv2d(x: Tensor, kernel: Tensor, bias: Tensor | null, options: Conv2dOptions = {}): Tensor {
  const { g, relu, taps } = convSetup("conv2d", x, kernel, bias, options);
  const [n, h, w, cin, oh, ow, cout, kh, kw, sh, sw] = g;
  const rows = n * oh * ow;
  // A 1x1 kernel with stride 1 and no padding: the input is its own patch matrix.
  const identityPatches = kh === 1 && kw === 1 && sh === 1 && sw === 1;
  const k = kernels<ConvKernels>();

  const im2col = (): Tensor => {
    if (identityPatches) return x;
    const patches = Tensor.empty([rows, taps]);
    k.conv2d_im2col(x.ptr, patches.ptr, n, h, w, cin, kh, kw, sh, sw, g[11], g[12], oh, ow);
    return patches;
  };

  const y = Tensor.empty([n, oh, ow, cout]);
  let patches: Tensor | null = null;
  if (directForward(taps)) {
    // Images are independent: threads take ranges of them, each with its own scratch rows.
    const inBytes = h * w * cin * 4;
    const outBytes = oh * ow * cout * 4;
    const rowsScratch = Array.from({ length: itemThreads(n, n * (inBytes + outBytes)) }, () => Tensor.empty([k.conv2d_direct_scratch_floats(ow, cin, kh, kw, sw)]));
    runOverRanges("conv2d_direct_forward", n, n * (inBytes + outBytes), (start, count) =>
      [x.ptr + start * inBytes, kernel.ptr, bias ? bias.ptr : 0, y.ptr + start * outBytes, 0, count, ...g.slice(1), relu],
      { arg: 4, values: rowsScratch.map((s) => s.ptr) });
    for (const r of rowsScratch) r.dispose();
  } else if (implicitForward(taps)) {
    implicitGemm("conv2d_implicit_forward", rows, cout, taps, k.conv_gemm_scratch_floats(cout, taps, cin, cin), 4,
      [x.ptr, kernel.ptr, bias ? bias.ptr : 0, y.ptr, 0, ...g, relu]);
  } else {
    patches = im2col();
    gemm({ a: patches, b: kernel, c: y, m: rows, n: cout, k: taps });
    if (bias || relu) k.conv2d_bias_act(y.ptr, bias ? bias.ptr : 0, rows, cout, relu);
  }
  const inputs = bias ? [x, kernel, bias] : [x, kernel];
  const recording = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  if (!recording) {
    if (patches && patches !== x) patches.dispose();
    return y;
  }

  record("conv2d", inputs, y, (gy) => {
    const db = bias?.requiresGrad ? Tensor.empty(bias.shape) : null;
    const filterDirect = kernel.requiresGrad && directFilter(taps);
    // Without an input gradient, the direct kernel gradient masks gy itself and sums db in the
    // same pass (conv1: its input is the data), so dZ is never written.
    const fused = filterDirect && !x.requiresGrad;
    // dZ: the gradient before the activation; with relu, masked by y > 0 (one pass, with db).
    const dz = relu && !fused ? Tensor.empty(y.shape) : gy;
    if ((relu || db) && !fused) {
      // The rows of the images of directFilterInParts' fixed parts of the batch, each part with
      // its own partial db added in order after, taken by the threads as they become free: the
      // same bits on any thread count, and as the kernel gradient's pass when it sums db itself.
      const pixels = oh * ow;
      const parts = taperedRanges(n, Math.min(FILTER_PARTS, n)).map(([start, count]) => [start * pixels, count * pixels]);
      const dbParts = db ? Tensor.empty([parts.length, cout]) : null;
      const shares = parts.map(([start, count], i) => {
        const off = start * cout * 4;
        return [y.ptr + off, gy.ptr + off, dz.ptr + off, dbParts ? dbParts.ptr + i * cout * 4 : 0, count, cout, relu];
      });
      parallelRunParts("conv2d_backward_bias", shares, undefined, itemThreads(rows, rows * cout * 12), true);
      if (db) k.sum_parts(db.ptr, dbParts!.ptr, cout, cout, parts.length);
      dbParts?.dispose();
    }

    let dw: Tensor | null = null;
    if (kernel.requiresGrad) {
      dw = Tensor.empty(kernel.shape);
      if (filterDirect) {
        const inBytes = h * w * cin * 4;
        const dzBytes = oh * ow * cout * 4;
        const masked = fused && relu;
        // dz is gy itself when fused (masked by y in the kernel) or without relu.
        directFilterInParts("conv2d_direct_backward_filter", n, taps, cout, dw, fused ? db : null,
          k.conv2d_direct_filter_scratch_floats(ow, cin, kh, kw, sh, sw, masked ? cout : 0), 5,
          n * (inBytes + (masked ? 2 : 1) * dzBytes), (start, count, dwPart, dbPart) =>
            [x.ptr + start * inBytes, masked ? y.ptr + start * dzBytes : 0, dz.ptr + start * dzBytes, dwPart, dbPart, 0,
              count, ...g.slice(1)]);
      } else if (conv2dStrategy.filter !== "gemm") {
        implicitGemm("conv2d_implicit_filter", taps, cout, rows, k.conv_gemm_scratch_floats(cout, rows, 0, 0), 3,
          [x.ptr, dz.ptr, dw.ptr, 0, ...g]);
      } else {
        const p = patches ?? im2col();
        gemm({ a: p, b: dz, c: dw, m: taps, n: cout, k: rows, transA: true });
        if (p !== patches && p !== x) p.dispose();
      }
    }

    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      dx = Tensor.empty(x.shape);
      if (identityPatches) {
        gemm({ a: dz, b: kernel, c: dx, m: rows, n: taps, k: cout, transB: true });
      } else if (sh === 1 && sw === 1 && conv2dStrategy.forward !== "gemm") {
        implicitGemm("conv2d_implicit_input", n * h * w, cin, kh * kw * cout, k.conv_gemm_scratch_floats(cin, kh * kw * cout, cout, cout), 3,
          [dz.ptr, kernel.ptr, dx.ptr, 0, n, h, w, cin, oh, ow, cout, kh, kw, g[11], g[12]]);
      } else {
        const dPatches = Tensor.empty([rows, taps]);
        gemm({ a: dz, b: kernel, c: dPatches, m: rows, n: taps, k: cout, transB: true });
        k.conv2d_col2im(dPatches.ptr, dx.ptr, n, h, w, cin, kh, kw, sh, sw, g[11], g[12], oh, ow);
        dPatches.dispose();
      }
    }
    if (dz !== gy) dz.dispose();
    return bias ? [dx, dw, db] : [dx, dw];
  });
  return y;
}
