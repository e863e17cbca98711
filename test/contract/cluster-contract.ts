/**
 * The cluster contract: what the in-process and the Redis adapters of the cluster ports
 * (src/ports/cluster.ts) must both do. An adapter's test file calls `runClusterContract` with a
 * function that opens a fresh, empty backend for each test; the backend opens any number of
 * "instances", each with its own adapters on that one backend, as separate servers would.
 *
 * Its clauses, one promise each. A test's name starts with the clauses it holds, so a failure
 * names the promise broken; test/unit/rule-ids.test.ts checks that every clause has a test and
 * that no test names a clause not listed here.
 *
 * OwnershipLeases
 *   CL-L1   `acquire` is exclusive: another instance gets the holder, and `holder` tells everyone.
 *   CL-L2   The holder may acquire again at its epoch, but not at another.
 *   CL-L3   Renewing keeps a lease past its first expiry.
 *   CL-L4   An unrenewed lease expires: no holder, no renewal, and another instance may take it.
 *   CL-L5   `renew` by a non-holder or at a stale epoch fails and leaves the lease alone.
 *   CL-L6   `release` by a non-holder or at a stale epoch does nothing; by the holder it frees it.
 *   CL-L7   `acquire` rejects a TTL that is not positive and an epoch that is not an integer.
 * PinDirectory
 *   CL-P1   reserve, lookup and release are seen alike by every instance.
 *   CL-P2   A held PIN cannot be taken by another session on any instance; a freed one can.
 *   CL-P3   `release` by a session that does not hold the PIN does nothing.
 * RateLimiter
 *   CL-R1   A key allows `limit` takes, then refuses with the time until the next token.
 *   CL-R2   Tokens refill continuously over the window, up to the limit.
 *   CL-R3   A limit holds across instances sharing the backend.
 * ReplayCache
 *   CL-C1   A new id has no reply; a stored one is seen by every instance; a later put replaces it.
 *   CL-C2   A reply is forgotten after its TTL; others stay.
 *   CL-C3   A reply with no time to live is not kept.
 * SharedCounters
 *   CL-N1   `add` returns each counter's new total, in the batch's order; every instance adds to
 *           the same counters.
 *   CL-N2   A counter is forgotten its time to live after its last change; others stay.
 *   CL-N3   A batch with a delta that is not an integer, or a time to live that is not positive,
 *           is refused whole: no counter of it changes.
 * ClusterBus
 *   CL-B1   A bus is connected while the broker is up, under its instance id.
 *   CL-B2   A room's events reach every subscriber of that room on every instance, and no other.
 *   CL-B3   Each publisher's events arrive in publish order.
 *   CL-B4   Unsubscribing stops delivery to that handler only; the room can be subscribed again.
 *   CL-B5   Concurrent requests across instances each get their own reply.
 *   CL-B6   An instance can send a request to itself.
 *   CL-B7   A later `serve` replaces the handler.
 *   CL-B8   A failing handler rejects the request with its message, not with a timeout.
 *   CL-B9   `isAlive` tells a live instance from one that is gone or never was.
 *   CL-B10  A request nobody serves times out; one to an instance nobody listens for fails at once.
 *   CL-B11  A reply that comes after the timeout is ignored, and later requests still work.
 *   CL-B12  Closing fails pending requests; a closed bus refuses to publish, subscribe or request.
 *   CL-B13  Requests one instance sends another in one turn travel as one broker message and are
 *           handled in order; the replies the other sends back in one turn travel as one message,
 *           each request still getting its own.
 *   CL-B14  A request that fails in such a batch fails alone: the others get their replies.
 *   CL-B15  A room's events one instance publishes in one turn travel as at most two broker
 *           messages (the first event at once, the rest together) and arrive in order; another
 *           room's go in messages of their own.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { asSessionId } from "../../src/domain/ids.js";
import {
  type ClusterBus,
  ClusterTimeoutError,
  ClusterUndeliveredError,
  type Lease,
  type OwnershipLeases,
  type PinDirectory,
  type RateLimiter,
  type ReplayCache,
  type SharedCounters,
} from "../../src/ports/cluster.js";
import { eventually } from "../support/eventually.js";

/** One instance's view of the cluster backend. */
export interface ClusterInstance {
  pins: PinDirectory;
  rateLimiter: RateLimiter;
  replay: ReplayCache;
  counters: SharedCounters;
  leases: OwnershipLeases;
  bus: ClusterBus;
}

