import type { Clock, TimerHandle } from "../ports/clock.js";
import type { CounterDelta, LocalRateLimiter, SharedCounters } from "../ports/cluster.js";

/** How often what this instance let through is added to the shared counters. */
export const DEFAULT_SYNC_EVERY_MS = 100;

/** A key's count in its current window. */
interface Window {
  /** The window's index: floor(now / windowMs). */
  index: number;
  windowMs: number;
  /** Let through here this window. */
  own: number;
  /** Of `own`, not yet added to the shared counter. */
  unsynced: number;
  /** Let through by the other instances this window, as of the last reconciliation. */
  others: number;
}

/**
 * Per-message limits that hold across instances without a round trip per message (the answer
 * path is hot): each message is admitted or refused at once against a count in this process —
 * what this instance let through in the key's current fixed window plus what the others had,
 * as of the last reconciliation. Every `syncEveryMs` (only while something was let through)
 * the counts since the last one go to the shared counters in ONE batched call, whose totals
 * tell this instance what the others let through.
 *
 * A key's limit can be exceeded, across instances, by what the other instances let through
 * before they next reconcile (at most `syncEveryMs` of their traffic for that key); one
 * instance alone never exceeds it. While the shared counters are unreachable each instance
 * keeps counting on its own (the limit then holds per instance) and reports the failure.
 */
export class ReconciledRateLimiter implements LocalRateLimiter {
  private readonly windows = new Map<string, Window>();
  private timer: TimerHandle | null = null;
  private inFlight: Promise<void> | null = null;
  private takes = 0;

  constructor(
    private readonly clock: Clock,
    private readonly counters: SharedCounters,
    private readonly opts: {
      syncEveryMs?: number;
      onError?: (err: unknown) => void;
    } = {},
  ) {}

  async take(key: string, limit: number, windowMs: number) {
    return this.takeSync(key, limit, windowMs);
  }

  takeSync(
    key: string,
    limit: number,
    windowMs: number,
  ): { allowed: boolean; retryAfterMs: number } {
    const now = this.clock.now();
    if (++this.takes % 10_000 === 0) this.sweep(now);
    const index = Math.floor(now / windowMs);
    let w = this.windows.get(key);
    if (!w || w.index !== index || w.windowMs !== windowMs) {
      w = { index, windowMs, own: 0, unsynced: 0, others: 0 };
      this.windows.set(key, w);
    }
    if (w.own + w.others >= limit) {
      return { allowed: false, retryAfterMs: Math.max(1, (index + 1) * windowMs - now) };
    }
    w.own += 1;
    w.unsynced += 1;
    this.schedule();
    return { allowed: true, retryAfterMs: 0 };
  }

  /** Reconciles now (tests; shutdown). Resolves when the batch is through. */
  async flush(): Promise<void> {
    if (this.timer) {
      this.clock.clearTimer(this.timer);
      this.timer = null;
    }
    if (this.inFlight) await this.inFlight;
    const now = this.clock.now();
    const sent: Array<{ key: string; w: Window; delta: number }> = [];
    const batch: CounterDelta[] = [];
    for (const [key, w] of this.windows) {
      if (w.unsynced === 0) continue;
      if ((w.index + 1) * w.windowMs <= now) {
        // A window that has closed limits nothing any more: its counts need not travel.
        w.unsynced = 0;
        continue;
      }
      sent.push({ key, w, delta: w.unsynced });
      // The window index is in the shared key, so every instance counts the same window.
      batch.push({ key: `${key}@${w.index}`, delta: w.unsynced, ttlMs: w.windowMs * 2 });
      w.unsynced = 0;
    }
    if (batch.length === 0) return;
    const run = this.counters.add(batch).then(
      (totals) => {
        sent.forEach(({ w }, i) => {
          const total = totals[i];
          // The others' share: the shared total minus what this instance has added so far.
          if (total !== undefined) w.others = Math.max(w.others, total - (w.own - w.unsynced));
        });
      },
      (err: unknown) => {
        // Put the counts back, so they go with the next batch if their window is still open.
        for (const { w, delta } of sent) w.unsynced += delta;
        this.opts.onError?.(err);
      },
    );
    this.inFlight = run;
    try {
      await run;
    } finally {
      this.inFlight = null;
    }
  }

  private schedule(): void {
    if (this.timer) return;
    const every = this.opts.syncEveryMs ?? DEFAULT_SYNC_EVERY_MS;
    this.timer = this.clock.setTimer(
      this.clock.now() + every,
      () => {
        this.timer = null;
        void this.flush();
      },
      { background: true },
    );
  }

  private sweep(now: number): void {
    for (const [key, w] of this.windows) {
      if ((w.index + 1) * w.windowMs <= now && w.unsynced === 0) this.windows.delete(key);
    }
  }
}
