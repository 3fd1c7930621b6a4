// Runs one kernel on several threads at once, each on its own arguments, over one shared memory.
//
// Dispatch: a control block (a SharedArrayBuffer, outside the wasm memory so that growing the
// memory never moves it) holds, for each worker, a kernel index and its numeric arguments. The
// main thread writes every worker's slot (kernel -1: nothing for it this time), sets PENDING to the
// number of workers, bumps GENERATION and notifies; each worker wakes on the new generation, runs
// its kernel (if any), records an error message in its slot if the kernel threw, decrements
// PENDING and notifies when it reaches 0. Meanwhile the main thread runs the first share itself,
// then waits for PENDING to be 0. A dispatch of shared parts (runParts) instead writes a table of
// parts and a counter: every thread, the calling one included, takes the next part with an
// atomic add until none is left; a deferred one returns as soon as the workers are woken, and
// the calling thread takes what is left of its parts when it next needs the memory or the pool
// (finish(): the ops' dispatches, so that the JavaScript of the next op runs while the workers
// compute). Every worker takes part in every dispatch, idle or not: a
// worker then never mistakes a later dispatch's slot for the one it woke up for. Both sides poll
// for a while before sleeping (DEFAULT_SPIN_MICROSECONDS): on an idle 2-vCPU machine a round trip
// took ~100 µs with sleeping threads and ~3 µs with polling ones; on a machine kept busy by other
// programs, polling holds a CPU another needs (round trips of 15 µs without it, 200-400 µs with
// it, measured with the load average at 6), which is what init({ spinMicroseconds: 0 }) is for.

import { CONTROL, controlLayout, workerSource } from "./worker-source.js";

type KernelFunction = (...args: number[]) => unknown;

/** A thread's own value for one argument of every part it runs (its scratch): see ThreadPool.runParts. */
export interface ThreadLocal {
  /** The argument's index. */
  arg: number;
  /** Its value on thread t (0: the calling thread). */
  values: readonly number[];
}

/** What the pool needs of a Node or a browser worker. */
interface WorkerHandle {
  post(message: unknown): void;
  /** Resolves when the worker has instantiated the kernels; rejects on its error or exit. */
  ready: Promise<void>;
  /** Lets the process exit while the worker is alive (Node). */
  unref(): void;
  onExit(callback: (reason: string) => void): void;
  terminate(): Promise<void>;
}

const isNode = typeof process !== "undefined" && typeof process.versions?.node === "string";

/**
 * How long (µs) each side polls before sleeping, by default: a worker for the next dispatch after
 * finishing one, the calling thread for the workers after finishing its own share. On an idle
 * 2-vCPU virtual machine a sleeping thread takes ~100 µs to wake (its CPU halted), against ~3 µs
 * for a polling one, and a training step makes ~15 dispatches well under a millisecond apart:
 * polling took the 2-thread step from 17.4 to 15.1 ms in one run. A busy machine pays for it with
 * the CPU time the polling thread holds: init({ spinMicroseconds: 0 }) turns it off.
 */
export const DEFAULT_SPIN_MICROSECONDS = 1000;

/** Longest wait for the workers of one dispatch before declaring the pool broken (diagnosis only). */
const DEFAULT_TIMEOUT_MS = 120_000;

async function spawnNodeWorkers(count: number): Promise<WorkerHandle[]> {
  const specifier = "node:worker_threads";
  const { Worker } = (await import(/* @vite-ignore */ specifier)) as typeof import("node:worker_threads");
  return Array.from({ length: count }, () => {
    const worker = new Worker(workerSource, { eval: true, name: "wasmgrad-kernels" });
    const ready = new Promise<void>((resolve, reject) => {
      worker.once("message", (m: { ready?: boolean; error?: string }) =>
        m.ready ? resolve() : reject(new Error(`wasmgrad: worker could not instantiate the kernels: ${m.error}`)));
      worker.once("error", (e) => reject(new Error(`wasmgrad: worker failed to start: ${e.message}`)));
      worker.once("exit", (code) => reject(new Error(`wasmgrad: worker exited with code ${code} while starting`)));
    });
    return {
      post: (message) => worker.postMessage(message),
      ready,
      unref: () => worker.unref(),
      onExit: (callback) => {
        worker.on("error", (e) => callback(`worker error: ${e.message}`));
        worker.on("exit", (code) => callback(`worker exited with code ${code}`));
      },
      terminate: async () => {
        await worker.terminate();
      },
    };
  });
}

