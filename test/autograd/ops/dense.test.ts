import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { dense, flatten, gradcheck, tensor, tidy, type Tensor } from "../../../src/index.js";
import { columnSumsReference, denseReference } from "../../reference/dense.js";
import { expectClose, floats, setup } from "../../helpers/setup.js";

beforeAll(setup);

type Activation = "linear" | "relu";

const denseCase = (maxRows: number, maxIn: number, maxOut: number) =>
  fc
    .record({
      rows: fc.integer({ min: 1, max: maxRows }),
      inputs: fc.integer({ min: 1, max: maxIn }),
      outputs: fc.integer({ min: 1, max: maxOut }),
      withBias: fc.boolean(),
      activation: fc.constantFrom<Activation>("linear", "relu"),
    })
    .chain((s) =>
      fc.record({ s: fc.constant(s), x: floats(s.rows * s.inputs), w: floats(s.inputs * s.outputs), b: floats(s.outputs) }),
    );

describe("dense", () => {
  it("matches the reference (with and without bias, linear and relu)", () => {
    fc.assert(
      fc.property(denseCase(40, 40, 40), ({ s, x, w, b }) =>
        tidy(() => {
          const { rows, inputs, outputs, withBias, activation } = s;
          const y = dense(tensor(x, [rows, inputs]), tensor(w, [inputs, outputs]), withBias ? tensor(b) : null, { activation });
          expect(y.shape).toEqual([rows, outputs]);
          expectClose(y.toArray(), denseReference(x, w, withBias ? b : null, rows, inputs, outputs, activation), 1e-4, 1e-4);
        }),
      ),
      { numRuns: 80 },
    );
  });

  it("passes gradcheck (with and without bias; relu away from 0)", () => {
    fc.assert(
      fc.property(denseCase(4, 5, 9), ({ s, x, w, b }) => {
        const { rows, inputs, outputs, withBias, activation } = s;
        if (activation === "relu") {
          // Keep every pre-activation away from the kink, farther than a perturbation moves it.
          const z = denseReference(x, w, withBias ? b : null, rows, inputs, outputs);
          fc.pre(z.every((v) => Math.abs(v) > 0.05));
        }
        return tidy(() => {
          const xt = tensor(x, [rows, inputs], { requiresGrad: true });
          const wt = tensor(w, [inputs, outputs], { requiresGrad: true });
          const inputsList = [xt, wt];
          if (withBias) inputsList.push(tensor(b, [outputs], { requiresGrad: true }));
          const fn = (xi: Tensor, wi: Tensor, bi?: Tensor) => dense(xi, wi, bi ?? null, { activation });
          return gradcheck(fn, inputsList, { eps: 1e-3, atol: 1e-2, rtol: 1e-2 }).ok;
        });
      }),
      { numRuns: 40 },
    );
  });

  it("gives the bias the column sums of dy (SIMD body and scalar tail)", () => {
    fc.assert(
      fc.property(
        fc.record({ rows: fc.integer({ min: 1, max: 40 }), outputs: fc.integer({ min: 1, max: 40 }) }).chain((s) =>
          fc.record({ s: fc.constant(s), dy: floats(s.rows * s.outputs, -2, 2) }),
        ),
        ({ s, dy }) =>
          tidy(() => {
            const { rows, outputs } = s;
            const x = tensor(new Array(rows * 3).fill(0.5), [rows, 3]);
            const w = tensor(new Array(3 * outputs).fill(0.25), [3, outputs]);
            const b = tensor(new Array(outputs).fill(0), [outputs], { requiresGrad: true });
            dense(x, w, b).backward(tensor(dy, [rows, outputs]));
            expectClose(b.grad!.toArray(), columnSumsReference(dy, rows, outputs), 1e-4, 1e-4);
            expect(x.grad).toBeNull();
            expect(w.grad).toBeNull();
          }),
      ),
    );
  });

  it("passes no gradient through relu where the pre-activation is exactly 0", () =>
    tidy(() => {
      const x = tensor([1, 2], [1, 2], { requiresGrad: true });
      const w = tensor([1, 1, 1, -1], [2, 2], { requiresGrad: true });
      const b = tensor([-3, 2], [2], { requiresGrad: true });
      // z = [1 + 2 - 3, 1 - 2 + 2] = [0, 1]
      const y = dense(x, w, b, { activation: "relu" });
      expect(Array.from(y.toArray())).toEqual([0, 1]);
      y.backward(tensor([5, 7], [1, 2]));
      expect(Array.from(b.grad!.toArray())).toEqual([0, 7]);
      expect(Array.from(x.grad!.toArray())).toEqual([7, -7]);
      expect(Array.from(w.grad!.toArray())).toEqual([0, 7, 0, 14]);
    }));

  it("reads a higher-rank input as flattened (flattenInput): dense(flatten(x))'s values and gradients, bit for bit, dx in x's shape", () => {
    const shapes = fc.record({ rows: fc.integer({ min: 1, max: 6 }), a: fc.integer({ min: 1, max: 5 }), b: fc.integer({ min: 1, max: 5 }),
      c: fc.integer({ min: 1, max: 4 }), outputs: fc.integer({ min: 1, max: 20 }), relu: fc.boolean() });
    fc.assert(
      fc.property(shapes.chain((s) => fc.record({ s: fc.constant(s), x: floats(s.rows * s.a * s.b * s.c), w: floats(s.a * s.b * s.c * s.outputs), b: floats(s.outputs) })),
        ({ s, x, w, b }) =>
          tidy(() => {
            const activation = s.relu ? "relu" as const : "linear" as const;
            const run = (fused: boolean) => {
              const xt = tensor(x, [s.rows, s.a, s.b, s.c], { requiresGrad: true });
              const wt = tensor(w, [s.a * s.b * s.c, s.outputs], { requiresGrad: true });
              const bt = tensor(b, [s.outputs], { requiresGrad: true });
              const y = fused ? dense(xt, wt, bt, { activation, flattenInput: true }) : dense(flatten(xt), wt, bt, { activation });
              y.backward(tensor(Array.from({ length: y.size }, (_, i) => Math.cos(i)), y.shape));
              expect(xt.grad!.shape).toEqual(xt.shape);
              return [y, xt.grad!, wt.grad!, bt.grad!].map((t) => Array.from(t.toArray()));
            };
            expect(run(true)).toEqual(run(false));
          })),
      { numRuns: 40 },
    );
  });

  it("names the shapes in its errors", () =>
    tidy(() => {
      const x = tensor(new Array(6).fill(1), [2, 3]);
      expect(() => dense(x, tensor(new Array(8).fill(1), [4, 2]), null)).toThrow("dense: input has shape [2,3] (3 features), kernel [4,2] expects 4");
      expect(() => dense(x, tensor(new Array(6).fill(1), [3, 2]), tensor([1, 2, 3]))).toThrow("dense: bias has shape [3], expected [2] (the kernel's outputs)");
      expect(() => dense(tensor([1, 2, 3]), tensor([1], [1, 1]), null)).toThrow("dense: input has shape [3], expected a matrix [batch, inputs]");
      expect(() => dense(tensor([1, 2, 3]), tensor([1], [1, 1]), null, { flattenInput: true })).toThrow("dense: input has shape [3], expected [batch, ...] (rank 2 or more)");
      expect(() => dense(tensor(new Array(12).fill(1), [2, 3, 2]), tensor(new Array(8).fill(1), [4, 2]), null, { flattenInput: true }))
        .toThrow("dense: input has shape [2,3,2] (6 features flattened), kernel [4,2] expects 4");
      expect(() => dense(x, tensor([1, 2, 3]), null)).toThrow("dense: kernel has shape [3], expected a matrix [inputs, outputs]");
      expect(() => dense(x, tensor(new Array(6).fill(1), [3, 2]), null, { activation: "tanh" as never })).toThrow('dense: unknown activation "tanh", expected "linear" or "relu"');
    }));
});
