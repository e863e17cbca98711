import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import {
  MemoryClusterHub,
  MemoryOwnershipLeases,
} from "../../src/adapters/memory/memory-cluster.js";
import { MemoryPinDirectory } from "../../src/adapters/memory/memory-pin-directory.js";
import { openSqliteStorage } from "../../src/adapters/sqlite/sqlite-storage.js";
import { SystemClock } from "../../src/adapters/system-clock.js";
import { hashToken } from "../../src/auth/token-hash.js";
import { SeededRandom } from "../../src/domain/seeded-random.js";
import { resolveSettings } from "../../src/domain/session-settings.js";
import { ClusterDirectory } from "../../src/engine/cluster/cluster-directory.js";
import { decodeBeacon } from "../../src/engine/event-codec.js";
import { GroupCommitter } from "../../src/engine/group-committer.js";
import type { RoomHandle } from "../../src/engine/room-handle.js";
import { RoomRegistry } from "../../src/engine/room-registry.js";
import type { Actor, AnswerAck, JoinResult, RoomEvent, Snapshot } from "../../src/engine/types.js";
import type { Clock } from "../../src/ports/clock.js";
import type { Storage } from "../../src/ports/storage.js";
import { eventually } from "../support/eventually.js";
import { hostActor, playerActor, quizOf, threeQuestions } from "../support/fixtures.js";
import { InstanceClock } from "../support/instance-clock.js";

/**
 * Several "instances" in one process over the in-process bus and leases, sharing
 * one SQLite database: ownership, forwarding, event relay with gap repair, and
 * takeover when an owner disappears. (The same runs over Redis with separate
 * processes in cluster-processes.test.ts.)
 */
