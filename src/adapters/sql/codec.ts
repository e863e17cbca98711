/**
 * Conversion between domain records and table rows. JSON columns are written and read only
 * here, so the casts on the way back trust what this module wrote.
 */
import {
  asParticipantId,
  asQuestionId,
  asQuizId,
  asSessionId,
  asUserId,
} from "../../domain/ids.js";
import { type Phase, statusOf } from "../../domain/phase.js";
import type {
  AnswerValue,
  Difficulty,
  Multiplier,
  Question,
  QuestionKind,
  Quiz,
} from "../../domain/quiz.js";
import type { SessionSettings } from "../../domain/session-settings.js";
import type {
  AnswerRecord,
  BanRecord,
  ParticipantRecord,
  ParticipantRole,
  ParticipantStatus,
  RecentRequest,
  ServedRecord,
  SessionRecord,
  SessionStateRecord,
  StandingRecord,
} from "../../ports/storage.js";
import type {
  AnswersTable,
  BansTable,
  IntBool,
  ParticipantsTable,
  QuestionColumns,
  QuizzesTable,
  ServedQuestionsTable,
  SessionsTable,
} from "./schema.js";

function toJson(value: unknown): string {
  return JSON.stringify(value);
}

function fromJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

function toIntBool(b: boolean): IntBool {
  return b ? 1 : 0;
}

// Postgres hands back 0/1 integers too; `!== 0` also accepts a driver that returns booleans.
function fromIntBool(v: number): boolean {
  return v !== 0;
}

export function questionToRow(q: Question): QuestionColumns {
  return {
    id: q.id,
    kind: q.kind,
    text: q.text,
    options_json: toJson(q.options),
    correct_json: toJson(q.correct),
    accepted_json: toJson(q.accepted),
    time_limit_ms: q.timeLimitMs,
    multiplier: q.multiplier,
    difficulty: q.difficulty,
    tags_json: toJson(q.tags),
    points: q.points,
    image: q.image ?? null,
  };
}

export function rowToQuestion(r: QuestionColumns): Question {
  return {
    id: asQuestionId(r.id),
    kind: r.kind as QuestionKind,
    text: r.text,
    options: fromJson<string[]>(r.options_json),
    correct: fromJson<number[]>(r.correct_json),
    accepted: fromJson<string[]>(r.accepted_json),
    timeLimitMs: r.time_limit_ms,
    multiplier: r.multiplier as Multiplier,
    difficulty: r.difficulty as Difficulty,
    tags: fromJson<string[]>(r.tags_json),
    points: r.points,
    ...(r.image === null || r.image === undefined ? {} : { image: r.image }),
  };
}

export function quizToRow(q: Quiz): QuizzesTable {
  return {
    id: q.id,
    title: q.title,
    description: q.description,
    created_at: q.createdAt,
    updated_at: q.updatedAt,
  };
}

