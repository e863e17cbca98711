/**
 * The only source of time the engine uses. Production uses the system clock;
 * tests drive a FakeClock so whole games play without real waiting.
 */
export interface Clock {
  /** Server epoch milliseconds. */
  now(): number;
  /** Calls `fn` once at (or after) absolute time `at`. */
  setTimer(at: number, fn: () => void, options?: TimerOptions): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /**
   * Calls `fn` once the current turn of the event loop is over, after the I/O
   * already read in this turn has been handled, and before any later timer.
   * Deferred calls run in the order they were deferred; they cannot be cancelled.
   * For work that should gather everything one turn produces (a group commit),
   * or go out after what the current promise chains send.
   */
  defer(fn: () => void): void;
}

export interface TimerOptions {
  /**
   * A background timer does not keep the process alive by itself: housekeeping
   * (lease renewal, sweeps, health probes) must never hold up an exit.
   * Default false: a game's deadlines do keep it alive.
   */
  background?: boolean;
}

export interface TimerHandle {
  readonly at: number;
}

/**
 * What pacing a process's own traffic needs of a clock: the bus batcher's and the group
 * committer's lingers (at most one send or commit per interval). The server gives them real,
 * monotonic time (`MONOTONIC_TIME`), whatever clock the rooms run on.
 */
export type LingerClock = Pick<Clock, "now" | "setTimer" | "clearTimer">;

/** The only source of randomness the engine uses. */
export interface Random {
  /** Uniform integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** Uniform float in [0, 1). */
  float(): number;
  /** Random token of url-safe characters, unpredictable in production. */
  token(bytes: number): string;
}
