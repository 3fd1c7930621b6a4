// Weight initializers (Keras defaults: glorot-uniform kernels, zero biases), drawing from the
// seeded generator.

import { Tensor } from "../autograd/tensor.js";
import { Generator, globalGenerator } from "../random.js";

/** Fan-in and fan-out as Keras computes them: dense [in, out]; conv [kh, kw, cin, cout]. */
export function fans(shape: readonly number[]): [number, number] {
  if (shape.length === 2) return [shape[0], shape[1]];
  if (shape.length < 2) return [shape[0] ?? 1, shape[0] ?? 1];
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [receptive * shape[shape.length - 2], receptive * shape[shape.length - 1]];
}

/** Uniform in ±sqrt(6 / (fanIn + fanOut)). */
export function glorotUniform(shape: readonly number[], generator: Generator = globalGenerator): Tensor {
  const [fanIn, fanOut] = fans(shape);
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const t = Tensor.empty(shape, { persistent: true, requiresGrad: true });
  const values = new Float32Array(t.size);
  for (let i = 0; i < values.length; i++) values[i] = generator.uniform(-limit, limit);
  return t.set(values);
}

export function zerosParameter(shape: readonly number[]): Tensor {
  return Tensor.zeros(shape, { persistent: true, requiresGrad: true });
}
