import type { CounterDelta, SharedCounters } from "../../ports/cluster.js";
import { counterDelta, positiveMs } from "../checked-numbers.js";
import { type RedisConnection, RedisScript } from "./redis-connection.js";

/**
 * Every counter of a batch: INCRBY then PEXPIRE, in one script. One command for the whole
 * batch, not two per counter: a reconciliation carries one counter per user who answered in
 * the last 100 ms, and each command costs the sender more than the script costs Redis.
 * KEYS: the counters. ARGV: each counter's delta and time to live, in KEYS' order.
 */
const ADD = new RedisScript(`
local totals = {}
for i, key in ipairs(KEYS) do
  totals[i] = redis.call('INCRBY', key, ARGV[2 * i - 1])
  redis.call('PEXPIRE', key, ARGV[2 * i])
end
return totals
`);

/** Counters in Redis, a whole batch in one script call (one round trip). */
export class RedisSharedCounters implements SharedCounters {
  constructor(private readonly conn: RedisConnection) {}

  async add(batch: readonly CounterDelta[]): Promise<number[]> {
    if (batch.length === 0) return [];
    const keys: string[] = [];
    const args: number[] = [];
    for (const { key, delta, ttlMs } of batch) {
      keys.push(this.conn.key("count", key));
      args.push(counterDelta(delta), positiveMs(ttlMs, "ttlMs"));
    }
    const totals = await ADD.run(this.conn, keys, args);
    if (
      !Array.isArray(totals) ||
      totals.length !== batch.length ||
      !totals.every((t) => typeof t === "number")
    ) {
      throw new Error(`unexpected counter totals from Redis: ${String(totals)}`);
    }
    return totals as number[];
  }
}