export function rowToQuiz(r: QuizzesTable, questions: Question[]): Quiz {
  return {
    id: asQuizId(r.id),
    title: r.title,
    description: r.description,
    questions,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The question index a phase is about, for the `current_index` column. */
function phaseIndex(phase: Phase): number | null {
  switch (phase.kind) {
    case "question":
    case "reveal":
    case "intermission":
      return phase.index;
    default:
      return null;
  }
}

/** When a phase ends by timer, for the `deadline_ms` column. */
function phaseDeadline(phase: Phase): number | null {
  switch (phase.kind) {
    case "question":
      return phase.deadline;
    case "reveal":
    case "intermission":
      return phase.until;
    default:
      return null;
  }
}

/** The columns a `session_state` write sets. */
export type SessionStateColumns = Pick<
  SessionsTable,
  | "status"
  | "phase"
  | "phase_json"
  | "current_index"
  | "deadline_ms"
  | "locked"
  | "epoch"
  | "seq"
  | "started_at"
  | "ended_at"
  | "recent_requests_json"
> &
  Partial<Pick<SessionsTable, "host_user_id">>;

export function stateToColumns(s: SessionStateRecord): SessionStateColumns {
  return {
    status: statusOf(s.phase),
    phase: s.phase.kind,
    phase_json: toJson(s.phase),
    current_index: phaseIndex(s.phase),
    deadline_ms: phaseDeadline(s.phase),
    locked: toIntBool(s.locked),
    epoch: s.epoch,
    seq: s.seq,
    started_at: s.startedAt,
    ended_at: s.endedAt,
    recent_requests_json: toJson(s.recentRequests ?? []),
    // Host rights handed over (H-2, H-3) move the session's host; absent, the column is left alone.
    ...(s.hostUserId !== undefined ? { host_user_id: s.hostUserId } : {}),
  };
}

export function sessionToRow(s: SessionRecord): SessionsTable {
  return {
    id: s.id,
    pin: s.pin,
    quiz_id: s.quizId,
    title: s.title,
    mode: s.settings.mode,
    settings_json: toJson(s.settings),
    questions_json: toJson(s.questions),
    host_user_id: s.hostUserId,
    created_at: s.createdAt,
    ...stateToColumns(s.state),
  };
}

export function rowToSession(r: SessionsTable): SessionRecord {
  return {
    id: asSessionId(r.id),
    pin: r.pin,
    quizId: asQuizId(r.quiz_id),
    title: r.title,
    settings: fromJson<SessionSettings>(r.settings_json),
    questions: fromJson<Question[]>(r.questions_json),
    hostUserId: asUserId(r.host_user_id),
    createdAt: r.created_at,
    state: stateOf(r),
  };
}

function stateOf(r: SessionsTable): SessionStateRecord {
  const state: SessionStateRecord = {
    phase: fromJson<Phase>(r.phase_json),
    locked: fromIntBool(r.locked),
    epoch: r.epoch,
    seq: r.seq,
    startedAt: r.started_at,
    endedAt: r.ended_at,
  };
  const recent = fromJson<RecentRequest[]>(r.recent_requests_json ?? "[]");
  if (recent.length > 0) state.recentRequests = recent;
  return state;
}

/** A participant's row; `final_rank` is left to `standings_put`. */
export function participantToRow(p: ParticipantRecord): Omit<ParticipantsTable, "final_rank"> {
  return {
    id: p.id,
    session_id: p.sessionId,
    user_id: p.userId,
    name: p.name,
    role: p.role,
    join_order: p.joinOrder,
    joined_at: p.joinedAt,
    status: p.status,
    resume_token_hash: p.resumeTokenHash,
    score: p.score,
    kick_reason: p.kickReason,
  };
}

export function rowToParticipant(r: ParticipantsTable): ParticipantRecord {
  return {
    id: asParticipantId(r.id),
    sessionId: asSessionId(r.session_id),
    userId: asUserId(r.user_id),
    name: r.name,
    role: r.role as ParticipantRole,
    joinOrder: r.join_order,
    joinedAt: r.joined_at,
    status: r.status as ParticipantStatus,
    resumeTokenHash: r.resume_token_hash,
    score: r.score,
    kickReason: r.kick_reason,
  };
}

/** The participant's place on the final leaderboard; undefined until `standings_put` set it. */
export function rowToStanding(r: ParticipantsTable): StandingRecord | undefined {
  if (r.final_rank === null) return undefined;
  return { participantId: asParticipantId(r.id), score: r.score, rank: r.final_rank };
}

export function answerToRow(a: AnswerRecord): AnswersTable {
  return {
    session_id: a.sessionId,
    participant_id: a.participantId,
    question_index: a.questionIndex,
    question_id: a.questionId,
    answer_json: toJson(a.answer),
    is_correct: toIntBool(a.correct),
    points: a.points,
    elapsed_ms: a.elapsedMs,
    received_at: a.receivedAt,
    seq: a.seq,
    request_key: a.requestKey ?? null,
  };
}

export function rowToAnswer(r: AnswersTable): AnswerRecord {
  const record: AnswerRecord = {
    sessionId: asSessionId(r.session_id),
    participantId: asParticipantId(r.participant_id),
    questionIndex: r.question_index,
    questionId: r.question_id,
    answer: fromJson<AnswerValue>(r.answer_json),
    correct: fromIntBool(r.is_correct),
    points: r.points,
    elapsedMs: r.elapsed_ms,
    receivedAt: r.received_at,
    seq: r.seq,
  };
  if (r.request_key !== null && r.request_key !== undefined) record.requestKey = r.request_key;
  return record;
}

export function servedToRow(s: ServedRecord): ServedQuestionsTable {
  return {
    session_id: s.sessionId,
    participant_id: s.participantId,
    question_index: s.questionIndex,
    served_at: s.servedAt,
  };
}

export function rowToServed(r: ServedQuestionsTable): ServedRecord {
  return {
    sessionId: asSessionId(r.session_id),
    participantId: asParticipantId(r.participant_id),
    questionIndex: r.question_index,
    servedAt: r.served_at,
  };
}

export function banToRow(b: BanRecord): BansTable {
  return { session_id: b.sessionId, user_id: b.userId, until: b.until, reason: b.reason };
}

export function rowToBan(r: BansTable): BanRecord {
  return {
    sessionId: asSessionId(r.session_id),
    userId: asUserId(r.user_id),
    until: r.until,
    reason: r.reason,
  };
}
