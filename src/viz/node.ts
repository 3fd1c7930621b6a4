// Node built-ins for the file-writing parts of src/viz, fetched when called rather than imported
// at load time: src/index.ts re-exports src/viz and must stay importable in a browser.
// process.getBuiltinModule exists from Node 20.16 / 22.3.

import type * as Fs from "node:fs";
import type * as Path from "node:path";
import type * as Zlib from "node:zlib";

interface Builtins {
  "node:fs": typeof Fs;
  "node:path": typeof Path;
  "node:zlib": typeof Zlib;
}

export function builtin<K extends keyof Builtins>(name: K, caller: string): Builtins[K] {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  if (typeof get !== "function") {
    throw new Error(`${caller}: needs Node's ${name} (Node >= 20.16); it is not available in this environment`);
  }
  return get(name) as Builtins[K];
}
