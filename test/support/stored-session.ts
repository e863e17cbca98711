/**
 * What the storage adapters' own tests (SQLite, Postgres) write and then read back with their
 * database's own client: one played session, the columns it must leave behind, and the tables
 * the migrations create.
 */
import { asParticipantId, asQuizId, asSessionId, asUserId } from "../../src/domain/ids.js";
import type { Question } from "../../src/domain/quiz.js";
import type { SessionRecord, SessionWrite } from "../../src/ports/storage.js";
import { sessionRecord } from "./fixtures.js";

/** The stored sessions' clock: epoch ms beyond 32 bits. */
export const T0 = 1_700_000_000_000;

/** Every table the migrations create (kysely's own aside), sorted by name. */
export const STORAGE_TABLES = [
  "answers",
  "bank_questions",
  "bans",
  "images",
  "meta",
  "participants",
  "quiz_questions",
  "quizzes",
  "served_questions",
  "sessions",
];

/** A live session of quiz "quiz" in its lobby, created at T0. */
export function storedSession(
  id: string,
  pin = "482913",
  questions: Question[] = [],
): SessionRecord {
  return {
    ...sessionRecord("live", questions, {}, T0),
    id: asSessionId(id),
    pin,
    quizId: asQuizId("quiz"),
    title: "Session",
  };
}

/** The writes of a session with one player (Ann) who answered question 1 while it was open. */
export function playedSession(
  id: string,
  pin = "482913",
  questions: Question[] = [],
): SessionWrite[] {
  const s = storedSession(id, pin, questions);
  const pid = asParticipantId(`${id}/p1`);
  return [
    { kind: "session_created", session: s },
    {
      kind: "participant_put",
      participant: {
        id: pid,
        sessionId: s.id,
        userId: asUserId("u1"),
        name: "Ann",
        role: "player",
        joinOrder: 0,
        joinedAt: T0,
        status: "active",
        resumeTokenHash: "f".repeat(64),
        score: 0,
        kickReason: null,
      },
    },
    {
      kind: "session_state",
      sessionId: s.id,
      state: {
        ...s.state,
        phase: { kind: "question", index: 1, openedAt: T0, deadline: T0 + 20_000, closedAt: null },
        locked: true,
        startedAt: T0,
      },
    },
    {
      kind: "answer_put",
      answer: {
        sessionId: s.id,
        participantId: pid,
        questionIndex: 1,
        questionId: "q2",
        answer: { kind: "choices", indices: [0, 2] },
        correct: true,
        points: 1800,
        elapsedMs: 2_000,
        receivedAt: T0 + 2_000,
        seq: 1,
      },
      participantScore: 1800,
    },
  ];
}

/** The row of `sessions` a played session leaves, in plain columns. */
export const PLAYED_SESSION_ROW = {
  status: "active",
  phase: "question",
  current_index: 1,
  deadline_ms: T0 + 20_000,
  locked: 1,
  mode: "live",
  started_at: T0,
  ended_at: null,
};

/** The row of `participants` a played session leaves (score and final rank). */
export const PLAYED_PARTICIPANT_ROW = { score: 1800, final_rank: null };
