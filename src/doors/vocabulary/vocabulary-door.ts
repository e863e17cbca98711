import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { ParticipantId, SessionId } from "../../domain/ids.js";
import { NAME_MAX } from "../../domain/names.js";
import { markOf } from "../../engine/event-order.js";
import type { ExecuteOptions, RoomHandle } from "../../engine/room-handle.js";
import type { Actor, Command, RoomEvent, Snapshot } from "../../engine/types.js";
import type { WsDoor, WsDoorDeps } from "../door.js";
import { actorOf } from "../ws-kit/actor.js";
import type { Connection } from "../ws-kit/connection.js";
import {
  type Decoded,
  type Dialect,
  type EventFrame,
  framesOnce,
  type Handlers,
  type Outbound,
  type Reply,
} from "../ws-kit/dialect.js";
import {
  type ConnectionLimits,
  DEFAULT_CONNECTION_LIMITS,
  type DoorDriver,
} from "../ws-kit/driver.js";
import { messageKey } from "../ws-kit/message-key.js";
import type { RoomGroup } from "../ws-kit/room-groups.js";
import { runDialect } from "../ws-kit/run-dialect.js";
import type { DoorSocket, SocketEvents } from "../ws-kit/socket.js";
import type { WsTransport } from "../ws-kit/ws-transport.js";
import { Coalescer } from "./coalescer.js";
import {
  type Announcement,
  announcementFrame,
  announcementOf,
  encodeEvent,
  frame,
  type GroupingPolicy,
  isGrouped,
  iso,
  leaderboardFrame,
  startedPayload,
} from "./encode.js";
import { type ErrorContext, fromDomainError, SeedError, seedMessage } from "./errors.js";
import { resolveSeedUser, type SeedUser } from "./identity.js";
import {
  CLOSE_CODES,
  type ClientMessage,
  decodeClientFrame,
  ERROR_CODES,
  LEADERBOARD_TOP,
  MAX_FRAME_BYTES,
  SEED001_PATH,
  type ServerPayload,
  type ServerType,
} from "./protocol.js";

/**
 * The kit's connection limits, counted per user here (seed 001 §12.3: 100
 * messages/s; floods close with 4008, strikes with 4002), and the dialect's own.
 */
export interface VocabularyLimits extends ConnectionLimits {
  maxFrameBytes: number;
  /** SUBMIT_ANSWER per second per user (seed 001 §12.3: 10/s). */
  answersPerSecond: number;
  /** JOIN_SESSION per minute per user (seed 001 §12.3: 5/minute). */
  joinsPerMinute: number;
  replayTtlMs: number;
  /** Always set here: leaderboard batches are skipped for a client this far behind. */
  coalesceAboveBytes: number;
  /**
   * Big sessions: with more participants than this, USER_JOINED and USER_LEFT
   * are grouped, at most one of each per `announceIntervalMs` per session,
   * naming the latest arrival (departure) with the count as of then.
   */
  announceAbove: number;
  announceIntervalMs: number;
  /**
   * Bigger sessions: with more participants than this, the self-paced board batch
   * goes to everyone at most once per `boardIntervalMs` per session (the latest
   * wins), and at once only to the learners it first shows scoring.
   */
  boardsAbove: number;
  /** The interval grows with the session: this much per participant on the board… */
  boardMsPerParticipant: number;
  /** …up to this. */
  boardIntervalMaxMs: number;
}

/**
 * How long a session's boards to everyone wait for each other: a session's boards cost every
 * learner a write each, so at a fixed rate they cost the server O(N²) as sessions grow (seed
 * 003's 100 sessions of 100 learners made 27,000 boards a second, about 40 % of the server's time
 * in their writes alone). Waiting `boardMsPerParticipant` per participant keeps a session near 100
 * boards a second whatever its size, up to the cap (docs/protocols/seed-001.md, "Big sessions").
 */
