import { afterAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import { MemoryPinGuesses } from "../../src/adapters/memory/memory-pin-guesses.js";
import { RedisConnection } from "../../src/adapters/redis/redis-connection.js";
import { RedisPinGuesses } from "../../src/adapters/redis/redis-pin-guesses.js";
import { SeededRandom } from "../../src/domain/seeded-random.js";
import type { PinGuesses, PinGuessLimits } from "../../src/ports/pin-guesses.js";
import { deleteKeys, randomKeyPrefix } from "../support/redis.js";
import { redisAvailable, requireOrSkip, TEST_REDIS_URL } from "../support/services.js";

// The PinGuesses port (src/ports/pin-guesses.ts), one clause ID per promise, run against the
// in-process adapter and against Redis. Time is a FakeClock handed to the adapter.

const LIMITS: PinGuessLimits = {
  guesses: 3,
  windowMs: 60_000,
  refusalsBeforeBan: 2,
  banMs: 600_000,
};

interface Backend {
  /** Two instances' views of the same allowances (one Map, or one Redis prefix). */
  a: PinGuesses;
  b: PinGuesses;
  clock: FakeClock;
}

function runPinGuessesContract(name: string, open: () => Promise<Backend>): void {
  describe(`PinGuesses contract: ${name}`, () => {
    it("PG-1: a key starts with `guesses` lookups; each enter takes one; then it is limited with a retry time", async () => {
      const { a } = await open();
      for (let i = 0; i < 3; i++) expect(await a.enter(["ip:1"], LIMITS)).toEqual({ kind: "open" });
      const limited = await a.enter(["ip:1"], LIMITS);
      expect(limited.kind).toBe("limited");
      if (limited.kind === "limited") {
        expect(limited.retryAfterMs).toBeGreaterThan(0);
        expect(limited.retryAfterMs).toBeLessThanOrEqual(20_000);
      }
    });

    it("PG-2: refund gives the guess back (a right PIN costs nothing), never beyond the allowance", async () => {
      const { a } = await open();
      for (let i = 0; i < 10; i++) {
        expect(await a.enter(["ip:1"], LIMITS)).toEqual({ kind: "open" });
        await a.refund(["ip:1"], LIMITS);
      }
      await a.refund(["ip:1"], LIMITS);
      for (let i = 0; i < 3; i++) expect((await a.enter(["ip:1"], LIMITS)).kind).toBe("open");
      expect((await a.enter(["ip:1"], LIMITS)).kind).toBe("limited");
    });

    it("PG-8: check takes nothing from an open key, and answers limited (counting the refusal) like enter once it is out", async () => {
      const { a } = await open();
      for (let i = 0; i < 10; i++)
        expect(await a.check(["ip:8"], LIMITS)).toEqual({ kind: "open" });
      for (let i = 0; i < 3; i++) expect(await a.enter(["ip:8"], LIMITS)).toEqual({ kind: "open" });
      expect((await a.check(["ip:8"], LIMITS)).kind).toBe("limited");
      expect((await a.enter(["ip:8"], LIMITS)).kind).toBe("limited");
      // Two refusals used up `refusalsBeforeBan`: the next one, by check or enter, bans.
      expect(await a.check(["ip:8"], LIMITS)).toEqual({ kind: "banned" });
    });

    it("PG-3: guesses refill over the window", async () => {
      const { a, clock } = await open();
      for (let i = 0; i < 3; i++) await a.enter(["ip:1"], LIMITS);
      expect((await a.enter(["ip:1"], LIMITS)).kind).toBe("limited");
      clock.advance(20_000);
      expect((await a.enter(["ip:1"], LIMITS)).kind).toBe("open");
    });

    it("PG-4: every key of a lookup counts; one key out of guesses limits the lookup; other keys are untouched", async () => {
      const { a } = await open();
      for (let i = 0; i < 3; i++) await a.enter(["ip:1", "user:u"], LIMITS);
      expect((await a.enter(["ip:2", "user:u"], LIMITS)).kind).toBe("limited");
      expect((await a.enter(["ip:1"], LIMITS)).kind).toBe("limited");
      expect((await a.enter(["ip:3"], LIMITS)).kind).toBe("open");
    });

    it("PG-5: refusals past `refusalsBeforeBan` shadow-ban the key for `banMs`, then it starts afresh", async () => {
      const { a, clock } = await open();
      for (let i = 0; i < 3; i++) await a.enter(["ip:1"], LIMITS);
      expect((await a.enter(["ip:1"], LIMITS)).kind).toBe("limited");
      expect((await a.enter(["ip:1"], LIMITS)).kind).toBe("limited");
      expect(await a.enter(["ip:1"], LIMITS)).toEqual({ kind: "banned" });
      // Banned long after the guesses would have refilled.
      clock.advance(LIMITS.windowMs * 2);
      expect(await a.enter(["ip:1"], LIMITS)).toEqual({ kind: "banned" });
      clock.advance(LIMITS.banMs);
      expect((await a.enter(["ip:1"], LIMITS)).kind).toBe("open");
    });

    it("PG-6: two instances share one allowance", async () => {
      const { a, b } = await open();
      await a.enter(["ip:1"], LIMITS);
      await b.enter(["ip:1"], LIMITS);
      await a.enter(["ip:1"], LIMITS);
      expect((await b.enter(["ip:1"], LIMITS)).kind).toBe("limited");
      expect((await a.enter(["ip:1"], LIMITS)).kind).toBe("limited");
      expect((await b.enter(["ip:1"], LIMITS)).kind).toBe("banned");
      expect((await a.enter(["ip:1"], LIMITS)).kind).toBe("banned");
    });

    it("PG-7: concurrent lookups never get more than the allowance", async () => {
      const { a, b } = await open();
      const all = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).enter(["ip:1"], LIMITS)),
      );
      expect(all.filter((s) => s.kind === "open")).toHaveLength(3);
    });
  });
}

