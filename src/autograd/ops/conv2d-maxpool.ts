// conv2dMaxPool: conv2d (bias, optional relu) then 2x2 max pooling with stride 2 ('valid'), and
// optionally dropout, as one op. Two ways, by shape:
// - Few taps per output (conv1): kernels/conv_pool.ts computes each pair of output rows, pools it
//   and applies the dropout while it is in L1, so the full-resolution activation and its gradient
//   (6.4 MB each for conv1 at batch 32) and the pooled values before dropout are never written,
//   and the backward reads one code byte an output (winner, and whether a gradient passes) where
//   the ops would read the pooled values, the winners (i32) and the dropout mask back. Values and
//   gradients are those of dropout(maxPool2d(conv2d(...))), bit for bit, on any thread count
//   (tested). It needs channels a multiple of 4 and an input that needs no gradient.
// - Otherwise, with input channels a multiple of 4 (conv2): conv2d's forward, then the pooling
//   and the dropout in one pass keeping the same code bytes. On the implicit-GEMM forward both
//   run in one kernel over ranges of images (kernels/conv_pool_sparse.ts), so that an image's
//   full-resolution output stays in the scratch of the thread that convolved it (conv2: 25 KB,
//   pooled while in L1); elsewhere the full-resolution activation is freed at once. The
//   backward (kernels/conv_pool_sparse.ts) visits only the nonzero values of the convolution's
//   output gradient (at most a quarter: one pixel of each window, where the pooled value is
//   positive and kept) instead of multiplying all of it. Values are
//   dropout(maxPool2d(conv2d(...)))'s bit for bit; gradients are the same sums in another order,
//   the same bits on any thread count (tested).
// Elsewhere it runs the ops one after the other. Sequential runs a Conv2D followed by a 2x2
// MaxPooling2D (and a Dropout) through it (Conv2D.fusedWith).

import { kernels, parallelRunParts } from "../../wasm/loader.js";
import { itemThreads, runOverRanges, taperedRanges } from "../../wasm/split.js";
import { isGradEnabled, noGrad, record } from "../tape.js";
import { Tensor } from "../tensor.js";
import { conv2d, convSetup, directFilter, directFilterInParts, directForward, implicitForward, implicitForwardImageParts,
  type Conv2dOptions, type ConvSetup } from "./conv2d.js";
import { checkDropoutRate, drawDropout, dropout, seedAt, type DropoutDraw, type DropoutOptions } from "./dropout.js";
import { maxPool2d } from "./maxpool2d.js";

interface ConvPoolKernels {
  conv2d_maxpool2x2_scratch_floats(ow: number, cin: number, kh: number, kw: number, sw: number, cout: number): number;
  conv2d_maxpool2x2_forward(...args: number[]): void;
  conv2d_maxpool2x2_sparse_scratch_floats(kh: number, kw: number, cin: number, cout: number, windows: number): number;
  conv2d_implicit_maxpool2x2_scratch_floats(images: number, oh: number, ow: number, cin: number, cout: number, kh: number, kw: number): number;
}

export interface Conv2dMaxPoolOptions extends Conv2dOptions {
  /** Dropout on the pooled output, as `dropout(y, rate, options)` applies it (fused into the direct kernels where they run). */
  dropout?: { rate: number } & DropoutOptions;
}

/**
 * maxPool2d(conv2d(x, kernel, bias, options), { poolSize: 2 }), then dropout if options.dropout
 * asks for it, fused where it applies.
 */
