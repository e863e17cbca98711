import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { RawData, WebSocket } from "ws";
import type { ParticipantId, SessionId, UserId } from "../../domain/ids.js";
import { NAME_MAX } from "../../domain/names.js";
import type { ExecuteOptions, RoomHandle } from "../../engine/room-handle.js";
import type {
  Actor,
  AnswerAck,
  JoinResult,
  MemberLookup,
  RoomEvent,
  Snapshot,
  Standing,
} from "../../engine/types.js";
import type { DoorDeps, WsDoor } from "../door.js";
import { actorOf } from "../ws-kit/actor.js";
import {
  type ConnectionLimits,
  ConnectionRegistry,
  DEFAULT_CONNECTION_LIMITS,
} from "../ws-kit/connections.js";
import { DoorMetrics } from "../ws-kit/door-metrics.js";
import { frameBytes, frameText } from "../ws-kit/frames.js";
import type { InboundGuard } from "../ws-kit/inbound-guard.js";
import { ReplyCache } from "../ws-kit/replies.js";
import { type RoomGroup, RoomGroups } from "../ws-kit/room-groups.js";
import { UpgradeGate } from "../ws-kit/upgrade.js";
import { type EventFrame, encodeEvent, frame, iso, leaderboardFrame } from "./encode.js";
import { type ErrorContext, fromDomainError, SeedError, seedMessage } from "./errors.js";
import { resolveSeedUser, type SeedUser } from "./identity.js";
import {
  CLOSE_CODES,
  type ClientEnvelope,
  type ClientPayload,
  type ClientType,
  clientValidators,
  ERROR_CODES,
  envelopeValidator,
  isClientType,
  MAX_FRAME_BYTES,
  SEED001_PATH,
  type Seed001ErrorCode,
  type ServerPayload,
  type ServerType,
} from "./protocol.js";

/**
 * The kit's connection limits, counted per user here (seed 001 §12.3: 100
 * messages/s; floods close with 4008, strikes with 4002), and the dialect's own.
 */
export interface Seed001Limits extends ConnectionLimits {
  maxFrameBytes: number;
  /** SUBMIT_ANSWER per second per user (seed 001 §12.3: 10/s). */
  answersPerSecond: number;
  /** JOIN_SESSION per minute per user (seed 001 §12.3: 5/minute). */
  joinsPerMinute: number;
  replayTtlMs: number;
  /** Always set here: leaderboard batches are skipped for a client this far behind. */
  coalesceAboveBytes: number;
}

export const DEFAULT_LIMITS: Seed001Limits = {
  ...DEFAULT_CONNECTION_LIMITS,
  maxFrameBytes: MAX_FRAME_BYTES,
  messagesPerSecond: 100,
  messageBurst: 100,
  answersPerSecond: 10,
  joinsPerMinute: 5,
  replayTtlMs: 120_000,
  coalesceAboveBytes: 256 * 1024,
};

const DOOR = "seed001";
const CACHE_KEY = "seed001";
/** Messages with an effect: a retried message_id gets the original reply. */
const REPLAYED = new Set<ClientType>(["JOIN_SESSION", "SUBMIT_ANSWER", "LEAVE_SESSION"]);

interface Binding {
  sessionId: SessionId;
  participantId: ParticipantId;
}

interface CachedReply {
  frames: string[];
  binding: Binding | null;
  /** Recoverable refusals are not remembered: the retry should really run again. */
  remember: boolean;
}

/** Where in a session's history something stands: events and snapshots compare by (epoch, seq). */
interface Mark {
  epoch: number;
  seq: number;
}

const ORIGIN: Mark = { epoch: 0, seq: 0 };

function isAfter(a: Mark, b: Mark): boolean {
  return a.epoch > b.epoch || (a.epoch === b.epoch && a.seq > b.seq);
}

function markOf(x: { epoch: number; seq: number }): Mark {
  return { epoch: x.epoch, seq: x.seq };
}

/** An event held for a connection whose join reply is not out yet, with the frames it became. */
interface Held {
  event: RoomEvent;
  frames: readonly EventFrame[];
}

/** Queued in a group's backlog: events may have been missed, send fresh boards. */
const RESYNC = Symbol("resync");

