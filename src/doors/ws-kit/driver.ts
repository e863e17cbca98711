import type { Logger } from "pino";
import type { ParticipantId, SessionId } from "../../domain/ids.js";
import { type EventMark, isAfter, latest, markOf, ORIGIN } from "../../engine/event-order.js";
import type { RoomHandle, SessionInfo } from "../../engine/room-handle.js";
import type { RoomEvent, ViewerRole } from "../../engine/types.js";
import type { ClientErrorLog } from "../../observability/client-error-log.js";
import type { Metrics } from "../../observability/metrics.js";
import type { LocalRateLimiter, LocalReplayCache } from "../../ports/cluster.js";
import { TRACE_ATTRIBUTES, type Tracer } from "../../ports/tracing.js";
import { CLOSE_REASONS } from "./close-codes.js";
import { Connection } from "./connection.js";
import {
  type Dialect,
  type EventFrame,
  framesOnce,
  type Outbound,
  type Reply,
  rememberedForm,
} from "./dialect.js";
import { DoorMetrics } from "./door-metrics.js";
import { type GuardLimits, InboundGuard } from "./inbound-guard.js";
import { ReplyCache } from "./replies.js";
import { type RoomGroup, RoomGroups } from "./room-groups.js";
import type { DoorSocket, SocketEvents } from "./socket.js";
import { StepBundles } from "./step-bundles.js";
import { afterWrites } from "./turn-writes.js";

/** The limits every door sets for its connections. */
export interface ConnectionLimits extends GuardLimits {
  /** Frames beyond this are not even read: the transport closes with 1009. */
  hardMaxFrameBytes: number;
  heartbeatMs: number;
  /** A client this far behind (bytes buffered) is disconnected. */
  slowConsumerBytes: number;
  /** A client this far behind skips coalescible frames until it catches up; without it none are skipped. */
  coalesceAboveBytes?: number;
}

/** A door's connection limits unless its seed names others. */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  hardMaxFrameBytes: 64 * 1024,
  messagesPerSecond: 20,
  messageBurst: 40,
  floodCloseAfter: 200,
  strikesPerMinute: 10,
  heartbeatMs: 30_000,
  slowConsumerBytes: 4 * 1024 * 1024,
};

export interface DriverOptions {
  metrics: Metrics;
  /** Per-connection budgets (a connection lives on one instance). */
  limiter: LocalRateLimiter;
  /** Per-user budgets that hold across instances (reconciled through Redis when clustered). */
  clusterLimiter?: LocalRateLimiter;
  /** Where replies are remembered for retries; a dialect without message ids needs none. */
  replay?: LocalReplayCache<Reply>;
  /** How long a reply is remembered. */
  replayTtlMs?: number;
  limits: ConnectionLimits;
  log: Logger;
  /** Finds a session again when a retried join re-binds a new connection. */
  sessions: { find(id: string): Promise<RoomHandle | undefined> };
  /** The reason a client too slow to keep up is closed with. */
  slowReason?: string;
  /** Traces each message from arrival to reply, and phase broadcasts; absent, tracing is off. */
  tracer?: Tracer;
  /** A rate-limited WARN line per class of error sent to clients. */
  clientErrors?: ClientErrorLog;
}

/**
 * Phase broadcasts: a question going out, its reveal, a game's start and end. Their delivery is
 * traced, and timed from the room's stamp to the last write (`quizwire_broadcast_seconds`).
 */
const PHASE_BROADCASTS: ReadonlySet<string> = new Set(["started", "question", "reveal", "ended"]);

/**
 * Events to everyone that go out in one pass over a room's connections when a room step has
 * several in a row (`deliverStep`): a game's start, the player count riding along and the first
 * question; a question's close and its reveal. What the dialects do after delivering them
 * (`observe`) does not change who gets what next, as a host handed over or a kick would.
 */
const STEP_TOGETHER: ReadonlySet<string> = new Set([
  "started",
  "player_count",
  "question",
  "question_closed",
  "reveal",
]);

/** A backpressure check before a push: send it, skip it, or the client was closed as too slow. */
type Pressure = "send" | "skip" | "closed";

