// End to end: the train:mnist job on a small MNIST slice, and the CLI's handling of bad flags.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trainMnist } from "../../src/cli/train-mnist-run.js";
import { setup } from "../helpers/setup.js";

beforeAll(setup);

const cli = join(import.meta.dirname, "../../dist/src/cli/train-mnist.js");
const out = mkdtempSync(join(tmpdir(), "wasmgrad-e2e-"));
// A plain file: no folder can be made below it, even as root.
const blocker = join(out, "blocker");
writeFileSync(blocker, "");
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("train:mnist end to end (small slice)", () => {
  it("the loss falls over a few hundred steps, P@1 is far above chance, and every file is written", async () => {
    const stepLosses: number[] = [];
    const { report, files, model } = await trainMnist({
      epochs: 2, batchSize: 32, learningRate: 0.001, margin: 1, distance: "L2", seed: 7,
      limitTrain: 4800, limitTest: 1000, sampler: "shuffle", shuffleBuffer: 1024, pkK: 4,
      out, umap: true, onBatchEnd: (_step, meanLoss) => stepLosses.push(meanLoss),
    });
    expect(report.stepsPerEpoch).toEqual([150, 150]);
    // Epoch means, and the running mean early in epoch 1 against the whole of epoch 2.
    expect(report.lossPerEpoch[1]).toBeLessThan(report.lossPerEpoch[0]);
    expect(report.lossPerEpoch[1]).toBeLessThan(stepLosses[9] * 0.85);
    expect(report.test.precisionAt1).toBeGreaterThan(0.8);
    expect(report.lossPerEpoch.every(Number.isFinite)).toBe(true);
    for (const f of ["vecs.tsv", "meta.tsv", "projector_config.json", "embeddings.svg", "embeddings.png", "report.json", "model/model.json", "model/weights.bin"]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const vecs = readFileSync(join(out, "vecs.tsv"), "utf8").trimEnd().split("\n");
    const meta = readFileSync(join(out, "meta.tsv"), "utf8").trimEnd().split("\n");
    expect(vecs.length).toBe(1000);
    expect(meta.length).toBe(1000);
    expect(vecs[0].split("\t").length).toBe(256);
    const saved = JSON.parse(readFileSync(files.report, "utf8"));
    for (const key of ["args", "seed", "versions", "lossPerEpoch", "secondsPerEpoch", "samplesPerSecond", "test", "totalSeconds"]) expect(saved).toHaveProperty(key);
    expect(saved.test).toHaveProperty("mapAtR");
    model.dispose();
  }, 240_000);
});

describe("train:mnist CLI errors", () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 30_000 });
  it.each([
    [["--batch-size", "0"], /--batch-size must be at least 2, got 0/],
    [["--lr", "-1"], /--lr must be greater than 0, got -1/],
    [["--epochs", "abc"], /--epochs must be a number, got "abc"/],
    [["--frobnicate"], /unknown flag --frobnicate/],
    [["--distance", "cosine"], /--distance must be one of L2, squared-L2, angular, got "cosine"/],
    [["--out", join(blocker, "run")], /--out .*blocker\/run cannot be written/],
  ])("%j is refused with a clear message, exit 2 and no stack trace", (args, message) => {
    expect(existsSync(cli), `${cli} missing: run npm run build first`).toBe(true);
    const r = run(...(args as string[]));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("--help lists the flags and exits 0", () => {
    const r = run("--help");
    expect(r.status).toBe(0);
    for (const f of ["--epochs", "--batch-size", "--lr", "--margin", "--distance", "--seed", "--limit-train", "--limit-test", "--sampler", "--data", "--threads", "--out"]) expect(r.stdout).toContain(f);
  });
});
