import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type { Identity, IdentityService } from "../../auth/identity.js";
import { ERROR_CODES, type ErrorCode, ProtocolError } from "../../domain/errors.js";
import { asUserId } from "../../domain/ids.js";
import type { AnswerValue } from "../../domain/quiz.js";
import { markOf, ORIGIN } from "../../engine/event-order.js";
import type { RoomHandle } from "../../engine/room-handle.js";
import type { Actor, Command, RoomEvent, Snapshot } from "../../engine/types.js";
import type { ClientErrorLog } from "../../observability/client-error-log.js";
import type { Metrics } from "../../observability/metrics.js";
import type { Clock } from "../../ports/clock.js";
import type { LocalRateLimiter, LocalReplayCache, RateLimiter } from "../../ports/cluster.js";
import type { Tracer } from "../../ports/tracing.js";
import type { PinGate } from "../../services/pin-gate.js";
import type { SessionService } from "../../services/session-service.js";
import type { WsDoor } from "../door.js";
import type { OriginPolicy } from "../origin-policy.js";
import { kickCommand } from "../schemas/kick.js";
import { settingsFromInput } from "../schemas/session-settings.js";
import { questionView, snapshotView } from "../schemas/views.js";
import { actorOf } from "../ws-kit/actor.js";
import type { Connection } from "../ws-kit/connection.js";
import {
  type Decoded,
  type Dialect,
  type EventFrame,
  type Handlers,
  type Outbound,
  type Reply,
  replyOf,
} from "../ws-kit/dialect.js";
import {
  type ConnectionLimits,
  DEFAULT_CONNECTION_LIMITS,
  type DoorDriver,
} from "../ws-kit/driver.js";
import { upgradeToken } from "../ws-kit/frames.js";
import { messageKey } from "../ws-kit/message-key.js";
import { valueOrRefuse } from "../ws-kit/refused.js";
import type { RoomGroup } from "../ws-kit/room-groups.js";
import { runDialect } from "../ws-kit/run-dialect.js";
import type { DoorSocket, SocketEvents } from "../ws-kit/socket.js";
import type { WsTransport } from "../ws-kit/ws-transport.js";
import { encodeEvent } from "./encode.js";
import {
  CANONICAL_PATH,
  CLOSE_CODES,
  type ClientMessage,
  type ClientType,
  decodeClientFrame,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  type ServerData,
  type ServerType,
} from "./protocol.js";

/** The kit's connection limits (floods close with 4008, strikes with 4002), and the door's own. */
export interface CanonicalLimits extends ConnectionLimits {
  maxFrameBytes: number;
  /** Seed 000: 3 join attempts per 30 s per user, across instances. */
  joinAttemptsPer30s: number;
  /**
   * Seed 000's per-room action bucket: commands (joins, answers, host controls) a room takes
   * per second from all its clients together, across instances, before refusing `room_busy`.
   */
  roomActionsPerSecond: number;
  replayTtlMs: number;
  /** Always set here: coalescible updates are skipped for a client this far behind. */
  coalesceAboveBytes: number;
}

export const DEFAULT_LIMITS: CanonicalLimits = {
  ...DEFAULT_CONNECTION_LIMITS,
  maxFrameBytes: MAX_FRAME_BYTES,
  // Seed 000 §Security: 10 messages/s per user — counted over 2 s windows (20 each), so a burst
  // of a quick script is not cut at 10 — and 3 join attempts per 30 s (docs/limits.md).
  userMessages: { limit: 20, windowMs: 2_000 },
  joinAttemptsPer30s: 3,
  roomActionsPerSecond: 10_000,
  replayTtlMs: 120_000,
  coalesceAboveBytes: 256 * 1024,
};

export interface CanonicalDoorDeps {
  sessions: SessionService;
  identity: IdentityService;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
  limiter: LocalRateLimiter;
  sharedLimiter: RateLimiter;
  /** Per-user and per-room buckets across instances; unset: `limiter`. */
  clusterLimiter?: LocalRateLimiter;
  replay: LocalReplayCache<Reply>;
  pinGate: PinGate;
  origins: OriginPolicy;
  limits?: Partial<CanonicalLimits>;
  /** Traces upgrades, messages and broadcasts; absent, tracing is off. */
  tracer?: Tracer;
  /** A rate-limited WARN line per class of error sent to clients. */
  clientErrors?: ClientErrorLog;
}

