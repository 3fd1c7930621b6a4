// Compiles kernels/ (AssemblyScript) to src/wasm/kernels.wasm with asc (-O3, SIMD, stub runtime).
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const ascBin = join(dirname(require.resolve("assemblyscript/package.json")), "bin", "asc.js");
mkdirSync("build", { recursive: true });
execFileSync(process.execPath, [ascBin, "--config", "asconfig.json", "--target", "release"], { stdio: "inherit" });
console.log("built src/wasm/kernels.wasm");
