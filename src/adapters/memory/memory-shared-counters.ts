import type { Clock } from "../../ports/clock.js";
import type { CounterDelta, SharedCounters } from "../../ports/cluster.js";

/** Shared counters of one process: the reference for RedisSharedCounters. */
export class MemorySharedCounters implements SharedCounters {
  private readonly counters = new Map<string, { value: number; expiresAt: number }>();

  constructor(private readonly clock: Clock) {}

  async add(batch: readonly CounterDelta[]): Promise<number[]> {
    // Checked before anything is added: a bad batch changes no counter.
    for (const { delta, ttlMs } of batch) {
      if (!Number.isSafeInteger(delta)) {
        throw new RangeError(`delta must be an integer, got ${delta}`);
      }
      if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
        throw new RangeError(`ttlMs must be a positive number of milliseconds, got ${ttlMs}`);
      }
    }
    const now = this.clock.now();
    return batch.map(({ key, delta, ttlMs }) => {
      const c = this.counters.get(key);
      const value = (c && c.expiresAt > now ? c.value : 0) + delta;
      this.counters.set(key, { value, expiresAt: now + Math.ceil(ttlMs) });
      return value;
    });
  }
}
