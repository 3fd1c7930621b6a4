// The README's example runs as written and prints what its comments say.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");

describe("examples/autograd.mjs", () => {
  const source = readFileSync(join(root, "examples/autograd.mjs"), "utf8");

  it("stands in the README verbatim", () => {
    expect(readFileSync(join(root, "README.md"), "utf8")).toContain(source.trim());
  });

  it("runs against the built package and prints the values in its comments", () => {
    const run = spawnSync(process.execPath, [join(root, "examples/autograd.mjs")], { encoding: "utf8", cwd: root });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const printed = run.stdout.trim().split("\n");
    const expected = source.split("\n").filter((l) => l.startsWith("console.log")).map((l) => {
      const label = /console\.log\("([^"]+)"/.exec(l)![1];
      const comment = l.split("// ")[1];
      return `${label} ${comment}`;
    });
    expect(printed).toEqual(expected);
  });
});

describe("examples/keras-style.mjs", () => {
  it("stands in the README verbatim, trains, and writes the projector files", () => {
    const source = readFileSync(join(root, "examples/keras-style.mjs"), "utf8");
    expect(readFileSync(join(root, "README.md"), "utf8")).toContain(source.trim());
    const cwd = mkdtempSync(join(tmpdir(), "wasmgrad-example-"));
    try {
      const run = spawnSync(process.execPath, [join(root, "examples/keras-style.mjs")], { encoding: "utf8", cwd, timeout: 120_000 });
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      const p1 = Number(/precision@1 ([\d.]+)/.exec(run.stdout)![1]);
      expect(p1).toBeGreaterThan(0.6); // chance is about 0.1
      for (const f of ["vecs.tsv", "meta.tsv", "projector_config.json"]) expect(existsSync(join(cwd, "runs/example", f))).toBe(true);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 120_000);
});
