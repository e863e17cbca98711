import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import {
  type MemoryClusterBus,
  MemoryClusterHub,
  MemoryOwnershipLeases,
} from "../../src/adapters/memory/memory-cluster.js";
import { MemoryPinDirectory } from "../../src/adapters/memory/memory-pin-directory.js";
import { MemoryRateLimiter } from "../../src/adapters/memory/memory-rate-limiter.js";
import { MemoryReplayCache } from "../../src/adapters/memory/memory-replay-cache.js";
import { MemorySharedCounters } from "../../src/adapters/memory/memory-shared-counters.js";
import { asSessionId } from "../../src/domain/ids.js";
import { ClusterTimeoutError } from "../../src/ports/cluster.js";
import { collector, runClusterContract } from "./cluster-contract.js";

runClusterContract("memory", async () => {
  const clock = new FakeClock();
  const hub = new MemoryClusterHub({ clock });
  const shared = {
    pins: new MemoryPinDirectory(),
    rateLimiter: new MemoryRateLimiter(clock),
    replay: new MemoryReplayCache(clock),
    counters: new MemorySharedCounters(clock),
    leases: new MemoryOwnershipLeases(clock),
  };
  const buses: MemoryClusterBus[] = [];
  return {
    async instance(instanceId) {
      const bus = hub.bus(instanceId);
      buses.push(bus);
      return { ...shared, bus };
    },
    async wait(ms) {
      clock.advance(ms);
      await macrotask();
    },
    async close() {
      for (const bus of buses) await bus.close();
    },
    sent(instanceId) {
      return buses
        .filter((bus) => bus.instanceId === instanceId)
        .reduce((n, bus) => n + bus.sent, 0);
    },
  };
});

const S1 = asSessionId("s1");
const S2 = asSessionId("s2");

function setup() {
  const clock = new FakeClock();
  const errors: unknown[] = [];
  const hub = new MemoryClusterHub({ clock, onHandlerError: (err) => errors.push(err) });
  return { clock, hub, errors };
}

describe("MemoryClusterHub", () => {
  it("delivers asynchronously: nothing reaches a subscriber within the publisher's task", async () => {
    const { hub } = setup();
    const a = hub.bus("a");
    const b = hub.bus("b");
    const onB = collector();
    await b.subscribeRoomEvents(S1, onB.add);
    await a.publishRoomEvent(S1, "e1");
    await Promise.resolve();
    expect(onB.events).toStrictEqual([]);
    await onB.waitFor((events) => events.length === 1);
    expect(onB.events).toStrictEqual(["e1"]);
  });

  it("an instance id has one open bus at a time", async () => {
    const { hub } = setup();
    const a = hub.bus("a");
    expect(() => hub.bus("a")).toThrow(/already has an open bus/);
    await a.close();
    expect(hub.bus("a").connected).toBe(true);
  });

  it("request timeouts follow the injected clock", async () => {
    const { clock, hub } = setup();
    const a = hub.bus("a");
    hub.bus("b"); // open, but never serves: the request waits for its timeout
    let outcome: unknown;
    a.request("b", "x", 1_000).catch((err: unknown) => {
      outcome = err;
    });
    clock.advance(999);
    await macrotask();
    expect(outcome).toBeUndefined();
    clock.advance(1);
    await macrotask();
    expect(outcome).toBeInstanceOf(ClusterTimeoutError);
    expect(clock.pending).toBe(0);
  });

  it("an answered request leaves no timer armed", async () => {
    const { clock, hub } = setup();
    const a = hub.bus("a");
    hub.bus("b").serve(async (m) => m);
    expect(await a.request("b", "x", 1_000)).toBe("x");
    expect(clock.pending).toBe(0);
  });

  it("a throwing subscriber goes to onHandlerError and does not stop the others", async () => {
    const { hub, errors } = setup();
    const a = hub.bus("a");
    const onA = collector();
    await a.subscribeRoomEvents(S1, () => {
      throw new Error("bad handler");
    });
    await a.subscribeRoomEvents(S1, onA.add);
    await a.publishRoomEvent(S1, "e1");
    await onA.waitFor((events) => events.length === 1);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe("bad handler");
  });
});

