// A stand-in Conv2DBackpropFilter for TF.js's wasm backend, which (as of 4.22) has none, so that
// tf.layers' Conv2D can train there at all. Built only from the wasm backend's own kernels: for
// every filter tap (i, j), dW[i, j] = patchᵢⱼᵀ · dy, where patchᵢⱼ is the padded input shifted by
// (i, j) and cut to the output's size: PadV2 and Transpose (to channels first) once, then Slice
// and BatchMatMul per tap. Transposing once instead of BatchMatMul's transposeA made the kernel
// 3.5-6x faster at the tutorial's shapes (5 and 28 ms against 32 and 100 ms, same process, loaded
// machine). Stride 1 and NHWC only: what the tutorial's model needs.

import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { tf } from "./tf.js";

type WasmKernel = (args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs?: tf.NamedAttrMap }) => tf.TensorInfo;

function wasmKernel(name: string): WasmKernel {
  const config = tf.getKernel(name, "wasm");
  if (!config) throw new Error(`Conv2DBackpropFilter stand-in: the wasm backend has no ${name} kernel`);
  return config.kernelFunc as unknown as WasmKernel;
}

/** A view of the same data under another shape (what the backend's Reshape does, without a refcount). */
function viewAs(info: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

function conv2dBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { inputs, backend } = args;
  const { x, dy } = inputs as tf.Conv2DBackpropFilterInputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (dataFormat !== undefined && dataFormat !== "NHWC") {
    throw new Error(`Conv2DBackpropFilter stand-in: dataFormat ${dataFormat}, only NHWC is supported`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, "channelsLast",
  );
  if (info.strideHeight !== 1 || info.strideWidth !== 1) {
    throw new Error(`Conv2DBackpropFilter stand-in: strides [${info.strideHeight}, ${info.strideWidth}], only stride 1 is supported`);
  }
  const { batchSize, inChannels, outChannels, outHeight, outWidth, filterHeight, filterWidth, padInfo } = info;
  if (dy.shape.join() !== [batchSize, outHeight, outWidth, outChannels].join()) {
    throw new Error(`Conv2DBackpropFilter stand-in: dy has shape [${dy.shape}], expected [${[batchSize, outHeight, outWidth, outChannels]}]`);
  }
  const padV2 = wasmKernel("PadV2");
  const slice = wasmKernel("Slice");
  const batchMatMul = wasmKernel("BatchMatMul");

  const padded = padInfo.top || padInfo.bottom || padInfo.left || padInfo.right
    ? padV2({
      inputs: { x }, backend,
      attrs: { paddings: [[0, 0], [padInfo.top, padInfo.bottom], [padInfo.left, padInfo.right], [0, 0]], constantValue: 0 },
    })
    : null;
  // Channels first, once: each tap's slice [cin, B, H, W] is then patchᵀ itself, contiguous.
  let channelsFirst: tf.TensorInfo;
  try {
    channelsFirst = wasmKernel("Transpose")({ inputs: { x: padded ?? x }, backend, attrs: { perm: [3, 0, 1, 2] } });
  } finally {
    if (padded) backend.disposeData(padded.dataId);
  }
  const rows = batchSize * outHeight * outWidth;
  const dyRows = viewAs(dy, [1, rows, outChannels]);
  const out = backend.makeOutput(filterShape, "float32");
  const tap = inChannels * outChannels;
  try {
    for (let i = 0; i < filterHeight; i++) {
      for (let j = 0; j < filterWidth; j++) {
        const patchT = slice({ inputs: { x: channelsFirst }, backend, attrs: { begin: [0, 0, i, j], size: [inChannels, batchSize, outHeight, outWidth] } });
        try {
          const product = batchMatMul({
            inputs: { a: viewAs(patchT, [1, inChannels, rows]), b: dyRows }, backend, attrs: { transposeA: false, transposeB: false },
          });
          // [cin, cout] for tap (i, j) is exactly dW[i, j, :, :] in the [fh, fw, cin, cout] layout.
          backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(viewAs(product, [tap])), (i * filterWidth + j) * tap);
          backend.disposeData(product.dataId);
        } finally {
          backend.disposeData(patchT.dataId);
        }
      }
    }
  } finally {
    backend.disposeData(channelsFirst.dataId);
  }
  return out;
}

/**
 * Registers the stand-in for the wasm backend unless it already has a Conv2DBackpropFilter
 * (a later TF.js may); returns whether it did.
 */
export function registerWasmConv2DBackpropFilter(): boolean {
  if (tf.getKernel("Conv2DBackpropFilter", "wasm")) return false;
  tf.registerKernel({ kernelName: "Conv2DBackpropFilter", backendName: "wasm", kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc });
  return true;
}

/** Removes it again (for tests that want the backend as shipped). */
export function unregisterWasmConv2DBackpropFilter(): void {
  if (tf.getKernel("Conv2DBackpropFilter", "wasm")?.kernelFunc === (conv2dBackpropFilter as unknown)) {
    tf.unregisterKernel("Conv2DBackpropFilter", "wasm");
  }
}
