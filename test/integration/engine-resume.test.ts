import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import { MemoryPinDirectory } from "../../src/adapters/memory/memory-pin-directory.js";
import { openSqliteStorage } from "../../src/adapters/sqlite/sqlite-storage.js";
import { hashToken } from "../../src/auth/token-hash.js";
import { SeededRandom } from "../../src/domain/seeded-random.js";
import { resolveSettings } from "../../src/domain/session-settings.js";
import { GroupCommitter } from "../../src/engine/group-committer.js";
import { RoomRegistry } from "../../src/engine/room-registry.js";
import type { RoomRuntime } from "../../src/engine/room-runtime.js";
import type { Actor, AnswerAck, JoinResult, RoomEvent } from "../../src/engine/types.js";
import type { Storage } from "../../src/ports/storage.js";
import { buildResults } from "../../src/services/results.js";
import { hostActor, playerActor, quizOf, threeQuestions } from "../support/fixtures.js";

/**
 * The engine against a real SQLite file: a "crash" is simply abandoning the
 * first registry and storage and opening new ones on the same file, which is
 * what a SIGKILL'd process leaves behind (acknowledged writes are durable).
 */
let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

async function boot(dir: string, clock: FakeClock, seed: number, maxDurationMs?: number) {
  const storage = await openSqliteStorage({ path: join(dir, "quizwire.db") });
  const committer = new GroupCommitter(
    { write: (b) => storage.sessions.write(b), ping: () => storage.ping() },
    clock,
  );
  let n = 0;
  const registry = new RoomRegistry({
    storage,
    committer,
    clock,
    random: new SeededRandom(seed),
    pins: new MemoryPinDirectory(),
    hashToken,
    newSessionId: () => `0190f5a8-0000-7000-8000-${String(++n).padStart(12, "0")}`,
    onError: (err) => {
      throw err;
    },
    endedRetentionMs: 60_000,
    maxDurationMs: maxDurationMs ?? null,
  });
  return { storage, committer, registry };
}

/** A fresh SQLite file with a live three-question room on the first "process". */
async function firstBoot() {
  const dir = mkdtempSync(join(tmpdir(), "qw-resume-"));
  dirs.push(dir);
  const clock = new FakeClock(1_800_000_000_000);
  const first = await boot(dir, clock, 1);
  const { runtime } = await first.registry.create({
    quiz: quizOf(threeQuestions()),
    settings: resolveSettings("live", {}),
    hostUserId: hostActor.userId,
    hostName: "Host",
  });
  return { dir, clock, first, runtime };
}

async function joinRoom(runtime: RoomRuntime, name: string): Promise<Actor> {
  const actor = playerActor(name);
  const r = await runtime.execute(actor, { type: "join", name });
  if (!r.ok) throw new Error(r.error.msg);
  const bound = { ...actor, participantId: (r.value as JoinResult).participantId };
  await runtime.execute(bound, { type: "presence", connected: true });
  return bound;
}

async function answer(
  runtime: RoomRuntime,
  actor: Actor,
  index: number,
  choice: number,
): Promise<AnswerAck> {
  const r = await runtime.execute(actor, {
    type: "answer",
    target: { index },
    answer: { kind: "choice", index: choice },
  });
  if (!r.ok) throw new Error(r.error.msg);
  return r.value as AnswerAck;
}

async function closeAll(s: Storage) {
  await s.close();
}