/**
 * What the door knows about one session, kept up to date from its events (and
 * snapshots), so encoding an event never asks the session synchronously.
 */
interface GroupState {
  /** Participant → user, for presence events (which name only the participant). */
  users: Map<ParticipantId, UserId>;
  /** The session's participant count, and the point in its history it is from. */
  playerCount: number | null;
  countMark: Mark | null;
  /** Participants announced as gone (USER_LEFT sent, no USER_JOINED since). */
  away: Set<ParticipantId>;
  /**
   * Events (and resyncs) waiting for data that must be fetched first; while
   * anything waits here, later events queue behind it so frames keep event order.
   */
  backlog: Array<RoomEvent | typeof RESYNC>;
  draining: boolean;
}

/** One client connection and the session it has joined. */
class Connection {
  room: RoomGroup<Connection> | null = null;
  participantId: ParticipantId | null = null;
  /** Until the join reply is out, room events are held here so none is missed or sent early. */
  ready = true;
  held: Held[] = [];
  /** Events at or before this mark are already reflected in the join reply. */
  snapshotMark: Mark = ORIGIN;
  /** What the last LEADERBOARD_UPDATED sent reflected: an older board is never sent after it. */
  boardMark: Mark = ORIGIN;
  closed = false;
  /** The tail of this connection's message queue. */
  queue: Promise<void> = Promise.resolve();

  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    readonly user: SeedUser,
    readonly guard: InboundGuard,
  ) {}

  actor(): Actor {
    return actorOf(this.user, this.participantId);
  }
}

/**
 * The seed 001 / 003 dialect on `/ws` (docs/protocols/seed-001.md): upgrades
 * with `?user_id=`, validates every frame at the edge, turns JOIN_SESSION,
 * SUBMIT_ANSWER and LEAVE_SESSION into room commands and room events into
 * this dialect's messages. It holds no game rules, and reaches sessions only
 * through their RoomHandle, so a session may run on another instance.
 */
export class Seed001Door implements WsDoor {
  readonly name = DOOR;
  private readonly limits: Seed001Limits;
  private readonly count: DoorMetrics;
  private readonly gate: UpgradeGate;
  private readonly conns: ConnectionRegistry<Connection>;
  private readonly groups = new RoomGroups<Connection>(
    (g, e) => this.deliver(g, e),
    (g) => this.resync(g),
  );
  private readonly states = new WeakMap<RoomGroup<Connection>, GroupState>();
  private readonly replies: ReplyCache<CachedReply>;

  constructor(
    private readonly deps: DoorDeps,
    limits: Partial<Seed001Limits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.count = new DoorMetrics(deps.metrics, DOOR);
    this.gate = new UpgradeGate({
      maxPayload: this.limits.hardMaxFrameBytes,
      allowedOrigins: deps.config.allowedOrigins,
      log: deps.log,
      failure: "seed001 upgrade failed",
    });
    this.conns = new ConnectionRegistry<Connection>({
      metrics: this.count,
      limiter: deps.limiter,
      limits: this.limits,
      closeCodes: CLOSE_CODES,
      log: deps.log,
      onMessage: (conn, data, isBinary) => this.onMessage(conn, data, isBinary),
      onClose: (conn) => this.unbind(conn),
      onLimited: (conn, retryAfterMs) => {
        const error = rateLimited("Too many messages", retryAfterMs);
        this.enqueue(conn, () => this.sendError(conn, null, error));
      },
    });
    this.replies = new ReplyCache(deps.replay, this.limits.replayTtlMs, (r) => r.remember);
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  matches(path: string): boolean {
    return path === SEED001_PATH;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.gate.accept(req, socket, head, {
      admit: () => resolveSeedUser(req, this.deps.identity),
      open: (ws, who) => this.onConnection(ws, who.user),
    });
  }

  shutdown(): void {
    this.conns.shutdown();
  }

  // ------------------------------------------------------------------ connection lifecycle

  private onConnection(ws: WebSocket, user: SeedUser): void {
    // Keyed by user: seed 001 §12.3 limits users, not sockets.
    const guardKey = `${DOOR}:${user.userId}`;
    this.conns.open(ws, (id, guard) => new Connection(id, ws, user, guard), guardKey);
  }

  // ------------------------------------------------------------------ inbound

  /**
   * Rate limit and decoding happen on arrival; handling is queued per
   * connection, so messages are handled one at a time in the order they came
   * (a JOIN_SESSION sent without waiting is done before the next SUBMIT_ANSWER)
   * and replies come in the order of the requests.
   */
  private onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    if (!this.conns.admit(conn)) return;
    const decoded = this.decode(data, isBinary);
    if (!decoded.ok) {
      this.enqueue(conn, () => this.sendError(conn, decoded.messageId, decoded.error));
      this.conns.strike(conn);
      return;
    }
    this.count.received(decoded.type);
    this.enqueue(conn, () => this.dispatch(conn, decoded.env, decoded.type, decoded.payload));
  }

