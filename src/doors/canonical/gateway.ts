import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type { RawData, WebSocket } from "ws";
import type { MemoryRateLimiter } from "../../adapters/memory/memory-rate-limiter.js";
import type { MemoryReplayCache } from "../../adapters/memory/memory-replay-cache.js";
import type { Identity, IdentityService } from "../../auth/identity.js";
import { ERROR_CODES, type ErrorCode, ProtocolError } from "../../domain/errors.js";
import type { ParticipantId, SessionId } from "../../domain/ids.js";
import type { AnswerValue } from "../../domain/quiz.js";
import type { RoomHandle } from "../../engine/room-handle.js";
import type {
  Actor,
  AnswerAck,
  Command,
  CommandResult,
  JoinResult,
  NextResult,
  Reply,
  RoomEvent,
  Snapshot,
  ViewerRole,
} from "../../engine/types.js";
import type { Metrics } from "../../observability/metrics.js";
import type { Clock } from "../../ports/clock.js";
import type { RateLimiter } from "../../ports/cluster.js";
import type { SessionService } from "../../services/session-service.js";
import type { WsDoor } from "../door.js";
import { settingsFromInput } from "../schemas/session-settings.js";
import { questionView, snapshotView } from "../schemas/views.js";
import { actorOf } from "../ws-kit/actor.js";
import {
  type ConnectionLimits,
  ConnectionRegistry,
  DEFAULT_CONNECTION_LIMITS,
} from "../ws-kit/connections.js";
import { DoorMetrics } from "../ws-kit/door-metrics.js";
import { frameBytes, frameText, upgradeToken } from "../ws-kit/frames.js";
import type { InboundGuard } from "../ws-kit/inbound-guard.js";
import { ReplyCache } from "../ws-kit/replies.js";
import { type RoomGroup, RoomGroups } from "../ws-kit/room-groups.js";
import { UpgradeGate } from "../ws-kit/upgrade.js";
import { type EncodedEvent, encodeEvent, isForwarded } from "./encode.js";
import {
  CANONICAL_PATH,
  CLOSE_CODES,
  type ClientData,
  type ClientEnvelope,
  type ClientType,
  clientValidators,
  envelopeValidator,
  isClientType,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  type ServerData,
  type ServerType,
} from "./protocol.js";

/** The kit's connection limits (floods close with 4008, strikes with 4002), and the door's own. */
export interface CanonicalLimits extends ConnectionLimits {
  maxFrameBytes: number;
  joinAttemptsPer30s: number;
  pinGuessesPer10Min: number;
  replayTtlMs: number;
  /** Always set here: coalescible updates are skipped for a client this far behind. */
  coalesceAboveBytes: number;
}

export const DEFAULT_LIMITS: CanonicalLimits = {
  ...DEFAULT_CONNECTION_LIMITS,
  maxFrameBytes: MAX_FRAME_BYTES,
  joinAttemptsPer30s: 10,
  pinGuessesPer10Min: 30,
  replayTtlMs: 120_000,
  coalesceAboveBytes: 256 * 1024,
};

export interface CanonicalDoorDeps {
  sessions: SessionService;
  identity: IdentityService;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
  limiter: MemoryRateLimiter;
  sharedLimiter: RateLimiter;
  replay: MemoryReplayCache;
  allowedOrigins: readonly string[];
  limits?: Partial<CanonicalLimits>;
}

const DOOR = "canonical";
const SLOW_DOWN = "too many messages; slow down";
/** Replies worth remembering for retries: everything that changes something. */
const REPLAYED = new Set<ClientType>([
  "create_room",
  "join",
  "start",
  "next",
  "end",
  "lock",
  "kick",
  "answer",
  "leave",
]);

interface Binding {
  roomId: SessionId;
  participantId: ParticipantId | null;
  role: ViewerRole;
}

interface CachedReply {
  frames: string[];
  binding: Binding | null;
}

