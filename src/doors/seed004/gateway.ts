import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { RawData, WebSocket } from "ws";
import type { Identity } from "../../auth/identity.js";
import type { DomainError, ErrorCode } from "../../domain/errors.js";
import { asSessionId, type ParticipantId, type SessionId } from "../../domain/ids.js";
import type { RoomHandle } from "../../engine/room-handle.js";
import type { Actor, AnswerAck, Audience, JoinResult, Snapshot } from "../../engine/types.js";
import type { TimerHandle } from "../../ports/clock.js";
import type { SessionBundle } from "../../ports/storage.js";
import type { DoorDeps, WsDoor } from "../door.js";
import { actorOf } from "../ws-kit/actor.js";
import {
  type ConnectionLimits,
  ConnectionRegistry,
  DEFAULT_CONNECTION_LIMITS,
} from "../ws-kit/connections.js";
import { DoorMetrics } from "../ws-kit/door-metrics.js";
import { upgradeToken } from "../ws-kit/frames.js";
import type { InboundGuard } from "../ws-kit/inbound-guard.js";
import { type RoomGroup, RoomGroups } from "../ws-kit/room-groups.js";
import { UpgradeGate } from "../ws-kit/upgrade.js";
import { BYSTANDER, ContestFeed, endedAtOf, storedGameOverFrame } from "./contest-feed.js";
import {
  contestStartedFrame,
  correctText,
  type EncodedFrame,
  errorFrame,
  frame,
  openQuestionFrame,
  playerJoinedFrame,
  rosterOf,
} from "./encode.js";
import { decodeClientFrame } from "./inbound.js";
import { baseName, nameAttempt } from "./player-names.js";
import {
  CLOSE_CODES,
  type ClientMessage,
  contestIdOf,
  MAX_FRAME_BYTES,
  type ServerPayload,
  type ServerType,
} from "./protocol.js";

export interface Seed004Limits extends ConnectionLimits {
  maxFrameBytes: number;
}

/** The kit's default limits, as the canonical door's: the seed names none. */
export const DEFAULT_LIMITS: Seed004Limits = {
  ...DEFAULT_CONNECTION_LIMITS,
  maxFrameBytes: MAX_FRAME_BYTES,
};

export interface Seed004GatewayOptions {
  /** How long after GAME_OVER a contest closes (CLOSE_AFTER_MS in the mounted door). */
  closeAfterMs: number;
  limits: Seed004Limits;
}

const DOOR = "seed004";
const SLOW_DOWN = "too many messages; slow down";
const CONTEST_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** A WebSocket close reason must fit in 123 bytes. */
const CLOSE_REASON_MAX_BYTES = 123;

/**
 * Who may connect, and to what: an open contest (with when it ended, if it has),
 * or an ended contest no instance runs any more, answered from storage until it closes.
 */
type Admission =
  | { ok: true; identity: Identity; handle: RoomHandle; endedAt: number | null }
  | { ok: true; identity: Identity; handle: null; stored: SessionBundle; endedAt: number }
  | { ok: false; status: number; message: string };

/** One contest connection: one user in one contest, for the connection's whole life. */
class Connection {
  participantId: ParticipantId | null = null;
  group: RoomGroup<Connection> | null = null;
  /** Until the catch-up frames are out, room events wait here so none is missed or sent early. */
  ready = false;
  held: Array<{ seq: number; enc: EncodedFrame }> = [];
  /** GAME_OVER was sent: the contest is over for this connection. */
  over = false;
  closed = false;

  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    readonly identity: Identity,
    readonly contestId: SessionId,
    readonly guard: InboundGuard,
  ) {}

  actor(): Actor {
    return actorOf(this.identity, this.participantId, false);
  }
}

/**
 * Seed 004's contest WebSocket (`/ws/contests/{id}?token=<jwt>`): checks the
 * token and the contest before the upgrade, joins the user as a player,
 * turns START_GAME and SUBMIT_ANSWER into room commands and room events into
 * the seed's frames. It holds no game rules; the room decides everything.
 *
 * The contest may run on another instance: the door reaches it through its
 * RoomHandle only, and builds rosters and GAME_OVER from what a ContestFeed
 * keeps from the room's events.
 */