  private enqueue(conn: Connection, work: () => Promise<void> | void): void {
    conn.queue = conn.queue
      .then(() => (conn.closed ? undefined : work()))
      .catch((err: unknown) =>
        this.deps.log.error({ err, conn: conn.id }, "seed001 message failed"),
      );
  }

  /** Size, JSON, envelope, type and payload checks, in that order; the first failure is reported. */
  private decode(
    data: RawData,
    isBinary: boolean,
  ):
    | { ok: true; env: ClientEnvelope; type: ClientType; payload: unknown }
    | { ok: false; messageId: string | null; error: SeedError } {
    const bad = (code: Seed001ErrorCode, message: string, messageId: string | null = null) => ({
      ok: false as const,
      messageId,
      error: new SeedError(code, message),
    });
    if (isBinary) return bad("MALFORMED_MESSAGE", "Binary frames are not accepted; send JSON text");
    const size = frameBytes(data);
    if (size > this.limits.maxFrameBytes) {
      return bad(
        "MESSAGE_TOO_LARGE",
        `Message of ${size} bytes exceeds the ${this.limits.maxFrameBytes}-byte limit`,
      );
    }
    let msg: unknown;
    try {
      msg = JSON.parse(frameText(data));
    } catch {
      return bad("MALFORMED_MESSAGE", "Message is not valid JSON");
    }
    if (!envelopeValidator.Check(msg)) {
      const given = (msg as { message_id?: unknown } | null)?.message_id;
      const first = envelopeValidator.Errors(msg)[0];
      const where = first ? `${first.instancePath || "message"} ${first.message}` : "bad envelope";
      return bad(
        "MALFORMED_MESSAGE",
        `Invalid message envelope: ${where}`,
        typeof given === "string" && given.length > 0 ? given.slice(0, 64) : null,
      );
    }
    const env = msg;
    const messageId = env.message_id ?? null;
    if (!isClientType(env.type)) {
      return bad("UNKNOWN_MESSAGE_TYPE", `Unknown message type "${env.type}"`, messageId);
    }
    const payload = env.payload ?? {};
    const validator = clientValidators[env.type];
    if (!validator.Check(payload)) {
      const first = validator.Errors(payload)[0];
      const where = first ? `payload${first.instancePath} ${first.message}` : "invalid payload";
      return bad("INVALID_PAYLOAD", `Invalid ${env.type}: ${where}`, messageId);
    }
    return { ok: true, env, type: env.type, payload };
  }

  private async dispatch(
    conn: Connection,
    env: ClientEnvelope,
    type: ClientType,
    payload: unknown,
  ): Promise<void> {
    const messageId = env.message_id ?? null;
    const replayKey =
      messageId !== null && REPLAYED.has(type) ? this.messageKey(conn, messageId) : null;
    if (replayKey) {
      const done = this.replies.done(replayKey);
      if (done !== undefined) return this.replay(conn, done);
      const running = this.replies.running(replayKey);
      if (running) return this.replay(conn, await running);
    }
    const work = this.handle(conn, messageId, type, payload).catch((err: unknown) =>
      this.refusal(messageId, err),
    );
    const reply = await this.replies.run(replayKey, work);
    for (const f of reply.frames) this.sendRaw(conn, f);
    this.markReady(conn);
  }

