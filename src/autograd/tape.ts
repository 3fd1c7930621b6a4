// The tape: ops record a node (inputs, output, backward) as they run; `backward()` walks the
// nodes in reverse, calling each node's backward with the gradient of its output, and adds up
// the gradients that reach each tensor (a tensor used twice gets both).

import { kernels } from "../wasm/loader.js";
import { runOverRanges } from "../wasm/split.js";
import { nextTensorId, setBackwardHook, setScopeEndHook, Tensor } from "./tensor.js";

/** Given the gradient of the output, returns the gradient of each input (null: none). */
export type BackwardFn = (gradOutput: Tensor) => (Tensor | null)[];

export interface TapeNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly backward: BackwardFn;
}

interface AccumulateKernels {
  accumulate(dst: number, src: number, n: number): void;
}

let nodes: TapeNode[] = [];
let gradDepth = 0;
/** When set, receives each node's backward time (ms): for profiling, off by default. */
let backwardProfiler: ((op: string, ms: number) => void) | null = null;

/** @internal Installs (or removes, with null) a callback timing each node's backward. */
export function setBackwardProfiler(fn: ((op: string, ms: number) => void) | null): void {
  backwardProfiler = fn;
}

export function isGradEnabled(): boolean {
  return gradDepth === 0;
}

/** Runs `fn` without recording anything on the tape. */
export function noGrad<T>(fn: () => T): T {
  gradDepth++;
  try {
    return fn();
  } finally {
    gradDepth--;
  }
}

/** Number of nodes on the tape (for tests and diagnostics). */
export function tapeLength(): number {
  return nodes.length;
}

/**
 * Records an op. Called by every op after its forward kernel. Nothing is recorded when no input
 * requires a gradient or inside `noGrad`. An op with no backward is refused here, at graph
 * building time, never halfway through `backward()`.
 */
export function record(op: string, inputs: readonly Tensor[], output: Tensor, backward: BackwardFn | undefined): void {
  if (gradDepth > 0 || !inputs.some((t) => t.requiresGrad)) return;
  if (!backward) {
    throw new Error(`${op}: this op has no backward, so it cannot take inputs that require gradients; call it inside noGrad() or on tensors without requiresGrad`);
  }
  const node: TapeNode = { op, inputs, output, backward };
  output.requiresGrad = true;
  output.node = node;
  nodes.push(node);
}

function copyOf(t: Tensor, persistent: boolean): Tensor {
  const out = Tensor.owned(t.shape, persistent);
  out.view().set(t.view());
  return out;
}

/**
 * Back-propagates from `output`. Without `gradient`, `output` must hold one element and its
 * gradient is 1. Gradients of leaves that require them are added to their `.grad` (call
 * `zeroGrad` between steps), or become it when it is null. The tape is cleared afterwards.
 */
