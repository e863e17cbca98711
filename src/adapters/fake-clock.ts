import type { Clock, TimerHandle, TimerOptions } from "../ports/clock.js";

interface FakeTimer extends TimerHandle {
  fn: () => void;
  id: number;
  cleared: boolean;
  background: boolean;
}

export interface FakeClockOptions {
  /**
   * Who ends a turn, and so runs deferred work (`defer`):
   * - `"auto"` (default): the real event loop, as on the system clock: each deferred call
   *   runs in a real setImmediate of its own, with promise callbacks run in between. Code
   *   on a FakeClock that also waits on real I/O (sockets, SQLite) works unchanged: only
   *   time is fake. `advance` leaves deferred work to the loop; `runDeferred` runs it early.
   * - `"manual"`: the test, with `runDeferred()` or `advance()`, so a unit test decides
   *   exactly what one turn holds.
   */
  deferred?: "auto" | "manual";
}

/**
 * A clock that only moves when a test moves it. Timers fire in time order, with
 * `now()` set to each timer's own time while it runs.
 *
 * In manual mode time never passes over deferred work: `advance` first runs what
 * the current turn deferred, and after each timer what that timer deferred, as
 * the event loop would. Unlike the loop, it runs them back to back, with no
 * promise callbacks in between: a test awaits between steps to let those run.
 */
export class FakeClock implements Clock {
  private current: number;
  private timers: FakeTimer[] = [];
  private nextId = 0;
  private deferred: Array<{ fn: () => void; done: boolean }> = [];
  private readonly manual: boolean;

  constructor(start = Date.UTC(2026, 0, 1), options: FakeClockOptions = {}) {
    this.current = start;
    this.manual = options.deferred === "manual";
  }

  now(): number {
    return this.current;
  }

  /** `background` changes nothing here but `pendingForeground`: fake timers never hold a process open. */
  setTimer(at: number, fn: () => void, options?: TimerOptions): TimerHandle {
    const background = options?.background === true;
    const timer: FakeTimer = { at, fn, id: this.nextId++, cleared: false, background };
    this.timers.push(timer);
    return timer;
  }

  clearTimer(handle: TimerHandle): void {
    (handle as FakeTimer).cleared = true;
    this.timers = this.timers.filter((t) => t !== handle);
  }

  defer(fn: () => void): void {
    const entry = { fn, done: false };
    this.deferred.push(entry);
    if (this.manual) return;
    // One real setImmediate per call, so promise callbacks run between two of them as they do
    // on the system clock (two storage transactions started in one turn must not interleave).
    setImmediate(() => {
      if (entry.done) return;
      this.deferred = this.deferred.filter((e) => e !== entry);
      entry.done = true;
      fn();
    });
  }

  /**
   * Ends the current turn now: runs the deferred work, then the work that deferred in turn,
   * until none is left. Time does not move. Returns how many deferred calls ran.
   */
  runDeferred(): number {
    let ran = 0;
    while (this.deferred.length > 0) ran += this.runTurn();
    return ran;
  }

  /** Deferred calls waiting for the turn to end. */
  get pendingDeferred(): number {
    return this.deferred.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    this.advanceTo(this.current + ms);
  }

  advanceTo(target: number): void {
    if (this.manual) this.runDeferred();
    for (;;) {
      const due = this.nextDue(target);
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = Math.max(this.current, due.at);
      due.fn();
      if (this.manual) this.runDeferred();
    }
    this.current = Math.max(this.current, target);
  }

  /** Number of timers still waiting (for tests that check nothing is left armed). */
  get pending(): number {
    return this.timers.length;
  }

  /** Timers still waiting that would keep a real process alive (not `background`). */
  get pendingForeground(): number {
    return this.timers.filter((t) => !t.background).length;
  }

  private nextDue(target: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers) {
      if (t.cleared || t.at > target) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.id < best.id)) best = t;
    }
    return best;
  }

  /**
   * One turn: only the calls deferred before it began; what they defer waits for the next.
   * A call that throws leaves the rest queued.
   */
  private runTurn(): number {
    const turn = this.deferred.length;
    let ran = 0;
    while (ran < turn) {
      const entry = this.deferred.shift();
      if (!entry) break;
      entry.done = true;
      ran += 1;
      entry.fn();
    }
    return ran;
  }
}
