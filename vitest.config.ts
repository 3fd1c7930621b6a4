import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Every test file gets a fresh module (and so a fresh WebAssembly memory).
    isolate: true,
  },
});
