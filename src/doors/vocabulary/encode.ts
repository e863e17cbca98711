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
  const { prefix, suffix } = leaderboardParts(sessionId, standings, total, at, messageId);
  return (rank) => `${prefix}${rank ?? "null"}${suffix}`;
}

/** The bytes of a LEADERBOARD_UPDATED before and after its `your_rank`. */
function leaderboardParts(
  sessionId: string,
  standings: readonly Standing[],
  total: number,
  at: number,
  messageId?: string | null,
): { prefix: string; suffix: string } {
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
  return { prefix, suffix };
}

/**
 * An event's board for every learner: the standings made once, each
 * learner's `your_rank` spliced in (a 9 KB top-100 board to 2,000 learners is
 * then 2,000 small numbers, not 2,000 board strings).
 */
function board(
  event: RoomEvent,
  b: { leaderboard: readonly Standing[]; totalPlayers: number },
  rankOf: (participantId: ParticipantId) => number | null,
  coalescible: boolean,
): EventFrame {
  const { prefix, suffix } = leaderboardParts(
    event.sessionId,
    b.leaderboard,
    b.totalPlayers,
    event.at,
  );
  return eventFrame("LEADERBOARD_UPDATED", {
    personal: {
      before: Buffer.from(prefix),
      part: (id) => String(rankOf(id) ?? "null"),
      after: Buffer.from(suffix),
    },
    coalescible,
    latestOnly: true,
  });
}

export function startedPayload(
  sessionId: string,
  startedAt: number,
): ServerPayload<"SESSION_STARTED"> {
  return { session_id: sessionId, status: "active", started_at: iso(startedAt) };
}

/** A USER_JOINED or USER_LEFT: who it is about and the session's count as of the event. */
export interface Announcement {
  type: "USER_JOINED" | "USER_LEFT";
  who: { participantId: ParticipantId; userId: UserId; name: string };
  count: number;
}

/**
 * The USER_JOINED or USER_LEFT a room event announces, if any. They follow a
 * participant's presence: a new participant is announced, and afterwards only
 * changes are (gone when their last connection closes or they leave, back on
 * their return), so nobody is announced twice; the event says which it is.
 */
export function announcementOf(event: RoomEvent): Announcement | null {
  const b = event.body;
  switch (b.type) {
    case "participant_joined":
      return { type: "USER_JOINED", who: b.participant, count: b.presentCount };
    case "participant_left":
      // Gone already, if their last connection had closed (USER_LEFT went out then).
      return b.present ? { type: "USER_LEFT", who: b, count: b.presentCount } : null;
    case "presence":
      if (b.connected) {
        // Their first connection follows the USER_JOINED of their arrival: a return is news.
        return b.firstConnection ? null : { type: "USER_JOINED", who: b, count: b.presentCount };
      }
      // A socket closing after LEAVE_SESSION is no news: USER_LEFT went out with the leave.
      return b.active ? { type: "USER_LEFT", who: b, count: b.presentCount } : null;
    default:
      return null;
  }
}

/**
 * An announcement as a frame, not sent to the participant it is about.
 * `grouped`: sent on the door's schedule in a big session, standing for
 * `size` announcements of its type (docs/protocols/seed-001.md, "Big
 * sessions"); a client that is behind may skip it, as a newer one follows.
 *
 * Every announcement may wait a few milliseconds for more frames to the same
 * learner (`mayWait`, turn-writes.ts' `WAIT_MS`), and goes out at once with
 * any frame that may not wait, in order. Below the grouping threshold each
 * arrival is announced to everyone present, as the seed has it: seed 003's
 * 100 sessions of 100 learners joining made 495,000 USER_JOINED, each its own
 * write, 40 % of the server's time during the joins in a CPU profile
 * (2026-12-07). Learners who arrive together now cost each listener one write.
 */
export function announcementFrame(
  a: Announcement,
  at: number,
  grouped: { size: number } | null = null,
): EventFrame {
  const payload: ServerPayload<"USER_JOINED"> = {
    user_id: publicUserId(a.who.userId),
    username: a.who.name,
    participant_count: a.count,
  };
  if (grouped !== null && grouped.size > 1) payload.batch_size = grouped.size;
  return sharedFrame(a.type, frame(a.type, payload, at), {
    about: a.who.participantId,
    coalescible: grouped !== null,
    mayWait: true,
  });
}

/**
 * What the door announces on its own schedule in big sessions instead of
 * with each event (docs/protocols/seed-001.md, "Big sessions"): USER_JOINED
 * and USER_LEFT once the session has more than `announceAbove` participants,
 * self-paced boards once it has more than `boardsAbove`.
 */
export interface GroupingPolicy {
  announceAbove: number;
  boardsAbove: number;
}

/** Whether the door groups this event's frames instead of sending them with it. */
export function isGrouped(event: RoomEvent, policy: GroupingPolicy): boolean {
  const b = event.body;
  if (b.type === "leaderboard") return b.totalPlayers > policy.boardsAbove;
  const a = announcementOf(event);
  return a !== null && a.count > policy.announceAbove;
}

/**
 * The frames of a room event (none for one the policy groups: the door sends
 * those on its own schedule). USER_JOINED and USER_LEFT follow a participant's
 * presence (`announcementOf`). Leaderboards come
 * from the self_paced batch (`leaderboard`, at most every 100 ms, top 100), from
 * each live reveal and from the end; per-answer `scored` events are not
 * broadcast (SCORE_UPDATED is the submitter's reply, and everyone's score
 * reaches everyone in the batch).
 */
export function encodeEvent(event: RoomEvent, policy: GroupingPolicy | null = null): EventFrame[] {
  if (policy !== null && isGrouped(event, policy)) return [];
  const b = event.body;
  const sid = event.sessionId;
  switch (b.type) {
    case "participant_joined":
    case "participant_left":
    case "presence": {
      const a = announcementOf(event);
      return a ? [announcementFrame(a, event.at)] : [];
    }
    case "started":
      return [
        sharedFrame(
          "SESSION_STARTED",
          frame("SESSION_STARTED", startedPayload(sid, b.startedAt), event.at),
        ),
      ];
    case "leaderboard":
      return [board(event, b, (id) => b.ranks(id), true)];
    case "reveal":
      return [board(event, b, (id) => b.results.get(id)?.rank ?? null, false)];
    case "ended": {
      return [
        board(event, b, (id) => b.results.get(id)?.rank ?? null, false),
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
    // The host-absence events (docs/protocol.md, "The host's absence") are the canonical door's.
    case "paused":
    case "resumed":
    case "host_changed":
    case "scored":
      return [];
    default: {
      const never: never = b;
      return never;
    }
  }
}