/** What the door keeps about a connection: who it is and where it comes from. */
export interface ClientState {
  identity: Identity;
  identityToken: string | null;
  /** The client's address, asked of the socket only when a PIN guess needs it (a system call). */
  peer: { readonly remoteAddress?: string | undefined };
}

function addressOf(client: ClientState): string {
  return client.peer.remoteAddress ?? "unknown";
}

type Conn = Connection<ClientState>;
type Message<T extends ClientType> = Extract<ClientMessage, { type: T }>;

/** Replies worth remembering for retries: everything that changes something. */
const REPLAYED: ReadonlySet<ClientType> = new Set([
  "create_room",
  "join",
  "start",
  "next",
  "end",
  "lock",
  "kick",
  "transfer_host",
  "answer",
  "leave",
]);

/**
 * The canonical WebSocket door (docs/protocol.md): the translation between
 * seed 000's versioned envelope and room commands and events. The door
 * driver runs the pipeline; this holds no game rules.
 */
export class CanonicalDoor implements WsDoor, Dialect<ClientState, ClientMessage> {
  readonly name = "canonical";
  readonly endpoint = CANONICAL_PATH;
  readonly ordered = false;
  readonly binding: ReadonlySet<ClientType> = new Set(["create_room", "join", "spectate"]);
  readonly closeCodes = CLOSE_CODES;
  readonly kickedReason = "removed by the host";
  private readonly limits: CanonicalLimits;
  private readonly driver: DoorDriver<ClientState, ClientMessage>;
  private readonly transport: WsTransport;

  constructor(private readonly deps: CanonicalDoorDeps) {
    this.limits = { ...DEFAULT_LIMITS, ...deps.limits };
    ({ driver: this.driver, transport: this.transport } = runDialect(this, {
      ...deps,
      replayTtlMs: this.limits.replayTtlMs,
      limits: this.limits,
      slowReason: "client too slow to keep up; reconnect to resume",
      failure: "upgrade failed",
    }));
  }

  get connectionCount(): number {
    return this.driver.connectionCount;
  }

  matches(path: string): boolean {
    return path === CANONICAL_PATH;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.transport.accept(req, socket, head, {
      admit: () => {
        const token = upgradeToken(req);
        const given = new URL(req.url ?? "/", "http://localhost").searchParams.get("identity");
        return this.deps.identity.resolve(token, given).then((r) => ({ ok: true as const, ...r }));
      },
      open: (socket, { identity, identityToken }) =>
        this.open(socket, { identity, identityToken, peer: req.socket }),
    });
  }

  /** A client's socket is open (any transport, or a test's fake): it is welcomed, and its frames go to the driver. */
  open(socket: DoorSocket, client: ClientState): SocketEvents {
    const conn = this.driver.connect(socket, client, { user: client.identity.userId });
    this.send(conn, "welcome", {
      user_id: client.identity.userId,
      identity_token: client.identityToken,
      protocol: PROTOCOL_VERSION,
      server_time: this.deps.clock.now(),
      heartbeat_ms: this.limits.heartbeatMs,
      max_frame_bytes: this.limits.maxFrameBytes,
    });
    return this.driver.eventsOf(conn);
  }

  /** Closes every connection with 1001 so clients reconnect elsewhere (graceful shutdown). */
  shutdown(): void {
    this.transport.stop();
    this.driver.shutdown();
  }

  // ------------------------------------------------------------------ the dialect

  decode(data: Buffer, isBinary: boolean): Decoded<ClientMessage> {
    const d = decodeClientFrame(data, isBinary, this.limits.maxFrameBytes);
    if (d.ok) return d;
    return { ok: false, error: this.errorFrame(d.msgId, "VALIDATION", d.msg, d.reason) };
  }