export function conv2dMaxPool(x: Tensor, kernel: Tensor, bias: Tensor | null, options: Conv2dMaxPoolOptions = {}): Tensor {
  const setup = convSetup("conv2dMaxPool", x, kernel, bias, options);
  if (options.dropout) checkDropoutRate("conv2dMaxPool: dropout.rate", options.dropout.rate);
  const { g, relu, taps } = setup;
  const [n, h, w, cin, oh, ow, cout, kh, kw, , sw] = g;
  const xGrad = isGradEnabled() && x.requiresGrad;
  // The fused backward computes the kernel gradient (and the bias's with it), never the input's.
  const gradsSupported = !xGrad && (kernel.requiresGrad ? directFilter(taps) : !bias?.requiresGrad);
  const fusable = directForward(taps) && gradsSupported && cout % 4 === 0 && oh >= 2 && ow >= 2;
  const sparse = !fusable && cin % 4 === 0 && cout % 4 === 0 && oh >= 2 && ow >= 2;
  if (!fusable && !sparse) {
    const pooled = maxPool2d(conv2d(x, kernel, bias, options), { poolSize: 2 });
    return options.dropout ? dropout(pooled, options.dropout.rate, options.dropout) : pooled;
  }
  // The seeds drawn before the convolution instead of after it: it draws none, so they are the same.
  const drop = options.dropout ? drawDropout("conv2dMaxPool: dropout.rate", options.dropout.rate, options.dropout) : null;
  if (sparse) return convThenPoolSparseBackward(x, kernel, bias, options, setup, drop);

  const k = kernels<ConvPoolKernels>();
  const [poh, pw] = [oh >> 1, ow >> 1];
  const y = Tensor.empty([n, poh, pw, cout]);
  // A code byte an output (kernels/pool_window.ts): the winner's place, and whether a gradient passes.
  const outFloats = poh * pw * cout;
  const code = Tensor.empty([Math.ceil(y.size / 4)]);
  const inBytes = h * w * cin * 4;
  const outBytes = outFloats * 4;
  const scratchFloats = k.conv2d_maxpool2x2_scratch_floats(ow, cin, kh, kw, sw, cout);
  const geometry = [...g.slice(1), relu];
  // Images are independent: threads take ranges of them, each with its own scratch rows.
  const bytes = n * (inBytes + outBytes + outFloats);
  const scratch = Array.from({ length: itemThreads(n, bytes) }, () => Tensor.empty([scratchFloats]));
  runOverRanges("conv2d_maxpool2x2_forward", n, bytes, (start, count) =>
    [x.ptr + start * inBytes, kernel.ptr, bias ? bias.ptr : 0, y.ptr + start * outBytes, code.ptr + start * outFloats,
      0, count, ...geometry, ...dropoutArgs(drop, start * outFloats)],
    { arg: 5, values: scratch.map((s) => s.ptr) });
  for (const s of scratch) s.dispose();

  const inputs = bias ? [x, kernel, bias] : [x, kernel];
  if (!isGradEnabled() || !inputs.some((t) => t.requiresGrad)) {
    code.dispose();
    return y;
  }
  record(drop ? "conv2dMaxPoolDropout" : "conv2dMaxPool", inputs, y, (gy) => {
    const db = bias?.requiresGrad ? Tensor.empty(bias.shape) : null;
    let dw: Tensor | null = null;
    if (kernel.requiresGrad) {
      // In the parts conv2d's direct kernel gradient uses: the same sums as the unfused ops.
      dw = Tensor.empty(kernel.shape);
      directFilterInParts("conv2d_maxpool2x2_backward_filter", n, taps, cout, dw, db, scratchFloats, 5, n * (inBytes + 2 * outBytes + outFloats),
        (start, count, dwPart, dbPart) =>
          [x.ptr + start * inBytes, code.ptr + start * outFloats, gy.ptr + start * outBytes,
            dwPart, dbPart, 0, count, ...geometry, drop ? drop.scale : 0]);
    }
    return bias ? [null, dw, db] : [null, dw];
  });
  return y;
}

/**
 * conv2d's forward, then 2x2 pooling (and the dropout, if drawn) keeping a code byte an output (in
 * one kernel on the implicit-GEMM forward);
 * the backward from the output gradient's nonzero values (kernels/conv_pool_sparse.ts): the
 * kernel and bias gradients in the fixed parts of the batch that conv2d's direct kernel gradient
 * uses, the input gradient image by image.
 */
