import { describe, expect, it } from "vitest";
import { PLAYER_COUNT_MAX_MS, playerCountEveryMs } from "../../src/engine/room.js";
import type { AnswerAck, JoinResult, NextResult, Snapshot } from "../../src/engine/types.js";
import {
  choiceQuestion,
  hostActor,
  playerActor,
  sessionRecord,
  threeQuestions,
  typedQuestion,
} from "../support/fixtures.js";
import { RoomHarness } from "../support/room-harness.js";

function live(settings = {}) {
  return new RoomHarness(sessionRecord("live", threeQuestions(), settings, 1_000_000));
}

function ack(reply: unknown): AnswerAck {
  const r = reply as { ok: boolean; value: AnswerAck };
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(reply)}`);
  return r.value;
}

function errorOf(reply: unknown): { code: string; reason?: string } {
  const r = reply as { ok: boolean; error: { code: string; reason?: string } };
  if (r.ok) throw new Error("expected an error");
  return r.error;
}

describe("live mode (M-1)", () => {
  it("T-1: start opens question 0 with an absolute server deadline and no answer in the event", () => {
    const h = live();
    h.join("ann");
    h.start();
    const q = h.last("question");
    expect(q.index).toBe(0);
    expect(q.openedAt).toBe(h.now);
    expect(q.deadline).toBe(h.now + 20_000);
    expect(JSON.stringify(q)).not.toMatch(/correct|accepted/);
  });

  it("T-1: the session's question_time_ms replaces each question's own limit", () => {
    const h = live({ questionTimeMs: 500 });
    h.start();
    expect(h.last("question").deadline).toBe(h.now + 500);
  });

  it("T-3: a question closes at its deadline and is revealed", () => {
    const h = live();
    const ann = h.join("ann");
    h.start();
    h.advance(19_999);
    expect(h.phase.kind).toBe("question");
    h.advance(1);
    expect(h.last("question_closed").reason).toBe("deadline");
    expect(h.phase.kind).toBe("reveal");
    const reveal = h.last("reveal");
    expect(reveal.results.get(ann.participantId!)?.answered).toBe(false);
  });

  it("T-8: the end is the room's last event: an answer stored after it, a leave and a closing connection emit nothing", () => {
    const h = live();
    const ann = h.join("ann");
    const bob = h.join("bob");
    h.start();
    h.storeMode = "hold";
    h.choose(ann, 0, 0);
    h.storeMode = "ok";
    expect(h.exec(hostActor, { type: "end" })?.ok).toBe(true);
    const ended = h.events.length;
    expect(h.events.at(-1)?.body.type).toBe("ended");
    // Applied before the end, stored after it: acknowledged, and counted in the final standings.
    const [stored] = h.releaseHeld();
    expect(ack(stored).points).toBeGreaterThan(0);
    expect(h.last("ended").results.get(ann.participantId!)?.score).toBe(ack(stored).score);
    const written = h.writes.length;
    expect(h.exec(bob, { type: "leave" })?.ok).toBe(true);
    // Not even storage: a user erased after the end is not written back by a late leave.
    expect(h.writes.length).toBe(written);
    h.exec(ann, { type: "presence", connected: false });
    h.advance(60_000);
    expect(h.events.length).toBe(ended);
  });

  it("T-2: an answer after the deadline is rejected with STATE and scores nothing", () => {
    const h = live();
    const ann = h.join("ann");
    h.start();
    h.now += 20_001; // the deadline passed but the timer has not fired yet
    const e = errorOf(h.choose(ann, 0, 0));
    expect(e.code).toBe("STATE");
    expect(e.reason).toBe("too_late");
    h.advance(0);
    expect(h.last("reveal").results.get(ann.participantId!)?.points).toBe(0);
  });

  it("T-3: closes as soon as every connected player has answered; a disconnected player does not hold it", () => {
    const h = live();
    const ann = h.join("ann");
    const bob = h.join("bob");
    h.join("cyd", false);
    h.start();
    h.choose(ann, 0, 0);
    expect(h.phase.kind).toBe("question");
    h.choose(bob, 0, 1);
    expect(h.last("question_closed").reason).toBe("all_answered");
    expect(h.phase.kind).toBe("reveal");
  });

  it("T-3: a player disconnecting can complete the all-answered condition", () => {
    const h = live();
    const ann = h.join("ann");
    const bob = h.join("bob");
    h.start();
    h.choose(ann, 0, 0);
    h.exec(bob, { type: "presence", connected: false });
    expect(h.phase.kind).toBe("reveal");
  });

  it("T-3: the host's next closes the open question early", () => {
    const h = live();
    h.join("ann");
    h.start();
    h.exec(hostActor, { type: "next" });
    expect(h.last("question_closed").reason).toBe("host");
    expect(h.phase.kind).toBe("reveal");
  });

  it("A-2: an answer to a question that is not open is rejected with STATE", () => {
    const h = live();
    const ann = h.join("ann");
    expect(errorOf(h.choose(ann, 0, 0)).code).toBe("STATE");
    h.start();
    expect(errorOf(h.choose(ann, 1, 0)).code).toBe("STATE");
  });

  it("A-1: the first answer wins; a second one is refused", () => {
    const h = live();
    const ann = h.join("ann");
    h.join("bob");
    h.start();
    expect(ack(h.choose(ann, 0, 0)).correct).toBe(true);
    const e = errorOf(h.choose(ann, 0, 1));
    expect(e.reason).toBe("already_answered");
  });

  it("A-6: a retry of the message that stored an answer gets its acknowledgement, even after the close", () => {
    const h = live();
    const ann = h.join("ann");
    h.join("bob");
    h.start();
    h.now += 3_000;
    const send = (choice: number, requestKey?: string) =>
      h.exec(
        ann,
        { type: "answer", target: { index: 0 }, answer: { kind: "choice", index: choice } },
        requestKey,
      );
    const first = ack(send(0, "ann:m1"));
    h.now += 1_000;
    expect(ack(send(0, "ann:m1"))).toEqual(first);
    h.exec(hostActor, { type: "next" }); // closed and revealed
    expect(ack(send(0, "ann:m1"))).toEqual(first);
    // Another message is not a retry, even with the same answer: first answer wins.
    expect(errorOf(send(0, "ann:m2")).code).toBe("STATE");
    expect(errorOf(send(0)).code).toBe("STATE");
    const puts = h.writes.filter((w) => w.kind === "answer_put");
    expect(puts).toHaveLength(1);
    expect(puts[0]?.kind === "answer_put" && puts[0].answer.requestKey).toBe("ann:m1");
  });

  it("A-6: a host command retried under the same key replays its reply; the key is stored with the state", () => {
    const h = live();
    h.join("ann");
    h.start();
    const first = h.exec(hostActor, { type: "next" }, "host:m1"); // closes and reveals q1
    expect(first?.ok).toBe(true);
    expect(h.exec(hostActor, { type: "next" }, "host:m1")).toStrictEqual(first);
    expect(h.room.currentPhase).toMatchObject({ kind: "reveal", index: 0 });
    const states = h.writes.filter((w) => w.kind === "session_state");
    const last = states.at(-1);
    expect(last?.kind === "session_state" && last.state.recentRequests).toEqual([
      { key: "host:m1", reply: JSON.stringify(first) },
    ]);
    // A refused command is not remembered: its retry runs again.
    const refused = h.exec(playerActor("zed"), { type: "next" }, "zed:m1");
    expect(refused?.ok).toBe(false);
    expect(last?.kind === "session_state" && last.state.recentRequests).toHaveLength(1);
    h.exec(hostActor, { type: "next" }, "host:m2");
    expect(h.room.currentPhase).toMatchObject({ kind: "question", index: 1 });
  });

  it("A-1: with allow_answer_change the last answer counts, scored at its own time", () => {
    const h = live({ allowAnswerChange: true });
    const ann = h.join("ann");
    h.join("bob");
    h.start();
    expect(ack(h.choose(ann, 0, 1)).points).toBe(0);
    h.now += 10_000;
    const second = ack(h.choose(ann, 0, 0));
    expect(second.changed).toBe(true);
    expect(second.points).toBe(750);
    expect(second.score).toBe(750);
    h.advance(10_000);
    const reveal = h.last("reveal");
    expect(reveal.optionCounts).toEqual([1, 0, 0, 0]);
    expect(reveal.answeredCount).toBe(1);
  });

  it("S-1, S-2: points fall with time; the streak bonus grows and a miss resets it", () => {
    const h = live({ autoAdvance: true, revealMs: 1000 });
    const ann = h.join("ann");
    h.start();
    const a1 = ack(h.choose(ann, 0, 0));
    expect(a1.points).toBe(1000);
    expect(a1.streak).toBe(1);
    h.advance(1000);
    h.now += 10_000;
    const a2 = ack(h.choose(ann, 1, 1));
    expect(a2.points).toBe(750 + 100);
    expect(a2.streak).toBe(2);
    h.advance(1000);
    // Question 3 is missed: the streak resets at its reveal.
    h.advance(20_000);
    expect(h.last("reveal").results.get(ann.participantId!)?.streak).toBe(0);
  });

  it("reveal carries the correct choice, counts per option, each player's result and the leaderboard", () => {
    const h = live();
    const ann = h.join("ann");
    const bob = h.join("bob");
    const cyd = h.join("cyd");
    h.start();
    h.choose(ann, 0, 0);
    h.now += 4_000;
    h.choose(bob, 0, 0);
    h.choose(cyd, 0, 3);
    const r = h.last("reveal");
    expect(r.correct.indices).toEqual([0]);
    expect(r.optionCounts).toEqual([2, 0, 0, 1]);
    expect(r.answeredCount).toBe(3);
    expect(r.leaderboard.map((s) => s.name)).toEqual(["ann", "bob", "cyd"]);
    expect(r.results.get(cyd.participantId!)).toMatchObject({
      answered: true,
      correct: false,
      rank: 3,
    });
    expect(r.results.get(ann.participantId!)).toMatchObject({
      correct: true,
      points: 1000,
      rank: 1,
    });
  });

  it("reveal lists every player's result in rank order, whatever the order they joined in", () => {
    const h = live();
    const ann = h.join("ann");
    const bob = h.join("bob");
    const cyd = h.join("cyd");
    h.start();
    h.choose(cyd, 0, 0);
    h.now += 4_000;
    h.choose(bob, 0, 0);
    h.choose(ann, 0, 3);
    const r = h.last("reveal");
    expect([...r.results.keys()]).toEqual([
      cyd.participantId,
      bob.participantId,
      ann.participantId,
    ]);
    expect([...r.results.values()].map((x) => x.rank)).toEqual([1, 2, 3]);
  });

  it("L-2: equal scores rank by who reached the score first; zero scores by join order", () => {
    const h = live({ scoring: { policy: "vocab" } });
    const ann = h.join("ann");
    const bob = h.join("bob");
    h.join("cyd");
    h.start();
    h.choose(bob, 0, 0);
    h.choose(ann, 0, 0);
    h.exec(hostActor, { type: "next" });
    const names = h.last("reveal").leaderboard.map((s) => s.name);
    expect(names).toEqual(["bob", "ann", "cyd"]);
  });

  it("M-1: intermission between questions ends by timer or by the host", () => {
    const h = live({ intermissionMs: 3_000 });
    h.join("ann");
    h.start();
    h.exec(hostActor, { type: "next" });
    expect(h.phase.kind).toBe("reveal");
    h.advance(60_000);
    expect(h.phase.kind).toBe("reveal"); // host-paced: reveal waits for the host
    h.exec(hostActor, { type: "next" });
    expect(h.phase.kind).toBe("intermission");
    h.advance(3_000);
    expect(h.phase).toMatchObject({ kind: "question", index: 1 });
    h.exec(hostActor, { type: "next" });
    h.exec(hostActor, { type: "next" });
    expect(h.phase.kind).toBe("intermission");
    h.exec(hostActor, { type: "next" });
    expect(h.phase).toMatchObject({ kind: "question", index: 2 });
  });

  it("M-1: after the last reveal the game ends with final standings stored", () => {
    const h = live({ autoAdvance: true, revealMs: 500 });
    const ann = h.join("ann");
    h.start();
    h.choose(ann, 0, 0);
    h.advance(500);
    h.advance(20_000);
    h.advance(500);
    h.advance(20_000);
    h.advance(500);
    expect(h.phase.kind).toBe("ended");
    const ended = h.last("ended");
    expect(ended.reason).toBe("finished");
    expect(ended.results.get(ann.participantId!)).toEqual({ score: 1000, rank: 1, total: 1 });
    const standings = h.writes.filter((w) => w.kind === "standings_put");
    expect(standings).toHaveLength(1);
  });

  it("the host can end early; later commands get STATE", () => {
    const h = live();
    const ann = h.join("ann");
    h.start();
    h.exec(hostActor, { type: "end" });
    expect(h.last("ended").reason).toBe("host_ended");
    expect(errorOf(h.choose(ann, 0, 0)).code).toBe("STATE");
    expect(errorOf(h.exec(playerActor("zed"), { type: "join", name: "zed" })).reason).toBe(
      "room_ended",
    );
  });

  it("T-5: the reveal waits for answers still being stored, and includes them", () => {
    const h = live();
    const ann = h.join("ann");
    const bob = h.join("bob");
    h.start();
    h.choose(bob, 0, 1);
    h.storeMode = "hold";
    expect(h.choose(ann, 0, 0)).toBeUndefined();
    // T-3: everyone has answered but Ann's answer is not stored yet, so nothing has closed.
    expect(h.bodies("question_closed")).toHaveLength(0);
    // The deadline closes it; the reveal still waits for the answer being stored.
    h.advance(20_000);
    expect(h.last("question_closed").reason).toBe("deadline");
    expect(h.phase.kind).toBe("question");
    const [reply] = h.releaseHeld();
    expect(ack(reply).points).toBe(1000);
    expect(h.phase.kind).toBe("reveal");
    expect(h.last("reveal").results.get(ann.participantId!)?.points).toBe(1000);
  });

  it("T-3, A-5: the last answer closes the question only once stored; refused, it closes nothing", () => {
    const h = live();
    const ann = h.join("ann");
    h.start();
    h.storeMode = "hold";
    h.choose(ann, 0, 0);
    expect(h.phase).toMatchObject({ kind: "question", closedAt: null });
    const [refused] = h.failHeld();
    expect(errorOf(refused).code).toBe("UNAVAILABLE");
    expect(h.phase).toMatchObject({ kind: "question", closedAt: null });
    h.storeMode = "ok";
    expect(ack(h.choose(ann, 0, 0)).points).toBe(1000);
    expect(h.last("question_closed").reason).toBe("all_answered");
    expect(h.phase.kind).toBe("reveal");
  });

  it("A-5: when storing fails the answer is refused as retryable and undone", () => {
    const h = live();
    const ann = h.join("ann");
    h.join("bob");
    h.start();
    h.storeMode = "hold";
    h.choose(ann, 0, 0);
    const [reply] = h.failHeld();
    expect(errorOf(reply).code).toBe("UNAVAILABLE");
    h.storeMode = "ok";
    const retry = ack(h.choose(ann, 0, 0));
    expect(retry.score).toBe(1000);
    h.exec(hostActor, { type: "next" });
    expect(h.last("reveal").optionCounts).toEqual([1, 0, 0, 0]);
  });
});

describe("quick_fire mode (M-2)", () => {
  it("T-4: the first correct answer closes the question for everyone; later answers get STATE", () => {
    const h = new RoomHarness(sessionRecord("quick_fire", threeQuestions(), {}, 5_000));
    const ann = h.join("ann");
    const bob = h.join("bob");
    const cyd = h.join("cyd");
    h.start();
    expect(h.last("question").deadline).toBe(h.now + 15_000);
    expect(ack(h.choose(ann, 0, 2)).correct).toBe(false);
    expect(h.phase.kind).toBe("question");
    expect(ack(h.choose(bob, 0, 0)).correct).toBe(true);
    expect(h.last("question_closed").reason).toBe("first_correct");
    expect(errorOf(h.choose(cyd, 0, 0)).code).toBe("STATE");
    expect(h.phase.kind).toBe("reveal");
    h.advance(2_000);
    expect(h.phase).toMatchObject({ kind: "question", index: 1 });
  });

  it("M-2: when nobody is right the 15 s timer moves on; the room holds 6 players", () => {
    const h = new RoomHarness(sessionRecord("quick_fire", threeQuestions(), {}, 5_000));
    for (const n of ["a1", "a2", "a3", "a4", "a5", "a6"]) h.join(n);
    expect(errorOf(h.exec(playerActor("a7"), { type: "join", name: "a7" })).reason).toBe(
      "room_full",
    );
    h.start();
    h.advance(15_000);
    expect(h.phase.kind).toBe("reveal");
    h.advance(2_000);
    expect(h.phase).toMatchObject({ kind: "question", index: 1 });
  });
});

describe("self_paced mode (M-3)", () => {
  const questions = () => [
    typedQuestion("w1", ["ephemeral"], { timeLimitMs: 30_000 }),
    typedQuestion("w2", ["ubiquitous"], { timeLimitMs: 30_000 }),
    choiceQuestion("w3", { timeLimitMs: 30_000 }),
  ];

  it("serves each participant their own question with their own clock (S-5, S-4)", () => {
    const h = new RoomHarness(sessionRecord("self_paced", questions(), {}, 0));
    const ann = h.join("ann");
    h.start();
    const served = h.events.filter((e) => e.body.type === "question");
    expect(served).toHaveLength(1);
    expect(served[0]!.audience).toEqual({ kind: "participant", participantId: ann.participantId });
    h.now += 3_000;
    const bob = h.join("bob");
    h.now += 2_500;
    const a = ack(h.answer(bob, 0, { kind: "text", text: "  Ephémeral " }));
    expect(a.correct).toBe(true);
    expect(a.elapsedMs).toBe(2_500);
    expect(a.points).toBe(10 + 4);
    expect(a.correctAnswer?.texts).toEqual(["ephemeral"]);
    const next = h.exec(bob, { type: "next" }) as { ok: true; value: NextResult };
    expect(next.value.served?.index).toBe(1);
  });

  it("T-7: serving the same question again does not restart its timer; past its deadline it is too late", () => {
    const h = new RoomHarness(sessionRecord("self_paced", questions(), {}, 0));
    const ann = h.join("ann");
    h.start();
    h.now += 20_000;
    const again = h.exec(ann, { type: "next" }) as { ok: true; value: NextResult };
    expect(again.value.served?.index).toBe(0);
    expect(again.value.served?.servedAt).toBe(0);
    h.now += 10_001;
    expect(errorOf(h.answer(ann, 0, { kind: "text", text: "ephemeral" })).reason).toBe("too_late");
    const moved = h.exec(ann, { type: "next" }) as { ok: true; value: NextResult };
    expect(moved.value.served?.index).toBe(1);
  });

  it("S-5: a question never served is timed from the participant's last step", () => {
    const h = new RoomHarness(sessionRecord("self_paced", questions(), {}, 0));
    h.start();
    h.now = 10_000;
    const bob = h.join("bob", false);
    h.now = 14_000;
    const a = ack(
      h.exec(bob, {
        type: "answer",
        target: { questionId: "w2" },
        answer: { kind: "text", text: "Ubiquitous!" },
      }),
    );
    expect(a.elapsedMs).toBe(4_000);
    expect(a.points).toBe(10 + 3);
    h.now = 15_000;
    const b = ack(
      h.exec(bob, {
        type: "answer",
        target: { questionId: "w3" },
        answer: { kind: "text", text: "a" },
      }),
    );
    expect(b.elapsedMs).toBe(1_000);
    expect(b.correct).toBe(true);
  });

  it("answers count only while active; the leaderboard is pushed at most every 100 ms", () => {
    const h = new RoomHarness(sessionRecord("self_paced", questions(), {}, 0));
    const ann = h.join("ann");
    expect(errorOf(h.answer(ann, 0, { kind: "text", text: "ephemeral" })).reason).toBe(
      "not_started",
    );
    h.start();
    h.answer(ann, 0, { kind: "text", text: "ephemeral" });
    expect(h.bodies("leaderboard")).toHaveLength(0);
    h.advance(100);
    expect(h.bodies("leaderboard")).toHaveLength(1);
    expect(h.last("leaderboard").leaderboard[0]?.score).toBe(15);
  });

  it("completes at closes_at", () => {
    const h = new RoomHarness(sessionRecord("self_paced", questions(), { closesAt: 60_000 }, 0));
    h.join("ann");
    h.start();
    h.advance(60_000);
    expect(h.last("ended").reason).toBe("expired");
  });
});

describe("membership and permissions", () => {
  it("R-1: only the host may start, advance, kick, lock or end", () => {
    const h = live();
    const ann = h.join("ann");
    for (const type of ["start", "next", "end"] as const) {
      expect(errorOf(h.exec(ann, { type })).code).toBe("FORBIDDEN");
    }
    expect(errorOf(h.exec(ann, { type: "lock", locked: true })).code).toBe("FORBIDDEN");
    expect(
      errorOf(h.exec(ann, { type: "kick", participantId: ann.participantId!, reason: "x" })).code,
    ).toBe("FORBIDDEN");
    const admin = { ...playerActor("root"), roles: ["admin"] };
    expect(h.exec(admin, { type: "start" })?.ok).toBe(true);
  });

  it("R-3: a kicked player is told why, removed from the board and banned until ban_ms passes", () => {
    const h = live({ banMs: 60_000 });
    const ann = h.join("ann");
    h.join("bob");
    h.exec(hostActor, { type: "kick", participantId: ann.participantId!, reason: "rude name" });
    const kicked = h.events.find((e) => e.body.type === "kicked");
    expect(kicked?.audience).toEqual({ kind: "participant", participantId: ann.participantId });
    const banned = errorOf(h.exec(playerActor("ann"), { type: "join", name: "ann2" }));
    expect(banned).toMatchObject({ code: "FORBIDDEN", reason: "banned" });
    h.now += 60_001;
    expect(h.exec(playerActor("ann"), { type: "join", name: "ann" })?.ok).toBe(true);
  });

  it("R-4: a locked room refuses new players; a resume token still gets back in", () => {
    const h = live();
    const actor = playerActor("ann");
    const joined = h.exec(actor, { type: "join", name: "ann" }) as { ok: true; value: JoinResult };
    h.exec(hostActor, { type: "lock", locked: true });
    expect(errorOf(h.exec(playerActor("bob"), { type: "join", name: "bob" })).reason).toBe(
      "room_locked",
    );
    const anon = { ...playerActor("other-device"), anonymous: true };
    const resumed = h.exec(anon, { type: "resume", token: joined.value.resumeToken }) as {
      ok: true;
      value: JoinResult;
    };
    expect(resumed.value.participantId).toBe(joined.value.participantId);
    expect(resumed.value.userId).toBe(actor.userId);
  });

  it("R-5: a player acts only in the room they joined, and only for themselves", () => {
    const h = live();
    const ann = h.join("ann");
    const bob = h.join("bob");
    const elsewhere = new RoomHarness(sessionRecord("live", threeQuestions(), {}, 1_000_000), 2);
    elsewhere.join("cyd");
    h.start();
    elsewhere.start();

    // Ann's membership here is none in another room.
    expect(errorOf(elsewhere.choose(ann, 0, 0))).toMatchObject({
      code: "STATE",
      reason: "not_joined",
    });
    expect(errorOf(elsewhere.exec(ann, { type: "leave" })).reason).toBe("not_joined");

    // Naming Bob's participant id makes neither Ann nor a stranger Bob.
    const annAsBob = { ...ann, participantId: bob.participantId };
    const strangerAsBob = { ...playerActor("mallory"), participantId: bob.participantId };
    for (const impostor of [annAsBob, strangerAsBob]) {
      expect(errorOf(h.choose(impostor, 0, 0))).toMatchObject({
        code: "STATE",
        reason: "not_joined",
      });
      expect(errorOf(h.exec(impostor, { type: "leave" })).reason).toBe("not_joined");
      h.exec(impostor, { type: "presence", connected: false });
    }

    // None of it had an effect: nothing stored, nobody left, Bob still counted as connected, so
    // Ann's answer alone does not close the question (T-3); Bob's own does.
    expect(h.writes.filter((w) => w.kind === "answer_put")).toEqual([]);
    expect(elsewhere.writes.filter((w) => w.kind === "answer_put")).toEqual([]);
    expect(h.bodies("participant_left")).toEqual([]);
    expect(h.bodies("presence").filter((p) => !p.connected)).toEqual([]);
    expect(ack(h.choose(ann, 0, 0)).correct).toBe(true);
    expect(h.phase.kind).toBe("question");
    expect(ack(h.choose(bob, 0, 1)).correct).toBe(false);
    expect(h.last("question_closed").reason).toBe("all_answered");
  });

  it("N-1: names are trimmed, unique case-insensitively, and control characters are refused", () => {
    const h = live();
    const r = h.exec(playerActor("a"), { type: "join", name: "  Ann   Lee " }) as {
      ok: true;
      value: JoinResult;
    };
    expect(r.value.name).toBe("Ann Lee");
    expect(errorOf(h.exec(playerActor("b"), { type: "join", name: "ann lee" })).reason).toBe(
      "name_taken",
    );
    expect(errorOf(h.exec(playerActor("c"), { type: "join", name: "bad\u0007name" })).reason).toBe(
      "invalid_name",
    );
    expect(errorOf(h.exec(playerActor("d"), { type: "join", name: "x".repeat(25) })).code).toBe(
      "VALIDATION",
    );
  });

  it("the same user joining again is a reconnect with the same score", () => {
    const h = live();
    const ann = h.join("ann");
    h.join("bob");
    h.start();
    h.choose(ann, 0, 0);
    const again = h.exec(playerActor("ann"), { type: "join", name: "whatever" }) as {
      ok: true;
      value: JoinResult;
    };
    expect(again.value.participantId).toBe(ann.participantId);
    expect(again.value.snapshot.you?.score).toBe(1000);
    expect(again.value.snapshot.you?.answeredCurrent).toBe(true);
  });

  it("snapshots list players for the host but not for players, and never show the answer mid-question", () => {
    const h = live();
    const ann = h.join("ann");
    h.start();
    const forHost = h.exec(hostActor, { type: "snapshot", role: "host" }) as {
      ok: true;
      value: Snapshot;
    };
    expect(forHost.value.players?.map((p) => p.name)).toEqual(["ann"]);
    const forAnn = h.exec(ann, { type: "snapshot", role: "player" }) as {
      ok: true;
      value: Snapshot;
    };
    expect(forAnn.value.players).toBeNull();
    expect(forAnn.value.phase.question?.text).toBe("Question q1?");
    expect(JSON.stringify(forAnn.value.phase)).not.toMatch(/"correct"/);
    // Asking for the host view without being the host gives the spectator view.
    const sneaky = h.exec(ann, { type: "snapshot", role: "host" }) as { ok: true; value: Snapshot };
    expect(sneaky.value.players).not.toBeNull();
  });

  it("every event carries a sequence number one above the last", () => {
    const h = live();
    h.join("ann");
    h.start();
    h.advance(20_000);
    const seqs = h.events.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });
});

describe("seed 001's start, wrong answers and presence count (M-4, A-7)", () => {
  function selfPaced(settings = {}) {
    return new RoomHarness(sessionRecord("self_paced", threeQuestions(), settings, 1_000_000));
  }

  it("A-7: a text naming no option is refused (bad_answer) unless the command scores it wrong", () => {
    const h = selfPaced();
    const ann = h.join("ann");
    h.start();
    const text = { kind: "text", text: "no such option" } as const;
    const refused = h.exec(ann, { type: "answer", target: { index: 0 }, answer: text });
    expect(errorOf(refused)).toMatchObject({ code: "VALIDATION", reason: "bad_answer" });
    const wrong = ack(
      h.exec(ann, { type: "answer", target: { index: 0 }, answer: text, unmatchedText: "wrong" }),
    );
    expect(wrong).toMatchObject({ correct: false, points: 0, score: 0 });
    // Stored as given, and the question counts as answered.
    expect(h.writes.some((w) => w.kind === "answer_put" && w.answer.answer.kind === "text")).toBe(
      true,
    );
    const again = h.exec(ann, {
      type: "answer",
      target: { index: 0 },
      answer: { kind: "choice", index: 0 },
    });
    expect(errorOf(again).reason).toBe("already_answered");
  });

  it("M-4: with start_on_join the first player's arrival starts the session, once", () => {
    const h = selfPaced({ startOnJoin: true });
    const first = h.exec(playerActor("ann"), { type: "join", name: "ann" });
    const joined = (first as { value: JoinResult }).value;
    expect(joined.started).toBe(true);
    expect(joined.snapshot.status).toBe("active");
    const second = (
      h.exec(playerActor("bob"), { type: "join", name: "bob" }) as {
        value: JoinResult;
      }
    ).value;
    expect(second.started).toBe(false);
    expect(h.bodies("started")).toHaveLength(1);
    // A refused join starts nothing.
    const lobby = selfPaced({ startOnJoin: true });
    expect(lobby.exec(playerActor("x"), { type: "join", name: "" })?.ok).toBe(false);
    expect(lobby.phase.kind).toBe("lobby");
  });

  it("M-4: a scheduled start is a timer of the room; the host may still start earlier", () => {
    const h = selfPaced({ startsAt: 1_005_000 });
    expect(h.room.nextWakeAt()).toBe(1_005_000);
    h.advance(4_999);
    expect(h.phase.kind).toBe("lobby");
    h.advance(1);
    expect(h.phase.kind).toBe("active");
    expect(h.last("started").startedAt).toBe(1_005_000);
    const early = selfPaced({ startsAt: 1_005_000 });
    early.start();
    early.advance(10_000);
    expect(early.bodies("started")).toHaveLength(1);
  });

  it("the present count falls on a leave or a drop and rises on a return; the player count stays", () => {
    const h = selfPaced();
    const ann = h.join("ann");
    const bob = h.join("bob");
    expect(h.last("participant_joined")).toMatchObject({ playerCount: 2, presentCount: 2 });
    h.exec(bob, { type: "leave" });
    expect(h.last("participant_left")).toMatchObject({ playerCount: 2, presentCount: 1 });
    h.exec(ann, { type: "presence", connected: false });
    expect(h.last("presence")).toMatchObject({ connected: false, presentCount: 0 });
    h.exec(ann, { type: "presence", connected: true });
    expect(h.last("presence")).toMatchObject({ connected: true, presentCount: 1 });
    const back = h.exec(bob, { type: "join", name: "bob" }) as { value: JoinResult };
    expect(back.value.snapshot).toMatchObject({ playerCount: 2, presentCount: 2 });
  });
});

describe("the player count in big rooms", () => {
  it("waits a second up to 1,000 players, then a millisecond per player, at most 5 s", () => {
    expect(playerCountEveryMs(1)).toBe(1_000);
    expect(playerCountEveryMs(1_000)).toBe(1_000);
    expect(playerCountEveryMs(2_500)).toBe(2_500);
    expect(playerCountEveryMs(10_000)).toBe(PLAYER_COUNT_MAX_MS);
  });

  it("a room of 1,500 players pushes its count 1.5 s after a join, not 1 s", () => {
    const h = live({ maxParticipants: 2_000 });
    for (let i = 0; i < 1_499; i++) h.join(`p${i}`, false);
    h.advance(10_000);
    const pushed = h.bodies("player_count").length;
    h.join("late", false);
    h.advance(1_499);
    expect(h.bodies("player_count")).toHaveLength(pushed);
    h.advance(1);
    expect(h.bodies("player_count")).toHaveLength(pushed + 1);
    expect(h.last("player_count").playerCount).toBe(1_500);
  });

  it("a count still waiting goes out with the start, right after `started`, and not again later", () => {
    const h = live();
    h.join("ann");
    h.join("bob");
    expect(h.bodies("player_count")).toHaveLength(0);
    h.start();
    const types = h.events.map((e) => e.body.type);
    const started = types.indexOf("started");
    expect(types.slice(started, started + 3)).toEqual(["started", "player_count", "question"]);
    expect(h.last("player_count").playerCount).toBe(2);
    h.advance(5_000);
    expect(h.bodies("player_count")).toHaveLength(1);
  });
});
