// TensorFlow.js (4.22) for the comparison bench and its tests: core, layers and the cpu and wasm
// backends, made quiet, and switched between with a guard that nothing is downloaded.

import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";

export { tf, tfl };

export type TfjsBackendName = "cpu" | "wasm";

/**
 * Makes `name` the active backend. In Node the wasm backend reads its .wasm beside its own module
 * in node_modules; `fetch` is replaced during the switch so that any attempt to download fails
 * loudly instead of reaching the network. Threads stay off: Node has no SharedArrayBuffer workers
 * for it.
 */
export async function useBackend(name: TfjsBackendName): Promise<void> {
  tf.env().set("PROD", true); // no debug-mode checks or their warnings
  const realFetch = globalThis.fetch;
  let attempted: string | null = null;
  globalThis.fetch = ((input: unknown) => {
    attempted = String(input);
    return Promise.reject(new Error(`tfjs: the ${name} backend tried to download ${attempted}`));
  }) as typeof fetch;
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } finally {
    globalThis.fetch = realFetch;
  }
  if (attempted !== null) throw new Error(`tfjs: the ${name} backend tried to download ${attempted}; it must load from node_modules`);
  if (!ok || tf.getBackend() !== name) {
    throw new Error(`tfjs: could not initialize the ${name} backend (active: ${tf.getBackend()})`);
  }
}
