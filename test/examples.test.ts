// The README's example runs as written and prints what its comments say.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
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
