/**
 * H-1…H-3: a host whose connection drops does not strand the room. The pure room on a hand-moved
 * clock: the grace period, the pause that keeps the time left, the hand-over to a cohost, the
 * game that goes on without its host, and the explicit hand-over.
 */
import { describe, expect, it } from "vitest";
import { hashToken } from "../../src/auth/token-hash.js";
import { asUserId } from "../../src/domain/ids.js";
import { SeededRandom } from "../../src/domain/seeded-random.js";
import type { SessionSettings } from "../../src/domain/session-settings.js";
import { Room } from "../../src/engine/room.js";
import type { Actor } from "../../src/engine/types.js";
import type {
  AnswerRecord,
  ParticipantRecord,
  SessionBundle,
  SessionRecord,
} from "../../src/ports/storage.js";
import { hostActor, sessionRecord, threeQuestions } from "../support/fixtures.js";
import { RoomHarness } from "../support/room-harness.js";

const T0 = 1_000_000;

/** A live room whose host has their own seat and is connected, as a canonical host is. */
function hosted(settings: Partial<Omit<SessionSettings, "mode">> = {}) {
  const h = new RoomHarness(sessionRecord("live", threeQuestions(), settings, T0));
  const seat = h.room.addHost(asUserId("host"), "Host", h.now);
  const host: Actor = { ...hostActor, participantId: seat.participantId };
  h.exec(host, { type: "presence", connected: true });
  return { h, host };
}

function errorOf(reply: unknown): { code: string; reason?: string } {
  const r = reply as { ok: boolean; error: { code: string; reason?: string } };
  if (r.ok) throw new Error("expected an error");
  return r.error;
}

