import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import { repeatEvery } from "../../src/engine/repeating-timer.js";

describe("repeatEvery", () => {
  it("calls every period, first one period from now, until stopped", () => {
    const clock = new FakeClock(0, { deferred: "manual" });
    const calls: number[] = [];
    const stop = repeatEvery(clock, 100, () => calls.push(clock.now()));
    clock.advance(99);
    expect(calls).toEqual([]);
    clock.advance(251);
    expect(calls).toEqual([100, 200, 300]);
    stop();
    clock.advance(1_000);
    expect(calls).toEqual([100, 200, 300]);
    expect(clock.pending).toBe(0);
  });

  it("stopping from inside the call cancels the next one", () => {
    const clock = new FakeClock(0, { deferred: "manual" });
    let calls = 0;
    const stop = repeatEvery(clock, 100, () => {
      calls += 1;
      if (calls === 2) stop();
    });
    clock.advance(1_000);
    expect(calls).toBe(2);
    expect(clock.pending).toBe(0);
  });

  it("arms background timers when asked", () => {
    const clock = new FakeClock(0, { deferred: "manual" });
    const stop = repeatEvery(clock, 100, () => {}, { background: true });
    clock.advance(250);
    expect([clock.pending, clock.pendingForeground]).toEqual([1, 0]);
    stop();
  });
});