const clock = new SystemClock();
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sharedStorage(): Promise<Storage> {
  const dir = mkdtempSync(join(tmpdir(), "qw-cluster-"));
  const storage = await openSqliteStorage({ path: join(dir, "quizwire.db") });
  cleanups.push(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return storage;
}

interface Instance {
  id: string;
  directory: ClusterDirectory;
  bus: ReturnType<MemoryClusterHub["bus"]>;
  /** What the instance reported through `onError`. */
  errors: unknown[];
  /** Simulates SIGKILL: timers stop, nothing is released, the bus goes silent. */
  kill(): Promise<void>;
  /** Holds the instance's commits (a slow disk) until the returned function is called. */
  holdWrites(): () => void;
}

async function instance(
  id: string,
  storage: Storage,
  hub: MemoryClusterHub,
  leases: MemoryOwnershipLeases,
  pins: MemoryPinDirectory,
  seed: number,
  shared: Clock,
): Promise<Instance> {
  // Its own view of the shared clock, so that killing it stops its timers and nothing else.
  const ownClock = new InstanceClock(shared);
  let held: Promise<void> | null = null;
  const committer = new GroupCommitter(
    {
      write: async (b, f) => {
        if (held) await held;
        return storage.sessions.write(b, f);
      },
      ping: () => storage.ping(),
    },
    ownClock,
  );
  const errors: unknown[] = [];
  let directory: ClusterDirectory | null = null;
  const registry = new RoomRegistry({
    storage,
    committer,
    clock: ownClock,
    random: new SeededRandom(seed),
    pins,
    hashToken,
    newSessionId: () =>
      `0190f5a8-0000-7000-8000-${String(seed).padStart(4, "0")}${String(Date.now() % 1e8).padStart(8, "0")}`,
    onError: (err) => errors.push(err),
    endedRetentionMs: 60_000,
    onEnded: (r) => directory?.onEnded(r),
    onFenced: (r) => directory?.onFenced(r),
  });
  const bus = hub.bus(id);
  directory = new ClusterDirectory({
    instanceId: id,
    registry,
    storage,
    leases,
    bus,
    pins,
    clock: ownClock,
    onError: (err) => errors.push(err),
    options: { leaseTtlMs: 400, renewEveryMs: 100, sweepEveryMs: 100, requestTimeoutMs: 500 },
  });
  await directory.start();
  let dead = false;
  const d = directory;
  cleanups.push(async () => {
    if (!dead) await d.stop();
  });
  return {
    id,
    directory: d,
    bus,
    errors,
    async kill() {
      dead = true;
      // No release, no flush: stop the timers and cut the bus, like a killed process.
      (d as unknown as { stopped: boolean }).stopped = true;
      ownClock.kill();
      for (const r of [...registry.all()]) r.dispose();
      await bus.close();
    },
    holdWrites() {
      let release = () => {};
      held = new Promise<void>((resolve) => {
        release = resolve;
      });
      return () => {
        held = null;
        release();
      };
    },
  };
}

/** `leaseClock` is the time leases expire in (Redis's own clock in production). */
async function cluster(n: number, shared: Clock = clock, leaseClock: Clock = shared) {
  const storage = await sharedStorage();
  const hub = new MemoryClusterHub({ clock: shared });
  const leases = new MemoryOwnershipLeases(leaseClock);
  const pins = new MemoryPinDirectory();
  const nodes: Instance[] = [];
  for (let i = 0; i < n; i++)
    nodes.push(await instance(`i${i + 1}`, storage, hub, leases, pins, i + 1, shared));
  return { storage, hub, leases, nodes };
}

/** A live session of three questions on `owner`, hosted by hostActor. */
async function liveSession(
  owner: Instance,
  settings = resolveSettings("live"),
): Promise<RoomHandle> {
  const created = await owner.directory.create({
    quiz: quizOf(threeQuestions()),
    settings,
    hostUserId: hostActor.userId,
    hostName: "Host",
  });
  return created.handle;
}

async function joinRoom(h: RoomHandle, name: string): Promise<Actor> {
  const actor = playerActor(name);
  const r = await h.execute(actor, { type: "join", name });
  if (!r.ok) throw new Error(`${name}: ${r.error.msg}`);
  const bound = { ...actor, participantId: (r.value as JoinResult).participantId };
  await h.execute(bound, { type: "presence", connected: true });
  return bound;
}

/** A started live game on `a` with one player. */
async function startedGame(a: Instance): Promise<RoomHandle> {
  const h = await liveSession(a);
  await joinRoom(h, "ann");
  expect((await h.execute(hostActor, { type: "start" })).ok).toBe(true);
  return h;
}

/**
 * While the end of `h` (owned by `a`) is not stored: `a` still holds its lease, and `b`, asked,
 * finds the session ended and owns nothing (a takeover would restore the open question from the
 * database and fence the end out).
 */
async function expectEndStillOwned(
  h: RoomHandle,
  a: Instance,
  b: Instance,
  leases: MemoryOwnershipLeases,
): Promise<void> {
  expect((await leases.holder(h.id))?.instanceId).toBe(a.id);
  const remote = (await b.directory.find(h.id))!;
  const seen = await remote.execute(hostActor, { type: "snapshot", role: "spectator" });
  expect((seen as { ok: true; value: Snapshot }).value.phase.kind).toBe("ended");
  expect(b.directory.status().owned).toBe(0);
}

function collect(h: RoomHandle) {
  const events: RoomEvent[] = [];
  let resyncs = 0;
  h.subscribe(
    (e) => events.push(e),
    () => {
      resyncs += 1;
    },
  );
  return {
    events,
    get resyncs() {
      return resyncs;
    },
    /** The first event matching `pred`, received before or after this call. */
    async waitFor(pred: (e: RoomEvent) => boolean, timeoutMs = 5_000): Promise<RoomEvent> {
      // The probe gives every event type seen so far, so a timeout shows what did arrive.
      await eventually(`an event matching ${pred}`, () => events.map((e) => e.body.type), {
        until: () => events.some(pred),
        timeoutMs,
      });
      return events.find(pred)!;
    },
  };
}

describe("cluster directory (in-process bus)", () => {
  it("a session created on one instance is found, commanded and watched from another", async () => {
    const { nodes } = await cluster(2);
    const [a, b] = nodes as [Instance, Instance];
    const onA = await liveSession(a);
    const remote = await b.directory.findByPin(onA.info.pin);
    expect(remote?.id).toBe(onA.id);
    const watchB = collect(remote!);
    const ann = await joinRoom(remote!, "ann"); // forwarded to a
    const bob = await joinRoom(onA, "bob"); // local on a
    expect((await remote!.execute(hostActor, { type: "start" })).ok).toBe(true);
    await watchB.waitFor((e) => e.body.type === "question");
    const ack = await remote!.execute(ann, {
      type: "answer",
      target: { index: 0 },
      answer: { kind: "choice", index: 0 },
    });
    expect((ack as { ok: true; value: AnswerAck }).value.correct).toBe(true);
    await onA.execute(bob, {
      type: "answer",
      target: { index: 0 },
      answer: { kind: "choice", index: 1 },
    });
    const reveal = await watchB.waitFor((e) => e.body.type === "reveal");
    if (reveal.body.type !== "reveal") throw new Error("unreachable");
    expect(reveal.body.leaderboard.map((s) => s.name)).toEqual(["ann", "bob"]);
    expect(reveal.body.results.get(ann.participantId!)?.rank).toBe(1);
    expect(a.directory.status().owned).toBe(1);
    expect(b.directory.status().owned).toBe(0);
  });

  it("commands forwarded in one turn go to the owner as one bus message, applied in order, each with its own reply (issue 10)", async () => {
    const { nodes } = await cluster(2);
    const [a, b] = nodes as [Instance, Instance];
    const onA = await liveSession(a);
    const remote = (await b.directory.find(onA.id))!;
    const watch = collect(remote);
    const players: Actor[] = [];
    for (let i = 0; i < 12; i++) players.push(await joinRoom(remote, `p${i}`));
    expect((await remote.execute(hostActor, { type: "start" })).ok).toBe(true);
    await watch.waitFor((e) => e.body.type === "question");

    const answer = (choice: number) =>
      ({
        type: "answer",
        target: { index: 0 },
        answer: { kind: "choice", index: choice },
      }) as const;
    const sentBefore = b.bus.sent;
    // One turn: every player answers (even ones right, odd ones wrong), p0 a second time
    // (refused: the first answer counts, A-1), and an answer to a question not open yet.
    const replies = await Promise.all([
      ...players.map((p, i) => remote.execute(p, answer(i % 2))),
      remote.execute(players[0]!, answer(1)),
      remote.execute(players[1]!, {
        type: "answer",
        target: { index: 2 },
        answer: { kind: "choice", index: 0 },
      }),
    ]);
    expect(b.bus.sent - sentBefore).toBe(1);
    const acks = replies.slice(0, players.length);
    acks.forEach((r, i) => {
      expect(r.ok, `p${i}`).toBe(true);
      expect((r as { ok: true; value: AnswerAck }).value.correct, `p${i}`).toBe(i % 2 === 0);
    });
    expect(replies[players.length]?.ok).toBe(false);
    expect(replies[players.length + 1]?.ok).toBe(false);
  });

  it("a lost event between instances is noticed by its sequence number and repaired by a resync", async () => {
    const { nodes } = await cluster(2);
    const [a, b] = nodes as [Instance, Instance];
    const onA = await liveSession(a);
    const remote = (await b.directory.find(onA.id))!;
    const watch = collect(remote);
    await joinRoom(onA, "ann");
    await watch.waitFor((e) => e.body.type === "presence");
    const before = watch.resyncs; // one when the bus subscription went live
    // Room events only: an owner's beacon in between must not use up the loss.
    b.bus.dropNextRoomEvents(1, onA.id, (text) => decodeBeacon(text) === null);
    await onA.execute(hostActor, { type: "lock", locked: true }); // this one is lost
    await onA.execute(hostActor, { type: "lock", locked: false });
    await watch.waitFor((e) => e.body.type === "locked" && !e.body.locked);
    expect(watch.resyncs).toBe(before + 1);
    expect(watch.events.filter((e) => e.body.type === "locked")).toHaveLength(1);
  });

  it("a beacon sent while a stored answer's events wait for their turn does not run ahead of them", async () => {
    const { nodes } = await cluster(2);
    const [a, b] = nodes as [Instance, Instance];
    const created = await a.directory.create({
      quiz: quizOf(threeQuestions()),
      settings: resolveSettings("live"),
      hostUserId: hostActor.userId,
      hostName: "Host",
    });
    const remote = (await b.directory.find(created.handle.id))!;
    const watch = collect(remote);
    const ann = await joinRoom(created.handle, "ann");
    await joinRoom(created.handle, "bob");
    await created.handle.execute(hostActor, { type: "start" });
    await watch.waitFor((e) => e.body.type === "question");
    const before = watch.resyncs;
    await created.handle.execute(ann, {
      type: "answer",
      target: { index: 0 },
      answer: { kind: "choice", index: 0 },
    });
    // The answer is stored and acknowledged; its `scored` event goes out on the next turn
    // (after the acknowledgement). The owner's lease renewal and beacon land in between.
    await (a.directory as unknown as { renew(): Promise<void> }).renew();
    await watch.waitFor((e) => e.body.type === "scored", 2_000);
    expect(watch.resyncs).toBe(before);
  });

  it("when the owner dies another instance takes the session over from storage and the game goes on", async () => {
    const { nodes } = await cluster(3);
    const [a, b, c] = nodes as [Instance, Instance, Instance];
    const onA = await liveSession(a, resolveSettings("live", { questionTimeMs: 60_000 }));
    const onB = (await b.directory.find(onA.id))!;
    const onC = (await c.directory.find(onA.id))!;
    const watchB = collect(onB);
    const watchC = collect(onC);
    const ann = await joinRoom(onB, "ann");
    const bob = await joinRoom(onC, "bob");
    await onB.execute(hostActor, { type: "start" });
    const first = await onB.execute(ann, {
      type: "answer",
      target: { index: 0 },
      answer: { kind: "choice", index: 0 },
    });
    expect(first.ok).toBe(true);

    const killedAt = Date.now();
    await a.kill();
    // The sweep of b or c notices the expired lease and takes over; both are told to resync.
    await eventually(
      "b or c to own the session",
      () => b.directory.status().owned + c.directory.status().owned,
      { until: (owners) => owners === 1, timeoutMs: 10_000 },
    );
    await eventually(
      "the watchers on b and c to be told to resync",
      () => ({ onB: watchB.resyncs, onC: watchC.resyncs }),
      { until: (r) => r.onB > 0 && r.onC > 0, timeoutMs: 10_000 },
    );
    const failoverMs = Date.now() - killedAt;
    expect(failoverMs).toBeLessThan(5_000);
    expect(b.directory.status().owned + c.directory.status().owned).toBe(1);

    const snap = await onC.execute(bob, { type: "snapshot", role: "player" });
    const s = (snap as { ok: true; value: Snapshot }).value;
    expect(s.epoch).toBe(2);
    expect(s.phase).toMatchObject({ kind: "question", index: 0 });
    expect(s.leaderboard[0]?.name).toBe("ann");
    // Bob answers on the new owner; the question closes (all connected answered) and is revealed.
    const second = await onC.execute(bob, {
      type: "answer",
      target: { index: 0 },
      answer: { kind: "choice", index: 0 },
    });
    expect(second.ok).toBe(true);
    await onC.execute(hostActor, { type: "next" });
    await watchB.waitFor((e) => e.body.type === "reveal" && e.epoch === 2);
  });

  it("an ended session's lease is let go once its end is stored: another instance finds it ended, not as it was before", async () => {
    const { nodes, leases } = await cluster(2);
    const [a, b] = nodes as [Instance, Instance];
    const onA = await startedGame(a);
    // A slow disk: the end's writes wait on a.
    const release = a.holdWrites();
    try {
      expect((await onA.execute(hostActor, { type: "end" })).ok).toBe(true);
      await expectEndStillOwned(onA, a, b, leases);
    } finally {
      release();
    }
    await eventually("the ended session's lease to be let go", () => leases.holder(onA.id), {
      until: (h) => h === null,
    });
    const stored = await a.directory.find(onA.id);
    const after = await stored!.execute(hostActor, { type: "snapshot", role: "spectator" });
    expect((after as { ok: true; value: Snapshot }).value.phase.kind).toBe("ended");
    expect(a.errors).toEqual([]);
  });

  it("an ended session whose end takes longer to store than a lease lives keeps its lease until it is stored", async () => {
    const fake = new FakeClock(Date.now());
    const { nodes, leases } = await cluster(2, fake);
    const [a, b] = nodes as [Instance, Instance];
    const onA = await startedGame(a);
    const pause = async (ms: number) => {
      fake.advance(ms);
      await new Promise((r) => setImmediate(r));
    };
    const release = a.holdWrites();
    try {
      expect((await onA.execute(hostActor, { type: "end" })).ok).toBe(true);
      // Ten lease lifetimes (400 ms each) of a disk that does not answer, in renewal-sized steps:
      // without renewals the lease would lapse and b, asked, would take the session over from
      // the database as it was before the end.
      for (let t = 0; t < 4_000; t += 100) await pause(100);
      await expectEndStillOwned(onA, a, b, leases);
    } finally {
      release();
    }
    await eventually("the ended session's lease to be let go", () => leases.holder(onA.id), {
      until: (h) => h === null,
      intervalMs: 100,
      pause,
    });
    // Let go for good: later renewals do not take it again.
    for (let t = 0; t < 1_000; t += 100) await pause(100);
    expect(await leases.holder(onA.id)).toBeNull();
    expect(a.errors).toEqual([]);
  });

  it("players held by an instance that dies are marked disconnected by the owner", async () => {
    const { nodes } = await cluster(2);
    const [a, b] = nodes as [Instance, Instance];
    const onA = await liveSession(a);
    const onB = (await b.directory.find(onA.id))!;
    await joinRoom(onB, "ann"); // joined and connected through b
    const roster = async () => {
      const r = await onA.execute(hostActor, { type: "snapshot", role: "host" });
      return (r as { ok: true; value: Snapshot }).value.players ?? [];
    };
    expect((await roster())[0]).toMatchObject({ name: "ann", connected: true });
    await b.kill();
    await eventually("ann to be marked disconnected", async () => (await roster())[0], {
      until: (ann) => ann?.connected === false,
      intervalMs: 20,
    });
  });

  it("leases are renewed and orphans swept on the injected clock: the owner keeps its session past the TTL; once it is killed another instance takes it over", async () => {
    const fake = new FakeClock(Date.now());
    const { nodes, leases } = await cluster(2, fake);
    const [a, b] = nodes as [Instance, Instance];
    const id = (await liveSession(a)).id;
    const watch = collect((await b.directory.find(id))!);
    const holder = async () => (await leases.holder(id))?.instanceId;
    /** Fake time passes; each step's lease, bus and storage work gets a real turn to finish. */
    const pause = async (ms: number) => {
      fake.advance(ms);
      await new Promise((r) => setImmediate(r));
    };

    // Ten lease lifetimes (400 ms each), in renewal-sized steps: only renewals on the fake
    // clock keep the lease alive.
    for (let t = 0; t < 4_000; t += 100) await pause(100);
    expect(await holder()).toBe("i1");
    expect(b.directory.status().owned).toBe(0);

    await a.kill();
    await eventually("i2 to take the session over", () => b.directory.status().owned, {
      until: (owned) => owned === 1,
      intervalMs: 100,
      pause,
    });
    expect(await holder()).toBe("i2");
    await eventually("a resync on i2's watcher", () => watch.resyncs > 0);
  });

  it("a renewal that comes after the lease expired takes the lease again when nobody else has (issue 10)", async () => {
    const fake = new FakeClock(Date.now());
    const redisTime = new FakeClock(fake.now());
    const { nodes, leases } = await cluster(2, fake, redisTime);
    const [a, b] = nodes as [Instance, Instance];
    const id = (await liveSession(a)).id;
    const messages = () => a.errors.map((e) => (e instanceof Error ? e.message : String(e)));

    // The owner falls behind (a stalled loop, a slow Redis): its next renewal (every 100 ms)
    // reaches Redis after a whole lease lifetime (400 ms) has passed there.
    redisTime.advance(1_000);
    fake.advance(100);
    await eventually("the late renewal", messages, {
      until: (m) => m.some((x) => x.includes("expired before its renewal and was taken again")),
    });
    expect((await leases.holder(id))?.instanceId).toBe("i1");
    expect(a.directory.status().owned).toBe(1);
    expect(messages().some((x) => x.includes("lost the lease"))).toBe(false);
    // Still the same room at the same epoch: a command from another instance reaches it.
    const ann = await joinRoom((await b.directory.find(id))!, "ann");
    expect(ann.participantId).toBeTruthy();
    expect(b.directory.status().owned).toBe(0);
  });

  it("a renewal that comes after another instance took the expired lease lets the session go", async () => {
    const fake = new FakeClock(Date.now());
    const redisTime = new FakeClock(fake.now());
    const { nodes, leases } = await cluster(1, fake, redisTime);
    const [a] = nodes as [Instance];
    const id = (await liveSession(a)).id;
    redisTime.advance(1_000);
    // Before the owner's late renewal, someone else took the expired lease.
    const taken = await leases.acquire(id, "elsewhere", 2, 60_000);
    expect(taken.ok).toBe(true);
    fake.advance(100);
    await eventually("the owner to let go", () => a.directory.status().owned, {
      until: (owned) => owned === 0,
    });
    expect(a.errors.map((e) => (e instanceof Error ? e.message : ""))).toContain(
      `lost the lease of session ${id}`,
    );
  });
});
