/**
 * Waiting for something that happens on its own time: another process, a real socket, a
 * database or Redis's own clock. Time a test owns is moved with a FakeClock instead (STYLE §11);
 * this is for the rest, and it is the one polling loop the tests have.
 *
 *     const reveal = await eventually("a reveal at epoch 2", () => events.find(isReveal2));
 *     await eventually("the lease to expire", () => leases.holder(S1), { until: (h) => h === null });
 *
 * A probe that throws has not held yet (a server still starting, a connection being re-made):
 * the error is kept for the failure message and the probe is tried again.
 */
import { performance } from "node:perf_hooks";
import { inspect } from "node:util";

/** What `eventually` needs besides the probe; everything has a default. */
export interface EventuallyOptions<T> {
  /** Whether the probe's value means the wait is over. Default: the value is truthy. */
  until?: (value: T) => boolean;
  /** How long to keep probing before failing, in ms (default 5 000). */
  timeoutMs?: number;
  /** Time between probes, in ms (default 10). */
  intervalMs?: number;
  /**
   * Lets `ms` pass between probes (default: a real timer). A backend on a fake clock passes the
   * function that advances it; the timeout then also counts the time this let pass, so a fake
   * clock alone still ends the wait.
   */
  pause?: (ms: number) => Promise<void>;
}

type Truthy<T> = Exclude<T, false | 0 | "" | null | undefined>;

/** The wait ran out: the message says what was awaited and what the probe gave last. */
export class EventuallyTimeoutError extends Error {
  override name = "EventuallyTimeoutError";
}

const realPause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Probes until the condition holds and resolves with the value that made it hold; rejects with
 * an EventuallyTimeoutError naming `what` once `timeoutMs` has passed without it.
 */
export function eventually<T>(
  what: string,
  probe: () => T | Promise<T>,
  options?: EventuallyOptions<T> & { until?: undefined },
): Promise<Truthy<T>>;
export function eventually<T>(
  what: string,
  probe: () => T | Promise<T>,
  options: EventuallyOptions<T> & { until: (value: T) => boolean },
): Promise<T>;
export async function eventually<T>(
  what: string,
  probe: () => T | Promise<T>,
  options: EventuallyOptions<T> = {},
): Promise<T> {
  const { until = Boolean, timeoutMs = 5_000, intervalMs = 10, pause = realPause } = options;
  const started = performance.now();
  let paused = 0;
  let last: { value: T } | { error: unknown } | undefined;
  for (;;) {
    try {
      const value = await probe();
      if (until(value)) return value;
      last = { value };
    } catch (error) {
      last = { error };
    }
    const elapsed = Math.max(performance.now() - started, paused);
    if (elapsed >= timeoutMs) {
      throw new EventuallyTimeoutError(
        `waited ${Math.round(elapsed)} ms for ${what}; ${describeLast(last)}`,
        "error" in last ? { cause: last.error } : undefined,
      );
    }
    await pause(intervalMs);
    paused += intervalMs;
  }
}

function describeLast(last: { value: unknown } | { error: unknown }): string {
  if ("error" in last) {
    const e = last.error;
    return `the probe last threw ${e instanceof Error ? `${e.name}: ${e.message}` : inspect(e)}`;
  }
  const shown = inspect(last.value, { depth: 4, breakLength: Number.POSITIVE_INFINITY });
  return `the probe last gave ${shown.length > 1_000 ? `${shown.slice(0, 1_000)}…` : shown}`;
}
