/**
 * The stable error codes every door reports (mapped to its own dialect where a
 * seed dictates one). docs/errors.md documents each; a test keeps the two in step.
 */
export const ERROR_CODES = {
  /** The caller may not do this: wrong role, banned, locked room. */
  FORBIDDEN: { status: 403, retryable: false },
  /** Too many messages or attempts; retry later. */
  RATE_LIMIT: { status: 429, retryable: true },
  /** The message or body is malformed or a field is out of range. */
  VALIDATION: { status: 400, retryable: false },
  /** The request is valid but not now: question closed, room ended, room full. */
  STATE: { status: 409, retryable: false },
  /** No such room, PIN, quiz, participant or question. */
  NOT_FOUND: { status: 404, retryable: false },
  /** The request collides with existing data: name taken, id in use. */
  CONFLICT: { status: 409, retryable: false },
  /** Not authenticated: a missing, bad or expired token. */
  UNAUTHORIZED: { status: 401, retryable: false },
  /** Storage or a dependency is unavailable; nothing was changed; retry. */
  UNAVAILABLE: { status: 503, retryable: true },
  /** A bug on our side; nothing the client did. */
  INTERNAL: { status: 500, retryable: true },
  /**
   * Seed 000's name for the same: an unexpected failure while handling a message. The canonical
   * WebSocket door (seed 000's envelope) reports those with it; REST keeps INTERNAL.
   */
  UNKNOWN: { status: 500, retryable: true },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface DomainError {
  code: ErrorCode;
  msg: string;
  /** Machine-readable detail for UIs, e.g. "room_locked", "name_taken", "banned". */
  reason?: string;
}

export type Result<T, E = DomainError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });

export function fail(
  code: ErrorCode,
  msg: string,
  reason?: string,
): { ok: false; error: DomainError } {
  return { ok: false, error: reason === undefined ? { code, msg } : { code, msg, reason } };
}

/** Thrown by doors for protocol violations; caught in one place per door and turned into an error frame. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly reason?: string,
    /** RATE_LIMIT: how long to wait, when known. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "ProtocolError";
  }
}
