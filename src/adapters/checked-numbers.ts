/**
 * The numbers the cluster adapters accept from their callers, checked alike by the Redis
 * adapters and their in-process references, so both refuse the same input the same way.
 */

/** `ms` rounded up to a whole millisecond; RangeError unless it is positive and finite. */
export function positiveMs(ms: number, what: string): number {
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new RangeError(`${what} must be a positive number of milliseconds, got ${ms}`);
  }
  return Math.ceil(ms);
}

/** A counter's delta; RangeError unless it is a whole number Redis and JavaScript both hold exactly. */
export function counterDelta(delta: number): number {
  if (!Number.isSafeInteger(delta)) throw new RangeError(`delta must be an integer, got ${delta}`);
  return delta;
}
