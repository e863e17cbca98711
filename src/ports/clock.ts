/**
 * The only source of time the engine uses. Production uses the system clock;
 * tests drive a FakeClock so whole games play without real waiting.
 */
export interface Clock {
  /** Server epoch milliseconds. */
  now(): number;
  /** Calls `fn` once at (or after) absolute time `at`. */
  setTimer(at: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

export interface TimerHandle {
  readonly at: number;
}

/** The only source of randomness the engine uses. */
export interface Random {
  /** Uniform integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** Uniform float in [0, 1). */
  float(): number;
  /** Random token of url-safe characters, unpredictable in production. */
  token(bytes: number): string;
}