function convThenPoolSparseBackward(x: Tensor, kernel: Tensor, bias: Tensor | null, options: Conv2dOptions,
                                    { g, relu, taps }: ConvSetup, drop: DropoutDraw | null): Tensor {
  const [n, h, w, cin, oh, ow, cout, kh, kw] = g;
  const k = kernels<ConvPoolKernels>();
  const [poh, pw] = [oh >> 1, ow >> 1];
  const y = Tensor.empty([n, poh, pw, cout]);
  const outFloats = poh * pw * cout;
  const code = Tensor.empty([Math.ceil(y.size / 4)]);
  const outBytes = outFloats * 4;
  if (implicitForward(taps)) {
    // Ranges of images, each convolved and pooled by one thread in its own scratch: the
    // convolution's output is never written to memory the other threads share.
    const { threads, parts } = implicitForwardImageParts(n, n * oh * ow, cout, taps);
    const ranges = taperedRanges(n, parts);
    const scratchFloats = k.conv2d_implicit_maxpool2x2_scratch_floats(Math.max(...ranges.map((r) => r[1])), oh, ow, cin, cout, kh, kw);
    const scratch = Array.from({ length: threads }, () => Tensor.empty([scratchFloats]));
    const inBytes = h * w * cin * 4;
    parallelRunParts("conv2d_implicit_forward_maxpool2x2", ranges.map(([start, count]) =>
      [x.ptr + start * inBytes, kernel.ptr, bias ? bias.ptr : 0, y.ptr + start * outBytes, code.ptr + start * outFloats, 0,
        count, ...g.slice(1), relu, ...dropoutArgs(drop, start * outFloats)]), { arg: 5, values: scratch.map((s) => s.ptr) }, threads, true);
    for (const s of scratch) s.dispose();
  } else {
    const full = noGrad(() => conv2d(x, kernel, bias, options));
    const fullBytes = oh * ow * cout * 4;
    runOverRanges("maxpool2x2_coded_forward", n, n * (fullBytes + outBytes + outFloats), (start, count) =>
      [full.ptr + start * fullBytes, y.ptr + start * outBytes, code.ptr + start * outFloats, count, oh, ow, cout, relu,
        ...dropoutArgs(drop, start * outFloats)]);
    full.dispose();
  }

  const inputs = bias ? [x, kernel, bias] : [x, kernel];
  if (!isGradEnabled() || !inputs.some((t) => t.requiresGrad)) {
    code.dispose();
    return y;
  }
  record(drop ? "conv2dMaxPoolDropout" : "conv2dMaxPool", inputs, y, (gy) => {
    const dx = x.requiresGrad ? Tensor.empty(x.shape) : null;
    const dw = kernel.requiresGrad ? Tensor.empty(kernel.shape) : null;
    const db = bias?.requiresGrad ? Tensor.empty(bias.shape) : null;
    const inBytes = h * w * cin * 4;
    directFilterInParts("conv2d_maxpool2x2_backward_sparse", n, taps, cout, dw, db, k.conv2d_maxpool2x2_sparse_scratch_floats(g[7], g[8], cin, cout, poh * pw),
      7, n * ((dx ? 2 : 1) * inBytes + 2 * outBytes + outFloats), (start, count, dwPart, dbPart) =>
        [x.ptr + start * inBytes, kernel.ptr, code.ptr + start * outFloats, gy.ptr + start * outBytes,
          dx ? dx.ptr + start * inBytes : 0, dwPart, dbPart, 0, count, ...g.slice(1), relu, drop ? drop.scale : 0]);
    return bias ? [dx, dw, db] : [dx, dw];
  });
  return y;
}

/** A coded pooling kernel's dropout arguments for a part starting at output element `start`. */
function dropoutArgs(drop: DropoutDraw | null, start: number): number[] {
  return drop ? [seedAt(drop, start), drop.seedHi | 0, drop.threshold | 0, drop.scale] : [0, 0, 0, 0];
}
