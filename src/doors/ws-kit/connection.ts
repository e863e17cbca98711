import type { ParticipantId } from "../../domain/ids.js";
import { type EventMark, ORIGIN } from "../../engine/event-order.js";
import type { RoomEvent, ViewerRole } from "../../engine/types.js";
import type { EventFrame } from "./dialect.js";
import type { InboundGuard } from "./inbound-guard.js";
import type { RoomGroup } from "./room-groups.js";
import type { DoorSocket } from "./socket.js";

/** Frames that reached a connection before its reply did: sent after it, unless already in it. */
export interface Held {
  mark: EventMark;
  frames: readonly EventFrame[];
  /** The event they came from; null for frames a dialect made itself. */
  event: RoomEvent | null;
}

/**
 * One client connection as the driver keeps it: its socket, the room it is
 * bound to and as whom, and `state`, what its dialect keeps about it (its
 * identity, say). The driver changes everything but `state`.
 */
export class Connection<S> {
  group: RoomGroup<Connection<S>> | null = null;
  participantId: ParticipantId | null = null;
  role: ViewerRole | null = null;
  /**
   * False from the moment a join binds the connection until its reply is out:
   * room events are held meanwhile, so none is missed or sent before the reply.
   */
  ready = true;
  /** Whether this connection counts as its participant being here (a read-only stream does not). */
  countsPresence = true;
  /** Bound and held, but not yet told who it is (settle): undone if the handler fails. */
  attaching = false;
  held: Held[] = [];
  /** What the connection already has (its reply's snapshot): events at or before it are not sent. */
  mark: EventMark = ORIGIN;
  /** The newest `latestOnly` frame of each type sent, so an older one never follows it. */
  latestSent: Map<string, EventMark> | null = null;
  closed = false;
  /** A close asked for while the reply was still out: done right after it. */
  pendingClose: { code: number; reason: string } | null = null;
  /** The tail of this connection's message queue (ordered dialects). */
  queue: Promise<void> = Promise.resolve();

  /** `performance.now()` when the connection opened (websocket_connection_duration_seconds). */
  readonly openedMs = performance.now();

  constructor(
    readonly id: number,
    readonly socket: DoorSocket,
    readonly guard: InboundGuard,
    public state: S,
  ) {}
}
