import { describe, expect, it } from "vitest";
import { init, isInitialized } from "../../src/index.js";

describe("init", () => {
  it("names a page served in place of the kernels, and a failed init does not stick", async () => {
    const page = new TextEncoder().encode("<!doctype html><html><body>app</body></html>");
    await expect(init({ wasm: page })).rejects.toThrow(/the kernels at the bytes given to init\(\{ wasm \}\) are not a WebAssembly module \(they start with "<!doctype html><"/);
    // A fetched response (a data: URL here, as a dev server's HTML fallback would be).
    await expect(init({ wasm: "data:text/html,<!doctype html><p>fallback" })).rejects.toThrow(/content-type text\/html.*not a WebAssembly module.*optimizeDeps\.exclude/);
    expect(isInitialized()).toBe(false);
    await init();
    expect(isInitialized()).toBe(true);
  });
});
