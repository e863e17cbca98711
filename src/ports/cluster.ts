import type { SessionId } from "../domain/ids.js";

/**
 * Which open room a PIN belongs to (P-3). In-process by default; shared
 * through Redis when several instances serve the same rooms.
 */
export interface PinDirectory {
  /** Claims `pin` for `sessionId`; false when another open room holds it. */
  reserve(pin: string, sessionId: SessionId): Promise<boolean>;
  /** Frees `pin` if `sessionId` still holds it. */
  release(pin: string, sessionId: SessionId): Promise<void>;
  lookup(pin: string): Promise<SessionId | undefined>;
}

/** Token-bucket style limits keyed by anything (a user, an IP, a user+room). */
export interface RateLimiter {
  /**
   * Takes one unit from `key`'s allowance of `limit` per `windowMs`.
   * Resolves with whether it was allowed and, if not, how long until it would be.
   */
  take(
    key: string,
    limit: number,
    windowMs: number,
  ): Promise<{ allowed: boolean; retryAfterMs: number }>;
}

/**
 * Remembers the reply to each client message id for a while, so a retried
 * message has no second effect and gets the original reply.
 */
export interface ReplayCache {
  /** The stored reply, or undefined when this id is new. */
  get(key: string): Promise<string | undefined>;
  put(key: string, reply: string, ttlMs: number): Promise<void>;
}
