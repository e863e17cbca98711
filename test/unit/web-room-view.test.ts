import { describe, expect, it } from "vitest";
import {
  activePlayers,
  fromSnapshot,
  isLastQuestion,
  maxCount,
  type RoomEvent,
  type RoomView,
  reduceRoom,
} from "../../web/src/lib/room-view.js";
import type { SnapshotView, StandingView } from "../../web/src/lib/types.js";
import { lobbySnapshot, scoreData } from "../support/server-data.js";

const ROOM = "0193502c-7e1a-7b3c-9d4e-5f6a7b8c9d0e";

function snapshot(overrides: Partial<SnapshotView> = {}): SnapshotView {
  return lobbySnapshot({
    room_id: ROOM,
    player_count: 0,
    players: [],
    seq: 5,
    server_time: 1_000,
    ...overrides,
  });
}

function ev(type: string, data: unknown, seq?: number, epoch = 1): RoomEvent {
  return seq === undefined ? { type, data } : { type, data, seq, epoch };
}

function apply(view: RoomView | null, ...events: RoomEvent[]): RoomView | null {
  return events.reduce<RoomView | null>((v, e) => reduceRoom(v, { type: "event", event: e }), view);
}

const standing = (name: string, score: number, rank: number): StandingView => ({
  participant_id: `p_${name}`,
  user_id: `u_${name}`,
  name,
  score,
  rank,
});

const participant = (name: string) => ({
  participant_id: `p_${name}`,
  user_id: `u_${name}`,
  name,
  role: "player" as const,
  status: "active" as const,
  connected: false,
  score: 0,
});