describe("resume after a crash (S-6, T-6)", () => {
  it("rebuilds scores, streaks and the open question from storage; an expired deadline is revealed at once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qw-resume-"));
    dirs.push(dir);
    const clock = new FakeClock(1_800_000_000_000);
    const first = await boot(dir, clock, 1);
    const created = await first.registry.create({
      quiz: quizOf(threeQuestions()),
      settings: resolveSettings("live", {}),
      hostUserId: hostActor.userId,
      hostName: "Host",
    });
    const room = created.runtime;
    const ann = await joinRoom(room, "ann");
    const bob = await joinRoom(room, "bob");
    await joinRoom(room, "cyd");
    await room.execute(hostActor, { type: "start" });
    clock.advance(2_000);
    const a1 = await answer(room, ann, 0, 0);
    clock.advance(8_000);
    await answer(room, bob, 0, 1);
    await room.execute(hostActor, { type: "next" }); // reveal q1
    await room.execute(hostActor, { type: "next" }); // open q2
    clock.advance(1_000);
    const a2 = await answer(room, ann, 1, 1);
    expect(a2.streak).toBe(2);
    await first.committer.idle();
    // Crash: the first process is gone without a goodbye. Time moves on past q2's deadline.
    clock.advance(60_000);

    const second = await boot(dir, clock, 2);
    expect(await second.registry.resumeOpen()).toBe(1);
    const resumed = second.registry.get(room.id)!;
    const events: RoomEvent[] = [];
    resumed.subscribe((e) => events.push(e));
    const snap = await resumed.execute(ann, { type: "snapshot", role: "player" });
    if (!snap.ok) throw new Error("snapshot failed");
    const s = snap.value as {
      phase: { kind: string; index: number };
      you: { score: number; streak: number };
      epoch: number;
    };
    expect(s.phase).toMatchObject({ kind: "reveal", index: 1 });
    expect(s.you.score).toBe(a1.points + a2.points);
    expect(s.you.streak).toBe(2);
    expect(s.epoch).toBe(2);

    // The game carries on to the end on the new instance.
    await resumed.execute(hostActor, { type: "next" });
    const a3 = await answer(resumed, ann, 2, 2);
    expect(a3.streak).toBe(3);
    await resumed.execute(hostActor, { type: "end" });
    expect(events.some((e) => e.body.type === "ended")).toBe(true);
    await second.committer.idle();

    // S-6: final scores equal a replay of the stored answers.
    const bundle = await second.storage.sessions.load(room.id);
    const results = buildResults(bundle!);
    const annRow = results.players.find((p) => p.name === "ann")!;
    expect(annRow.score).toBe(a1.points + a2.points + a3.points);
    expect(annRow.rank).toBe(1);
    await closeAll(first.storage);
    await closeAll(second.storage);
  });

  it("T-6: a question whose deadline is still ahead stays open until that same deadline", async () => {
    const { dir, clock, first, runtime } = await firstBoot();
    await joinRoom(runtime, "ann");
    await runtime.execute(hostActor, { type: "start" });
    const openedAt = clock.now();
    await first.committer.idle();
    clock.advance(5_000);

    const second = await boot(dir, clock, 2);
    await second.registry.resumeOpen();
    const resumed = second.registry.get(runtime.id)!;
    const phase = resumed.read((room) => room.currentPhase);
    expect(phase).toMatchObject({ kind: "question", index: 0, deadline: openedAt + 20_000 });
    clock.advance(14_999);
    expect(resumed.read((room) => room.currentPhase.kind)).toBe("question");
    clock.advance(1);
    expect(resumed.read((room) => room.currentPhase.kind)).toBe("reveal");
    await second.registry.shutdown();
    await closeAll(first.storage);
    await closeAll(second.storage);
  });
  it("T-3: after a restore the all-answered close waits for players to come back", async () => {
    const { dir, clock, first, runtime } = await firstBoot();
    const ann = await joinRoom(runtime, "ann");
    const bob = await joinRoom(runtime, "bob");
    await runtime.execute(hostActor, { type: "start" });
    await answer(runtime, ann, 0, 0);
    await first.committer.idle();

    const second = await boot(dir, clock, 2);
    await second.registry.resumeOpen();
    const resumed = second.registry.get(runtime.id)!;
    // Ann is back first and has answered; Bob is still reconnecting. Without the grace the
    // question would close at once on "every connected player has answered".
    await resumed.execute(ann, { type: "presence", connected: true });
    expect(resumed.read((room) => room.currentPhase)).toMatchObject({
      kind: "question",
      closedAt: null,
    });
    clock.advance(1_000);
    await resumed.execute(bob, { type: "presence", connected: true });
    await answer(resumed, bob, 0, 1);
    expect(resumed.read((room) => room.currentPhase)).toMatchObject({
      kind: "question",
      closedAt: null,
    });
    clock.advance(4_000);
    await second.committer.idle();
    expect(resumed.read((room) => room.currentPhase.kind)).toBe("reveal");
    await second.registry.shutdown();
    await closeAll(first.storage);
    await closeAll(second.storage);
  });

  it("A-6: the host's `next` retried on the new owner gets its first reply instead of skipping a question", async () => {
    const { dir, clock, first, runtime } = await firstBoot();
    await joinRoom(runtime, "ann");
    await runtime.execute(hostActor, { type: "start" });
    await runtime.execute(hostActor, { type: "next" }); // reveal q1
    const sent = await runtime.execute(hostActor, { type: "next" }, { dedupeKey: "host:m7" });
    expect(sent.ok).toBe(true);
    expect(runtime.read((room) => room.currentPhase)).toMatchObject({ kind: "question", index: 1 });
    await first.committer.idle();
    // The owner dies before the host sees the reply; the host's client sends m7 again.

    const second = await boot(dir, clock, 2);
    await second.registry.resumeOpen();
    const resumed = second.registry.get(runtime.id)!;
    const retried = await resumed.execute(hostActor, { type: "next" }, { dedupeKey: "host:m7" });
    expect(retried).toStrictEqual(sent);
    expect(resumed.read((room) => room.currentPhase)).toMatchObject({ kind: "question", index: 1 });
    // A new message is a new command.
    await resumed.execute(hostActor, { type: "next" }, { dedupeKey: "host:m8" });
    expect(resumed.read((room) => room.currentPhase)).toMatchObject({ kind: "reveal", index: 1 });
    await second.registry.shutdown();
    await closeAll(first.storage);
    await closeAll(second.storage);
  });
});

