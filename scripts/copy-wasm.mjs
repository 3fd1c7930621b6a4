// Puts the compiled kernels next to the compiled loader, where it looks for them.
import { copyFileSync, mkdirSync } from "node:fs";
mkdirSync("dist/src/wasm", { recursive: true });
copyFileSync("src/wasm/kernels.wasm", "dist/src/wasm/kernels.wasm");
