/**
 * The seed 002 dialect: a read-only leaderboard stream and the REST family
 * around it. This module is the one source of its shapes — the stream's
 * message, the REST bodies and replies, the upgrade refusals and close codes —
 * and docs/protocols/seed-002.md is checked against it by
 * test/unit/seed002-protocol-doc.test.ts.
 */
import Type from "typebox";
import { Compile } from "typebox/compile";
import { QuestionDocument } from "../../content/quiz-format.js";
import type { ErrorCode } from "../../domain/errors.js";
import { QUIZ_LIMITS } from "../../domain/quiz.js";

/** The door's name in metrics and logs. */
export const SEED002_DOOR = "seed002";

/** `/quizzes/{quizId}/ws`: the stream's path; the quiz id is its only variable part. */
export const STREAM_PATH = /^\/quizzes\/([^/]+)\/ws$/;

/** Entries a leaderboard message lists at most (ranks 1…100); `total_participants` counts all. */
export const LEADERBOARD_CAP = 100;

/** Updates of one quiz go out at most once per this window (the first at once, the last within it). */
export const UPDATE_COALESCE_MS = 100;

/** Largest client frame the stream tolerates before counting it as garbage (like the canonical door). */
export const MAX_FRAME_BYTES = 10 * 1024;

/** Concurrent streams one participant may hold open. */
export const STREAMS_PER_PARTICIPANT = 10;

/** A quiz created over POST /quizzes completes by itself this long after it was created. */
export const QUIZ_TTL_MS = 24 * 3600_000;

/** Close codes of the stream, beyond the standard ones. */
export const CLOSE_CODES = {
  /** 1000: the quiz ended; its final leaderboard was the last message. */
  quizEnded: 1000,
  /** 1001: the server is shutting down; reconnect. */
  goingAway: 1001,
  /** 1009: a frame far beyond the size limit. */
  tooBig: 1009,
  /** 1011: the server failed to read the board (for the snapshot, or to catch up); reconnect. */
  internalError: 1011,
  /** The connection kept sending binary or oversized frames. */
  protocolViolations: 4002,
  /** The participant was removed from the quiz. */
  removed: 4003,
  /** Too many frames, or the client reads too slowly to keep up. */
  rateLimited: 4008,
  /** No pong within two heartbeats. */
  heartbeatTimeout: 4010,
} as const;

/**
 * The upgrade refusals: HTTP status, the text after "WebSocket upgrade failed: ",
 * and the error code they are counted under in metrics.
 */
export const STREAM_ERRORS = {
  missingParticipant: {
    status: 400,
    message: "missing participant_id parameter",
    code: "VALIDATION",
  },
  quizNotFound: { status: 404, message: "quiz not found", code: "NOT_FOUND" },
  notInQuiz: { status: 403, message: "participant not in quiz", code: "FORBIDDEN" },
  originNotAllowed: { status: 403, message: "origin not allowed", code: "FORBIDDEN" },
  tooManyStreams: {
    status: 429,
    message: "too many streams for this participant",
    code: "RATE_LIMIT",
  },
  /** Several instances: the server running the quiz cannot be reached right now. */
  unavailable: { status: 503, message: "quiz temporarily unavailable", code: "UNAVAILABLE" },
  internal: { status: 500, message: "internal error", code: "INTERNAL" },
} as const satisfies Record<string, { status: number; message: string; code: ErrorCode }>;
export type StreamError = (typeof STREAM_ERRORS)[keyof typeof STREAM_ERRORS];

// ------------------------------------------------------------------ the stream's message

/** ISO 8601 UTC with optional fractional seconds, as `Date.prototype.toISOString` writes it. */
const IsoTimestamp = Type.String({
  pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$",
  description: "ISO 8601 UTC, e.g. 2026-02-02T10:15:05.123Z",
});

export const LeaderboardEntry = Type.Object(
  {
    participant_id: Type.String({ minLength: 1 }),
    username: Type.String({ minLength: 1 }),
    score: Type.Integer({ minimum: 0 }),
    rank: Type.Integer({ minimum: 1, description: "unique: 1, 2, 3, … (L-1, L-2)" }),
  },
  { additionalProperties: false },
);
export type LeaderboardEntry = Type.Static<typeof LeaderboardEntry>;

