import type { Clock } from "../../ports/clock.js";
import type { CounterDelta, SharedCounters } from "../../ports/cluster.js";
import { counterDelta, positiveMs } from "../checked-numbers.js";

/** Shared counters of one process: the reference for RedisSharedCounters. */
export class MemorySharedCounters implements SharedCounters {
  private readonly counters = new Map<string, { value: number; expiresAt: number }>();

  constructor(private readonly clock: Clock) {}

  async add(batch: readonly CounterDelta[]): Promise<number[]> {
    // Checked before anything is added: a bad batch changes no counter.
    const checked = batch.map(({ key, delta, ttlMs }) => ({
      key,
      delta: counterDelta(delta),
      ttlMs: positiveMs(ttlMs, "ttlMs"),
    }));
    const now = this.clock.now();
    return checked.map(({ key, delta, ttlMs }) => {
      const c = this.counters.get(key);
      const value = (c && c.expiresAt > now ? c.value : 0) + delta;
      this.counters.set(key, { value, expiresAt: now + ttlMs });
      return value;
    });
  }
}
