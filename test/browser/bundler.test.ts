// The package through a bundler: a Vite build of an app that imports "wasmgrad" and
// "wasmgrad/umap" (installed as a symlink, so package.json's exports are what resolves) emits
// kernels.wasm as an asset, from the loader's `new URL("./kernels.wasm", import.meta.url)` (and
// the shared and relaxed-SIMD builds likewise), and the bundle trains a gradient step and lays
// points out with UMAP in Chromium, on the relaxed build (Chromium validates relaxed SIMD).

import { createReadStream, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join, resolve } from "node:path";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, requireBuild, type Chromium } from "./chromium.js";

const root = resolve(import.meta.dirname, "../..");
const app = join(root, "test-output/vite-app");

const MAIN = `
import { init, kernelBuild, tensor, matmul, relu, sum } from "wasmgrad";
import { umap2d } from "wasmgrad/umap";
try {
  await init();
  const x = tensor([1, -2, 3, 4], [2, 2], { requiresGrad: true });
  const w = tensor([0.5, -1, 2, 0.25], [2, 2], { requiresGrad: true });
  const loss = sum(relu(matmul(x, w)));
  loss.backward();
  const points = new Float32Array(40 * 4).map((_, i) => Math.sin(i * 1.7) + (i % 4 === Math.floor(i / 80) ? 4 : 0));
  const layout = umap2d(points, 4, { seed: 1, nNeighbors: 5, nEpochs: 50 });
  window.result = { build: kernelBuild(), loss: loss.item(), grad: Array.from(x.grad.toArray()), layoutFinite: layout.length === 80 && layout.every(Number.isFinite) };
} catch (error) {
  window.result = { error: String(error && error.stack || error) };
}
`;

let server: Server | undefined;
let browser: Chromium | undefined;

beforeAll(() => requireBuild(root));

afterAll(async () => {
  // The package symlink points back at the repository: leave no loop behind for tools that walk it.
  rmSync(join(app, "node_modules"), { recursive: true, force: true });
  await browser?.close();
  await new Promise((done) => (server ? server.close(done) : done(undefined)));
});

describe("wasmgrad through Vite", () => {
  it("bundles the kernels as an asset and runs in Chromium", async () => {
    rmSync(app, { recursive: true, force: true });
    mkdirSync(join(app, "node_modules"), { recursive: true });
    symlinkSync(root, join(app, "node_modules/wasmgrad"), "dir");
    writeFileSync(join(app, "index.html"), `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="./main.js"></script>\n`);
    writeFileSync(join(app, "main.js"), MAIN);
    await build({ root: app, configFile: false, logLevel: "silent", build: { outDir: join(app, "dist"), emptyOutDir: true } });
    const assets = readdirSync(join(app, "dist/assets"));
    // The single-thread kernels and the shared-memory (threads) build, each plain and relaxed-SIMD.
    const wasmAssets = assets.filter((f) => f.endsWith(".wasm"));
    expect(wasmAssets).toHaveLength(4);
    for (const pattern of [/^kernels-(?!shared-|relaxed-).*\.wasm$/, /^kernels-shared-.*\.wasm$/, /^kernels-relaxed-(?!shared-).*\.wasm$/, /^kernels-relaxed-shared-.*\.wasm$/]) {
      expect(wasmAssets.filter((f) => pattern.test(f)), String(pattern)).toHaveLength(1);
    }

    const types: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
    server = createServer((req, res) => {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      const file = join(app, "dist", path === "/" ? "index.html" : path);
      if (!file.startsWith(join(app, "dist")) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "Content-Type": types[extname(file)] ?? "application/octet-stream" });
      createReadStream(file).pipe(res);
    });
    await new Promise<void>((done) => server!.listen(0, "127.0.0.1", done));
    const { port } = server.address() as { port: number };

    browser = await launchChromium();
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => "result" in window, null, { timeout: 30_000 });
    const result = await page.evaluate(() => (window as unknown as { result: unknown }).result);
    // relu(x @ w) = [[0, 0], [9.5, 0]]: the same numbers as in Node.
    expect(result).toEqual({ build: "relaxed", loss: 9.5, grad: [0, 0, 0.5, 2], layoutFinite: true });
    expect(errors).toEqual([]);
  });
});
