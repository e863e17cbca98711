import type { DomainError } from "../domain/errors.js";
import type { EndReason } from "../domain/phase.js";
import type { Clock, TimerHandle } from "../ports/clock.js";
import { FencedError } from "../ports/storage.js";
import { TRACE_ATTRIBUTES, type Tracer } from "../ports/tracing.js";
import type { GroupCommitter } from "./group-committer.js";
import type { QueuedWrite, Room } from "./room.js";
import type { ExecuteOptions, RoomHandle, SessionInfo } from "./room-handle.js";
import type {
  Actor,
  Command,
  CommandResult,
  Reply,
  ResultOf,
  RoomEvent,
  RoomListener,
} from "./types.js";

export interface RuntimeDeps {
  clock: Clock;
  committer: GroupCommitter;
  onError: (err: unknown, context: string) => void;
  /** Called once, after the room's `ended` event went out. */
  onEnded?: (runtime: RoomRuntime) => void;
  /** Storage refused a write because another instance took the session over: stop acting for it. */
  onFenced?: (runtime: RoomRuntime) => void;
  /** Traces each command until its reply (an answer's: until stored); absent, tracing is off. */
  tracer?: Tracer;
}

/** How long a command's reply is remembered for retries with the same key. */
const DEDUPE_TTL_MS = 120_000;
const DEDUPE_MAX = 20_000;
/** Replies dropped at once when the dedupe map is full (see `remember`). */
const DEDUPE_EVICT = DEDUPE_MAX / 10;

const STORE_FAILED: DomainError = {
  code: "UNAVAILABLE",
  msg: "the answer could not be stored; nothing was recorded, please retry",
  reason: "storage_unavailable",
};

/**
 * Runs one Room: feeds it commands one at a time, then carries out what it
 * queued — writes to the group committer, events to listeners, its single
 * timer through the clock. The only place a room meets the outside world.
 */
export class RoomRuntime implements RoomHandle {
  private readonly listeners = new Set<RoomListener>();
  private readonly waiters = new Map<number, (reply: Reply<CommandResult>) => void>();
  private timer: TimerHandle | null = null;
  private flushing = false;
  /** A flush is already asked for at the end of this turn: settlements share it. */
  private flushDeferred = false;
  private endedNotified = false;
  private fencedNotified = false;
  /** Writes handed to the committer and not yet settled (stored, refused or fenced out). */
  private unsettledWrites = 0;
  private settledWaiters: Array<() => void> = [];
  private readonly dedupe = new Map<
    string,
    { reply: Promise<Reply<CommandResult>>; expiresAt: number }
  >();
  private disposed = false;

  constructor(
    readonly room: Room,
    private readonly deps: RuntimeDeps,
  ) {}

  get id() {
    return this.room.id;
  }

  private cachedInfo: SessionInfo | null = null;

  get info(): SessionInfo {
    if (!this.cachedInfo) {
      const { state: _state, ...info } = this.room.record;
      this.cachedInfo = info;
    }
    return this.cachedInfo;
  }

  /** Applies a command. Answers resolve once stored; everything else at once. */
  execute<C extends Command>(
    actor: Actor,
    command: C,
    opts?: ExecuteOptions,
  ): Promise<Reply<ResultOf<C>>> {
    // The room answers each command type with that type's result (CommandResults): the one
    // place the union is narrowed to it.
    return this.executeAny(actor, command, opts) as Promise<Reply<ResultOf<C>>>;
  }

  private executeAny(
    actor: Actor,
    command: Command,
    opts?: ExecuteOptions,
  ): Promise<Reply<CommandResult>> {
    const key = opts?.dedupeKey;
    if (key !== undefined) {
      const seen = this.dedupe.get(key);
      if (seen && seen.expiresAt > this.deps.clock.now()) return seen.reply;
    }
    // The key goes to the room with the command: an answer keeps it in storage, so a retry still
    // matches after a takeover; host commands keep their replies in the session's state.
    const reply = this.apply(actor, command, key);
    if (key !== undefined) {
      this.remember(key, reply);
      // A refusal applied nothing, so it is not remembered: a retry really runs again (the session
      // may have started meanwhile, or storage come back). Doors decide what they replay to clients.
      void reply.then((r) => {
        if (!r.ok && this.dedupe.get(key)?.reply === reply) this.dedupe.delete(key);
      });
    }
    return reply;
  }