runPinGuessesContract("memory", async () => {
  const clock = new FakeClock();
  const guesses = new MemoryPinGuesses(clock);
  return { a: guesses, b: guesses, clock };
});

const needs = requireOrSkip(await redisAvailable());
const runPrefix = randomKeyPrefix();
let opened = 0;
const connections: RedisConnection[] = [];

describe.skipIf(needs.skip)(needs.title("PinGuesses on Redis"), () => {
  afterAll(async () => {
    for (const c of connections) await c.close();
    await deleteKeys(TEST_REDIS_URL, runPrefix);
  });

  runPinGuessesContract("redis", async () => {
    const prefix = `${runPrefix}${opened++}:`;
    const clock = new FakeClock();
    const conn = await RedisConnection.open({ url: TEST_REDIS_URL, keyPrefix: prefix, name: "pg" });
    connections.push(conn);
    return { a: new RedisPinGuesses(conn, clock), b: new RedisPinGuesses(conn, clock), clock };
  });

  it("takes the same decisions as MemoryPinGuesses over a random sequence", async () => {
    const prefix = `${runPrefix}${opened++}:`;
    const clock = new FakeClock();
    const conn = await RedisConnection.open({ url: TEST_REDIS_URL, keyPrefix: prefix, name: "pg" });
    connections.push(conn);
    const redis = new RedisPinGuesses(conn, clock);
    const memory = new MemoryPinGuesses(clock);
    const random = new SeededRandom(20_261_205);
    for (let i = 0; i < 300; i++) {
      const keys = random.int(2) === 0 ? ["ip:1"] : ["ip:1", `user:${random.int(2)}`];
      clock.advance(random.int(5) === 0 ? random.int(120_000) : random.int(3_000));
      if (random.int(4) === 0) {
        await memory.refund(keys, LIMITS);
        await redis.refund(keys, LIMITS);
        continue;
      }
      expect(await redis.enter(keys, LIMITS), `enter ${i}`).toStrictEqual(
        await memory.enter(keys, LIMITS),
      );
    }
  });
});
