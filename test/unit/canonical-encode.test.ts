import { describe, expect, it } from "vitest";
import type { ParticipantId, UserId } from "../../src/domain/ids.js";
import { encodeEvent } from "../../src/doors/canonical/encode.js";
import type { SplicedFrame } from "../../src/doors/ws-kit/dialect.js";
import type { PlayerResult, RoomEvent } from "../../src/engine/types.js";
import { arrival, roomEvent } from "../support/room-events.js";

/** Ids and numbers a byte-by-byte writer could get wrong, next to plain ones. */
const players: Array<[string, PlayerResult]> = [
  ["p_plain", result("anon-abc123", 1, { points: 1000, score: 2500, streak: 3 })],
  ['p_quote"back\\slash', result('u"1\\', 2, { points: 0, score: 2147483647 })],
  ["p_zoë", result("user-🦊-Zoë", 3, { answered: false, correct: false, points: 0, score: 0 })],
  ["p_ctl\n\t\u0001", result("u\u007f\u0000", 4, { points: -5, score: 12.5, streak: 0 })],
  ["p_big", result("u-big", 5, { points: 2147483648, score: 1e21, streak: 10 })],
  ["p_odd", result("u-odd", 6, { points: Number.NaN, score: 0.1, streak: 1 })],
  ["p_back\\slash", result("u\\x", 7, { points: 7, score: 99 })],
];

function result(
  userId: string,
  rank: number,
  over: Partial<Omit<PlayerResult, "userId" | "rank">> = {},
): PlayerResult {
  return {
    userId: userId as UserId,
    answered: true,
    correct: true,
    points: 10,
    score: 10,
    streak: 1,
    rank,
    ...over,
  };
}

function revealEvent(list = players): RoomEvent {
  return roomEvent(
    {
      type: "reveal",
      index: 1,
      questionId: "q2",
      correct: { indices: [2], texts: [] },
      optionCounts: [1, 0, 4, 1],
      answeredCount: 5,
      leaderboard: [],
      totalPlayers: list.length,
      results: new Map(list.map(([id, r]) => [id as ParticipantId, r])),
      until: null,
    },
    { epoch: 2, seq: 17 },
  );
}

/** A player's result as JSON.stringify writes it (the field order included). */
function resultFields(r: PlayerResult) {
  const { answered, correct, points, score, rank, streak } = r;
  return { answered, correct, points, score, rank, streak };
}

/** A player's entry of `per_user_stats`. */
function entryJson(id: string, r: PlayerResult): string {
  return JSON.stringify({ user_id: r.userId, participant_id: id, ...resultFields(r) });
}

function youJson(r: PlayerResult): string {
  return JSON.stringify(resultFields(r));
}

describe("canonical reveal frames", () => {
  const [staff, player] = encodeEvent(revealEvent());
  const staffText = staff?.shared?.toString() ?? "";
  const head = staffText.slice(
    0,
    staffText.indexOf('"per_user_stats":') + '"per_user_stats":'.length,
  );

  it("lists every player's entry for hosts and spectators, byte for byte as JSON.stringify writes it", () => {
    const list = players.map(([id, r]) => entryJson(id, r)).join(",");
    expect(staffText).toBe(`${head}[${list}],"you":null}}`);
    const parsed = JSON.parse(staffText) as { data: { per_user_stats: unknown[]; you: null } };
    expect(parsed.data.per_user_stats).toHaveLength(players.length);
    expect(parsed.data.you).toBeNull();
  });

  it("gives each player their own entry and result between the shared bytes", () => {
    const spliced = player?.personal as SplicedFrame;
    expect(spliced.before.toString()).toBe(head);
    for (const [id, r] of players) {
      const part = spliced.part(id as ParticipantId);
      const text = `${spliced.before.toString()}${part.toString()}${spliced.after.toString()}`;
      expect(text).toBe(`${head}[${entryJson(id, r)}],"you":${youJson(r)}}}`);
      const parsed = JSON.parse(text) as { data: { per_user_stats: Array<{ user_id: string }> } };
      expect(parsed.data.per_user_stats[0]?.user_id).toBe(r.userId);
    }
  });

  it("gives a player with no result (joined after the close) an empty list and no result", () => {
    const spliced = player?.personal as SplicedFrame;
    const text = `${head}${spliced.part("p_late" as ParticipantId).toString()}}}`;
    expect(JSON.parse(text).data).toMatchObject({ per_user_stats: [], you: null });
  });

  it("finds each player's own part when ranks are not the results' positions", () => {
    // A rank missing (a member the room no longer has) moves everyone after it.
    const gapped = players.map(([id, r], i): [string, PlayerResult] => [id, { ...r, rank: i + 2 }]);
    const [, frame] = encodeEvent(revealEvent(gapped));
    const spliced = frame?.personal as SplicedFrame;
    for (const [id, r] of gapped) {
      const text = `${head}${spliced.part(id as ParticipantId).toString()}}}`;
      expect(text).toBe(`${head}[${entryJson(id, r)}],"you":${youJson(r)}}}`);
    }
  });
});

describe("canonical frames that may wait", () => {
  it("news for hosts and spectators alone may wait to share a write; what players get does not", () => {
    const joined = encodeEvent(arrival());
    const counted = encodeEvent(
      roomEvent({ type: "answer_count", index: 0, answered: 1, players: 2 }),
    );
    const locked = encodeEvent(roomEvent({ type: "locked", locked: true }));
    const playerCount = encodeEvent(roomEvent({ type: "player_count", playerCount: 2 }));
    expect(joined.map((f) => [f.type, f.mayWait])).toEqual([["player_joined", true]]);
    expect(counted.map((f) => [f.type, f.mayWait])).toEqual([["answer_count", true]]);
    expect(locked.map((f) => [f.type, f.mayWait])).toEqual([["lock", false]]);
    expect(playerCount.map((f) => [f.type, f.mayWait])).toEqual([["player_count", false]]);
  });
});
