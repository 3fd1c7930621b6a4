// Plain TypeScript reference for dropout's mask, used only by tests and benchmarks. Written from
// the definition in kernels/dropout.ts: bits(i) = fmix32((seedLo + i·0x9e3779b9) ^ seedHi),
// element i is kept when bits(i) >= floor(rate · 2^32), and kept values are x · fround(1/(1-rate)).

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function dropoutBitsReference(i: number, seedLo: number, seedHi: number): number {
  return fmix32((seedLo + Math.imul(i, 0x9e3779b9)) ^ seedHi);
}

/** 1 where element i is kept, 0 where dropped. */
export function dropoutMaskReference(n: number, rate: number, seedLo: number, seedHi: number): Uint8Array {
  const threshold = Math.min(Math.floor(rate * 4294967296), 4294967295);
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = dropoutBitsReference(i, seedLo, seedHi) >= threshold ? 1 : 0;
  return mask;
}

export function dropoutReference(x: ArrayLike<number>, rate: number, seedLo: number, seedHi: number): Float32Array {
  const mask = dropoutMaskReference(x.length, rate, seedLo, seedHi);
  const scale = Math.fround(1 / (1 - rate));
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = mask[i] ? x[i] * scale : 0;
  return y;
}
