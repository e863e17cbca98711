import { repeatEvery, type StopRepeating } from "../engine/repeating-timer.js";
import type { Clock } from "../ports/clock.js";
import type { PurgeCutoffs, PurgeResult, SessionStore } from "../ports/storage.js";

export interface RetentionSettings {
  /** How long an ended session keeps its answers, served questions and bans; null: forever. */
  hotDataMs: number | null;
  /** How long an ended session is kept at all; null: forever. */
  completedMs: number | null;
  /** How often the sweep runs. */
  intervalMs: number;
}

/**
 * Data retention for ended sessions (seed 001 §12.4 "auto-delete after 24 hours", seed 003 §12.6
 * "Completed Sessions: 90 days"): a sweep on the injected clock that asks storage to delete what
 * has outlived its retention. Every instance may sweep; the deletes are idempotent.
 */
export class RetentionSweeper {
  private stop: StopRepeating | null = null;
  private running: Promise<PurgeResult> | null = null;
  private following: Promise<PurgeResult> | null = null;

  constructor(
    private readonly deps: {
      sessions: Pick<SessionStore, "purgeEnded">;
      clock: Clock;
      settings: RetentionSettings;
      onSwept?(result: PurgeResult): void;
      onError(err: unknown, context: string): void;
    },
  ) {}

  /** Whether any retention is set (with none, `start` schedules nothing). */
  get enabled(): boolean {
    const s = this.deps.settings;
    return s.hotDataMs !== null || s.completedMs !== null;
  }

  /** Sweeps now and then every interval, on a background timer. */
  start(): void {
    if (this.stop || !this.enabled) return;
    this.kick();
    this.stop = repeatEvery(this.deps.clock, this.deps.settings.intervalMs, () => this.kick(), {
      background: true,
    });
  }

  /** Stops the schedule and waits for a sweep under way. */
  async shutdown(): Promise<void> {
    this.stop?.();
    this.stop = null;
    await (this.following ?? this.running)?.catch(() => undefined);
  }

  /**
   * One sweep with the cutoffs as of when it runs. Sweeps never overlap: one asked for while
   * another runs follows it (one follow-up stands for any number asked for meanwhile).
   */
  sweep(): Promise<PurgeResult> {
    if (this.running) {
      this.following ??= this.running
        .catch(() => undefined)
        .then(() => {
          this.following = null;
          return this.sweep();
        });
      return this.following;
    }
    this.running = this.deps.sessions.purgeEnded(this.cutoffs()).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  cutoffs(): PurgeCutoffs {
    const now = this.deps.clock.now();
    const { hotDataMs, completedMs } = this.deps.settings;
    return {
      detailsEndedBefore: hotDataMs === null ? null : now - hotDataMs,
      sessionsEndedBefore: completedMs === null ? null : now - completedMs,
    };
  }

  private kick(): void {
    this.sweep().then(
      (result) => this.deps.onSwept?.(result),
      (err) => this.deps.onError(err, "retention sweep failed"),
    );
  }
}
