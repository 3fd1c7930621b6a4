// Headless Chromium for the browser tests: the Debian package's binary (playwright's own browser
// downloads need a network this project does not have), a throw-away profile, nothing phoning home.

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

const ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Chromium> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (as .ci/run does)`);
  const profile = mkdtempSync(join(tmpdir(), "wasmgrad-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ARGS,
    headless: true,
    viewport: { width: 1280, height: 960 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Fails early, with the fix, when the package has not been built. */
export function requireBuild(root: string): void {
  for (const file of ["dist/src/index.js", "dist/src/umap.js", "dist/src/wasm/kernels.wasm"]) {
    if (!existsSync(join(root, file))) throw new Error(`${file} is missing: run \`npm run build\` before \`npm run test:browser\``);
  }
}
