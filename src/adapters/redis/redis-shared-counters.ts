import type { CounterDelta, SharedCounters } from "../../ports/cluster.js";
import { positiveMs, type RedisConnection } from "./redis-connection.js";

/** Counters in Redis (INCRBY + PEXPIRE), a whole batch in one pipelined round trip. */
export class RedisSharedCounters implements SharedCounters {
  constructor(private readonly conn: RedisConnection) {}

  async add(batch: readonly CounterDelta[]): Promise<number[]> {
    if (batch.length === 0) return [];
    const pipeline = this.conn.client.pipeline();
    for (const { key, delta, ttlMs } of batch) {
      if (!Number.isInteger(delta)) throw new RangeError(`delta must be an integer, got ${delta}`);
      const k = this.conn.key("count", key);
      pipeline.incrby(k, delta);
      pipeline.pexpire(k, positiveMs(ttlMs, "ttlMs"));
    }
    const replies = (await pipeline.exec()) ?? [];
    return batch.map((_, i) => {
      const [err, value] = replies[i * 2] ?? [new Error("no reply"), null];
      if (err) throw err;
      if (typeof value !== "number") throw new Error(`unexpected INCRBY reply: ${String(value)}`);
      return value;
    });
  }
}
