// Plain TypeScript reference for sum and mean over axes (float64 accumulation), used only by tests.
import { strides } from "./binary.js";

export function sumReference(
  x: ArrayLike<number>, shape: readonly number[], axes: readonly number[] | undefined, keepDims = false, average = false,
): { data: Float32Array; shape: number[] } {
  const rank = shape.length;
  const reduced = shape.map((_, d) => axes === undefined || axes.some((a) => (a < 0 ? a + rank : a) === d));
  const outShape = shape.flatMap((d, i) => (!reduced[i] ? [d] : keepDims ? [1] : []));
  const keptShape = shape.map((d, i) => (reduced[i] ? 1 : d));
  const keptStrides = strides(keptShape);
  const inStrides = strides(shape);
  const acc = new Float64Array(keptShape.reduce((p, d) => p * d, 1));
  for (let i = 0; i < x.length; i++) {
    let k = 0;
    for (let d = 0; d < rank; d++) if (!reduced[d]) k += (Math.floor(i / inStrides[d]) % shape[d]) * keptStrides[d];
    acc[k] += x[i];
  }
  const count = shape.reduce((n, d, i) => (reduced[i] ? n * d : n), 1);
  return { data: Float32Array.from(acc, (v) => (average ? v / count : v)), shape: outShape };
}
