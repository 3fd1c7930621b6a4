// Plain TypeScript reference for broadcast binary ops (NumPy rules), used only by tests.
export type BinaryName = "add" | "sub" | "mul";

const apply = { add: (x: number, y: number) => x + y, sub: (x: number, y: number) => x - y, mul: (x: number, y: number) => x * y };

/** Row-major strides of a shape. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1] * shape[d + 1];
  return s;
}

/** The broadcast shape, or null when the shapes are incompatible. */
export function broadcastShapeReference(a: readonly number[], b: readonly number[]): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** y[i] = a[i'] op b[i''] where i' and i'' are i with broadcast dims taken as 0. */
export function binaryReference(
  op: BinaryName, a: ArrayLike<number>, aShape: readonly number[], b: ArrayLike<number>, bShape: readonly number[],
): { data: Float32Array; shape: number[] } {
  const shape = broadcastShapeReference(aShape, bShape);
  if (!shape) throw new Error(`reference: [${aShape}] and [${bShape}] do not broadcast`);
  const size = shape.reduce((p, d) => p * d, 1);
  const data = new Float32Array(size);
  const outStrides = strides(shape);
  const index = (inShape: readonly number[], flat: number) => {
    const pad = shape.length - inShape.length;
    const st = strides(inShape);
    let k = 0;
    for (let d = 0; d < shape.length; d++) {
      const i = Math.floor(flat / outStrides[d]) % shape[d];
      if (d >= pad && inShape[d - pad] !== 1) k += i * st[d - pad];
    }
    return k;
  };
  for (let i = 0; i < size; i++) data[i] = apply[op](a[index(aShape, i)], b[index(bShape, i)]);
  return { data, shape };
}
