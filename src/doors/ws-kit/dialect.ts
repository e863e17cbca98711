import type { ParticipantId, SessionId } from "../../domain/ids.js";
import type { SessionInfo } from "../../engine/room-handle.js";
import type { Actor, RoomEvent, ViewerRole } from "../../engine/types.js";
import type { KitCloseCodes } from "./close-codes.js";
import type { Connection } from "./connection.js";
import type { RoomGroup } from "./room-groups.js";

/**
 * What a WebSocket dialect supplies to the door driver (driver.ts): its
 * message mapping and nothing else. The driver owns the pipeline every door
 * needs — connection lifecycle, decoding errors and strikes, the replay
 * window, events held around replies, delivery to a room's connections,
 * backpressure and metrics — so a door file is a translation (STYLE.md §16).
 */

/** One frame to send, with the message type it is counted under in metrics. */
export interface Outbound {
  type: string;
  text: string;
  /**
   * A picture of the room as of the reply (a `state` snapshot): not kept for
   * retries, where it would be stale and, at a kilobyte or more per player,
   * most of the replay cache; a replay sends a fresh one (`Dialect.refresh`).
   */
  snapshot?: boolean;
}

/** Where a reply left the connection, so a retry on another connection is bound there too. */
export interface Binding {
  sessionId: SessionId;
  participantId: ParticipantId | null;
  role: ViewerRole;
}

/** What a handler answers one client message with. */
export interface Reply {
  frames: Outbound[];
  /**
   * A recoverable refusal (the client should retry): not remembered, so a
   * retry with the same message id really runs again.
   */
  retryable: boolean;
  binding?: Binding;
  /** Remembered without its snapshot: a replay sends a fresh one after the remembered frames. */
  refresh?: boolean;
}

/** What is kept of a reply for retries: its frames but a snapshot, which a replay makes afresh. */
export function rememberedForm(reply: Reply): Reply {
  if (!reply.frames.some((f) => f.snapshot)) return reply;
  return {
    ...reply,
    frames: reply.frames.filter((f) => !f.snapshot),
    refresh: true,
  };
}

/** A reply of frames that is remembered for retries. */
export function replyOf(...frames: Outbound[]): Reply {
  return { frames, retryable: false };
}

/**
 * An event's frames under `key`, encoded by `encode` the first time and kept on the event
 * (`RoomEvent.encoded`), so every connection, door path and later send reuses them.
 */
export function framesOnce(
  event: RoomEvent,
  key: string,
  encode: () => readonly EventFrame[],
): readonly EventFrame[] {
  const cached = event.encoded.get(key) as readonly EventFrame[] | undefined;
  if (cached !== undefined) return cached;
  const frames = encode();
  event.encoded.set(key, frames);
  return frames;
}

/**
 * A room event as a dialect sends it: zero or more of these per event, encoded
 * once per event and dialect (STYLE.md §13) and cached on the event (`framesOnce`).
 */
export interface EventFrame {
  type: string;
  /** The same bytes for every recipient; null when the frame exists only per recipient. */
  shared: Buffer | null;
  /**
   * The frame for a player with their own part in it (a reveal's result, a
   * rank): made whole per player, or spliced (only the player's part is made
   * per player; the bytes around it are shared).
   */
  personal: ((participantId: ParticipantId) => string) | SplicedFrame | null;
  /** Which roles receive it; null: every role. */
  roles: ReadonlySet<ViewerRole> | null;
  /** A newer frame of the same kind replaces it, so a client that is behind may skip it. */
  coalescible: boolean;
  /** The participant it announces: their own connections do not get it. */
  about: ParticipantId | null;
  /** Never sent after a newer one of its type reached the connection (boards from snapshots and events). */
  latestOnly: boolean;
  /** News a screen may get a few milliseconds late, in one write with more (`DoorSocket.send`). */
  mayWait: boolean;
}

/**
 * A frame every player gets the same but for one member: `before`, the
 * player's own `part`, then `after`. A reveal to ten thousand players then
 * makes ten thousand small parts, not ten thousand copies of the whole board.
 * A part is text, or bytes (UTF-8) when the dialect made every player's part
 * in one buffer at once: those are copied where the frame is written, with no
 * string to measure or encode per player.
 */
export interface SplicedFrame {
  before: Buffer;
  part: (participantId: ParticipantId) => string | Buffer;
  after: Buffer;
}

