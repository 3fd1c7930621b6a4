// Compiles kernels/ (AssemblyScript) with asc (-O3, SIMD, stub runtime) twice: src/wasm/kernels.wasm
// (ordinary memory) and src/wasm/kernels-shared.wasm (shared memory, threads, for worker threads).
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const ascBin = join(dirname(require.resolve("assemblyscript/package.json")), "bin", "asc.js");
mkdirSync("build", { recursive: true });
for (const [target, file] of [["release", "kernels.wasm"], ["shared", "kernels-shared.wasm"]]) {
  execFileSync(process.execPath, [ascBin, "--config", "asconfig.json", "--target", target], { stdio: "inherit" });
  console.log(`built src/wasm/${file}`);
}