/** One client connection and what it is bound to. */
class Connection {
  room: RoomGroup<Connection> | null = null;
  participantId: ParticipantId | null = null;
  role: ViewerRole | null = null;
  /** Until the join reply is out, room events are held here so none is missed or sent early. */
  ready = true;
  held: RoomEvent[] = [];
  /** Held events at or below this sequence are already in the snapshot the client got. */
  snapshotSeq = 0;
  closed = false;

  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    readonly identity: Identity,
    readonly identityToken: string | null,
    readonly ip: string,
    readonly guard: InboundGuard,
  ) {}

  actor(): Actor {
    return actorOf(this.identity, this.participantId);
  }
}

/**
 * The canonical WebSocket door (docs/protocol.md): upgrades, validates every
 * frame at the edge, turns messages into room commands and room events into
 * frames. It holds no game rules.
 */
export class CanonicalDoor implements WsDoor {
  readonly name = DOOR;
  private readonly limits: CanonicalLimits;
  private readonly count: DoorMetrics;
  private readonly gate: UpgradeGate;
  private readonly conns: ConnectionRegistry<Connection>;
  private readonly groups = new RoomGroups<Connection>(
    (g, e) => this.deliver(g, e),
    (g) => this.resync(g),
  );
  private readonly replies: ReplyCache<CachedReply>;

  constructor(private readonly deps: CanonicalDoorDeps) {
    this.limits = { ...DEFAULT_LIMITS, ...deps.limits };
    this.count = new DoorMetrics(deps.metrics, DOOR);
    this.gate = new UpgradeGate({
      maxPayload: this.limits.hardMaxFrameBytes,
      allowedOrigins: deps.allowedOrigins,
      log: deps.log,
      failure: "upgrade failed",
    });
    this.conns = new ConnectionRegistry<Connection>({
      metrics: this.count,
      limiter: deps.limiter,
      limits: this.limits,
      closeCodes: CLOSE_CODES,
      log: deps.log,
      onMessage: (conn, data, isBinary) => this.onMessage(conn, data, isBinary),
      onClose: (conn) => this.unbind(conn),
      onLimited: (conn, retryAfterMs) =>
        this.sendError(conn, null, "RATE_LIMIT", SLOW_DOWN, "rate_limited", retryAfterMs),
      slowReason: "client too slow to keep up; reconnect to resume",
    });
    // Retryable failures are not remembered: the retry should really run again.
    this.replies = new ReplyCache(
      deps.replay,
      this.limits.replayTtlMs,
      (reply) => !reply.frames.some((f) => f.includes('"retryable":true')),
    );
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  matches(path: string): boolean {
    return path === CANONICAL_PATH;
  }

  /** Called by the HTTP server for upgrades on this door's path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.gate.accept(req, socket, head, {
      admit: () => {
        const token = upgradeToken(req);
        const given = new URL(req.url ?? "/", "http://localhost").searchParams.get("identity");
        return this.deps.identity.resolve(token, given).then((r) => ({ ok: true as const, ...r }));
      },
      open: (ws, { identity, identityToken }) =>
        this.onConnection(ws, identity, identityToken, req.socket.remoteAddress ?? "unknown"),
    });
  }

  /** Closes every connection with 1001 so clients reconnect elsewhere (graceful shutdown). */
  shutdown(): void {
    this.conns.shutdown();
  }

  // ------------------------------------------------------------------ connection lifecycle

  private onConnection(
    ws: WebSocket,
    identity: Identity,
    identityToken: string | null,
    ip: string,
  ): void {
    const conn = this.conns.open(
      ws,
      (id, guard) => new Connection(id, ws, identity, identityToken, ip, guard),
    );
    this.send(conn, "welcome", {
      user_id: identity.userId,
      identity_token: identityToken,
      protocol: PROTOCOL_VERSION,
      server_time: this.deps.clock.now(),
      heartbeat_ms: this.limits.heartbeatMs,
      max_frame_bytes: this.limits.maxFrameBytes,
    });
  }

  // ------------------------------------------------------------------ inbound

  private onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    if (!this.conns.admit(conn)) return;
    const decoded = this.decode(data, isBinary);
    if (!decoded.ok) {
      this.strike(conn, decoded.msgId, "VALIDATION", decoded.msg, decoded.reason);
      return;
    }
    this.count.received(decoded.type);
    void this.dispatch(conn, decoded.env, decoded.type, decoded.body);
  }