export function boardIntervalMs(
  participants: number,
  limits: Pick<VocabularyLimits, "boardMsPerParticipant" | "boardIntervalMaxMs">,
): number {
  return Math.min(limits.boardIntervalMaxMs, participants * limits.boardMsPerParticipant);
}

export const DEFAULT_LIMITS: VocabularyLimits = {
  ...DEFAULT_CONNECTION_LIMITS,
  maxFrameBytes: MAX_FRAME_BYTES,
  messagesPerSecond: 100,
  messageBurst: 100,
  userMessages: { limit: 100, windowMs: 1_000 },
  answersPerSecond: 10,
  joinsPerMinute: 5,
  replayTtlMs: 120_000,
  coalesceAboveBytes: 256 * 1024,
  announceAbove: 100,
  announceIntervalMs: 1_000,
  // 10 participants × 10 ms is the room's own 100 ms batch: smaller sessions get every batch.
  boardsAbove: 10,
  boardMsPerParticipant: 10,
  boardIntervalMaxMs: 1_000,
};

const DOOR = "seed001";
/** Messages with an effect: a retried message_id gets the original reply. */
const REPLAYED: ReadonlySet<ClientMessage["type"]> = new Set([
  "JOIN_SESSION",
  "SUBMIT_ANSWER",
  "LEAVE_SESSION",
]);

type Conn = Connection<SeedUser>;

/**
 * A board the interval held back, encoded whole (not grouped away): made once per event and kept
 * on it, since the same board often goes first to its scorers and then, at the interval's end, to
 * everyone.
 */
function heldBoardFrames(event: RoomEvent): readonly EventFrame[] {
  return framesOnce(event, HELD_BOARD, () => encodeEvent(event));
}
/** The key of `heldBoardFrames`'s frames on an event, beside the driver's (the dialect's name). */
const HELD_BOARD = `${DOOR}:held-board`;
/** Announcements of one type in one session waiting for the end of the interval. */
interface Grouped {
  latest: RoomEvent;
  announcement: Announcement;
  size: number;
}
type Message<T extends ClientMessage["type"]> = Extract<ClientMessage, { type: T }>;

/**
 * The vocabulary-quiz dialect of seeds 001 and 003 on `/ws`
 * (docs/protocols/seed-001.md): `?user_id=` upgrades, JOIN_SESSION,
 * SUBMIT_ANSWER and LEAVE_SESSION as room commands, room events as USER_JOINED,
 * USER_LEFT, LEADERBOARD_UPDATED, SESSION_STARTED and SESSION_ENDED. A
 * translation on the door driver; it reaches sessions only through their
 * RoomHandle, so a session may run on another instance. In big sessions it
 * groups announcements and boards per interval on the injected clock (the
 * document's "Big sessions"; `announceAbove`, `boardsAbove` in its limits).
 */
export class VocabularyDoor implements WsDoor, Dialect<SeedUser, ClientMessage> {
  readonly name = DOOR;
  readonly endpoint = SEED001_PATH;
  /** Handled one at a time per connection: a JOIN_SESSION sent without waiting is done before the next SUBMIT_ANSWER. */
  readonly ordered = true;
  readonly binding: ReadonlySet<ClientMessage["type"]> = new Set(["JOIN_SESSION"]);
  readonly closeCodes = CLOSE_CODES;
  readonly kickedReason = "removed by the host";
  private readonly limits: VocabularyLimits;
  private readonly driver: DoorDriver<SeedUser, ClientMessage>;
  private readonly transport: WsTransport;
  private readonly policy: GroupingPolicy;
  private readonly announcements: Coalescer<Grouped>;
  private readonly boards: Coalescer<RoomEvent>;
  /**
   * Big sessions: learners whose answer scored since the session's last board (seed 001 §7.2
   * step 12). A board the interval holds back from everyone goes to them at once, so their own
   * score and rank show within the room's 100 ms batch.
   */
  private readonly scoredSinceBoard = new Map<SessionId, Set<ParticipantId>>();

