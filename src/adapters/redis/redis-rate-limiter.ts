import type { Clock } from "../../ports/clock.js";
import type { RateLimiter } from "../../ports/cluster.js";
import { positiveMs } from "../checked-numbers.js";
import { type RedisConnection, RedisScript } from "./redis-connection.js";

// The same token bucket as MemoryRateLimiter, read-modify-written atomically. Tokens are stored
// with 17 significant digits: Lua's default number-to-string conversion keeps only 14.
const TAKE = new RedisScript(`
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local rate = limit / tonumber(ARGV[3])
local tokens = limit
local updated = now
local b = redis.call('HMGET', KEYS[1], 't', 'u')
if b[1] then
  local prev = tonumber(b[2])
  local elapsed = now - prev
  if elapsed < 0 then elapsed = 0 end
  tokens = math.min(limit, tonumber(b[1]) + elapsed * rate)
  if prev > now then updated = prev end
end
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'u', string.format('%.17g', updated))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {allowed, retry}`);

// An idle bucket is full again after one window; the margin covers clock differences.
const EXPIRY_MARGIN_MS = 1_000;

/**
 * Token buckets shared by every instance, so a limit holds across them: `limit` tokens per key,
 * refilled continuously over `windowMs`, as MemoryRateLimiter. Time comes from the injected
 * clock of whichever instance takes; instances' clocks are expected to agree (NTP), and a
 * clock behind the bucket's last update refills nothing rather than going back in time.
 */
export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly conn: RedisConnection,
    private readonly clock: Clock,
  ) {}

  async take(
    key: string,
    limit: number,
    windowMs: number,
  ): Promise<{ allowed: boolean; retryAfterMs: number }> {
    if (!Number.isFinite(limit) || limit <= 0) {
      throw new RangeError(`limit must be a positive number, got ${limit}`);
    }
    const ttl = positiveMs(windowMs, "windowMs") + EXPIRY_MARGIN_MS;
    const reply = await TAKE.run(
      this.conn,
      [this.conn.key("rate", key)],
      [this.clock.now(), limit, windowMs, ttl],
    );
    if (!Array.isArray(reply) || typeof reply[0] !== "number" || typeof reply[1] !== "number") {
      throw new Error(`unexpected rate limiter reply: ${JSON.stringify(reply)}`);
    }
    return { allowed: reply[0] === 1, retryAfterMs: reply[1] };
  }
}
