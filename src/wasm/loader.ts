// Instantiates the compiled kernels (kernels.wasm, next to this module) in Node or a browser.
// One module, one imported memory; `init()` must resolve before any tensor is made.

import { Allocator } from "./memory.js";

export type KernelSource = string | URL | ArrayBuffer | Uint8Array | WebAssembly.Module;

export interface InitOptions {
  /** Where to find kernels.wasm, or its bytes; default: the file next to this module. */
  wasm?: KernelSource;
  /** Initial memory in 64 KiB pages. */
  initialPages?: number;
}

interface Runtime {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  exports: WebAssembly.Exports;
  allocator: Allocator;
}

let runtime: Runtime | null = null;
let pending: Promise<void> | null = null;

const isNode = typeof process !== "undefined" && typeof process.versions?.node === "string";

async function readBytes(source: string | URL | ArrayBuffer | Uint8Array): Promise<ArrayBuffer | Uint8Array | Response> {
  if (source instanceof ArrayBuffer || source instanceof Uint8Array) return source;
  const url = typeof source === "string" ? new URL(source, import.meta.url) : source;
  if (url.protocol === "file:" && isNode) {
    // Reached only in Node: the browser path never imports a Node built-in.
    const fs = "node:fs/promises";
    const { readFile } = (await import(/* @vite-ignore */ fs)) as typeof import("node:fs/promises");
    return readFile(url);
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`wasmgrad: could not fetch kernels from ${url.href}: HTTP ${response.status}`);
  return response;
}

async function compile(source: KernelSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  const bytes = await readBytes(source as string | URL | ArrayBuffer | Uint8Array);
  if (typeof Response !== "undefined" && bytes instanceof Response) {
    const type = bytes.headers.get("content-type") ?? "";
    if (typeof WebAssembly.compileStreaming === "function" && type.startsWith("application/wasm")) {
      return WebAssembly.compileStreaming(bytes);
    }
    const fetched = new Uint8Array(await bytes.arrayBuffer());
    checkMagic(fetched, `${bytes.url || String(source)} (content-type ${type || "none"})`);
    return WebAssembly.compile(fetched);
  }
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes as ArrayBuffer);
  checkMagic(view, typeof source === "string" || source instanceof URL ? String(source) : "the bytes given to init({ wasm })");
  return WebAssembly.compile(view as BufferSource);
}

/**
 * A dev server's HTML fallback page in place of the kernels is the usual mistake in a browser
 * (e.g. Vite's dependency pre-bundling moves the loader away from kernels.wasm): name it.
 */
function checkMagic(bytes: Uint8Array, what: string): void {
  if (bytes.length >= 4 && bytes[0] === 0x00 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d) return;
  const start = Array.from(bytes.subarray(0, 16), (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
  throw new Error(`wasmgrad: the kernels at ${what} are not a WebAssembly module (they start with "${start}", expected "\\0asm"); ` +
    `serve kernels.wasm next to the loader or pass init({ wasm }); under vite dev, add "wasmgrad" to optimizeDeps.exclude`);
}

/** Loads and instantiates the kernels. Safe to call more than once; later calls are no-ops. */
export function init(options: InitOptions = {}): Promise<void> {
  if (runtime) return Promise.resolve();
  if (!pending) {
    pending = (async () => {
      const module = await compile(options.wasm ?? new URL("./kernels.wasm", import.meta.url));
      const memory = new WebAssembly.Memory({ initial: options.initialPages ?? 256 });
      const instance = await WebAssembly.instantiate(module, { env: { memory } });
      const exports = instance.exports;
      const heapBase = (exports.heap_base as () => number)();
      runtime = { module, memory, exports, allocator: new Allocator(memory, heapBase) };
    })().catch((error) => {
      pending = null;
      throw error;
    });
  }
  return pending;
}

function current(): Runtime {
  if (!runtime) throw new Error("wasmgrad: not initialized: await init() before making tensors or calling ops");
  return runtime;
}

export function isInitialized(): boolean {
  return runtime !== null;
}

/**
 * The kernel exports, typed by the caller: each op declares the signatures it uses, e.g.
 * `kernels<{ relu_forward(x: number, y: number, n: number): void }>()`.
 */
export function kernels<T>(): T {
  return current().exports as unknown as T;
}

export function allocator(): Allocator {
  return current().allocator;
}

export function memory(): WebAssembly.Memory {
  return current().memory;
}

export function wasmModule(): WebAssembly.Module {
  return current().module;
}