  private refusal(messageId: string | null, err: unknown): CachedReply {
    let error: SeedError;
    if (err instanceof SeedError) error = err;
    else {
      this.deps.log.error({ err }, "seed001 message handler failed");
      error = new SeedError("INTERNAL_ERROR", "Internal error");
    }
    return {
      frames: [this.errorFrame(messageId, error)],
      binding: null,
      remember: !error.recoverable,
    };
  }

  /** A retried message: the original reply again, and the binding if this is a new connection. */
  private async replay(conn: Connection, reply: CachedReply): Promise<void> {
    const b = reply.binding;
    if (b && conn.room?.handle.id !== b.sessionId) {
      const handle = await this.deps.sessions.find(b.sessionId);
      if (handle && !conn.closed) {
        this.unbind(conn);
        this.bind(conn, handle, b.participantId);
        conn.ready = false;
        try {
          this.stateOf(conn.room).users.set(b.participantId, conn.user.userId);
          // The join reply, then today's board rather than the remembered one.
          for (const f of reply.frames.slice(0, 1)) this.sendRaw(conn, f);
          await handle.execute(conn.actor(), { type: "presence", connected: true });
          const snap = await this.snapshotOf(conn, handle);
          if (snap) {
            conn.snapshotMark = markOf(snap);
            this.sendBoard(conn, snap);
          } else {
            for (const f of reply.frames.slice(1)) this.sendRaw(conn, f);
          }
        } finally {
          this.markReady(conn);
        }
        return;
      }
    }
    for (const f of reply.frames) this.sendRaw(conn, f);
  }

  // ------------------------------------------------------------------ handlers

  private async handle(
    conn: Connection,
    messageId: string | null,
    type: ClientType,
    payload: unknown,
  ): Promise<CachedReply> {
    switch (type) {
      case "PING":
        return this.only(frame("PONG", { server_time: iso(this.now()) }, this.now(), messageId));
      case "JOIN_SESSION":
        return this.join(conn, messageId, payload as ClientPayload<"JOIN_SESSION">);
      case "SUBMIT_ANSWER":
        return this.answer(conn, messageId, payload as ClientPayload<"SUBMIT_ANSWER">);
      case "LEAVE_SESSION":
        return this.leave(conn, messageId, payload as ClientPayload<"LEAVE_SESSION">);
      default: {
        const never: never = type;
        return never;
      }
    }
  }

  private async join(
    conn: Connection,
    messageId: string | null,
    p: ClientPayload<"JOIN_SESSION">,
  ): Promise<CachedReply> {
    const ctx: ErrorContext = { sessionId: p.session_id };
    // Shared across instances (Redis when clustered): the limit holds wherever the user connects.
    const limit = await this.deps.sharedLimiter.take(
      `${DOOR}:join:${conn.user.userId}`,
      this.limits.joinsPerMinute,
      60_000,
    );
    if (!limit.allowed) throw rateLimited("Too many JOIN_SESSION messages", limit.retryAfterMs);
    const handle = await this.findSession(p.session_id);
    // Closed while we looked: binding it now would leave it in the group for good.
    if (conn.closed) return { frames: [], binding: null, remember: false };
    const already = conn.room?.handle.id === handle.id && conn.participantId !== null;
    if (!already) {
      this.unbind(conn);
      // Bound (but held) before the command runs, so no event between the reply and the binding is lost.
      this.bind(conn, handle, null);
      conn.ready = false;
    }
    const reply = await handle.execute(
      conn.actor(),
      {
        type: "join",
        // Seed 001 clients read the questions over REST: nothing is pushed, no per-question timer starts.
        serveQuestions: false,
        name: p.username ?? defaultName(conn.user),
      },
      this.dedupe(conn, messageId),
    );
    if (!reply.ok) {
      if (!already) {
        this.unbind(conn);
        conn.ready = true;
      }
      throw fromDomainError(reply.error, ctx);
    }
    const joined = reply.value as JoinResult;
    let snap = joined.snapshot;
    // A connection that closed meanwhile was unbound by onClose and must not count as present.
    if (!already && conn.room && !conn.closed) {
      const state = this.stateOf(conn.room);
      state.users.set(joined.participantId, joined.userId);
      this.learnSnapshot(state, snap);
      this.groups.reassign(conn.room, conn, joined.participantId);
      await handle.execute(conn.actor(), { type: "presence", connected: true });
      if (messageId !== null) {
        // The owner answers a retried message_id with the first reply, whose board may be
        // old by now: the board that goes with it is today's, as on a replay from this instance.
        snap = (await this.snapshotOf(conn, handle)) ?? snap;
      }
    }
    if (isAfter(markOf(snap), conn.snapshotMark)) conn.snapshotMark = markOf(snap);
    if (isAfter(markOf(snap), conn.boardMark)) conn.boardMark = markOf(snap);
    const at = this.now();
    return {
      frames: [
        frame(
          "SESSION_JOINED",
          {
            session_id: handle.id,
            quiz_id: handle.info.quizId,
            status: joined.snapshot.status,
            participant_count: joined.snapshot.playerCount,
            your_score: joined.snapshot.you?.score ?? 0,
            username: joined.name,
            rejoined: joined.resumed,
          },
          at,
          messageId,
        ),
        // The board as of the join, so a (re)joining client need not wait for the next change.
        leaderboardFrame(handle.id, snap.leaderboard, snap.playerCount, at)(snap.you?.rank ?? null),
      ],
      binding: { sessionId: handle.id, participantId: joined.participantId },
      remember: true,
    };
  }

