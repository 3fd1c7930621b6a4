// Instantiates the compiled kernels in Node or a browser; `init()` must resolve before any tensor
// is made. One thread: kernels.wasm over an ordinary memory. Several: kernels-shared.wasm over a
// shared memory, instantiated again in threads − 1 workers (parallel.ts) that run kernels on it.
// Each comes in two builds: plain SIMD, and relaxed SIMD (fused multiply-add), chosen where the
// runtime validates relaxed SIMD (Chromium; Node 20 only with --experimental-wasm-relaxed-simd).

import { Allocator } from "./memory.js";
import { ThreadPool, type ThreadLocal } from "./parallel.js";

export type KernelSource = string | URL | ArrayBuffer | Uint8Array | WebAssembly.Module;

/** Which build of the kernels runs: relaxed SIMD (fused multiply-add) or plain SIMD. */
export type KernelBuild = "relaxed" | "plain";

export interface InitOptions {
  /** Where to find kernels.wasm, or its bytes; default: the file next to this module. */
  wasm?: KernelSource;
  /** Where to find kernels-shared.wasm (used when threads > 1); default: the file next to this module. */
  sharedWasm?: KernelSource;
  /** Where to find kernels-relaxed.wasm, or its bytes; default: the file next to this module. */
  relaxedWasm?: KernelSource;
  /** Where to find kernels-relaxed-shared.wasm (threads > 1); default: the file next to this module. */
  relaxedSharedWasm?: KernelSource;
  /**
   * Which build of the kernels: "relaxed" (fused multiply-add; throws where the runtime lacks
   * relaxed SIMD), "plain", or "auto" (default): relaxed where the runtime validates it, else plain.
   * Under "auto", kernels given only as `wasm` / `sharedWasm` are the caller's choice: plain.
   * The relaxed build rounds a*b+c once instead of twice, so results differ in the last bits.
   */
  simd?: "relaxed" | "plain" | "auto";
  /** Initial memory in 64 KiB pages. */
  initialPages?: number;
  /**
   * Threads that run kernels, this one included. Default: os.availableParallelism() in Node,
   * navigator.hardwareConcurrency in browsers. Falls back to 1 (with a console warning) where
   * SharedArrayBuffer is missing, the page is not cross-origin isolated, or on a browser's main
   * thread (which may not block in Atomics.wait: run training in a worker there); and to 1 when
   * `wasm` is given without `sharedWasm` (or, for the relaxed build, `relaxedWasm` without `relaxedSharedWasm`).
   */
  threads?: number;
  /**
   * Microseconds a thread polls for work before it sleeps (workers between dispatches, this thread
   * waiting for them). Default 1000: waking a sleeping thread costs ~100 µs on an idle virtual
   * machine. 0 never polls: kinder to a machine that other programs keep busy.
   */
  spinMicroseconds?: number;
}

/** Maximum of the shared memory in 64 KiB pages (2 GiB); must match asconfig.json's shared target. */
const SHARED_MAXIMUM_PAGES = 32768;

interface Runtime {
  build: KernelBuild;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** What kernels() returns: with workers, each kernel first finishes a deferred dispatch (finishingFirst). */
  exports: WebAssembly.Exports;
  allocator: Allocator;
  pool: ThreadPool;
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
      const build = chooseBuild(options);
      const relaxed = build === "relaxed";
      const single = relaxed ? options.relaxedWasm : options.wasm;
      const sharedSource = relaxed ? options.relaxedSharedWasm : options.sharedWasm;
      // Kernels given as `wasm` alone are the caller's choice of build: the single-thread one.
      const onlySingleBuild = single !== undefined && sharedSource === undefined;
      if (onlySingleBuild && (options.threads ?? 1) > 1) {
        const [given, missing] = relaxed ? ["relaxedWasm", "relaxedSharedWasm"] : ["wasm", "sharedWasm"];
        console.warn(`wasmgrad: running kernels on 1 thread: init({ ${given} }) was given without ${missing}`);
      }
      const threads = onlySingleBuild ? 1 : await resolveThreads(options.threads);
      const initial = options.initialPages ?? 256;
      const shared = threads > 1;
      // Four literal URLs (not one built from a name) so that bundlers find and emit every file.
      const module = await compile(shared
        ? sharedSource ?? (relaxed
          ? new URL("./kernels-relaxed-shared.wasm", import.meta.url)
          : new URL("./kernels-shared.wasm", import.meta.url))
        : single ?? (relaxed
          ? new URL("./kernels-relaxed.wasm", import.meta.url)
          : new URL("./kernels.wasm", import.meta.url)));
      const memory = shared
        ? new WebAssembly.Memory({ initial, maximum: SHARED_MAXIMUM_PAGES, shared: true })
        : new WebAssembly.Memory({ initial });
      const instance = await WebAssembly.instantiate(module, { env: { memory } });
      const exports = instance.exports;
      const heapBase = (exports.heap_base as () => number)();
      const spin = options.spinMicroseconds;
      if (spin !== undefined && !(Number.isInteger(spin) && spin >= 0)) {
        throw new Error(`init: spinMicroseconds must be a non-negative integer, got ${spin}`);
      }
      const pool = await ThreadPool.start(module, memory, exports, threads - 1, { spinMicroseconds: spin });
      runtime = { build, module, memory, exports: shared ? finishingFirst(exports, pool) : exports, allocator: new Allocator(memory, heapBase), pool };
    })().catch((error) => {
      pending = null;
      throw error;
    });
  }
  return pending;
}

