/**
 * Countdowns against the server's clock. The server is the only clock (T-1):
 * a deadline is absolute server epoch ms, and the client turns it into time
 * left with its estimate of the server's clock (local time + measured offset).
 */

/** What a countdown shows at one instant. */
export interface Countdown {
  /** Milliseconds left, never negative. */
  msLeft: number;
  /** Whole seconds shown to people: rounded up, so "1" lasts until the very end. */
  seconds: number;
  /** Share of the time limit left, in [0, 1] (1 when the limit is unknown). */
  fraction: number;
  /** The deadline has passed. */
  expired: boolean;
  /** Five seconds or less: the UI may draw attention to it. */
  urgent: boolean;
}

/** The server's clock estimated from the local clock and the measured offset (server − local). */
export function serverNow(localNowMs: number, offsetMs: number): number {
  return localNowMs + offsetMs;
}

/**
 * The countdown to `deadlineMs` (server epoch ms) at server time `serverNowMs`,
 * out of a limit of `totalMs`. Null when there is no deadline.
 */
export function countdown(
  deadlineMs: number | null,
  serverNowMs: number,
  totalMs: number | null = null,
): Countdown | null {
  if (deadlineMs === null || !Number.isFinite(deadlineMs)) return null;
  const msLeft = Math.max(0, deadlineMs - serverNowMs);
  const seconds = Math.ceil(msLeft / 1000);
  const fraction =
    totalMs !== null && totalMs > 0
      ? Math.min(1, Math.max(0, msLeft / totalMs))
      : msLeft > 0
        ? 1
        : 0;
  return { msLeft, seconds, fraction, expired: msLeft === 0, urgent: msLeft > 0 && seconds <= 5 };
}
