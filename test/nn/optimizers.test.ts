import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { Adam, SGD, Tensor, tensor } from "../../src/index.js";
import { adamReference, sgdReference } from "../reference/optimizers.js";
import { expectClose, floats, setup } from "../helpers/setup.js";

beforeAll(setup);

function param(values: number[]): Tensor {
  const p = tensor(values, [values.length], { requiresGrad: true, persistent: true });
  p.grad = Tensor.owned([values.length], true);
  return p;
}

describe("Adam", () => {
  it("matches Keras's update over several steps, any size", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 37 }).chain((n) => fc.tuple(floats(n, -2, 2), fc.array(floats(n, -1, 1), { minLength: 1, maxLength: 4 }))), ([p0, grads]) => {
        const p = param(p0);
        const adam = new Adam({ learningRate: 0.01 });
        const ref = Float64Array.from(p0);
        const m = new Float64Array(p0.length);
        const v = new Float64Array(p0.length);
        grads.forEach((g, t) => {
          p.grad!.set(g);
          adam.step([p]);
          adamReference(ref, Float32Array.from(g), m, v, t + 1, { learningRate: 0.01 });
        });
        expectClose(p.toArray(), ref, 1e-5, 1e-4);
        adam.dispose();
        p.dispose();
      }),
    );
  });

  it("uses Keras's defaults and rejects bad hyper-parameters", () => {
    expect(new Adam().getConfig()).toEqual({ learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    expect(() => new Adam({ learningRate: -1 })).toThrow(/learningRate must be a positive/);
    expect(() => new Adam({ beta1: 1 })).toThrow(/beta1 must be in \[0, 1\)/);
  });

  it("saves and restores its state", () => {
    const p = param([1, 2, 3]);
    const a = new Adam();
    p.grad!.set([0.1, -0.2, 0.3]);
    a.step([p]);
    const state = a.getState([p]);
    const b = new Adam();
    const q = param([...p.toArray()]);
    b.setState([q], state);
    p.grad!.set([0.5, 0.5, 0.5]);
    q.grad!.set([0.5, 0.5, 0.5]);
    a.step([p]);
    b.step([q]);
    expect(Array.from(q.toArray())).toEqual(Array.from(p.toArray()));
    expect(b.iterations).toBe(2);
  });
});

describe("SGD", () => {
  it("matches Keras's update with and without momentum", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 21 }).chain((n) => fc.tuple(floats(n), floats(n), fc.constantFrom(0, 0.9))), ([p0, g, momentum]) => {
        const p = param(p0);
        const sgd = new SGD({ learningRate: 0.1, momentum });
        const ref = Float64Array.from(p0);
        const vel = new Float64Array(p0.length);
        for (let t = 0; t < 3; t++) {
          p.grad!.set(g);
          sgd.step([p]);
          sgdReference(ref, Float32Array.from(g), vel, { learningRate: 0.1, momentum });
        }
        expectClose(p.toArray(), ref, 1e-5, 1e-5);
        sgd.dispose();
        p.dispose();
      }),
    );
  });
});
