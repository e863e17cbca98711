import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { asParticipantId, type ParticipantId, type SessionId } from "../../domain/ids.js";
import { type EventMark, ORIGIN } from "../../engine/event-order.js";
import type { RoomHandle } from "../../engine/room-handle.js";
import type { Actor, RoomEvent } from "../../engine/types.js";
import type { SessionService } from "../../services/session-service.js";
import type { WsDoor, WsDoorDeps } from "../door.js";
import type { Connection } from "../ws-kit/connection.js";
import {
  type Decoded,
  type Dialect,
  type EventFrame,
  eventFrame,
  type Handlers,
  type Reply,
  replyOf,
} from "../ws-kit/dialect.js";
import {
  type ConnectionLimits,
  DEFAULT_CONNECTION_LIMITS,
  type DoorDriver,
} from "../ws-kit/driver.js";
import { rejectUpgrade } from "../ws-kit/frames.js";
import type { RoomGroup } from "../ws-kit/room-groups.js";
import { runDialect } from "../ws-kit/run-dialect.js";
import type { DoorSocket, SocketEvents } from "../ws-kit/socket.js";
import type { Refusal } from "../ws-kit/upgrade.js";
import type { WsTransport } from "../ws-kit/ws-transport.js";
import { type BoardView, encodeBoard, readBoard, storedBoard, VIEWER } from "./board.js";
import { BoardFeed } from "./board-feed.js";
import {
  CLOSE_CODES,
  MAX_FRAME_BYTES,
  SEED002_DOOR,
  STREAM_ERRORS,
  STREAM_PATH,
  STREAMS_PER_PARTICIPANT,
  type StreamError,
} from "./protocol.js";
import { memberOf, type SessionState, sessionState } from "./queries.js";

/** The kit's connection limits; a client disconnected as too slow reconnects and gets a fresh snapshot. */
export type StreamLimits = ConnectionLimits;

/** The stream is read-only, so its client-frame budget is small. */
export const STREAM_LIMITS: StreamLimits = {
  ...DEFAULT_CONNECTION_LIMITS,
  messagesPerSecond: 5,
  messageBurst: 10,
  floodCloseAfter: 50,
  strikesPerMinute: 5,
  slowConsumerBytes: 1024 * 1024,
};

const QUIZ_ENDED = { code: CLOSE_CODES.quizEnded, reason: "quiz ended" } as const;
const READ_FAILED = { code: CLOSE_CODES.internalError, reason: "internal error" } as const;

/** Let in: to watch an open quiz, or to get the final board of one no longer open. */
export type StreamAdmission =
  | { ok: true; pid: ParticipantId; handle: RoomHandle }
  | { ok: true; pid: ParticipantId; handle: null; view: BoardView };

function refused(error: StreamError): Refusal {
  return { ok: false, ...error };
}

/** What a stream's client may send: nothing that is read. */
type StreamMessage = { type: "ignored" };

/** What the door keeps about a stream: the quiz it watches, once it watches one. */
interface Watcher {
  sessionId: SessionId | null;
}

type Conn = Connection<Watcher>;

/** How a stream ends right after its snapshot, if it does: the quiz is over, or could not be read. */
function closeAfterSnapshot(
  read: "board" | "gone" | "unavailable",
  state: SessionState,
): { code: number; reason: string } | null {
  // The owner out of reach is not the end of the quiz: the client reconnects and tries again.
  if (read === "unavailable" || state === "unavailable") return READ_FAILED;
  if (read === "gone" || state === "ended") return QUIZ_ENDED;
  return null;
}

