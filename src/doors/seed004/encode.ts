import type { ErrorCode } from "../../domain/errors.js";
import { correctAnswerOf, type Question } from "../../domain/quiz.js";
import type { SessionInfo } from "../../engine/room-handle.js";
import type { PhaseView, Snapshot } from "../../engine/types.js";
import type {
  PlayerState,
  ScoreboardEntry,
  ServerFrame,
  ServerPayload,
  ServerType,
} from "./protocol.js";

/**
 * Contest state and room events as seed 004 frames. A broadcast is encoded
 * once per contest and the same string goes to every recipient (STYLE.md §13).
 */
export interface EncodedFrame {
  type: ServerType;
  frame: string;
}

const STARTED_MESSAGE = "Contest has started!";
const FINISHED_MESSAGE = "Contest finished!";

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

/** One player as the door knows them: enough for rosters and scoreboards. */
export interface PlayerLine {
  userId: string;
  name: string;
  score: number;
}

/** Roster entries in the order given (join order), flagged for the host. */
export function playerStates(players: Iterable<PlayerLine>, hostUserId: string): PlayerState[] {
  const out: PlayerState[] = [];
  for (const p of players) {
    out.push({
      user_id: p.userId,
      username: p.name,
      score: p.score,
      is_host: p.userId === hostUserId,
    });
  }
  return out;
}

/** The players of a snapshot taken with the spectator role (which lists them), in join order. */
export function rosterOf(snap: Snapshot, hostUserId: string): PlayerState[] {
  return playerStates(
    (snap.players ?? []).map((p) => ({ userId: p.userId, name: p.name, score: p.score })),
    hostUserId,
  );
}

export function playerJoinedFrame(
  joiner: { userId: string; name: string },
  playerCount: number,
  players: PlayerState[],
  hostUserId: string,
): string {
  return frame("PLAYER_JOINED", {
    user_id: joiner.userId,
    username: joiner.name,
    is_host: joiner.userId === hostUserId,
    player_count: playerCount,
    players,
  });
}

export function contestStartedFrame(totalQuestions: number, players: PlayerState[]): string {
  return frame("CONTEST_STARTED", {
    message: STARTED_MESSAGE,
    total_questions: totalQuestions,
    players,
  });
}

export function scoreUpdateFrame(player: PlayerLine, pointsEarned: number): string {
  return frame("SCORE_UPDATE", {
    user_id: player.userId,
    username: player.name,
    score: player.score,
    points_earned: pointsEarned,
  });
}

/** One line of the final scoreboard. */
export interface FinalLine extends PlayerLine {
  rank: number;
}

/**
 * GAME_OVER: every player best first (by rank; equal ranks keep the order
 * given) and every question of the contest with its correct answer.
 */
export function gameOverFrame(
  info: Pick<SessionInfo, "hostUserId" | "questions">,
  lines: readonly FinalLine[],
): string {
  const finalScoreboard: ScoreboardEntry[] = [...lines]
    .sort((a, b) => a.rank - b.rank)
    .map((s) => ({
      user_id: s.userId,
      username: s.name,
      score: s.score,
      is_host: s.userId === info.hostUserId,
      rank: s.rank,
    }));
  return frame("GAME_OVER", {
    message: FINISHED_MESSAGE,
    final_scoreboard: finalScoreboard,
    questions: info.questions.map((q) => ({
      question_id: q.id,
      question_text: q.text,
      correct_answer: correctText(q),
    })),
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
