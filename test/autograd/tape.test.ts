import { beforeAll, describe, expect, it } from "vitest";
import { add, gradcheck, matmul, memoryStats, noGrad, relu, releaseStep, reshape, Tensor, tensor, tidy, zeroGrad } from "../../src/index.js";
import { record, tapeLength } from "../../src/autograd/tape.js";
import { setup } from "../helpers/setup.js";

beforeAll(setup);

describe("tape", () => {
  it("noGrad records nothing", () => {
    const x = tensor([1, -2, 3], [3], { requiresGrad: true });
    const before = tapeLength();
    const y = noGrad(() => relu(relu(x)));
    expect(tapeLength()).toBe(before);
    expect(y.requiresGrad).toBe(false);
    expect(() => y.backward()).toThrow(/does not require a gradient/);
    releaseStep();
  });

  it("a tensor used twice gets the sum of both gradients", () => {
    // y = x·x for a 1x1 "matrix": dy/dx = 2x.
    const x = tensor([3], [1, 1], { requiresGrad: true });
    matmul(x, x).backward();
    expect(x.grad!.item()).toBe(6);
    releaseStep();
  });

  it("gradients accumulate across backward calls until zeroGrad", () => {
    const x = tensor([3], [1, 1], { requiresGrad: true, persistent: true });
    tidy(() => matmul(x, x).backward());
    tidy(() => matmul(x, x).backward());
    expect(x.grad!.item()).toBe(12);
    zeroGrad([x]);
    expect(x.grad!.item()).toBe(0);
    x.dispose();
  });

  it("zeroGrad({ free: true }) frees the gradients; the next backward hands over its own, which outlives the scope", () => {
    const x = tensor([3], [1, 1], { requiresGrad: true, persistent: true });
    tidy(() => matmul(x, x).backward());
    const baseline = memoryStats().liveBytes;
    zeroGrad([x], { free: true });
    expect(x.grad).toBeNull();
    // One allocation of x's size (rounded up by the allocator) is gone.
    const gradBytes = baseline - memoryStats().liveBytes;
    expect(gradBytes).toBeGreaterThanOrEqual(4);
    // Set, not added to: 6, not 12; and still there after the scope that made it ended.
    tidy(() => matmul(x, x).backward());
    expect(x.grad!.item()).toBe(6);
    expect(memoryStats().liveBytes).toBe(baseline);
    tidy(() => matmul(x, x).backward());
    expect(x.grad!.item()).toBe(12);
    // The handed-over gradient is freed with its owner.
    x.dispose();
    expect(memoryStats().liveBytes).toBe(baseline - 2 * gradBytes);
  });

  it("a gradient shared by several tensors or given by the caller is copied into each .grad, never handed over", () => {
    const x = tensor([1, 2], [2], { requiresGrad: true, persistent: true });
    const w = tensor([3, 4], [2], { requiresGrad: true, persistent: true });
    const g = tensor([0.5, -1], [2], { persistent: true });
    // add's backward passes the same tensor, its output's gradient (here the caller's), to both inputs.
    tidy(() => add(x, w).backward(g));
    expect(x.grad).not.toBe(w.grad);
    expect(x.grad).not.toBe(g);
    g.dispose();
    expect(Array.from(x.grad!.toArray())).toEqual([0.5, -1]);
    expect(Array.from(w.grad!.toArray())).toEqual([0.5, -1]);
    zeroGrad([x, w], { free: true });
    // Made by this backward pass this time (reshape's), but still passed by add to both inputs.
    tidy(() => matmul(tensor([1, 1], [1, 2]), reshape(add(x, w), [2, 1])).backward());
    expect(x.grad).not.toBe(w.grad);
    expect(Array.from(x.grad!.toArray())).toEqual([1, 1]);
    expect(Array.from(w.grad!.toArray())).toEqual([1, 1]);
    for (const t of [x, w]) t.dispose();
  });

  it("refuses an op without a backward when the graph is built, naming it", () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    const out = Tensor.empty([2]);
    expect(() => record("argsortish", [x], out, undefined)).toThrow(/argsortish: this op has no backward/);
    // Without inputs that require a gradient it is fine.
    expect(() => record("argsortish", [tensor([1, 2])], out, undefined)).not.toThrow();
    releaseStep();
  });

  it("backward needs a scalar or an explicit gradient", () => {
    const x = tensor([1, 2], [1, 2], { requiresGrad: true });
    const y = relu(x);
    expect(() => y.backward()).toThrow(/output has shape \[1,2\]/);
    releaseStep();
  });

  it("step memory is released: live bytes after a step equal those before it", () => {
    const w = tensor([0.5, -0.25, 1, 2], [2, 2], { requiresGrad: true, persistent: true });
    const step = () => {
      const x = tensor([1, 2, 3, 4, 5, 6], [3, 2]);
      matmul(relu(matmul(x, w)), w);
      const loss = matmul(tensor([1, 1, 1], [1, 3]), matmul(relu(matmul(x, w)), tensor([1, 1], [2, 1])));
      loss.backward();
      releaseStep();
    };
    step(); // the first step allocates w.grad (persistent)
    const before = memoryStats().liveBytes;
    for (let i = 0; i < 5; i++) step();
    expect(memoryStats().liveBytes).toBe(before);
    expect(w.grad).not.toBeNull();
    w.dispose();
  });

  it("tidy frees what it made and keeps what it returns", () => {
    const before = memoryStats().liveBytes;
    const kept = tidy(() => {
      const a = tensor([1, 2, 3, 4], [2, 2]);
      const b = matmul(a, a);
      return { b };
    });
    expect(Array.from(kept.b.toArray())).toEqual([7, 10, 15, 22]);
    expect(memoryStats().liveBytes).toBeGreaterThan(before);
    kept.b.dispose();
    expect(memoryStats().liveBytes).toBe(before);
  });

  it("using a disposed tensor names the problem", () => {
    const a = tidy(() => {
      const t = tensor([1]);
      return t.id;
    });
    expect(a).toBeGreaterThan(0);
    const t = tensor([1, 2]);
    releaseStep();
    expect(() => t.toArray()).toThrow(/used after it was disposed/);
  });

  it("survives memory.grow in the middle of a step: no stale view, results intact", () => {
    const x = tensor([1, -2, 3, -4], [2, 2], { requiresGrad: true });
    const h = relu(x);
    const before = memoryStats().wasmMemoryBytes;
    // Force growth mid-step: a large temporary, between forward and backward.
    const big = Tensor.zeros([Math.ceil(before / 4) + 1024]);
    expect(memoryStats().wasmMemoryBytes).toBeGreaterThan(before);
    const loss = matmul(tensor([1, 1], [1, 2]), matmul(h, tensor([1, 1], [2, 1])));
    loss.backward();
    expect(Array.from(h.toArray())).toEqual([1, 0, 3, 0]);
    expect(Array.from(x.grad!.toArray())).toEqual([1, 0, 1, 0]);
    expect(big.view()[big.size - 1]).toBe(0);
    releaseStep();
  });
});

