// `npm run soak`: a long run on a slice of MNIST, to show that memory stays flat. Trains the
// tutorial model for --steps steps (default 20,000) over --limit-train images, and every
// --every steps (default 1,000) prints the step, the mean loss since the last line, the
// WebAssembly memory size, the allocator's live bytes and the process RSS. After warm-up none of
// them may grow; the last line says whether they did. Not part of `npm test`.

import { parseFlags, UsageError } from "../src/cli/args.js";
import { loadMnist } from "../src/data/mnist.js";
import { mnistDataset } from "../src/data/mnist-dataset.js";
import { TripletSemiHardLoss } from "../src/nn/losses/triplet.js";
import { tripletTutorialModel } from "../src/nn/models.js";
import { Adam } from "../src/nn/optimizers/adam.js";
import { manualSeed } from "../src/random.js";
import { init } from "../src/wasm/loader.js";
import { memoryStats } from "../src/wasm/stats.js";
import { clock } from "./harness.js";

const flags = {
  steps: { type: "int", default: 20_000, min: 1, help: "training steps" },
  every: { type: "int", default: 1_000, min: 1, help: "print a line every N steps" },
  "limit-train": { type: "int", default: 2_048, min: 32, help: "training images (the slice)" },
  "batch-size": { type: "int", default: 32, min: 2, help: "examples per step" },
  seed: { type: "int", default: 42, min: 0, help: "seed" },
  help: { type: "boolean", help: "show this help" },
} as const;

const MiB = 2 ** 20;

async function main(): Promise<number> {
  const args = parseFlags(process.argv.slice(2), flags);
  if (args.help) {
    console.log("usage: npm run soak -- [--steps N] [--every N] [--limit-train N] [--batch-size N] [--seed N]");
    return 0;
  }
  await init();
  manualSeed(args.seed);
  const { train } = await loadMnist({ limitTrain: args["limit-train"], limitTest: 1 });
  const model = tripletTutorialModel([train.height, train.width, train.channels]);
  model.compile({ optimizer: new Adam(), loss: new TripletSemiHardLoss() });
  // One reused image buffer, as train:mnist: the loop is done with a batch before the next.
  const batches = mnistDataset(train, { batchSize: args["batch-size"], bufferSize: 1024, seed: args.seed, dropRemainder: true, reuseBuffer: true }).repeat();

  console.log(`soak: ${args.steps} steps of batch ${args["batch-size"]} over ${train.count} images; a line every ${args.every} steps`);
  console.log("   step   loss    wasm MiB   live MiB   RSS MiB   ms/step");
  const rows: { step: number; wasm: number; live: number; rss: number }[] = [];
  let step = 0;
  let lossSum = 0;
  let t = clock();
  for (const b of batches) {
    const loss = model.trainOnBatch(b.images, b.labels);
    if (!Number.isFinite(loss)) throw new Error(`soak: the loss became ${loss} at step ${step + 1}`);
    lossSum += loss;
    step++;
    if (step % args.every === 0 || step === args.steps) {
      const m = memoryStats();
      const rss = process.memoryUsage().rss;
      const n = step % args.every === 0 ? args.every : step % args.every;
      const msPerStep = (clock() - t) / n;
      rows.push({ step, wasm: m.wasmMemoryBytes, live: m.liveBytes, rss });
      console.log(`${String(step).padStart(7)}  ${(lossSum / n).toFixed(4)}  ${(m.wasmMemoryBytes / MiB).toFixed(1).padStart(9)}  ${(m.liveBytes / MiB).toFixed(2).padStart(9)}  ${(rss / MiB).toFixed(1).padStart(8)}  ${msPerStep.toFixed(1).padStart(8)}`);
      lossSum = 0;
      t = clock();
    }
    if (step >= args.steps) break;
  }
  // Warm-up: the first line. After it, WebAssembly memory and live bytes must not change, and RSS
  // (which the GC and the OS move a little) must not keep growing: compare the last line with the
  // largest of the earlier ones, with 16 MiB of slack.
  if (rows.length >= 3) {
    const after = rows.slice(1);
    const wasmGrew = after.some((r) => r.wasm !== after[0].wasm);
    const liveGrew = after.some((r) => r.live !== after[0].live);
    const rssEarlier = Math.max(...after.slice(0, -1).map((r) => r.rss));
    const rssGrew = after[after.length - 1].rss > rssEarlier + 16 * MiB;
    const verdict = wasmGrew || liveGrew || rssGrew ? "GREW" : "flat";
    console.log(`soak: after warm-up (step ${rows[0].step}) WebAssembly memory ${wasmGrew ? "changed" : "unchanged"}, live bytes ${liveGrew ? "changed" : "unchanged"}, RSS ${rssGrew ? "grew" : "did not grow"}: ${verdict}`);
    return verdict === "flat" ? 0 : 1;
  }
  console.log("soak: too few lines to judge growth (use --steps of at least 3 × --every)");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`soak: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
