import type { DomainError, ErrorCode } from "../../domain/errors.js";
import { ERROR_CODES, type Seed001ErrorCode } from "./protocol.js";

/**
 * A refusal in this dialect. Thrown by the gateway's handlers and turned into
 * an ERROR message in one place (the dispatcher).
 */
export class SeedError extends Error {
  constructor(
    readonly code: Seed001ErrorCode,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "SeedError";
  }

  get recoverable(): boolean {
    return ERROR_CODES[this.code].recoverable;
  }
}

/**
 * Every reason the engine gives for a refusal, and the seed 001 code it
 * becomes. The doc test checks this table against the engine's sources, so a
 * new engine reason cannot go unmapped.
 */
export const ENGINE_REASONS: Readonly<Record<string, Seed001ErrorCode>> = {
  room_ended: "SESSION_COMPLETED",
  room_closed: "SESSION_COMPLETED",
  room_full: "SESSION_FULL",
  not_started: "SESSION_NOT_ACTIVE",
  not_joined: "NOT_JOINED",
  no_question: "INVALID_QUESTION",
  bad_answer: "INVALID_ANSWER",
  already_answered: "ALREADY_ANSWERED",
  answer_pending: "ALREADY_ANSWERED",
  too_late: "QUESTION_CLOSED",
  not_open: "QUESTION_CLOSED",
  name_taken: "USERNAME_TAKEN",
  invalid_name: "INVALID_USERNAME",
  banned: "ACCESS_DENIED",
  kicked: "ACCESS_DENIED",
  room_locked: "ACCESS_DENIED",
  is_host: "ACCESS_DENIED",
  wrong_user: "ACCESS_DENIED",
  bad_token: "ACCESS_DENIED",
  not_host: "ACCESS_DENIED",
  storage_unavailable: "SERVICE_UNAVAILABLE",
  // The session runs on another instance that cannot be reached (or just handed it over): retry.
  owner_unreachable: "SERVICE_UNAVAILABLE",
  not_owner: "SERVICE_UNAVAILABLE",
  // Host and resume commands this dialect never sends; mapped so nothing is left unnamed.
  no_player: "REQUEST_REFUSED",
  already_kicked: "REQUEST_REFUSED",
  already_started: "REQUEST_REFUSED",
  closing: "REQUEST_REFUSED",
  self_paced: "REQUEST_REFUSED",
  // A live room paused for its absent host (H-1): the answer waits, the question is not closed.
  paused: "REQUEST_REFUSED",
  no_member: "REQUEST_REFUSED",
  // A join by room id without an invitation; this dialect joins by session id, never so.
  no_room: "INVALID_SESSION",
  already_host: "REQUEST_REFUSED",
};

/** An engine code whose reason is not in ENGINE_REASONS (a reason added later) falls back to this. */
const BY_ENGINE_CODE: Readonly<Record<ErrorCode, Seed001ErrorCode>> = {
  FORBIDDEN: "ACCESS_DENIED",
  UNAUTHORIZED: "ACCESS_DENIED",
  RATE_LIMIT: "RATE_LIMITED",
  VALIDATION: "INVALID_PAYLOAD",
  STATE: "REQUEST_REFUSED",
  NOT_FOUND: "REQUEST_REFUSED",
  CONFLICT: "REQUEST_REFUSED",
  UNAVAILABLE: "SERVICE_UNAVAILABLE",
  INTERNAL: "INTERNAL_ERROR",
  UNKNOWN: "INTERNAL_ERROR",
};

/** What the refused request was about, for the seed's own wording ("Session quiz-999 does not exist"). */
export interface ErrorContext {
  sessionId: string;
  questionId?: string;
}

/** The messages seed 001 words itself (§6.3, §7.1); every other refusal keeps the engine's text. */
export function seedMessage(code: Seed001ErrorCode, ctx: ErrorContext): string | null {
  switch (code) {
    case "INVALID_SESSION":
      return `Session ${ctx.sessionId} does not exist`;
    case "SESSION_FULL":
      return "Session at capacity";
    case "SESSION_COMPLETED":
      return `Session ${ctx.sessionId} has completed`;
    case "SESSION_NOT_ACTIVE":
      return `Session ${ctx.sessionId} is not active yet; answers count only while it is active`;
    case "INVALID_QUESTION":
      return `Question ${ctx.questionId ?? "?"} does not exist in session ${ctx.sessionId}`;
    case "NOT_JOINED":
      return `You have not joined session ${ctx.sessionId}; send JOIN_SESSION first`;
    default:
      return null;
  }
}

/** The engine's refusal in this dialect's words. */
export function fromDomainError(error: DomainError, ctx: ErrorContext): SeedError {
  const code =
    (error.reason !== undefined ? ENGINE_REASONS[error.reason] : undefined) ??
    BY_ENGINE_CODE[error.code];
  return new SeedError(code, seedMessage(code, ctx) ?? sessionWording(error.msg));
}

/** The engine says "room"; this dialect says "session", and starts its messages with a capital. */
function sessionWording(msg: string): string {
  const s = msg.replace(/\broom\b/g, "session");
  return s.charAt(0).toUpperCase() + s.slice(1);
}
