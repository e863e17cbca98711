import type { Clock, TimerHandle } from "../ports/clock.js";

// setTimeout's delay is a signed 32-bit number of ms; longer waits are re-armed in steps.
const MAX_DELAY_MS = 2 ** 31 - 1;

interface SystemTimer extends TimerHandle {
  timeout: NodeJS.Timeout | undefined;
}

/** Wall-clock time and real timers, for production. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  setTimer(at: number, fn: () => void): TimerHandle {
    const timer: SystemTimer = { at, timeout: undefined };
    const arm = () => {
      const delay = at - Date.now();
      if (delay <= 0) {
        timer.timeout = undefined;
        fn();
        return;
      }
      timer.timeout = setTimeout(arm, Math.min(delay, MAX_DELAY_MS));
    };
    timer.timeout = setTimeout(arm, Math.min(Math.max(0, at - Date.now()), MAX_DELAY_MS));
    return timer;
  }

  clearTimer(handle: TimerHandle): void {
    const t = (handle as SystemTimer).timeout;
    if (t !== undefined) clearTimeout(t);
    (handle as SystemTimer).timeout = undefined;
  }
}

interface FakeTimer extends TimerHandle {
  fn: () => void;
  id: number;
  cleared: boolean;
}

/**
 * A clock that only moves when a test moves it. Timers fire in time order, with
 * `now()` set to each timer's own time while it runs.
 */
export class FakeClock implements Clock {
  private current: number;
  private timers: FakeTimer[] = [];
  private nextId = 0;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(at: number, fn: () => void): TimerHandle {
    const timer: FakeTimer = { at, fn, id: this.nextId++, cleared: false };
    this.timers.push(timer);
    return timer;
  }

  clearTimer(handle: TimerHandle): void {
    (handle as FakeTimer).cleared = true;
    this.timers = this.timers.filter((t) => t !== handle);
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    this.advanceTo(this.current + ms);
  }

  advanceTo(target: number): void {
    for (;;) {
      const due = this.nextDue(target);
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = Math.max(this.current, due.at);
      due.fn();
    }
    this.current = Math.max(this.current, target);
  }

  /** Number of timers still waiting (for tests that check nothing is left armed). */
  get pending(): number {
    return this.timers.length;
  }

  private nextDue(target: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers) {
      if (t.cleared || t.at > target) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.id < best.id)) best = t;
    }
    return best;
  }
}
