import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import { MemorySharedCounters } from "../../src/adapters/memory/memory-shared-counters.js";
import { ReconciledRateLimiter } from "../../src/adapters/reconciled-rate-limiter.js";
import type { CounterDelta, SharedCounters } from "../../src/ports/cluster.js";

/** Shared counters that count the round trips made to them. */
class CountingCounters implements SharedCounters {
  calls = 0;
  fail = false;
  constructor(private readonly inner: SharedCounters) {}
  async add(batch: readonly CounterDelta[]): Promise<number[]> {
    this.calls += 1;
    if (this.fail) throw new Error("redis is away");
    return this.inner.add(batch);
  }
}

/** Lets the flushes the timers started settle. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

function setup(start = 1_000_000) {
  const clock = new FakeClock(start);
  const counters = new CountingCounters(new MemorySharedCounters(clock));
  const errors: unknown[] = [];
  const instance = () =>
    new ReconciledRateLimiter(clock, counters, {
      syncEveryMs: 100,
      onError: (e) => errors.push(e),
    });
  return { clock, counters, errors, a: instance(), b: instance() };
}

const take = (l: ReconciledRateLimiter, n: number, limit = 10) =>
  Array.from({ length: n }, () => l.takeSync("user:u1", limit, 1_000).allowed);

describe("ReconciledRateLimiter", () => {
  it("alone, it lets exactly `limit` through per window and says when the window reopens", () => {
    const { clock, a } = setup();
    expect(take(a, 10).every(Boolean)).toBe(true);
    const refused = a.takeSync("user:u1", 10, 1_000);
    expect(refused).toEqual({ allowed: false, retryAfterMs: 1_000 });
    clock.advance(400);
    expect(a.takeSync("user:u1", 10, 1_000).retryAfterMs).toBe(600);
    clock.advance(600);
    expect(a.takeSync("user:u1", 10, 1_000).allowed).toBe(true);
  });

  it("across two instances, what one let through counts on the other after one reconciliation", async () => {
    const { clock, a, b } = setup();
    expect(take(a, 10).every(Boolean)).toBe(true);
    clock.advance(100);
    await settle();
    // b has not heard of u1 yet: its first message goes through, and its reconciliation learns a's 10.
    expect(b.takeSync("user:u1", 10, 1_000).allowed).toBe(true);
    clock.advance(100);
    await settle();
    expect(take(b, 5).some(Boolean)).toBe(false);
    expect(a.takeSync("user:u1", 10, 1_000).allowed).toBe(false);
    // Another key is not affected.
    expect(b.takeSync("user:u2", 10, 1_000).allowed).toBe(true);
  });

  it("batches: a thousand messages in one period cost one round trip", async () => {
    const { clock, counters, a } = setup();
    for (let i = 0; i < 1_000; i++) a.takeSync(`user:${i % 50}`, 100, 1_000);
    expect(counters.calls).toBe(0);
    clock.advance(100);
    await settle();
    expect(counters.calls).toBe(1);
    // Nothing new let through: no further round trips.
    clock.advance(1_000);
    await settle();
    expect(counters.calls).toBe(1);
  });

  it("while the shared counters fail it keeps limiting on its own and reports it; the counts go with the next batch", async () => {
    const { clock, counters, errors, a, b } = setup();
    counters.fail = true;
    expect(take(a, 6).every(Boolean)).toBe(true);
    clock.advance(100);
    await settle();
    expect(errors).toHaveLength(1);
    expect(take(a, 5).filter(Boolean)).toHaveLength(4);
    counters.fail = false;
    clock.advance(100);
    await settle();
    // a's 10 reached the shared counter after all: b learns them with its first reconciliation.
    b.takeSync("user:u1", 10, 1_000);
    clock.advance(100);
    await settle();
    expect(b.takeSync("user:u1", 10, 1_000).allowed).toBe(false);
  });
});
