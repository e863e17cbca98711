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

  constructor(
    private readonly limiter: LocalRateLimiter,
    private readonly limits: GuardLimits,
    private readonly key: string,
    private readonly user?: UserBudget,
  ) {}

  /** Whether the next message may be processed; a flood that goes on asks for a close. */
  admit(): Admission {
    const { messageBurst, messagesPerSecond } = this.limits;
    const r = this.limiter.takeSync(
      `msg:${this.key}`,
      messageBurst,
      (messageBurst / messagesPerSecond) * 1000,
    );
    const perUser = this.limits.userMessages;
    const u =
      r.allowed && this.user && perUser !== undefined
        ? this.user.limiter.takeSync(`msg:${this.user.key}`, perUser.limit, perUser.windowMs)
        : r;
    if (u.allowed) return { ok: true };
    this.floods += 1;
    if (this.floods >= this.limits.floodCloseAfter) return { ok: false, close: true };
    return { ok: false, close: false, retryAfterMs: u.retryAfterMs };
  }

  /** Records an invalid message; true when the connection has had too many and should be closed. */
  strike(): boolean {
    return !this.limiter.takeSync(`strike:${this.key}`, this.limits.strikesPerMinute, 60_000)
      .allowed;
  }
}
