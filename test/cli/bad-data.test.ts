// The CLI on broken MNIST folders (--data DIR): a clear message naming the file, what was wrong and
// what was expected; exit 1; no stack trace unless --debug. Needs `npm run build` (as test/cli does).
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { encodeIdx } from "../../src/data/idx.js";

const cli = join(import.meta.dirname, "../../dist/src/cli/train-mnist.js");
const root = mkdtempSync(join(tmpdir(), "wasmgrad-baddata-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const good = {
  "train-images-idx3-ubyte": encodeIdx("uint8", [40, 28, 28], new Uint8Array(40 * 784).map((_, i) => (i * 7) % 256)),
  "train-labels-idx1-ubyte": encodeIdx("uint8", [40], Uint8Array.from({ length: 40 }, (_, i) => i % 10)),
  "t10k-images-idx3-ubyte": encodeIdx("uint8", [20, 28, 28], new Uint8Array(20 * 784).map((_, i) => (i * 3) % 256)),
  "t10k-labels-idx1-ubyte": encodeIdx("uint8", [20], Uint8Array.from({ length: 20 }, (_, i) => i % 10)),
};
type Files = Record<string, Uint8Array | null>;

/** A data folder: the good files with some replaced (null: left out). */
function folder(name: string, changes: Files): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const [file, bytes] of Object.entries({ ...good, ...changes })) if (bytes) writeFileSync(join(dir, file), bytes);
  return dir;
}

const images = good["train-images-idx3-ubyte"];
const withMagic = images.slice();
withMagic.set([0x1f, 0x2e, 0x08, 0x03]);

const cases: [string, Files, RegExp][] = [
  ["wrong magic", { "train-images-idx3-ubyte": withMagic }, /train-images-idx3-ubyte: not an IDX file: magic bytes are 0x1f 0x2e 0x08 0x03, expected 0x00 0x00 <type code> <number of dimensions>/],
  ["truncated", { "train-images-idx3-ubyte": images.subarray(0, 1000) }, /train-images-idx3-ubyte: truncated: header says 40x28x28 = 31360 bytes of data, file has 984/],
  ["header dims vs length", { "t10k-labels-idx1-ubyte": Uint8Array.from([...good["t10k-labels-idx1-ubyte"], 1, 2]) }, /t10k-labels-idx1-ubyte: trailing bytes: header says 20 = 20 bytes of data, file has 2 more/],
  ["image/label count mismatch", { "train-labels-idx1-ubyte": encodeIdx("uint8", [39], new Uint8Array(39)) }, /image\/label count mismatch: .*train-images-idx3-ubyte has 40 images, .*train-labels-idx1-ubyte has 39 labels/],
  ["empty", { "t10k-images-idx3-ubyte": new Uint8Array(0) }, /t10k-images-idx3-ubyte: empty file \(0 bytes\), expected an IDX file/],
  ["missing", { "train-labels-idx1-ubyte": null }, /loadMnist: missing the training labels file .*train-labels-idx1-ubyte \(no such file, nor train-labels-idx1-ubyte.gz\)/],
  ["labels as images", { "train-images-idx3-ubyte": good["train-labels-idx1-ubyte"] }, /train-images-idx3-ubyte: expected uint8 images of rank 3 \[count, height, width\], got uint8 of shape \[40\]/],
];

const run = (...args: string[]) =>
  promisify(execFile)(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 30_000 }).then(
    (r) => ({ status: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ status: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

describe("train:mnist --data with broken IDX files", () => {
  it.concurrent.each(cases)("%s: exit 1 with the file and the problem named, no stack trace", async (name, changes, message) => {
    expect(existsSync(cli), `${cli} missing: run npm run build first`).toBe(true);
    const dir = folder(name.replace(/\W+/g, "-"), changes);
    const r = await run("--data", dir, "--out", join(dir, "out"), "--epochs", "1", "--no-umap");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^train:mnist: /);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).toMatch(/run with --debug for the stack trace/);
  });

  it("--debug adds the stack trace", async () => {
    const dir = folder("debug", { "train-images-idx3-ubyte": new Uint8Array(0) });
    const r = await run("--data", dir, "--out", join(dir, "out"), "--debug");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/empty file/);
    expect(r.stderr).toMatch(/\n\s+at .*idx\.js/);
  });

  it("the good folder trains (so the failures above are the files' fault)", async () => {
    const dir = folder("good", {});
    const r = await run("--data", dir, "--out", join(dir, "out"), "--epochs", "1", "--batch-size", "8", "--no-umap");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(existsSync(join(dir, "out", "checkpoint", "checkpoint.json"))).toBe(true);
  });
});