  private async answer(
    conn: Connection,
    messageId: string | null,
    p: ClientPayload<"SUBMIT_ANSWER">,
  ): Promise<CachedReply> {
    const started = performance.now();
    const ctx: ErrorContext = { sessionId: p.session_id, questionId: p.question_id };
    const handle = this.requireJoined(conn, ctx);
    const limit = this.deps.limiter.takeSync(
      `${DOOR}:answer:${conn.user.userId}`,
      this.limits.answersPerSecond,
      1_000,
    );
    if (!limit.allowed) throw rateLimited("Too many answers", limit.retryAfterMs);
    // `time_taken_ms` was validated at the edge and goes no further: the server measures (S-5).
    const reply = await handle.execute(
      conn.actor(),
      {
        type: "answer",
        target: { questionId: p.question_id },
        answer: { kind: "text", text: p.answer },
      },
      this.dedupe(conn, messageId),
    );
    if (!reply.ok) throw fromDomainError(reply.error, ctx);
    const ack = reply.value as AnswerAck;
    this.count.answerAcked(started);
    return this.only(
      frame(
        "SCORE_UPDATED",
        {
          user_id: conn.user.publicId,
          new_score: ack.score,
          points_earned: ack.points,
          is_correct: ack.correct,
          question_id: ack.questionId,
          elapsed_ms: ack.elapsedMs,
        },
        this.now(),
        messageId,
      ),
    );
  }

  private async leave(
    conn: Connection,
    messageId: string | null,
    p: ClientPayload<"LEAVE_SESSION">,
  ): Promise<CachedReply> {
    const ctx: ErrorContext = { sessionId: p.session_id };
    const handle = this.requireJoined(conn, ctx);
    const reply = await handle.execute(
      conn.actor(),
      { type: "leave" },
      this.dedupe(conn, messageId),
    );
    if (!reply.ok) throw fromDomainError(reply.error, ctx);
    this.unbind(conn);
    return this.only(frame("SESSION_LEFT", { session_id: handle.id }, this.now(), messageId));
  }

  /** The open session with that id; an ended one that is no longer open is SESSION_COMPLETED. */
  private async findSession(id: string): Promise<RoomHandle> {
    const handle = await this.deps.sessions.find(id);
    if (handle) return handle;
    const stored = await this.deps.sessions.load(id);
    const code =
      stored?.session.state.phase.kind === "ended" ? "SESSION_COMPLETED" : "INVALID_SESSION";
    throw new SeedError(code, seedMessage(code, { sessionId: id }) ?? code);
  }

  private requireJoined(conn: Connection, ctx: ErrorContext): RoomHandle {
    const group = conn.room;
    if (!group || group.handle.id !== ctx.sessionId || conn.participantId === null) {
      throw new SeedError("NOT_JOINED", seedMessage("NOT_JOINED", ctx) ?? "Not joined");
    }
    return group.handle;
  }

  /** A message's identity: the local replay cache's key, and the owner's dedupe key. */
  private messageKey(conn: Connection, messageId: string): string {
    return `${DOOR}:${conn.user.userId}:${messageId}`;
  }