/** Exports that compute a size from their arguments alone, touching no memory: they need not wait for a deferred dispatch. */
const SIZE_QUERY = /(_floats|^gemm_block_rows|^heap_base)$/;

/**
 * The exports, each kernel wrapped to finish the pool's deferred dispatch first (ThreadPool.runParts):
 * a kernel may read what the dispatch writes, or write what it reads.
 */
function finishingFirst(exports: WebAssembly.Exports, pool: ThreadPool): WebAssembly.Exports {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(exports)) {
    if (typeof value !== "function" || SIZE_QUERY.test(name)) {
      wrapped[name] = value;
      continue;
    }
    const kernel = value as (...args: number[]) => unknown;
    wrapped[name] = (...args: number[]) => {
      if (pool.busy) pool.finish();
      return kernel(...args);
    };
  }
  return wrapped as WebAssembly.Exports;
}

/**
 * A module of one function, (a, b, c) => f32x4.relaxed_madd(a, b, c): it validates exactly where
 * the runtime has relaxed SIMD (the relaxed builds use no other relaxed instruction).
 */
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type section: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x0d, 0x01, 0x0b, 0x00, // code section: one body of 11 bytes, no locals
  0x20, 0x00, 0x20, 0x01, 0x20, 0x02, // local.get 0, 1, 2
  0xfd, 0x85, 0x02, // f32x4.relaxed_madd (0xfd 261)
  0x0b, // end
]);

