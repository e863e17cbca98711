import type { SessionId } from "../domain/ids.js";
import type { Clock, LingerClock, TimerHandle } from "../ports/clock.js";
import { FencedError, type SessionWrite } from "../ports/storage.js";
import type { TraceParent, Tracer, TraceSpan } from "../ports/tracing.js";

/** What the committer needs of storage: a batched write, and a ping to tell an outage from a bad write. */
export interface CommitTarget {
  write(batch: readonly SessionWrite[], fences?: ReadonlyMap<SessionId, number>): Promise<void>;
  ping?(): Promise<void>;
  /**
   * Settles a write whose result has arrived but waits for the event loop (`Storage`'s
   * `settleArrived`). Called for each write queued while a batch is in flight: a loop that has
   * fallen behind reads thousands of sockets before it delivers a commit's result, and every
   * acknowledgement of the batch, and the next batch, waited for them.
   */
  settleArrived?(): void;
}

/** The session and epoch a write is made at; storage refuses it once the session moved on. */
export interface Fence {
  sessionId: SessionId;
  epoch: number;
}

export interface CommitterOptions {
  /** Most writes in one transaction. */
  maxBatch: number;
  /** Backoff before retrying writes after a failure. */
  retryDelayMs: (attempt: number) => number;
  onError?: (err: unknown, context: string) => void;
  /** Reports the size of each committed batch and how long storage took to commit it (metrics). */
  onBatch?: (writes: number, seconds: number) => void;
  /** Traces each commit that stores a traced command's writes; absent, tracing is off. */
  tracer?: Tracer;
  /**
   * At most one batch starts per `lingerMs`: writes that come sooner after the last batch
   * started wait for the rest of the interval, so answers arriving one by one (a self-paced
   * session's learners, every few milliseconds) share a transaction and its fsync instead of
   * one each. The first write after a quiet interval is stored at the end of its turn as
   * before; a batch that takes longer than the interval (a live question's burst) is followed
   * at once. Default 0: no wait.
   */
  lingerMs: number;
  /** The time the linger is measured in (real, monotonic time in the server). Default: the committer's clock. */
  lingerClock?: LingerClock;
  /**
   * A batch waiting to start (for the end of the turn, or for the linger) starts at once when
   * this many writes are queued, in a microtask. The end of a turn is Node's check phase, which
   * comes only after the poll phase has run the callbacks of every socket that was readable: a
   * loop that has fallen behind reads thousands of answers in one poll phase (libuv polls again
   * while epoll keeps returning 1,024 ready sockets), and each waited for all of them before its
   * commit started. Default `maxBatch`: a full batch does not wait.
   */
  startAt: number;
}

interface Entry {
  write: SessionWrite;
  fence: Fence | undefined;
  /** Critical writes have a caller waiting on the outcome; on failure they are refused, not retried. */
  critical: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
  /** The span a critical write was queued in (tracing on): its commit's span hangs under it. */
  trace: TraceParent | undefined;
}

export interface CommitterStatus {
  healthy: boolean;
  queued: number;
  lastError: string | null;
  batches: number;
  writes: number;
}

const DEFAULTS: Omit<CommitterOptions, "startAt"> = {
  maxBatch: 1000,
  retryDelayMs: (attempt) => Math.min(2000, 50 * 2 ** attempt),
  lingerMs: 0,
};

/**
 * Group commit: every write that arrives while a transaction is in flight goes
 * into the next one, so a burst of answers costs a few transactions (and a few
 * fsyncs), not one each. Writes keep their order across batches.
 *
 * On failure, every critical write in the failed batch and every critical write
 * still queued is refused (their callers answer UNAVAILABLE, and the room undoes
 * them); the other writes are kept at the head of the queue and retried with
 * backoff. When the store answers pings but a batch still fails, the batch is
 * retried one write at a time so a single bad write cannot block the rest.
 */
