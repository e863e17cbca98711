import type { ErrorCode } from "../../domain/errors.js";
import { correctAnswerOf, type Question } from "../../domain/quiz.js";
import type { SessionInfo } from "../../engine/room-handle.js";
import type {
  PhaseView,
  PublicParticipant,
  RoomEvent,
  Snapshot,
  Standing,
} from "../../engine/types.js";
import type { SessionBundle } from "../../ports/storage.js";
import { type EventFrame, sharedFrame } from "../ws-kit/dialect.js";
import type {
  PlayerState,
  ScoreboardEntry,
  ServerFrame,
  ServerPayload,
  ServerType,
} from "./protocol.js";

/**
 * Contest state and room events as seed 004 frames. A broadcast is encoded
 * once per event and the same bytes go to every recipient (STYLE.md §13).
 */

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

/** The roster of a quick_fire event (the room lists it there), as the seed shows players. */
function rosterStates(roster: readonly PublicParticipant[] | null, hostUserId: string) {
  return playerStates(
    (roster ?? []).map((p) => ({ userId: p.userId, name: p.name, score: p.score })),
    hostUserId,
  );
}

/** GAME_OVER from the final standings, in rank order. */
export function finalFrame(
  info: Pick<SessionInfo, "hostUserId" | "questions">,
  standings: readonly Standing[],
): string {
  return gameOverFrame(
    info,
    standings.map((s) => ({ userId: s.userId, name: s.name, score: s.score, rank: s.rank })),
  );
}

/** GAME_OVER from a stored session that has ended (its room no longer answers). */
export function storedGameOverFrame(bundle: SessionBundle): string {
  const people = new Map(bundle.participants.map((p) => [p.id, p]));
  const lines: FinalLine[] = [];
  for (const s of bundle.standings) {
    const p = people.get(s.participantId);
    if (p) lines.push({ userId: p.userId, name: p.name, score: s.score, rank: s.rank });
  }
  return gameOverFrame(bundle.session, lines);
}

/** When a stored session ended, or null while it has not (as far as storage knows). */
export function endedAtOf(bundle: SessionBundle): number | null {
  const state = bundle.session.state;
  return state.phase.kind === "ended" ? (state.endedAt ?? state.phase.at) : null;
}

/**
 * A room event as the seed's messages: everyone hears of arrivals (with the
 * roster), the start, each question, correct answers (the seed announces no
 * wrong ones) and the end. The rest has no message in the seed.
 */
export function encodeEvent(
  event: RoomEvent,
  info: Pick<SessionInfo, "hostUserId" | "questions">,
): EventFrame[] {
  const b = event.body;
  const host = info.hostUserId;
  switch (b.type) {
    case "participant_joined": {
      const p = b.participant;
      return [
        sharedFrame(
          "PLAYER_JOINED",
          playerJoinedFrame(
            { userId: p.userId, name: p.name },
            b.playerCount,
            rosterStates(b.roster, host),
            host,
          ),
        ),
      ];
    }
    case "scored":
      if (!b.correct) return [];
      return [
        sharedFrame(
          "SCORE_UPDATE",
          scoreUpdateFrame({ userId: b.userId, name: b.name, score: b.score }, b.points),
        ),
      ];
    case "started":
      return [
        sharedFrame(
          "CONTEST_STARTED",
          contestStartedFrame(b.questionCount, rosterStates(b.roster, host)),
        ),
      ];
    case "question":
      return [
        sharedFrame(
          "NEW_QUESTION",
          frame("NEW_QUESTION", {
            question_number: b.index + 1,
            total_questions: b.total,
            question_id: b.question.id,
            question_text: b.question.text,
            options: [...b.question.options],
            timer: secondsLeft(b.deadline, b.openedAt),
          }),
        ),
      ];
    case "ended":
      return [sharedFrame("GAME_OVER", finalFrame(info, b.standings))];
    case "kicked":
      // The driver closes the player's connections (4003) right after this.
      return [
        sharedFrame(
          "ERROR",
          errorFrame("FORBIDDEN", "you were removed from this contest", "kicked"),
        ),
      ];
    case "participant_left":
    case "presence":
    case "player_count":
    case "answer_count":
    case "question_closed":
    case "reveal":
    case "intermission":
    case "leaderboard":
    case "locked":
    // The host-absence events (docs/protocol.md, "The host's absence") are the canonical door's.
    case "paused":
    case "resumed":
    case "host_changed":
      return [];
    default: {
      const never: never = b;
      return never;
    }
  }
}
