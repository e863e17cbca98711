import type { Clock } from "../../ports/clock.js";
import type { PinGuesses, PinGuessLimits, PinStanding } from "../../ports/pin-guesses.js";

/** One key's allowances: guesses and refusals left (both refill over the window), and its ban. */
interface Allowance {
  guesses: number;
  refusals: number;
  updatedAt: number;
  bannedUntil: number;
}

// Keys idle for a window (and not banned) are full again and can be forgotten.
const SWEEP_EVERY = 1_000;

/** PIN guess allowances in process memory (one instance); RedisPinGuesses is the shared twin. */
export class MemoryPinGuesses implements PinGuesses {
  private readonly keys = new Map<string, Allowance>();
  private calls = 0;

  constructor(private readonly clock: Clock) {}

  async enter(keys: readonly string[], limits: PinGuessLimits): Promise<PinStanding> {
    return this.decide(keys, limits, true);
  }

  async check(keys: readonly string[], limits: PinGuessLimits): Promise<PinStanding> {
    return this.decide(keys, limits, false);
  }

  private decide(keys: readonly string[], limits: PinGuessLimits, take: boolean): PinStanding {
    const now = this.clock.now();
    if (++this.calls % SWEEP_EVERY === 0) this.sweep(now, limits.windowMs);
    const all = keys.map((k) => this.current(k, now, limits));
    if (all.some((a) => a.bannedUntil > now)) return { kind: "banned" };
    const rate = limits.guesses / limits.windowMs;
    const short = all.filter((a) => a.guesses < 1);
    if (short.length === 0) {
      if (take) for (const a of all) a.guesses -= 1;
      return { kind: "open" };
    }
    let banned = false;
    for (const a of all) {
      if (a.refusals < 1) {
        a.bannedUntil = now + limits.banMs;
        banned = true;
      } else {
        a.refusals -= 1;
      }
    }
    if (banned) return { kind: "banned" };
    const retryAfterMs = Math.max(...short.map((a) => Math.ceil((1 - a.guesses) / rate)));
    return { kind: "limited", retryAfterMs };
  }

  async refund(keys: readonly string[], limits: PinGuessLimits): Promise<void> {
    const now = this.clock.now();
    for (const k of keys) {
      const a = this.current(k, now, limits);
      a.guesses = Math.min(limits.guesses, a.guesses + 1);
    }
  }

  /** The key's allowance refilled up to `now` (created full). */
  private current(key: string, now: number, limits: PinGuessLimits): Allowance {
    let a = this.keys.get(key);
    if (!a) {
      a = {
        guesses: limits.guesses,
        refusals: limits.refusalsBeforeBan,
        updatedAt: now,
        bannedUntil: 0,
      };
      this.keys.set(key, a);
      return a;
    }
    const elapsed = Math.max(0, now - a.updatedAt);
    a.guesses = Math.min(limits.guesses, a.guesses + (elapsed * limits.guesses) / limits.windowMs);
    a.refusals = Math.min(
      limits.refusalsBeforeBan,
      a.refusals + (elapsed * limits.refusalsBeforeBan) / limits.windowMs,
    );
    a.updatedAt = Math.max(a.updatedAt, now);
    return a;
  }

  private sweep(now: number, windowMs: number): void {
    for (const [key, a] of this.keys) {
      if (now - a.updatedAt > windowMs && a.bannedUntil <= now) this.keys.delete(key);
    }
  }
}
