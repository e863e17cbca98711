import type { Clock, TimerHandle, TimerOptions } from "../ports/clock.js";

/** Stops a repeating timer; calling it again does nothing. */
export type StopRepeating = () => void;

/**
 * Calls `fn` every `periodMs` through `clock`, first one period from now, until stopped.
 * Like setInterval, the next call is armed before `fn` runs: a slow asynchronous `fn`
 * does not stretch the period, and stopping from inside `fn` cancels the next call.
 */
export function repeatEvery(
  clock: Clock,
  periodMs: number,
  fn: () => void,
  options?: TimerOptions,
): StopRepeating {
  let handle: TimerHandle | null = null;
  let stopped = false;
  const arm = () => {
    handle = clock.setTimer(
      clock.now() + periodMs,
      () => {
        if (stopped) return;
        arm();
        fn();
      },
      options,
    );
  };
  arm();
  return () => {
    stopped = true;
    if (handle) clock.clearTimer(handle);
    handle = null;
  };
}
