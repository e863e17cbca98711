import type { Clock, TimerHandle, TimerOptions } from "../../src/ports/clock.js";

/**
 * One simulated instance's view of a clock shared by several in one process.
 * `kill()` is what SIGKILL does to that instance's timers: none of the ones it
 * armed fire, nor anything it deferred, and later requests are ignored.
 */
export class InstanceClock implements Clock {
  private readonly armed = new Set<TimerHandle>();
  private dead = false;

  constructor(private readonly base: Clock) {}

  now(): number {
    return this.base.now();
  }

  setTimer(at: number, fn: () => void, options?: TimerOptions): TimerHandle {
    const handle = this.base.setTimer(
      at,
      () => {
        this.armed.delete(handle);
        if (!this.dead) fn();
      },
      options,
    );
    if (!this.dead) this.armed.add(handle);
    return handle;
  }

  clearTimer(handle: TimerHandle): void {
    this.armed.delete(handle);
    this.base.clearTimer(handle);
  }

  defer(fn: () => void): void {
    this.base.defer(() => {
      if (!this.dead) fn();
    });
  }

  kill(): void {
    this.dead = true;
    for (const handle of this.armed) this.base.clearTimer(handle);
    this.armed.clear();
  }
}