export class Seed004Gateway implements WsDoor {
  readonly name = DOOR;
  private readonly count: DoorMetrics;
  private readonly gate: UpgradeGate;
  private readonly conns: ConnectionRegistry<Connection>;
  private readonly groups = new RoomGroups<Connection>(
    (g, e) => this.feedOf(g).event(e),
    (g) => this.feedOf(g).resync(),
  );
  private readonly feeds = new Map<
    SessionId,
    { group: RoomGroup<Connection>; feed: ContestFeed }
  >();
  private readonly closeTimers = new Map<SessionId, TimerHandle>();
  private readonly limits: Seed004Limits;

  constructor(
    private readonly deps: DoorDeps,
    private readonly opts: Seed004GatewayOptions,
  ) {
    this.limits = opts.limits;
    this.count = new DoorMetrics(deps.metrics, DOOR);
    this.gate = new UpgradeGate({
      maxPayload: this.limits.hardMaxFrameBytes,
      allowedOrigins: deps.config.allowedOrigins,
      log: deps.log,
      failure: "seed004 upgrade failed",
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
        this.sendError(conn, "RATE_LIMIT", SLOW_DOWN, "rate_limited", retryAfterMs),
      close: (conn, code, reason) => this.close(conn, code, reason),
    });
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  matches(path: string): boolean {
    return contestIdOf(path) !== null;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.gate.accept(req, socket, head, {
      admit: (): Admission | Promise<Admission> => {
        const token = upgradeToken(req);
        if (!token)
          return { ok: false, status: 401, message: "a token is required (?token=<jwt>)" };
        return this.admit(token, contestIdOf((req.url ?? "/").split("?")[0] ?? "/"));
      },
      open: (ws, a) => this.onConnection(ws, a),
    });
  }

  /** Closes every connection with 1001 so clients reconnect elsewhere (graceful shutdown). */
  shutdown(): void {
    for (const t of this.closeTimers.values()) this.deps.clock.clearTimer(t);
    this.closeTimers.clear();
    this.conns.shutdown();
  }

  // ------------------------------------------------------------------ admission

  /** The token first (an AuthError: 401, from the gate), then the contest (404 unknown, 410 closed). */
  private async admit(token: string, contestId: string | null): Promise<Admission> {
    const identity = await this.deps.identity.fromJwt(token);
    const unknown = { ok: false, status: 404, message: "no such contest" } as const;
    const closed = { ok: false, status: 410, message: "contest closed" } as const;
    if (contestId === null || !CONTEST_ID.test(contestId)) return unknown;
    const handle = await this.deps.sessions.find(contestId);
    if (handle) {
      if (handle.info.settings.mode !== "quick_fire") return unknown;
      const endedAt = await this.endedAtOf(handle);
      if (this.isClosed(endedAt)) return closed;
      return { ok: true, identity, handle, endedAt };
    }
    // No instance runs it: it ended (open sessions are always found).
    const stored = await this.deps.sessions.load(contestId);
    if (stored?.session.settings.mode !== "quick_fire") return unknown;
    const endedAt = endedAtOf(stored);
    // Within its last seconds a contest still answers with its GAME_OVER, wherever it ran.
    if (endedAt !== null && !this.isClosed(endedAt) && stored.standings.length > 0) {
      return { ok: true, identity, handle: null, stored, endedAt };
    }
    return closed;
  }

  /**
   * When the contest ended, or null while it runs: from the door's feed when it
   * saw the end, else a snapshot says whether it ended and storage says when.
   */
  private async endedAtOf(handle: RoomHandle): Promise<number | null> {
    const known = this.feeds.get(handle.id)?.feed.endedAt;
    if (known !== undefined && known !== null) return known;
    const reply = await handle.execute(BYSTANDER, { type: "snapshot", role: "spectator" });
    if (reply.ok && (reply.value as Snapshot).phase.kind !== "ended") return null;
    const stored = await this.deps.sessions.load(handle.id);
    const at = stored ? endedAtOf(stored) : null;
    if (at !== null) return at;
    // Ended a moment ago and not stored yet; or no answer at all: let the join decide.
    return reply.ok ? this.deps.clock.now() : null;
  }

  private isClosed(endedAt: number | null): boolean {
    return endedAt !== null && this.deps.clock.now() >= endedAt + this.opts.closeAfterMs;
  }

  // ------------------------------------------------------------------ connection lifecycle

  private onConnection(ws: WebSocket, a: Extract<Admission, { ok: true }>): void {
    const contestId = a.handle ? a.handle.id : asSessionId(a.stored.session.id);
    const conn = this.conns.open(
      ws,
      (id, guard) => new Connection(id, ws, a.identity, contestId, guard),
    );
    if (!a.handle) {
      this.over(conn, storedGameOverFrame(a.stored), a.endedAt);
      return;
    }
    const handle = a.handle;
    // In the group (events held) before joining, so nothing between the join and the catch-up is lost.
    const group = this.groups.add(handle, conn);
    conn.group = group;
    const feed = this.feedOf(group);
    const entering =
      a.endedAt !== null ? this.enterEnded(conn, feed, a.endedAt) : this.enter(conn, feed);
    entering.catch((err: unknown) => {
      this.deps.log.error({ err }, "seed004 join failed");
      this.sendError(conn, "INTERNAL", "internal error", "internal");
      this.close(conn, CLOSE_CODES.internalError, "internal error");
    });
  }

  /** Joins the user (a returning user is the same player), then sends what they need to catch up. */
  private async enter(conn: Connection, feed: ContestFeed): Promise<void> {
    const handle = conn.group?.handle;
    if (!handle) return;
    const joined = await this.join(conn, handle);
    if (conn.closed) return;
    if (!joined.ok) {
      if (joined.error.reason === "room_ended") return this.enterEnded(conn, feed, null);
      const e = joined.error;
      this.sendError(conn, e.code, e.msg, e.reason);
      this.close(conn, CLOSE_CODES.joinRefused, e.msg);
      return;
    }
    const j = joined.value;
    if (conn.group) this.groups.reassign(conn.group, conn, j.participantId);
    void handle.execute(conn.actor(), { type: "presence", connected: true });
    const reply = await handle.execute(conn.actor(), { type: "snapshot", role: "spectator" });
    if (!reply.ok || conn.closed) return;
    const snap = reply.value as Snapshot;
    for (const f of await this.catchUp(handle, feed, snap, j)) this.sendRaw(conn, f.frame, f.type);
    this.release(conn, snap.seq);
  }

  /** Tries the user's name, then `name (2)`, `name (3)`, … while it clashes (N-1). */
  private async join(
    conn: Connection,
    handle: RoomHandle,
  ): Promise<{ ok: true; value: JoinResult } | { ok: false; error: DomainError }> {
    const base = baseName(conn.identity.handle, conn.identity.userId);
    // Names taken are at most the players (and a host) there can be, so one of these is free.
    const attempts = handle.info.settings.maxParticipants + 2;
    for (let n = 1; ; n++) {
      const reply = await handle.execute(conn.actor(), {
        type: "join",
        name: nameAttempt(base, n),
      });
      if (reply.ok) return { ok: true, value: reply.value as JoinResult };
      if (reply.error.reason !== "name_taken" || n >= attempts) return reply;
    }
  }

  /** PLAYER_JOINED for the joiner (roster and host flag), then the contest as it stands. */
  private async catchUp(
    handle: RoomHandle,
    feed: ContestFeed,
    snap: Snapshot,
    j: JoinResult,
  ): Promise<EncodedFrame[]> {
    const host = handle.info.hostUserId;
    const players = rosterOf(snap, host);
    const out: EncodedFrame[] = [
      {
        type: "PLAYER_JOINED",
        frame: playerJoinedFrame(
          { userId: j.userId, name: j.name },
          snap.playerCount,
          players,
          host,
        ),
      },
    ];
    const kind = snap.phase.kind;
    if (kind === "ended") {
      out.push({ type: "GAME_OVER", frame: await feed.finalFrame() });
    } else if (kind !== "lobby") {
      out.push({
        type: "CONTEST_STARTED",
        frame: contestStartedFrame(snap.questionCount, players),
      });
      const question = openQuestionFrame(snap);
      if (question) out.push({ type: "NEW_QUESTION", frame: question });
    }
    return out;
  }

  /** A contest that already ended: its GAME_OVER, and the socket closes with the contest. */
  private async enterEnded(
    conn: Connection,
    feed: ContestFeed,
    endedAt: number | null,
  ): Promise<void> {
    const over = await feed.finalFrame();
    const handle = conn.group?.handle;
    const at =
      feed.endedAt ??
      endedAt ??
      (handle ? await this.endedAtOf(handle) : null) ??
      this.deps.clock.now();
    if (conn.closed) return;
    this.over(conn, over, at);
  }

  /** Sends GAME_OVER (nothing held is sent after it) and closes with the contest. */
  private over(conn: Connection, gameOver: string, endedAt: number): void {
    this.sendRaw(conn, gameOver, "GAME_OVER");
    conn.over = true;
    conn.held = [];
    conn.ready = true;
    if (this.isClosed(endedAt)) this.close(conn, CLOSE_CODES.contestClosed, "contest closed");
    else this.scheduleClose(conn.contestId, endedAt);
  }

  private release(conn: Connection, snapshotSeq: number): void {
    conn.ready = true;
    const held = conn.held;
    conn.held = [];
    for (const h of held) if (h.seq > snapshotSeq) this.sendRaw(conn, h.enc.frame, h.enc.type);
  }

  private unbind(conn: Connection): void {
    const group = conn.group;
    if (!group) return;
    if (conn.participantId) {
      void group.handle.execute(conn.actor(), { type: "presence", connected: false });
    }
    this.groups.remove(group, conn);
    if (group.conns.size === 0) {
      const entry = this.feeds.get(group.handle.id);
      if (entry?.group === group) {
        entry.feed.dispose();
        this.feeds.delete(group.handle.id);
      }
    }
    conn.group = null;
    conn.participantId = null;
    conn.held = [];
  }

  /** Closes every socket of a contest once it has been over for `closeAfterMs` (seed: 10 s). */
  private scheduleClose(contestId: SessionId, endedAt: number): void {
    if (this.closeTimers.has(contestId)) return;
    const timer = this.deps.clock.setTimer(endedAt + this.opts.closeAfterMs, () => {
      this.closeTimers.delete(contestId);
      for (const c of [...this.conns]) {
        if (c.contestId === contestId) this.close(c, CLOSE_CODES.contestClosed, "contest closed");
      }
    });
    this.closeTimers.set(contestId, timer);
  }

  // ------------------------------------------------------------------ inbound

  private onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    if (!this.conns.admit(conn)) return;
    const decoded = decodeClientFrame(data, isBinary, this.limits.maxFrameBytes);
    if (!decoded.ok) {
      this.sendError(conn, "VALIDATION", decoded.message, decoded.reason);
      this.conns.strike(conn);
      return;
    }
    this.count.received(decoded.type);
    this.dispatch(conn, decoded.message).catch((err: unknown) => {
      this.deps.log.error({ err, type: decoded.type }, "seed004 message handler failed");
      this.sendError(conn, "INTERNAL", "internal error", "internal");
    });
  }

