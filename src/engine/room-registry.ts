import { asSessionId, type ParticipantId, type SessionId, type UserId } from "../domain/ids.js";
import { generatePin } from "../domain/pin.js";
import type { Quiz } from "../domain/quiz.js";
import type { SessionSettings } from "../domain/session-settings.js";
import type { Clock, Random, TimerHandle } from "../ports/clock.js";
import type { PinDirectory } from "../ports/cluster.js";
import type { SessionRecord, Storage } from "../ports/storage.js";
import type { Tracer } from "../ports/tracing.js";
import type { GroupCommitter } from "./group-committer.js";
import { lobbyState, Room, type RoomDeps } from "./room.js";
import { RoomRuntime } from "./room-runtime.js";

export interface RegistryDeps {
  storage: Storage;
  committer: GroupCommitter;
  clock: Clock;
  random: Random;
  pins: PinDirectory;
  hashToken(token: string): string;
  newSessionId(): string;
  onError(err: unknown, context: string): void;
  /** How long an ended room stays in memory for late reconnects before only storage has it. */
  endedRetentionMs: number;
  /** The longest a session runs before it completes by itself (M-5); null or absent: no limit. */
  maxDurationMs?: number | null;
  /** A room ended here (cluster mode releases its lease). */
  onEnded?(runtime: RoomRuntime): void;
  /** A room was taken over elsewhere and relinquished here. */
  onFenced?(runtime: RoomRuntime): void;
  /**
   * A room starts running here, before anything it does: `created`, or `adopted` from storage
   * (resumed after a restart, or taken over from another instance). Metrics, seed 002's answer
   * feed and the lifecycle logs listen here.
   */
  onRunning?(runtime: RoomRuntime, how: "created" | "adopted"): void;
  /** Traces every room's commands; absent, tracing is off. */
  tracer?: Tracer;
}

export interface CreateSessionInput {
  quiz: Quiz;
  settings: SessionSettings;
  hostUserId: UserId;
  /** Give the host a membership (and a resume token) of their own; quick-fire hosts who play have none. */
  hostName: string | null;
}

export interface CreatedSession {
  runtime: RoomRuntime;
  hostParticipantId: ParticipantId | null;
  hostToken: string | null;
}

export class SessionCreateError extends Error {
  constructor(
    readonly code: "UNAVAILABLE" | "CONFLICT",
    message: string,
  ) {
    super(message);
  }
}

const PIN_RESERVE_ATTEMPTS = 20;

/** The rooms this process runs: creation, lookup by id and PIN, resume after a restart, unloading. */
export class RoomRegistry {
  private readonly rooms = new Map<SessionId, RoomRuntime>();
  private readonly pinIndex = new Map<string, SessionId>();
  private readonly unloadTimers = new Map<SessionId, TimerHandle>();

  constructor(private readonly deps: RegistryDeps) {}

  get size(): number {
    return this.rooms.size;
  }

  /**
   * Rooms in play here: loaded and not ended. An ended room stays loaded for a while for late
   * reconnects (`endedRetentionMs`), but it is not an active session.
   */
  get activeCount(): number {
    let n = 0;
    for (const runtime of this.rooms.values()) if (!runtime.room.ended) n++;
    return n;
  }

  all(): IterableIterator<RoomRuntime> {
    return this.rooms.values();
  }

  get(id: string): RoomRuntime | undefined {
    return this.rooms.get(id as SessionId);
  }

  findByPin(pin: string): RoomRuntime | undefined {
    const id = this.pinIndex.get(pin);
    return id ? this.rooms.get(id) : undefined;
  }

  /** Creates a session and waits until it is stored before anyone can find it. */
  async create(input: CreateSessionInput): Promise<CreatedSession> {
    const { clock, pins } = this.deps;
    const now = clock.now();
    const id = asSessionId(this.deps.newSessionId());
    const pin = await this.reservePin(id);
    const record: SessionRecord = {
      id,
      pin,
      quizId: input.quiz.id,
      title: input.quiz.title,
      settings: input.settings,
      questions: input.quiz.questions.map((q) => ({ ...q })),
      hostUserId: input.hostUserId,
      createdAt: now,
      state: lobbyState(),
    };
    const room = Room.create(record, this.roomDeps());
    const host =
      input.hostName !== null ? room.addHost(input.hostUserId, input.hostName, now) : null;
    // A scheduled start already passed (M-4) starts the session as it is made.
    room.tick(now);
    const { writes } = room.drain();
    try {
      await Promise.all(writes.map((w) => this.deps.committer.enqueue(w.write, true)));
    } catch (err) {
      await pins.release(pin, id);
      this.deps.onError(err, "session could not be stored");
      throw new SessionCreateError("UNAVAILABLE", "the session could not be stored; please retry");
    }
    const runtime = this.register(room, "created");
    return {
      runtime,
      hostParticipantId: host?.participantId ?? null,
      hostToken: host?.token ?? null,
    };
  }