  /** Size, JSON, envelope, type and data checks, in that order; the first failure is reported. */
  private decode(
    data: RawData,
    isBinary: boolean,
  ):
    | { ok: true; env: ClientEnvelope; type: ClientType; body: unknown }
    | { ok: false; msgId: string | null; msg: string; reason: string } {
    const size = frameBytes(data);
    if (isBinary)
      return { ok: false, msgId: null, msg: "binary frames are not accepted", reason: "bad_json" };
    if (size > this.limits.maxFrameBytes) {
      return {
        ok: false,
        msgId: null,
        msg: `frame of ${size} bytes exceeds the ${this.limits.maxFrameBytes}-byte limit`,
        reason: "frame_too_large",
      };
    }
    let msg: unknown;
    try {
      msg = JSON.parse(frameText(data));
    } catch {
      return { ok: false, msgId: null, msg: "frame is not valid JSON", reason: "bad_json" };
    }
    if (!envelopeValidator.Check(msg)) {
      const given = (msg as { msg_id?: unknown } | null)?.msg_id;
      const first = envelopeValidator.Errors(msg)[0];
      const where = first ? `${first.instancePath || "frame"} ${first.message}` : "bad envelope";
      return {
        ok: false,
        msgId: typeof given === "string" ? given : null,
        msg: `invalid envelope: ${where}`,
        reason: "bad_envelope",
      };
    }
    const env = msg;
    if (!isClientType(env.type)) {
      return {
        ok: false,
        msgId: env.msg_id,
        msg: `unknown message type "${env.type}"`,
        reason: "unknown_type",
      };
    }
    const type = env.type;
    const body = env.data ?? {};
    const validator = clientValidators[type];
    if (!validator.Check(body)) {
      const first = validator.Errors(body)[0];
      const where = first ? `data${first.instancePath} ${first.message}` : "data is invalid";
      return { ok: false, msgId: env.msg_id, msg: `invalid ${type}: ${where}`, reason: "bad_data" };
    }
    return { ok: true, env, type, body };
  }

  /** An invalid message: answered with an error; too many close the connection (4002). */
  private strike(
    conn: Connection,
    msgId: string | null,
    code: ErrorCode,
    msg: string,
    reason: string,
  ): void {
    this.sendError(conn, msgId, code, msg, reason);
    this.conns.strike(conn);
  }

  private async dispatch(
    conn: Connection,
    env: ClientEnvelope,
    type: ClientType,
    body: unknown,
  ): Promise<void> {
    const replayKey = REPLAYED.has(type) ? `${conn.identity.userId}:${env.msg_id}` : null;
    if (replayKey) {
      const done = this.replies.done(replayKey);
      if (done !== undefined) return this.replay(conn, env.msg_id, done);
      const running = this.replies.running(replayKey);
      if (running) return this.replay(conn, env.msg_id, await running);
    }
    const work = this.handle(conn, env, type, body).catch((err: unknown): CachedReply => {
      if (err instanceof ProtocolError) {
        return {
          frames: [this.errorFrame(env.msg_id, err.code, err.message, err.reason)],
          binding: null,
        };
      }
      this.deps.log.error({ err, type }, "message handler failed");
      return {
        frames: [this.errorFrame(env.msg_id, "INTERNAL", "internal error", "internal")],
        binding: null,
      };
    });
    const reply = await this.replies.run(replayKey, work);
    for (const f of reply.frames) this.sendRaw(conn, f, "reply");
    this.markReady(conn);
  }

  /** A retried message: the original reply again, and the binding if this is a new connection. */
  private async replay(conn: Connection, msgId: string, reply: CachedReply): Promise<void> {
    const b = reply.binding;
    if (b && conn.room?.handle.id !== b.roomId) {
      const handle = await this.deps.sessions.find(b.roomId);
      if (handle) {
        this.bind(conn, handle, b.role, b.participantId);
        if (b.participantId)
          void handle.execute(conn.actor(), { type: "presence", connected: true });
        for (const f of reply.frames.slice(0, 1)) this.sendRaw(conn, f, "reply");
        conn.ready = false;
        void this.sendSnapshot(conn, msgId).then(() => this.markReady(conn));
        return;
      }
    }
    for (const f of reply.frames) this.sendRaw(conn, f, "reply");
  }

