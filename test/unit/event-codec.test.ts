/**
 * Room events cross instances through the bus codec (src/engine/event-codec.ts): what another
 * instance's canonical door sends from a decoded event must be byte for byte what the owner's
 * door sends. Here for the host-absence events (H-1…H-3) and the reveal's per-player stats.
 */
import { describe, expect, it } from "vitest";
import { asParticipantId, asSessionId, asUserId } from "../../src/domain/ids.js";
import { encodeEvent } from "../../src/doors/canonical/encode.js";
import type { EventFrame } from "../../src/doors/ws-kit/dialect.js";
import { decodeRoomEvent, encodeRoomEvent } from "../../src/engine/event-codec.js";
import type { EventBody, PlayerResult, RoomEvent } from "../../src/engine/types.js";

const ANN = asParticipantId("p_ann");
const BEN = asParticipantId("p_ben");

function event(body: EventBody): RoomEvent {
  return {
    sessionId: asSessionId("0193502c-7e1a-7b3c-9d4e-5f6a7b8c9d0e"),
    epoch: 2,
    seq: 41,
    at: 1_732_262_608_000,
    audience: { kind: "all" },
    body,
    encoded: new Map(),
  };
}

/** What each kind of recipient would be sent: staff, Ann, Ben. */
function sent(frames: readonly EventFrame[]): string[] {
  const out: string[] = [];
  for (const f of frames) {
    out.push(f.shared?.toString() ?? "");
    const p = f.personal;
    if (p && typeof p !== "function") {
      for (const id of [ANN, BEN]) out.push(`${p.before}${p.part(id)}${p.after}`);
    }
  }
  return out;
}

const result = (userId: string, rank: number, correct: boolean): PlayerResult => ({
  userId: asUserId(userId),
  answered: true,
  correct,
  points: correct ? 900 : 0,
  score: correct ? 900 : 0,
  rank,
  streak: correct ? 1 : 0,
});

describe("event codec: seed 000 events survive the trip between instances", () => {
  const bodies: EventBody[] = [
    { type: "paused", reason: "host_disconnected", phase: "question", index: 2 },
    { type: "resumed", phase: "question", index: 2, deadline: 1_732_262_662_000, until: null },
    {
      type: "host_changed",
      userId: asUserId("teacher-22"),
      participantId: asParticipantId("p_co"),
      previousUserId: asUserId("teacher-17"),
      reason: "host_disconnected",
    },
    {
      type: "reveal",
      index: 0,
      questionId: "q1",
      correct: { indices: [2], texts: ["Paris"] },
      optionCounts: [0, 1, 1, 0],
      answeredCount: 2,
      leaderboard: [],
      totalPlayers: 2,
      // In rank order, as the room makes them (the door keeps that order).
      results: new Map([
        [ANN, result("user-ann", 1, true)],
        [BEN, result("user-ben", 2, false)],
      ]),
      until: null,
    },
  ];

  it.each(bodies.map((b) => [b.type, b] as const))(
    "%s: the decoded event makes the same canonical frames",
    (_type, body) => {
      const original = event(body);
      const remote = decodeRoomEvent(encodeRoomEvent(original));
      expect(sent(encodeEvent(remote))).toEqual(sent(encodeEvent(original)));
    },
  );

  it("a reveal gives staff every player's stats in the room's (rank) order and each player only their own", () => {
    const reveal = bodies[3]!;
    const [staff, player] = encodeEvent(event(reveal));
    const staffData = JSON.parse(staff!.shared!.toString()).data;
    expect(staffData.per_user_stats.map((s: { user_id: string }) => s.user_id)).toEqual([
      "user-ann",
      "user-ben",
    ]);
    expect(staffData.you).toBeNull();
    const p = player!.personal;
    if (!p || typeof p === "function") throw new Error("expected a spliced player frame");
    const annData = JSON.parse(`${p.before}${p.part(ANN)}${p.after}`).data;
    expect(annData.per_user_stats).toEqual([
      {
        user_id: "user-ann",
        participant_id: ANN,
        answered: true,
        correct: true,
        points: 900,
        score: 900,
        rank: 1,
        streak: 1,
      },
    ]);
    expect(annData.you).toMatchObject({ rank: 1, points: 900 });
    expect(annData.correct_choice).toBe(2);
  });

  it("a player's own entry is byte for byte their entry in the staff's list, non-ASCII ids included", () => {
    const ids = ["ünïcødé-ann", "user-🦊", "plain"].map((u, i) => [
      asParticipantId(`p_${i}`),
      result(u, i + 1, i === 0),
    ]) as Array<[ReturnType<typeof asParticipantId>, PlayerResult]>;
    const reveal = { ...bodies[3]!, results: new Map(ids) } as EventBody;
    const [staff, player] = encodeEvent(event(reveal));
    const stats = JSON.parse(staff!.shared!.toString()).data.per_user_stats;
    const p = player!.personal;
    if (!p || typeof p === "function") throw new Error("expected a spliced player frame");
    for (const [i, [id, r]] of ids.entries()) {
      const data = JSON.parse(`${p.before}${p.part(id)}${p.after}`).data;
      expect(data.per_user_stats).toEqual([stats[i]]);
      expect(data.per_user_stats[0].user_id).toBe(r.userId);
      expect(data.you).toEqual({
        answered: true,
        correct: r.correct,
        points: r.points,
        score: r.score,
        rank: i + 1,
        streak: r.streak,
      });
    }
    // Someone the reveal has no result for (joined after the close) still gets a whole frame.
    const late = JSON.parse(`${p.before}${p.part(asParticipantId("p_late"))}${p.after}`).data;
    expect(late.per_user_stats).toEqual([]);
    expect(late.you).toBeNull();
  });
});
