import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { gradcheck, relu, tensor, tidy } from "../../../src/index.js";
import { reluReference } from "../../reference/relu.js";
import { expectClose, floats, setup } from "../../helpers/setup.js";

beforeAll(setup);

describe("relu", () => {
  it("matches the reference for any size (incl. 1 and non-multiples of 4)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 67 }).chain((n) => floats(n, -3, 3)), (x) =>
        tidy(() => expectClose(relu(tensor(x)).toArray(), reluReference(x), 0, 0)),
      ),
    );
  });

  it("passes gradcheck away from 0", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 23 }).chain((n) =>
          fc.array(fc.oneof(fc.double({ min: 0.1, max: 2, noNaN: true }), fc.double({ min: -2, max: -0.1, noNaN: true })), { minLength: n, maxLength: n }),
        ),
        (x) => tidy(() => gradcheck(relu, [tensor(x, [x.length], { requiresGrad: true })]).ok),
      ),
    );
  });

  it("gives gradient 0 at exactly 0 (TensorFlow's subgradient)", () =>
    tidy(() => {
      const x = tensor([0, 1, -1], [3], { requiresGrad: true });
      relu(x).backward(tensor([5, 5, 5]));
      expect(Array.from(x.grad!.toArray())).toEqual([0, 5, 0]);
    }));
});