  // ------------------------------------------------------------------ handlers

  private async handle(
    conn: Connection,
    env: ClientEnvelope,
    type: ClientType,
    body: unknown,
  ): Promise<CachedReply> {
    const id = env.msg_id;
    switch (type) {
      case "ping": {
        const d = body as ClientData<"ping">;
        return this.only(
          this.frame("pong", id, {
            server_time: this.deps.clock.now(),
            client_time: d.client_time ?? null,
          }),
        );
      }
      case "create_room":
        return this.createRoom(conn, id, body as ClientData<"create_room">);
      case "join":
        return this.join(conn, env, body as ClientData<"join">);
      case "spectate":
        return this.spectate(conn, env, body as ClientData<"spectate">);
      case "sync": {
        const handle = this.requireRoom(conn);
        const snap = await this.command(conn, handle, {
          type: "snapshot",
          role: conn.role ?? "spectator",
        });
        return this.only(this.stateFrame(id, snap as Snapshot));
      }
      case "start":
      case "end":
        return this.ackOf(conn, id, type, { type });
      case "next":
        return this.next(conn, id);
      case "lock":
        return this.ackOf(conn, id, type, {
          type: "lock",
          locked: (body as ClientData<"lock">).locked,
        });
      case "kick": {
        const d = body as ClientData<"kick">;
        return this.ackOf(conn, id, type, {
          type: "kick",
          participantId: d.participant_id as ParticipantId,
          reason: d.reason ?? "removed by the host",
        });
      }
      case "leave": {
        const reply = await this.ackOf(conn, id, type, { type: "leave" });
        this.unbind(conn);
        return reply;
      }
      case "answer":
        return this.answer(conn, id, body as ClientData<"answer">);
      default: {
        const never: never = type;
        return never;
      }
    }
  }

  private async createRoom(
    conn: Connection,
    msgId: string,
    d: ClientData<"create_room">,
  ): Promise<CachedReply> {
    const mode = d.mode ?? "live";
    const created = await this.deps.sessions.create(conn.identity, {
      quizId: d.quiz_id,
      mode,
      settings: settingsFromInput(d.settings),
      hostName: d.host_name ?? conn.identity.handle ?? "Host",
    });
    if (!created.ok)
      throw new ProtocolError(created.error.code, created.error.msg, created.error.reason);
    const { handle, hostParticipantId, hostToken } = created.value;
    this.unbind(conn);
    this.bind(conn, handle, "host", hostParticipantId);
    conn.ready = false;
    await handle.execute(conn.actor(), { type: "presence", connected: true });
    const snap = (await this.command(conn, handle, {
      type: "snapshot",
      role: "host",
    })) as Snapshot;
    conn.snapshotSeq = snap.seq;
    return {
      frames: [
        this.frame("room_created", msgId, {
          room_id: handle.id,
          pin: handle.info.pin,
          join_url: this.deps.sessions.joinUrl(handle.info.pin),
          participant_id: hostParticipantId ?? "",
          host_token: hostToken ?? "",
        }),
        this.stateFrame(msgId, snap),
      ],
      binding: { roomId: handle.id, participantId: hostParticipantId, role: "host" },
    };
  }

