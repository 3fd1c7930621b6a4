// The semi-hard mining's per-batch figures, on a hand-worked example.
import { beforeAll, describe, expect, it } from "vitest";
import { tensor, tidy } from "../../../src/index.js";
import { TripletSemiHardLoss, tripletCollapseWarning, tripletSemiHardDiagnostics } from "../../../src/nn/losses/triplet.js";
import { setup } from "../../helpers/setup.js";

beforeAll(setup);

describe("tripletSemiHardDiagnostics", () => {
  it("matches a hand-worked batch on a line", () => {
    // Points on a line: class 0 at 0 and 1, class 1 at 1.5 and 4. Margin 1.
    // (0→1): d(a,p)=1, negatives 1.5, 4: semi-hard 1.5 → loss 1+1−1.5 = 0.5 (active)
    // (1→0): d=1, negatives 0.5, 3 → semi-hard 3 → loss 1+1−3 < 0 (inactive)
    // (1.5→4): d=2.5, negatives 1.5, 0.5: none beyond 2.5 → hardest 1.5 → 1+2.5−1.5 = 2 (active)
    // (4→1.5): d=2.5, negatives 4, 3: semi-hard 3 → 1+2.5−3 = 0.5 (active)
    const d = tidy(() => tripletSemiHardDiagnostics([0, 0, 1, 1], tensor([0, 0, 1, 0, 1.5, 0, 4, 0], [4, 2]), { margin: 1 }))!;
    expect(d.positivePairs).toBe(4);
    expect(d.activeFraction).toBe(0.75);
    expect(d.meanPositiveDistance).toBeCloseTo((1 + 1 + 2.5 + 2.5) / 4, 5);
    expect(d.meanNegativeDistance).toBeCloseTo((1.5 + 3 + 1.5 + 3) / 4, 5);
    expect(d.zeroDistanceFraction).toBe(0);
  });

  it("counts coincident points, returns null without positive pairs, and checks its arguments", () => {
    const d = tidy(() => tripletSemiHardDiagnostics([0, 1, 0], tensor([1, 1, 1, 1, 1, 1], [3, 2])))!;
    expect(d.zeroDistanceFraction).toBe(1);
    expect(d.activeFraction).toBe(1);
    expect(tidy(() => tripletSemiHardDiagnostics([0, 1, 2], tensor([0, 1, 2], [3, 1])))).toBeNull();
    expect(() => tidy(() => tripletSemiHardDiagnostics([0, 1], tensor([0, 1, 2], [3, 1])))).toThrow(/tripletSemiHardDiagnostics: got 2 labels for 3 embeddings/);
    expect(() => tidy(() => new TripletSemiHardLoss().diagnostics([0, 0.5, 1], tensor([0, 1, 2], [3, 1])))).toThrow(/label 1 is 0.5, expected a 32-bit integer/);
  });

  it("warns only when the loss sits within 1 % of the margin", () => {
    expect(tripletCollapseWarning({ zeroDistanceFraction: 0.9 }, 0.999, 1)).toMatch(/the loss 0.9990 sits at the margin 1 \(90 % of pairwise distances are zero\): the embeddings have collapsed to one point/);
    expect(tripletCollapseWarning({ zeroDistanceFraction: 0 }, 1.004, 1)).toMatch(/do not separate the classes/);
    expect(tripletCollapseWarning({ zeroDistanceFraction: 1 }, 0.95, 1)).toBeNull();
    expect(tripletCollapseWarning({}, NaN, 1)).toBeNull();
  });
});