  private async dispatch(conn: Connection, msg: ClientMessage): Promise<void> {
    const handle = conn.group?.handle;
    if (!handle) {
      // Answered from storage (the contest ended on another instance): nothing to send it to.
      if (conn.over) this.sendError(conn, "STATE", "this contest is over", "room_ended");
      else this.sendError(conn, "STATE", "you are not in a contest", "not_joined");
      return;
    }
    switch (msg.type) {
      case "START_GAME": {
        // The room refuses everyone but the host; the CONTEST_STARTED broadcast is the reply.
        const reply = await handle.execute(conn.actor(), { type: "start" });
        if (!reply.ok) this.sendDomainError(conn, reply.error);
        return;
      }
      case "SUBMIT_ANSWER":
        return this.answer(conn, handle, msg as ClientMessage<"SUBMIT_ANSWER">);
      default: {
        const never: never = msg;
        return never;
      }
    }
  }

  private async answer(
    conn: Connection,
    handle: RoomHandle,
    msg: ClientMessage<"SUBMIT_ANSWER">,
  ): Promise<void> {
    const started = performance.now();
    // The option's text: the room matches it to the option, so no lookup here.
    const reply = await handle.execute(conn.actor(), {
      type: "answer",
      target: { questionId: msg.question_id },
      answer: { kind: "text", text: msg.answer },
    });
    if (!reply.ok) {
      // Seed clients send an option's text; the engine's wording speaks of choice indices.
      const e = reply.error;
      const msg =
        e.reason === "bad_answer" ? "the answer is not one of the question's options" : e.msg;
      this.sendError(conn, e.code, msg, e.reason);
      return;
    }
    const ack = reply.value as AnswerAck;
    const q = handle.info.questions[ack.index];
    const result: ServerPayload<"ANSWER_RESULT"> = ack.correct
      ? {
          is_correct: true,
          points_awarded: ack.points,
          time_taken: ack.elapsedMs / 1000,
          new_score: ack.score,
        }
      : { is_correct: false, correct_answer: q ? correctText(q) : "" };
    this.sendRaw(conn, frame("ANSWER_RESULT", result), "ANSWER_RESULT");
    this.count.answerAcked(started);
  }

