import type { Logger } from "pino";
import type { Clock } from "../ports/clock.js";

/** One line per error class per this long, at most. */
export const CLIENT_ERROR_LOG_EVERY_MS = 10_000;

/**
 * A `WARN` line for each class of error clients are sent (door + code), at a
 * bounded pace: the first at once, then at most one per class per interval,
 * each saying how many of its class went unlogged since the previous one. A
 * flood of bad input costs one line per class every ten seconds, not one per
 * frame. The line names the door and the code, never the input or who sent it.
 */
export class ClientErrorLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly everyMs = CLIENT_ERROR_LOG_EVERY_MS,
  ) {}

  report(door: string, code: string): void {
    const key = `${door} ${code}`;
    const now = this.clock.now();
    const seen = this.last.get(key);
    if (seen !== undefined && now - seen.at < this.everyMs) {
      seen.suppressed += 1;
      return;
    }
    this.last.set(key, { at: now, suppressed: 0 });
    this.log.warn(
      { door, code, suppressed: seen?.suppressed ?? 0 },
      `client error ${code} on ${door}`,
    );
  }
}
