// Plain TypeScript reference for relu, used only by tests.
export function reluReference(x: ArrayLike<number>): Float32Array {
  return Float32Array.from(x, (v) => Math.max(v, 0));
}