export function backward(output: Tensor, gradient?: Tensor): void {
  if (!output.requiresGrad) {
    throw new Error(`backward: tensor of shape [${output.shape}] does not require a gradient (no input of the ops that made it requires one, or it was made under noGrad)`);
  }
  if (gradient) {
    if (gradient.size !== output.size) throw new Error(`backward: gradient has shape [${gradient.shape}], output has shape [${output.shape}]`);
  } else if (output.size !== 1) {
    throw new Error(`backward: output has shape [${output.shape}]; pass a gradient of that shape, or reduce it to one element first (sum, mean)`);
  }
  const { accumulate } = kernels<AccumulateKernels>();
  const firstBackwardId = nextTensorId();
  const grads = new Map<Tensor, Tensor>();
  // Tensors whose gradient in `grads` came from elsewhere (the caller, or an op's return).
  const seed = gradient ?? Tensor.empty(output.shape);
  if (!gradient) seed.view().fill(1);
  grads.set(output, seed);
  const leaves = new Set<Tensor>();
  const add = (t: Tensor, g: Tensor) => {
    const have = grads.get(t);
    if (!have) {
      grads.set(t, g);
      return;
    }
    // Sum into a fresh tensor: either of the two may be shared with another input's gradient.
    const sum = Tensor.empty(t.shape);
    sum.view().set(have.view());
    accumulate(sum.ptr, g.ptr, t.size);
    grads.set(t, sum);
  };
  try {
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i];
      const gOut = grads.get(node.output);
      if (!gOut) continue;
      const started = backwardProfiler ? performance.now() : 0;
      const gIns = node.backward(gOut);
      if (backwardProfiler) backwardProfiler(node.op, performance.now() - started);
      if (gIns.length !== node.inputs.length) {
        throw new Error(`${node.op}: backward returned ${gIns.length} gradients for ${node.inputs.length} inputs`);
      }
      node.inputs.forEach((input, j) => {
        const g = gIns[j];
        if (!input.requiresGrad || !g) return;
        if (g.size !== input.size) {
          throw new Error(`${node.op}: backward gave a gradient of shape [${g.shape}] for input ${j} of shape [${input.shape}]`);
        }
        add(input, g);
        if (!input.node) leaves.add(input);
      });
    }
    // A leaf with no .grad takes its gradient's tensor itself, no copy, when nothing else can
    // hold it: made by this pass's backward functions (so neither the caller's nor a forward
    // value) and the gradient of no other tensor.
    const holders = new Map<Tensor, number>();
    for (const g of grads.values()) holders.set(g, (holders.get(g) ?? 0) + 1);
    for (const leaf of leaves) {
      const g = grads.get(leaf)!;
      if (leaf.grad) accumulateSplit(leaf.grad, g);
      else if (!(g.id >= firstBackwardId && holders.get(g) === 1 && g.becomeGradOf(leaf))) leaf.grad = copyOf(g, leaf.persistent);
    }
    if (output.node === null && output.requiresGrad && !leaves.has(output)) {
      // backward() on a leaf itself: its gradient is the seed.
      if (output.grad) accumulate(output.grad.ptr, seed.ptr, output.size);
      else output.grad = copyOf(seed, output.persistent);
    }
  } finally {
    clearTape();
  }
}

/** Drops every recorded node. */
export function clearTape(): void {
  for (const node of nodes) node.output.node = null;
  nodes = [];
}

export interface ZeroGradOptions {
  /**
   * Free the gradients instead (`.grad` becomes null), as PyTorch's `zero_grad(set_to_none=True)`:
   * the next backward then hands each leaf its gradient, with no zero-fill and no add. Optimizers
   * skip parameters whose `.grad` is null. Default false: zero them, keeping their buffers.
   */
  free?: boolean;
}

/** Sets the gradients of `tensors` to zero, keeping their buffers, or frees them (`{ free: true }`). */
export function zeroGrad(tensors: Iterable<Tensor>, options: ZeroGradOptions = {}): void {
  for (const t of tensors) {
    const grad = t.grad;
    if (!grad) continue;
    if (options.free) {
      grad.dispose();
      t.grad = null;
    } else {
      runOverRanges("fill", grad.size, grad.size * 4, (start, count) => [grad.ptr + start * 4, count, 0]);
    }
  }
}

/**
 * dst += src elementwise, split over the threads by element ranges when large (the dense layer's
 * kernel gradient is 1.6 MB): the same sums whatever the split.
 */
function accumulateSplit(dst: Tensor, src: Tensor): void {
  runOverRanges("accumulate", dst.size, dst.size * 12, (start, count) => [dst.ptr + start * 4, src.ptr + start * 4, count]);
}

setBackwardHook(backward);
// When a scope ends, nodes whose output was freed can no longer be walked.
setScopeEndHook(() => {
  if (nodes.some((n) => n.output.isDisposed || n.inputs.some((t) => t.isDisposed))) {
    nodes = nodes.filter((n) => !n.output.isDisposed && !n.inputs.some((t) => t.isDisposed));
  }
});