/** A WebSocket close reason must fit in 123 bytes (ws throws beyond). */
const CLOSE_REASON_MAX_BYTES = 123;

/**
 * The one pipeline every WebSocket door runs on (STYLE.md §16): a dialect
 * supplies decode, a handler per message, an event encoder and its error
 * frames; the driver does the rest for every door alike —
 *
 * - connection lifecycle: registry, gauges, close handling and presence;
 * - inbound: the per-connection rate limit, decoding errors and strikes,
 *   handling in order when the dialect asks for it;
 * - the replay window: a retried message id gets its first reply, and a
 *   retried join on a new connection binds that connection too;
 * - events held while a join's reply is worked out, released after it minus
 *   what its snapshot already showed;
 * - delivery to a room's connections: roles, personal parts, backpressure
 *   (coalescible frames skipped for a client that is behind, a client too far
 *   behind closed), metrics by message type;
 * - removing a kicked participant's connections, resyncs.
 *
 * It talks to sockets through `DoorSocket` only, so a dialect can be tested
 * with a fake socket; the `ws` library stays in ws-transport.ts.
 */
export class DoorDriver<S, M extends { type: string }> {
  readonly metrics: DoorMetrics;
  private readonly conns = new Set<Connection<S>>();
  private readonly groups: RoomGroups<Connection<S>>;
  private readonly replies: ReplyCache<Reply>;
  private nextId = 1;