function spawnBrowserWorkers(count: number): WorkerHandle[] {
  const url = URL.createObjectURL(new Blob([workerSource], { type: "text/javascript" }));
  const handles = Array.from({ length: count }, (): WorkerHandle => {
    const worker = new Worker(url, { name: "wasmgrad-kernels" });
    const ready = new Promise<void>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<{ ready?: boolean; error?: string }>) =>
        e.data.ready ? resolve() : reject(new Error(`wasmgrad: worker could not instantiate the kernels: ${e.data.error}`));
      worker.onerror = (e) => reject(new Error(`wasmgrad: worker failed to start: ${e.message}`));
    });
    return {
      post: (message) => worker.postMessage(message),
      ready,
      unref: () => {},
      onExit: (callback) => {
        worker.onerror = (e) => callback(`worker error: ${e.message}`);
      },
      terminate: async () => worker.terminate(),
    };
  });
  // The workers have fetched the script once they are ready; revoke then (see start()).
  Promise.allSettled(handles.map((h) => h.ready)).then(() => URL.revokeObjectURL(url));
  return handles;
}

export class ThreadPool {
  /** Why the pool can no longer be used, once a worker died or timed out. */
  private broken: string | null = null;
  private terminating = false;
  /**
   * A deferred dispatch's kernel and this thread's share of it (runParts with `deferred`), run with
   * the wait by finish(). Two fields, not a closure over both: a closure made per dispatch made V8
   * keep ~340 KB more alive at each young-generation collection of a training step, and its
   * young generation grew by 12 MB (scratch measurement).
   */
  private unfinishedKernel = "";
  private unfinished: (() => void) | null = null;
  private readonly kernelIndex: Map<string, number>;
  private readonly ctl: Int32Array;
  private readonly args: Float64Array[];
  private readonly partsTable: Float64Array;
  private readonly errors: Uint8Array[];

  private constructor(
    names: string[],
    private readonly kernels: KernelFunction[],
    private readonly workers: WorkerHandle[],
    control: SharedArrayBuffer | null,
    private readonly timeoutMs: number,
    private readonly spinMicroseconds: number,
  ) {
    this.kernelIndex = new Map(names.map((name, i) => [name, i]));
    const layout = controlLayout(workers.length);
    this.ctl = control ? new Int32Array(control, 0, CONTROL.SLOT_BASE + workers.length * CONTROL.SLOT_INTS) : new Int32Array(0);
    this.args = workers.map((_, w) => new Float64Array(control!, layout.argsOffset + w * CONTROL.MAX_ARGS * 8, CONTROL.MAX_ARGS));
    this.partsTable = control ? new Float64Array(control, layout.partsOffset, CONTROL.MAX_PARTS * CONTROL.MAX_ARGS) : new Float64Array(0);
    this.errors = workers.map((_, w) => new Uint8Array(control!, layout.errorsOffset + w * CONTROL.ERROR_BYTES, CONTROL.ERROR_BYTES));
  }

