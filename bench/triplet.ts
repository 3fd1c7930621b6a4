// Triplet semi-hard loss (L2), forward + backward including the distance op, at N = 32…2048, D = 256:
// time per call and the allocator's peak bytes above the inputs (O(N²): a few N x N matrices).

import { Generator, memoryStats, tensor, tidy, tripletSemiHardLoss } from "../src/index.js";
import type { BenchOptions, BenchRow } from "./harness.js";
import { measure, row } from "./harness.js";

export const group = "triplet";

export async function run(options: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const d = 256;
  for (const n of [32, 128, 512, 2048]) {
    const rng = new Generator(n);
    const x = tensor(Float32Array.from({ length: n * d }, () => rng.uniform(-1, 1) / 16), [n, d], { requiresGrad: true, persistent: true });
    const labels = Int32Array.from({ length: n }, () => rng.nextInt(10));
    const step = () =>
      tidy(() => {
        const loss = tripletSemiHardLoss(labels, x);
        loss.backward();
        x.grad!.dispose();
        x.grad = null;
      });
    // The allocator's peak is a high-water mark that cannot be reset; N grows, so each size's first
    // step sets a new one, and its height above the bytes live before is the step's peak.
    const before = memoryStats();
    step();
    const after = memoryStats();
    const peak = after.peakBytes > before.peakBytes ? after.peakBytes - before.liveBytes : NaN;
    const big = n >= 2048;
    const t = measure(step, { minMs: options.quick ? (big ? 0 : 150) : big ? 1500 : 600, minRuns: options.quick ? (big ? 1 : 3) : 5, warmup: big ? 1 : 2 });
    // x·xᵀ forward and S·x backward: 2 · 2N²D FLOP.
    rows.push(row({ group, name: "semi-hard L2 fwd+bwd", shape: `(${n}x${d})`, impl: "simd" }, t, {
      flops: 4 * n * n * d,
      extra: { "peak MB": peak / 1e6, "peak/N² (B)": peak / (n * n) },
    }));
    x.dispose();
  }
  return rows;
}
