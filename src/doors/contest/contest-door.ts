import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Identity } from "../../auth/identity.js";
import {
  type DomainError,
  ERROR_CODES,
  type ErrorCode,
  ProtocolError,
} from "../../domain/errors.js";
import { asSessionId, asUserId, type SessionId } from "../../domain/ids.js";
import { markOf, ORIGIN } from "../../engine/event-order.js";
import type { RoomHandle, SessionInfo } from "../../engine/room-handle.js";
import type {
  Actor,
  Reply as EngineReply,
  JoinResult,
  RoomEvent,
  Snapshot,
} from "../../engine/types.js";
import type { TimerHandle } from "../../ports/clock.js";
import type { SessionBundle } from "../../ports/storage.js";
import type { SessionService } from "../../services/session-service.js";
import type { WsDoor, WsDoorDeps } from "../door.js";
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
import { valueOrRefuse } from "../ws-kit/refused.js";
import type { RoomGroup } from "../ws-kit/room-groups.js";
import { runDialect } from "../ws-kit/run-dialect.js";
import type { DoorSocket, SocketEvents } from "../ws-kit/socket.js";
import type { WsTransport } from "../ws-kit/ws-transport.js";
import {
  contestStartedFrame,
  correctText,
  encodeEvent,
  endedAtOf,
  errorFrame,
  finalFrame,
  frame,
  openQuestionFrame,
  playerJoinedFrame,
  rosterOf,
  storedGameOverFrame,
} from "./encode.js";
import { loginSeat } from "./login-seats.js";
import { baseName, nameAttempt } from "./player-names.js";
import {
  CLOSE_CODES,
  type ClientMessage,
  contestIdOf,
  decodeClientFrame,
  MAX_FRAME_BYTES,
  type ServerPayload,
  type ServerType,
} from "./protocol.js";

export interface ContestLimits extends ConnectionLimits {
  maxFrameBytes: number;
}

/** The kit's default limits, as the canonical door's: the seed names none. */
export const DEFAULT_LIMITS: ContestLimits = {
  ...DEFAULT_CONNECTION_LIMITS,
  maxFrameBytes: MAX_FRAME_BYTES,
};

/** What the contest's connections need: sessions are found and, once ended, read from storage. */
export type ContestDoorDeps = Omit<WsDoorDeps, "sessions"> & {
  sessions: Pick<SessionService, "find" | "load">;
};

export interface ContestDoorOptions {
  /** How long after GAME_OVER a contest closes (CLOSE_AFTER_MS in the mounted door). */
  closeAfterMs: number;
  limits: ContestLimits;
}

const DOOR = "seed004";
const CONTEST_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Reads a contest as nobody in particular: never a member, never the host. */
const BYSTANDER: Actor = { userId: asUserId("seed004:bystander"), roles: [], anonymous: true };

/**
 * Who may connect, and to what: an open contest (with when it ended, if it has),
 * or an ended contest no instance runs any more, answered from storage until it closes.
 */
export type ContestAdmission =
  | { ok: true; identity: Identity; handle: RoomHandle; endedAt: number | null }
  | { ok: true; identity: Identity; handle: null; stored: SessionBundle; endedAt: number };

type Admission = ContestAdmission | { ok: false; status: number; message: string };

/**
 * One user in one contest for the connection's whole life, and what the
 * client has been told (so a resync tells it only what it missed).
 */
interface Contestant {
  identity: Identity;
  contestId: SessionId;
  told: { started: boolean; question: number | null; over: boolean };
}

type Conn = Connection<Contestant>;

/**
 * Seed 004's contest WebSocket (`/ws/contests/{id}?token=<jwt>`): checks the
 * token and the contest before the upgrade, joins the user as a player, turns
 * START_GAME and SUBMIT_ANSWER into room commands and room events into the
 * seed's frames. A translation on the door driver: the room decides
 * everything, and its events carry the rosters and standings the frames show.
 */
export class ContestDoor implements WsDoor, Dialect<Contestant, ClientMessage> {
  readonly name = DOOR;
  readonly endpoint = "/ws/contests/:contestId";
  readonly ordered = false;
  /** A contestant is bound when the socket opens, never by a message. */
  readonly binding: ReadonlySet<ClientMessage["type"]> = new Set();
  readonly closeCodes = CLOSE_CODES;
  readonly kickedReason = "removed by the host";
  private readonly driver: DoorDriver<Contestant, ClientMessage>;
  private readonly transport: WsTransport;
  private readonly closeTimers = new Map<SessionId, TimerHandle>();
  private readonly limits: ContestLimits;

  constructor(
    private readonly deps: ContestDoorDeps,
    private readonly opts: ContestDoorOptions,
  ) {
    this.limits = opts.limits;
    ({ driver: this.driver, transport: this.transport } = runDialect(this, {
      ...deps,
      limits: this.limits,
      failure: "seed004 upgrade failed",
    }));
  }

