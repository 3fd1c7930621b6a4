// Compiles kernels/ (AssemblyScript) with asc (-O3, SIMD, stub runtime) four times: src/wasm/kernels.wasm
// (ordinary memory) and src/wasm/kernels-shared.wasm (shared memory, threads, for worker threads),
// then the same two with relaxed SIMD (fused multiply-add: kernels/madd.ts), kernels-relaxed.wasm
// and kernels-relaxed-shared.wasm, which the loader picks where the runtime validates them.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const ascBin = join(dirname(require.resolve("assemblyscript/package.json")), "bin", "asc.js");
mkdirSync("build", { recursive: true });
const targets = [
  ["release", "kernels.wasm"],
  ["shared", "kernels-shared.wasm"],
  ["relaxed", "kernels-relaxed.wasm"],
  ["relaxed-shared", "kernels-relaxed-shared.wasm"],
];
for (const [target, file] of targets) {
  execFileSync(process.execPath, [ascBin, "--config", "asconfig.json", "--target", target], { stdio: "inherit" });
  console.log(`built src/wasm/${file}`);
}
