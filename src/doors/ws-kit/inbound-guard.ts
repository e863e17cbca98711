import type { LocalRateLimiter } from "../../ports/cluster.js";

export interface GuardLimits {
  /** Sustained messages per second per connection, and the burst allowed on top. */
  messagesPerSecond: number;
  messageBurst: number;
  /** Rate-limited messages after which the connection should be closed. */
  floodCloseAfter: number;
  /** Invalid messages per minute after which the connection should be closed. */
  strikesPerMinute: number;
  /**
   * Messages per user over all their connections on every instance: `limit` per fixed window of
   * `windowMs`, reconciled across instances (docs/limits.md). Unset: no per-user limit.
   */
  userMessages?: { limit: number; windowMs: number };
}

export type Admission =
  | { ok: true }
  | { ok: false; close: false; retryAfterMs: number }
  | { ok: false; close: true };

/** Where a user's own budget is kept: the limiter shared by the instances, and the user's key. */
export interface UserBudget {
  limiter: LocalRateLimiter;
  key: string;
}

/**
 * The limits every door applies before it reads a message: a token bucket
 * for the connection's messages, the user's budget over all their
 * connections (when the door sets one), and a count of invalid messages
 * ("strikes").
 */
export class InboundGuard {
  private floods = 0;
  // Built once: a key made per message is a new string to flatten and hash on every lookup.
  private readonly messageKey: string;
  private readonly strikeKey: string;
  private readonly userKey: string | null;

  constructor(
    private readonly limiter: LocalRateLimiter,
    private readonly limits: GuardLimits,
    key: string,
    private readonly user?: UserBudget,
  ) {
    this.messageKey = `msg:${key}`;
    this.strikeKey = `strike:${key}`;
    this.userKey = user ? `msg:${user.key}` : null;
  }

  /** Whether the next message may be processed; a flood that goes on asks for a close. */
  admit(): Admission {
    const { messageBurst, messagesPerSecond } = this.limits;
    const r = this.limiter.takeSync(
      this.messageKey,
      messageBurst,
      (messageBurst / messagesPerSecond) * 1000,
    );
    const perUser = this.limits.userMessages;
    const u =
      r.allowed && this.user && this.userKey !== null && perUser !== undefined
        ? this.user.limiter.takeSync(this.userKey, perUser.limit, perUser.windowMs)
        : r;
    if (u.allowed) return { ok: true };
    this.floods += 1;
    if (this.floods >= this.limits.floodCloseAfter) return { ok: false, close: true };
    return { ok: false, close: false, retryAfterMs: u.retryAfterMs };
  }

  /** Records an invalid message; true when the connection has had too many and should be closed. */
  strike(): boolean {
    return !this.limiter.takeSync(this.strikeKey, this.limits.strikesPerMinute, 60_000).allowed;
  }
}
