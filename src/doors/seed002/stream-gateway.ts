import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { RawData, WebSocket } from "ws";
import { asParticipantId, type ParticipantId, type SessionId } from "../../domain/ids.js";
import type { RoomHandle } from "../../engine/room-handle.js";
import type { RoomEvent } from "../../engine/types.js";
import type { SessionService } from "../../services/session-service.js";
import type { DoorDeps, WsDoor } from "../door.js";
import {
  type ConnectionLimits,
  ConnectionRegistry,
  DEFAULT_CONNECTION_LIMITS,
} from "../ws-kit/connections.js";
import { DoorMetrics } from "../ws-kit/door-metrics.js";
import { frameBytes, rejectUpgrade } from "../ws-kit/frames.js";
import type { InboundGuard } from "../ws-kit/inbound-guard.js";
import { type RoomGroup, RoomGroups } from "../ws-kit/room-groups.js";
import { type Refusal, UpgradeGate } from "../ws-kit/upgrade.js";
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
type StreamAdmission =
  | { ok: true; pid: ParticipantId; handle: RoomHandle }
  | { ok: true; pid: ParticipantId; handle: null; view: BoardView }
  | Refusal;

function refused(error: StreamError): Refusal {
  return { ok: false, ...error };
}

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
  private readonly limits: StreamLimits;
  private readonly count: DoorMetrics;
  private readonly gate: UpgradeGate;
  private readonly conns: ConnectionRegistry<StreamConn>;
  private readonly groups = new RoomGroups<StreamConn>(
    (g, e) => this.onEvent(g, e),
    (g) => this.onResync(g),
  );
  private readonly feeds = new Map<SessionId, { group: RoomGroup<StreamConn>; feed: BoardFeed }>();

  constructor(
    private readonly deps: Pick<DoorDeps, "config" | "clock" | "metrics" | "log" | "limiter"> & {
      sessions: Pick<SessionService, "find" | "load">;
    },
    limits: Partial<StreamLimits> = {},
  ) {
    this.limits = { ...STREAM_LIMITS, ...limits };
    this.count = new DoorMetrics(deps.metrics, SEED002_DOOR);
    this.gate = new UpgradeGate({
      maxPayload: this.limits.hardMaxFrameBytes,
      allowedOrigins: deps.config.allowedOrigins,
      log: deps.log,
      failure: "seed 002 stream: admission failed",
      refuse: (socket, refusal) => {
        if (refusal.code) this.count.error(refusal.code);
        rejectUpgrade(socket, refusal.status, refusal.message);
      },
    });
    this.conns = new ConnectionRegistry<StreamConn>({
      metrics: this.count,
      limiter: deps.limiter,
      limits: this.limits,
      closeCodes: CLOSE_CODES,
      log: deps.log,
      onMessage: (conn, data, isBinary) => this.onMessage(conn, data, isBinary),
      onClose: (conn) => this.detach(conn),
      close: (conn, code, reason) => this.close(conn, code, reason),
      socketError: "seed 002 stream socket error",
    });
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  matches(path: string): boolean {
    return STREAM_PATH.test(path);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const [path = "/", query = ""] = (req.url ?? "/").split("?", 2);
    const quizId = quizIdOfPath(path);
    this.gate.accept(req, socket, head, {
      admit: (): StreamAdmission | Promise<StreamAdmission> => {
        const participant = new URLSearchParams(query).get("participant_id");
        if (!participant) return refused(STREAM_ERRORS.missingParticipant);
        if (quizId === null || quizId.length > 64) return refused(STREAM_ERRORS.quizNotFound);
        return this.admit(quizId, asParticipantId(participant));
      },
      // The door's own cap, checked with the handshake so two upgrades in flight cannot both pass.
      recheck: (a) => {
        const open = a.handle ? (this.feeds.get(a.handle.id)?.group.of(a.pid)?.size ?? 0) : 0;
        return open >= STREAMS_PER_PARTICIPANT ? refused(STREAM_ERRORS.tooManyStreams) : null;
      },
      open: (ws, a) => {
        if (a.handle) {
          this.watch(ws, a.handle, a.pid).catch((err: unknown) => {
            this.deps.log.error({ err, quizId }, "seed 002 stream: snapshot failed");
            ws.close(CLOSE_CODES.internalError, "internal error");
          });
          return;
        }
        // A quiz no longer open in memory has ended: its final board, then a normal close.
        const conn = this.open(ws, a.pid);
        this.send(conn, encodeBoard(a.view, this.deps.clock.now()).frame, "snapshot");
        ws.close(CLOSE_CODES.quizEnded, "quiz ended");
      },
      context: { quizId },
    });
  }

  /** Closes every connection (1001) so clients reconnect elsewhere. */
  shutdown(): void {
    for (const { feed } of this.feeds.values()) feed.dispose();
    // Straight to the socket: a stream still waiting for its snapshot must not wait to close.
    this.conns.shutdown((c, code, reason) => c.ws.close(code, reason));
  }

  // ------------------------------------------------------------------ admission

  /**
   * The seed's checks, in its order: quiz, then participant (the door's own
   * stream cap follows, at the handshake). A quiz no instance has open has
   * ended: its stored board.
   */
  private async admit(quizId: string, pid: ParticipantId): Promise<StreamAdmission> {
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

  // ------------------------------------------------------------------ connections

  private open(ws: WebSocket, pid: ParticipantId): StreamConn {
    return this.conns.open(ws, (id, guard) => new StreamConn(id, ws, pid, guard));
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
    if (!this.conns.admit(conn)) return;
    this.count.received("ignored");
    if (!isBinary && frameBytes(data) <= MAX_FRAME_BYTES) return;
    this.count.error("VALIDATION");
    this.conns.strike(conn);
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
      if (this.conns.pressure(c) !== "send") continue;
      c.ws.send(frame, { binary: false });
      sent += 1;
    }
    if (sent > 0) this.count.sent("update", sent);
  }

  private send(conn: StreamConn, frame: Buffer, type: string): void {
    this.conns.send(conn, frame, type);
  }
}