  constructor(
    private readonly deps: WsDoorDeps,
    limits: Partial<VocabularyLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.policy = {
      announceAbove: this.limits.announceAbove,
      boardsAbove: this.limits.boardsAbove,
    };
    this.announcements = new Coalescer(deps.clock, this.limits.announceIntervalMs, (_key, g) =>
      this.broadcast(g.latest, [announcementFrame(g.announcement, g.latest.at, { size: g.size })]),
    );
    this.boards = new Coalescer(
      deps.clock,
      this.limits.boardIntervalMaxMs,
      (_key, event, atOnce) => {
        const started = performance.now();
        this.broadcast(event, heldBoardFrames(event));
        // A held board to everyone is a leaderboard update of its own; one sent at once is part of
        // the room event's delivery, which the driver times.
        if (!atOnce) this.driver.boardDelivered(started);
      },
    );
    ({ driver: this.driver, transport: this.transport } = runDialect(this, {
      ...deps,
      replayTtlMs: this.limits.replayTtlMs,
      limits: this.limits,
      failure: "seed001 upgrade failed",
    }));
  }

  get connectionCount(): number {
    return this.driver.connectionCount;
  }

  matches(path: string): boolean {
    return path === SEED001_PATH;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.transport.accept(req, socket, head, {
      admit: () => resolveSeedUser(req, this.deps.identity),
      open: (socket, who) => this.open(socket, who.user),
    });
  }

  /** A user's socket is open (any transport, or a test's fake): its frames go to the driver. */
  open(socket: DoorSocket, user: SeedUser): SocketEvents {
    // Keyed by user: seed 001 §12.3 limits users, not sockets.
    const conn = this.driver.connect(socket, user, {
      guard: `${DOOR}:${user.userId}`,
      user: user.userId,
    });
    return this.driver.eventsOf(conn);
  }

  shutdown(): void {
    this.transport.stop();
    this.driver.shutdown();
    this.announcements.stop();
    this.boards.stop();
    this.scoredSinceBoard.clear();
  }

  // ------------------------------------------------------------------ the dialect

  decode(data: Buffer, isBinary: boolean): Decoded<ClientMessage> {
    const d = decodeClientFrame(data, isBinary, this.limits.maxFrameBytes);
    if (d.ok) return d;
    return { ok: false, error: this.errorFrame(d.messageId, new SeedError(d.code, d.message)) };
  }

  replayKey(conn: Conn, m: ClientMessage): string | null {
    const id = m.message_id;
    return id !== undefined && REPLAYED.has(m.type) ? this.messageKey(conn, m, id) : null;
  }

  refusal(err: unknown, m: ClientMessage): Reply | null {
    if (!(err instanceof SeedError)) return null;
    return { frames: [this.errorFrame(m.message_id, err)], retryable: err.recoverable };
  }

  internalError(m: ClientMessage): Reply {
    const error = new SeedError("INTERNAL_ERROR", "Internal error");
    return { frames: [this.errorFrame(m.message_id, error)], retryable: error.recoverable };
  }

  rateLimited(retryAfterMs: number): Outbound {
    return this.errorFrame(undefined, rateLimited("Too many messages", retryAfterMs));
  }

  actor(conn: Conn): Actor {
    return actorOf(conn.state, conn.participantId);
  }

  encodeEvent(event: RoomEvent): readonly EventFrame[] {
    return encodeEvent(event, this.policy);
  }

