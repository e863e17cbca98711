import type { Clock } from "../../ports/clock.js";
import type { PinGuesses, PinGuessLimits, PinStanding } from "../../ports/pin-guesses.js";
import { positiveMs } from "../checked-numbers.js";
import { type RedisConnection, RedisScript } from "./redis-connection.js";

// MemoryPinGuesses' rules, read-modify-written atomically over every key of one lookup. Each key
// is a hash: g (guesses left), r (refusals left), u (last update), b (banned until). ARGV[6] is
// the operation: "enter", "check" (as enter, but an open key keeps its guesses) or "refund". Numbers are stored with 17 significant digits.
const PIN_GUESSES = new RedisScript(`
local now = tonumber(ARGV[1])
local guesses = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local refusals = tonumber(ARGV[4])
local banMs = tonumber(ARGV[5])
local op = ARGV[6]
local margin = tonumber(ARGV[7])
local state = {}
for i, key in ipairs(KEYS) do
  local h = redis.call('HMGET', key, 'g', 'r', 'u', 'b')
  local a = { g = guesses, r = refusals, u = now, b = 0 }
  if h[3] then
    local prev = tonumber(h[3])
    local elapsed = now - prev
    if elapsed < 0 then elapsed = 0 end
    a.g = math.min(guesses, tonumber(h[1]) + elapsed * guesses / window)
    a.r = math.min(refusals, tonumber(h[2]) + elapsed * refusals / window)
    if prev > now then a.u = prev end
    a.b = tonumber(h[4]) or 0
  end
  state[i] = a
end
local function save()
  for i, key in ipairs(KEYS) do
    local a = state[i]
    redis.call('HSET', key, 'g', string.format('%.17g', a.g), 'r', string.format('%.17g', a.r),
      'u', string.format('%.17g', a.u), 'b', string.format('%.17g', a.b))
    local ttl = window
    if a.b - now > ttl then ttl = a.b - now end
    redis.call('PEXPIRE', key, math.ceil(ttl + margin))
  end
end
if op == 'refund' then
  for i = 1, #KEYS do state[i].g = math.min(guesses, state[i].g + 1) end
  save()
  return {0, 0}
end
for i = 1, #KEYS do
  if state[i].b > now then return {2, 0} end
end
local retry = 0
local short = false
for i = 1, #KEYS do
  if state[i].g < 1 then
    short = true
    local wait = math.ceil((1 - state[i].g) * window / guesses)
    if wait > retry then retry = wait end
  end
end
if not short then
  if op == 'enter' then
    for i = 1, #KEYS do state[i].g = state[i].g - 1 end
  end
  save()
  return {0, 0}
end
local banned = false
for i = 1, #KEYS do
  if state[i].r < 1 then
    state[i].b = now + banMs
    banned = true
  else
    state[i].r = state[i].r - 1
  end
end
save()
if banned then return {2, 0} end
return {1, retry}`);

// An idle key is full again after one window; the margin covers clock differences.
const EXPIRY_MARGIN_MS = 1_000;

/**
 * PIN guess allowances shared by every instance, so the limit holds wherever a guesser's
 * requests land: `<prefix>pinguess:<key>`, one script call per lookup covering all its keys.
 * Time comes from the injected clock of whichever instance asks, as RedisRateLimiter's.
 */
export class RedisPinGuesses implements PinGuesses {
  constructor(
    private readonly conn: RedisConnection,
    private readonly clock: Clock,
  ) {}

  async enter(keys: readonly string[], limits: PinGuessLimits): Promise<PinStanding> {
    const [code, retry] = await this.run("enter", keys, limits);
    if (code === 2) return { kind: "banned" };
    if (code === 1) return { kind: "limited", retryAfterMs: retry };
    return { kind: "open" };
  }

  async check(keys: readonly string[], limits: PinGuessLimits): Promise<PinStanding> {
    const [code, retry] = await this.run("check", keys, limits);
    if (code === 2) return { kind: "banned" };
    if (code === 1) return { kind: "limited", retryAfterMs: retry };
    return { kind: "open" };
  }

  async refund(keys: readonly string[], limits: PinGuessLimits): Promise<void> {
    await this.run("refund", keys, limits);
  }

  private async run(
    op: "enter" | "check" | "refund",
    keys: readonly string[],
    limits: PinGuessLimits,
  ): Promise<[number, number]> {
    const reply = await PIN_GUESSES.run(
      this.conn,
      keys.map((k) => this.conn.key("pinguess", k)),
      [
        this.clock.now(),
        limits.guesses,
        positiveMs(limits.windowMs, "windowMs"),
        limits.refusalsBeforeBan,
        positiveMs(limits.banMs, "banMs"),
        op,
        EXPIRY_MARGIN_MS,
      ],
    );
    if (!Array.isArray(reply) || typeof reply[0] !== "number" || typeof reply[1] !== "number") {
      throw new Error(`unexpected PIN guess reply: ${JSON.stringify(reply)}`);
    }
    return [reply[0], reply[1]];
  }
}
