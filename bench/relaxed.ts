// Bench rows on the relaxed-SIMD (fused multiply-add) build while this process runs the plain one.
// Node 20 validates relaxed SIMD only with --experimental-wasm-relaxed-simd, a V8 flag that
// NODE_OPTIONS refuses and that cannot be turned on in a running process, so a child node is
// started with the flag on this file: it imports the named bench module, calls its
// `relaxedRows(quick)` and prints the rows as JSON on its last line of output.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { BenchRow } from "./harness.js";

export const RELAXED_FLAG = "--experimental-wasm-relaxed-simd";

/** A bench module that can measure rows on the relaxed build (it calls init({ simd: "relaxed" }) itself). */
interface RelaxedBench {
  relaxedRows(quick: boolean): Promise<BenchRow[]>;
}

/** Runs `relaxedRows` of bench/<module>.ts in a child node with relaxed SIMD on; its rows. */
export function relaxedRowsInChild(module: "step" | "gemm", quick: boolean): Promise<BenchRow[]> {
  const args = [RELAXED_FLAG, fileURLToPath(import.meta.url), module, ...(quick ? ["--quick"] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) {
        reject(new Error(`bench: node ${RELAXED_FLAG} ${module} exited with ${code}: ${stderr.trim()}`));
        return;
      }
      const last = stdout.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(last) as BenchRow[]);
      } catch {
        reject(new Error(`bench: node ${RELAXED_FLAG} ${module} printed no rows: ${stdout.slice(-500)}`));
      }
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [module, flag] = process.argv.slice(2);
  if (module !== "step" && module !== "gemm") throw new Error(`bench relaxed: unknown module ${module}, expected step or gemm`);
  const bench = (await import(`./${module}.js`)) as RelaxedBench;
  const rows = await bench.relaxedRows(flag === "--quick");
  process.stdout.write(`${JSON.stringify(rows)}\n`);
  const { shutdown } = await import("../src/index.js");
  await shutdown();
}
