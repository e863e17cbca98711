import type { LingerClock, TimerHandle } from "../ports/clock.js";

interface MonotonicTimer extends TimerHandle {
  timeout: NodeJS.Timeout;
}

/**
 * Real time that only moves forward (`performance.now`), for pacing a process's own traffic:
 * a wall clock stepped back by a second would hold a linger for that second.
 */
export const MONOTONIC_TIME: LingerClock = {
  now: () => performance.now(),
  setTimer(at: number, fn: () => void): TimerHandle {
    const timer: MonotonicTimer = {
      at,
      timeout: setTimeout(fn, Math.max(0, at - performance.now())),
    };
    return timer;
  },
  clearTimer(handle: TimerHandle): void {
    clearTimeout((handle as MonotonicTimer).timeout);
  },
};