export class GroupCommitter {
  private queue: Entry[] = [];
  private running = false;
  private retryTimer: TimerHandle | null = null;
  private attempt = 0;
  private lastError: string | null = null;
  private batches = 0;
  private writes = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly opts: CommitterOptions;
  /** When the last batch started, on the linger's clock. */
  private lastStartedAt = Number.NEGATIVE_INFINITY;
  /** Whether a batch is being written (its `write` has not settled). */
  private inFlight = false;
  /** Set while a batch waits to start (the end of the turn, the linger): starts it now. */
  private startNow: (() => void) | null = null;

  constructor(
    private readonly store: CommitTarget,
    private readonly clock: Clock,
    opts: Partial<CommitterOptions> = {},
  ) {
    const merged = { ...DEFAULTS, ...opts };
    this.opts = { ...merged, startAt: opts.startAt ?? merged.maxBatch };
  }

  /**
   * Queues a write; the promise settles when it is durable (or refused, for critical writes).
   * A fenced write is refused with FencedError once its session runs at a higher epoch.
   */
  enqueue(write: SessionWrite, critical: boolean, fence?: Fence): Promise<void> {
    // Only a critical write has a command waiting on it: its commit belongs to that command's trace.
    const trace =
      this.opts.tracer === undefined || !critical ? undefined : this.opts.tracer.current();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ write, fence, critical, resolve, reject, trace });
      this.kick();
    });
  }

  status(): CommitterStatus {
    return {
      healthy: this.lastError === null,
      queued: this.queue.length,
      lastError: this.lastError,
      batches: this.batches,
      writes: this.writes,
    };
  }

  /** Resolves once everything queued so far is written (graceful shutdown). */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private kick(): void {
    if (this.startNow !== null && this.queue.length >= this.opts.startAt) {
      this.startNow();
      return;
    }
    if (this.running || this.retryTimer) {
      if (this.inFlight) this.store.settleArrived?.();
      return;
    }
    this.running = true;
    void this.run();
  }

  private async run(): Promise<void> {
    // Waiting for the end of the turn lets every message already read from the sockets join this batch.
    await this.waitToStart((start) => this.clock.defer(start));
    while (this.queue.length > 0) {
      if (this.opts.lingerMs > 0) await this.linger(this.opts.lingerMs);
      const { batch, fences } = this.takeBatch();
      const span = this.opts.tracer === undefined ? undefined : commitSpan(this.opts.tracer, batch);
      const started = this.clock.now();
      try {
        this.inFlight = true;
        try {
          await this.store.write(
            batch.map((e) => e.write),
            fences,
          );
        } finally {
          this.inFlight = false;
        }
        span?.end();
        this.batches += 1;
        this.writes += batch.length;
        this.opts.onBatch?.(batch.length, (this.clock.now() - started) / 1000);
        this.attempt = 0;
        this.lastError = null;
        for (const e of batch) e.resolve();
      } catch (err) {
        if (span) {
          span.fail(err instanceof Error ? err.message : String(err));
          span.end();
        }
        if (err instanceof FencedError) {
          this.dropFenced(batch, err);
          continue;
        }
        await this.recover(batch, err);
        if (this.retryTimer) return;
      }
    }
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Waits out the rest of the linger interval since the last batch started (`lingerMs`). */
  private async linger(lingerMs: number): Promise<void> {
    const time = this.opts.lingerClock ?? this.clock;
    const until = this.lastStartedAt + lingerMs;
    if (time.now() < until) {
      let timer: TimerHandle | null = null;
      await this.waitToStart((start) => {
        timer = time.setTimer(until, start);
      });
      if (timer !== null) time.clearTimer(timer);
    }
    this.lastStartedAt = time.now();
  }

  /**
   * Resolves when `arm`'s callback is called, or at once when `startAt` writes are queued (now
   * or while it waits, `kick`), whichever comes first.
   */
  private waitToStart(arm: (start: () => void) => void): Promise<void> {
    if (this.queue.length >= this.opts.startAt) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const start = () => {
        if (this.startNow === start) this.startNow = null;
        resolve();
      };
      this.startNow = start;
      arm(start);
    });
  }

  /**
   * The next batch, cut short where a session would appear at two epochs (a
   * demoted and a new owner in one process): each batch is fenced per session.
   */
  private takeBatch(): { batch: Entry[]; fences: Map<SessionId, number> } {
    const fences = new Map<SessionId, number>();
    let n = 0;
    while (n < this.queue.length && n < this.opts.maxBatch) {
      const f = this.queue[n]?.fence;
      if (f) {
        const seen = fences.get(f.sessionId);
        if (seen !== undefined && seen !== f.epoch) break;
        fences.set(f.sessionId, f.epoch);
      }
      n += 1;
    }
    return { batch: this.queue.splice(0, n), fences };
  }

  /**
   * A session of the batch was taken over by another instance: its writes at
   * the stale epoch (in the batch and still queued) are refused with the
   * FencedError; everything else goes back to the head of the queue at once.
   */
  private dropFenced(batch: Entry[], err: FencedError): void {
    const stale = (e: Entry) =>
      e.fence !== undefined &&
      e.fence.sessionId === err.sessionId &&
      e.fence.epoch <= err.writerEpoch;
    const refused = [...batch, ...this.queue].filter(stale).reverse();
    this.queue = [...batch.filter((e) => !stale(e)), ...this.queue.filter((e) => !stale(e))];
    this.opts.onError?.(
      err,
      `dropped ${refused.length} writes of a session another instance took over`,
    );
    for (const e of refused) e.reject(err);
  }

  private async recover(batch: Entry[], err: unknown): Promise<void> {
    this.lastError = err instanceof Error ? err.message : String(err);
    this.opts.onError?.(err, `write of ${batch.length} failed`);
    // Newest first, so rooms undo answers in the reverse of the order they applied them.
    const refused = [...batch, ...this.queue].filter((e) => e.critical).reverse();
    for (const e of refused) e.reject(err);
    const retry = batch.filter((e) => !e.critical);
    this.queue = this.queue.filter((e) => !e.critical);
    if (retry.length === 0) {
      // Nothing to retry, so no write will clear the error: probe until the store answers again,
      // or readiness would stay down after the database came back.
      this.probeUntilHealthy();
      return;
    }

    if (await this.storeResponds()) {
      // The database is up, so something in this batch is bad: isolate it.
      for (const e of retry) {
        try {
          await this.store.write(
            [e.write],
            e.fence ? new Map([[e.fence.sessionId, e.fence.epoch]]) : undefined,
          );
          this.writes += 1;
          e.resolve();
        } catch (one) {
          this.opts.onError?.(one, `dropped a ${e.write.kind} write that the store refuses`);
          e.reject(one);
        }
      }
      this.lastError = null;
      return;
    }
    this.queue.unshift(...retry);
    const delay = this.opts.retryDelayMs(this.attempt++);
    this.retryTimer = this.clock.setTimer(this.clock.now() + delay, () => {
      this.retryTimer = null;
      this.running = false;
      this.kick();
    });
  }

  private probing = false;

  private probeUntilHealthy(attempt = 0): void {
    if (this.probing && attempt === 0) return;
    this.probing = true;
    // In the background: a probe alone must not keep a stopping process alive.
    this.clock.setTimer(
      this.clock.now() + this.opts.retryDelayMs(attempt),
      () => {
        void this.storeResponds().then((up) => {
          if (up || this.lastError === null) {
            if (up && this.queue.length === 0 && !this.running) this.lastError = null;
            this.probing = false;
            return;
          }
          this.probeUntilHealthy(attempt + 1);
        });
      },
      { background: true },
    );
  }

  private async storeResponds(): Promise<boolean> {
    if (!this.store.ping) return false;
    try {
      await this.store.ping();
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * One transaction's span, under the first traced command waiting on it (an answer) and linked
 * to the others; none when no traced command waits on it.
 */
function commitSpan(tracer: Tracer, batch: readonly Entry[]): TraceSpan | undefined {
  const traced: TraceParent[] = [];
  for (const e of batch) if (e.trace !== undefined) traced.push(e.trace);
  const [first, ...others] = traced;
  if (first === undefined) return undefined;
  return tracer.start("storage commit", {
    parent: first,
    links: others,
    attributes: { "quizwire.writes": batch.length },
  });
}
