import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { RawData, WebSocket, WebSocketServer } from "ws";
import { asParticipantId, type ParticipantId, type SessionId } from "../../domain/ids.js";
import type { RoomHandle } from "../../engine/room-handle.js";
import type { RoomEvent } from "../../engine/types.js";
import type { SessionService } from "../../services/session-service.js";
import type { DoorDeps, WsDoor } from "../door.js";
import { createWsServer, frameBytes, originAllowed, rejectUpgrade } from "../ws-kit/frames.js";
import { Heartbeat } from "../ws-kit/heartbeat.js";
import { type GuardLimits, InboundGuard } from "../ws-kit/inbound-guard.js";
import { type RoomGroup, RoomGroups } from "../ws-kit/room-groups.js";
import { type BoardRead, type BoardView, encodeBoard, readBoard, storedBoard } from "./board.js";
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

export interface StreamLimits extends GuardLimits {
  /** Frames beyond this are not even read: ws closes with 1009. */
  hardMaxFrameBytes: number;
  heartbeatMs: number;
  /** A client this far behind is disconnected; it reconnects and gets a fresh snapshot. */
  slowConsumerBytes: number;
}

/** The stream is read-only, so its client-frame budget is small. */
export const STREAM_LIMITS: StreamLimits = {
  messagesPerSecond: 5,
  messageBurst: 10,
  floodCloseAfter: 50,
  strikesPerMinute: 5,
  hardMaxFrameBytes: 64 * 1024,
  heartbeatMs: 30_000,
  slowConsumerBytes: 1024 * 1024,
};

const QUIZ_ENDED = { code: CLOSE_CODES.quizEnded, reason: "quiz ended" } as const;
const READ_FAILED = { code: CLOSE_CODES.internalError, reason: "internal error" } as const;

/** One stream connection: a participant watching one quiz's leaderboard. */
class StreamConn {
  group: RoomGroup<StreamConn> | null = null;
  closed = false;
  /** False until the snapshot is out; what arrives meanwhile waits (only the newest board matters). */
  ready = true;
  heldBoard: { frame: Buffer; seq: number } | null = null;
  heldClose: { code: number; reason: string } | null = null;

  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    public participantId: ParticipantId | null,
    readonly guard: InboundGuard,
  ) {}
}

