// Plain TypeScript reference for reshape's shape (one -1 inferred), used only by tests.
export function reshapeShapeReference(size: number, shape: readonly number[]): number[] {
  const known = shape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  return shape.map((d) => (d === -1 ? size / known : d));
}
