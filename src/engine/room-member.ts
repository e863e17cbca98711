import { matchOptionText } from "../domain/answer-check.js";
import type { ParticipantId, SessionId, UserId } from "../domain/ids.js";
import { nameKey } from "../domain/names.js";
import type { AnswerValue, Question } from "../domain/quiz.js";
import { missedAnswerStreak } from "../domain/scoring.js";
import type {
  AnswerRecord,
  ParticipantRecord,
  ParticipantRole,
  ParticipantStatus,
} from "../ports/storage.js";
import type { MemberInfo, PublicParticipant } from "./types.js";

/** One member's answer to one question, as the room holds it. */
export interface MemberAnswer {
  record: AnswerRecord;
  /** Options this answer counts towards in the reveal's bar chart. */
  optionIndices: number[];
  pending: boolean;
  /** State before this answer applied, to undo it if storing fails. */
  undo: { score: number; streak: number; tieBreak: number; previous: MemberAnswer | undefined };
  streakAfter: number;
  scoreAfter: number;
  /** The connection's participant was connected when it answered (for the all-answered count). */
  countedConnected: boolean;
}

/** A participant (player or host) of a room, with everything the room tracks about them. */
export interface Member {
  id: ParticipantId;
  userId: UserId;
  name: string;
  key: string;
  role: ParticipantRole;
  joinOrder: number;
  joinedAt: number;
  status: ParticipantStatus;
  kickReason: string | null;
  tokenHash: string;
  connections: number;
  /** Whether this room has seen a connection of theirs yet (their first one is their arrival). */
  everConnected: boolean;
  /**
   * Joined (or rejoined, or restored) without a connection, and none has opened
   * or closed since: they count as present until one does (`isPresent`).
   */
  awaited: boolean;
  score: number;
  streak: number;
  tieBreak: number;
  answers: (MemberAnswer | undefined)[];
  /** self_paced: question index → when it was served to this member. */
  served: Map<number, number>;
  /** self_paced: the index served and not yet answered or expired. */
  current: number | null;
  /** self_paced: push questions to this member (canonical clients) or let them read them (seed 001, 002). */
  pushQuestions: boolean;
  lastAnswerAt: number | null;
}

export const isPlayer = (m: Member) => m.role === "player";
/**
 * A player taking part now (seed 001's `participant_count`): joined and not
 * left or removed, and connected — or joined and no connection seen since.
 */
export const isPresent = (m: Member) =>
  m.role === "player" && m.status === "active" && (m.connections > 0 || m.awaited);
/** L-3: players who were not kicked are on the leaderboard. */
export const ranked = (m: Member) => m.role === "player" && m.status !== "kicked";

export function newMember(p: ParticipantRecord): Member {
  return {
    id: p.id,
    userId: p.userId,
    name: p.name,
    key: nameKey(p.name),
    role: p.role,
    joinOrder: p.joinOrder,
    joinedAt: p.joinedAt,
    status: p.status,
    kickReason: p.kickReason,
    tokenHash: p.resumeTokenHash,
    connections: 0,
    everConnected: false,
    awaited: true,
    score: 0,
    streak: 0,
    tieBreak: joinTieBreak(p.joinOrder),
    answers: [],
    served: new Map(),
    current: null,
    pushQuestions: true,
    lastAnswerAt: null,
  };
}

export function memberRecord(m: Member, sessionId: SessionId): ParticipantRecord {
  return {
    id: m.id,
    sessionId,
    userId: m.userId,
    name: m.name,
    role: m.role,
    joinOrder: m.joinOrder,
    joinedAt: m.joinedAt,
    status: m.status,
    resumeTokenHash: m.tokenHash,
    score: m.score,
    kickReason: m.kickReason,
  };
}

export function publicMember(m: Member): PublicParticipant {
  return {
    participantId: m.id,
    userId: m.userId,
    name: m.name,
    role: m.role,
    status: m.status,
    connected: m.connections > 0,
    score: m.score,
  };
}

export function memberInfo(m: Member, rank: number | null): MemberInfo {
  return {
    participantId: m.id,
    userId: m.userId,
    name: m.name,
    role: m.role,
    status: m.status,
    score: m.score,
    rank,
  };
}

/** Zero scores tie-break by join order (L-2). */
export function joinTieBreak(joinOrder: number): number {
  return joinOrder;
}

/** A score above zero tie-breaks by the acceptance order of the answer that reached it (L-2). */
export function answerTieBreak(seq: number): number {
  return seq;
}

/**
 * L-2: equal scores rank by when the score was reached — the latest answer that
 * earned points — and zero scores by join order. Replaying stored answers gives
 * the same value, so ranks survive a restart.
 */
export function tieBreakOf(m: Member): number {
  let latest = -1;
  for (const a of m.answers) {
    if (a && a.record.points > 0 && a.record.seq > latest) latest = a.record.seq;
  }
  return latest < 0 ? joinTieBreak(m.joinOrder) : answerTieBreak(latest);
}

/**
 * The streak a member carries, replayed from their answers (S-2): questions
 * before `upTo` are closed (a miss resets the streak when `missesReset`), and
 * the open question `open` counts if answered. 0× questions leave it alone.
 */
export function replayStreak(
  m: Member,
  questions: readonly Question[],
  opts: { upTo: number; missesReset: boolean; open: number | null },
): number {
  let streak = 0;
  for (let i = 0; i < opts.upTo; i++) {
    const q = questions[i];
    if (!q) break;
    const a = m.answers[i];
    if (!a) {
      if (opts.missesReset) streak = missedAnswerStreak(streak, q.multiplier);
      continue;
    }
    if (q.multiplier === 0) continue;
    streak = a.record.correct ? streak + 1 : 0;
  }
  const open = opts.open;
  const current = open === null ? undefined : m.answers[open];
  if (current && open !== null && questions[open]?.multiplier !== 0) {
    return current.record.correct ? streak + 1 : 0;
  }
  return streak;
}

/** Doors whose clients send the option's text (seed 001, 004) reach choice questions through this. */
export function resolveOptionText(q: Question, value: AnswerValue): AnswerValue {
  if (value.kind !== "text" || q.kind === "typed") return value;
  const index = matchOptionText(q, value.text);
  // An unmatched text stays text, which the shape check then refuses (VALIDATION, bad_answer): a
  // client that sends an option's text can only miss by a bug or on purpose.
  return index === undefined ? value : { kind: "choice", index };
}

/** The options an answer counts towards in the reveal's bar chart. */
export function optionIndicesOf(q: Question, value: AnswerValue): number[] {
  if (q.kind === "typed") return [];
  if (value.kind === "choice") return [value.index];
  if (value.kind === "choices") return [...value.indices];
  return [];
}