/** The quiz id of a stream path, or null when the path does not name one. */
export function quizIdOfPath(path: string): string | null {
  const raw = STREAM_PATH.exec(path)?.[1];
  if (raw === undefined) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/** The board as a stream frame, the same bytes for every stream. */
function boardFrame(type: "snapshot" | "update", frame: Buffer): EventFrame {
  return eventFrame(type, { shared: frame, latestOnly: true, coalescible: type === "update" });
}

export type StreamDoorDeps = Omit<
  WsDoorDeps,
  "sessions" | "identity" | "sharedLimiter" | "replay"
> & {
  sessions: Pick<SessionService, "find" | "load">;
};

/**
 * Seed 002's leaderboard stream (`GET /quizzes/{quizId}/ws?participant_id=…`):
 * checks the quiz and the participant before the upgrade, sends the board on
 * connect and whenever the quiz's BoardFeed says so. A read-only dialect on
 * the door driver: it never changes a room, and a stream is not its
 * participant's presence.
 */
export class LeaderboardStreamDoor implements WsDoor, Dialect<Watcher, StreamMessage> {
  readonly name = SEED002_DOOR;
  readonly endpoint = "/quizzes/:quizId/ws";
  readonly ordered = false;
  /** A stream is bound when it opens, never by a message. */
  readonly binding: ReadonlySet<StreamMessage["type"]> = new Set();
  readonly closeCodes = { ...CLOSE_CODES, kicked: CLOSE_CODES.removed };
  readonly kickedReason = "removed from the quiz";
  private readonly limits: StreamLimits;
  private readonly driver: DoorDriver<Watcher, StreamMessage>;
  private readonly transport: WsTransport;
  private readonly feeds = new Map<SessionId, BoardFeed>();

  constructor(
    private readonly deps: StreamDoorDeps,
    limits: Partial<StreamLimits> = {},
  ) {
    this.limits = { ...STREAM_LIMITS, ...limits };
    ({ driver: this.driver, transport: this.transport } = runDialect(this, {
      ...deps,
      limits: this.limits,
      failure: "seed 002 stream: admission failed",
      refuse: (socket, refusal) => {
        if (refusal.code) this.driver.metrics.error(refusal.code);
        rejectUpgrade(socket, refusal.status, refusal.message);
      },
    }));
  }

  get connectionCount(): number {
    return this.driver.connectionCount;
  }

  matches(path: string): boolean {
    return STREAM_PATH.test(path);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const [path = "/", query = ""] = (req.url ?? "/").split("?", 2);
    const quizId = quizIdOfPath(path);
    this.transport.accept(req, socket, head, {
      admit: (): StreamAdmission | Refusal | Promise<StreamAdmission | Refusal> => {
        const participant = new URLSearchParams(query).get("participant_id");
        if (!participant) return refused(STREAM_ERRORS.missingParticipant);
        if (quizId === null || quizId.length > 64) return refused(STREAM_ERRORS.quizNotFound);
        return this.admit(quizId, asParticipantId(participant));
      },
      // The door's own cap, checked with the handshake so two upgrades in flight cannot both pass.
      recheck: (a) => {
        const open = a.handle ? (this.driver.groupOf(a.handle.id)?.of(a.pid)?.size ?? 0) : 0;
        return open >= STREAMS_PER_PARTICIPANT ? refused(STREAM_ERRORS.tooManyStreams) : null;
      },
      open: (socket, a) => this.open(socket, a),
      context: { quizId },
    });
  }

  /** Closes every connection (1001) so clients reconnect elsewhere. */
  shutdown(): void {
    for (const feed of this.feeds.values()) feed.dispose();
    this.feeds.clear();
    this.transport.stop();
    this.driver.shutdown();
  }

  /**
   * An admitted stream's socket is open (any transport, or a test's fake): it
   * watches the quiz, or gets the final board of one no longer open and closes.
   */
  open(socket: DoorSocket, a: StreamAdmission): SocketEvents {
    const conn = this.driver.connect(socket, { sessionId: a.handle?.id ?? null });
    if (a.handle) {
      this.watch(conn, a.handle, a.pid).catch((err: unknown) => {
        this.deps.log.error({ err, quizId: a.handle?.id }, "seed 002 stream: snapshot failed");
        this.driver.release(conn);
        this.driver.close(conn, READ_FAILED.code, READ_FAILED.reason);
      });
    } else {
      const board = encodeBoard(a.view, this.deps.clock.now());
      this.driver.send(conn, { type: "snapshot", text: board.frame.toString("utf8") });
      this.driver.close(conn, QUIZ_ENDED.code, QUIZ_ENDED.reason);
    }
    return this.driver.eventsOf(conn);
  }

  // ------------------------------------------------------------------ admission

  /**
   * The seed's checks, in its order: quiz, then participant (the door's own
   * stream cap follows, at the handshake). A quiz no instance has open has
   * ended: its stored board.
   */
  private async admit(quizId: string, pid: ParticipantId): Promise<StreamAdmission | Refusal> {
    const handle = await this.deps.sessions.find(quizId);
    const member = handle ? await memberOf(handle, pid) : ({ kind: "gone" } as const);
    if (!handle || member.kind === "gone") {
      const bundle = await this.deps.sessions.load(quizId);
      if (!bundle) return refused(STREAM_ERRORS.quizNotFound);
      if (!bundle.participants.some((p) => p.id === pid && p.status !== "kicked")) {
        return refused(STREAM_ERRORS.notInQuiz);
      }
      return { ok: true, pid, handle: null, view: storedBoard(bundle) };
    }
    if (member.kind === "unavailable") return refused(STREAM_ERRORS.unavailable);
    if (member.kind === "none") return refused(STREAM_ERRORS.notInQuiz);
    return { ok: true, pid, handle };
  }

  // ------------------------------------------------------------------ watching

  /**
   * Joins the quiz's group first and reads the board right after, so no change
   * falls in between; updates that arrive before the snapshot is out are held
   * and follow it if they are newer.
   */
  private async watch(conn: Conn, handle: RoomHandle, pid: ParticipantId): Promise<void> {
    if (!this.driver.attach(conn, handle, "spectator", { presence: false })) return;
    await this.driver.settle(conn, pid, "spectator", ORIGIN);
    const feed = this.feedOf(handle);
    const [read, state] = await Promise.all([readBoard(handle), sessionState(handle)]);
    if (read.kind === "board") {
      const snapshot = encodeBoard(read.view, this.deps.clock.now());
      feed.noteSnapshot(snapshot.key);
      this.driver.sendState(
        conn,
        { type: "snapshot", text: snapshot.frame.toString("utf8") },
        read.view.mark,
      );
    }
    const close = closeAfterSnapshot(read.kind, state);
    if (close) this.driver.close(conn, close.code, close.reason, true);
    this.driver.release(conn);
  }

  /** The quiz's feed, started with its first stream and stopped with its last. */
  private feedOf(handle: RoomHandle): BoardFeed {
    const known = this.feeds.get(handle.id);
    if (known) return known;
    const feed = new BoardFeed(handle, this.deps.clock, {
      board: (frame, mark) => this.publish(handle.id, frame, mark),
      ended: () => this.closeAll(handle.id, QUIZ_ENDED),
      lost: () => this.closeAll(handle.id, READ_FAILED),
    });
    this.feeds.set(handle.id, feed);
    return feed;
  }

  /** One board, serialized once, to every stream of the quiz. */
  private publish(sessionId: SessionId, frame: Buffer, mark: EventMark): void {
    const group = this.driver.groupOf(sessionId);
    if (group) this.driver.broadcast(group, [boardFrame("update", frame)], mark);
  }

  private closeAll(sessionId: SessionId, how: { code: number; reason: string }): void {
    const group = this.driver.groupOf(sessionId);
    if (!group) return;
    for (const c of [...group.conns]) this.driver.close(c, how.code, how.reason, true);
  }

  // ------------------------------------------------------------------ the dialect

  /**
   * The stream is read-only: client frames are not read, only counted. Binary
   * or oversized frames are strikes (answered with nothing); floods and
   * repeated strikes close it.
   */
  decode(data: Buffer, isBinary: boolean): Decoded<StreamMessage> {
    if (!isBinary && data.length <= MAX_FRAME_BYTES) return { ok: true, message: IGNORED };
    this.driver.metrics.error("VALIDATION");
    return { ok: false, error: null };
  }

  readonly handlers: Handlers<Watcher, StreamMessage> = { ignored: async () => replyOf() };

  replayKey(): null {
    return null;
  }

  refusal(): null {
    return null;
  }

  internalError(): Reply {
    return replyOf();
  }

  /** Over the limit a stream's frames are dropped unanswered, as every other frame of its client. */
  rateLimited(): null {
    return null;
  }

  actor(): Actor {
    return VIEWER;
  }

  /** Room events reach a stream only through its quiz's BoardFeed (observe). */
  encodeEvent(): readonly EventFrame[] {
    return [];
  }

  observe(group: RoomGroup<Conn>, event: RoomEvent): void {
    this.feeds.get(group.handle.id)?.onEvent(event);
    const b = event.body;
    // Removed participants' streams close (4003), as when the driver sees their `kicked` event.
    if (b.type === "participant_left" && b.reason === "kicked") {
      for (const c of [...(group.of(b.participantId) ?? [])]) {
        this.driver.close(c, CLOSE_CODES.removed, this.kickedReason, true);
      }
    }
  }

  /** Events may have been missed: the board as it is now, and the streams of removed participants close. */
  resync(group: RoomGroup<Conn>): void {
    this.feeds.get(group.handle.id)?.resync();
    this.closeRemoved(group).catch((err: unknown) =>
      this.deps.log.error({ err, quizId: group.handle.id }, "seed 002 stream: resync failed"),
    );
  }

  async refresh(): Promise<void> {}

  closed(conn: Conn): void {
    const id = conn.state.sessionId;
    if (id === null || this.driver.groupOf(id)) return;
    this.feeds.get(id)?.dispose();
    this.feeds.delete(id);
  }

  private async closeRemoved(group: RoomGroup<Conn>): Promise<void> {
    const watched = [...group.byParticipant.keys()];
    const members = await Promise.all(watched.map((pid) => memberOf(group.handle, pid)));
    watched.forEach((pid, i) => {
      if (members[i]?.kind !== "none") return;
      for (const c of [...(group.of(pid) ?? [])]) {
        this.driver.close(c, CLOSE_CODES.removed, this.kickedReason, true);
      }
    });
  }
}

const IGNORED: StreamMessage = { type: "ignored" };