const NO_FRAME_OPTIONS = {
  shared: null,
  personal: null,
  roles: null,
  coalescible: false,
  about: null,
  latestOnly: false,
  mayWait: false,
} as const;

/** An event frame with the defaults filled in: no bytes yet, every role, in order, never skipped. */
export function eventFrame(type: string, parts: Partial<Omit<EventFrame, "type">>): EventFrame {
  return { ...NO_FRAME_OPTIONS, ...parts, type };
}

/** The same frame for everyone. */
export function sharedFrame(
  type: string,
  text: string,
  parts: Partial<Omit<EventFrame, "type" | "shared" | "personal">> = {},
): EventFrame {
  return eventFrame(type, { ...parts, shared: Buffer.from(text), personal: null });
}

/**
 * A message decoded at the edge, or the error frame that answers it (null: the
 * dialect answers nothing, as a read-only stream). Either failure is a strike.
 */
export type Decoded<M> = { ok: true; message: M } | { ok: false; error: Outbound | null };

/** One handler per message type, each given the message narrowed to its type. */
export type Handlers<S, M extends { type: string }> = {
  [T in M["type"]]: (conn: Connection<S>, message: Extract<M, { type: T }>) => Promise<Reply>;
};

/** The close codes the driver closes with: the kit's, and the one for a removed participant. */
export interface DriverCloseCodes extends KitCloseCodes {
  /** The host removed the participant. */
  kicked: number;
}

export interface Dialect<S, M extends { type: string }> {
  /** The door's label in metrics and logs. */
  readonly name: string;
  /** Its upgrade path as a pattern (`/ws`, `/ws/contests/:id`): the endpoint its upgrades are timed under. */
  readonly endpoint?: string;
  /**
   * Handle one connection's messages one at a time in arrival order (replies
   * follow requests), or each as it comes.
   */
  readonly ordered: boolean;
  /**
   * The message types whose handler binds the connection to a room (attach …
   * settle). They run one at a time per connection even when the dialect is
   * not ordered, and only they undo a bind their handler left unfinished or
   * release the events held for their reply: a ping answered while a join is
   * still in flight must do neither.
   */
  readonly binding: ReadonlySet<M["type"]>;
  readonly closeCodes: DriverCloseCodes;
  /** The reason a removed participant's sockets close with. */
  readonly kickedReason: string;
  /** Size, JSON, envelope, type and body checks; the first failure becomes the error frame. */
  decode(data: Buffer, isBinary: boolean): Decoded<M>;
  readonly handlers: Handlers<S, M>;
  /** The key a retry of this message finds its first reply under; null: never replayed. */
  replayKey(conn: Connection<S>, message: M): string | null;
  /** A refusal a handler threw, as this dialect's error reply; null for anything unexpected. */
  refusal(err: unknown, message: M): Reply | null;
  /** The reply to a failure nobody expected (the driver has logged it). */
  internalError(message: M): Reply;
  /**
   * Answers a message over the rate limit (short of a flood, which closes the socket); null:
   * unanswered. `data` is the refused message, undecoded: a dialect whose replies name the
   * request may read its id from it, so the client learns which request to send again.
   */
  rateLimited(retryAfterMs: number, data: Buffer): Outbound | null;
  /** Who the connection acts as in room commands. */
  actor(conn: Connection<S>): Actor;
  /** A room event of the room `info` describes, as this dialect's frames; the driver caches them on the event. */
  encodeEvent(event: RoomEvent, info: SessionInfo): readonly EventFrame[];
  /**
   * Brings one connection up to date (a fresh snapshot, a board): after a
   * resync, and after a retried join re-binds a new connection.
   */
  refresh(conn: Connection<S>): Promise<void>;
  /** Side effects of an event on the room's connections (the driver handles kicks itself). */
  observe?(group: RoomGroup<Connection<S>>, event: RoomEvent): void;
  /** Events may have been missed: the whole group at once (default: refresh each connection). */
  resync?(group: RoomGroup<Connection<S>>): void;
  /**
   * The connection now has this event (its frames went out, or it needed none):
   * for a dialect that tells a client only what it was not told yet.
   */
  delivered?(conn: Connection<S>, event: RoomEvent): void;
  /** The connection closed; the driver has already let go of it. */
  closed?(conn: Connection<S>): void;
}