  // ------------------------------------------------------------------ fan-out

  /** The contest's feed: created with its group (seeding from a snapshot), dropped with it. */
  private feedOf(group: RoomGroup<Connection>): ContestFeed {
    const id = group.handle.id;
    const entry = this.feeds.get(id);
    if (entry?.group === group) return entry.feed;
    entry?.feed.dispose();
    const feed = new ContestFeed(
      group.handle,
      {
        broadcast: (enc, seq, audience) => this.broadcast(group, enc, seq, audience),
        kicked: (participantId) => this.kicked(group, participantId),
        ended: (at) => this.scheduleClose(id, at),
      },
      {
        load: (sessionId) => this.deps.sessions.load(sessionId),
        now: () => this.deps.clock.now(),
        onError: (err, context) => this.deps.log.error({ err }, context),
      },
    );
    // Known before it starts: the seeding snapshot may flush events that come straight back here.
    this.feeds.set(id, { group, feed });
    feed.start();
    return feed;
  }

  private broadcast(
    group: RoomGroup<Connection>,
    enc: EncodedFrame,
    seq: number,
    audience: Audience,
  ): void {
    if (audience.kind === "participant") {
      for (const c of group.of(audience.participantId) ?? []) this.deliverTo(c, seq, enc);
      return;
    }
    for (const c of group.conns) this.deliverTo(c, seq, enc);
  }