  get connectionCount(): number {
    return this.driver.connectionCount;
  }

  matches(path: string): boolean {
    return contestIdOf(path) !== null;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.transport.accept(req, socket, head, {
      admit: (): Admission | Promise<Admission> => {
        const token = upgradeToken(req);
        if (!token)
          return { ok: false, status: 401, message: "a token is required (?token=<jwt>)" };
        return this.admit(token, contestIdOf((req.url ?? "/").split("?")[0] ?? "/"));
      },
      open: (socket, a) => this.open(socket, a),
    });
  }

  /**
   * An admitted user's socket is open (any transport, or a test's fake): they
   * enter the contest, or get the GAME_OVER of one that ended.
   */
  open(socket: DoorSocket, a: ContestAdmission): SocketEvents {
    const contestId = a.handle ? a.handle.id : asSessionId(a.stored.session.id);
    const conn = this.driver.connect(socket, {
      identity: a.identity,
      contestId,
      told: { started: false, question: null, over: false },
    });
    if (a.handle) this.enter(conn, a.handle, a.endedAt);
    else this.over(conn, storedGameOverFrame(a.stored), a.endedAt);
    return this.driver.eventsOf(conn);
  }

  /** Closes every connection with 1001 so clients reconnect elsewhere (graceful shutdown). */
  shutdown(): void {
    for (const t of this.closeTimers.values()) this.deps.clock.clearTimer(t);
    this.closeTimers.clear();
    this.transport.stop();
    this.driver.shutdown();
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
      const view = await this.view(handle);
      const endedAt = view ? this.endedAtIn(view) : null;
      if (this.isClosed(endedAt)) return closed;
      return { ok: true, identity: this.seated(identity, handle, view), handle, endedAt };
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

  /** The contest as nobody in particular sees it (its roster included), or null when it cannot be asked. */
  private async view(handle: RoomHandle): Promise<Snapshot | null> {
    const reply = await handle.execute(BYSTANDER, { type: "snapshot", role: "spectator" });
    return reply.ok ? reply.value : null;
  }

  /** When the contest ended (its snapshot says), or null while it runs or cannot be asked. */
  private async endedAtOf(handle: RoomHandle): Promise<number | null> {
    const view = await this.view(handle);
    return view ? this.endedAtIn(view) : null;
  }

  private endedAtIn(view: Snapshot): number | null {
    return view.phase.kind === "ended" ? (view.endedAt ?? this.deps.clock.now()) : null;
  }

  /**
   * A seed 004 login token sits in the seat its username already has (the
   * host's, or a player's): the seed's pages log in anew for every page, and
   * each login mints another user id for the same name. Other tokens are
   * seated by their user id.
   */
  private seated(identity: Identity, handle: RoomHandle, view: Snapshot | null): Identity {
    if (identity.loginName === undefined) return identity;
    const seat = loginSeat(identity.loginName, handle.info.hostUserId, view?.players ?? []);
    return seat === null ? identity : { ...identity, userId: seat };
  }

  private isClosed(endedAt: number | null): boolean {
    return endedAt !== null && this.deps.clock.now() >= endedAt + this.opts.closeAfterMs;
  }

  // ------------------------------------------------------------------ entering a contest

  /** In the room's group (events held) before joining, so nothing between the join and the catch-up is lost. */
  private enter(conn: Conn, handle: RoomHandle, endedAt: number | null): void {
    if (!this.driver.attach(conn, handle, "player")) return;
    const entering = endedAt !== null ? this.enterEnded(conn, handle) : this.join(conn, handle);
    entering.catch((err: unknown) => {
      this.deps.log.error({ err }, "seed004 join failed");
      this.driver.detach(conn);
      this.driver.release(conn);
      this.driver.send(conn, this.errorOut("INTERNAL", "internal error", "internal"));
      this.driver.close(conn, CLOSE_CODES.internalError, "internal error");
    });
  }

  /** Joins the user (a returning user is the same player), then sends what they need to catch up. */
  private async join(conn: Conn, handle: RoomHandle): Promise<void> {
    const joined = await this.joinAs(conn, handle);
    if (conn.closed) return;
    if (!joined.ok) {
      if (joined.error.reason === "room_ended") return this.enterEnded(conn, handle);
      const e = joined.error;
      this.driver.detach(conn);
      this.driver.release(conn);
      this.driver.send(conn, this.errorOut(e.code, e.msg, e.reason));
      this.driver.close(conn, CLOSE_CODES.joinRefused, e.msg);
      return;
    }
    await this.driver.settle(conn, joined.value.participantId, "player", ORIGIN);
    const snap = valueOrRefuse(
      await handle.execute(this.actor(conn), { type: "snapshot", role: "spectator" }),
    );
    this.driver.markSeen(conn, markOf(snap));
    for (const f of await this.catchUp(conn, handle, snap, joined.value)) this.driver.send(conn, f);
    this.driver.release(conn);
  }

  /** Tries the user's name, then `name (2)`, `name (3)`, … while it clashes (N-1). */
  private async joinAs(conn: Conn, handle: RoomHandle): Promise<EngineReply<JoinResult>> {
    const identity = conn.state.identity;
    const base = baseName(identity.handle, identity.userId);
    // Names taken are at most the players (and a host) there can be, so one of these is free.
    const attempts = handle.info.settings.maxParticipants + 2;
    for (let n = 1; ; n++) {
      const reply = await handle.execute(this.actor(conn), {
        type: "join",
        name: nameAttempt(base, n),
      });
      if (reply.ok || reply.error.reason !== "name_taken" || n >= attempts) return reply;
    }
  }

  /**
   * What a client needs to be current, in the seed's messages: PLAYER_JOINED
   * for `joiner` (the roster with everyone's score), then the start, the open
   * question and the end — each only if the client was not told it yet.
   */
  private async catchUp(
    conn: Conn,
    handle: RoomHandle,
    snap: Snapshot,
    joiner: { userId: string; name: string },
  ): Promise<Outbound[]> {
    const host = handle.info.hostUserId;
    const players = rosterOf(snap, host);
    const told = conn.state.told;
    const out: Outbound[] = [
      {
        type: "PLAYER_JOINED",
        text: playerJoinedFrame(joiner, snap.playerCount, players, host),
      },
    ];
    const kind = snap.phase.kind;
    if (kind === "ended") {
      if (!told.over) {
        out.push({ type: "GAME_OVER", text: await this.gameOver(handle) });
        told.over = true;
      }
      return out;
    }
    if (kind !== "lobby" && !told.started) {
      out.push({
        type: "CONTEST_STARTED",
        text: contestStartedFrame(snap.questionCount, players),
      });
      told.started = true;
    }
    const question = openQuestionFrame(snap);
    if (question && snap.phase.index !== told.question) {
      out.push({ type: "NEW_QUESTION", text: question });
      told.question = snap.phase.index;
    }
    return out;
  }

  /** A contest that already ended: its GAME_OVER, and the socket closes with the contest. */
  private async enterEnded(conn: Conn, handle: RoomHandle): Promise<void> {
    const over = await this.gameOver(handle);
    const at = (await this.endedAtOf(handle)) ?? this.deps.clock.now();
    if (conn.closed) return;
    this.driver.detach(conn);
    this.driver.release(conn);
    this.over(conn, over, at);
  }

  /** The final standings from the room, else from storage. */
  private async gameOver(handle: RoomHandle): Promise<string> {
    const info = handle.info;
    const reply = await handle.execute(BYSTANDER, {
      type: "standings",
      fromRank: 1,
      count: info.settings.maxParticipants,
    });
    if (reply.ok) return finalFrame(info, reply.value.entries);
    const stored = await this.deps.sessions.load(handle.id);
    if (stored && stored.standings.length > 0) return storedGameOverFrame(stored);
    return finalFrame(info, []);
  }

  /** Sends GAME_OVER (the connection is out of the room, so nothing follows it) and closes with the contest. */
  private over(conn: Conn, gameOver: string, endedAt: number): void {
    this.driver.send(conn, { type: "GAME_OVER", text: gameOver });
    conn.state.told.over = true;
    if (this.isClosed(endedAt))
      this.driver.close(conn, CLOSE_CODES.contestClosed, "contest closed");
    else this.scheduleClose(conn.state.contestId, endedAt);
  }

  /** Closes every socket of a contest once it has been over for `closeAfterMs` (seed: 10 s). */
  private scheduleClose(contestId: SessionId, endedAt: number): void {
    if (this.closeTimers.has(contestId)) return;
    const timer = this.deps.clock.setTimer(endedAt + this.opts.closeAfterMs, () => {
      this.closeTimers.delete(contestId);
      for (const c of [...this.driver.connections()]) {
        if (c.state.contestId === contestId) {
          this.driver.close(c, CLOSE_CODES.contestClosed, "contest closed", true);
        }
      }
    });
    this.closeTimers.set(contestId, timer);
  }

  // ------------------------------------------------------------------ the dialect

  decode(data: Buffer, isBinary: boolean): Decoded<ClientMessage> {
    const d = decodeClientFrame(data, isBinary, this.limits.maxFrameBytes);
    if (d.ok) return { ok: true, message: d.message };
    return { ok: false, error: this.errorOut("VALIDATION", d.message, d.reason) };
  }

  /** The seed's messages carry no ids: nothing is replayed. */
  replayKey(): null {
    return null;
  }

  refusal(err: unknown): Reply | null {
    if (!(err instanceof ProtocolError)) return null;
    return {
      frames: [this.errorOut(err.code, err.message, err.reason)],
      retryable: ERROR_CODES[err.code].retryable,
    };
  }

  internalError(): Reply {
    return replyOf(this.errorOut("INTERNAL", "internal error", "internal"));
  }

  rateLimited(retryAfterMs: number): Outbound {
    return this.errorOut(
      "RATE_LIMIT",
      "too many messages; slow down",
      "rate_limited",
      retryAfterMs,
    );
  }

  actor(conn: Conn): Actor {
    return actorOf(conn.state.identity, conn.participantId, false);
  }

  encodeEvent(event: RoomEvent, info: SessionInfo): readonly EventFrame[] {
    return encodeEvent(event, info);
  }

  delivered(conn: Conn, event: RoomEvent): void {
    const b = event.body;
    const told = conn.state.told;
    if (b.type === "started") told.started = true;
    else if (b.type === "question") told.question = b.index;
    else if (b.type === "ended") told.over = true;
  }

  /** Events may have been missed: the roster as it is, and the start, question or end not told yet. */
  async refresh(conn: Conn): Promise<void> {
    const handle = conn.group?.handle;
    if (!handle || conn.participantId === null) return;
    const [snap, me] = await Promise.all([
      handle.execute(this.actor(conn), { type: "snapshot", role: "spectator" }),
      handle.execute(this.actor(conn), { type: "lookup", participantId: conn.participantId }),
    ]);
    if (!snap.ok || conn.closed) return;
    const member = me.ok ? me.value.member : null;
    const joiner = member
      ? { userId: member.userId, name: member.name }
      : { userId: conn.state.identity.userId, name: conn.state.identity.handle ?? "" };
    for (const f of await this.catchUp(conn, handle, snap.value, joiner)) {
      this.driver.sendState(conn, f, markOf(snap.value));
    }
  }

  observe(_group: RoomGroup<Conn>, event: RoomEvent): void {
    if (event.body.type === "ended") this.scheduleClose(event.sessionId, event.at);
  }

  readonly handlers: Handlers<Contestant, ClientMessage> = {
    // The room refuses everyone but the host; the CONTEST_STARTED broadcast is the reply.
    START_GAME: async (conn) => {
      const handle = this.requireContest(conn);
      valueOrRefuse(await handle.execute(this.actor(conn), { type: "start" }));
      return replyOf();
    },
    SUBMIT_ANSWER: (conn, m) => this.answer(conn, m),
  };

  private async answer(
    conn: Conn,
    m: Extract<ClientMessage, { type: "SUBMIT_ANSWER" }>,
  ): Promise<Reply> {
    const started = performance.now();
    const handle = this.requireContest(conn);
    // The option's text: the room matches it to the option, so no lookup here.
    const reply = await handle.execute(this.actor(conn), {
      type: "answer",
      target: { questionId: m.question_id },
      answer: { kind: "text", text: m.answer },
    });
    if (!reply.ok) throw answerRefusal(reply.error);
    const ack = reply.value;
    const q = handle.info.questions[ack.index];
    const result: ServerPayload<"ANSWER_RESULT"> = ack.correct
      ? {
          is_correct: true,
          points_awarded: ack.points,
          time_taken: ack.elapsedMs / 1000,
          new_score: ack.score,
        }
      : { is_correct: false, correct_answer: q ? correctText(q) : "" };
    this.driver.metrics.answerAcked(started);
    return replyOf(this.out("ANSWER_RESULT", frame("ANSWER_RESULT", result)));
  }

  private requireContest(conn: Conn): RoomHandle {
    const handle = conn.group?.handle;
    if (handle) return handle;
    // Answered from storage (the contest ended on another instance): nothing to send it to.
    if (conn.state.told.over)
      throw new ProtocolError("STATE", "this contest is over", "room_ended");
    throw new ProtocolError("STATE", "you are not in a contest", "not_joined");
  }

  // ------------------------------------------------------------------ frames

  private out(type: ServerType, text: string): Outbound {
    return { type, text };
  }

  private errorOut(
    code: ErrorCode,
    message: string,
    reason?: string,
    retryAfterMs?: number,
  ): Outbound {
    this.driver.metrics.error(code);
    return { type: "ERROR", text: errorFrame(code, message, reason, retryAfterMs) };
  }
}

/** A refused answer; seed clients send an option's text, and the engine's wording speaks of choice indices. */
function answerRefusal(e: DomainError): ProtocolError {
  const msg = e.reason === "bad_answer" ? "the answer is not one of the question's options" : e.msg;
  return new ProtocolError(e.code, msg, e.reason);
}
