import type { ServerData } from "../doors/canonical/protocol.js";

/** Codes the server sends in `error` frames. */
export type ServerErrorCode = ServerData<"error">["code"];

/**
 * Every code a {@link QuizwireError} can carry: the server's codes, plus three
 * raised locally — TIMEOUT (no reply within the request timeout), DISCONNECTED
 * (the connection dropped and the request cannot be re-sent, or never came up),
 * CLOSED (the client was closed or kicked and will not reconnect).
 */
export type QuizwireErrorCode = ServerErrorCode | "TIMEOUT" | "DISCONNECTED" | "CLOSED";

export interface QuizwireErrorInit {
  code: QuizwireErrorCode;
  msg: string;
  reason?: string;
  retryable?: boolean;
  retryAfterMs?: number;
}

const LOCAL_RETRYABLE: Partial<Record<QuizwireErrorCode, boolean>> = {
  TIMEOUT: true,
  DISCONNECTED: true,
  CLOSED: false,
};

/** The error every failed SDK request rejects with. */
export class QuizwireError extends Error {
  readonly code: QuizwireErrorCode;
  readonly msg: string;
  /** Machine-readable detail, e.g. "room_locked", "name_taken", "kicked". */
  readonly reason: string | undefined;
  /** Whether retrying the same request later may succeed. */
  readonly retryable: boolean;
  /** The server's hint for when to retry (RATE_LIMIT). */
  readonly retryAfterMs: number | undefined;

  constructor(init: QuizwireErrorInit) {
    super(init.reason ? `${init.code}: ${init.msg} (${init.reason})` : `${init.code}: ${init.msg}`);
    this.name = "QuizwireError";
    this.code = init.code;
    this.msg = init.msg;
    this.reason = init.reason;
    this.retryable = init.retryable ?? LOCAL_RETRYABLE[init.code] ?? false;
    this.retryAfterMs = init.retryAfterMs;
  }

  /** Builds the error a server `error` frame stands for. */
  static fromFrame(data: ServerData<"error">): QuizwireError {
    return new QuizwireError({
      code: data.code,
      msg: data.msg,
      ...(data.reason !== undefined && { reason: data.reason }),
      retryable: data.retryable,
      ...(data.retry_after_ms !== undefined && { retryAfterMs: data.retry_after_ms }),
    });
  }
}
