// Plain TypeScript reference for scale, used only by tests.
export function scaleReference(x: ArrayLike<number>, c: number): Float32Array {
  return Float32Array.from(x, (v) => v * c);
}
