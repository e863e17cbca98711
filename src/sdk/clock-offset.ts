/** One NTP-style measurement from a ping/pong pair. */
export interface ClockSample {
  /** Estimated `server clock − local clock`, in ms. */
  offsetMs: number;
  /** Round-trip time of the ping, in ms. */
  rttMs: number;
}

/**
 * The sample a ping sent at local `t0`, answered with `serverTime`, and
 * received at local `t1` gives: the server read its clock half-way through
 * the round trip. Null when the timestamps are unusable (not finite, or the
 * local clock went backwards).
 */
export function clockSample(t0: number, serverTime: number, t1: number): ClockSample | null {
  if (!Number.isFinite(t0) || !Number.isFinite(t1) || !Number.isFinite(serverTime)) return null;
  const rttMs = t1 - t0;
  if (rttMs < 0) return null;
  return { offsetMs: serverTime - (t0 + t1) / 2, rttMs };
}

export const CLOCK_WINDOW = 8;

/**
 * Estimates the server clock offset from the last `window` samples, trusting
 * the one with the smallest round trip: its midpoint assumption errs least.
 */
export class ClockOffsetEstimator {
  private samples: ClockSample[] = [];

  constructor(private readonly window: number = CLOCK_WINDOW) {
    if (!Number.isInteger(window) || window < 1) throw new RangeError("window must be ≥ 1");
  }

  /** Adds the sample for one ping; returns it, or null if it was unusable. */
  add(t0: number, serverTime: number, t1: number): ClockSample | null {
    const s = clockSample(t0, serverTime, t1);
    if (!s) return null;
    this.samples.push(s);
    if (this.samples.length > this.window) this.samples.shift();
    return s;
  }

  /** The best sample in the window, or null before the first. */
  get best(): ClockSample | null {
    let best: ClockSample | null = null;
    for (const s of this.samples) if (!best || s.rttMs <= best.rttMs) best = s; // ties: the newer sample
    return best;
  }

  /** `server clock − local clock` in ms; 0 before the first sample. */
  get offsetMs(): number {
    return this.best?.offsetMs ?? 0;
  }

  get size(): number {
    return this.samples.length;
  }

  /** Forgets every sample (a new connection may reach another server). */
  reset(): void {
    this.samples = [];
  }
}