/** How a stream ends right after its snapshot, if it does: the quiz is over, or could not be read. */
function closeAfterSnapshot(
  read: BoardRead["kind"],
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

/**
 * Seed 002's leaderboard stream (`GET /quizzes/{quizId}/ws?participant_id=…`):
 * checks the quiz and the participant before the upgrade, sends the board on
 * connect and whenever the quiz's BoardFeed says so. It never changes a room.
 */
export class Seed002Stream implements WsDoor {
  readonly name = SEED002_DOOR;
  private readonly wss: WebSocketServer;
  private readonly limits: StreamLimits;
  private readonly conns = new Set<StreamConn>();
  private readonly groups = new RoomGroups<StreamConn>(
    (g, e) => this.onEvent(g, e),
    (g) => this.onResync(g),
  );
  private readonly feeds = new Map<SessionId, { group: RoomGroup<StreamConn>; feed: BoardFeed }>();
  private readonly heartbeat: Heartbeat;
  private nextConnId = 1;

  constructor(
    private readonly deps: Pick<DoorDeps, "config" | "clock" | "metrics" | "log" | "limiter"> & {
      sessions: Pick<SessionService, "find" | "load">;
    },
    limits: Partial<StreamLimits> = {},
  ) {
    this.limits = { ...STREAM_LIMITS, ...limits };
    this.wss = createWsServer(this.limits.hardMaxFrameBytes);
    this.heartbeat = new Heartbeat(this.limits.heartbeatMs, (ws) => {
      ws.close(CLOSE_CODES.heartbeatTimeout, "no pong");
      ws.terminate();
    });
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  matches(path: string): boolean {
    return STREAM_PATH.test(path);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!originAllowed(req.headers.origin, this.deps.config.allowedOrigins)) {
      this.refuse(socket, STREAM_ERRORS.originNotAllowed);
      return;
    }
    const [path = "/", query = ""] = (req.url ?? "/").split("?", 2);
    const participant = new URLSearchParams(query).get("participant_id");
    if (!participant) {
      this.refuse(socket, STREAM_ERRORS.missingParticipant);
      return;
    }
    const quizId = quizIdOfPath(path);
    if (quizId === null || quizId.length > 64) {
      this.refuse(socket, STREAM_ERRORS.quizNotFound);
      return;
    }
    // While the session is asked, nobody else listens on the raw socket: a reset must not crash us.
    const onError = () => socket.destroy();
    socket.on("error", onError);
    this.admit(req, socket, head, quizId, asParticipantId(participant))
      .catch((err: unknown) => {
        this.deps.log.error({ err, quizId }, "seed 002 stream: admission failed");
        this.refuse(socket, STREAM_ERRORS.internal);
      })
      .finally(() => socket.off("error", onError));
  }

  /** Closes every connection (1001) so clients reconnect elsewhere. */
  shutdown(): void {
    this.heartbeat.stop();
    for (const { feed } of this.feeds.values()) feed.dispose();
    for (const c of this.conns) c.ws.close(CLOSE_CODES.goingAway, "server shutting down");
  }

  // ------------------------------------------------------------------ admission

  /** The seed's checks, in its order: quiz, then participant; then the door's own stream cap. */
  private async admit(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    quizId: string,
    pid: ParticipantId,
  ): Promise<void> {
    const handle = await this.deps.sessions.find(quizId);
    const member = handle ? await memberOf(handle, pid) : ({ kind: "gone" } as const);
    if (socket.destroyed) return;
    if (!handle || member.kind === "gone") {
      await this.admitStored(req, socket, head, quizId, pid);
      return;
    }
    if (member.kind === "unavailable") {
      this.refuse(socket, STREAM_ERRORS.unavailable);
      return;
    }
    if (member.kind === "none") {
      this.refuse(socket, STREAM_ERRORS.notInQuiz);
      return;
    }
    const open = this.feeds.get(handle.id)?.group.of(pid)?.size ?? 0;
    if (open >= STREAMS_PER_PARTICIPANT) {
      this.refuse(socket, STREAM_ERRORS.tooManyStreams);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.watch(ws, handle, pid).catch((err: unknown) => {
        this.deps.log.error({ err, quizId }, "seed 002 stream: snapshot failed");
        ws.close(CLOSE_CODES.internalError, "internal error");
      });
    });
  }

  /** A quiz no longer open in memory has ended: its final board, then a normal close. */
  private async admitStored(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    quizId: string,
    pid: ParticipantId,
  ): Promise<void> {
    const bundle = await this.deps.sessions.load(quizId);
    if (socket.destroyed) return;
    if (!bundle) {
      this.refuse(socket, STREAM_ERRORS.quizNotFound);
      return;
    }
    if (!bundle.participants.some((p) => p.id === pid && p.status !== "kicked")) {
      this.refuse(socket, STREAM_ERRORS.notInQuiz);
      return;
    }
    const view: BoardView = storedBoard(bundle);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = this.open(ws, pid);
      this.send(conn, encodeBoard(view, this.deps.clock.now()).frame, "snapshot");
      ws.close(CLOSE_CODES.quizEnded, "quiz ended");
    });
  }

  private refuse(socket: Duplex, error: StreamError): void {
    this.deps.metrics.errors.inc({ door: SEED002_DOOR, code: error.code });
    rejectUpgrade(socket, error.status, error.message);
  }

  // ------------------------------------------------------------------ connections

  private open(ws: WebSocket, pid: ParticipantId): StreamConn {
    const id = this.nextConnId++;
    const guard = new InboundGuard(this.deps.limiter, this.limits, `${SEED002_DOOR}:${id}`);
    const conn = new StreamConn(id, ws, pid, guard);
    this.conns.add(conn);
    this.heartbeat.add(ws);
    this.deps.metrics.connections.inc({ door: SEED002_DOOR });
    ws.on("message", (data, isBinary) => this.onMessage(conn, data, isBinary));
    ws.on("close", () => this.onClose(conn));
    ws.on("error", (err) => this.deps.log.debug({ err, conn: id }, "seed 002 stream socket error"));
    return conn;
  }

  /**
   * Subscribes first and reads the board right after, so no change falls in
   * between; updates that arrive before the snapshot is out are held and
   * follow it.
   */
  private async watch(ws: WebSocket, handle: RoomHandle, pid: ParticipantId): Promise<void> {
    const conn = this.open(ws, pid);
    conn.ready = false;
    const group = this.groups.add(handle, conn);
    conn.group = group;
    let entry = this.feeds.get(handle.id);
    if (!entry) {
      const feed = new BoardFeed(handle, this.deps.clock, {
        board: (frame, seq) => this.broadcast(group, frame, seq),
        ended: () => {
          for (const c of [...group.conns]) this.close(c, QUIZ_ENDED.code, QUIZ_ENDED.reason);
        },
        lost: () => {
          for (const c of [...group.conns]) this.close(c, READ_FAILED.code, READ_FAILED.reason);
        },
      });
      entry = { group, feed };
      this.feeds.set(handle.id, entry);
    }
    const [read, state] = await Promise.all([readBoard(handle), sessionState(handle)]);
    const view = read.kind === "board" ? read.view : null;
    if (view) {
      const snapshot = encodeBoard(view, this.deps.clock.now());
      entry.feed.noteSnapshot(snapshot.key);
      this.send(conn, snapshot.frame, "snapshot");
    }
    conn.ready = true;
    // A held update read before the snapshot is older than it: only a newer one follows it.
    const held = conn.heldBoard;
    conn.heldBoard = null;
    if (held && held.seq > (view?.seq ?? 0)) this.send(conn, held.frame, "update");
    const close = conn.heldClose ?? closeAfterSnapshot(read.kind, state);
    if (close) this.close(conn, close.code, close.reason);
  }

  private onClose(conn: StreamConn): void {
    if (conn.closed) return;
    conn.closed = true;
    this.conns.delete(conn);
    this.heartbeat.remove(conn.ws);
    this.deps.metrics.connections.dec({ door: SEED002_DOOR });
    this.detach(conn);
  }

  /** Leaves the quiz's group; the last one out stops the quiz's feed. */
  private detach(conn: StreamConn): void {
    const group = conn.group;
    if (!group) return;
    conn.group = null;
    this.groups.remove(group, conn);
    const entry = this.feeds.get(group.handle.id);
    if (group.conns.size === 0 && entry?.group === group) {
      entry.feed.dispose();
      this.feeds.delete(group.handle.id);
    }
  }

  /** Closes a stream; one still waiting for its snapshot closes right after it. */
  private close(conn: StreamConn, code: number, reason: string): void {
    if (!conn.ready) {
      conn.heldClose ??= { code, reason };
      return;
    }
    this.detach(conn);
    conn.ws.close(code, reason);
  }

  /**
   * The stream is read-only: client frames are not read, only counted. Binary
   * or oversized frames are strikes; floods and repeated strikes close it.
   */
  private onMessage(conn: StreamConn, data: RawData, isBinary: boolean): void {
    const verdict = conn.guard.admit();
    if (!verdict.ok) {
      if (verdict.close) this.close(conn, CLOSE_CODES.rateLimited, "too many messages");
      return;
    }
    this.deps.metrics.messagesIn.inc({ door: SEED002_DOOR, type: "ignored" });
    if (!isBinary && frameBytes(data) <= MAX_FRAME_BYTES) return;
    this.deps.metrics.errors.inc({ door: SEED002_DOOR, code: "VALIDATION" });
    if (conn.guard.strike()) {
      this.close(conn, CLOSE_CODES.protocolViolations, "too many invalid messages");
    }
  }

  // ------------------------------------------------------------------ outbound

  private onEvent(group: RoomGroup<StreamConn>, event: RoomEvent): void {
    this.feeds.get(group.handle.id)?.feed.onEvent(event);
    const b = event.body;
    if (b.type === "participant_left" && b.reason === "kicked") {
      for (const c of [...(group.of(b.participantId) ?? [])]) {
        this.close(c, CLOSE_CODES.removed, "removed from the quiz");
      }
    }
  }

  /**
   * Events may have been missed (lost between instances, a new owner): the
   * feed sends the board as it is now (or the end, if the quiz ended
   * meanwhile), and the streams of participants removed meanwhile close.
   */
  private onResync(group: RoomGroup<StreamConn>): void {
    const entry = this.feeds.get(group.handle.id);
    if (entry?.group === group) entry.feed.resync();
    this.closeRemoved(group).catch((err: unknown) =>
      this.deps.log.error({ err, quizId: group.handle.id }, "seed 002 stream: resync failed"),
    );
  }

  private async closeRemoved(group: RoomGroup<StreamConn>): Promise<void> {
    const watched = [...group.byParticipant.keys()];
    const members = await Promise.all(watched.map((pid) => memberOf(group.handle, pid)));
    watched.forEach((pid, i) => {
      if (members[i]?.kind !== "none") return;
      for (const c of [...(group.of(pid) ?? [])]) {
        this.close(c, CLOSE_CODES.removed, "removed from the quiz");
      }
    });
  }

  /** One frame, serialized once, to every stream of the quiz. */
  private broadcast(group: RoomGroup<StreamConn>, frame: Buffer, seq: number): void {
    let sent = 0;
    for (const c of [...group.conns]) {
      if (c.closed || c.ws.readyState !== c.ws.OPEN) continue;
      if (!c.ready) {
        c.heldBoard = { frame, seq };
        continue;
      }
      if (c.ws.bufferedAmount > this.limits.slowConsumerBytes) {
        this.close(c, CLOSE_CODES.rateLimited, "client too slow to keep up; reconnect");
        continue;
      }
      c.ws.send(frame, { binary: false });
      sent += 1;
    }
    if (sent > 0) this.deps.metrics.messagesOut.inc({ door: SEED002_DOOR, type: "update" }, sent);
  }

  private send(conn: StreamConn, frame: Buffer, type: string): void {
    if (conn.closed || conn.ws.readyState !== conn.ws.OPEN) return;
    conn.ws.send(frame, { binary: false });
    this.deps.metrics.messagesOut.inc({ door: SEED002_DOOR, type });
  }
}