/** Whether this runtime validates relaxed SIMD (f32x4.relaxed_madd), i.e. can run the relaxed build. */
export function relaxedSimdSupported(): boolean {
  try {
    return WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

function chooseBuild(options: InitOptions): KernelBuild {
  const simd = options.simd ?? "auto";
  if (simd !== "auto" && simd !== "relaxed" && simd !== "plain") {
    throw new Error(`init: simd must be "auto", "relaxed" or "plain", got ${JSON.stringify(simd)}`);
  }
  if (simd === "plain") return "plain";
  const supported = relaxedSimdSupported();
  if (simd === "relaxed") {
    if (!supported) {
      throw new Error('init: simd "relaxed" was asked but this runtime does not support relaxed SIMD ' +
        '(WebAssembly.validate rejects f32x4.relaxed_madd); in Node 20 run node with --experimental-wasm-relaxed-simd, ' +
        'or use simd: "auto" to fall back to the plain build');
    }
    return "relaxed";
  }
  const onlyPlainGiven = (options.wasm !== undefined || options.sharedWasm !== undefined) &&
    options.relaxedWasm === undefined && options.relaxedSharedWasm === undefined;
  return supported && !onlyPlainGiven ? "relaxed" : "plain";
}

async function defaultThreads(): Promise<number> {
  if (isNode) {
    const specifier = "node:os";
    const os = (await import(/* @vite-ignore */ specifier)) as typeof import("node:os");
    return typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
  }
  return typeof navigator !== "undefined" && navigator.hardwareConcurrency > 0 ? navigator.hardwareConcurrency : 1;
}

/** Why worker threads cannot be used here, or null if they can. */
function threadsUnavailable(): string | null {
  if (typeof SharedArrayBuffer === "undefined" || typeof Atomics === "undefined") return "SharedArrayBuffer is not available";
  if (isNode) return null;
  const g = globalThis as { crossOriginIsolated?: boolean; document?: unknown; WorkerGlobalScope?: unknown };
  if (g.crossOriginIsolated === false) return "the page is not cross-origin isolated (COOP/COEP headers)";
  if (g.document !== undefined || g.WorkerGlobalScope === undefined) {
    return "a browser's main thread may not wait on Atomics (run training in a Worker)";
  }
  if (typeof Worker === "undefined") return "Worker is not available";
  return null;
}

async function resolveThreads(requested: number | undefined): Promise<number> {
  if (requested !== undefined && (!Number.isInteger(requested) || requested < 1)) {
    throw new Error(`init: threads must be a positive integer, got ${requested}`);
  }
  const threads = requested ?? (await defaultThreads());
  if (threads <= 1) return 1;
  const reason = threadsUnavailable();
  if (reason) {
    console.warn(`wasmgrad: running kernels on 1 thread instead of ${threads}: ${reason}`);
    return 1;
  }
  return threads;
}

function current(): Runtime {
  if (!runtime) throw new Error("wasmgrad: not initialized: await init() before making tensors or calling ops");
  return runtime;
}

export function isInitialized(): boolean {
  return runtime !== null;
}

/** The build of the kernels that runs (on this thread and every worker): "relaxed" or "plain". */
export function kernelBuild(): KernelBuild {
  return current().build;
}

let threadLimit = Infinity;

/** Threads that run kernels (1: no workers), at most the limit set by limitThreads. */
export function threadCount(): number {
  return Math.min(current().pool.threads, threadLimit);
}

/**
 * Splits work over at most `threads` threads from now on (Infinity: all of the runtime's), without
 * restarting the runtime, until shutdown(); returns the previous limit. Results do not depend on it (every split
 * sums in the same order). The bench alternates 1 and 2 this way, step by step, on one runtime.
 */
export function limitThreads(threads: number): number {
  if (!(threads === Infinity || (Number.isInteger(threads) && threads >= 1))) {
    throw new Error(`limitThreads: threads must be a positive integer or Infinity, got ${threads}`);
  }
  const old = threadLimit;
  threadLimit = threads;
  return old;
}

/**
 * Runs `kernel` (an export's name) once per entry of `argsPerThread`, concurrently: entry 0 on this
 * thread, entry t on worker t (at most threadCount() entries). Returns when all are done; throws an
 * Error naming the kernel if any of them threw.
 */
export function parallelRun(kernel: string, argsPerThread: readonly (readonly number[])[]): void {
  current().pool.run(kernel, argsPerThread);
}

/**
 * Runs `kernel` once per entry of `parts` (at most 32) on up to threadCount() threads, each taking
 * the next part not yet taken, so that a thread slowed down for any reason takes fewer (see
 * ThreadPool.runParts). Parts must write disjoint outputs. With `local`, a thread running a part
 * replaces its argument `local.arg` by `local.values[t]`, t its index (0: this thread): its scratch
 * (written into the arrays of `parts` that this thread runs).
 * `threads` caps the threads that take part. With `deferred`, it may return before the parts are
 * done: this thread goes on with the JavaScript that follows while the workers start on them, and
 * takes the parts left at the next kernel call, dispatch or memory() (an error is thrown there).
 */
export function parallelRunParts(kernel: string, parts: readonly number[][], local?: ThreadLocal, threads = threadCount(),
                                 deferred = false): void {
  current().pool.runParts(kernel, parts, Math.min(threads, threadCount()), local, deferred);
}

/**
 * Finishes the dispatch that parallelRunParts(..., deferred) left running, if any: what a
 * benchmark calls before it reads the clock. Kernel calls, dispatches and memory() do it themselves.
 */
export function finishKernels(): void {
  current().pool.finish();
}

/**
 * Stops the worker threads and forgets the runtime: tensors made before are invalid, and init()
 * may be called again (e.g. with another thread count). For tests and for programs that want to free the threads early (the
 * workers never keep a Node process alive).
 */
export async function shutdown(): Promise<void> {
  if (pending) await pending.catch(() => {});
  const old = runtime;
  runtime = null;
  pending = null;
  threadLimit = Infinity; // a limit belongs to the runtime it was set on
  if (old) await old.pool.terminate();
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

/** The memory, once any deferred dispatch has finished: a view made from it sees every kernel's writes. */
export function memory(): WebAssembly.Memory {
  const rt = current();
  if (rt.pool.busy) rt.pool.finish();
  return rt.memory;
}

export function wasmModule(): WebAssembly.Module {
  return current().module;
}
