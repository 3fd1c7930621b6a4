import { defineConfig } from "vitest/config";

// `npm run test:browser`: the demo in headless Chromium (needs `npm run build` and /usr/bin/chromium).
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    // One file, one browser at a time: the machine has 2 cores.
    fileParallelism: false,
  },
});
