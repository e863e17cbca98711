import type { Clock, TimerHandle, TimerOptions } from "../ports/clock.js";

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

  setTimer(at: number, fn: () => void, options?: TimerOptions): TimerHandle {
    const timer: SystemTimer = { at, timeout: undefined };
    const background = options?.background === true;
    const schedule = (delay: number) => {
      timer.timeout = setTimeout(arm, Math.min(delay, MAX_DELAY_MS));
      if (background) timer.timeout.unref();
    };
    const arm = () => {
      const delay = at - Date.now();
      if (delay <= 0) {
        timer.timeout = undefined;
        fn();
        return;
      }
      schedule(delay);
    };
    schedule(Math.max(0, at - Date.now()));
    return timer;
  }

  clearTimer(handle: TimerHandle): void {
    const t = (handle as SystemTimer).timeout;
    if (t !== undefined) clearTimeout(t);
    (handle as SystemTimer).timeout = undefined;
  }

  defer(fn: () => void): void {
    // setImmediate runs in the check phase: after this turn's I/O callbacks, before later timers.
    setImmediate(fn);
  }
}