  /** Loads every session that had not ended and carries on where it was (T-6). */
  async resumeOpen(): Promise<number> {
    const ids = await this.deps.storage.sessions.listOpen();
    let resumed = 0;
    for (const id of ids) {
      if (await this.adopt(id)) resumed += 1;
    }
    return resumed;
  }

  /**
   * Takes a stored session over: claims the next epoch in storage (so writes
   * of any previous owner are fenced out from here on), then loads it and
   * carries on where it was. Null when it is not open, or another claim won.
   */
  async adopt(id: SessionId, epoch?: number): Promise<RoomRuntime | null> {
    const existing = this.rooms.get(id);
    if (existing) return existing;
    const sessions = this.deps.storage.sessions;
    const stored = await sessions.epochOf(id);
    if (stored === undefined) return null;
    const next = epoch ?? stored + 1;
    if (next <= stored || !(await sessions.claim(id, stored, next))) return null;
    // Loaded after the claim, so it holds everything the previous owner managed to store.
    const bundle = await sessions.load(id);
    if (!bundle || bundle.session.state.phase.kind === "ended") return null;
    if (this.rooms.has(id)) return this.rooms.get(id) ?? null;
    const room = Room.restore(bundle, this.roomDeps(), this.deps.clock.now(), next);
    await this.deps.pins.reserve(room.pin, room.id);
    return this.register(room, "adopted");
  }

  /**
   * Stops running a session here without ending it (another instance owns it
   * now, or this one is shutting down): its timer stops, it leaves memory.
   */
  relinquish(id: SessionId): void {
    const runtime = this.rooms.get(id);
    if (!runtime) return;
    runtime.dispose();
    this.rooms.delete(id);
    if (this.pinIndex.get(runtime.room.pin) === id) this.pinIndex.delete(runtime.room.pin);
    const t = this.unloadTimers.get(id);
    if (t) this.deps.clock.clearTimer(t);
    this.unloadTimers.delete(id);
  }

  /** Stops every room's timer and waits for queued writes (graceful shutdown). */
  async shutdown(): Promise<void> {
    for (const r of this.rooms.values()) r.dispose();
    for (const t of this.unloadTimers.values()) this.deps.clock.clearTimer(t);
    this.unloadTimers.clear();
    await this.deps.committer.idle();
  }

  private roomDeps(): RoomDeps {
    return {
      random: this.deps.random,
      hashToken: this.deps.hashToken,
      maxDurationMs: this.deps.maxDurationMs ?? null,
    };
  }

  private register(room: Room, how: "created" | "adopted"): RoomRuntime {
    const runtime = new RoomRuntime(room, {
      ...(this.deps.tracer ? { tracer: this.deps.tracer } : {}),
      clock: this.deps.clock,
      committer: this.deps.committer,
      onError: this.deps.onError,
      onEnded: (r) => {
        this.scheduleUnload(r);
        this.deps.onEnded?.(r);
      },
      onFenced: (r) => {
        this.deps.onError(new Error(`session ${r.id} was taken over elsewhere`), "fenced out");
        this.relinquish(r.id);
        this.deps.onFenced?.(r);
      },
    });
    this.rooms.set(room.id, runtime);
    this.pinIndex.set(room.pin, room.id);
    this.deps.onRunning?.(runtime, how);
    // Arms the room's timer and stores anything restore() queued.
    runtime.flush();
    return runtime;
  }

  private scheduleUnload(runtime: RoomRuntime): void {
    const id = runtime.id;
    const pin = runtime.room.pin;
    // The PIN is free for new rooms as soon as this one ends (P-3 covers open rooms only).
    if (this.pinIndex.get(pin) === id) this.pinIndex.delete(pin);
    void this.deps.pins.release(pin, id);
    const at = this.deps.clock.now() + this.deps.endedRetentionMs;
    this.unloadTimers.set(
      id,
      this.deps.clock.setTimer(at, () => {
        this.unloadTimers.delete(id);
        runtime.dispose();
        this.rooms.delete(id);
      }),
    );
  }

  private async reservePin(id: SessionId): Promise<string> {
    for (let i = 0; i < PIN_RESERVE_ATTEMPTS; i++) {
      const pin = generatePin(this.deps.random, (p) => this.pinIndex.has(p));
      if (await this.deps.pins.reserve(pin, id)) return pin;
    }
    throw new SessionCreateError("UNAVAILABLE", "no free room PIN; please retry");
  }
}