  private async join(
    conn: Connection,
    env: ClientEnvelope,
    d: ClientData<"join">,
  ): Promise<CachedReply> {
    // Shared across instances (Redis when clustered), so a limit holds wherever the client lands.
    const limit = await this.deps.sharedLimiter.take(
      `join:${conn.identity.userId}`,
      this.limits.joinAttemptsPer30s,
      30_000,
    );
    if (!limit.allowed) {
      throw new ProtocolError(
        "RATE_LIMIT",
        "too many join attempts; wait a little",
        "rate_limited",
      );
    }
    let handle: RoomHandle | undefined;
    let command: Command;
    if ("pin" in d) {
      handle = await this.deps.sessions.findByPin(d.pin);
      if (!handle) {
        const guesses = await this.deps.sharedLimiter.take(
          `pin:${conn.ip}`,
          this.limits.pinGuessesPer10Min,
          600_000,
        );
        if (!guesses.allowed) {
          throw new ProtocolError(
            "RATE_LIMIT",
            "too many wrong PINs; wait a few minutes",
            "rate_limited",
          );
        }
        throw new ProtocolError("NOT_FOUND", `no open room has PIN ${d.pin}`, "bad_pin");
      }
      command = { type: "join", name: d.display_name };
    } else {
      if (!env.room_id)
        throw new ProtocolError("VALIDATION", "resuming needs room_id in the envelope", "bad_data");
      handle = await this.deps.sessions.find(env.room_id);
      if (!handle) throw new ProtocolError("NOT_FOUND", "no such open room", "no_room");
      command = { type: "resume", token: d.resume_token };
    }
    this.unbind(conn);
    // Bound (but held) before the command runs, so no event between the snapshot and the reply is lost.
    this.bind(conn, handle, "player", null);
    conn.ready = false;
    const reply = await handle.execute(conn.actor(), command);
    if (!reply.ok) {
      this.unbind(conn);
      conn.ready = true;
      throw new ProtocolError(reply.error.code, reply.error.msg, reply.error.reason);
    }
    const joined = reply.value as JoinResult;
    conn.snapshotSeq = joined.snapshot.seq;
    this.rebind(
      conn,
      joined.participantId,
      joined.role === "host" ? "host" : "player",
      joined.userId,
    );
    await handle.execute(conn.actor(), { type: "presence", connected: true });
    return {
      frames: [
        this.frame("joined", env.msg_id, {
          room_id: handle.id,
          participant_id: joined.participantId,
          user_id: joined.userId,
          name: joined.name,
          role: joined.role,
          resume_token: joined.resumeToken,
          resumed: joined.resumed,
        }),
        this.stateFrame(env.msg_id, joined.snapshot),
      ],
      binding: {
        roomId: handle.id,
        participantId: joined.participantId,
        role: conn.role ?? "player",
      },
    };
  }

  private async spectate(
    conn: Connection,
    env: ClientEnvelope,
    d: ClientData<"spectate">,
  ): Promise<CachedReply> {
    const handle = d.pin
      ? await this.deps.sessions.findByPin(d.pin)
      : env.room_id
        ? await this.deps.sessions.find(env.room_id)
        : undefined;
    if (!d.pin && !env.room_id)
      throw new ProtocolError("VALIDATION", "spectate needs a pin or a room_id", "bad_data");
    if (!handle)
      throw new ProtocolError("NOT_FOUND", "no such open room", d.pin ? "bad_pin" : "no_room");
    this.unbind(conn);
    this.bind(conn, handle, "spectator", null);
    conn.ready = false;
    const snap = (await this.command(conn, handle, {
      type: "snapshot",
      role: "spectator",
    })) as Snapshot;
    conn.snapshotSeq = snap.seq;
    return this.only(this.stateFrame(env.msg_id, snap));
  }

  private async next(conn: Connection, msgId: string): Promise<CachedReply> {
    const handle = this.requireRoom(conn);
    const result = await this.command(conn, handle, { type: "next" }, this.dedupeKey(conn, msgId));
    if ("served" in result) {
      const n = result as NextResult;
      if (n.served) {
        const s = n.served;
        return this.only(
          this.frame("question", msgId, {
            index: s.index,
            total: s.total,
            question: questionView(s.question),
            opened_at: s.servedAt,
            deadline_ms: s.deadline,
          }),
        );
      }
      return this.only(this.frame("ack", msgId, { type: "next", phase: n.phase }));
    }
    return this.only(
      this.frame("ack", msgId, {
        type: "next",
        phase: (result as { phase: NextResult["phase"] }).phase,
      }),
    );
  }

