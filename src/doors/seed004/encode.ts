import type { ErrorCode } from "../../domain/errors.js";
import { asUserId } from "../../domain/ids.js";
import { correctAnswerOf, type Question } from "../../domain/quiz.js";
import type { RoomRuntime } from "../../engine/room-runtime.js";
import type { Actor, PhaseView, RoomEvent, Snapshot } from "../../engine/types.js";
import type {
  PlayerState,
  ScoreboardEntry,
  ServerFrame,
  ServerPayload,
  ServerType,
} from "./protocol.js";

/**
 * Room state and room events as seed 004 frames. A broadcast is encoded once
 * and cached on the event (STYLE.md §13); every recipient gets the same string.
 */
export interface EncodedFrame {
  type: ServerType;
  frame: string;
}

const CACHE_KEY = "seed004";
const STARTED_MESSAGE = "Contest has started!";
const FINISHED_MESSAGE = "Contest finished!";
/** Reads rosters as nobody in particular: never a member, never the host. */
const BYSTANDER: Actor = { userId: asUserId("seed004:bystander"), roles: [], anonymous: true };

export function frame<T extends ServerType>(type: T, payload: ServerPayload<T>): string {
  const f: ServerFrame<T> = { type, payload };
  return JSON.stringify(f);
}

export function errorFrame(
  code: ErrorCode,
  message: string,
  reason?: string,
  retryAfterMs?: number,
): string {
  const payload: ServerPayload<"ERROR"> = { code, message };
  if (reason !== undefined) payload.reason = reason;
  if (retryAfterMs !== undefined) payload.retry_after_ms = retryAfterMs;
  return frame("ERROR", payload);
}

/** The correct answer as one text: the correct option (options joined by " | " if several). */
export function correctText(q: Question): string {
  return correctAnswerOf(q).texts.join(" | ");
}

/** Whole seconds from `now` to `deadline` (rounded up, so a fresh 15 s question says 15). */
export function secondsLeft(deadline: number | null, now: number): number {
  if (deadline === null) return 0;
  return Math.max(0, Math.ceil((deadline - now) / 1000));
}

/** The players of a snapshot taken with the spectator role (which lists them), in join order. */
export function rosterOf(snap: Snapshot, hostUserId: string): PlayerState[] {
  return (snap.players ?? []).map((p) => ({
    user_id: p.userId,
    username: p.name,
    score: p.score,
    is_host: p.userId === hostUserId,
  }));
}

/**
 * A spectator snapshot, taken synchronously: it changes nothing in the room,
 * and building a broadcast inside the event listener keeps frames in event order.
 */
function spectatorSnapshot(runtime: RoomRuntime): Snapshot | null {
  const outcome = runtime.read((room, now) =>
    room.execute(BYSTANDER, { type: "snapshot", role: "spectator" }, now),
  );
  if (outcome.kind !== "reply" || !outcome.reply.ok) return null;
  return outcome.reply.value as Snapshot;
}

/** GAME_OVER from the room as it stands (ended): every player ranked, every question answered. */
export function gameOverFrame(runtime: RoomRuntime): string {
  return runtime.read((room) => {
    const host = room.record.hostUserId;
    const finalScoreboard: ScoreboardEntry[] = room.standings(room.players).map((s) => ({
      user_id: s.userId,
      username: s.name,
      score: s.score,
      is_host: s.userId === host,
      rank: s.rank,
    }));
    return frame("GAME_OVER", {
      message: FINISHED_MESSAGE,
      final_scoreboard: finalScoreboard,
      questions: room.record.questions.map((q) => ({
        question_id: q.id,
        question_text: q.text,
        correct_answer: correctText(q),
      })),
    });
  });
}

export function contestStartedFrame(totalQuestions: number, players: PlayerState[]): string {
  return frame("CONTEST_STARTED", {
    message: STARTED_MESSAGE,
    total_questions: totalQuestions,
    players,
  });
}

/** NEW_QUESTION for the question a snapshot shows open, or null when none is. */
export function openQuestionFrame(snap: Snapshot): string | null {
  const p: PhaseView = snap.phase;
  if (p.kind !== "question" || p.closed || p.question === null || p.index === null) return null;
  return frame("NEW_QUESTION", {
    question_number: p.index + 1,
    total_questions: snap.questionCount,
    question_id: p.question.id,
    question_text: p.question.text,
    options: [...p.question.options],
    timer: secondsLeft(p.deadline, snap.serverTime),
  });
}

/** How this door presents a room event (encoded once, cached on the event); null: not forwarded. */
export function encodeEvent(event: RoomEvent, runtime: RoomRuntime): EncodedFrame | null {
  const cached = event.encoded.get(CACHE_KEY) as EncodedFrame | null | undefined;
  if (cached !== undefined) return cached;
  const encoded = build(event, runtime);
  event.encoded.set(CACHE_KEY, encoded);
  return encoded;
}

function build(event: RoomEvent, runtime: RoomRuntime): EncodedFrame | null {
  const b = event.body;
  switch (b.type) {
    case "participant_joined": {
      const snap = spectatorSnapshot(runtime);
      const host = runtime.room.record.hostUserId;
      return {
        type: "PLAYER_JOINED",
        frame: frame("PLAYER_JOINED", {
          user_id: b.participant.userId,
          username: b.participant.name,
          is_host: b.participant.userId === host,
          player_count: b.playerCount,
          players: snap ? rosterOf(snap, host) : [],
        }),
      };
    }
    case "started": {
      const snap = spectatorSnapshot(runtime);
      const players = snap ? rosterOf(snap, runtime.room.record.hostUserId) : [];
      return {
        type: "CONTEST_STARTED",
        frame: contestStartedFrame(b.questionCount, players),
      };
    }
    case "question":
      return {
        type: "NEW_QUESTION",
        frame: frame("NEW_QUESTION", {
          question_number: b.index + 1,
          total_questions: b.total,
          question_id: b.question.id,
          question_text: b.question.text,
          options: [...b.question.options],
          timer: secondsLeft(b.deadline, b.openedAt),
        }),
      };
    case "scored":
      // The seed tells everyone about correct answers only.
      if (!b.correct) return null;
      return {
        type: "SCORE_UPDATE",
        frame: frame("SCORE_UPDATE", {
          user_id: b.userId,
          username: b.name,
          score: b.score,
          points_earned: b.points,
        }),
      };
    case "ended":
      return { type: "GAME_OVER", frame: gameOverFrame(runtime) };
    case "participant_left":
    case "presence":
    case "player_count":
    case "answer_count":
    case "question_closed":
    case "reveal":
    case "intermission":
    case "leaderboard":
    case "locked":
    case "kicked":
      // The seed has no message for these; kicks are handled by the gateway (it closes the socket).
      return null;
    default: {
      const never: never = b;
      return never;
    }
  }
}
