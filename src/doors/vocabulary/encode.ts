import type { ParticipantId, UserId } from "../../domain/ids.js";
import type { RoomEvent, Standing } from "../../engine/types.js";
import { type EventFrame, eventFrame, sharedFrame } from "../ws-kit/dialect.js";
import { publicUserId } from "./identity.js";
import { ERROR_CODES, type ServerPayload, type ServerType } from "./protocol.js";

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

const board = (render: (participantId: ParticipantId) => string, coalescible: boolean) =>
  eventFrame("LEADERBOARD_UPDATED", { personal: render, coalescible, latestOnly: true });

function membershipFrame(
  type: "USER_JOINED" | "USER_LEFT",
  event: RoomEvent,
  who: { participantId: ParticipantId; userId: UserId; name: string },
  count: number,
): EventFrame {
  const payload = {
    user_id: publicUserId(who.userId),
    username: who.name,
    participant_count: count,
  };
  return sharedFrame(type, frame(type, payload, event.at), { about: who.participantId });
}

/**
 * The frames of a room event. USER_JOINED and USER_LEFT follow a participant's
 * presence: a new participant is announced, and afterwards only changes are
 * (gone when their last connection closes or they leave, back on their return),
 * so nobody is announced twice; the event says which it is. Leaderboards come
 * from the self_paced batch (`leaderboard`, at most every 100 ms, top 100), from
 * each live reveal and from the end; per-answer `scored` events are not
 * broadcast (SCORE_UPDATED is the submitter's reply, and everyone's score
 * reaches everyone in the batch).
 */
export function encodeEvent(event: RoomEvent): EventFrame[] {
  const b = event.body;
  const sid = event.sessionId;
  switch (b.type) {
    case "participant_joined":
      return [membershipFrame("USER_JOINED", event, b.participant, b.playerCount)];
    case "participant_left":
      // Gone already, if their last connection had closed (USER_LEFT went out then).
      return b.present ? [membershipFrame("USER_LEFT", event, b, b.playerCount)] : [];
    case "presence":
      if (b.connected) {
        // Their first connection follows the USER_JOINED of their arrival: a return is news.
        return b.firstConnection ? [] : [membershipFrame("USER_JOINED", event, b, b.playerCount)];
      }
      // A socket closing after LEAVE_SESSION is no news: USER_LEFT went out with the leave.
      return b.active ? [membershipFrame("USER_LEFT", event, b, b.playerCount)] : [];
    case "started":
      return [
        sharedFrame(
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
      return [board((id) => render(b.ranks(id)), true)];
    }
    case "reveal": {
      const render = leaderboardFrame(sid, b.leaderboard, b.totalPlayers, event.at);
      return [board((id) => render(b.results.get(id)?.rank ?? null), false)];
    }
    case "ended": {
      const render = leaderboardFrame(sid, b.leaderboard, b.totalPlayers, event.at);
      return [
        board((id) => render(b.results.get(id)?.rank ?? null), false),
        sharedFrame(
          "SESSION_ENDED",
          frame(
            "SESSION_ENDED",
            { session_id: sid, status: "completed", reason: b.reason },
            event.at,
          ),
        ),
      ];
    }
    case "kicked": {
      // The driver closes the participant's connections (4003) right after this.
      const payload: ServerPayload<"ERROR"> = {
        code: "ACCESS_DENIED",
        message: `You were removed from session ${sid}: ${b.reason}`,
        recoverable: ERROR_CODES.ACCESS_DENIED.recoverable,
      };
      return [sharedFrame("ERROR", frame("ERROR", payload, event.at))];
    }
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
