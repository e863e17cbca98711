import type { ParticipantId, QuestionId, QuizId, SessionId, UserId } from "../domain/ids.js";
import { exhaustive, type PhaseKind, type SessionStatus, statusOf } from "../domain/phase.js";
import {
  type AnswerValue,
  correctAnswerOf,
  type Question,
  type QuestionKind,
} from "../domain/quiz.js";
import type { SessionMode } from "../domain/session-settings.js";
import type { AnswerRecord, ParticipantStatus, SessionBundle } from "../ports/storage.js";

/** A session's results: what a host exports once (or while) it runs. */
export interface SessionResults {
  session: ResultsSession;
  questions: ResultsQuestion[];
  /** One row per player (hosts excluded), kicked players included; ordered by rank, kicked last. */
  players: ResultsPlayer[];
}

export interface ResultsSession {
  id: SessionId;
  pin: string;
  title: string;
  quizId: QuizId;
  mode: SessionMode;
  phase: PhaseKind;
  status: SessionStatus;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  questionCount: number;
}

export interface ResultsQuestion {
  index: number;
  id: QuestionId;
  kind: QuestionKind;
  text: string;
  options: string[];
  /** The correct answer as shown at reveal: the correct options' texts, or the canonical typed answer. */
  correctAnswers: string[];
}

export interface ResultsPlayer {
  participantId: ParticipantId;
  userId: UserId;
  name: string;
  status: ParticipantStatus;
  /** Sum of the points of the stored answers (S-6), never the participant record's cached score. */
  score: number;
  /** 1-based and unique among ranked players (L-1); null for kicked players (L-3). */
  rank: number | null;
  /** One entry per question of the session, in question order. */
  answers: ResultsAnswer[];
}

export interface ResultsAnswer {
  questionIndex: number;
  answered: boolean;
  /** Readable answer: chosen option texts joined with " | ", or the typed text; null when unanswered. */
  answer: string | null;
  correct: boolean;
  points: number;
  /** Server-measured answer time (S-5); null when unanswered. */
  elapsedMs: number | null;
}

/** A player's game in three numbers: what a results summary row shows beside rank and score. */
export interface PlayerSummary {
  /** Questions answered correctly. */
  correct: number;
  /** Questions answered at all. */
  answered: number;
  /** Mean server-measured answer time over the answered questions (S-5), rounded to the ms; null when none were answered. */
  averageElapsedMs: number | null;
}

/** Sums up one player's answers. Pure. */
export function summarizePlayer(player: Pick<ResultsPlayer, "answers">): PlayerSummary {
  let correct = 0;
  let answered = 0;
  let timed = 0;
  let totalMs = 0;
  for (const a of player.answers) {
    if (!a.answered) continue;
    answered++;
    if (a.correct) correct++;
    if (a.elapsedMs !== null) {
      timed++;
      totalMs += a.elapsedMs;
    }
  }
  return { correct, answered, averageElapsedMs: timed === 0 ? null : Math.round(totalMs / timed) };
}

/** Separator between the option texts of a multiple-select answer. */
export const ANSWER_SEPARATOR = " | ";

/**
 * Builds a session's results from its stored bundle. Pure.
 *
 * Scores are the sums of the stored answers' points (S-6). When the bundle holds one answer per
 * (participant, question), as storage guarantees, that answer is used; should it hold more, the
 * one with the highest `seq` counts (A-1: the last answer counts).
 *
 * Ranks (L-1..L-3): when `bundle.standings` is non-empty (the session ended) the players are
 * ordered as the stored standings order them; otherwise they are ranked as the engine ranks them:
 * score descending, then the `seq` of the latest answer that earned points ascending (who reached
 * the score first), then join order ascending for zero scores, then participant id. Either way
 * ranks are then numbered 1, 2, 3, … over the players who were not kicked (a player kicked after
 * the end drops out; one missing from the standings follows in the engine's order). Kicked players
 * get rank null and come last, in join order.
 */