function okOf(reply: unknown): unknown {
  const r = reply as { ok: boolean; value: unknown; error?: unknown };
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.error)}`);
  return r.value;
}

describe("H-1 pause (the default)", () => {
  it("H-1: the pause begins when the grace period ends, stops the question's clock, and resumes with the time left", () => {
    const { h, host } = hosted({ hostGraceMs: 2_000 });
    const ann = h.join("ann");
    h.start();
    const deadline = h.last("question").deadline!;
    h.advance(3_000); // 17 s left
    h.exec(host, { type: "presence", connected: false });
    h.advance(1_999);
    expect(h.bodies("paused")).toHaveLength(0);
    h.advance(1);
    const paused = h.last("paused");
    expect(paused).toMatchObject({ reason: "host_disconnected", phase: "question", index: 0 });
    const pausedAt = h.now;
    const left = deadline - pausedAt;

    // Long past the old deadline, the question is still open and refuses answers while paused.
    h.advance(60_000);
    expect(h.phase.kind).toBe("question");
    expect(h.bodies("question_closed")).toHaveLength(0);
    expect(errorOf(h.choose(ann, 0, 0))).toMatchObject({ code: "STATE", reason: "paused" });

    h.exec(host, { type: "presence", connected: true });
    const resumed = h.last("resumed");
    expect(resumed.phase).toBe("question");
    expect(resumed.deadline).toBe(h.now + left);
    // The answer time that scores leaves the pause out (S-5).
    const ack = okOf(h.choose(ann, 0, 0)) as { elapsedMs: number };
    expect(ack.elapsedMs).toBe(5_000);
    h.advance(left);
    expect(h.phase.kind).toBe("reveal");
  });

  it("H-1: a host back within the grace period pauses nothing", () => {
    const { h, host } = hosted({ hostGraceMs: 2_000 });
    h.join("ann");
    h.start();
    h.exec(host, { type: "presence", connected: false });
    h.advance(1_500);
    h.exec(host, { type: "presence", connected: true });
    h.advance(10_000);
    expect(h.bodies("paused")).toHaveLength(0);
    expect(h.bodies("resumed")).toHaveLength(0);
  });

  it("H-1: an auto-advancing reveal keeps its time left too", () => {
    const { h, host } = hosted({ hostGraceMs: 0, autoAdvance: true, revealMs: 4_000 });
    h.join("ann");
    h.start();
    h.advance(20_000);
    expect(h.phase.kind).toBe("reveal");
    h.advance(1_000);
    h.exec(host, { type: "presence", connected: false });
    expect(h.last("paused").phase).toBe("reveal");
    h.advance(30_000);
    expect(h.phase.kind).toBe("reveal");
    h.exec(host, { type: "presence", connected: true });
    expect(h.last("resumed")).toMatchObject({ phase: "reveal", until: h.now + 3_000 });
    h.advance(3_000);
    expect(h.phase.kind).toBe("question");
  });

  it("H-1: a paused room is stored paused and a restored one stays paused until the host is back", () => {
    const { h, host } = hosted({ hostGraceMs: 0 });
    h.join("ann");
    h.start();
    const deadline = h.last("question").deadline!;
    h.advance(5_000);
    h.exec(host, { type: "presence", connected: false });
    const left = deadline - h.now;

    const restored = Room.restore(
      bundleOf(h),
      { random: new SeededRandom(2), hashToken },
      h.now + 600_000,
    );
    expect(restored.currentPhase).toMatchObject({ kind: "question", paused: { at: h.now } });
    const later = h.now + 600_000;
    restored.tick(later + 1);
    expect(restored.currentPhase.kind).toBe("question");
    restored.execute(host, { type: "presence", connected: true }, later + 10);
    const resumed = restored.drain().events.find((e) => e.body.type === "resumed");
    expect(resumed?.body).toMatchObject({ deadline: later + 10 + left });
  });
});

describe("H-2 transfer to a cohost", () => {
  it("H-2: host rights pass to the first connected cohost, announced with host_changed; the old host is refused", () => {
    const { h, host } = hosted({
      hostDisconnect: "transfer",
      hostGraceMs: 1_000,
      cohosts: ["user-zed", "user-cat"],
    });
    const ann = h.join("ann");
    const cat = h.join("cat");
    h.start();
    h.exec(host, { type: "presence", connected: false });
    h.advance(1_000);
    const changed = h.last("host_changed");
    expect(changed).toMatchObject({
      userId: "user-cat",
      participantId: cat.participantId,
      previousUserId: "host",
      reason: "host_disconnected",
    });
    expect(h.bodies("paused")).toHaveLength(0);
    // The new host is not a player any more (L-3); the old host may not pace the game.
    expect(h.room.players).toBe(1);
    expect(errorOf(h.exec(hostActor, { type: "next" }))).toMatchObject({
      code: "FORBIDDEN",
      reason: "not_host",
    });
    expect(okOf(h.exec(cat, { type: "next" }))).toMatchObject({ phase: "reveal" });
    expect(h.last("reveal").results.has(cat.participantId!)).toBe(false);
    expect(h.last("reveal").results.has(ann.participantId!)).toBe(true);
  });

  it("H-2: with no cohost connected the room pauses, and the first cohost to connect takes over and resumes it", () => {
    const { h, host } = hosted({
      hostDisconnect: "transfer",
      hostGraceMs: 0,
      cohosts: ["user-cat"],
    });
    const ann = h.join("ann");
    const cat = h.join("cat", false);
    h.start();
    h.exec(host, { type: "presence", connected: false });
    expect(h.last("paused").reason).toBe("host_disconnected");
    h.advance(5_000);
    h.exec(cat, { type: "presence", connected: true });
    expect(h.last("host_changed").userId).toBe("user-cat");
    expect(h.last("resumed").phase).toBe("question");
    // Ann is the one player left connected: her answer closes the question (T-3).
    okOf(h.choose(ann, 0, 0));
    expect(h.last("question_closed").reason).toBe("all_answered");
  });
});

describe("H-1 continue", () => {
  it("H-1: without its host the game advances by itself to the end", () => {
    const { h, host } = hosted({ hostDisconnect: "continue", hostGraceMs: 500, revealMs: 3_000 });
    h.join("ann");
    h.start();
    h.advance(20_000);
    expect(h.phase).toMatchObject({ kind: "reveal", until: null });
    h.exec(host, { type: "presence", connected: false });
    h.advance(500);
    expect(h.phase).toMatchObject({ kind: "reveal", until: h.now + 3_000 });
    h.advance(3_000 + 20_000 + 3_000 + 20_000 + 3_000);
    expect(h.phase.kind).toBe("ended");
    expect(h.last("ended").reason).toBe("finished");
    expect(h.bodies("paused")).toHaveLength(0);
  });

  it("H-1: once the host is back, reveals wait for the host's next again", () => {
    const { h, host } = hosted({ hostDisconnect: "continue", hostGraceMs: 0, revealMs: 3_000 });
    h.join("ann");
    h.start();
    h.exec(host, { type: "presence", connected: false });
    h.advance(20_000);
    expect(h.phase).toMatchObject({ kind: "reveal", until: h.now + 3_000 });
    h.exec(host, { type: "presence", connected: true });
    h.advance(3_000 + 20_000);
    expect(h.phase).toMatchObject({ kind: "reveal", index: 1, until: null });
  });
});

describe("H-3 transfer_host", () => {
  it("H-3: the host hands over at any time; the old host's host commands are refused FORBIDDEN", () => {
    const { h } = hosted();
    const ann = h.join("ann");
    const ben = h.join("ben");
    expect(okOf(h.exec(hostActor, { type: "transfer_host", userId: ann.userId }))).toMatchObject({
      done: true,
    });
    expect(h.last("host_changed")).toMatchObject({
      userId: ann.userId,
      participantId: ann.participantId,
      reason: "transferred",
    });
    expect(errorOf(h.exec(hostActor, { type: "start" }))).toMatchObject({
      code: "FORBIDDEN",
      reason: "not_host",
    });
    expect(okOf(h.exec(ann, { type: "start" }))).toMatchObject({ phase: "question" });
    expect(h.room.players).toBe(1);
    // ann is a host seat now: she does not answer.
    expect(errorOf(h.choose(ann, 0, 0))).toMatchObject({ code: "STATE", reason: "not_joined" });
    expect(okOf(h.choose(ben, 0, 0))).toMatchObject({ correct: true });
  });

  it("H-3: refusals: not the host, no such member, already the host", () => {
    const { h } = hosted();
    const ann = h.join("ann");
    expect(errorOf(h.exec(ann, { type: "transfer_host", userId: ann.userId }))).toMatchObject({
      code: "FORBIDDEN",
      reason: "not_host",
    });
    expect(
      errorOf(h.exec(hostActor, { type: "transfer_host", userId: asUserId("nobody") })),
    ).toMatchObject({ code: "NOT_FOUND", reason: "no_member" });
    expect(
      errorOf(h.exec(hostActor, { type: "transfer_host", userId: asUserId("host") })),
    ).toMatchObject({ code: "STATE", reason: "already_host" });
    expect(h.bodies("host_changed")).toHaveLength(0);
  });

  it("H-3: the hand-over is stored: a restored room has the new host", () => {
    const { h } = hosted();
    const ann = h.join("ann");
    h.exec(hostActor, { type: "transfer_host", userId: ann.userId });
    const restored = Room.restore(bundleOf(h), { random: new SeededRandom(3), hashToken }, h.now);
    expect(restored.currentHostUserId).toBe(ann.userId);
    const start = restored.execute(hostActor, { type: "start" }, h.now);
    expect(start.kind === "reply" && !start.reply.ok && start.reply.error.reason).toBe("not_host");
  });
});

/** The session as storage would hold it after the harness's writes (last write wins per row). */
function bundleOf(h: RoomHarness): SessionBundle {
  let session: SessionRecord | undefined;
  const participants = new Map<string, ParticipantRecord>();
  const answers = new Map<string, AnswerRecord>();
  for (const w of h.writes) {
    if (w.kind === "session_created") session = w.session;
    else if (w.kind === "session_state" && session) session = { ...session, state: w.state };
    else if (w.kind === "participant_put") participants.set(w.participant.id, w.participant);
    else if (w.kind === "answer_put")
      answers.set(`${w.answer.participantId}/${w.answer.questionIndex}`, w.answer);
  }
  if (!session) throw new Error("no session_created write");
  return {
    session: { ...session, hostUserId: session.state.hostUserId ?? session.hostUserId },
    participants: [...participants.values()],
    answers: [...answers.values()].sort((a, b) => a.seq - b.seq),
    served: [],
    bans: [],
    standings: [],
  };
}
