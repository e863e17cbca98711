import type { LocalRateLimiter } from "../../ports/cluster.js";

export interface GuardLimits {
  /** Sustained messages per second per connection, and the burst allowed on top. */
  messagesPerSecond: number;
  messageBurst: number;
  /** Rate-limited messages after which the connection should be closed. */
  floodCloseAfter: number;
  /** Invalid messages per minute after which the connection should be closed. */
  strikesPerMinute: number;
}

export type Admission =
  | { ok: true }
  | { ok: false; close: false; retryAfterMs: number }
  | { ok: false; close: true };

/**
 * The per-connection limits every door applies before it reads a message:
 * a token bucket for messages, and a count of invalid messages ("strikes").
 */
export class InboundGuard {
  private floods = 0;

  constructor(
    private readonly limiter: LocalRateLimiter,
    private readonly limits: GuardLimits,
    private readonly key: string,
  ) {}

  /** Whether the next message may be processed; a flood that goes on asks for a close. */
  admit(): Admission {
    const { messageBurst, messagesPerSecond } = this.limits;
    const r = this.limiter.takeSync(
      `msg:${this.key}`,
      messageBurst,
      (messageBurst / messagesPerSecond) * 1000,
    );
    if (r.allowed) return { ok: true };
    this.floods += 1;
    if (this.floods >= this.limits.floodCloseAfter) return { ok: false, close: true };
    return { ok: false, close: false, retryAfterMs: r.retryAfterMs };
  }

  /** Records an invalid message; true when the connection has had too many and should be closed. */
  strike(): boolean {
    return !this.limiter.takeSync(`strike:${this.key}`, this.limits.strikesPerMinute, 60_000)
      .allowed;
  }
}
