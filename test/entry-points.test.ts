// The package's entry points load in a browser without a bundler: on the import graph of the
// emitted JavaScript (type-only imports elided, as tsc does) every specifier is relative, so no
// Node built-in and no bare package name is imported at load time. Node built-ins are reached only
// through dynamic imports of a variable (invisible here by design) or process.getBuiltinModule.

import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const src = resolve(import.meta.dirname, "../src");

/** Every module reachable from `entry` by static or literal dynamic import, with the specifiers it imports. */
function importGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const pending = [resolve(src, entry)];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (graph.has(file)) continue;
    const emitted = ts.transpileModule(readFileSync(file, "utf8"), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: file,
    }).outputText;
    const specifiers = ts.preProcessFile(emitted, true, true).importedFiles.map((f) => f.fileName);
    graph.set(file, specifiers);
    for (const specifier of specifiers) {
      if (specifier.startsWith("./") || specifier.startsWith("../")) pending.push(join(dirname(file), specifier.replace(/\.js$/, ".ts")));
    }
  }
  return graph;
}

function nonRelative(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  for (const [file, specifiers] of graph) {
    for (const s of specifiers) if (!s.startsWith("./") && !s.startsWith("../")) found.push(`${file.slice(src.length + 1)} imports "${s}"`);
  }
  return found;
}

describe("entry points", () => {
  it("wasmgrad (src/index.ts) imports nothing but its own modules", () => {
    const graph = importGraph("index.ts");
    expect(graph.size).toBeGreaterThan(30);
    expect(nonRelative(graph)).toEqual([]);
    expect([...graph.keys()].some((f) => f.includes(`${join("src", "cli")}`))).toBe(false);
  });

  it("wasmgrad/umap (src/umap.ts) imports nothing but its own modules", () => {
    expect(nonRelative(importGraph("umap.ts"))).toEqual([]);
  });

  it("the check sees a Node built-in when one is imported", () => {
    expect(nonRelative(importGraph("cli/train-mnist-run.ts"))).toEqual(expect.arrayContaining(['cli/train-mnist-run.ts imports "node:fs/promises"']));
  });
});