  /**
   * Mutating commands carry the message_id to the session's owner, so a retry
   * that reaches the owner through another instance gets the first reply.
   */
  private dedupe(conn: Connection, messageId: string | null): ExecuteOptions | undefined {
    return messageId === null ? undefined : { dedupeKey: this.messageKey(conn, messageId) };
  }

  /** The connection's own view of the session, or null when the session refused. */
  private async snapshotOf(conn: Connection, handle: RoomHandle): Promise<Snapshot | null> {
    const reply = await handle.execute(conn.actor(), { type: "snapshot", role: "player" });
    return reply.ok ? (reply.value as Snapshot) : null;
  }

  // ------------------------------------------------------------------ rooms and fan-out

  private bind(conn: Connection, handle: RoomHandle, participantId: ParticipantId | null): void {
    conn.participantId = participantId;
    conn.room = this.groups.add(handle, conn);
    conn.snapshotMark = ORIGIN;
    conn.boardMark = ORIGIN;
  }

  private unbind(conn: Connection): void {
    const group = conn.room;
    if (!group) return;
    if (conn.participantId) {
      this.background(
        group.handle.execute(conn.actor(), { type: "presence", connected: false }),
        "presence",
      );
    }
    this.groups.remove(group, conn);
    conn.room = null;
    conn.participantId = null;
    conn.held = [];
  }

  private markReady(conn: Connection): void {
    if (conn.ready) return;
    conn.ready = true;
    const held = conn.held;
    conn.held = [];
    for (const h of held) this.sendEvent(conn, h.event, h.frames);
  }

  private stateOf(group: RoomGroup<Connection> | null): GroupState {
    // Callers hold a bound connection; a fresh state for a missing group is never shared.
    if (!group) return newGroupState();
    let state = this.states.get(group);
    if (!state) {
      state = newGroupState();
      this.states.set(group, state);
    }
    return state;
  }

  /**
   * Events go out in the order the session emitted them. Most are encoded at
   * once; one that needs something the door does not know yet (who a presence
   * event is about) waits in the group's backlog while it is fetched, and
   * everything after it waits behind it.
   */
  private deliver(group: RoomGroup<Connection>, event: RoomEvent): void {
    const state = this.stateOf(group);
    if (state.backlog.length === 0 && !this.needsFetch(state, event)) {
      this.process(group, state, event);
      return;
    }
    state.backlog.push(event);
    this.drain(group, state);
  }

  /** Events may have been missed (another instance's messages lost, a new owner): fresh boards. */
  private resync(group: RoomGroup<Connection>): void {
    const state = this.stateOf(group);
    state.backlog.push(RESYNC);
    this.drain(group, state);
  }

  private drain(group: RoomGroup<Connection>, state: GroupState): void {
    if (state.draining) return;
    state.draining = true;
    const run = async () => {
      while (state.backlog.length > 0) {
        const item = state.backlog[0];
        try {
          if (group.conns.size === 0) {
            state.backlog.length = 0;
            break;
          }
          if (item === RESYNC) await this.refreshBoards(group, state);
          else if (item) {
            if (this.needsFetch(state, item)) await this.fetchFor(group, state, item);
            this.process(group, state, item);
          }
        } catch (err) {
          this.deps.log.error({ err, session: group.handle.id }, "seed001 delivery failed");
        }
        state.backlog.shift();
      }
    };
    void run().finally(() => {
      state.draining = false;
    });
  }

  private needsFetch(state: GroupState, event: RoomEvent): boolean {
    const b = event.body;
    return (
      b.type === "presence" && (!state.users.has(b.participantId) || state.playerCount === null)
    );
  }

  /** Fetches what a presence event needs: the session's count (and roster), then the member. */
  private async fetchFor(
    group: RoomGroup<Connection>,
    state: GroupState,
    event: RoomEvent,
  ): Promise<void> {
    const b = event.body;
    if (b.type !== "presence") return;
    const asker = group.conns.values().next().value;
    if (!asker) return;
    if (state.playerCount === null) {
      const reply = await group.handle.execute(asker.actor(), {
        type: "snapshot",
        role: "spectator",
      });
      if (reply.ok) this.learnSnapshot(state, reply.value as Snapshot);
    }
    if (!state.users.has(b.participantId)) {
      const reply = await group.handle.execute(asker.actor(), {
        type: "lookup",
        participantId: b.participantId,
      });
      const member = reply.ok ? (reply.value as MemberLookup).member : null;
      if (member) state.users.set(member.participantId, member.userId);
    }
  }

