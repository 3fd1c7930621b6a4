// `npm run bench`: every benchmark module's rows, as a table, or JSON with --json; then the
// speed targets judged on those rows (targets.ts).
// Flags: --json, --quick (shorter runs), --only GROUP[,GROUP].

import { init } from "../src/index.js";
import type { BenchOptions, BenchRow } from "./harness.js";
import * as embed from "./embed.js";
import * as gemm from "./gemm.js";
import * as step from "./step.js";
import * as triplet from "./triplet.js";
import * as conv from "./conv.js";
import * as tfjs from "./tfjs.js";
import * as threads from "./threads.js";
import { judgeTargets, targetsTable } from "./targets.js";

type Bench = { group: string; run: (options: BenchOptions) => Promise<BenchRow[]> | BenchRow[] };

// Each benchmark module: one line here.
const benches: Bench[] = [step, gemm, threads, conv, embed, triplet, tfjs];

function parseArgs(argv: string[]) {
  const opts = { json: false, quick: false, only: null as string[] | null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--json") opts.json = true;
    else if (a === "--quick") opts.quick = true;
    else if (a === "--only") opts.only = (argv[++i] ?? "").split(",");
    else if (a === "--help") {
      console.log("usage: npm run bench -- [--json] [--quick] [--only group,group]");
      process.exit(0);
    } else {
      console.error(`bench: unknown argument ${a} (try --help)`);
      process.exit(2);
    }
  }
  return opts;
}

function fmt(v: number | undefined, digits = 2): string {
  return v === undefined || !Number.isFinite(v) ? "" : v.toFixed(digits);
}

function table(rows: BenchRow[]): string {
  const extraKeys = [...new Set(rows.flatMap((r) => Object.keys(r.extra ?? {})))];
  const head = ["group", "name", "shape", "impl", "median ms", "p10 ms", "p90 ms", "GFLOP/s", "GB/s", ...extraKeys];
  const body = rows.map((r) => [
    r.group, r.name, r.shape, r.impl, fmt(r.medianMs, 3), fmt(r.p10Ms, 3), fmt(r.p90Ms, 3), fmt(r.gflops), fmt(r.gbps),
    ...extraKeys.map((k) => {
      const v = r.extra?.[k];
      return typeof v === "number" ? fmt(v, 3) : (v ?? "");
    }),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => String(b[i]).length)));
  const line = (cells: string[]) => cells.map((c, i) => String(c).padEnd(widths[i])).join("  ").trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  await init();
  const rows: BenchRow[] = [];
  for (const b of benches) {
    if (opts.only && !opts.only.includes(b.group)) continue;
    rows.push(...(await b.run({ quick: opts.quick })));
    if (!opts.json) process.stderr.write(`bench: ${b.group} done\n`);
  }
  const meta = { node: process.version, date: new Date().toISOString(), quick: opts.quick };
  const targets = judgeTargets(rows);
  if (opts.json) console.log(JSON.stringify({ meta, rows, targets }, null, 2));
  else console.log(`${table(rows)}\n\n${targetsTable(targets)}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
