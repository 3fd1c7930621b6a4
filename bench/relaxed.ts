// Bench rows on the relaxed-SIMD (fused multiply-add) build while this process runs the plain one.
// Node 20 validates relaxed SIMD only with --experimental-wasm-relaxed-simd, a V8 flag that
// NODE_OPTIONS refuses and that cannot be turned on in a running process, so a child node is
// started with the flag on relaxed-child.ts, which prints the rows as JSON on its last line.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { BenchRow } from "./harness.js";

export const RELAXED_FLAG = "--experimental-wasm-relaxed-simd";

/** Runs `relaxedRows` of bench/<module>.ts in a child node with relaxed SIMD on; its rows. */
export function relaxedRowsInChild(module: "step" | "gemm", quick: boolean): Promise<BenchRow[]> {
  const args = [RELAXED_FLAG, fileURLToPath(new URL("./relaxed-child.js", import.meta.url)), module, ...(quick ? ["--quick"] : [])];
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