describe("MemoryClusterBus test hooks", () => {
  it("dropNextRoomEvents loses exactly the next N events reaching that instance", async () => {
    const { hub } = setup();
    const a = hub.bus("a");
    const b = hub.bus("b");
    const c = hub.bus("c");
    const onB = collector();
    const onC = collector();
    await b.subscribeRoomEvents(S1, onB.add);
    await c.subscribeRoomEvents(S1, onC.add);
    b.dropNextRoomEvents(2);
    for (const e of ["1", "2", "3", "4"]) await a.publishRoomEvent(S1, e);
    await onC.waitFor((events) => events.length === 4);
    await onB.waitFor((events) => events.length === 2);
    expect(onB.events).toStrictEqual(["3", "4"]);
    expect(onC.events).toStrictEqual(["1", "2", "3", "4"]);
  });

  it("dropNextRoomEvents with a session loses only that room's events", async () => {
    const { hub } = setup();
    const a = hub.bus("a");
    const b = hub.bus("b");
    const room1 = collector();
    const room2 = collector();
    await b.subscribeRoomEvents(S1, room1.add);
    await b.subscribeRoomEvents(S2, room2.add);
    b.dropNextRoomEvents(1, S1);
    await a.publishRoomEvent(S2, "x1");
    await a.publishRoomEvent(S1, "1");
    await a.publishRoomEvent(S1, "2");
    await a.publishRoomEvent(S2, "x2");
    await room2.waitFor((events) => events.length === 2);
    expect(room1.events).toStrictEqual(["2"]);
    expect(room2.events).toStrictEqual(["x1", "x2"]);
  });

  it("dropNextRoomEvents with a filter loses only the messages it picks (room events, not beacons)", async () => {
    const { hub } = setup();
    const a = hub.bus("a");
    const b = hub.bus("b");
    const onB = collector();
    await b.subscribeRoomEvents(S1, onB.add);
    b.dropNextRoomEvents(2, S1, (text) => text.startsWith("event"));
    for (const e of ["beacon-1", "event-1", "beacon-2", "event-2", "event-3"]) {
      await a.publishRoomEvent(S1, e);
    }
    await onB.waitFor((events) => events.length === 3);
    expect(onB.events).toStrictEqual(["beacon-1", "beacon-2", "event-3"]);
  });

  it("an outage: disconnected, sending rejects, traffic to the instance is lost; reconnect restores it", async () => {
    const { clock, hub } = setup();
    const a = hub.bus("a");
    const b = hub.bus("b");
    const onB = collector();
    let reconnected = 0;
    b.onReconnected(() => reconnected++);
    await b.subscribeRoomEvents(S1, onB.add);
    b.serve(async (m) => `b:${m}`);

    b.simulateOutage();
    expect(b.connected).toBe(false);
    expect(a.connected).toBe(true);
    await expect(b.publishRoomEvent(S1, "x")).rejects.toThrow(/unavailable/);
    await expect(b.request("a", "x", 1_000)).rejects.toThrow(/unavailable/);
    await expect(b.subscribeRoomEvents(S2, () => {})).rejects.toThrow(/unavailable/);
    await a.publishRoomEvent(S1, "lost");
    const timedOut = expect(a.request("b", "x", 1_000)).rejects.toBeInstanceOf(ClusterTimeoutError);
    clock.advance(1_000);
    await timedOut;

    b.simulateReconnect();
    expect(b.connected).toBe(true);
    expect(reconnected).toBe(0);
    await macrotask();
    expect(reconnected).toBe(1);
    await a.publishRoomEvent(S1, "after");
    await onB.waitFor((events) => events.length === 1);
    expect(onB.events).toStrictEqual(["after"]);
    expect(await a.request("b", "y", 1_000)).toBe("b:y");
  });

  it("a hub outage takes every instance down, and each one's onReconnected runs once it is back", async () => {
    const { hub } = setup();
    const a = hub.bus("a");
    const b = hub.bus("b");
    const seen: string[] = [];
    a.onReconnected(() => seen.push("a"));
    b.onReconnected(() => seen.push("b"));
    hub.simulateOutage();
    expect([a.connected, b.connected]).toStrictEqual([false, false]);
    const c = hub.bus("c");
    expect(c.connected).toBe(false);
    hub.simulateReconnect();
    await macrotask();
    expect(seen.sort()).toStrictEqual(["a", "b"]);
    expect([a.connected, b.connected, c.connected]).toStrictEqual([true, true, true]);
  });
});

describe("MemoryOwnershipLeases", () => {
  it("a lease expires exactly at its TTL on the injected clock, and renewing moves the expiry", async () => {
    const clock = new FakeClock();
    const leases = new MemoryOwnershipLeases(clock);
    const got = await leases.acquire(S1, "a", 1, 1_000);
    if (!got.ok) throw new Error("acquire failed");
    clock.advance(999);
    expect(await leases.holder(S1)).toStrictEqual(got.lease);
    expect(await leases.renew(got.lease, 1_000)).toBe(true);
    clock.advance(999);
    expect(await leases.holder(S1)).toStrictEqual(got.lease);
    clock.advance(1);
    expect(await leases.holder(S1)).toBeNull();
  });

  it("hands out copies: changing a returned lease changes nothing stored", async () => {
    const leases = new MemoryOwnershipLeases(new FakeClock());
    const got = await leases.acquire(S1, "a", 1, 1_000);
    if (!got.ok) throw new Error("acquire failed");
    got.lease.epoch = 99;
    expect(await leases.holder(S1)).toStrictEqual({ sessionId: S1, instanceId: "a", epoch: 1 });
  });
});

function macrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