describe("timers of a session's own start and end survive a restart (M-4, M-5)", () => {
  const HOUR = 3_600_000;

  it("M-4: a scheduled start passed while no process ran starts the session on resume; one still ahead starts at that time", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qw-resume-"));
    dirs.push(dir);
    const clock = new FakeClock(1_800_000_000_000);
    const first = await boot(dir, clock, 1);
    const startsAt = clock.now() + 10_000;
    const { runtime } = await first.registry.create({
      quiz: quizOf(threeQuestions()),
      settings: resolveSettings("self_paced", { startsAt }),
      hostUserId: hostActor.userId,
      hostName: "Host",
    });
    await joinRoom(runtime, "ann");
    await first.committer.idle();
    await first.registry.shutdown();

    // Restarted before the start: the session waits, then starts at that very time.
    clock.advance(4_000);
    const second = await boot(dir, clock, 2);
    await second.registry.resumeOpen();
    const resumed = second.registry.get(runtime.id)!;
    const events: RoomEvent[] = [];
    resumed.subscribe((e) => events.push(e));
    expect(resumed.read((room) => room.currentPhase.kind)).toBe("lobby");
    clock.advance(5_999);
    expect(resumed.read((room) => room.currentPhase.kind)).toBe("lobby");
    clock.advance(1);
    expect(resumed.read((room) => room.currentPhase.kind)).toBe("active");
    expect(events.filter((e) => e.body.type === "started")).toHaveLength(1);
    await second.registry.shutdown();
    await closeAll(first.storage);
    await closeAll(second.storage);
  });

  it("M-4: a start time that passed while the server was down starts the session as soon as it is resumed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qw-resume-"));
    dirs.push(dir);
    const clock = new FakeClock(1_800_000_000_000);
    const first = await boot(dir, clock, 1);
    const { runtime } = await first.registry.create({
      quiz: quizOf(threeQuestions()),
      settings: resolveSettings("self_paced", { startsAt: clock.now() + 10_000 }),
      hostUserId: hostActor.userId,
      hostName: "Host",
    });
    await first.committer.idle();
    await first.registry.shutdown();
    clock.advance(60_000);
    const second = await boot(dir, clock, 2);
    await second.registry.resumeOpen();
    const resumed = second.registry.get(runtime.id)!;
    clock.advance(0);
    expect(resumed.read((room) => room.currentPhase.kind)).toBe("active");
    await second.committer.idle();
    expect((await second.storage.sessions.load(runtime.id))?.session.state.startedAt).toBe(
      clock.now(),
    );
    await second.registry.shutdown();
    await closeAll(first.storage);
    await closeAll(second.storage);
  });

  it("M-5: a session ends itself (expired) at its maximum duration from its start, also after a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qw-resume-"));
    dirs.push(dir);
    const clock = new FakeClock(1_800_000_000_000);
    const first = await boot(dir, clock, 1, 2 * HOUR);
    const { runtime } = await first.registry.create({
      quiz: quizOf(threeQuestions()),
      settings: resolveSettings("self_paced", { startOnJoin: true }),
      hostUserId: hostActor.userId,
      hostName: "Host",
    });
    clock.advance(30 * 60_000); // half an hour in the lobby does not count
    await joinRoom(runtime, "ann"); // starts it (M-4)
    const startedAt = clock.now();
    expect(runtime.read((room) => room.currentPhase.kind)).toBe("active");
    await first.committer.idle();
    await first.registry.shutdown();

    clock.advance(HOUR);
    const second = await boot(dir, clock, 2, 2 * HOUR);
    await second.registry.resumeOpen();
    const resumed = second.registry.get(runtime.id)!;
    const events: RoomEvent[] = [];
    resumed.subscribe((e) => events.push(e));
    clock.advance(startedAt + 2 * HOUR - 1 - clock.now());
    expect(resumed.read((room) => room.currentPhase.kind)).toBe("active");
    clock.advance(1);
    expect(resumed.read((room) => room.currentPhase)).toMatchObject({
      kind: "ended",
      reason: "expired",
    });
    expect(events.at(-1)?.body.type).toBe("ended");
    await second.registry.shutdown();
    await closeAll(first.storage);
    await closeAll(second.storage);
  });

  it("M-5: a session nobody starts ends at the maximum duration after its creation", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qw-resume-"));
    dirs.push(dir);
    const clock = new FakeClock(1_800_000_000_000);
    const first = await boot(dir, clock, 1, HOUR);
    const { runtime } = await first.registry.create({
      quiz: quizOf(threeQuestions()),
      settings: resolveSettings("live", {}),
      hostUserId: hostActor.userId,
      hostName: "Host",
    });
    clock.advance(HOUR - 1);
    expect(runtime.read((room) => room.currentPhase.kind)).toBe("lobby");
    clock.advance(1);
    expect(runtime.read((room) => room.currentPhase)).toMatchObject({
      kind: "ended",
      reason: "expired",
    });
    await first.registry.shutdown();
    await closeAll(first.storage);
  });
});

