// Shape and value generators shared by the op tests.
import fc from "fast-check";
import { Generator } from "../../src/index.js";

/** A shape of rank minRank..maxRank with sizes 1..maxSize. */
export function shapes(maxRank = 4, maxSize = 9, minRank = 0) {
  return fc.array(fc.integer({ min: 1, max: maxSize }), { minLength: minRank, maxLength: maxRank });
}

/** A shape that broadcasts to `base`: some leading dims dropped, some others set to 1. */
export function broadcastable(base: readonly number[]) {
  return fc
    .tuple(fc.integer({ min: 0, max: base.length }), fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }))
    .map(([drop, ones]) => base.map((d, i) => (ones[i] ? 1 : d)).slice(drop));
}

/** Two shapes derived from one base shape (so they always broadcast together). */
export function broadcastPairs(maxRank = 4, maxSize = 9) {
  return shapes(maxRank, maxSize).chain((base) => fc.tuple(broadcastable(base), broadcastable(base)));
}

/** `n` values uniform in [lo, hi), float32, from a seeded generator (faster than fc arrays). */
export function values(seed: number, n: number, lo = -2, hi = 2): Float32Array {
  const rng = new Generator(seed);
  return Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
}

export const sizeOf = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/** A shape with an `axis` option for it: undefined (all), one axis, or a list (some negative). */
export function shapesWithAxes(maxRank = 4, maxSize = 9) {
  return shapes(maxRank, maxSize).chain((shape) => {
    const dims = shape.map((_, i) => i);
    const axisList = fc
      .tuple(fc.shuffledSubarray(dims), fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }))
      .map(([axes, negative]) => axes.map((a) => (negative[a] ? a - shape.length : a)));
    const axis: fc.Arbitrary<number | number[] | undefined> = fc.oneof(
      fc.constant(undefined),
      axisList,
      ...(shape.length > 0 ? [fc.integer({ min: -shape.length, max: shape.length - 1 })] : []),
    );
    return fc.tuple(fc.constant(shape), axis, fc.boolean());
  });
}

export const axesOf = (axis: number | number[] | undefined) => (axis === undefined ? undefined : Array.isArray(axis) ? axis : [axis]);
