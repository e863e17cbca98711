import { describe, expect, it } from "vitest";
import { CLOCK_WINDOW, ClockOffsetEstimator, clockSample } from "../../src/sdk/clock-offset.js";

describe("clock offset", () => {
  it("T-1: offset = server_time − (t0 + t1)/2 and rtt = t1 − t0", () => {
    // Sent at local 1000, server read 6050, received at local 1100: the server
    // clock is 5000 ms ahead of ours.
    expect(clockSample(1_000, 6_050, 1_100)).toEqual({ offsetMs: 5_000, rttMs: 100 });
    expect(clockSample(2_000, 1_510, 2_020)).toEqual({ offsetMs: -500, rttMs: 20 });
  });

  it("refuses samples whose local clock went backwards or are not numbers", () => {
    expect(clockSample(1_000, 5_000, 999)).toBeNull();
    expect(clockSample(Number.NaN, 5_000, 1_000)).toBeNull();
    const est = new ClockOffsetEstimator();
    expect(est.add(1_000, 5_000, 999)).toBeNull();
    expect(est.size).toBe(0);
  });

  it("is 0 before any sample", () => {
    const est = new ClockOffsetEstimator();
    expect(est.offsetMs).toBe(0);
    expect(est.best).toBeNull();
  });

  it("the sample with the smallest round trip wins", () => {
    const est = new ClockOffsetEstimator();
    est.add(0, 1_300, 400); // rtt 400, offset 1100
    est.add(1_000, 2_020, 1_040); // rtt 40, offset 1000
    est.add(2_000, 3_200, 2_200); // rtt 200, offset 1100
    expect(est.best).toEqual({ offsetMs: 1_000, rttMs: 40 });
    expect(est.offsetMs).toBe(1_000);
  });

  it("keeps only the last N samples", () => {
    const est = new ClockOffsetEstimator();
    expect(CLOCK_WINDOW).toBe(8);
    est.add(0, 50, 10); // rtt 10, offset 45: best until it slides out
    for (let i = 1; i < CLOCK_WINDOW; i++) est.add(i * 1_000, i * 1_000 + 300, i * 1_000 + 100);
    expect(est.offsetMs).toBe(45);
    est.add(9_000, 9_300, 9_100);
    expect(est.size).toBe(CLOCK_WINDOW);
    expect(est.offsetMs).toBe(250);
  });

  it("a smaller window forgets sooner; reset forgets all", () => {
    const est = new ClockOffsetEstimator(2);
    est.add(0, 50, 10);
    est.add(100, 400, 300);
    est.add(1_000, 1_700, 1_300);
    expect(est.size).toBe(2);
    expect(est.offsetMs).toBe(200);
    est.reset();
    expect(est.offsetMs).toBe(0);
    expect(() => new ClockOffsetEstimator(0)).toThrow(RangeError);
  });
});