describe("web room view", () => {
  it("the host's lobby fills as players arrive, connect, leave and are kicked", () => {
    let v = reduceRoom(null, { type: "state", snapshot: snapshot() });
    v = apply(
      v,
      ev("player_joined", { participant: participant("Ana"), player_count: 1 }, 6),
      ev("presence", { participant_id: "p_Ana", name: "Ana", connected: true }, 7),
      ev("player_joined", { participant: participant("Ben"), player_count: 2 }, 8),
    );
    expect(v?.playerCount).toBe(2);
    expect(activePlayers(v as RoomView).map((p) => [p.name, p.connected])).toEqual([
      ["Ana", true],
      ["Ben", false],
    ]);
    v = apply(
      v,
      ev(
        "player_left",
        {
          participant_id: "p_Ben",
          user_id: "u_Ben",
          name: "Ben",
          reason: "kicked",
          player_count: 1,
        },
        9,
      ),
    );
    expect(activePlayers(v as RoomView).map((p) => p.name)).toEqual(["Ana"]);
    expect(v?.playerCount).toBe(1);
  });

  it("events the snapshot already holds are ignored (seq at or below it); replies always apply", () => {
    const v = reduceRoom(null, { type: "state", snapshot: snapshot({ seq: 10, player_count: 4 }) });
    const stale = apply(v, ev("player_count", { player_count: 1 }, 10));
    expect(stale?.playerCount).toBe(4);
    const fresh = apply(v, ev("player_count", { player_count: 5 }, 11));
    expect(fresh?.playerCount).toBe(5);
    expect(fresh?.seq).toBe(11);
    // An older snapshot arriving late does not replace a newer one.
    const older = reduceRoom(fresh, {
      type: "state",
      snapshot: snapshot({ seq: 7, player_count: 2 }),
    });
    expect(older?.playerCount).toBe(5);
    // A resumed room (new epoch) is taken as it comes.
    const resumed = apply(fresh, ev("player_count", { player_count: 9 }, 2, 2));
    expect(resumed?.playerCount).toBe(9);
    expect(resumed?.epoch).toBe(2);
  });

  it("M-1: question, answers counted, close, reveal with the player's own result, end", () => {
    const you = {
      participant_id: "p_Ana",
      name: "Ana",
      role: "player" as const,
      score: 0,
      rank: 1,
      streak: 0,
      answered_current: false,
      answered_count: 0,
      finished: false,
    };
    let v = reduceRoom(null, { type: "state", snapshot: snapshot({ you, players: null }) });
    const question = {
      index: 0,
      total: 3,
      question: {
        id: "q1",
        kind: "single",
        text: "Capital of France?",
        options: ["Paris", "Rome"],
        time_limit_ms: 20_000,
        multiplier: 1,
      },
      opened_at: 2_000,
      deadline_ms: 22_000,
    };
    v = apply(
      v,
      ev("started", { started_at: 2_000, question_count: 3 }, 6),
      ev("question", question, 7),
    );
    expect(v).toMatchObject({
      phase: "question",
      index: 0,
      deadline: 22_000,
      closed: false,
      status: "active",
    });
    v = apply(v, ev("score", scoreData()));
    expect(v?.you).toMatchObject({
      score: 900,
      streak: 1,
      answered_current: true,
      answered_count: 1,
    });
    v = apply(v, ev("question_closed", { index: 0, reason: "all_answered" }, 8));
    expect(v).toMatchObject({ closed: true, closedReason: "all_answered" });
    v = apply(
      v,
      ev(
        "reveal",
        {
          index: 0,
          question_id: "q1",
          correct: { indices: [0], texts: ["Paris"] },
          option_counts: [3, 1],
          answered_count: 4,
          leaderboard: [standing("Ana", 900, 1)],
          total_players: 4,
          until: null,
          you: { answered: true, correct: true, points: 900, score: 900, rank: 1, streak: 1 },
        },
        9,
      ),
    );
    expect(v).toMatchObject({
      phase: "reveal",
      reveal: { optionCounts: [3, 1] },
      lastResult: { correct: true, points: 900 },
    });
    expect(isLastQuestion(v as RoomView)).toBe(false);
    v = apply(
      v,
      ev(
        "end",
        {
          reason: "host_ended",
          leaderboard: [standing("Ana", 900, 1)],
          podium: [standing("Ana", 900, 1)],
          total_players: 4,
          you: { score: 900, rank: 1, total: 4 },
        },
        10,
      ),
    );
    expect(v).toMatchObject({
      phase: "ended",
      status: "completed",
      end: { reason: "host_ended", you: { rank: 1, total: 4 } },
    });
  });

  it("the host's answer count follows the open question only", () => {
    let v = reduceRoom(null, { type: "state", snapshot: snapshot({ player_count: 3 }) });
    v = apply(
      v,
      ev(
        "question",
        {
          index: 1,
          total: 3,
          question: {
            id: "q2",
            kind: "typed",
            text: "?",
            options: [],
            time_limit_ms: 1000,
            multiplier: 1,
          },
          opened_at: 0,
          deadline_ms: 1000,
        },
        6,
      ),
    );
    expect(v?.answered).toEqual({ answered: 0, players: 3 });
    v = apply(v, ev("answer_count", { index: 0, answered: 3, players: 3 }, 7));
    expect(v?.answered).toEqual({ answered: 0, players: 3 });
    v = apply(v, ev("answer_count", { index: 1, answered: 2, players: 3 }, 8));
    expect(v?.answered).toEqual({ answered: 2, players: 3 });
  });

  it("M-3: self-paced questions keep the room active; the leaderboard updates the player's rank", () => {
    const you = {
      participant_id: "p_Lea",
      name: "Lea",
      role: "player" as const,
      score: 0,
      rank: 2,
      streak: 0,
      answered_current: false,
      answered_count: 0,
      finished: false,
    };
    let v = reduceRoom(null, {
      type: "state",
      snapshot: snapshot({ mode: "self_paced", you, players: null }),
    });
    v = apply(v, ev("started", { started_at: 1, question_count: 2 }, 6));
    expect(v?.phase).toBe("active");
    // The reply to `next` has no seq and always applies.
    v = apply(
      v,
      ev("question", {
        index: 1,
        total: 2,
        question: {
          id: "w2",
          kind: "typed",
          text: "Katze",
          options: [],
          time_limit_ms: 30_000,
          multiplier: 1,
        },
        opened_at: 5,
        deadline_ms: 30_005,
      }),
    );
    expect(v).toMatchObject({ phase: "active", index: 1, deadline: 30_005 });
    v = apply(
      v,
      ev(
        "leaderboard",
        { leaderboard: [standing("Lea", 15, 1)], total_players: 2, your_rank: 1 },
        9,
      ),
    );
    expect(v?.you?.rank).toBe(1);
    v = reduceRoom(v, { type: "finished" });
    expect(v?.you?.finished).toBe(true);
  });

  it("a snapshot of an ended room shows its podium", () => {
    const v = fromSnapshot(
      snapshot({
        status: "completed",
        phase: { ...snapshot().phase, kind: "ended", end_reason: "finished" },
        leaderboard: [
          standing("A", 3, 1),
          standing("B", 2, 2),
          standing("C", 1, 3),
          standing("D", 0, 4),
        ],
      }),
    );
    expect(v.end?.podium.map((s) => s.name)).toEqual(["A", "B", "C"]);
    expect(v.end?.reason).toBe("finished");
  });

  it("scales bar charts to the largest count, never dividing by zero", () => {
    expect(maxCount([0, 0])).toBe(1);
    expect(maxCount([2, 7, 1])).toBe(7);
    expect(maxCount([])).toBe(1);
  });
});