  private apply(
    actor: Actor,
    command: Command,
    requestKey?: string,
  ): Promise<Reply<CommandResult>> {
    if (this.disposed) {
      return Promise.resolve({
        ok: false,
        error: { code: "NOT_FOUND", msg: "this room is no longer open", reason: "room_closed" },
      });
    }
    if (this.deps.tracer !== undefined)
      return this.applyTraced(this.deps.tracer, actor, command, requestKey);
    return this.applyNow(actor, command, requestKey);
  }

  private applyNow(
    actor: Actor,
    command: Command,
    requestKey: string | undefined,
  ): Promise<Reply<CommandResult>> {
    // The room keeps host commands' replies in its stored state, so this key survives a takeover.
    const outcome = this.room.execute(actor, command, this.deps.clock.now(), requestKey);
    let result: Promise<Reply<CommandResult>>;
    if (outcome.kind === "pending") {
      result = new Promise((resolve) => this.waiters.set(outcome.ticket, resolve));
    } else {
      result = Promise.resolve(outcome.reply);
    }
    this.flush();
    return result;
  }

  /**
   * A command's span, from applying it to its reply: for an answer that is once the group
   * commit stored it, and the commit's span hangs under this one (the writes are queued in it).
   */
  private applyTraced(
    tracer: Tracer,
    actor: Actor,
    command: Command,
    requestKey: string | undefined,
  ): Promise<Reply<CommandResult>> {
    const span = tracer.start(`room ${command.type}`, {
      attributes: {
        [TRACE_ATTRIBUTES.roomId]: this.room.id,
        [TRACE_ATTRIBUTES.msgType]: command.type,
      },
    });
    const reply = tracer.within(span, () => this.applyNow(actor, command, requestKey));
    void reply.then((r) => {
      if (!r.ok) span.set(TRACE_ATTRIBUTES.errorCode, r.error.code);
      span.end();
    });
    return reply;
  }

  /** Bounded and expiring: a client retries within seconds, not minutes. */
  private remember(key: string, reply: Promise<Reply<CommandResult>>): void {
    const now = this.deps.clock.now();
    this.dedupe.set(key, { reply, expiresAt: now + DEDUPE_TTL_MS });
    if (this.dedupe.size > DEDUPE_MAX) {
      // The oldest go first (a Map keeps insertion order), a tenth of the map at once. A Map keeps
      // a deleted entry as a hole at its front until it is rehashed, and every walk from the front
      // passes the holes: dropping one entry per insert made each command walk thousands of them
      // once 20,000 replies were kept (answers are keyed, joins are not: from a 10,000-player
      // game's third question on). About 6 µs an insert in a micro-benchmark of this pattern,
      // 0.4 µs with a tenth at once.
      const keep = DEDUPE_MAX - DEDUPE_EVICT;
      for (const [k, v] of this.dedupe) {
        if (v.expiresAt > now && this.dedupe.size <= keep) break;
        this.dedupe.delete(k);
      }
    }
  }

  /** Ends the room from outside (admin close, REST close). */
  close(reason: EndReason): void {
    this.room.close(this.deps.clock.now(), reason);
    this.flush();
  }

  /** Runs `fn` against the room (read-only queries) with the current time. */
  read<T>(fn: (room: Room, now: number) => T): T {
    return fn(this.room, this.deps.clock.now());
  }

