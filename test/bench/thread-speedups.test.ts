// The step's thread speed-up columns (bench/step.ts): over all rounds, the machine's ceiling in the
// same rounds, and over the rounds whose ceiling says the machine was idle (bench/ceiling.ts).

import { describe, expect, it } from "vitest";
import { threadSpeedups } from "../../bench/step.js";
import { idle, IDLE_SHARE } from "../../bench/ceiling.js";

describe("thread speed-up columns", () => {
  it("takes the idle rounds by their own ceiling", () => {
    const ratios = [1.50, 1.70, 1.90, 1.60, 1.80];
    const ceilings = [1.95, 1.50, 1.92, 1.89, 1.90];
    const columns = threadSpeedups(ratios, ceilings, 2);
    expect(columns["vs 1 thread"]).toBe(1.70);
    expect(columns["machine ceiling, same rounds"]).toBe(1.90);
    // Rounds 0, 2 and 4 reached 95 % of 2; round 3 (1.89) did not.
    expect(columns["idle rounds"]).toBe(3);
    expect(columns["rounds"]).toBe(5);
    expect(columns["vs 1 thread, idle rounds"]).toBe(1.80);
  });

  it("leaves the idle figure out when no round was idle", () => {
    const columns = threadSpeedups([1.5, 1.6], [1.2, 1.3], 2);
    expect(columns["idle rounds"]).toBe(0);
    expect("vs 1 thread, idle rounds" in columns).toBe(false);
  });

  it("calls a round idle at the share of the thread count, not below", () => {
    expect(idle(IDLE_SHARE * 4, 4)).toBe(true);
    expect(idle(IDLE_SHARE * 4 - 1e-9, 4)).toBe(false);
  });
});