  private async answer(
    conn: Connection,
    msgId: string,
    d: ClientData<"answer">,
  ): Promise<CachedReply> {
    const started = performance.now();
    const handle = this.requireRoom(conn);
    const given = [d.choice !== undefined, d.choices !== undefined, d.text !== undefined].filter(
      Boolean,
    ).length;
    if (given !== 1) {
      throw new ProtocolError(
        "VALIDATION",
        "an answer needs exactly one of choice, choices or text",
        "bad_answer",
      );
    }
    const answer: AnswerValue =
      d.choice !== undefined
        ? { kind: "choice", index: d.choice }
        : d.choices !== undefined
          ? { kind: "choices", indices: d.choices }
          : { kind: "text", text: d.text ?? "" };
    const ack = (await this.command(
      conn,
      handle,
      { type: "answer", target: { index: d.index }, answer },
      this.dedupeKey(conn, msgId),
    )) as AnswerAck;
    this.count.answerAcked(started);
    return this.only(
      this.frame("score", msgId, {
        index: ack.index,
        question_id: ack.questionId,
        accepted: true,
        correct: ack.correct,
        points: ack.points,
        score: ack.score,
        streak: ack.streak,
        changed: ack.changed,
        elapsed_ms: ack.elapsedMs,
        correct_answer: ack.correctAnswer,
      }),
    );
  }

  private async ackOf(
    conn: Connection,
    msgId: string,
    type: ClientType,
    command: Command,
  ): Promise<CachedReply> {
    const handle = this.requireRoom(conn);
    const result = await this.command(conn, handle, command, this.dedupeKey(conn, msgId));
    const phase = "phase" in result && typeof result.phase === "string" ? result.phase : "lobby";
    return this.only(
      this.frame("ack", msgId, { type, phase: phase as ServerData<"ack">["phase"] }),
    );
  }

  /**
   * A mutating message's identity for the owner's dedupe: a retry that reaches the
   * session's owner through another instance still gets the first reply.
   */
  private dedupeKey(conn: Connection, msgId: string): string {
    return `canonical:${conn.identity.userId}:${msgId}`;
  }

  /** Runs a command, turning a refusal into a ProtocolError (caught once, in dispatch). */
  private async command(
    conn: Connection,
    handle: RoomHandle,
    command: Command,
    dedupeKey?: string,
  ): Promise<CommandResult> {
    const reply: Reply<CommandResult> = await handle.execute(
      conn.actor(),
      command,
      dedupeKey ? { dedupeKey } : undefined,
    );
    if (!reply.ok) throw new ProtocolError(reply.error.code, reply.error.msg, reply.error.reason);
    return reply.value;
  }

  private requireRoom(conn: Connection): RoomHandle {
    if (!conn.room) throw new ProtocolError("STATE", "join or spectate a room first", "not_joined");
    return conn.room.handle;
  }

  private async sendSnapshot(conn: Connection, msgId: string | null): Promise<void> {
    if (!conn.room) return;
    const reply = await conn.room.handle.execute(conn.actor(), {
      type: "snapshot",
      role: conn.role ?? "spectator",
    });
    if (!reply.ok) return;
    conn.snapshotSeq = (reply.value as Snapshot).seq;
    this.sendRaw(conn, this.stateFrame(msgId, reply.value as Snapshot), "state");
  }

  // ------------------------------------------------------------------ rooms and fan-out

  private bind(
    conn: Connection,
    handle: RoomHandle,
    role: ViewerRole,
    participantId: ParticipantId | null,
  ): void {
    conn.role = role;
    conn.participantId = participantId;
    conn.room = this.groups.add(handle, conn);
  }

  /** Records who a joined connection turned out to be (a resume can change the user id). */
  private rebind(
    conn: Connection,
    participantId: ParticipantId,
    role: ViewerRole,
    userId: string,
  ): void {
    if (!conn.room) return;
    this.groups.reassign(conn.room, conn, participantId);
    conn.role = role;
    if (userId !== conn.identity.userId) {
      // An anonymous client resumed someone else's seat by token: act as that member from now on.
      (conn as { identity: Identity }).identity = {
        ...conn.identity,
        userId: userId as Identity["userId"],
      };
    }
  }

  private unbind(conn: Connection): void {
    const group = conn.room;
    if (!group) return;
    if (conn.participantId) {
      void group.handle.execute(conn.actor(), { type: "presence", connected: false });
    }
    this.groups.remove(group, conn);
    conn.room = null;
    conn.participantId = null;
    conn.role = null;
    conn.held = [];
  }

  /** Events may have been lost between instances: every client of the room gets a fresh `state`. */
  private resync(group: RoomGroup<Connection>): void {
    for (const c of group.conns) {
      if (c.ready && !c.closed) void this.sendSnapshot(c, null);
    }
  }

