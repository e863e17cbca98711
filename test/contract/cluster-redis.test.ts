import { afterAll, afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import { MemoryRateLimiter } from "../../src/adapters/memory/memory-rate-limiter.js";
import { RedisClusterBus } from "../../src/adapters/redis/redis-bus.js";
import {
  RedisConnection,
  type RedisConnectionOptions,
} from "../../src/adapters/redis/redis-connection.js";
import { RedisOwnershipLeases } from "../../src/adapters/redis/redis-ownership-leases.js";
import { RedisPinDirectory } from "../../src/adapters/redis/redis-pin-directory.js";
import { RedisRateLimiter } from "../../src/adapters/redis/redis-rate-limiter.js";
import { RedisReplayCache } from "../../src/adapters/redis/redis-replay-cache.js";
import { RedisSharedCounters } from "../../src/adapters/redis/redis-shared-counters.js";
import { asSessionId } from "../../src/domain/ids.js";
import { SeededRandom } from "../../src/domain/seeded-random.js";
import type { Clock } from "../../src/ports/clock.js";
import { ClusterTimeoutError, ClusterUndeliveredError } from "../../src/ports/cluster.js";
import { eventually } from "../support/eventually.js";
import { adminClient, deleteKeys, killClientsNamed, randomKeyPrefix } from "../support/redis.js";
import { redisAvailable, requireOrSkip, TEST_REDIS_URL } from "../support/services.js";
import { startTcpProxy } from "../support/tcp-proxy.js";
import { type ClusterInstance, collector, runClusterContract } from "./cluster-contract.js";

const needs = requireOrSkip(await redisAvailable());
const url = TEST_REDIS_URL;
const runPrefix = randomKeyPrefix();
let backends = 0;

interface RedisInstance extends ClusterInstance {
  conn: RedisConnection;
  bus: RedisClusterBus;
  /** PUBLISH commands sent on this instance's connection (the bus's messages). */
  published(): number;
}

/** Opens one instance's connection and adapters; the caller closes `bus` and `conn`. */
async function openInstance(
  url: string,
  prefix: string,
  instanceId: string,
  clock: Clock,
  connection: Partial<RedisConnectionOptions> = {},
): Promise<RedisInstance> {
  const conn = await RedisConnection.open({
    url,
    keyPrefix: prefix,
    name: instanceId,
    ...connection,
  });
  // Counts the bus's messages: everything it sends is a PUBLISH on this connection.
  let published = 0;
  const publish = conn.client.publish.bind(conn.client);
  conn.client.publish = ((...args: Parameters<typeof publish>) => {
    published += 1;
    return publish(...args);
  }) as typeof conn.client.publish;
  try {
    const bus = await RedisClusterBus.open(conn, instanceId);
    return {
      conn,
      bus,
      published: () => published,
      pins: new RedisPinDirectory(conn),
      rateLimiter: new RedisRateLimiter(conn, clock),
      replay: new RedisReplayCache(conn),
      counters: new RedisSharedCounters(conn),
      leases: new RedisOwnershipLeases(conn),
    };
  } catch (err) {
    await conn.close();
    throw err;
  }
}

async function closeInstance(instance: RedisInstance): Promise<void> {
  await instance.bus.close();
  await instance.conn.close();
}

/** Real time passing: Redis expires leases, replies and PINs on its own clock, which no test can move. */
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe.skipIf(needs.skip)(needs.title("Redis cluster adapters"), () => {
  afterAll(async () => {
    await deleteKeys(url, runPrefix);
  });

  runClusterContract("redis", async () => {
    // Each test its own prefix, so nothing one test leaves behind is seen by the next.
    const prefix = `${runPrefix}${backends++}:`;
    // The rate limiter's time; leases and replies expire on Redis's own clock.
    const clock = new FakeClock();
    const opened: RedisInstance[] = [];
    return {
      async instance(instanceId) {
        const instance = await openInstance(url, prefix, instanceId, clock);
        opened.push(instance);
        return instance;
      },
      async wait(ms) {
        clock.advance(ms);
        await sleep(ms);
      },
      async close() {
        for (const instance of opened) await closeInstance(instance);
        await deleteKeys(url, prefix);
      },
      sent(instanceId) {
        return opened
          .filter((i) => i.bus.instanceId === instanceId)
          .reduce((n, i) => n + i.published(), 0);
      },
    };
  });

  describe("Redis only", () => {
    const S1 = asSessionId("s1");
    const cleanup: (() => Promise<void>)[] = [];
    let n = 0;
    const freshPrefix = () => `${runPrefix}only-${n++}:`;

    afterEach(async () => {
      for (const fn of cleanup.splice(0).reverse()) await fn();
    });

    async function instance(
      prefix: string,
      id: string,
      via: string = url,
      clock: Clock = new FakeClock(),
      options: Partial<RedisConnectionOptions> = {},
    ): Promise<RedisInstance> {
      const i = await openInstance(via, prefix, id, clock, {
        maxBackoffMs: 100,
        healthCheckIntervalMs: 100,
        healthCheckTimeoutMs: 300,
        ...options,
      });
      cleanup.push(() => closeInstance(i));
      return i;
    }

    function reconnections(i: RedisInstance): { count: () => number; next: () => Promise<void> } {
      let count = 0;
      let wake: (() => void) | undefined;
      i.bus.onReconnected(() => {
        count++;
        wake?.();
      });
      return {
        count: () => count,
        next: () => {
          const before = count;
          return new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error("no reconnect within 10 s")), 10_000);
            wake = () => {
              if (count === before) return;
              clearTimeout(timer);
              resolve();
            };
          });
        },
      };
    }

    it("keeps every key and channel under its prefix", async () => {
      const prefix = freshPrefix();
      const a = await instance(prefix, "a");
      await a.pins.reserve("482913", S1);
      await a.leases.acquire(S1, "a", 1, 60_000);
      await a.replay.put("m1", "r", 60_000);
      await a.rateLimiter.take("u1", 5, 60_000);
      await a.bus.subscribeRoomEvents(S1, () => {});
      const admin = await adminClient(url);
      cleanup.push(async () => {
        await admin.quit();
      });
      expect((await admin.keys(`${prefix}*`)).sort()).toStrictEqual(
        [
          `${prefix}lease:s1`,
          `${prefix}pin:482913`,
          `${prefix}rate:u1`,
          `${prefix}replay:m1`,
        ].sort(),
      );
      expect(await admin.get(`${prefix}lease:s1`)).toBe("1:a");
      expect((await admin.pubsub("CHANNELS", `${prefix}*`)).sort()).toStrictEqual(
        [
          `${prefix}rep:a`,
          `${prefix}repb:a`,
          `${prefix}req:a`,
          `${prefix}reqb:a`,
          `${prefix}room:s1`,
        ].sort(),
      );
    });

    it("takes the same decisions as MemoryRateLimiter over a random sequence", async () => {
      const prefix = freshPrefix();
      const clock = new FakeClock();
      const a = await instance(prefix, "a", url, clock);
      const memory = new MemoryRateLimiter(clock);
      const random = new SeededRandom(20_260_101);
      for (let i = 0; i < 400; i++) {
        const key = `k${random.int(3)}`;
        const limit = [1, 3, 7][Number(key.slice(1))] ?? 1;
        const windowMs = [100, 1_000, 7_000][Number(key.slice(1))] ?? 100;
        clock.advance(random.int(4) === 0 ? random.int(2_000) : random.int(40));
        const expected = memory.takeSync(key, limit, windowMs);
        expect(await a.rateLimiter.take(key, limit, windowMs), `take ${i} of ${key}`).toStrictEqual(
          expected,
        );
      }
    });

    it("after its subscriber connection is killed, the bus restores every subscription and runs onReconnected", async () => {
      const prefix = freshPrefix();
      const a = await instance(prefix, "a");
      const b = await instance(prefix, "b");
      const reconnected = reconnections(b);
      const onB = collector();
      await b.bus.subscribeRoomEvents(S1, onB.add);
      b.bus.serve(async (m) => `b:${m}`);
      a.bus.serve(async (m) => `a:${m}`);

      const back = reconnected.next();
      expect(await killClientsNamed(url, `${prefix}b:bus-sub`)).toBe(1);
      await back;
      expect(b.bus.connected).toBe(true);
      await a.bus.publishRoomEvent(S1, "after");
      await onB.waitFor((events) => events.includes("after"));
      expect(await a.bus.request("b", "x", 5_000)).toBe("b:x");
      expect(await b.bus.request("a", "y", 5_000)).toBe("a:y");
      expect(reconnected.count()).toBe(1);
    });

    it("after its command connection is killed, the bus runs onReconnected and publishes and replies again", async () => {
      const prefix = freshPrefix();
      const a = await instance(prefix, "a");
      const b = await instance(prefix, "b");
      const reconnected = reconnections(b);
      const onA = collector();
      await a.bus.subscribeRoomEvents(S1, onA.add);
      b.bus.serve(async (m) => `b:${m}`);

      const back = reconnected.next();
      expect(await killClientsNamed(url, `${prefix}b`)).toBe(1);
      await back;
      await b.bus.publishRoomEvent(S1, "from b");
      await onA.waitFor((events) => events.includes("from b"));
      expect(await a.bus.request("b", "x", 5_000)).toBe("b:x");
      expect(await b.pins.reserve("482913", S1)).toBe(true);
    });

    const outages = [
      { mode: "reset", label: "connections reset" },
      { mode: "blackhole", label: "network silent" },
      { mode: "blackhole", label: "network silent, command timeout below the PING timeout" },
    ] as const;
    for (const { mode, label } of outages) {
      it(`while Redis is unreachable (${label}) every adapter rejects and the bus is disconnected; afterwards all of it works again`, async () => {
        const prefix = freshPrefix();
        const target = new URL(url);
        const proxy = await startTcpProxy({
          host: target.hostname,
          port: Number(target.port || 6379),
        });
        cleanup.push(() => proxy.close());
        const viaProxy = new URL(url);
        viaProxy.hostname = "127.0.0.1";
        viaProxy.port = String(proxy.port);
        const a = await instance(prefix, "a");
        const b = await instance(
          prefix,
          "b",
          viaProxy.toString(),
          new FakeClock(),
          label.includes("command timeout") ? { commandTimeoutMs: 150 } : {},
        );
        const reconnected = reconnections(b);
        const onB = collector();
        await b.bus.subscribeRoomEvents(S1, onB.add);
        b.bus.serve(async (m) => `b:${m}`);
        await a.bus.publishRoomEvent(S1, "before");
        await onB.waitFor((events) => events.length === 1);

        proxy.cut(mode);
        // A reset is seen at once; a blackhole when the health check's PING goes unanswered. The
        // bus's subscriber and the command connection each run their own check, so on a busy
        // machine one may notice a beat before the other: wait for both.
        await eventually(
          "b's bus and command connection to see Redis gone",
          () => ({ bus: b.bus.connected, conn: b.conn.connected }),
          { until: (c) => !c.bus && !c.conn, timeoutMs: 10_000 },
        );
        await expect(b.bus.publishRoomEvent(S1, "x")).rejects.toThrow(/unavailable/);
        await expect(b.bus.request("a", "x", 5_000)).rejects.toThrow(/unavailable/);
        await expect(b.bus.subscribeRoomEvents(S1, () => {})).rejects.toThrow(/unavailable/);
        await expect(b.pins.reserve("482913", S1)).rejects.toThrow();
        await expect(b.pins.lookup("482913")).rejects.toThrow();
        await expect(b.leases.acquire(S1, "b", 1, 5_000)).rejects.toThrow();
        await expect(b.leases.holder(S1)).rejects.toThrow();
        await expect(b.rateLimiter.take("k", 1, 1_000)).rejects.toThrow();
        await expect(b.replay.put("k", "r", 1_000)).rejects.toThrow();
        await expect(b.replay.get("k")).rejects.toThrow();
        await a.bus.publishRoomEvent(S1, "lost while away");
        // b is not listening: undelivered at once when Redis saw its subscriber go (reset), or a
        // timeout when the network went silent and Redis still counts it.
        const refused = await a.bus.request("b", "x", 200).catch((err: unknown) => err);
        expect(
          refused instanceof ClusterUndeliveredError || refused instanceof ClusterTimeoutError,
        ).toBe(true);

        const back = reconnected.next();
        proxy.restore();
        await back;
        expect(b.bus.connected).toBe(true);
        await a.bus.publishRoomEvent(S1, "after");
        await onB.waitFor((events) => events.includes("after"));
        expect(onB.events).toStrictEqual(["before", "after"]);
        expect(await a.bus.request("b", "x", 5_000)).toBe("b:x");
        expect(await b.pins.reserve("482913", S1)).toBe(true);
        expect(await a.pins.lookup("482913")).toBe(S1);
        expect(reconnected.count()).toBe(1);
      });
    }

    it("rolling deploy: an instance from before batching is sent its requests one by one, and its own single requests are answered singly", async () => {
      const prefix = freshPrefix();
      const a = await instance(prefix, "a");
      // "old" speaks the format from before batching: one JSON request per message on req:,
      // one JSON reply per message on rep:.
      const oldSub = await adminClient(url);
      const oldPub = await adminClient(url);
      cleanup.push(async () => {
        await oldSub.quit();
        await oldPub.quit();
      });
      const oldHandled: string[] = [];
      const oldReplies = collector();
      oldSub.on("message", (channel: string, text: string) => {
        if (channel === `${prefix}rep:old`) {
          oldReplies.add(text);
          return;
        }
        const m = JSON.parse(text) as { id: string; from: string; body: string };
        oldHandled.push(m.body);
        void oldPub.publish(
          `${prefix}rep:${m.from}`,
          JSON.stringify({ id: m.id, ok: true, body: `old ${m.body}` }),
        );
      });
      await oldSub.subscribe(`${prefix}req:old`, `${prefix}rep:old`);

      const replies = ["m0", "m1", "m2"].map((m) => a.bus.request("old", m, 5_000));
      expect(await Promise.all(replies)).toStrictEqual(["old m0", "old m1", "old m2"]);
      expect(oldHandled).toStrictEqual(["m0", "m1", "m2"]);

      a.bus.serve(async (m) => `new ${m}`);
      await oldPub.publish(
        `${prefix}req:a`,
        JSON.stringify({ id: "old:1", from: "old", body: "hello" }),
      );
      await oldReplies.waitFor((got) => got.length === 1);
      expect(JSON.parse(oldReplies.events[0]!)).toStrictEqual({
        id: "old:1",
        ok: true,
        body: "new hello",
      });
      // Still undelivered (and at once) when nobody listens in either format.
      await expect(a.bus.request("nobody", "x", 60_000)).rejects.toBeInstanceOf(
        ClusterUndeliveredError,
      );
    });

    it("a frame that cannot be read is dropped whole; the bus goes on", async () => {
      const prefix = freshPrefix();
      const a = await instance(prefix, "a");
      const b = await instance(prefix, "b");
      const handled: string[] = [];
      b.bus.serve(async (m) => {
        handled.push(m);
        return m;
      });
      const onA = collector();
      await a.bus.subscribeRoomEvents(S1, onA.add);
      const admin = await adminClient(url);
      cleanup.push(async () => {
        await admin.quit();
      });
      const good = '{"id":"z:1","from":"z","body":"never"}';
      await admin.publish(`${prefix}reqb:b`, `QWB1\n${good.length + 5}\n${good}`);
      await admin.publish(`${prefix}room:s1`, "QWB1\n99\ncut short");
      await admin.publish(`${prefix}room:s1`, "QWB2\nfrom the future");
      expect(await a.bus.request("b", "after", 5_000)).toBe("after");
      expect(handled).toStrictEqual(["after"]);
      await b.bus.publishRoomEvent(S1, "after");
      // A frame of an unknown version is no frame here: it is handed on as one event.
      await onA.waitFor((got) => got.includes("after"));
      expect(onA.events).toStrictEqual(["QWB2\nfrom the future", "after"]);
    });

    it("a failed open names the address and gives up", async () => {
      await expect(
        RedisConnection.open({ url: "redis://127.0.0.1:1", openTimeoutMs: 300 }),
      ).rejects.toThrow(/redis:\/\/127\.0\.0\.1:1.*not reachable within 300 ms/);
    });

    it("the pin TTL is a safety net: an unreleased claim expires, a re-reserve refreshes it", async () => {
      const prefix = freshPrefix();
      const a = await instance(prefix, "a");
      const pins = new RedisPinDirectory(a.conn, { ttlMs: 300 });
      expect(await pins.reserve("111111", S1)).toBe(true);
      expect(await pins.reserve("222222", S1)).toBe(true);
      // Both claims age on Redis's clock; re-reserving 111111 two thirds into its TTL must give it
      // a new one, so it outlives 222222, which nobody refreshed.
      await sleep(200);
      expect(await pins.reserve("111111", S1)).toBe(true);
      await eventually("the unrefreshed claim on 222222 to expire", () => pins.lookup("222222"), {
        until: (holder) => holder === undefined,
      });
      expect(await pins.lookup("111111")).toBe(S1);
    });
  });
});
