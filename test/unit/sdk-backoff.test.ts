import { describe, expect, it } from "vitest";
import { BACKOFF_DEFAULTS, Backoff, backoffDelay } from "../../src/sdk/backoff.js";

const noJitter = { initialDelayMs: 100, maxDelayMs: 1_000, factor: 2, jitter: 0 };

describe("backoff", () => {
  it("grows by the factor from the initial delay up to the maximum", () => {
    const b = new Backoff(noJitter, () => 0.5);
    const delays = Array.from({ length: 7 }, () => b.next());
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
    expect(b.attempt).toBe(7);
  });

  it("honours another factor", () => {
    const b = new Backoff({ ...noJitter, factor: 3, maxDelayMs: 10_000 }, () => 0);
    expect([b.next(), b.next(), b.next()]).toEqual([100, 300, 900]);
  });

  it("jitter takes off at most its fraction, never adding beyond the delay", () => {
    const opts = { initialDelayMs: 1_000, maxDelayMs: 8_000, factor: 2, jitter: 0.25 };
    for (let attempt = 0; attempt < 6; attempt++) {
      const base = Math.min(8_000, 1_000 * 2 ** attempt);
      expect(backoffDelay(attempt, opts, 0)).toBe(base);
      expect(backoffDelay(attempt, opts, 0.999999)).toBe(Math.round(base * 0.75));
      for (const r of [0.1, 0.37, 0.5, 0.73, 0.9]) {
        const d = backoffDelay(attempt, opts, r);
        expect(d).toBeGreaterThanOrEqual(Math.floor(base * 0.75));
        expect(d).toBeLessThanOrEqual(base);
      }
    }
  });

  it("uses the injected random source for jitter", () => {
    const draws = [0, 1 - Number.EPSILON, 0.5];
    const b = new Backoff(
      { initialDelayMs: 1_000, factor: 1, jitter: 0.5 },
      () => draws.shift() ?? 0,
    );
    expect([b.next(), b.next(), b.next()]).toEqual([1_000, 500, 750]);
  });

  it("clamps out-of-range jitter and random values", () => {
    expect(backoffDelay(0, { initialDelayMs: 100, jitter: 5 }, 0.5)).toBe(50);
    expect(backoffDelay(0, { initialDelayMs: 100, jitter: -1 }, 0.5)).toBe(100);
    expect(backoffDelay(0, { initialDelayMs: 100, jitter: 0.5 }, 7)).toBe(50);
  });

  it("reset starts over from the initial delay after a success", () => {
    const b = new Backoff(noJitter);
    b.next();
    b.next();
    b.next();
    b.reset();
    expect(b.attempt).toBe(0);
    expect(b.next()).toBe(100);
  });

  it("has defaults", () => {
    const b = new Backoff({}, () => 0);
    expect(b.next()).toBe(BACKOFF_DEFAULTS.initialDelayMs);
    expect(b.next()).toBe(BACKOFF_DEFAULTS.initialDelayMs * BACKOFF_DEFAULTS.factor);
  });
});