  private deliverTo(conn: Connection, seq: number, enc: EncodedFrame): void {
    if (conn.closed) return;
    if (!conn.ready) {
      conn.held.push({ seq, enc });
      return;
    }
    if (this.conns.pressure(conn) !== "send") return;
    this.sendRaw(conn, enc.frame, enc.type);
  }

  private kicked(group: RoomGroup<Connection>, participantId: ParticipantId): void {
    const targets = group.of(participantId);
    if (!targets) return;
    for (const c of [...targets]) {
      this.sendError(c, "FORBIDDEN", "you were removed from this contest", "kicked");
      this.unbind(c);
      this.close(c, CLOSE_CODES.kicked, "removed by the host");
    }
  }

  // ------------------------------------------------------------------ outbound

  private sendDomainError(conn: Connection, e: DomainError): void {
    this.sendError(conn, e.code, e.msg, e.reason);
  }

  private sendError(
    conn: Connection,
    code: ErrorCode,
    message: string,
    reason?: string,
    retryAfterMs?: number,
  ): void {
    this.count.error(code);
    this.sendRaw(conn, errorFrame(code, message, reason, retryAfterMs), "ERROR");
  }

  private sendRaw(conn: Connection, text: string, type: ServerType): void {
    this.conns.send(conn, text, type);
  }

  private close(conn: Connection, code: number, reason: string): void {
    if (conn.ws.readyState === conn.ws.CLOSED || conn.ws.readyState === conn.ws.CLOSING) return;
    conn.ws.close(code, fitCloseReason(reason));
  }
}

/** Cuts a close reason to the 123 bytes a close frame allows (ws throws beyond). */
function fitCloseReason(reason: string): string {
  let out = reason;
  while (Buffer.byteLength(out) > CLOSE_REASON_MAX_BYTES) out = [...out].slice(0, -1).join("");
  return out;
}
