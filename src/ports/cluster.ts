import type { ParticipantId, SessionId } from "../domain/ids.js";

/**
 * Which open room a PIN belongs to (P-3). In-process by default; shared
 * through Redis when several instances serve the same rooms.
 */
export interface PinDirectory {
  /** Claims `pin` for `sessionId`; false when another open room holds it. */
  reserve(pin: string, sessionId: SessionId): Promise<boolean>;
  /** Frees `pin` if `sessionId` still holds it. */
  release(pin: string, sessionId: SessionId): Promise<void>;
  lookup(pin: string): Promise<SessionId | undefined>;
}

/** Token-bucket style limits keyed by anything (a user, an IP, a user+room). */
export interface RateLimiter {
  /**
   * Takes one unit from `key`'s allowance of `limit` per `windowMs`.
   * Resolves with whether it was allowed and, if not, how long until it would be.
   */
  take(
    key: string,
    limit: number,
    windowMs: number,
  ): Promise<{ allowed: boolean; retryAfterMs: number }>;
}

/**
 * Limits kept by one process, for what lives on one instance (a connection's
 * message budget): answered synchronously, since an await per frame on the
 * read path would cost.
 */
export interface LocalRateLimiter extends RateLimiter {
  takeSync(
    key: string,
    limit: number,
    windowMs: number,
  ): { allowed: boolean; retryAfterMs: number };
}

/** One addition to a shared counter. */
export interface CounterDelta {
  key: string;
  delta: number;
  /** The counter is forgotten this long after its last change. */
  ttlMs: number;
}

/**
 * Counters every instance adds to, in batches: what per-message limits reconcile with, so that
 * a limit holds across instances without a round trip per message.
 */
export interface SharedCounters {
  /** Adds every delta (one round trip for the batch); resolves with each counter's new total, in order. */
  add(batch: readonly CounterDelta[]): Promise<number[]>;
}

/**
 * Remembers the reply to each client message id for a while, so a retried
 * message has no second effect and gets the original reply. Shared
 * between processes (Redis), a reply is text; kept in one process it may be
 * the reply itself (`T`), which its readers must not change.
 */
export interface ReplayCache<T = string> {
  /** The stored reply, or undefined when this id is new. */
  get(key: string): Promise<T | undefined>;
  put(key: string, reply: T, ttlMs: number): Promise<void>;
}

/** A replay cache of one process, read synchronously on the message path. */
export interface LocalReplayCache<T = string> extends ReplayCache<T> {
  getSync(key: string): T | undefined;
  putSync(key: string, reply: T, ttlMs: number): void;
}

/** An instance's expiring, exclusive claim on one session. */
export interface Lease {
  sessionId: SessionId;
  instanceId: string;
  /** The fencing epoch the holder runs the session at (also claimed in the database). */
  epoch: number;
}

/**
 * Which instance owns which session. A lease expires unless renewed, so a dead
 * instance's sessions become free; the database epoch (not the lease) is what
 * fences a stale owner's writes.
 */
export interface OwnershipLeases {
  /** Takes the session's lease unless another live lease exists; then resolves with its holder. */
  acquire(
    sessionId: SessionId,
    instanceId: string,
    epoch: number,
    ttlMs: number,
  ): Promise<{ ok: true; lease: Lease } | { ok: false; holder: Lease | null }>;
  /** Extends a lease still held by the same instance at the same epoch; false once it was lost. */
  renew(lease: Lease, ttlMs: number): Promise<boolean>;
  /** Gives a lease up if it is still held as given. */
  release(lease: Lease): Promise<void>;
  holder(sessionId: SessionId): Promise<Lease | null>;
}

/**
 * The request never reached the instance: nobody listens on its channel (it is
 * gone). Unlike a timeout, the request was certainly not handled, so it may be
 * sent again elsewhere.
 */
export class ClusterUndeliveredError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ClusterUndeliveredError";
  }
}

/** The bus timed out waiting for another instance's reply. */
export class ClusterTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ClusterTimeoutError";
  }
}

/**
 * Messages between server instances. Payloads are JSON strings encoded by the
 * engine. Delivery is at most once (Redis pub/sub): receivers detect lost room
 * events by their sequence numbers, and requests time out. An adapter may carry
 * what one turn of the event loop sends to one destination (a room's events, the
 * requests to one instance, the replies to one instance) as one broker message;
 * receivers still see each one, in the order sent, and each request keeps its own
 * reply and timeout.
 */
export interface ClusterBus {
  readonly instanceId: string;
  /** Sends one of a room's events to every instance subscribed to that room. */
  publishRoomEvent(sessionId: SessionId, encoded: string): Promise<void>;
  /** Receives a room's events until the returned function is called; resolves once subscribed. */
  subscribeRoomEvents(
    sessionId: SessionId,
    onEvent: (encoded: string) => void,
  ): Promise<() => Promise<void>>;
  /**
   * Asks instance `to` to handle a request; rejects with ClusterTimeoutError after `timeoutMs`,
   * or at once with ClusterUndeliveredError when nobody listens for `to`.
   */
  request(to: string, encoded: string, timeoutMs: number): Promise<string>;
  /** Handles requests addressed to this instance (one handler; a later call replaces it). */
  serve(handler: (encoded: string) => Promise<string>): void;
  /** Whether an instance is alive, i.e. listening for requests (dead instances' leftovers are cleaned up). */
  isAlive(instanceId: string): Promise<boolean>;
  /** Whether the broker is reachable right now (health, degraded mode). */
  readonly connected: boolean;
  /** Called each time the broker connection came back and every subscription was restored. */
  onReconnected(handler: () => void): void;
  close(): Promise<void>;
}

/**
 * Tells subscribers outside quizwire about every stored answer, as seed 002's
 * "Submit Answer API → PUBLISH" does (only with Redis; in-process there is
 * nobody to tell). Called once the answer is committed, never before. Fire and
 * forget: a notice lost while the broker is away costs quizwire nothing, and
 * an adapter may send what one turn of the event loop gives it as one write.
 */
export interface AnswerFeed {
  /** `participantId`'s answer in session `sessionId` is stored; `score` is their total now. */
  answerStored(sessionId: SessionId, participantId: ParticipantId, score: number): void;
  /** Sends what is still waiting (shutdown). */
  flush(): void;
}
