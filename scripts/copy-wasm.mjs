// Puts the compiled kernels next to the compiled loader, where it looks for them.
import { copyFileSync, mkdirSync } from "node:fs";
mkdirSync("dist/src/wasm", { recursive: true });
for (const file of ["kernels.wasm", "kernels-shared.wasm", "kernels-relaxed.wasm", "kernels-relaxed-shared.wasm"]) {
  copyFileSync(`src/wasm/${file}`, `dist/src/wasm/${file}`);
}