  replayKey(conn: Conn, m: ClientMessage): string | null {
    return REPLAYED.has(m.type) ? this.messageKey(conn, m) : null;
  }

  refusal(err: unknown, m: ClientMessage): Reply | null {
    if (!(err instanceof ProtocolError)) return null;
    return {
      frames: [this.errorFrame(m.msg_id, err.code, err.message, err.reason, err.retryAfterMs)],
      retryable: ERROR_CODES[err.code].retryable,
    };
  }

  internalError(m: ClientMessage): Reply {
    // Seed 000's error codes name an unexpected failure UNKNOWN.
    return replyOf(this.errorFrame(m.msg_id, "UNKNOWN", "internal error", "internal"));
  }

  rateLimited(retryAfterMs: number, data: Buffer): Outbound {
    return this.errorFrame(
      refusedMessageId(data),
      "RATE_LIMIT",
      "too many messages; slow down",
      "rate_limited",
      retryAfterMs,
    );
  }

  actor(conn: Conn): Actor {
    return actorOf(conn.state.identity, conn.participantId);
  }

  encodeEvent(event: RoomEvent): readonly EventFrame[] {
    return encodeEvent(event);
  }

  /** Host rights moved (H-2, H-3): the new host's connections get what hosts get from now on. */
  observe(group: RoomGroup<Conn>, event: RoomEvent): void {
    if (event.body.type !== "host_changed") return;
    for (const c of [...(group.of(event.body.participantId) ?? [])]) this.driver.setRole(c, "host");
  }

  /** A fresh `state` snapshot (after a resync, or a retried join on a new connection). */
  async refresh(conn: Conn): Promise<void> {
    const handle = conn.group?.handle;
    if (!handle) return;
    const reply = await handle.execute(this.actor(conn), {
      type: "snapshot",
      role: conn.role ?? "spectator",
    });
    if (reply.ok)
      this.driver.sendState(conn, this.stateFrame(null, reply.value), markOf(reply.value));
  }

  readonly handlers: Handlers<ClientState, ClientMessage> = {
    ping: async (_conn, m) =>
      replyOf(
        this.frame("pong", m.msg_id, {
          server_time: this.deps.clock.now(),
          client_time: m.data.client_time ?? null,
        }),
      ),
    create_room: (conn, m) => this.createRoom(conn, m.msg_id, m.data),
    join: (conn, m) => this.join(conn, m),
    spectate: (conn, m) => this.spectate(conn, m),
    sync: async (conn, m) => {
      const handle = this.requireRoom(conn);
      const snap = await this.command(conn, handle, {
        type: "snapshot",
        role: conn.role ?? "spectator",
      });
      return replyOf(this.stateFrame(m.msg_id, snap));
    },
    start: (conn, m) => this.ackOf(conn, m, "start", { type: "start" }),
    end: (conn, m) => this.ackOf(conn, m, "end", { type: "end" }),
    next: (conn, m) => this.next(conn, m),
    lock: (conn, m) => this.ackOf(conn, m, "lock", { type: "lock", locked: m.data.locked }),
    kick: (conn, m) => this.ackOf(conn, m, "kick", kickCommand(m.data, "removed by the host")),
    transfer_host: (conn, m) =>
      this.ackOf(conn, m, "transfer_host", {
        type: "transfer_host",
        userId: asUserId(m.data.user_id),
      }),
    leave: async (conn, m) => {
      const reply = await this.ackOf(conn, m, "leave", { type: "leave" });
      this.driver.detach(conn);
      return reply;
    },
    answer: (conn, m) => this.answer(conn, m),
  };

  // ------------------------------------------------------------------ handlers