  /**
   * Big sessions: what `encodeEvent` left out goes out grouped, at most once
   * per interval per session, so a join storm of N costs O(N) frames, not N².
   * O(1) per event: the fan-out is the driver's.
   */
  observe(group: RoomGroup<Conn>, event: RoomEvent): void {
    const sid = event.sessionId;
    if (event.body.type === "ended") this.scoredSinceBoard.delete(sid);
    if (event.body.type === "leaderboard") {
      const scored = this.scoredSinceBoard.get(sid);
      this.scoredSinceBoard.delete(sid);
      if (!isGrouped(event, this.policy)) return;
      const sent = this.boards.offer(
        `board:${sid}`,
        event,
        (_waiting, latest) => latest,
        boardIntervalMs(event.body.totalPlayers, this.limits),
      );
      if (!sent && scored !== undefined) this.boardToScorers(group, event, scored);
      return;
    }
    if (!isGrouped(event, this.policy)) return;
    const announcement = announcementOf(event);
    if (!announcement) return;
    this.announcements.offer(
      `${announcement.type}:${sid}`,
      { latest: event, announcement, size: 1 },
      (waiting, next) => ({ ...next, size: (waiting?.size ?? 0) + 1 }),
    );
  }

  /** A board the interval holds back, to the learners whose answers it is the first to show. */
  private boardToScorers(
    group: RoomGroup<Conn>,
    event: RoomEvent,
    scored: ReadonlySet<ParticipantId>,
  ): void {
    const frames = heldBoardFrames(event);
    const mark = markOf(event);
    // Step 12's board answers the learner's SUBMIT_ANSWER: it does not queue behind a board to everyone.
    for (const pid of scored) this.driver.broadcast(group, frames, mark, pid, true);
  }

  /** Frames made on the door's schedule, to the session's connections here as of `event`. */
  private broadcast(event: RoomEvent, frames: readonly EventFrame[]): void {
    const group = this.driver.groupOf(event.sessionId);
    if (group) this.driver.broadcast(group, frames, markOf(event));
  }

  /** The board as the session has it now, with the connection's own rank. */
  async refresh(conn: Conn): Promise<void> {
    const handle = conn.group?.handle;
    if (!handle || conn.participantId === null) return;
    const snap = await this.snapshotOf(conn, handle);
    if (snap) this.driver.sendLatest(conn, this.boardOf(snap, null), markOf(snap));
  }

  readonly handlers: Handlers<SeedUser, ClientMessage> = {
    PING: async (_conn, m) => ({
      frames: [this.outbound("PONG", { server_time: iso(this.now()) }, m.message_id)],
      retryable: false,
    }),
    JOIN_SESSION: (conn, m) => this.join(conn, m),
    SUBMIT_ANSWER: (conn, m) => this.answer(conn, m),
    LEAVE_SESSION: (conn, m) => this.leave(conn, m),
  };

  // ------------------------------------------------------------------ handlers

