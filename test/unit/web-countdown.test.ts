import { describe, expect, it } from "vitest";
import { ClockOffsetEstimator } from "../../src/sdk/index.js";
import { countdown, serverNow } from "../../web/src/lib/countdown.js";

describe("web countdown: time left to a server deadline", () => {
  it("T-1: a phone whose clock runs 5 s fast still shows the server's time left", () => {
    // The server's clock reads 1_000_000 when the phone's reads 1_005_000.
    const est = new ClockOffsetEstimator();
    est.add(1_004_900, 1_000_000, 1_005_100); // ping sent at 1_004_900, pong back at 1_005_100
    expect(est.offsetMs).toBe(-5_000);
    const deadline = 1_000_000 + 20_000; // the question closes 20 s after the server's "now"
    const c = countdown(deadline, serverNow(1_005_100, est.offsetMs), 20_000);
    expect(c?.seconds).toBe(20);
    expect(c?.expired).toBe(false);
    // Without the offset the same phone would show 15 s.
    expect(countdown(deadline, 1_005_100, 20_000)?.seconds).toBe(15);
  });

  it("rounds up, so the last second shows 1 until the deadline itself", () => {
    expect(countdown(10_000, 9_001, 10_000)?.seconds).toBe(1);
    expect(countdown(10_000, 9_999, 10_000)?.seconds).toBe(1);
    const at = countdown(10_000, 10_000, 10_000);
    expect(at?.seconds).toBe(0);
    expect(at?.expired).toBe(true);
  });

  it("never goes below zero and reports the share of the limit left", () => {
    const late = countdown(10_000, 12_500, 10_000);
    expect(late).toMatchObject({
      msLeft: 0,
      seconds: 0,
      fraction: 0,
      expired: true,
      urgent: false,
    });
    expect(countdown(10_000, 5_000, 10_000)?.fraction).toBe(0.5);
    // A clock estimate slightly before the opening shows a full bar, not more.
    expect(countdown(10_000, -1_000, 10_000)?.fraction).toBe(1);
  });

  it("is urgent in the last five seconds only", () => {
    expect(countdown(10_000, 4_000, 10_000)?.urgent).toBe(false);
    expect(countdown(10_000, 5_001, 10_000)?.urgent).toBe(true);
    expect(countdown(10_000, 9_999, 10_000)?.urgent).toBe(true);
  });

  it("has nothing to show without a deadline", () => {
    expect(countdown(null, 5, 10)).toBeNull();
    expect(countdown(Number.NaN, 5, 10)).toBeNull();
  });

  it("without a known limit the bar is full until the deadline", () => {
    expect(countdown(10_000, 2_000, null)?.fraction).toBe(1);
    expect(countdown(10_000, 10_000, null)?.fraction).toBe(0);
  });
});
