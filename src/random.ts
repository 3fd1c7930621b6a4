// The one seeded generator behind every random choice (initializers, shuffling, dropout).
// xoshiro128** (Blackman & Vigna): 128 bits of state, fast in JS with Math.imul, and its state is
// four integers, so checkpoints can save and restore it exactly.

export type GeneratorState = [number, number, number, number];

export class Generator {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  constructor(seed = 42) {
    this.seed(seed);
  }

  /** Resets the state from a seed (any finite number; its integer part's 53 bits are used). */
  seed(seed: number): void {
    if (!Number.isFinite(seed)) throw new Error(`Generator.seed: seed must be a finite number, got ${seed}`);
    // splitmix32 expands the seed into four non-zero words.
    let x = (Math.trunc(seed) ^ Math.trunc(seed / 4294967296) * 0x9e3779b9) >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 random bits. */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform float in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.nextFloat();
  }

  /** Uniform integer in [0, n), without modulo bias. */
  nextInt(n: number): number {
    if (!(n >= 1) || n > 4294967296 || !Number.isInteger(n)) throw new Error(`Generator.nextInt: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    let r: number;
    do r = this.nextUint32();
    while (r >= limit);
    return r % n;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.nextFloat());
  }

  getState(): GeneratorState {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  setState(state: readonly number[]): void {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
      throw new Error(`Generator.setState: expected four 32-bit unsigned integers, got ${JSON.stringify(state)}`);
    }
    [this.s0, this.s1, this.s2, this.s3] = state.map((w) => w | 0);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The global generator that every random choice uses unless given its own. */
export const globalGenerator = new Generator(42);

/** Seeds the global generator: the same seed gives the same run. */
export function manualSeed(seed: number): void {
  globalGenerator.seed(seed);
}
