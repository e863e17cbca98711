import { asUserId } from "../../domain/ids.js";
import { type EventMark, markOf, ORIGIN } from "../../engine/event-order.js";
import type { RoomHandle } from "../../engine/room-handle.js";
import type { Actor, Standing } from "../../engine/types.js";
import type { SessionBundle } from "../../ports/storage.js";
import { buildResults } from "../../services/results.js";
import { LEADERBOARD_CAP, type LeaderboardEntry, type LeaderboardMessage } from "./protocol.js";

/** A quiz's leaderboard as seed 002 shows it: the top entries and how many are ranked in all. */
export interface BoardView {
  quizId: string;
  entries: LeaderboardEntry[];
  total: number;
  /** The point in the session's history it shows (ORIGIN for stored boards): a later one is never older. */
  mark: EventMark;
}

/** A board serialized for the wire, once for every recipient. */
export interface EncodedBoard {
  /** Everything but the timestamp: equal keys mean nothing on the board changed. */
  key: string;
  frame: Buffer;
}

/** Who the door reads as: never a member, never the host. */
export const VIEWER: Actor = { userId: asUserId("seed002:viewer"), roles: [], anonymous: true };

function entryOf(s: Standing): LeaderboardEntry {
  return { participant_id: s.participantId, username: s.name, score: s.score, rank: s.rank };
}

/**
 * A read of a running session's board: the board, or why there is none — the
 * session is no longer open (it is then in storage), or the server running it
 * cannot be reached right now.
 */
export type BoardRead =
  | { kind: "board"; view: BoardView }
  | { kind: "gone" }
  | { kind: "unavailable" };

/** The running session's board, read from the engine's own ranking (L-1, L-2) on its owner. */
export async function readBoard(handle: RoomHandle): Promise<BoardRead> {
  const reply = await handle.execute(VIEWER, {
    type: "standings",
    fromRank: 1,
    count: LEADERBOARD_CAP,
  });
  if (!reply.ok) return { kind: reply.error.code === "UNAVAILABLE" ? "unavailable" : "gone" };
  const page = reply.value;
  return {
    kind: "board",
    view: {
      quizId: handle.id,
      entries: page.entries.map(entryOf),
      total: page.total,
      mark: markOf(page),
    },
  };
}

/** The final board of a session that is only in storage (ended and unloaded). */
export function storedBoard(bundle: SessionBundle): BoardView {
  const ranked = buildResults(bundle).players.filter((p) => p.rank !== null);
  return {
    quizId: bundle.session.id,
    entries: ranked.slice(0, LEADERBOARD_CAP).map((p) => ({
      participant_id: p.participantId,
      username: p.name,
      score: p.score,
      rank: p.rank ?? 0,
    })),
    total: ranked.length,
    mark: ORIGIN,
  };
}

/** ISO 8601 in UTC, as the seed's `timestamp` shows it. */
export function isoTime(at: number): string {
  return new Date(at).toISOString();
}

/** The message as an object (GET …/leaderboard). */
export function boardMessage(view: BoardView, at: number): LeaderboardMessage {
  return {
    quiz_id: view.quizId,
    leaderboard: view.entries,
    total_participants: view.total,
    timestamp: isoTime(at),
  };
}

/** The message as one frame for all subscribers (STYLE.md §13), keyed by its content. */
export function encodeBoard(view: BoardView, at: number): EncodedBoard {
  const key =
    `{"quiz_id":${JSON.stringify(view.quizId)},"leaderboard":${JSON.stringify(view.entries)},` +
    `"total_participants":${view.total}`;
  return { key, frame: Buffer.from(`${key},"timestamp":"${isoTime(at)}"}`) };
}
