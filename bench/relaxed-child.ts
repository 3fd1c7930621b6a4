// Run by bench/relaxed.ts as `node --experimental-wasm-relaxed-simd relaxed-child.js <module> [--quick]`:
// imports bench/<module>.ts, calls its `relaxedRows(quick)` (which inits the relaxed build itself)
// and prints the rows as JSON on one line. A separate entry: step.ts and gemm.ts import relaxed.ts,
// and a module that awaits at top level cannot be imported back while it runs.

import type { BenchRow } from "./harness.js";
import { shutdown } from "../src/index.js";

interface RelaxedBench {
  relaxedRows(quick: boolean): Promise<BenchRow[]>;
}

const [module, flag] = process.argv.slice(2);
if (module !== "step" && module !== "gemm") throw new Error(`bench relaxed-child: unknown module ${module}, expected step or gemm`);
const bench = (await import(`./${module}.js`)) as RelaxedBench;
const rows = await bench.relaxedRows(flag === "--quick");
process.stdout.write(`${JSON.stringify(rows)}\n`);
await shutdown();
