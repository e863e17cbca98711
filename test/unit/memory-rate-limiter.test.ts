import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import { MemoryRateLimiter } from "../../src/adapters/memory/memory-rate-limiter.js";

describe("MemoryRateLimiter", () => {
  it("limits a key to its tokens, refilled over the window", () => {
    const clock = new FakeClock(0);
    const limiter = new MemoryRateLimiter(clock);
    expect(limiter.takeSync("k", 2, 1_000).allowed).toBe(true);
    expect(limiter.takeSync("k", 2, 1_000).allowed).toBe(true);
    const refused = limiter.takeSync("k", 2, 1_000);
    expect(refused).toEqual({ allowed: false, retryAfterMs: 500 });
    clock.advance(500);
    expect(limiter.takeSync("k", 2, 1_000).allowed).toBe(true);
  });

  it("forgets buckets idle longer than their window (full again) every 10,000 takes, and keeps the others", () => {
    const clock = new FakeClock(0);
    const limiter = new MemoryRateLimiter(clock);
    for (let i = 0; i < 100; i++) limiter.takeSync(`idle:${i}`, 5, 1_000);
    limiter.takeSync("slow", 5, 60_000);
    clock.advance(1_001);
    // 9,899 more takes on one busy key: the 10,000th take sweeps.
    for (let i = 0; i < 9_898; i++) limiter.takeSync("busy", 1_000_000, 1_000);
    expect(limiter.size).toBe(102);
    limiter.takeSync("busy", 1_000_000, 1_000);
    expect(limiter.size).toBe(2);
    // The slow key kept its state: one token of five taken, none refilled yet in a minute's window.
    for (let i = 0; i < 4; i++) expect(limiter.takeSync("slow", 5, 60_000).allowed).toBe(true);
    expect(limiter.takeSync("slow", 5, 60_000).allowed).toBe(false);
  });
});