  /** Encodes an event and sends it to its audience; the session's state is learnt from it first. */
  private process(group: RoomGroup<Connection>, state: GroupState, event: RoomEvent): void {
    learnEvent(state, event);
    if (event.body.type === "kicked") {
      this.removeKicked(group, event.body.participantId, event.body.reason);
      return;
    }
    const frames = this.framesOf(state, event);
    if (frames.length === 0) return;
    const audience = event.audience;
    const targets =
      audience.kind === "participant" ? (group.of(audience.participantId) ?? []) : group.conns;
    for (const c of targets) {
      if (!c.ready) c.held.push({ event, frames });
      else this.sendEvent(c, event, frames);
    }
  }

  /**
   * Every ready participant gets the board as the session has it now, with
   * their own rank: one snapshot per participant (their connections share it).
   */
  private async refreshBoards(group: RoomGroup<Connection>, state: GroupState): Promise<void> {
    const byParticipant = new Map<ParticipantId, Connection[]>();
    for (const c of group.conns) {
      if (!c.ready || c.closed || c.participantId === null) continue;
      const list = byParticipant.get(c.participantId);
      if (list) list.push(c);
      else byParticipant.set(c.participantId, [c]);
    }
    await Promise.all(
      [...byParticipant.values()].map(async (list) => {
        const first = list[0];
        if (!first) return;
        const snap = await this.snapshotOf(first, group.handle);
        if (!snap) return;
        this.learnSnapshot(state, snap);
        for (const c of list) if (c.room === group) this.sendBoard(c, snap);
      }),
    );
  }

  /** What a snapshot tells the door about the session: its count, and members it names. */
  private learnSnapshot(state: GroupState, snap: Snapshot): void {
    const mark = markOf(snap);
    if (state.countMark === null || isAfter(mark, state.countMark)) {
      state.playerCount = snap.playerCount;
      state.countMark = mark;
    }
    for (const s of snap.leaderboard) state.users.set(s.participantId, s.userId);
    for (const p of snap.players ?? []) state.users.set(p.participantId, p.userId);
  }

  /**
   * The frames an event becomes, decided once per event. USER_JOINED and
   * USER_LEFT follow a participant's presence: a new participant is announced,
   * and afterwards only changes are (gone after LEAVE_SESSION or a lost
   * connection, back on their return), so nobody is announced twice.
   */
  private framesOf(state: GroupState, event: RoomEvent): EventFrame[] {
    const cached = event.encoded.get(CACHE_KEY) as EventFrame[] | undefined;
    if (cached) return cached;
    const all = encodeEvent(event, {
      userOf: (id) => state.users.get(id),
      playerCount: () => state.playerCount ?? 0,
    });
    const away = state.away;
    const frames = all.filter((f) => {
      const m = f.membership;
      if (!m) return true;
      const wasAway = away.has(m.participantId);
      if (m.arrived) {
        away.delete(m.participantId);
        return m.fresh || wasAway;
      }
      away.add(m.participantId);
      return !wasAway;
    });
    event.encoded.set(CACHE_KEY, frames);
    return frames;
  }

  private sendEvent(conn: Connection, event: RoomEvent, frames: readonly EventFrame[]): void {
    const pid = conn.participantId;
    if (conn.closed || pid === null) return;
    const mark = markOf(event);
    // Already reflected in what the connection got when it joined.
    if (!isAfter(mark, conn.snapshotMark)) return;
    for (const f of frames) {
      if (f.membership?.participantId === pid) continue;
      const board = f.type === "LEADERBOARD_UPDATED";
      if (board && !isAfter(mark, conn.boardMark)) continue;
      const pressure = this.conns.pressure(conn, f.coalescible);
      if (pressure === "closed") return;
      if (pressure === "skip") continue;
      if (f.personal) conn.ws.send(f.personal(pid));
      else if (f.shared) conn.ws.send(f.shared, { binary: false });
      else continue;
      if (board) conn.boardMark = mark;
      this.count.sent(f.type);
    }
  }