export function buildResults(bundle: SessionBundle): SessionResults {
  const { session } = bundle;
  const questions = session.questions;

  const latest = latestAnswers(bundle.answers);
  const players = bundle.participants.filter((p) => p.role === "player");

  const rows = players.map((p) => {
    const byIndex = latest.get(p.id) ?? new Map<number, AnswerRecord>();
    let score = 0;
    let reachedAt = -1;
    for (const a of byIndex.values()) {
      score += a.points;
      if (a.points > 0 && a.seq > reachedAt) reachedAt = a.seq;
    }
    const answers = questions.map((q, i) => answerOf(q, i, byIndex.get(i)));
    // L-2: the same single number range the engine uses (answer seq, else join order).
    const tieBreak = reachedAt >= 0 ? reachedAt : p.joinOrder;
    return { participant: p, score, tieBreak, answers };
  });
  type Row = (typeof rows)[number];

  const engineOrder = (a: Row, b: Row): number => {
    if (a.score !== b.score) return b.score - a.score;
    if (a.tieBreak !== b.tieBreak) return a.tieBreak - b.tieBreak;
    return compareStrings(a.participant.id, b.participant.id);
  };

  const active = rows.filter((r) => r.participant.status !== "kicked");
  const kicked = rows
    .filter((r) => r.participant.status === "kicked")
    .sort((a, b) => a.participant.joinOrder - b.participant.joinOrder);

  let ordered: Row[];
  if (bundle.standings.length > 0) {
    const storedRank = new Map(bundle.standings.map((s) => [s.participantId, s.rank]));
    ordered = [...active].sort((a, b) => {
      const ra = storedRank.get(a.participant.id);
      const rb = storedRank.get(b.participant.id);
      if (ra !== undefined && rb !== undefined) return ra - rb || engineOrder(a, b);
      if (ra !== undefined) return -1;
      if (rb !== undefined) return 1;
      return engineOrder(a, b);
    });
  } else {
    ordered = [...active].sort(engineOrder);
  }

  const toPlayer = (r: Row, rank: number | null): ResultsPlayer => ({
    participantId: r.participant.id,
    userId: r.participant.userId,
    name: r.participant.name,
    status: r.participant.status,
    score: r.score,
    rank,
    answers: r.answers,
  });

  return {
    session: {
      id: session.id,
      pin: session.pin,
      title: session.title,
      quizId: session.quizId,
      mode: session.settings.mode,
      phase: session.state.phase.kind,
      status: statusOf(session.state.phase),
      createdAt: session.createdAt,
      startedAt: session.state.startedAt,
      endedAt: session.state.endedAt,
      questionCount: questions.length,
    },
    questions: questions.map((q, index) => ({
      index,
      id: q.id,
      kind: q.kind,
      text: q.text,
      options: [...q.options],
      correctAnswers: correctAnswerOf(q).texts,
    })),
    players: [
      ...ordered.map((r, i) => toPlayer(r, i + 1)),
      ...kicked.map((r) => toPlayer(r, null)),
    ],
  };
}

/** Renders a stored answer as text a person can read next to the question. */
export function answerText(q: Question | undefined, a: AnswerValue): string {
  const option = (i: number) => q?.options[i] ?? `#${i}`;
  switch (a.kind) {
    case "choice":
      return option(a.index);
    case "choices":
      return a.indices.map(option).join(ANSWER_SEPARATOR);
    case "text":
      return a.text;
    default:
      return exhaustive(a);
  }
}

function answerOf(q: Question, index: number, a: AnswerRecord | undefined): ResultsAnswer {
  if (!a) {
    return {
      questionIndex: index,
      answered: false,
      answer: null,
      correct: false,
      points: 0,
      elapsedMs: null,
    };
  }
  return {
    questionIndex: index,
    answered: true,
    answer: answerText(q, a.answer),
    correct: a.correct,
    points: a.points,
    elapsedMs: a.elapsedMs,
  };
}

/** participant → question index → the answer with the highest seq. */
function latestAnswers(
  answers: readonly AnswerRecord[],
): Map<ParticipantId, Map<number, AnswerRecord>> {
  const out = new Map<ParticipantId, Map<number, AnswerRecord>>();
  for (const a of answers) {
    let byIndex = out.get(a.participantId);
    if (!byIndex) {
      byIndex = new Map();
      out.set(a.participantId, byIndex);
    }
    const prev = byIndex.get(a.questionIndex);
    if (!prev || a.seq > prev.seq) byIndex.set(a.questionIndex, a);
  }
  return out;
}

/** The engine's leaderboard compares ids with `<`, not locale rules. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
