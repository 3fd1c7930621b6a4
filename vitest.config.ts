import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // test/browser drives Chromium: `npm run test:browser` (vitest.browser.config.ts).
    exclude: [...configDefaults.exclude, "test/browser/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Every test file gets a fresh module (and so a fresh WebAssembly memory).
    isolate: true,
  },
});
