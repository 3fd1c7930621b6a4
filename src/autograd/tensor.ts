// Tensor: a float32 buffer in WebAssembly memory with a shape, and its place on the tape.
//
// Two lifetimes. Persistent tensors (parameters, their gradients, optimizer state) live until
// disposed. Every other tensor belongs to the innermost open scope (`tidy`) or to the step, and
// is freed when that scope ends or `releaseStep()` is called. Views over memory are made on
// demand and never kept: `memory.grow` detaches them.

import { allocator, memory } from "../wasm/loader.js";
import type { TapeNode } from "./tape.js";

export type Shape = readonly number[];

export interface TensorOptions {
  requiresGrad?: boolean;
  /** Survives `releaseStep()` and scope ends (parameters, optimizer state). */
  persistent?: boolean;
}

let nextId = 1;

/** @internal The id the next tensor will get: tensors made after this call have ids at least this. */
export function nextTensorId(): number {
  return nextId;
}

/** Open scopes; index 0 is the step. Each holds the non-persistent tensors made inside it. */
const scopes: Set<Tensor>[] = [new Set()];

export class Tensor {
  readonly id = nextId++;
  readonly shape: Shape;
  readonly size: number;
  readonly persistent: boolean;
  requiresGrad: boolean;
  /** Accumulated gradient of a leaf after `backward()`; owned by this tensor. */
  grad: Tensor | null = null;
  /** The tape node that made this tensor; null for leaves. */
  node: TapeNode | null = null;
  private address: number;
  /** Set for tensors owned by another (a leaf's grad): not tracked by scopes. */
  private owned: boolean;

  private constructor(shape: Shape, options: TensorOptions & { owned?: boolean }) {
    this.shape = Object.freeze(checkShape(shape));
    this.size = this.shape.reduce((a, b) => a * b, 1);
    this.persistent = options.persistent ?? false;
    this.requiresGrad = options.requiresGrad ?? false;
    this.owned = options.owned ?? false;
    this.address = allocator().alloc(this.size * 4);
    if (!this.persistent && !this.owned) scopes[scopes.length - 1].add(this);
  }

  /** A tensor with undefined contents: for ops, which overwrite it. */
  static empty(shape: Shape, options: TensorOptions = {}): Tensor {
    return new Tensor(shape, options);
  }

  /** @internal A tensor owned by another tensor (a gradient), freed with its owner. */
  static owned(shape: Shape, persistent: boolean): Tensor {
    return new Tensor(shape, { owned: true, persistent });
  }

  static zeros(shape: Shape, options: TensorOptions = {}): Tensor {
    const t = new Tensor(shape, options);
    t.view().fill(0);
    return t;
  }

  /** Pointer to the first element in linear memory. */
  get ptr(): number {
    if (this.address < 0) throw new Error(`tensor #${this.id} of shape [${this.shape}] was used after it was disposed (its scope or step ended)`);
    return this.address;
  }

  get isDisposed(): boolean {
    return this.address < 0;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** A fresh view of the data. Do not keep it: any allocation may grow memory and detach it. */
  view(): Float32Array {
    return new Float32Array(memory().buffer, this.ptr, this.size);
  }

  /** A copy of the data. */
  toArray(): Float32Array {
    return this.view().slice();
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor has shape [${this.shape}] (${this.size} elements), expected exactly one element`);
    return this.view()[0];
  }

  /** Overwrites the data from an array of the same size. */
  set(values: ArrayLike<number>): this {
    if (values.length !== this.size) throw new Error(`set: got ${values.length} values for a tensor of shape [${this.shape}] (${this.size} elements)`);
    this.view().set(values);
    return this;
  }

  /** Back-propagates from this tensor; see `backward` in tape.ts. */
  backward(gradient?: Tensor): void {
    backwardHook(this, gradient);
  }

  /**
   * @internal Makes this tensor, made in a scope, the gradient `owner` owns: out of its scope,
   * freed with its owner. False (and nothing changed) for a persistent or already owned tensor.
   */
  becomeGradOf(owner: Tensor): boolean {
    if (this.persistent || this.owned || this.address < 0) return false;
    for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i].delete(this)) break;
    this.owned = true;
    owner.grad = this;
    return true;
  }

  /** Frees the memory now (and the gradient's). Using the tensor afterwards throws. */
  dispose(): void {
    if (this.address < 0) return;
    allocator().release(this.address);
    this.address = -1;
    this.node = null;
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
    for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i].delete(this)) break;
  }

  toString(): string {
    return `Tensor(shape=[${this.shape}]${this.requiresGrad ? ", requiresGrad" : ""}${this.persistent ? ", persistent" : ""})`;
  }
}

// tape.ts registers its backward here, so that tensor.ts does not import tape.ts at load time.
let backwardHook: (t: Tensor, gradient?: Tensor) => void = () => {
  throw new Error("backward: the tape is not loaded");
};
export function setBackwardHook(fn: typeof backwardHook): void {
  backwardHook = fn;
}
let scopeEndHook: () => void = () => {};
export function setScopeEndHook(fn: () => void): void {
  scopeEndHook = fn;
}

function checkShape(shape: Shape): number[] {
  if (!Array.isArray(shape)) throw new Error(`shape must be an array of sizes, got ${String(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`shape [${shape}] has an invalid size ${d}: sizes must be non-negative integers`);
  }
  return [...shape];
}

/** A tensor from values, in row-major order. */
export function tensor(values: ArrayLike<number>, shape?: Shape, options: TensorOptions = {}): Tensor {
  const s = shape ?? [values.length];
  const size = s.reduce((a, b) => a * b, 1);
  if (size !== values.length) {
    throw new Error(`tensor: ${values.length} values do not fill shape [${s}] (${size} elements)`);
  }
  return Tensor.empty(s, options).set(values);
}

function collect(value: unknown, into: Set<Tensor>): void {
  if (value instanceof Tensor) into.add(value);
  else if (Array.isArray(value)) for (const v of value) collect(v, into);
  else if (value && typeof value === "object") for (const v of Object.values(value)) collect(v, into);
}

/**
 * Runs `fn` in a scope: every non-persistent tensor made inside is freed when it returns, except
 * the tensors it returns (directly, or in arrays and plain objects), which move to the outer scope.
 */
export function tidy<T>(fn: () => T): T {
  scopes.push(new Set());
  let result: T;
  try {
    result = fn();
  } finally {
    const scope = scopes.pop()!;
    const keep = new Set<Tensor>();
    collect(result!, keep);
    const outer = scopes[scopes.length - 1];
    for (const t of scope) {
      if (keep.has(t)) outer.add(t);
      else t.dispose();
    }
    scopeEndHook();
  }
  return result;
}

/** Frees every non-persistent tensor made outside any `tidy` (the step's tensors), and clears the tape. */
export function releaseStep(): void {
  if (scopes.length !== 1) throw new Error("releaseStep: called inside tidy(); release the step after the scope ends");
  for (const t of [...scopes[0]]) t.dispose();
  scopeEndHook();
}

/** How many non-persistent tensors are alive, over all open scopes. */
export function liveStepTensors(): number {
  return scopes.reduce((n, s) => n + s.size, 0);
}