  constructor(
    private readonly dialect: Dialect<S, M>,
    private readonly opts: DriverOptions,
  ) {
    this.metrics = new DoorMetrics(opts.metrics, dialect.name, dialect.endpoint, opts.clientErrors);
    this.groups = new RoomGroups<Connection<S>>(
      (group, event) => this.deliver(group, event),
      (group, events) => this.deliverStep(group, events),
      (group) => this.resync(group),
    );
    // A retryable refusal is not remembered: the retry should really run again.
    this.replies = new ReplyCache(
      opts.replay ?? null,
      opts.replayTtlMs ?? 0,
      (reply) => !reply.retryable,
      rememberedForm,
    );
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  /** Every open connection of the door. */
  connections(): Iterable<Connection<S>> {
    return this.conns.values();
  }

  // ------------------------------------------------------------------ lifecycle

  /**
   * Registers a new socket with what its dialect keeps about it. The inbound
   * guard is keyed `<door>:<id>` unless `keys.guard` shares it (seed 001 limits
   * users); `keys.user` names the user whose budget over every connection and
   * instance the door's `userMessages` limits.
   */
  connect(
    socket: DoorSocket,
    state: S,
    keys: { guard?: string; user?: string } = {},
  ): Connection<S> {
    const id = this.nextId++;
    const shared = this.opts.clusterLimiter ?? this.opts.limiter;
    const guard = new InboundGuard(
      this.opts.limiter,
      this.opts.limits,
      keys.guard ?? `${this.dialect.name}:${id}`,
      keys.user !== undefined
        ? { limiter: shared, key: `${this.dialect.name}:${keys.user}` }
        : undefined,
    );
    const conn = new Connection(id, socket, guard, state);
    this.conns.add(conn);
    this.metrics.connected();
    return conn;
  }

  /** What the transport calls for a connection's frames and its close. */
  eventsOf(conn: Connection<S>): SocketEvents {
    return {
      onMessage: (data, isBinary) => this.onMessage(conn, data, isBinary),
      onClose: () => this.onClose(conn),
    };
  }

  /** Closes every connection (1001) so clients reconnect elsewhere; nothing waits for replies. */
  shutdown(): void {
    for (const c of this.conns) {
      if (c.socket.isOpen)
        c.socket.close(this.dialect.closeCodes.goingAway, CLOSE_REASONS.shutdown);
    }
  }

  private onClose(conn: Connection<S>): void {
    if (conn.closed) return;
    conn.closed = true;
    this.conns.delete(conn);
    this.metrics.disconnected(conn.openedMs);
    this.detach(conn);
    this.dialect.closed?.(conn);
  }

  // ------------------------------------------------------------------ inbound

  private onMessage(conn: Connection<S>, data: Buffer, isBinary: boolean): void {
    const admission = conn.guard.admit();
    if (!admission.ok) {
      if (admission.close) {
        this.close(conn, this.dialect.closeCodes.rateLimited, CLOSE_REASONS.flood);
      } else {
        const limited = this.dialect.rateLimited(admission.retryAfterMs, data);
        if (limited) this.run(conn, () => void this.send(conn, limited));
      }
      return;
    }
    const decoded = this.dialect.decode(data, isBinary);
    if (!decoded.ok) {
      const error = decoded.error;
      if (error) this.run(conn, () => void this.send(conn, error));
      if (conn.guard.strike()) {
        this.close(conn, this.dialect.closeCodes.protocolViolations, CLOSE_REASONS.strikes);
      }
      return;
    }
    this.metrics.received(decoded.message.type);
    const binds = this.dialect.binding.has(decoded.message.type);
    if (this.opts.tracer !== undefined) {
      this.runTraced(this.opts.tracer, conn, decoded.message, binds);
      return;
    }
    this.run(conn, () => this.dispatch(conn, decoded.message, binds), binds);
  }

  /**
   * A message's span, from its arrival to its reply on the socket (an answer's acknowledgement):
   * a new trace, with the room's commands (here, or forwarded to the owner) beneath it.
   */
  private runTraced(tracer: Tracer, conn: Connection<S>, message: M, binds: boolean): void {
    const span = tracer.start(`ws ${message.type}`, {
      parent: null,
      kind: "server",
      attributes: {
        [TRACE_ATTRIBUTES.door]: this.dialect.name,
        [TRACE_ATTRIBUTES.msgType]: message.type,
      },
    });
    const done = () => {
      // A join knows its room only once it ran.
      const room = conn.group?.handle.id;
      if (room !== undefined) span.set(TRACE_ATTRIBUTES.roomId, room);
      span.end();
    };
    this.run(
      conn,
      () =>
        tracer
          .within(span, () => this.dispatch(conn, message, binds))
          .then(done, (err: unknown) => {
            span.fail(err instanceof Error ? err.message : String(err));
            done();
            throw err;
          }),
      binds,
    );
  }

  /**
   * Runs a connection's work now, or after its earlier messages when the
   * dialect is ordered (or the message binds: one bind at a time).
   */
  private run(conn: Connection<S>, work: () => Promise<void> | void, queued = false): void {
    if (!this.dialect.ordered && !queued) {
      const pending = work();
      if (pending) pending.catch((err: unknown) => this.failed(err, conn));
      return;
    }
    conn.queue = conn.queue
      .then(() => (conn.closed ? undefined : work()))
      .catch((err: unknown) => this.failed(err, conn));
  }

  private failed(err: unknown, conn: Connection<S>): void {
    this.opts.log.error({ err, door: this.dialect.name, conn: conn.id }, "message failed");
  }

  private async dispatch(conn: Connection<S>, message: M, binds: boolean): Promise<void> {
    const key = this.dialect.replayKey(conn, message);
    if (key !== null) {
      const done = this.replies.done(key);
      if (done !== undefined) return this.replay(conn, done);
      const running = this.replies.running(key);
      if (running) return this.replay(conn, await running);
    }
    const reply = await this.replies.run(key, this.handle(conn, message, binds));
    const out = () => {
      for (const f of reply.frames) this.send(conn, f);
      // Only a binding message's reply ends the hold; another reply sent meanwhile does not.
      if (binds || conn.ready) this.release(conn);
    };
    // One write for several frames (a reply and the events held for it); a lone frame, as
    // most replies (an answer's score) are, is one write already.
    if (reply.frames.length > 1 || !conn.ready) conn.socket.batch(out);
    else out();
  }

  /** The handler's reply; a refusal it throws becomes the dialect's error reply. */
  private async handle(conn: Connection<S>, message: M, binds: boolean): Promise<Reply> {
    // Handlers is keyed by message type, so the handler found takes this very message.
    const handler = this.dialect.handlers[message.type as M["type"]] as (
      conn: Connection<S>,
      message: M,
    ) => Promise<Reply>;
    try {
      const reply = await handler(conn, message);
      if (binds && conn.attaching) this.undoAttach(conn);
      return reply;
    } catch (err) {
      if (binds && conn.attaching) this.undoAttach(conn);
      const refusal = this.dialect.refusal(err, message);
      if (refusal) return refusal;
      this.opts.log.error({ err, door: this.dialect.name, type: message.type }, "handler failed");
      return this.dialect.internalError(message);
    }
  }

  /** A retried message: the first reply again, and its binding if this is a new connection. */
  private async replay(conn: Connection<S>, reply: Reply): Promise<void> {
    const b = reply.binding;
    if (b && conn.group?.handle.id !== b.sessionId) {
      const handle = await this.opts.sessions.find(b.sessionId);
      if (handle && this.attach(conn, handle, b.role)) {
        try {
          const first = reply.frames[0];
          if (first) this.send(conn, first);
          await this.settle(conn, b.participantId, b.role, ORIGIN);
          // Today's state rather than the remembered one.
          await this.dialect.refresh(conn);
        } finally {
          this.release(conn);
        }
        return;
      }
    }
    for (const f of reply.frames) this.send(conn, f);
    if (reply.refresh) await this.dialect.refresh(conn);
  }

  // ------------------------------------------------------------------ binding to rooms

  /**
   * Binds the connection to a room (leaving any other) before the command that
   * joins it runs, holding the room's events until `release`, so none between
   * the command and the reply is lost or sent early. False when it already closed.
   */
  attach(
    conn: Connection<S>,
    handle: RoomHandle,
    role: ViewerRole,
    { presence = true }: { presence?: boolean } = {},
  ): boolean {
    if (conn.closed) return false;
    this.detach(conn);
    conn.role = role;
    conn.countsPresence = presence;
    conn.ready = false;
    conn.attaching = true;
    conn.group = this.groups.add(handle, conn);
    return true;
  }

  /**
   * Records who the connection turned out to be and what it already has (its
   * reply's snapshot), and marks the participant connected (presence).
   */
  async settle(
    conn: Connection<S>,
    participantId: ParticipantId | null,
    role: ViewerRole,
    mark: EventMark,
  ): Promise<void> {
    const group = conn.group;
    conn.attaching = false;
    if (!group || conn.closed) return;
    this.groups.reassign(group, conn, participantId, role);
    conn.mark = latest(conn.mark, markOf(mark));
    if (participantId !== null && conn.countsPresence) {
      await this.presence(conn, group.handle, true);
    }
  }

  /** The connection's member changed role in the room (host rights handed over): re-files it. */
  setRole(conn: Connection<S>, role: ViewerRole): void {
    const group = conn.group;
    if (!group || conn.closed || conn.role === role) return;
    this.groups.reassign(group, conn, conn.participantId, role);
  }

  /** The connection has the room as of `mark` (a snapshot it was sent): older events are not sent. */
  markSeen(conn: Connection<S>, mark: EventMark): void {
    conn.mark = latest(conn.mark, markOf(mark));
  }

  /** Leaves the connection's room; a participant's connection counts as gone (presence). */
  detach(conn: Connection<S>, presence = true): void {
    const group = conn.group;
    if (!group) return;
    if (presence && conn.countsPresence && conn.participantId !== null) {
      this.background(this.presence(conn, group.handle, false), "presence");
    }
    this.groups.remove(group, conn);
    conn.group = null;
    conn.participantId = null;
    conn.role = null;
    conn.attaching = false;
    conn.held = [];
    conn.mark = ORIGIN;
    conn.latestSent = null;
  }

  private undoAttach(conn: Connection<S>): void {
    this.detach(conn);
    conn.ready = true;
  }

  private async presence(conn: Connection<S>, handle: RoomHandle, connected: boolean) {
    await handle.execute(this.dialect.actor(conn), { type: "presence", connected });
  }

  /** The reply is out: held events follow it (minus what it showed), then any close asked for meanwhile. */
  release(conn: Connection<S>): void {
    if (!conn.ready) {
      conn.ready = true;
      const held = conn.held;
      conn.held = [];
      for (const h of held) this.sendFrames(conn, h.mark, h.frames, null, h.event);
    }
    const pending = conn.pendingClose;
    if (pending) {
      conn.pendingClose = null;
      this.close(conn, pending.code, pending.reason);
    }
  }

  // ------------------------------------------------------------------ outbound

  /** Sends one frame made for this connection (a reply, its state); false when it is not open. */
  send(conn: Connection<S>, out: Outbound): boolean {
    if (conn.closed || !conn.socket.isOpen) return false;
    conn.socket.send(out.text, true);
    this.metrics.sent(out.type);
    return true;
  }

  /**
   * Sends a picture of the room as of `mark` (a snapshot): events at or
   * before it are not sent to this connection afterwards.
   */
  sendState(conn: Connection<S>, out: Outbound, mark: EventMark): boolean {
    const m = markOf(mark);
    conn.mark = latest(conn.mark, m);
    return this.sendLatestAt(conn, out, m);
  }

  /** Sends a frame of a `latestOnly` type as of `mark`, unless the connection has a newer one. */
  sendLatest(conn: Connection<S>, out: Outbound, mark: EventMark): boolean {
    return this.sendLatestAt(conn, out, markOf(mark));
  }

  /** `sendLatest` with a plain mark (`markOf`). */
  private sendLatestAt(conn: Connection<S>, out: Outbound, mark: EventMark): boolean {
    if (!this.isLatest(conn, out.type, mark)) return false;
    if (!this.send(conn, out)) return false;
    this.noteLatest(conn, out.type, mark);
    return true;
  }

  /**
   * Frames a dialect made itself (not from one event) for a room's
   * connections, as of `mark`; held for connections whose reply is not out.
   * With `participantId`, to that participant's connections only; `reply` says
   * the frames answer that participant's message (socket.ts: they do not wait
   * behind a broadcast still going out).
   */
  broadcast(
    group: RoomGroup<Connection<S>>,
    frames: readonly EventFrame[],
    mark: EventMark,
    participantId: ParticipantId | null = null,
    reply = false,
  ): void {
    const targets = participantId === null ? group.conns : group.of(participantId);
    if (!targets) return;
    const tally = frames.map(() => 0);
    const m = markOf(mark);
    for (const c of [...targets]) this.sendFrames(c, m, frames, tally, null, reply);
    this.count(frames, tally);
  }

  /**
   * Closes a connection now (floods, strikes, slow clients, kicks); one whose
   * reply is still being worked out closes right after it when `afterReply`.
   */
  close(conn: Connection<S>, code: number, reason: string, afterReply = false): void {
    if (afterReply && !conn.ready) {
      conn.pendingClose ??= { code, reason };
      return;
    }
    if (!conn.socket.isOpen) return;
    conn.socket.close(code, fitCloseReason(reason));
  }

  private deliver(group: RoomGroup<Connection<S>>, event: RoomEvent): void {
    const type = event.body.type;
    if (PHASE_BROADCASTS.has(type)) {
      if (this.opts.tracer !== undefined) this.deliverTraced(this.opts.tracer, group, event);
      else this.deliverNow(group, event);
      this.timeBroadcast(event);
      return;
    }
    if (type !== "leaderboard") {
      this.deliverNow(group, event);
      return;
    }
    const started = performance.now();
    this.deliverNow(group, event);
    this.boardDelivered(started);
  }

  /**
   * The events of one room step: runs of broadcasts to everyone (`STEP_TOGETHER`) in one pass
   * over the connections, each connection getting them in order; the others one by one.
   */
  private deliverStep(group: RoomGroup<Connection<S>>, events: readonly RoomEvent[]): void {
    let i = 0;
    while (i < events.length) {
      let end = i;
      while (end < events.length && this.goesTogether(group, events[end] as RoomEvent)) end += 1;
      const together = end - i > 1;
      if (!together) end = i + 1;
      // One event (or run) that fails is logged; the step's others still go out, as when each
      // came on its own and the runtime caught a listener's failure per event.
      try {
        if (together) this.deliverTogether(group, events.slice(i, end));
        else this.deliver(group, events[i] as RoomEvent);
      } catch (err) {
        const type = (events[i] as RoomEvent).body.type;
        this.opts.log.error({ err, door: this.dialect.name, type }, "delivery failed");
      }
      i = end;
    }
  }

  /**
   * Whether the event may share a pass with its neighbours (traced broadcasts go one by one, and
   * so does one its dialect fails to encode: delivered alone, its failure is logged there).
   */
  private goesTogether(group: RoomGroup<Connection<S>>, event: RoomEvent): boolean {
    if (this.opts.tracer !== undefined) return false;
    if (event.audience.kind !== "all" || !STEP_TOGETHER.has(event.body.type)) return false;
    let frames: readonly EventFrame[];
    try {
      frames = this.framesOf(event, group.handle.info);
    } catch {
      return false;
    }
    return frames.length > 0 && !frames.every(forStaffOnly);
  }

  /**
   * Broadcasts of one step, in one pass over the room's connections. Where each of their frames
   * is the same for everyone of a role (`StepBundles`), a connection that is up to date and not
   * behind gets them as one piece; otherwise frame by frame, as `deliverNow` sends them.
   */
  private deliverTogether(group: RoomGroup<Connection<S>>, events: readonly RoomEvent[]): void {
    const info = group.handle.info;
    const frames = events.map((e) => this.framesOf(e, info));
    const marks = events.map((e) => markOf(e));
    const tallies = frames.map((f) => f.map(() => 0));
    const bundles = new StepBundles(frames);
    const first = marks[0] as EventMark;
    for (const c of group.conns) {
      if (this.sendBundle(c, first, bundles, events)) continue;
      for (let k = 0; k < events.length; k++) {
        this.sendFrames(
          c,
          marks[k] as EventMark,
          frames[k] as readonly EventFrame[],
          tallies[k] as number[],
          events[k] as RoomEvent,
        );
      }
    }
    bundles.addTo(tallies);
    for (let k = 0; k < events.length; k++) {
      const event = events[k] as RoomEvent;
      this.count(frames[k] as readonly EventFrame[], tallies[k] as number[]);
      if (PHASE_BROADCASTS.has(event.body.type)) this.timeBroadcast(event);
      this.dialect.observe?.(group, event);
    }
  }

  /**
   * A step's bundle for the connection's role as one piece; false (nothing sent) when it must
   * go frame by frame: the role has no bundle, the connection's reply is not out, it has some
   * of the events already, or it is far enough behind that a frame might be skipped or the
   * client closed.
   */
  private sendBundle(
    conn: Connection<S>,
    first: EventMark,
    bundles: StepBundles,
    events: readonly RoomEvent[],
  ): boolean {
    if (conn.closed || !conn.ready || !isAfter(first, conn.mark)) return false;
    const bundle = bundles.forRole(conn.role);
    if (bundle === null) return false;
    const pid = conn.participantId;
    const personal = bundle.personal;
    if (personal !== null && pid === null) return false;
    const part = personal !== null ? personal.part(pid as ParticipantId) : null;
    const { slowConsumerBytes, coalesceAboveBytes } = this.opts.limits;
    const limit =
      bundle.coalescible && coalesceAboveBytes !== undefined
        ? Math.min(slowConsumerBytes, coalesceAboveBytes)
        : slowConsumerBytes;
    // A text part's UTF-8 is at most 3 bytes per UTF-16 unit: a bound, not worth encoding for.
    const bytes = bundle.bytes + (part === null ? 0 : 3 * part.length);
    if (conn.socket.bufferedAmount + bytes > limit || !conn.socket.isOpen) return false;
    const delivered = this.dialect.delivered;
    if (delivered !== undefined) for (const e of events) delivered.call(this.dialect, conn, e);
    if (personal !== null && part !== null) {
      conn.socket.sendSpliced(personal.before, part, personal.after, false, bundle.payloads);
    } else if (bundle.payloads.length > 0) {
      conn.socket.sendAll(bundle.payloads);
    } else {
      return true;
    }
    bundle.recipients += 1;
    return true;
  }

  /** A phase broadcast handed to every socket: timed once its frames are written (this turn's flush and the slices after it). */
  private timeBroadcast(event: RoomEvent): void {
    const type = event.body.type;
    const at = event.at;
    afterWrites(() => this.metrics.broadcastWritten(type, at));
  }

  /**
   * A leaderboard update whose delivery began at `started` (`performance.now()`) has been handed
   * to every recipient's socket: it is timed once its frames are written, not queued (a board to
   * one session's 10,000 learners goes out in slices over 0.1–0.5 s).
   */
  boardDelivered(started: number): void {
    afterWrites(() => this.metrics.leaderboardDelivered(started));
  }

  /** A phase broadcast's span: a trace of its own (a timer may have caused it), with the fan-out size. */
  private deliverTraced(tracer: Tracer, group: RoomGroup<Connection<S>>, event: RoomEvent): void {
    const span = tracer.start(`broadcast ${event.body.type}`, {
      parent: null,
      attributes: {
        [TRACE_ATTRIBUTES.door]: this.dialect.name,
        [TRACE_ATTRIBUTES.roomId]: group.handle.id,
        [TRACE_ATTRIBUTES.msgType]: event.body.type,
        "quizwire.connections": group.conns.size,
      },
    });
    try {
      this.deliverNow(group, event);
    } finally {
      span.end();
    }
  }

  private deliverNow(group: RoomGroup<Connection<S>>, event: RoomEvent): void {
    const frames = this.framesOf(event, group.handle.info);
    const audience = event.audience;
    const targets =
      audience.kind === "participant"
        ? group.of(audience.participantId)
        : frames.every(forStaffOnly)
          ? group.staff
          : group.conns;
    if (frames.length > 0 && targets) {
      // Broadcasts are counted once per frame type, not once per recipient.
      const tally = frames.map(() => 0);
      // Every mark the driver compares is a plain { epoch, seq } (`markOf`), never the event or
      // snapshot it came from, so `isAfter` sees one shape. A CPU profile of a 10,000-player
      // reveal had 5.5 ms in it when it was given events, snapshots and marks alike. Measured in
      // instrumented builds (3 games each): the first question's `started` and `player_count`
      // loops over 10,000 sockets went from a median of 7.9 and 6.3 ms to 5.8 and 4.6; the loops
      // of a question's close and its reveal did not change beyond the noise.
      const mark = markOf(event);
      for (const c of targets) this.sendFrames(c, mark, frames, tally, event);
      this.count(frames, tally);
    }
    if (event.body.type === "kicked") this.removeKicked(group, event.body.participantId);
    this.dialect.observe?.(group, event);
  }

  private count(frames: readonly EventFrame[], tally: readonly number[]): void {
    for (let i = 0; i < frames.length; i++) {
      const n = tally[i] ?? 0;
      const f = frames[i];
      if (n > 0 && f) this.metrics.sent(f.type, n);
    }
  }

  /** The door's connections to one room, if it has any. */
  groupOf(sessionId: SessionId): RoomGroup<Connection<S>> | undefined {
    return this.groups.get(sessionId);
  }

  private framesOf(event: RoomEvent, info: SessionInfo): readonly EventFrame[] {
    return framesOnce(event, this.dialect.name, () => this.dialect.encodeEvent(event, info));
  }

  /** One event's frames to one connection (held until its reply is out). */
  private sendFrames(
    conn: Connection<S>,
    mark: EventMark,
    frames: readonly EventFrame[],
    tally: number[] | null,
    event: RoomEvent | null,
    reply = false,
  ): void {
    if (conn.closed) return;
    if (!conn.ready) {
      conn.held.push({ mark, frames, event });
      return;
    }
    // Already in what the connection was sent when it joined (or resynced).
    if (!isAfter(mark, conn.mark)) return;
    if (event !== null) this.dialect.delivered?.(conn, event);
    const pid = conn.participantId;
    const role = conn.role;
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i];
      if (!f) continue;
      if (f.roles !== null && (role === null || !f.roles.has(role))) continue;
      if (f.about !== null && f.about === pid) continue;
      if (f.latestOnly && !this.isLatest(conn, f.type, mark)) continue;
      const personal = f.personal !== null && role === "player" && pid !== null;
      if (!personal && f.shared === null) continue;
      const pressure = this.pressure(conn, f.coalescible);
      if (pressure === "closed") return;
      if (pressure === "skip") continue;
      if (!conn.socket.isOpen) return;
      const own = personal && pid !== null ? f.personal : null;
      if (own === null) conn.socket.send(f.shared as Buffer, reply, f.mayWait);
      else if (typeof own === "function") conn.socket.send(own(pid as ParticipantId), reply);
      else conn.socket.sendSpliced(own.before, own.part(pid as ParticipantId), own.after, reply);
      if (f.latestOnly) this.noteLatest(conn, f.type, mark);
      if (tally) tally[i] = (tally[i] ?? 0) + 1;
      else this.metrics.sent(f.type);
    }
  }

  /**
   * Whether a `latestOnly` frame as of `mark` may go to the connection: it has none of that type
   * newer. The same mark again may go (a scorer's held board can come again at the end of a quiet
   * second; the stricter rule coincided with slower acks, see the note in ae387de).
   */
  private isLatest(conn: Connection<S>, type: string, mark: EventMark): boolean {
    const last = conn.latestSent?.get(type);
    return last === undefined || !isAfter(last, mark);
  }

  /** Records that the connection has a `latestOnly` frame of `type` as of `mark` (sent in a reply). */
  noteLatest(conn: Connection<S>, type: string, mark: EventMark): void {
    conn.latestSent ??= new Map();
    conn.latestSent.set(type, mark);
  }

  /**
   * Backpressure before a push: a client too far behind is closed, one
   * somewhat behind skips frames a later one replaces (`coalescible`).
   */
  private pressure(conn: Connection<S>, coalescible: boolean): Pressure {
    const { slowConsumerBytes, coalesceAboveBytes } = this.opts.limits;
    const buffered = conn.socket.bufferedAmount;
    if (buffered > slowConsumerBytes) {
      if (conn.socket.isOpen) this.metrics.slowConsumer("closed");
      this.close(
        conn,
        this.dialect.closeCodes.rateLimited,
        this.opts.slowReason ?? CLOSE_REASONS.slow,
      );
      return "closed";
    }
    if (coalescible && coalesceAboveBytes !== undefined && buffered > coalesceAboveBytes) {
      this.metrics.slowConsumer("skipped");
      return "skip";
    }
    return "send";
  }

  /** The host removed a participant: after the event's frames, their connections close. */
  private removeKicked(group: RoomGroup<Connection<S>>, participantId: ParticipantId): void {
    const targets = group.of(participantId);
    if (!targets) return;
    for (const c of [...targets]) {
      // A removed member has no presence left to clear.
      this.detach(c, false);
      c.ready = true;
      this.close(c, this.dialect.closeCodes.kicked, this.dialect.kickedReason);
    }
  }

  /** Events may have been missed (between instances, a new owner): bring everyone up to date. */
  private resync(group: RoomGroup<Connection<S>>): void {
    if (this.dialect.resync) {
      this.dialect.resync(group);
      return;
    }
    for (const c of group.conns) {
      if (c.ready && !c.closed) this.background(this.dialect.refresh(c), "resync");
    }
  }

  /** Work nobody waits for: a failure is logged, never left unhandled. */
  background(work: Promise<unknown>, what: string): void {
    work.catch((err: unknown) =>
      this.opts.log.error({ err, door: this.dialect.name }, `${what} failed`),
    );
  }
}

/** Cuts a close reason to the 123 bytes a close frame allows. */
function fitCloseReason(reason: string): string {
  if (Buffer.byteLength(reason) <= CLOSE_REASON_MAX_BYTES) return reason;
  let out = reason;
  while (Buffer.byteLength(out) > CLOSE_REASON_MAX_BYTES) out = [...out].slice(0, -1).join("");
  return out;
}

/** A frame no player gets: delivering it walks the room's hosts and spectators only. */
function forStaffOnly(f: EventFrame): boolean {
  return f.roles !== null && !f.roles.has("player");
}