/** The stream's only message (snapshot on connect and every update), and GET …/leaderboard's reply. */
export const LeaderboardMessage = Type.Object(
  {
    quiz_id: Type.String({ minLength: 1 }),
    leaderboard: Type.Array(LeaderboardEntry, { maxItems: LEADERBOARD_CAP }),
    total_participants: Type.Integer({
      minimum: 0,
      description: "every ranked participant, also those beyond the listed top 100",
    }),
    timestamp: IsoTimestamp,
  },
  { additionalProperties: false },
);
export type LeaderboardMessage = Type.Static<typeof LeaderboardMessage>;

// ------------------------------------------------------------------ REST

export const QuizParams = Type.Object({ quizId: Type.String({ minLength: 1, maxLength: 64 }) });

export const FromQuizBody = Type.Object({
  from_quiz: Type.String({
    minLength: 1,
    maxLength: QUIZ_LIMITS.idMax,
    description: "the id of a stored quiz, e.g. vocab-101",
  }),
});
export type FromQuizBody = Type.Static<typeof FromQuizBody>;

/** Seed 001's Quiz model without its id: questions in the `{id, text, options, correct_answer, points}` shape. */
export const InlineQuizBody = Type.Object({
  title: Type.String({ minLength: 1, maxLength: QUIZ_LIMITS.titleMax }),
  description: Type.Optional(Type.String({ maxLength: QUIZ_LIMITS.descriptionMax })),
  questions: Type.Array(QuestionDocument, { minItems: 1, maxItems: QUIZ_LIMITS.questionsMax }),
});
export type InlineQuizBody = Type.Static<typeof InlineQuizBody>;

export const CreateQuizBody = Type.Union([FromQuizBody, InlineQuizBody], {
  description: "Either `from_quiz` or `title` with `questions`, not both.",
});

export const CreateQuizReply = Type.Object(
  { quiz_id: Type.String({ description: "the running quiz (a session id)" }) },
  { additionalProperties: false },
);

export const JoinBody = Type.Object({
  username: Type.String({
    minLength: 1,
    maxLength: 200,
    description: "display name: trimmed, 1–24 characters, unique in the quiz ignoring case (N-1)",
  }),
});

export const JoinReply = Type.Object(
  { participant_id: Type.String(), username: Type.String() },
  { additionalProperties: false },
);

export const AnswerBody = Type.Object({
  participant_id: Type.String({ minLength: 1, maxLength: 64 }),
  question_id: Type.String({ minLength: 1, maxLength: QUIZ_LIMITS.idMax }),
  answer: Type.String({
    maxLength: 1000,
    description: "an option's text (compared after normalisation, A-3) or a typed answer",
  }),
});
export type AnswerBody = Type.Static<typeof AnswerBody>;

export const AnswerReply = Type.Object(
  {
    correct: Type.Boolean(),
    points: Type.Integer({ minimum: 0 }),
    score: Type.Integer({ minimum: 0, description: "the participant's score after this answer" }),
  },
  { additionalProperties: false },
);

/** One REST route of the dialect: what the routes register and the document describes. */
export interface Endpoint {
  method: "GET" | "POST";
  /** OpenAPI-style path, as the document's heading names it. */
  path: string;
  body: Type.TSchema | null;
  /** Success statuses and their reply schema. */
  replies: Record<number, Type.TSchema>;
  errors: ErrorCode[];
}

export const ENDPOINTS = {
  createQuiz: {
    method: "POST",
    path: "/quizzes",
    body: CreateQuizBody,
    replies: { 201: CreateQuizReply },
    errors: ["VALIDATION", "UNAUTHORIZED", "NOT_FOUND", "UNAVAILABLE"],
  },
  join: {
    method: "POST",
    path: "/quizzes/{quizId}/participants",
    body: JoinBody,
    replies: { 200: JoinReply, 201: JoinReply },
    errors: [
      "VALIDATION",
      "UNAUTHORIZED",
      "FORBIDDEN",
      "NOT_FOUND",
      "STATE",
      "CONFLICT",
      "UNAVAILABLE",
    ],
  },
  answer: {
    method: "POST",
    path: "/quizzes/{quizId}/answers",
    body: AnswerBody,
    replies: { 200: AnswerReply },
    errors: ["VALIDATION", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "STATE", "UNAVAILABLE"],
  },
  leaderboard: {
    method: "GET",
    path: "/quizzes/{quizId}/leaderboard",
    body: null,
    replies: { 200: LeaderboardMessage },
    errors: ["VALIDATION", "NOT_FOUND", "UNAVAILABLE"],
  },
} as const satisfies Record<string, Endpoint>;

// ------------------------------------------------------------------ validators (compiled once)

export const leaderboardMessageValidator = Compile(LeaderboardMessage);
export const fromQuizValidator = Compile(FromQuizBody);