describe("gradcheck", () => {
  it("fails on a wrong backward, naming the worst element", () => {
    // A deliberately wrong op: y = 2x with a backward that returns 3·gy.
    const twice = (x: Tensor) => {
      const y = Tensor.empty(x.shape).set(Array.from(x.toArray(), (v) => 2 * v));
      record("twice", [x], y, (gy) => [Tensor.empty(x.shape).set(Array.from(gy.toArray(), (v) => 3 * v))]);
      return y;
    };
    const x = tensor([0.5, 1, 1.5], [3], { requiresGrad: true });
    expect(() => gradcheck(twice, [x])).toThrow(/gradient mismatch for input 0 \(shape \[3\]\) at flat index \d: analytic/);
    const r = gradcheck(twice, [x], { raiseException: false });
    expect(r.ok).toBe(false);
    expect(r.worst!.analytic / r.worst!.numeric).toBeCloseTo(1.5, 2);
    releaseStep();
  });

  it("passes on a right backward and leaves the inputs' grads as they were", () => {
    const a = tensor([0.3, -0.7, 1.1, 0.2, 0.9, -0.4], [2, 3], { requiresGrad: true });
    const b = tensor([0.5, 1.5, -1, 0.25, 0.75, 2], [3, 2], { requiresGrad: true });
    expect(gradcheck(matmul, [a, b]).ok).toBe(true);
    expect(a.grad).toBeNull();
    releaseStep();
  });
});
