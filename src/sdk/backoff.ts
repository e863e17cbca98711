/** Reconnect backoff settings; every field has a default. */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter. Default 500 ms. */
  initialDelayMs?: number;
  /** Ceiling of the delay, before jitter. Default 15 000 ms. */
  maxDelayMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /**
   * Fraction of the delay that is randomised, in [0, 1]. A delay of `d` becomes
   * a value in `[d × (1 − jitter), d]`, so jitter never exceeds `maxDelayMs`.
   * Default 0.5.
   */
  jitter?: number;
}

export const BACKOFF_DEFAULTS: Required<BackoffOptions> = {
  initialDelayMs: 500,
  maxDelayMs: 15_000,
  factor: 2,
  jitter: 0.5,
};

/**
 * The delay of retry number `attempt` (0-based): `min(max, initial × factor^attempt)`,
 * then jittered down by up to `jitter` of itself using `r` ∈ [0, 1).
 */
export function backoffDelay(attempt: number, options: BackoffOptions, r: number): number {
  const o = { ...BACKOFF_DEFAULTS, ...options };
  const jitter = Math.min(1, Math.max(0, o.jitter));
  const base = Math.min(o.maxDelayMs, o.initialDelayMs * o.factor ** Math.max(0, attempt));
  const rr = Math.min(1, Math.max(0, r));
  return Math.max(0, Math.round(base * (1 - jitter * rr)));
}

/**
 * Exponential backoff with jitter for reconnects. Pure apart from the injected
 * random source: `next()` gives the next delay, `reset()` starts over after a
 * connection that worked.
 */
export class Backoff {
  private attempts = 0;
  private readonly options: BackoffOptions;

  constructor(
    options: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.options = { ...options };
  }

  /** How many delays `next()` has handed out since the last reset. */
  get attempt(): number {
    return this.attempts;
  }

  /** The delay to wait before the next attempt; advances the schedule. */
  next(): number {
    const delay = backoffDelay(this.attempts, this.options, this.random());
    this.attempts++;
    return delay;
  }

  /** Back to the initial delay. */
  reset(): void {
    this.attempts = 0;
  }
}