  private async createRoom(
    conn: Conn,
    msgId: string,
    d: Extract<ClientMessage, { type: "create_room" }>["data"],
  ): Promise<Reply> {
    const created = await this.deps.sessions.create(conn.state.identity, {
      quizId: d.quiz_id,
      mode: d.mode ?? "live",
      settings: settingsFromInput(d.settings),
      hostName: d.host_name ?? conn.state.identity.handle ?? "Host",
    });
    if (!created.ok)
      throw new ProtocolError(created.error.code, created.error.msg, created.error.reason);
    const { handle, hostParticipantId, hostToken } = created.value;
    if (!this.driver.attach(conn, handle, "host")) return replyOf();
    // Present before the snapshot, so the host's own snapshot shows them connected.
    await this.driver.settle(conn, hostParticipantId, "host", ORIGIN);
    const snap = await this.command(conn, handle, { type: "snapshot", role: "host" });
    this.driver.markSeen(conn, markOf(snap));
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
      retryable: false,
      binding: { sessionId: handle.id, participantId: hostParticipantId, role: "host" },
    };
  }

  private async join(conn: Conn, m: Extract<ClientMessage, { type: "join" }>): Promise<Reply> {
    const d = m.data;
    // Shared across instances (Redis when clustered), so a limit holds wherever the client lands.
    const limit = await this.deps.sharedLimiter.take(
      `join:${conn.state.identity.userId}`,
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
      handle = await this.roomByPin(conn, d.pin);
      command = { type: "join", name: d.display_name };
    } else if ("resume_token" in d) {
      if (!m.room_id)
        throw new ProtocolError("VALIDATION", "resuming needs room_id in the envelope", "bad_data");
      handle = await this.deps.sessions.find(m.room_id);
      if (!handle) throw new ProtocolError("NOT_FOUND", "no such open room", "no_room");
      command = { type: "resume", token: d.resume_token };
    } else {
      // by room id, for the users the host invited. An uninvited user gets exactly what a
      // room id that does not exist gets, and each refusal counts as a wrong PIN (P-2).
      if (!m.room_id)
        throw new ProtocolError(
          "VALIDATION",
          "join needs a pin, or room_id in the envelope",
          "bad_data",
        );
      handle = await this.deps.sessions.find(m.room_id);
      command = { type: "join", name: d.display_name, byInvitation: true };
      if (!handle) return this.refuseRoomGuess(conn);
    }
    // Bound (but held) before the command runs, so no event between the snapshot and the reply is lost.
    if (!this.driver.attach(conn, handle, "player")) return replyOf();
    const joined = await this.command(conn, handle, command).catch(async (err: unknown) => {
      // An uninvited join by room id counts as a wrong guess, like an unknown id.
      const invited = command.type === "join" && command.byInvitation === true;
      if (invited && err instanceof ProtocolError && err.reason === "no_room") {
        await this.refuseRoomGuess(conn);
      }
      throw err;
    });
    if (joined.userId !== conn.state.identity.userId) {
      // An anonymous client resumed someone else's seat by token: act as that member from now on.
      conn.state.identity = { ...conn.state.identity, userId: asUserId(joined.userId) };
    }
    const role = joined.role === "host" ? "host" : "player";
    await this.driver.settle(conn, joined.participantId, role, markOf(joined.snapshot));
    return {
      frames: [
        this.frame("joined", m.msg_id, {
          room_id: handle.id,
          participant_id: joined.participantId,
          user_id: joined.userId,
          name: joined.name,
          role: joined.role,
          resume_token: joined.resumeToken,
          resumed: joined.resumed,
        }),
        this.stateFrame(m.msg_id, joined.snapshot),
      ],
      retryable: false,
      binding: { sessionId: handle.id, participantId: joined.participantId, role },
    };
  }

  /** A room id that is no room, or not one's to join: a wrong guess under the PIN limit (P-4). */
  private async refuseRoomGuess(conn: Conn): Promise<never> {
    const identity = conn.state.identity;
    const guess = await this.deps.pinGate.wrongGuess({
      address: addressOf(conn.state),
      userId: identity.anonymous ? null : identity.userId,
    });
    if (guess.kind === "limited") {
      throw new ProtocolError(
        "RATE_LIMIT",
        "too many wrong PINs; wait and try again later",
        "rate_limited",
        guess.retryAfterMs,
      );
    }
    throw new ProtocolError("NOT_FOUND", "no such open room", "no_room");
  }

  private async spectate(
    conn: Conn,
    m: Extract<ClientMessage, { type: "spectate" }>,
  ): Promise<Reply> {
    const pin = m.data.pin;
    if (!pin && !m.room_id)
      throw new ProtocolError("VALIDATION", "spectate needs a pin or a room_id", "bad_data");
    const handle = pin
      ? await this.roomByPin(conn, pin)
      : await this.deps.sessions.find(m.room_id ?? "");
    if (!handle) throw new ProtocolError("NOT_FOUND", "no such open room", "no_room");
    if (!this.driver.attach(conn, handle, "spectator")) return replyOf();
    const snap = await this.command(conn, handle, { type: "snapshot", role: "spectator" });
    await this.driver.settle(conn, null, "spectator", markOf(snap));
    return replyOf(this.stateFrame(m.msg_id, snap));
  }

  /**
   * The open room a PIN names, through the one PIN limit of every door (P-4): past it, a right
   * PIN and a wrong one get the same refusal, and a shadow-banned guesser hears `bad_pin`.
   */
  private async roomByPin(conn: Conn, pin: string): Promise<RoomHandle> {
    const identity = conn.state.identity;
    const found = await this.deps.pinGate.find(pin, {
      address: addressOf(conn.state),
      userId: identity.anonymous ? null : identity.userId,
    });
    if (found.kind === "found") return found.handle;
    if (found.kind === "limited") {
      throw new ProtocolError(
        "RATE_LIMIT",
        "too many wrong PINs; wait and try again later",
        "rate_limited",
        found.retryAfterMs,
      );
    }
    throw new ProtocolError("NOT_FOUND", `no open room has PIN ${pin}`, "bad_pin");
  }

  private async next(conn: Conn, m: Message<"next">): Promise<Reply> {
    const msgId = m.msg_id;
    const handle = this.requireRoom(conn);
    const result = await this.command(conn, handle, { type: "next" }, this.dedupeKey(conn, m));
    if ("served" in result && result.served) {
      const s = result.served;
      return replyOf(
        this.frame("question", msgId, {
          index: s.index,
          total: s.total,
          body: s.question.text,
          options: s.question.options,
          question: questionView(s.question),
          opened_at: s.servedAt,
          deadline_ms: s.deadline,
        }),
      );
    }
    return replyOf(this.frame("ack", msgId, { type: "next", phase: result.phase }));
  }

  private async answer(conn: Conn, m: Message<"answer">): Promise<Reply> {
    const { msg_id: msgId, data: d } = m;
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
    const ack = await this.command(
      conn,
      handle,
      { type: "answer", target: { index: d.index }, answer },
      this.dedupeKey(conn, m),
    );
    this.driver.metrics.answerAcked(started);
    return replyOf(
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
    conn: Conn,
    m: ClientMessage,
    type: ClientType,
    command: Extract<
      Command,
      { type: "start" | "end" | "lock" | "kick" | "transfer_host" | "leave" }
    >,
  ): Promise<Reply> {
    const handle = this.requireRoom(conn);
    const done = await this.command(conn, handle, command, this.dedupeKey(conn, m));
    return replyOf(this.frame("ack", m.msg_id, { type, phase: done.phase }));
  }

  /**
   * A mutating message's identity for the owner's dedupe: a retry that reaches the
   * session's owner through another instance still gets the first reply. The same key as the
   * replay window's, so it too tells a retry from a reused id.
   */
  private dedupeKey(conn: Conn, m: ClientMessage): string {
    return this.messageKey(conn, m);
  }

  /**
   * Who sent a message, what it is about and its id: the sender, the message type, the
   * room (or for a join the PIN or room asked for, for create_room the quiz), for an answer
   * the question, for a kick the participant. A retry matches; an id reused for anything else
   * is a new request. One flat string (`ws-kit/message-key.ts`): it is kept for the replay window.
   */
  private messageKey(conn: Conn, m: ClientMessage): string {
    const room = conn.group?.handle.id ?? "";
    let about: string;
    switch (m.type) {
      case "create_room":
        about = m.data.quiz_id;
        break;
      case "join":
        about = "pin" in m.data ? `pin:${m.data.pin}` : `room:${m.room_id ?? ""}`;
        break;
      case "answer":
        about = `${room}:${m.data.index}`;
        break;
      case "kick":
        about =
          "participant_id" in m.data
            ? `${room}:${m.data.participant_id}`
            : `${room}:user:${m.data.user_id}`;
        break;
      default:
        about = room;
    }
    return messageKey(this.name, conn.state.identity.userId, m.type, about, m.msg_id);
  }

  /** Runs a command, turning a refusal into a ProtocolError (the driver answers it). */
  private async command<C extends Command>(
    conn: Conn,
    handle: RoomHandle,
    command: C,
    dedupeKey?: string,
  ) {
    if (command.type !== "snapshot") this.takeRoomAction(handle);
    const reply = await handle.execute(
      this.actor(conn),
      command,
      dedupeKey ? { dedupeKey } : undefined,
    );
    return valueOrRefuse(reply);
  }

  /** Seed 000's per-room action bucket, shared by every instance the room's clients are on. */
  private takeRoomAction(handle: RoomHandle): void {
    const limiter = this.deps.clusterLimiter ?? this.deps.limiter;
    const r = limiter.takeSync(
      `canonical:room:${handle.id}`,
      this.limits.roomActionsPerSecond,
      1_000,
    );
    if (!r.allowed) {
      throw new ProtocolError(
        "RATE_LIMIT",
        "this room is taking too many actions right now; try again in a moment",
        "room_busy",
      );
    }
  }

  private requireRoom(conn: Conn): RoomHandle {
    const handle = conn.group?.handle;
    if (!handle) throw new ProtocolError("STATE", "join or spectate a room first", "not_joined");
    return handle;
  }

  // ------------------------------------------------------------------ frames

  private frame<T extends ServerType>(
    type: T,
    msgId: string | null,
    data: ServerData<T>,
  ): Outbound {
    const m = msgId === null ? "" : `,"msg_id":${JSON.stringify(msgId)}`;
    return {
      type,
      text: `{"v":${PROTOCOL_VERSION},"type":"${type}"${m},"data":${JSON.stringify(data)}}`,
    };
  }

  private stateFrame(msgId: string | null, snap: Snapshot): Outbound {
    const view = snapshotView(snap);
    const m = msgId === null ? "" : `,"msg_id":${JSON.stringify(msgId)}`;
    return {
      type: "state",
      text: `{"v":${PROTOCOL_VERSION},"type":"state"${m},"room_id":${JSON.stringify(snap.sessionId)},"epoch":${snap.epoch},"seq":${snap.seq},"data":${JSON.stringify(view)}}`,
      snapshot: true,
    };
  }

  private errorFrame(
    msgId: string | null,
    code: ErrorCode,
    msg: string,
    reason?: string,
    retryAfterMs?: number,
  ): Outbound {
    const data: ServerData<"error"> = { code, msg, retryable: ERROR_CODES[code].retryable };
    if (reason !== undefined) data.reason = reason;
    if (retryAfterMs !== undefined) data.retry_after_ms = retryAfterMs;
    this.driver.metrics.error(code);
    return this.frame("error", msgId, data);
  }

  private send<T extends ServerType>(conn: Conn, type: T, data: ServerData<T>): void {
    this.driver.send(conn, this.frame(type, null, data));
  }
}

// Any id up to 64 characters without quotes or escapes; it is re-encoded in the error frame.
const MSG_ID = /"msg_id"\s*:\s*"([^"\\]{1,64})"/;

/**
 * The `msg_id` of a message refused before it was decoded (over the rate limit), so the error
 * names the request and the client can send it again after `retry_after_ms` instead of waiting
 * for a reply that never comes. Only ids of the documented shape are echoed; the frame is at
 * most 10 KB (larger ones are closed before this).
 */
function refusedMessageId(data: Buffer): string | null {
  const id = MSG_ID.exec(data.toString("utf8", 0, Math.min(data.length, 10_240)))?.[1];
  return id ?? null;
}