  private markReady(conn: Connection): void {
    if (conn.ready) return;
    conn.ready = true;
    const held = conn.held;
    conn.held = [];
    for (const e of held) if (e.seq > conn.snapshotSeq) this.deliverTo(conn, e, encodeEvent(e));
  }

  private deliver(group: RoomGroup<Connection>, event: RoomEvent): void {
    if (!isForwarded(event)) return;
    const enc = encodeEvent(event);
    if (!enc) return;
    if (event.audience.kind === "participant") {
      const targets = group.of(event.audience.participantId);
      if (targets) for (const c of targets) this.deliverTo(c, event, enc);
      if (event.body.type === "kicked" && targets) {
        for (const c of [...targets]) {
          this.unbind(c);
          c.ws.close(CLOSE_CODES.kicked, "removed by the host");
        }
      }
      return;
    }
    let sent = 0;
    for (const c of group.conns) if (this.deliverTo(c, event, enc, false)) sent += 1;
    if (sent > 0) this.count.sent(enc.type, sent);
  }

  /** Sends one event to one connection; returns whether it went out. */
  private deliverTo(
    conn: Connection,
    event: RoomEvent,
    enc: EncodedEvent | null,
    count = true,
  ): boolean {
    if (!enc || conn.closed) return false;
    if (!conn.ready) {
      conn.held.push(event);
      return false;
    }
    if (!conn.role || !enc.roles.has(conn.role)) return false;
    if (this.conns.pressure(conn, enc.coalescible) !== "send") return false;
    if (enc.personal && conn.role === "player" && conn.participantId) {
      conn.ws.send(enc.personal(conn.participantId));
    } else {
      conn.ws.send(enc.shared, { binary: false });
    }
    if (count) this.count.sent(enc.type);
    return true;
  }

  // ------------------------------------------------------------------ outbound helpers

  private frame<T extends ServerType>(
    type: T,
    msgId: string | null,
    data: ServerData<T>,
    roomId?: string,
  ): string {
    const m = msgId === null ? "" : `,"msg_id":${JSON.stringify(msgId)}`;
    const r = roomId ? `,"room_id":${JSON.stringify(roomId)}` : "";
    return `{"v":${PROTOCOL_VERSION},"type":"${type}"${m}${r},"data":${JSON.stringify(data)}}`;
  }

  private stateFrame(msgId: string | null, snap: Snapshot): string {
    const view = snapshotView(snap);
    const m = msgId === null ? "" : `,"msg_id":${JSON.stringify(msgId)}`;
    return `{"v":${PROTOCOL_VERSION},"type":"state"${m},"room_id":${JSON.stringify(snap.sessionId)},"epoch":${snap.epoch},"seq":${snap.seq},"data":${JSON.stringify(view)}}`;
  }

  private errorFrame(
    msgId: string | null,
    code: ErrorCode,
    msg: string,
    reason?: string,
    retryAfterMs?: number,
  ): string {
    const data: ServerData<"error"> = { code, msg, retryable: ERROR_CODES[code].retryable };
    if (reason !== undefined) data.reason = reason;
    if (retryAfterMs !== undefined) data.retry_after_ms = retryAfterMs;
    this.count.error(code);
    return this.frame("error", msgId, data);
  }

  private sendError(
    conn: Connection,
    msgId: string | null,
    code: ErrorCode,
    msg: string,
    reason?: string,
    retryAfterMs?: number,
  ): void {
    this.sendRaw(conn, this.errorFrame(msgId, code, msg, reason, retryAfterMs), "error");
  }

  private send<T extends ServerType>(conn: Connection, type: T, data: ServerData<T>): void {
    this.sendRaw(conn, this.frame(type, null, data), type);
  }

  private sendRaw(conn: Connection, frame: string, type: string): void {
    this.conns.send(conn, frame, type === "reply" ? frameType(frame) : type);
  }

  private only(frame: string): CachedReply {
    return { frames: [frame], binding: null };
  }
}

function frameType(frame: string): string {
  return /"type":"([a-z_]+)"/.exec(frame)?.[1] ?? "unknown";
}
