// The code of a kernel worker, as a string: started with `new Worker(code, { eval: true })` in Node
// and from a Blob URL in browsers, so that no worker file has to be resolved (from the TypeScript
// sources under vitest, from dist/, or from a bundler's output alike).
//
// A worker receives the compiled module, the shared memory and the control block, instantiates
// the kernels, says "ready", and then only waits for work: see parallel.ts for the protocol.

/** Layout of the control block (a SharedArrayBuffer), shared by parallel.ts and the worker. */
export const CONTROL = {
  /** Int32 index: bumped by the main thread for each dispatch. */
  GENERATION: 0,
  /** Int32 index: workers still running the current dispatch. */
  PENDING: 1,
  /** Int32 index: non-zero asks the workers to leave their loop. */
  QUIT: 2,
  /** Int32 index: microseconds a worker keeps polling for the next dispatch before it sleeps. */
  SPIN_US: 3,
  /** Int32 index: parts of the current dispatch when it shares a list of parts (see ThreadPool.runParts). */
  PARTS: 4,
  /** Int32 index: the next part to take; each thread takes one with an atomic add. */
  NEXT_PART: 5,
  /** Int32 index: the argument each thread replaces by its own value (its scratch), or -1. */
  LOCAL_ARG: 6,
  /**
   * Int32 index of worker w's slot: SLOT_BASE + w * SLOT_INTS: [kernel (-1: none), argc, error
   * (0: none, else message bytes + 1), 1: take parts from the parts table (its own value in
   * args[0]), 0: run its own args once].
   */
  SLOT_BASE: 8,
  SLOT_INTS: 4,
  /** Arguments a kernel may take. */
  MAX_ARGS: 24,
  /** Parts a shared dispatch may have. */
  MAX_PARTS: 32,
  /** Bytes of error message kept per worker. */
  ERROR_BYTES: 512,
  /** Polls of a spinning thread between two readings of the clock (see the worker's loop). */
  POLLS_PER_CLOCK: 128,
} as const;

/** Byte sizes and offsets of the control block for `workers` workers. */
export function controlLayout(workers: number) {
  const intsBytes = (CONTROL.SLOT_BASE + workers * CONTROL.SLOT_INTS) * 4;
  const argsOffset = Math.ceil(intsBytes / 8) * 8;
  const partsOffset = argsOffset + workers * CONTROL.MAX_ARGS * 8;
  const errorsOffset = partsOffset + CONTROL.MAX_PARTS * CONTROL.MAX_ARGS * 8;
  return { argsOffset, partsOffset, errorsOffset, bytes: errorsOffset + workers * CONTROL.ERROR_BYTES };
}

export const workerSource = `"use strict";
const C = ${JSON.stringify(CONTROL)};
const nodeThreads = typeof require === "function" ? require("node:worker_threads") : null;
const post = (message) => (nodeThreads ? nodeThreads.parentPort.postMessage(message) : self.postMessage(message));
function onFirstMessage(handler) {
  if (nodeThreads) nodeThreads.parentPort.once("message", handler);
  else self.onmessage = (event) => { self.onmessage = null; handler(event.data); };
}

onFirstMessage(async ({ module, memory, control, argsOffset, partsOffset, errorsOffset, index, names }) => {
  let kernels;
  try {
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    kernels = names.map((name) => instance.exports[name]);
  } catch (error) {
    post({ error: String((error && error.stack) || error) });
    return;
  }
  const ctl = new Int32Array(control);
  const slot = C.SLOT_BASE + index * C.SLOT_INTS;
  const args = new Float64Array(control, argsOffset + index * C.MAX_ARGS * 8, C.MAX_ARGS);
  const partsTable = new Float64Array(control, partsOffset, C.MAX_PARTS * C.MAX_ARGS);
  const partArgs = []; // one part's arguments, reused: no garbage a part
  const errorBytes = new Uint8Array(control, errorsOffset + index * C.ERROR_BYTES, C.ERROR_BYTES);
  const encoder = new TextEncoder();
  // Read before saying ready: the first dispatch may bump the generation as soon as we do.
  let seen = Atomics.load(ctl, C.GENERATION);
  post({ ready: true });

  for (;;) {
    // Dispatches come in bursts (one per op of a training step): poll a little before sleeping,
    // since waking a sleeping thread costs ~100 µs on an idle virtual machine (its CPU halted).
    // The clock is read every POLLS_PER_CLOCK polls: read at every one, it made garbage enough for
    // a young-generation collection every ~100 ms of training (45 in 500 two-thread steps, now 5).
    const spinUs = Atomics.load(ctl, C.SPIN_US);
    if (spinUs > 0) {
      const until = performance.now() + spinUs / 1000;
      for (let polls = 1; Atomics.load(ctl, C.GENERATION) === seen; polls++) {
        if (polls % C.POLLS_PER_CLOCK === 0 && performance.now() >= until) break;
      }
    }
    Atomics.wait(ctl, C.GENERATION, seen);
    const generation = Atomics.load(ctl, C.GENERATION);
    if (generation === seen) continue;
    seen = generation;
    if (Atomics.load(ctl, C.QUIT)) break;
    const kernel = ctl[slot];
    if (kernel >= 0) {
      try {
        const argc = ctl[slot + 1];
        if (ctl[slot + 3]) {
          // Shared parts: take the next one until none is left (parallel.ts, runParts).
          const parts = ctl[C.PARTS], local = ctl[C.LOCAL_ARG], own = args[0];
          partArgs.length = argc;
          for (let p = Atomics.add(ctl, C.NEXT_PART, 1); p < parts; p = Atomics.add(ctl, C.NEXT_PART, 1)) {
            for (let i = 0; i < argc; i++) partArgs[i] = partsTable[p * C.MAX_ARGS + i];
            if (local >= 0) partArgs[local] = own;
            kernels[kernel](...partArgs);
          }
        } else {
          kernels[kernel](...args.subarray(0, argc));
        }
      } catch (error) {
        // TextEncoder cannot write into shared memory: encode, then copy.
        const text = encoder.encode(String((error && error.message) || error)).subarray(0, C.ERROR_BYTES);
        errorBytes.set(text);
        ctl[slot + 2] = text.length + 1;
      }
    }
    if (Atomics.sub(ctl, C.PENDING, 1) === 1) Atomics.notify(ctl, C.PENDING);
  }
});
`;