  /**
   * A pool of `workerCount` workers besides the calling thread, each instantiating `module` over
   * `memory` (which must be shared when workerCount > 0). With 0 workers, `run` calls the kernel
   * in place.
   */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, exports: WebAssembly.Exports,
                     workerCount: number, options: { timeoutMs?: number; spinMicroseconds?: number } = {}): Promise<ThreadPool> {
    const names = Object.keys(exports).filter((name) => typeof exports[name] === "function");
    const kernels = names.map((name) => exports[name] as KernelFunction);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const spin = options.spinMicroseconds ?? DEFAULT_SPIN_MICROSECONDS;
    if (workerCount <= 0) return new ThreadPool(names, kernels, [], null, timeoutMs, spin);
    const layout = controlLayout(workerCount);
    const control = new SharedArrayBuffer(layout.bytes);
    const workers = isNode ? await spawnNodeWorkers(workerCount) : spawnBrowserWorkers(workerCount);
    const pool = new ThreadPool(names, kernels, workers, control, timeoutMs, spin);
    workers.forEach((worker, index) =>
      worker.post({ module, memory, control, argsOffset: layout.argsOffset, partsOffset: layout.partsOffset, errorsOffset: layout.errorsOffset, index, names }));
    try {
      await Promise.all(workers.map((w) => w.ready));
    } catch (error) {
      await Promise.allSettled(workers.map((w) => w.terminate()));
      throw error;
    }
    workers.forEach((worker, index) => {
      worker.unref();
      worker.onExit((reason) => {
        if (!pool.terminating) pool.broken ??= `worker ${index + 1}: ${reason}`;
      });
    });
    return pool;
  }

  /** Threads that run kernels: the calling thread and the workers. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * Runs `kernel` once per entry of `argsPerThread`, concurrently: entry 0 on the calling thread,
   * entry t on worker t. Returns when all are done; throws an Error naming the kernel if any threw.
   */
  run(kernel: string, argsPerThread: readonly (readonly number[])[]): void {
    this.finish();
    const id = this.kernelId(kernel, argsPerThread);
    if (argsPerThread.length > this.threads) {
      throw new Error(`parallelRun: ${kernel}: ${argsPerThread.length} shares of work for ${this.threads} threads`);
    }
    const fn = this.kernels[id];
    if (argsPerThread.length <= 1 || this.workers.length === 0) {
      for (const args of argsPerThread) fn(...args);
      return;
    }
    this.dispatch(kernel, false, (w, slot) => {
      const args = argsPerThread[w + 1];
      this.ctl[slot] = args ? id : -1;
      this.ctl[slot + 1] = args ? args.length : 0;
      this.ctl[slot + 3] = 0;
      if (args) this.args[w].set(args);
    }, () => fn(...argsPerThread[0]));
  }

  /**
   * Runs `kernel` once per entry of `parts`, on `threads` threads (the calling thread and workers)
   * that each take the next part not yet taken until none is left: a thread slowed down by anything
   * (another program, the garbage collector, its share of the data) takes fewer parts instead of
   * keeping the others waiting. Which thread runs a part must not change its result: parts write
   * disjoint outputs. With `local`, thread t replaces argument `local.arg` of every part it runs by
   * `local.values[t]` (its own scratch), in the caller's arrays on this thread. Parts run in order
   * on one thread.
   *
   * With `deferred` (and workers to help), it returns as soon as the workers are woken: they start
   * on the parts while this thread goes on with the JavaScript that follows (the next op's checks,
   * allocations and tape), and this thread takes the parts left when it next needs the memory or
   * the pool: `finish()`, which every kernel call, dispatch and memory access runs first (see
   * loader.ts). An error of a deferred dispatch is thrown there, naming the kernel.
   */
  runParts(kernel: string, parts: readonly number[][], threads: number, local?: ThreadLocal, deferred = false): void {
    this.finish();
    const id = this.kernelId(kernel, parts);
    if (parts.length > CONTROL.MAX_PARTS) throw new Error(`parallelRun: ${kernel}: ${parts.length} parts, at most ${CONTROL.MAX_PARTS}`);
    const fn = this.kernels[id];
    const helpers = Math.min(this.workers.length, threads - 1, parts.length - 1);
    if (local && local.values.length < helpers + 1) {
      throw new Error(`parallelRun: ${kernel}: ${local.values.length} thread-local values where ${helpers + 1} are needed`);
    }
    const runOn = (args: number[], value: number | undefined) => {
      if (local) args[local.arg] = value!;
      fn(...args);
    };
    if (helpers <= 0) {
      for (const args of parts) runOn(args, local?.values[0]);
      return;
    }
    const ctl = this.ctl;
    parts.forEach((args, p) => this.partsTable.set(args, p * CONTROL.MAX_ARGS));
    ctl[CONTROL.PARTS] = parts.length;
    ctl[CONTROL.NEXT_PART] = 0;
    ctl[CONTROL.LOCAL_ARG] = local ? local.arg : -1;
    const argc = Math.max(...parts.map((a) => a.length));
    this.dispatch(kernel, deferred, (w, slot) => {
      const takes = w < helpers;
      ctl[slot] = takes ? id : -1;
      ctl[slot + 1] = takes ? argc : 0;
      ctl[slot + 3] = takes ? 1 : 0;
      if (takes && local) this.args[w][0] = local.values[w + 1];
    }, () => {
      for (let p = Atomics.add(ctl, CONTROL.NEXT_PART, 1); p < parts.length; p = Atomics.add(ctl, CONTROL.NEXT_PART, 1)) {
        runOn(parts[p], local?.values[0]);
      }
    });
  }

  /** The kernel's index, after checking the pool is usable and the arguments fit the control block. */
  private kernelId(kernel: string, argLists: readonly (readonly number[])[]): number {
    const id = this.kernelIndex.get(kernel);
    if (id === undefined) throw new Error(`parallelRun: no kernel named "${kernel}"`);
    for (const args of argLists) {
      if (args.length > CONTROL.MAX_ARGS) throw new Error(`parallelRun: ${kernel}: ${args.length} arguments, at most ${CONTROL.MAX_ARGS}`);
    }
    if (this.terminating) throw new Error(`parallelRun: ${kernel}: the thread pool has been shut down`);
    if (this.broken) throw new Error(`parallelRun: ${kernel}: the thread pool is broken (${this.broken})`);
    return id;
  }

  /** Whether a deferred dispatch has not been finished yet. */
  get busy(): boolean {
    return this.unfinished !== null;
  }

  /** Finishes a deferred dispatch, if one is running: runs this thread's share, waits for the workers, throws their errors. */
  finish(): void {
    const own = this.unfinished;
    if (own === null) return;
    this.unfinished = null;
    this.complete(this.unfinishedKernel, own);
  }

  /**
   * One dispatch: `fillSlot(w, slot)` writes worker w's slot, then the workers are woken, the
   * calling thread runs `own` (now, or at finish() when deferred), and waits for them; errors of
   * either side are thrown after the wait.
   */
  private dispatch(kernel: string, deferred: boolean, fillSlot: (worker: number, slot: number) => void, own: () => void): void {
    const ctl = this.ctl;
    for (let w = 0; w < this.workers.length; w++) {
      const slot = CONTROL.SLOT_BASE + w * CONTROL.SLOT_INTS;
      fillSlot(w, slot);
      ctl[slot + 2] = 0;
    }
    Atomics.store(ctl, CONTROL.SPIN_US, this.spinMicroseconds);
    Atomics.store(ctl, CONTROL.PENDING, this.workers.length);
    Atomics.add(ctl, CONTROL.GENERATION, 1);
    Atomics.notify(ctl, CONTROL.GENERATION);
    if (deferred) {
      this.unfinishedKernel = kernel;
      this.unfinished = own;
    } else {
      this.complete(kernel, own);
    }
  }

  /** The calling thread's side of a dispatch, after waking the workers: `own`, the wait, the errors. */
  private complete(kernel: string, own: () => void): void {
    const ctl = this.ctl;
    let mainError: unknown = null;
    try {
      own();
    } catch (error) {
      mainError = error;
    }
    // Wait even if our share failed: the next dispatch must not overwrite slots still in use.
    this.waitForWorkers(kernel);
    if (mainError !== null) {
      throw new Error(`parallelRun: kernel ${kernel} failed on the main thread: ${errorMessage(mainError)}`, { cause: mainError });
    }
    for (let w = 0; w < this.workers.length; w++) {
      const bytes = ctl[CONTROL.SLOT_BASE + w * CONTROL.SLOT_INTS + 2];
      if (bytes > 0) {
        // TextDecoder refuses views of shared memory: copy first.
        const message = new TextDecoder().decode(this.errors[w].slice(0, bytes - 1));
        throw new Error(`parallelRun: kernel ${kernel} failed in worker ${w + 1}: ${message}`);
      }
    }
  }

  private waitForWorkers(kernel: string): void {
    const ctl = this.ctl;
    // The clock only every POLLS_PER_CLOCK polls, as in the worker: each reading makes garbage.
    const spinUntil = performance.now() + this.spinMicroseconds / 1000;
    for (let polls = 1; Atomics.load(ctl, CONTROL.PENDING) !== 0; polls++) {
      if (polls % CONTROL.POLLS_PER_CLOCK === 0 && performance.now() >= spinUntil) break;
    }
    const deadline = performance.now() + this.timeoutMs;
    for (;;) {
      const pending = Atomics.load(ctl, CONTROL.PENDING);
      if (pending === 0) return;
      const left = deadline - performance.now();
      if (left <= 0) {
        this.broken = `${pending} worker(s) did not finish ${kernel} within ${this.timeoutMs} ms`;
        throw new Error(`parallelRun: kernel ${kernel}: ${this.broken}`);
      }
      Atomics.wait(ctl, CONTROL.PENDING, pending, Math.min(left, 1000));
    }
  }

  /**
   * Stops the workers, after finishing a deferred dispatch (whose error, if any, it throws once
   * they are stopped). The pool cannot be used afterwards.
   */
  async terminate(): Promise<void> {
    if (this.terminating) return;
    let failure: unknown = null;
    try {
      this.finish();
    } catch (error) {
      failure = error;
    }
    this.terminating = true;
    if (this.workers.length > 0) {
      Atomics.store(this.ctl, CONTROL.QUIT, 1);
      Atomics.add(this.ctl, CONTROL.GENERATION, 1);
      Atomics.notify(this.ctl, CONTROL.GENERATION);
      await Promise.allSettled(this.workers.map((w) => w.terminate()));
    }
    if (failure !== null) throw failure;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
