import type { Clock, TimerHandle } from "../../ports/clock.js";

interface Slot<T> {
  /** What waits for the end of the interval; undefined: nothing. */
  pending: T | undefined;
  timer: TimerHandle;
  /** The interval that a flush at this one's end opens: the latest offer's. */
  intervalMs: number;
}

/**
 * At most one flush per key per interval, on the injected clock: the first
 * offer goes out at once, offers within the interval after it are merged
 * (latest wins, or whatever `merge` keeps) and go out together when it ends.
 * A key with nothing sent for a whole interval holds no state and no timer.
 * An offer may name its key's interval (a session's boards wait longer the
 * bigger it is): an interval once open keeps its length, and the next one
 * takes the latest offer's.
 */
export class Coalescer<T> {
  private readonly slots = new Map<string, Slot<T>>();

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    /** `atOnce`: the offer went out as it came (true), or at the end of its interval. */
    private readonly flush: (key: string, value: T, atOnce: boolean) => void,
  ) {}

  /**
   * `merge` turns what waits (undefined: nothing) and this offer into what waits now. True when
   * the offer went out at once, false when it waits for the end of the interval. `intervalMs`:
   * the interval this offer opens, if it opens one (the coalescer's own by default).
   */
  offer(
    key: string,
    value: T,
    merge: (waiting: T | undefined, value: T) => T,
    intervalMs = this.intervalMs,
  ): boolean {
    const slot = this.slots.get(key);
    if (slot) {
      slot.pending = merge(slot.pending, value);
      slot.intervalMs = intervalMs;
      return false;
    }
    this.open(key, intervalMs);
    this.flush(key, merge(undefined, value), true);
    return true;
  }

  /** Forgets every key and clears its timer (shutdown). */
  stop(): void {
    for (const slot of this.slots.values()) this.clock.clearTimer(slot.timer);
    this.slots.clear();
  }

  private open(key: string, intervalMs: number): void {
    const timer = this.clock.setTimer(this.clock.now() + intervalMs, () => this.due(key), {
      background: true,
    });
    this.slots.set(key, { pending: undefined, timer, intervalMs });
  }

  private due(key: string): void {
    const slot = this.slots.get(key);
    if (!slot) return;
    this.slots.delete(key);
    const value = slot.pending;
    if (value === undefined) return;
    // What went out now opens the next interval.
    this.open(key, slot.intervalMs);
    this.flush(key, value, false);
  }
}
