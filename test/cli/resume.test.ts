// Checkpoints and resume: a run of 2 epochs resumed for a 3rd gives the weights of an uninterrupted
// 3-epoch run bit for bit; a failure or a Ctrl+C leaves the last checkpoint whole and resumable.
// The CLI parts need `npm run build` (as test/cli does).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCheckpoint } from "../../src/cli/checkpoint.js";
import { trainMnist, TrainingFailed, type TrainMnistOptions } from "../../src/cli/train-mnist-run.js";
import type { Dense } from "../../src/nn/layers/dense.js";
import type { Sequential } from "../../src/nn/sequential.js";
import { setup } from "../helpers/setup.js";

beforeAll(setup);

const cli = join(import.meta.dirname, "../../dist/src/cli/train-mnist.js");
const root = mkdtempSync(join(tmpdir(), "wasmgrad-resume-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const base = (out: string, epochs: number): TrainMnistOptions => ({
  epochs, batchSize: 32, learningRate: 0.001, margin: 1, distance: "L2", seed: 11,
  limitTrain: 320, limitTest: 50, sampler: "shuffle", shuffleBuffer: 1024, pkK: 4, out, umap: false,
});

const weightsOf = (model: Sequential) => model.parameters().map((p) => Array.from(p.toArray()));

describe("checkpoints and resume (in process)", () => {
  it("2 epochs resumed for a 3rd give bit-identical weights to 3 epochs in one go", async () => {
    const straight = await trainMnist(base(join(root, "straight"), 3));
    const first = await trainMnist(base(join(root, "resumed"), 2));
    first.model.dispose();
    const saved = await readCheckpoint(join(root, "resumed"));
    expect(saved.manifest.epoch).toBe(2);
    expect(saved.manifest.history.lossPerEpoch).toEqual(first.report.lossPerEpoch);
    const resumed = await trainMnist({ ...base(join(root, "resumed"), 3), resume: true });
    expect(resumed.report.resumedFromEpoch).toBe(2);
    expect(resumed.report.lossPerEpoch).toEqual(straight.report.lossPerEpoch);
    expect(weightsOf(resumed.model)).toEqual(weightsOf(straight.model));
    expect(resumed.report.diagnosticsPerEpoch).toHaveLength(3);
    expect(resumed.report.diagnosticsPerEpoch[2]!.activeFraction).toBeGreaterThan(0);
    const files = readFileSync(join(root, "resumed", "checkpoint", "checkpoint.json"), "utf8");
    expect(JSON.parse(files).epoch).toBe(3);
    straight.model.dispose();
    resumed.model.dispose();
  });

  it("a resumed run must share the training settings and ask for more epochs", async () => {
    await expect(trainMnist({ ...base(join(root, "resumed"), 4), learningRate: 0.01, resume: true }))
      .rejects.toThrow(/resume: the checkpoint in .*resumed was trained with learningRate 0.001, this run asks for 0.01/);
    await expect(trainMnist({ ...base(join(root, "resumed"), 3), resume: true }))
      .rejects.toThrow(/resume: the checkpoint in .*resumed has already trained 3 epochs; ask for more than 3/);
    await expect(trainMnist({ ...base(join(root, "nothing-here"), 3), resume: true }))
      .rejects.toThrow(/no checkpoint in .*nothing-here: .*checkpoint\.json does not exist/);
  });

  it("a loss that goes NaN in epoch 2 stops naming the step and layer, and leaves epoch 1's checkpoint whole", async () => {
    const out = join(root, "diverge");
    let model: Sequential | null = null;
    const spoil = {
      setModel: (m: Sequential) => void (model = m),
      onEpochBegin: (epoch: number) => {
        if (epoch !== 1) return;
        const dense = model!.layers.find((l) => l.className === "Dense") as Dense;
        dense.kernel!.set(new Float32Array(dense.kernel!.size).fill(3e38));
      },
    };
    const error = await trainMnist({ ...base(out, 3), callbacks: spoil }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingFailed);
    expect((error as Error).message).toMatch(/^fit: the loss became NaN at epoch 2, step 1; the first non-finite output is that of layer dense\S* \(Dense\)/);
    expect((error as Error).message).toMatch(/The last checkpoint \(after epoch 1\) is in .*diverge\/checkpoint; continue with: npm run train:mnist -- --resume .*diverge/);
    const saved = await readCheckpoint(out); // sizes and checksums verified
    expect(saved.manifest.epoch).toBe(1);
    expect(saved.weights.every(Number.isFinite)).toBe(true);
    (model as Sequential | null)?.dispose();
  });
});

describe("train:mnist CLI: --resume and Ctrl+C", () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 30_000 });

  it("--resume refuses a folder without a checkpoint, a changed training flag, and too few epochs (exit 2)", () => {
    expect(existsSync(cli), `${cli} missing: run npm run build first`).toBe(true);
    const dir = join(root, "resumed"); // 3 epochs, from the first test
    let r = run("--resume", join(root, "nowhere"));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--resume .*nowhere: no checkpoint in .*nowhere/);
    r = run("--resume", dir, "--epochs", "4", "--batch-size", "64");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--batch-size 64 disagrees with the run being resumed/);
    r = run("--resume", dir, "--epochs", "3");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--epochs 3: the run in .*resumed has already trained 3 epochs/);
    r = run("--resume", dir, "--epochs", "4", "--out", join(root, "elsewhere"));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--out .*elsewhere disagrees with --resume/);
    for (const e of [r.stderr]) expect(e).not.toMatch(/\n\s+at /);
  });

  it("Ctrl+C after the first checkpoint exits 130, keeps the checkpoint whole, and the run resumes", async () => {
    const out = join(root, "sigint");
    const child = spawn(process.execPath, [cli, "--epochs", "40", "--limit-train", "320", "--limit-test", "50", "--no-umap", "--out", out, "--seed", "3"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const manifest = join(out, "checkpoint", "checkpoint.json");
    const started = Date.now();
    while (!existsSync(manifest) && Date.now() - started < 20_000 && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(manifest), `no checkpoint appeared; stderr: ${stderr}`).toBe(true);
    child.kill("SIGINT");
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupt: stopping after the current step/);
    expect(stderr).toMatch(/train:mnist: interrupted during epoch \d+; The last checkpoint \(after epoch \d+\) is in .*sigint\/checkpoint; continue with: npm run train:mnist -- --resume .*sigint/);
    expect(stderr).not.toMatch(/\n\s+at /);
    const saved = await readCheckpoint(out); // whole: sizes and checksums agree
    expect(saved.manifest.epoch).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(out, "report.json"))).toBe(false);
    const r = run("--resume", out, "--epochs", String(saved.manifest.epoch + 1));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Resuming from .*sigint/checkpoint after epoch ${saved.manifest.epoch} of ${saved.manifest.epoch + 1}`));
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
    expect(report.lossPerEpoch).toHaveLength(saved.manifest.epoch + 1);
    expect(report.args.seed).toBe(3);
  });
});
