import type { ParticipantId, UserId } from "../../domain/ids.js";
import type { RoomEvent, Standing } from "../../engine/types.js";
import { publicUserId } from "./identity.js";
import type { ServerPayload, ServerType } from "./protocol.js";

/**
 * Seed 001 frames. Broadcasts are serialized once (STYLE.md §13): a frame
 * that is the same for everyone is kept as one Buffer, and
 * LEADERBOARD_UPDATED — which differs per recipient only in `your_rank` — is
 * split around that member so each recipient costs one concatenation.
 */

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function tail(at: number, messageId: string | null | undefined): string {
  const m = messageId ? `,"message_id":${JSON.stringify(messageId)}` : "";
  return `,"timestamp":"${iso(at)}"${m}}`;
}

/** One complete message: `{type, payload, timestamp, message_id?}`. */
export function frame<T extends ServerType>(
  type: T,
  payload: ServerPayload<T>,
  at: number,
  messageId?: string | null,
): string {
  return `{"type":"${type}","payload":${JSON.stringify(payload)}${tail(at, messageId)}`;
}

/** A LEADERBOARD_UPDATED with a hole where each recipient's `your_rank` goes. */
export function leaderboardFrame(
  sessionId: string,
  standings: readonly Standing[],
  total: number,
  at: number,
  messageId?: string | null,
): (yourRank: number | null) => string {
  const body = JSON.stringify({
    session_id: sessionId,
    leaderboard: standings.map((s) => ({
      rank: s.rank,
      user_id: publicUserId(s.userId),
      username: s.name,
      score: s.score,
    })),
    total_participants: total,
  } satisfies Omit<ServerPayload<"LEADERBOARD_UPDATED">, "your_rank">);
  const prefix = `{"type":"LEADERBOARD_UPDATED","payload":${body.slice(0, -1)},"your_rank":`;
  const suffix = `}${tail(at, messageId)}`;
  return (rank) => `${prefix}${rank ?? "null"}${suffix}`;
}

/** A room event as this dialect shows it: zero or more frames. */
export interface EventFrame {
  type: ServerType;
  /** The same bytes for every recipient; null when the frame is personal. */
  shared: Buffer | null;
  /** The frame for one participant, when it carries something of theirs. */
  personal: ((participantId: ParticipantId) => string) | null;
  /**
   * USER_JOINED / USER_LEFT: the participant it is about (whose own
   * connections do not get it), whether they arrived, and whether this is
   * their first arrival (a new participant) rather than a return.
   */
  membership: { participantId: ParticipantId; arrived: boolean; fresh: boolean } | null;
  /** A newer frame of the same kind replaces it, so a client that is behind may skip it. */
  coalescible: boolean;
}

/** What encoding needs to read from the room (presence events name only the participant). */
export interface EncodeContext {
  userOf(participantId: ParticipantId): UserId | undefined;
  playerCount(): number;
}

const shared = (type: ServerType, text: string, coalescible = false): EventFrame => ({
  type,
  shared: Buffer.from(text),
  personal: null,
  membership: null,
  coalescible,
});

const personal = (
  type: ServerType,
  render: (participantId: ParticipantId) => string,
  coalescible: boolean,
): EventFrame => ({ type, shared: null, personal: render, membership: null, coalescible });

function membershipFrame(
  type: "USER_JOINED" | "USER_LEFT",
  event: RoomEvent,
  participantId: ParticipantId,
  userId: UserId,
  name: string,
  count: number,
  fresh: boolean,
): EventFrame {
  const payload = { user_id: publicUserId(userId), username: name, participant_count: count };
  return {
    ...shared(type, frame(type, payload, event.at)),
    membership: { participantId, arrived: type === "USER_JOINED", fresh },
  };
}

/**
 * The frames of a room event. Leaderboards come from the self_paced batch
 * (`leaderboard`, at most every 100 ms, top 100), from each live reveal and
 * from the end; per-answer `scored` events are not broadcast (SCORE_UPDATED is
 * the submitter's reply, and everyone's score reaches everyone in the batch).
 */
export function encodeEvent(event: RoomEvent, ctx: EncodeContext): EventFrame[] {
  const b = event.body;
  const sid = event.sessionId;
  switch (b.type) {
    case "participant_joined":
      return [
        membershipFrame(
          "USER_JOINED",
          event,
          b.participant.participantId,
          b.participant.userId,
          b.participant.name,
          b.playerCount,
          true,
        ),
      ];
    case "participant_left":
      return [
        membershipFrame(
          "USER_LEFT",
          event,
          b.participantId,
          b.userId,
          b.name,
          b.playerCount,
          false,
        ),
      ];
    case "presence": {
      const userId = ctx.userOf(b.participantId);
      if (userId === undefined) return [];
      const type = b.connected ? "USER_JOINED" : "USER_LEFT";
      return [
        membershipFrame(type, event, b.participantId, userId, b.name, ctx.playerCount(), false),
      ];
    }
    case "started":
      return [
        shared(
          "SESSION_STARTED",
          frame(
            "SESSION_STARTED",
            { session_id: sid, status: "active", started_at: iso(b.startedAt) },
            event.at,
          ),
        ),
      ];
    case "leaderboard": {
      const render = leaderboardFrame(sid, b.leaderboard, b.totalPlayers, event.at);
      return [personal("LEADERBOARD_UPDATED", (id) => render(b.ranks(id)), true)];
    }
    case "reveal": {
      const render = leaderboardFrame(sid, b.leaderboard, b.totalPlayers, event.at);
      return [
        personal("LEADERBOARD_UPDATED", (id) => render(b.results.get(id)?.rank ?? null), false),
      ];
    }
    case "ended": {
      const render = leaderboardFrame(sid, b.leaderboard, b.totalPlayers, event.at);
      return [
        personal("LEADERBOARD_UPDATED", (id) => render(b.results.get(id)?.rank ?? null), false),
        shared(
          "SESSION_ENDED",
          frame(
            "SESSION_ENDED",
            { session_id: sid, status: "completed", reason: b.reason },
            event.at,
          ),
        ),
      ];
    }
    // The gateway handles `kicked` itself (an ERROR, then the connection is closed).
    case "kicked":
    // Questions reach seed 001 clients over REST; the reveal's leaderboard stands for the intermission's.
    case "question":
    case "question_closed":
    case "answer_count":
    case "intermission":
    case "player_count":
    case "locked":
    case "scored":
      return [];
    default: {
      const never: never = b;
      return never;
    }
  }
}