  /** In-process delivery cannot lose events, so there is never a resync to signal. */
  subscribe(listener: RoomListener, _onResync?: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Stops the timer; the room object is dropped by the registry. */
  dispose(): void {
    this.disposed = true;
    if (this.timer) this.deps.clock.clearTimer(this.timer);
    this.timer = null;
  }

  /** Carries out queued work. Re-entrant calls (a listener acting on an event) join the running loop. */
  flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (;;) {
        const { events, writes } = this.room.drain();
        if (events.length === 0 && writes.length === 0) break;
        for (const w of writes) this.persist(w);
        const last = events.length - 1;
        for (let i = 0; i <= last; i++) this.deliver(events[i] as RoomEvent, i < last);
      }
    } finally {
      this.flushing = false;
    }
    this.reschedule();
    if (this.room.ended && !this.endedNotified) {
      this.endedNotified = true;
      this.deps.onEnded?.(this);
    }
  }

  private deliver(event: RoomEvent, more: boolean): void {
    for (const listener of this.listeners) {
      try {
        listener(event, more);
      } catch (err) {
        this.deps.onError(err, `listener failed on ${event.body.type}`);
      }
    }
  }

  private persist(w: QueuedWrite): void {
    const ticket = w.ticket;
    const fence = { sessionId: this.room.id, epoch: this.room.currentEpoch };
    this.unsettledWrites += 1;
    if (ticket === undefined) {
      this.deps.committer.enqueue(w.write, false, fence).then(
        () => this.writeSettled(),
        (err) => {
          this.writeSettled();
          if (err instanceof FencedError) this.fenced();
          else this.deps.onError(err, `${w.write.kind} write dropped`);
        },
      );
      return;
    }
    this.deps.committer.enqueue(w.write, true, fence).then(
      () => {
        this.writeSettled();
        this.settle(this.room.stored([ticket], this.deps.clock.now()));
      },
      (err) => {
        this.writeSettled();
        if (err instanceof FencedError) this.fenced();
        else this.deps.onError(err, "answer write refused");
        this.settle(this.room.storeFailed([ticket], this.deps.clock.now(), STORE_FAILED));
      },
    );
  }

  /**
   * Resolves once no write the room handed to the committer is waiting any more: each is
   * stored, refused or fenced out. An ended room's owner lets its lease go only then (the
   * cluster directory): an instance that took the session over sooner would restore it from
   * the database as it was before its end, and fence the end's writes out.
   */
  writesSettled(): Promise<void> {
    if (this.unsettledWrites === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  private writeSettled(): void {
    this.unsettledWrites -= 1;
    if (this.unsettledWrites > 0 || this.settledWaiters.length === 0) return;
    const waiters = this.settledWaiters;
    this.settledWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private fenced(): void {
    if (this.fencedNotified) return;
    this.fencedNotified = true;
    this.deps.onFenced?.(this);
  }

  private settle(replies: Array<{ ticket: number; reply: Reply<CommandResult> }>): void {
    for (const { ticket, reply } of replies) {
      const waiter = this.waiters.get(ticket);
      this.waiters.delete(ticket);
      waiter?.(reply);
    }
    // Events this settlement caused (the reveal a last answer completes) go out on the next
    // turn, so the answerer's acknowledgement — sent from the promise chain — arrives first.
    // One group commit settles hundreds of answers: they share one deferred flush.
    if (this.flushDeferred) return;
    this.flushDeferred = true;
    const tracer = this.deps.tracer;
    // Shared by every answer the commit settled: it belongs to no one answer's trace.
    if (tracer === undefined) this.deferFlush();
    else tracer.outside(() => this.deferFlush());
  }

  private deferFlush(): void {
    this.deps.clock.defer(() => {
      this.flushDeferred = false;
      this.flush();
    });
  }

  private reschedule(): void {
    if (this.disposed) return;
    const at = this.room.nextWakeAt();
    if (this.timer && this.timer.at === at) return;
    if (this.timer) this.deps.clock.clearTimer(this.timer);
    this.timer = null;
    if (at === null) return;
    const tracer = this.deps.tracer;
    // A deadline belongs to no command's trace, though the command that armed it was traced.
    this.timer = tracer === undefined ? this.arm(at) : tracer.outside(() => this.arm(at));
  }

  private arm(at: number): TimerHandle {
    return this.deps.clock.setTimer(at, () => {
      this.timer = null;
      if (this.disposed) return;
      this.room.tick(this.deps.clock.now());
      this.flush();
    });
  }
}
