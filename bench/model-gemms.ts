// The GEMM-shaped work of the tutorial's training step at batch 32, for the gemm and threads
// benches: the dense layer (32x1568)·(1568x256) and conv2 as a GEMM (6272x256)·(256x32), forward
// and both backward products.

export interface GemmCase {
  name: string;
  shape: string;
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  bias?: boolean;
}

const dense = "(32x1568)·(1568x256)";
const conv2 = "(6272x256)·(256x32)";

export const MODEL_GEMMS: readonly GemmCase[] = [
  { name: "dense forward (bias)", shape: dense, m: 32, n: 256, k: 1568, bias: true },
  { name: "dense backward dx = dy·Wᵀ", shape: dense, m: 32, n: 1568, k: 256, transB: true },
  { name: "dense backward dW = xᵀ·dy", shape: dense, m: 1568, n: 256, k: 32, transA: true },
  { name: "conv2 forward (as GEMM)", shape: conv2, m: 6272, n: 32, k: 256 },
  { name: "conv2 backward dA = dC·Bᵀ", shape: conv2, m: 6272, n: 256, k: 32, transB: true },
  { name: "conv2 backward dB = Aᵀ·dC", shape: conv2, m: 256, n: 32, k: 6272, transA: true },
];