  private async join(conn: Conn, m: Message<"JOIN_SESSION">): Promise<Reply> {
    const p = m.payload;
    const ctx: ErrorContext = { sessionId: p.session_id };
    // Shared across instances (Redis when clustered): the limit holds wherever the user connects.
    const limit = await this.deps.sharedLimiter.take(
      `${DOOR}:join:${conn.state.userId}`,
      this.limits.joinsPerMinute,
      60_000,
    );
    if (!limit.allowed) throw rateLimited("Too many JOIN_SESSION messages", limit.retryAfterMs);
    const handle = await this.findSession(p.session_id);
    if (conn.state.anonymous && handle.info.settings.mode !== "self_paced") {
      // an unverified user_id is anyone's to claim, and in a live or quick_fire session
      // everyone sees it: acting there needs a user a token proves.
      throw new SeedError(
        "ACCESS_DENIED",
        `Session ${handle.id} is ${handle.info.settings.mode}: join it with a token (?token=<JWT>); an unverified user_id only joins self-paced sessions`,
      );
    }
    const already = conn.group?.handle.id === handle.id && conn.participantId !== null;
    // Bound (but held) before the command runs, so no event between the reply and the binding is lost.
    if (!already && !this.driver.attach(conn, handle, "player")) {
      return { frames: [], retryable: true };
    }
    const joined = await this.command(
      conn,
      handle,
      {
        type: "join",
        // Seed 001 clients read the questions over REST: nothing is pushed, no per-question timer starts.
        serveQuestions: false,
        name: p.username ?? defaultName(conn.state),
      },
      ctx,
      this.dedupe(conn, m),
    );
    if (!already)
      await this.driver.settle(conn, joined.participantId, "player", markOf(joined.snapshot));
    // The board that goes with the reply is today's top 100, as every other board of this dialect
    // (the join's own snapshot shows the session's leaderboard_size; and a retried message_id gets
    // the owner's first reply, whose board may be old by now, A-6).
    const snap = (await this.snapshotOf(conn, handle)) ?? joined.snapshot;
    this.driver.markSeen(conn, markOf(snap));
    this.driver.noteLatest(conn, "LEADERBOARD_UPDATED", markOf(snap));
    const at = this.now();
    return {
      frames: [
        this.outbound(
          "SESSION_JOINED",
          {
            session_id: handle.id,
            quiz_id: handle.info.quizId,
            status: joined.snapshot.status,
            participant_count: joined.snapshot.presentCount,
            your_score: joined.snapshot.you?.score ?? 0,
            username: joined.name,
            rejoined: joined.resumed,
          },
          m.message_id,
          at,
        ),
        // This join started the session (M-4): the joiner hears it too, as everyone does.
        ...(joined.started
          ? [this.startedFrame(handle.id, joined.snapshot.startedAt ?? at, at)]
          : []),
        // The board as of the join, so a (re)joining client need not wait for the next change. Not
        // kept for retries (100 entries a learner): a retried message_id gets today's board (refresh).
        { ...this.boardOf(snap, null, at), snapshot: true },
      ],
      retryable: false,
      binding: { sessionId: handle.id, participantId: joined.participantId, role: "player" },
    };
  }

  private async answer(conn: Conn, m: Message<"SUBMIT_ANSWER">): Promise<Reply> {
    const started = performance.now();
    const p = m.payload;
    const ctx: ErrorContext = { sessionId: p.session_id, questionId: p.question_id };
    const handle = this.requireJoined(conn, ctx);
    // Reconciled across instances in batches (never a round trip per answer: this path is hot).
    const limit = (this.deps.clusterLimiter ?? this.deps.limiter).takeSync(
      `${DOOR}:answer:${conn.state.userId}`,
      this.limits.answersPerSecond,
      1_000,
    );
    if (!limit.allowed) throw rateLimited("Too many answers", limit.retryAfterMs);
    // `time_taken_ms` was validated at the edge and goes no further: the server measures (S-5).
    const ack = await this.command(
      conn,
      handle,
      {
        type: "answer",
        target: { questionId: p.question_id },
        answer: { kind: "text", text: p.answer },
        // Seed 001 §4.3: a wrong answer scores 0; a text matching no option is a wrong answer.
        unmatchedText: "wrong",
      },
      ctx,
      this.dedupe(conn, m),
    );
    this.driver.metrics.answerAcked(started);
    // Only self-paced answers bring a batched board; one that scored nothing moves nobody.
    if (ack.points > 0 && conn.participantId !== null && handle.info.settings.mode === "self_paced")
      this.noteScored(handle.id, conn.participantId);
    return {
      frames: [
        this.outbound(
          "SCORE_UPDATED",
          {
            user_id: conn.state.publicId,
            new_score: ack.score,
            points_earned: ack.points,
            is_correct: ack.correct,
            question_id: ack.questionId,
            elapsed_ms: ack.elapsedMs,
          },
          m.message_id,
        ),
      ],
      retryable: false,
    };
  }

  private noteScored(sid: SessionId, pid: ParticipantId): void {
    let scored = this.scoredSinceBoard.get(sid);
    if (scored === undefined) {
      scored = new Set();
      this.scoredSinceBoard.set(sid, scored);
    }
    scored.add(pid);
  }

