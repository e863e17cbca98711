import type { Clock, TimerHandle } from "../../ports/clock.js";

interface Slot<T> {
  /** What waits for the end of the interval; undefined: nothing. */
  pending: T | undefined;
  timer: TimerHandle;
}

/**
 * At most one flush per key per interval, on the injected clock: the first
 * offer goes out at once, offers within the interval after it are merged
 * (latest wins, or whatever `merge` keeps) and go out together when it ends.
 * A key with nothing sent for a whole interval holds no state and no timer.
 */
export class Coalescer<T> {
  private readonly slots = new Map<string, Slot<T>>();

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly flush: (key: string, value: T) => void,
  ) {}

  /**
   * `merge` turns what waits (undefined: nothing) and this offer into what waits now. True when
   * the offer went out at once, false when it waits for the end of the interval.
   */
  offer(key: string, value: T, merge: (waiting: T | undefined, value: T) => T): boolean {
    const slot = this.slots.get(key);
    if (slot) {
      slot.pending = merge(slot.pending, value);
      return false;
    }
    this.open(key);
    this.flush(key, merge(undefined, value));
    return true;
  }

  /** Forgets every key and clears its timer (shutdown). */
  stop(): void {
    for (const slot of this.slots.values()) this.clock.clearTimer(slot.timer);
    this.slots.clear();
  }

  private open(key: string): void {
    const timer = this.clock.setTimer(this.clock.now() + this.intervalMs, () => this.due(key), {
      background: true,
    });
    this.slots.set(key, { pending: undefined, timer });
  }

  private due(key: string): void {
    const slot = this.slots.get(key);
    if (!slot) return;
    this.slots.delete(key);
    const value = slot.pending;
    if (value === undefined) return;
    // What went out now opens the next interval.
    this.open(key);
    this.flush(key, value);
  }
}