export interface ClusterBackend {
  /** Opens instance `instanceId`'s adapters on the shared backend (once per id). */
  instance(instanceId: string): Promise<ClusterInstance>;
  /**
   * Lets `ms` pass for expiry, refill and request timeouts: advances the fake clock the
   * adapters were given and, where the backend keeps its own time (Redis), really waits.
   */
  wait(ms: number): Promise<void>;
  /** Closes every instance opened and drops the backend's data. */
  close(): Promise<void>;
  /** How many messages instance `instanceId`'s bus has handed to the broker so far (a batch is one). */
  sent(instanceId: string): number;
}

const S1 = asSessionId("session-1");
const S2 = asSessionId("session-2");
const S3 = asSessionId("session-3");
const LONG_MS = 60_000;

export function runClusterContract(name: string, makeBackend: () => Promise<ClusterBackend>): void {
  describe(`cluster contract: ${name}`, () => {
    let backend: ClusterBackend;

    beforeEach(async () => {
      backend = await makeBackend();
    });

    afterEach(async () => {
      await backend.close();
    });

    /** Between probes, time passes the backend's way (a fake clock, Redis's own). */
    const onBackendTime = { pause: (ms: number) => backend.wait(ms) };

    describe("OwnershipLeases", () => {
      it("CL-L1: acquire is exclusive: another instance gets the holder, not the lease", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        const got = await a.leases.acquire(S1, "a", 1, LONG_MS);
        expect(got).toStrictEqual({
          ok: true,
          lease: { sessionId: S1, instanceId: "a", epoch: 1 },
        });
        expect(await b.leases.acquire(S1, "b", 2, LONG_MS)).toStrictEqual({
          ok: false,
          holder: { sessionId: S1, instanceId: "a", epoch: 1 },
        });
        expect(await b.leases.holder(S1)).toStrictEqual({
          sessionId: S1,
          instanceId: "a",
          epoch: 1,
        });
        expect(await a.leases.holder(S2)).toBeNull();
        expect((await b.leases.acquire(S2, "b", 1, LONG_MS)).ok).toBe(true);
        expect(await a.leases.holder(S2)).toStrictEqual({
          sessionId: S2,
          instanceId: "b",
          epoch: 1,
        });
      });

      it("CL-L2: the holder may acquire again at its epoch, but not at another", async () => {
        const a = await backend.instance("a");
        expect((await a.leases.acquire(S1, "a", 3, LONG_MS)).ok).toBe(true);
        expect((await a.leases.acquire(S1, "a", 3, LONG_MS)).ok).toBe(true);
        expect(await a.leases.acquire(S1, "a", 4, LONG_MS)).toStrictEqual({
          ok: false,
          holder: { sessionId: S1, instanceId: "a", epoch: 3 },
        });
      });

      it("CL-L3: renewing keeps a lease past its first expiry", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        const got = await a.leases.acquire(S1, "a", 1, 100);
        if (!got.ok) throw new Error("acquire failed");
        expect(await a.leases.renew(got.lease, LONG_MS)).toBe(true);
        // A window in which nothing may happen: past the first 100 ms TTL, the lease must still be held.
        await backend.wait(200);
        expect(await b.leases.holder(S1)).toStrictEqual(got.lease);
        expect((await b.leases.acquire(S1, "b", 2, LONG_MS)).ok).toBe(false);
        expect(await a.leases.renew(got.lease, LONG_MS)).toBe(true);
      });

      it("CL-L4: an unrenewed lease expires: it has no holder, cannot be renewed, and another instance takes it", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        const got = await a.leases.acquire(S1, "a", 1, 50);
        if (!got.ok) throw new Error("acquire failed");
        expect(await b.leases.holder(S1)).toStrictEqual(got.lease);
        await eventually("the unrenewed lease to expire", () => b.leases.holder(S1), {
          ...onBackendTime,
          until: (h) => h === null,
        });
        expect(await a.leases.renew(got.lease, LONG_MS)).toBe(false);
        expect(await b.leases.acquire(S1, "b", 2, LONG_MS)).toStrictEqual({
          ok: true,
          lease: { sessionId: S1, instanceId: "b", epoch: 2 },
        });
        expect(await a.leases.renew(got.lease, LONG_MS)).toBe(false);
        expect(await a.leases.holder(S1)).toStrictEqual({
          sessionId: S1,
          instanceId: "b",
          epoch: 2,
        });
      });

      it("CL-L5: renew by a non-holder or at a stale epoch fails and leaves the lease alone", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        const held: Lease = { sessionId: S1, instanceId: "a", epoch: 2 };
        expect((await a.leases.acquire(S1, "a", 2, LONG_MS)).ok).toBe(true);
        expect(await b.leases.renew({ ...held, instanceId: "b" }, LONG_MS)).toBe(false);
        expect(await a.leases.renew({ ...held, epoch: 1 }, LONG_MS)).toBe(false);
        expect(await a.leases.renew({ ...held, epoch: 3 }, LONG_MS)).toBe(false);
        expect(await a.leases.renew({ ...held, sessionId: S2 }, LONG_MS)).toBe(false);
        expect(await b.leases.holder(S1)).toStrictEqual(held);
        expect(await b.leases.holder(S2)).toBeNull();
      });

      it("CL-L6: release by a non-holder or at a stale epoch does nothing; by the holder it frees the session", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        const held: Lease = { sessionId: S1, instanceId: "a", epoch: 2 };
        expect((await a.leases.acquire(S1, "a", 2, LONG_MS)).ok).toBe(true);
        await b.leases.release({ ...held, instanceId: "b" });
        await a.leases.release({ ...held, epoch: 1 });
        expect(await b.leases.holder(S1)).toStrictEqual(held);
        expect((await b.leases.acquire(S1, "b", 3, LONG_MS)).ok).toBe(false);
        await a.leases.release(held);
        expect(await b.leases.holder(S1)).toBeNull();
        expect((await b.leases.acquire(S1, "b", 3, LONG_MS)).ok).toBe(true);
        await a.leases.release(held);
        expect(await a.leases.holder(S1)).toStrictEqual({
          sessionId: S1,
          instanceId: "b",
          epoch: 3,
        });
      });

      it("CL-L7: rejects a TTL that is not positive and an epoch that is not an integer", async () => {
        const a = await backend.instance("a");
        await expect(a.leases.acquire(S1, "a", 1, 0)).rejects.toThrow(RangeError);
        await expect(a.leases.acquire(S1, "a", 1.5, LONG_MS)).rejects.toThrow(RangeError);
        expect(await a.leases.holder(S1)).toBeNull();
      });
    });

    describe("PinDirectory", () => {
      it("CL-P1, P-3: reserve, lookup and release, seen alike by every instance", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        expect(await a.pins.lookup("482913")).toBeUndefined();
        expect(await a.pins.reserve("482913", S1)).toBe(true);
        expect(await a.pins.lookup("482913")).toBe(S1);
        expect(await b.pins.lookup("482913")).toBe(S1);
        await b.pins.release("482913", S1);
        expect(await a.pins.lookup("482913")).toBeUndefined();
        expect(await b.pins.lookup("482913")).toBeUndefined();
      });

      it("CL-P2, P-3: another session cannot take a held PIN on any instance; a freed PIN can be taken", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        expect(await a.pins.reserve("482913", S1)).toBe(true);
        expect(await b.pins.reserve("482913", S2)).toBe(false);
        expect(await a.pins.reserve("482913", S2)).toBe(false);
        expect(await a.pins.reserve("482913", S1)).toBe(true);
        expect(await b.pins.reserve("111111", S2)).toBe(true);
        expect(await a.pins.lookup("482913")).toBe(S1);
        expect(await a.pins.lookup("111111")).toBe(S2);
        await a.pins.release("482913", S1);
        expect(await b.pins.reserve("482913", S3)).toBe(true);
        expect(await a.pins.lookup("482913")).toBe(S3);
      });

      it("CL-P3: release by the wrong session does nothing", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        expect(await a.pins.reserve("482913", S1)).toBe(true);
        await b.pins.release("482913", S2);
        await b.pins.release("000000", S1);
        expect(await b.pins.lookup("482913")).toBe(S1);
        expect(await b.pins.reserve("482913", S2)).toBe(false);
      });
    });

    describe("RateLimiter", () => {
      it("CL-R1: allows `limit` takes, then refuses with the time until the next token", async () => {
        const a = await backend.instance("a");
        for (let i = 0; i < 3; i++) {
          expect(await a.rateLimiter.take("user:1", 3, 3_000)).toStrictEqual({
            allowed: true,
            retryAfterMs: 0,
          });
        }
        // One token per 1 000 ms, and no time has passed.
        expect(await a.rateLimiter.take("user:1", 3, 3_000)).toStrictEqual({
          allowed: false,
          retryAfterMs: 1_000,
        });
        expect((await a.rateLimiter.take("user:2", 3, 3_000)).allowed).toBe(true);
      });

      it("CL-R2: refills continuously over the window, up to the limit", async () => {
        const a = await backend.instance("a");
        expect((await a.rateLimiter.take("k", 2, 100)).allowed).toBe(true);
        expect((await a.rateLimiter.take("k", 2, 100)).allowed).toBe(true);
        expect(await a.rateLimiter.take("k", 2, 100)).toStrictEqual({
          allowed: false,
          retryAfterMs: 50,
        });
        await backend.wait(40);
        expect(await a.rateLimiter.take("k", 2, 100)).toStrictEqual({
          allowed: false,
          retryAfterMs: 10,
        });
        await backend.wait(10);
        expect((await a.rateLimiter.take("k", 2, 100)).allowed).toBe(true);
        expect((await a.rateLimiter.take("k", 2, 100)).allowed).toBe(false);
        // A long idle time fills the bucket to the limit, not beyond.
        await backend.wait(300);
        expect((await a.rateLimiter.take("k", 2, 100)).allowed).toBe(true);
        expect((await a.rateLimiter.take("k", 2, 100)).allowed).toBe(true);
        expect((await a.rateLimiter.take("k", 2, 100)).allowed).toBe(false);
      });

      it("CL-R3: a limit holds across instances sharing the backend", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        const take = (i: ClusterInstance) => i.rateLimiter.take("ip:10.0.0.1", 4, LONG_MS);
        const allowed = [await take(a), await take(b), await take(a), await take(b)];
        expect(allowed.every((r) => r.allowed)).toBe(true);
        const refusedA = await take(a);
        const refusedB = await take(b);
        expect(refusedA.allowed).toBe(false);
        expect(refusedB.allowed).toBe(false);
        expect(refusedA.retryAfterMs).toBe(15_000);
        expect((await b.rateLimiter.take("ip:10.0.0.2", 4, LONG_MS)).allowed).toBe(true);
      });
    });

    describe("ReplayCache", () => {
      it("CL-C1, A-6: a new id has no reply; a stored reply is seen by every instance and replaced by a later put", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        expect(await a.replay.get("p1/m1")).toBeUndefined();
        await a.replay.put("p1/m1", '{"ok":true}', LONG_MS);
        expect(await a.replay.get("p1/m1")).toBe('{"ok":true}');
        expect(await b.replay.get("p1/m1")).toBe('{"ok":true}');
        expect(await b.replay.get("p1/m2")).toBeUndefined();
        await b.replay.put("p1/m1", "second", LONG_MS);
        expect(await a.replay.get("p1/m1")).toBe("second");
      });

      it("CL-C2, A-6: a reply is forgotten after its TTL, others stay", async () => {
        const a = await backend.instance("a");
        await a.replay.put("short", "r1", 50);
        await a.replay.put("long", "r2", LONG_MS);
        expect(await a.replay.get("short")).toBe("r1");
        await eventually("the short-lived reply to be forgotten", () => a.replay.get("short"), {
          ...onBackendTime,
          until: (v) => v === undefined,
        });
        expect(await a.replay.get("long")).toBe("r2");
      });

      it("CL-C3: a reply with no time to live is not kept", async () => {
        const a = await backend.instance("a");
        await a.replay.put("k", "r", LONG_MS);
        await a.replay.put("k", "r", 0);
        expect(await a.replay.get("k")).toBeUndefined();
      });
    });

    describe("SharedCounters", () => {
      it("CL-N1: add returns each counter's new total in order, and every instance adds to the same counters", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        expect(
          await a.counters.add([
            { key: "user:1@7", delta: 3, ttlMs: LONG_MS },
            { key: "user:2@7", delta: 1, ttlMs: LONG_MS },
          ]),
        ).toStrictEqual([3, 1]);
        expect(
          await b.counters.add([
            { key: "user:2@7", delta: 5, ttlMs: LONG_MS },
            { key: "user:3@7", delta: 2, ttlMs: LONG_MS },
            { key: "user:1@7", delta: 1, ttlMs: LONG_MS },
          ]),
        ).toStrictEqual([6, 2, 4]);
        expect(await a.counters.add([])).toStrictEqual([]);
        expect(await a.counters.add([{ key: "user:1@7", delta: 0, ttlMs: LONG_MS }])).toStrictEqual(
          [4],
        );
      });

      it("CL-N2: a counter is forgotten its time to live after its last change; others stay", async () => {
        const a = await backend.instance("a");
        await a.counters.add([
          { key: "short", delta: 2, ttlMs: 50 },
          { key: "long", delta: 2, ttlMs: LONG_MS },
        ]);
        // Adding (even 0) is a change, so the probe is the add after the time to live has passed;
        // Redis checks a key's expiry when it is read, so the wait needs no margin for its sweep.
        await backend.wait(60);
        expect(await a.counters.add([{ key: "short", delta: 1, ttlMs: 50 }])).toStrictEqual([1]);
        expect(await a.counters.add([{ key: "long", delta: 1, ttlMs: LONG_MS }])).toStrictEqual([
          3,
        ]);
      });

      it("CL-N3: a batch with a delta that is not an integer or a time to live that is not positive changes nothing", async () => {
        const a = await backend.instance("a");
        await a.counters.add([{ key: "k", delta: 1, ttlMs: LONG_MS }]);
        for (const bad of [
          { key: "k2", delta: 1.5, ttlMs: LONG_MS },
          { key: "k2", delta: Number.NaN, ttlMs: LONG_MS },
          { key: "k2", delta: 1, ttlMs: 0 },
          { key: "k2", delta: 1, ttlMs: -5 },
        ]) {
          await expect(
            a.counters.add([{ key: "k", delta: 1, ttlMs: LONG_MS }, bad]),
            JSON.stringify(bad),
          ).rejects.toThrow(RangeError);
        }
        expect(
          await a.counters.add([
            { key: "k", delta: 0, ttlMs: LONG_MS },
            { key: "k2", delta: 0, ttlMs: LONG_MS },
          ]),
        ).toStrictEqual([1, 0]);
      });
    });

    describe("ClusterBus", () => {
      it("CL-B1: is connected while the broker is up", async () => {
        const a = await backend.instance("a");
        expect(a.bus.connected).toBe(true);
        expect(a.bus.instanceId).toBe("a");
      });

      it("CL-B2: a room's events reach every subscriber of that room on every instance, and no other room's", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        const c = await backend.instance("c");
        const onA = collector();
        const onB1 = collector();
        const onB2 = collector();
        const onC = collector();
        const otherRoomOnC = collector();
        await a.bus.subscribeRoomEvents(S1, onA.add);
        await b.bus.subscribeRoomEvents(S1, onB1.add);
        await b.bus.subscribeRoomEvents(S1, onB2.add);
        await c.bus.subscribeRoomEvents(S1, onC.add);
        await c.bus.subscribeRoomEvents(S2, otherRoomOnC.add);

        await a.bus.publishRoomEvent(S1, "e1");
        await c.bus.publishRoomEvent(S1, "e2");
        await a.bus.publishRoomEvent(S3, "nobody listens");
        await a.bus.publishRoomEvent(S2, "other room");
        // The last event of each room marks the end: a publisher's events arrive in order.
        await c.bus.publishRoomEvent(S1, "end");
        await a.bus.publishRoomEvent(S1, "end");
        for (const sub of [onA, onB1, onB2, onC]) {
          await sub.waitFor((events) => events.filter((e) => e === "end").length === 2);
          expect(sub.events.filter((e) => e !== "end").sort()).toStrictEqual(["e1", "e2"]);
        }
        await otherRoomOnC.waitFor((events) => events.length === 1);
        expect(otherRoomOnC.events).toStrictEqual(["other room"]);
      });

      it("CL-B3: each publisher's events arrive in publish order", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        const c = await backend.instance("c");
        const onA = collector();
        const onC = collector();
        await a.bus.subscribeRoomEvents(S1, onA.add);
        await c.bus.subscribeRoomEvents(S1, onC.add);
        const sent: Promise<void>[] = [];
        for (let i = 0; i < 300; i++) {
          sent.push(a.bus.publishRoomEvent(S1, `a:${i}`));
          sent.push(b.bus.publishRoomEvent(S1, `b:${i}`));
        }
        await Promise.all(sent);
        const expected = (p: string) => Array.from({ length: 300 }, (_, i) => `${p}:${i}`);
        for (const sub of [onA, onC]) {
          await sub.waitFor((events) => events.length === 600);
          expect(sub.events.filter((e) => e.startsWith("a:"))).toStrictEqual(expected("a"));
          expect(sub.events.filter((e) => e.startsWith("b:"))).toStrictEqual(expected("b"));
        }
      });

      it("CL-B4: unsubscribing stops delivery to that handler only, and the room can be joined again", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        const c = await backend.instance("c");
        const first = collector();
        const second = collector();
        const onC = collector();
        const offFirst = await b.bus.subscribeRoomEvents(S1, first.add);
        const offSecond = await b.bus.subscribeRoomEvents(S1, second.add);
        await c.bus.subscribeRoomEvents(S1, onC.add);

        await a.bus.publishRoomEvent(S1, "1");
        await second.waitFor((events) => events.length === 1);
        await offFirst();
        await offFirst();
        await a.bus.publishRoomEvent(S1, "2");
        await second.waitFor((events) => events.length === 2);
        await offSecond();
        await a.bus.publishRoomEvent(S1, "3");
        await onC.waitFor((events) => events.length === 3);
        const again = collector();
        await b.bus.subscribeRoomEvents(S1, again.add);
        await a.bus.publishRoomEvent(S1, "4");
        await again.waitFor((events) => events.length === 1);
        await onC.waitFor((events) => events.length === 4);

        expect(first.events).toStrictEqual(["1"]);
        expect(second.events).toStrictEqual(["1", "2"]);
        expect(again.events).toStrictEqual(["4"]);
        expect(onC.events).toStrictEqual(["1", "2", "3", "4"]);
      });

      it("CL-B5: many concurrent requests across instances are each answered with their own reply", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        const c = await backend.instance("c");
        for (const served of [b, c]) {
          const id = served.bus.instanceId;
          served.bus.serve(async (m) => {
            // Uneven work, so replies come back in another order than the requests went out.
            for (let i = Number(m.split(":")[1]) % 7; i > 0; i--) await macrotask();
            return `${id} handled ${m}`;
          });
        }
        const requests: Promise<string>[] = [];
        const expected: string[] = [];
        for (let i = 0; i < 200; i++) {
          const from = i % 3 === 0 ? c : a;
          const to = i % 2 === 0 ? "b" : "c";
          const m = `${from.bus.instanceId}:${i}`;
          requests.push(from.bus.request(to, m, LONG_MS));
          expected.push(`${to} handled ${m}`);
        }
        expect(await Promise.all(requests)).toStrictEqual(expected);
      });

      it("CL-B6: an instance can send a request to itself", async () => {
        const a = await backend.instance("a");
        a.bus.serve(async (m) => `echo ${m}`);
        expect(await a.bus.request("a", "hi", LONG_MS)).toBe("echo hi");
      });

      it("CL-B7: a later serve replaces the handler", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        b.bus.serve(async () => "old");
        expect(await a.bus.request("b", "x", LONG_MS)).toBe("old");
        b.bus.serve(async () => "new");
        expect(await a.bus.request("b", "x", LONG_MS)).toBe("new");
      });

      it("CL-B8: a failing handler rejects the request with its message, not with a timeout", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        b.bus.serve(async (m) => {
          throw new Error(`cannot handle ${m}`);
        });
        const err = await a.bus.request("b", "cmd", LONG_MS).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(Error);
        expect(err).not.toBeInstanceOf(ClusterTimeoutError);
        expect((err as Error).message).toContain("cannot handle cmd");
      });

      it("CL-B9: isAlive tells a live instance from one that is gone or never was", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        b.bus.serve(async (m) => m);
        expect(await a.bus.isAlive("b")).toBe(true);
        expect(await a.bus.isAlive("nobody")).toBe(false);
        await b.bus.close();
        expect(await a.bus.isAlive("b")).toBe(false);
      });

      it("CL-B10: a request to an instance that does not serve times out; to one that is gone it fails at once", async () => {
        const a = await backend.instance("a");
        await backend.instance("b"); // open, but never serves
        // Nobody listens for "nobody": the request is certainly not delivered (the instance is gone).
        await expect(a.bus.request("nobody", "x", 60_000)).rejects.toBeInstanceOf(
          ClusterUndeliveredError,
        );
        const toNobody = Promise.resolve();
        const toIdle = expect(a.bus.request("b", "x", 100)).rejects.toBeInstanceOf(
          ClusterTimeoutError,
        );
        // The timeout runs on the backend's time (the memory bus's on the fake clock).
        await backend.wait(150);
        await toNobody;
        await toIdle;
      });

      it("CL-B11: a reply that comes after the timeout is ignored, and later requests still work", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        const gate = deferred();
        const handled = deferred();
        b.bus.serve(async (m) => {
          if (m === "slow") {
            handled.resolve();
            await gate.promise;
          }
          return `re ${m}`;
        });
        const slow = expect(a.bus.request("b", "slow", 100)).rejects.toBeInstanceOf(
          ClusterTimeoutError,
        );
        await handled.promise;
        // The timeout runs on the backend's time (the memory bus's on the fake clock).
        await backend.wait(150);
        await slow;
        gate.resolve();
        expect(await a.bus.request("b", "fast", LONG_MS)).toBe("re fast");
      });

      it("CL-B12: closing fails pending requests, and a closed bus refuses to publish or request", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        b.bus.serve(() => new Promise<string>(() => {}));
        const pending = a.bus.request("b", "x", LONG_MS).catch((e: unknown) => e);
        await a.bus.close();
        const err = await pending;
        expect(err).toBeInstanceOf(Error);
        expect(err).not.toBeInstanceOf(ClusterTimeoutError);
        expect(a.bus.connected).toBe(false);
        await expect(a.bus.publishRoomEvent(S1, "x")).rejects.toThrow();
        await expect(a.bus.request("b", "x", LONG_MS)).rejects.toThrow();
        await expect(a.bus.subscribeRoomEvents(S1, () => {})).rejects.toThrow();
      });

      it("CL-B13: requests sent to one instance in one turn travel as one message, are handled in order and each gets its own reply, the replies as one message too", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        const handled: string[] = [];
        b.bus.serve(async (m) => {
          handled.push(m);
          return `re ${m}`;
        });
        const messages = Array.from({ length: 40 }, (_, i) => `m${i}`);
        const sentBefore = { a: backend.sent("a"), b: backend.sent("b") };
        // All in one turn: nothing awaited between them.
        const replies = messages.map((m) => a.bus.request("b", m, LONG_MS));
        expect(await Promise.all(replies)).toStrictEqual(messages.map((m) => `re ${m}`));
        expect(handled).toStrictEqual(messages);
        expect(backend.sent("a") - sentBefore.a).toBe(1);
        expect(backend.sent("b") - sentBefore.b).toBe(1);
      });

      it("CL-B14: a request that fails in a batch fails alone; the others get their replies", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        b.bus.serve((m) => {
          // Thrown synchronously and rejected asynchronously: neither may touch its neighbours.
          if (m === "throws") throw new Error("cannot handle throws");
          if (m === "rejects") return Promise.reject(new Error("cannot handle rejects"));
          return Promise.resolve(`re ${m}`);
        });
        const sentBefore = backend.sent("a");
        const results = await Promise.allSettled(
          ["m0", "throws", "m2", "rejects", "m4"].map((m) => a.bus.request("b", m, LONG_MS)),
        );
        expect(backend.sent("a") - sentBefore).toBe(1);
        expect(results.map((r) => (r.status === "fulfilled" ? r.value : "failed"))).toStrictEqual([
          "re m0",
          "failed",
          "re m2",
          "failed",
          "re m4",
        ]);
        for (const [i, what] of [
          [1, "throws"],
          [3, "rejects"],
        ] as const) {
          const r = results[i];
          expect(r?.status).toBe("rejected");
          const reason = (r as PromiseRejectedResult).reason as unknown;
          expect(reason).not.toBeInstanceOf(ClusterTimeoutError);
          expect((reason as Error).message).toContain(`cannot handle ${what}`);
        }
      });

      it("CL-B15: a room's events published in one turn travel as two messages at most and arrive in order; another room's go separately", async () => {
        const a = await backend.instance("a");
        const b = await backend.instance("b");
        const onS1 = collector();
        const onS2 = collector();
        await b.bus.subscribeRoomEvents(S1, onS1.add);
        await b.bus.subscribeRoomEvents(S2, onS2.add);
        const sentBefore = backend.sent("a");
        const events = Array.from({ length: 100 }, (_, i) => `e${i}`);
        // Text that looks like a batch frame or holds newlines travels untouched too.
        events.push("QWB1\n3\nabc", "line\nbreak", "");
        const published = events.map((e) => a.bus.publishRoomEvent(S1, e));
        published.push(a.bus.publishRoomEvent(S2, "other room"));
        await Promise.all(published);
        // S1: its first event at once, the other 102 together; S2: its one event.
        expect(backend.sent("a") - sentBefore).toBe(3);
        await onS1.waitFor((got) => got.length === events.length);
        expect(onS1.events).toStrictEqual(events);
        await onS2.waitFor((got) => got.length === 1);
        expect(onS2.events).toStrictEqual(["other room"]);
        // One event alone in its turn goes as it is (what code from before batching reads).
        await a.bus.publishRoomEvent(S2, "QWB1\n1\nx");
        await a.bus.publishRoomEvent(S2, "alone");
        await onS2.waitFor((got) => got.length === 3);
        expect(onS2.events).toStrictEqual(["other room", "QWB1\n1\nx", "alone"]);
      });
    });
  });
}

/** Collects one handler's events; `waitFor` resolves once `done(events)` holds (real-time bound). */
export function collector(timeoutMs = 5_000) {
  const events: string[] = [];
  const waiters = new Set<() => void>();
  return {
    events,
    add: (e: string) => {
      events.push(e);
      for (const w of [...waiters]) w();
    },
    waitFor(done: (events: string[]) => boolean): Promise<void> {
      if (done(events)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for events; got ${JSON.stringify(events)}`));
        }, timeoutMs);
        const check = () => {
          if (!done(events)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
  };
}

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function macrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