  private async leave(conn: Conn, m: Message<"LEAVE_SESSION">): Promise<Reply> {
    const ctx: ErrorContext = { sessionId: m.payload.session_id };
    const handle = this.requireJoined(conn, ctx);
    await this.command(conn, handle, { type: "leave" }, ctx, this.dedupe(conn, m));
    this.driver.detach(conn);
    return {
      frames: [this.outbound("SESSION_LEFT", { session_id: handle.id }, m.message_id)],
      retryable: false,
    };
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

  private requireJoined(conn: Conn, ctx: ErrorContext): RoomHandle {
    const group = conn.group;
    if (!group || group.handle.id !== ctx.sessionId || conn.participantId === null) {
      throw new SeedError("NOT_JOINED", seedMessage("NOT_JOINED", ctx) ?? "Not joined");
    }
    return group.handle;
  }

  /** Runs a command; a refusal is thrown in this dialect's words. */
  private async command<C extends Command>(
    conn: Conn,
    handle: RoomHandle,
    command: C,
    ctx: ErrorContext,
    opts?: ExecuteOptions,
  ) {
    const reply = await handle.execute(this.actor(conn), command, opts);
    if (!reply.ok) throw fromDomainError(reply.error, ctx);
    return reply.value;
  }

  /**
   * A message's identity, the local replay cache's key and the owner's dedupe key: what it
   * is about and who sent it, with its id. A retry matches, and an id reused for another session,
   * message type or question is a new request.
   */
  private messageKey(conn: Conn, m: ClientMessage, messageId: string): string {
    const about =
      m.type === "SUBMIT_ANSWER"
        ? `${m.payload.session_id}:${m.payload.question_id}`
        : "session_id" in m.payload
          ? m.payload.session_id
          : "";
    return messageKey(DOOR, conn.state.userId, m.type, about, messageId);
  }

  /**
   * Mutating commands carry the message_id to the session's owner, so a retry
   * that reaches the owner through another instance gets the first reply.
   */
  private dedupe(conn: Conn, m: ClientMessage): ExecuteOptions | undefined {
    const id = m.message_id;
    return id === undefined ? undefined : { dedupeKey: this.messageKey(conn, m, id) };
  }

  /** The connection's own view of the session, or null when the session refused. */
  private async snapshotOf(conn: Conn, handle: RoomHandle): Promise<Snapshot | null> {
    const reply = await handle.execute(this.actor(conn), {
      type: "snapshot",
      role: "player",
      top: LEADERBOARD_TOP,
    });
    return reply.ok ? reply.value : null;
  }

  // ------------------------------------------------------------------ frames

  private now(): number {
    return this.deps.clock.now();
  }

  private outbound<T extends ServerType>(
    type: T,
    payload: ServerPayload<T>,
    messageId: string | undefined,
    at = this.now(),
  ): Outbound {
    return { type, text: frame(type, payload, at, messageId) };
  }

  private startedFrame(sessionId: string, startedAt: number, at: number): Outbound {
    return {
      type: "SESSION_STARTED",
      text: frame("SESSION_STARTED", startedPayload(sessionId, startedAt), at),
    };
  }

  private boardOf(snap: Snapshot, messageId: string | null, at = this.now()): Outbound {
    const render = leaderboardFrame(
      snap.sessionId,
      snap.leaderboard,
      snap.playerCount,
      at,
      messageId,
    );
    return { type: "LEADERBOARD_UPDATED", text: render(snap.you?.rank ?? null) };
  }

  private errorFrame(messageId: string | null | undefined, error: SeedError): Outbound {
    const payload: ServerPayload<"ERROR"> = {
      code: error.code,
      message: error.message,
      recoverable: ERROR_CODES[error.code].recoverable,
    };
    if (error.retryAfterMs !== undefined) payload.retry_after_ms = error.retryAfterMs;
    this.driver.metrics.error(error.code);
    return { type: "ERROR", text: frame("ERROR", payload, this.now(), messageId) };
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