describe("resume after a crash: the host's absence (H-1, H-3)", () => {
  it("H-1, H-3: a paused room comes back paused with its time left, and a handed-over host stays handed over", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qw-resume-"));
    dirs.push(dir);
    const clock = new FakeClock(1_800_000_000_000);
    const first = await boot(dir, clock, 1);
    const created = await first.registry.create({
      quiz: quizOf(threeQuestions()),
      settings: resolveSettings("live", { hostGraceMs: 0 }),
      hostUserId: hostActor.userId,
      hostName: "Host",
    });
    const room = created.runtime;
    const host: Actor = { ...hostActor, participantId: created.hostParticipantId! };
    await room.execute(host, { type: "presence", connected: true });
    const ann = await joinRoom(room, "ann");
    await joinRoom(room, "bob");
    await room.execute(host, { type: "start" });
    clock.advance(4_000); // 16 s left on question 1
    await room.execute(host, { type: "presence", connected: false });
    await first.committer.idle();
    // Crash, and a long outage: far past the question's original deadline.
    clock.advance(120_000);

    const second = await boot(dir, clock, 2);
    expect(await second.registry.resumeOpen()).toBe(1);
    const resumed = second.registry.get(room.id)!;
    const events: RoomEvent[] = [];
    resumed.subscribe((e) => events.push(e));
    clock.advance(30_000);
    const snap = await resumed.execute(ann, { type: "snapshot", role: "player" });
    if (!snap.ok) throw new Error("snapshot failed");
    expect(snap.value.phase).toMatchObject({
      kind: "question",
      index: 0,
      paused: "host_disconnected",
    });
    expect(events.some((e) => e.body.type === "question_closed")).toBe(false);

    await resumed.execute(host, { type: "presence", connected: true });
    const back = events.find((e) => e.body.type === "resumed")?.body;
    expect(back).toMatchObject({ phase: "question", deadline: clock.now() + 16_000 });

    // The host hands over to Ann, who is here (a new host who is not would be waited for, H-1);
    // a second crash keeps the new host.
    await resumed.execute(ann, { type: "presence", connected: true });
    const handed = await resumed.execute(host, { type: "transfer_host", userId: ann.userId });
    expect(handed.ok).toBe(true);
    await second.committer.idle();
    await second.registry.shutdown();
    const third = await boot(dir, clock, 3);
    await third.registry.resumeOpen();
    const again = third.registry.get(room.id)!;
    const refused = await again.execute(host, { type: "next" });
    expect(!refused.ok && refused.error.reason).toBe("not_host");
    const next = await again.execute(ann, { type: "next" });
    expect(next.ok, JSON.stringify(next)).toBe(true);
    await third.registry.shutdown();
    for (const s of [first, second, third]) await closeAll(s.storage);
  });
});