  /** A board from a snapshot, unless the connection already has a newer one. */
  private sendBoard(conn: Connection, snap: Snapshot): void {
    const mark = markOf(snap);
    if (isAfter(conn.boardMark, mark)) return;
    const render = leaderboardFrame(snap.sessionId, snap.leaderboard, snap.playerCount, this.now());
    this.sendRaw(conn, render(snap.you?.rank ?? null));
    conn.boardMark = mark;
  }

  /** The host removed a participant: each of their connections is told why and closed (4003). */
  private removeKicked(
    group: RoomGroup<Connection>,
    participantId: ParticipantId,
    reason: string,
  ): void {
    const targets = group.of(participantId);
    if (!targets) return;
    const error = new SeedError(
      "ACCESS_DENIED",
      `You were removed from session ${group.handle.id}: ${reason}`,
    );
    for (const c of [...targets]) {
      this.sendError(c, null, error);
      // Kicked members have no presence to clear; leave the group without a presence command.
      this.groups.remove(group, c);
      c.room = null;
      c.participantId = null;
      c.held = [];
      c.ws.close(CLOSE_CODES.kicked, "removed by the host");
    }
  }

  /** A command whose reply nobody waits for: a failure is logged, never left unhandled. */
  private background(work: Promise<unknown>, what: string): void {
    work.catch((err: unknown) => this.deps.log.error({ err }, `seed001 ${what} failed`));
  }

  // ------------------------------------------------------------------ outbound helpers

  private now(): number {
    return this.deps.clock.now();
  }

  private errorFrame(messageId: string | null, error: SeedError): string {
    const payload: ServerPayload<"ERROR"> = {
      code: error.code,
      message: error.message,
      recoverable: ERROR_CODES[error.code].recoverable,
    };
    if (error.retryAfterMs !== undefined) payload.retry_after_ms = error.retryAfterMs;
    this.count.error(error.code);
    return frame("ERROR", payload, this.now(), messageId);
  }

  private sendError(conn: Connection, messageId: string | null, error: SeedError): void {
    this.sendRaw(conn, this.errorFrame(messageId, error));
  }

  private sendRaw(conn: Connection, text: string): void {
    this.conns.send(conn, text, frameType(text));
  }

  private only(text: string): CachedReply {
    return { frames: [text], binding: null, remember: true };
  }
}

function newGroupState(): GroupState {
  return {
    users: new Map(),
    playerCount: null,
    countMark: null,
    away: new Set(),
    backlog: [],
    draining: false,
  };
}

/** What an event tells the door about the session, applied in event order. */
function learnEvent(state: GroupState, event: RoomEvent): void {
  const b = event.body;
  const count = (n: number) => {
    state.playerCount = n;
    state.countMark = markOf(event);
  };
  const standings = (list: readonly Standing[]) => {
    for (const s of list) state.users.set(s.participantId, s.userId);
  };
  switch (b.type) {
    case "participant_joined":
      state.users.set(b.participant.participantId, b.participant.userId);
      count(b.playerCount);
      break;
    case "participant_left":
      state.users.set(b.participantId, b.userId);
      count(b.playerCount);
      break;
    case "player_count":
      count(b.playerCount);
      break;
    case "scored":
      state.users.set(b.participantId, b.userId);
      break;
    case "leaderboard":
    case "reveal":
    case "intermission":
    case "ended":
      standings(b.leaderboard);
      break;
    default:
      break;
  }
}

function rateLimited(what: string, retryAfterMs: number): SeedError {
  return new SeedError("RATE_LIMITED", `${what}; slow down`, retryAfterMs);
}

/**
 * Without a username (the seed's own load-test script sends none) the token's
 * handle names the player, or else the user id (its first 24 characters, N-1).
 */
function defaultName(user: SeedUser): string {
  return [...(user.handle ?? user.publicId)].slice(0, NAME_MAX).join("");
}

function frameType(text: string): ServerType | "unknown" {
  return (/^\{"type":"([A-Z_]+)"/.exec(text)?.[1] as ServerType | undefined) ?? "unknown";
}
