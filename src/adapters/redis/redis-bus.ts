import { randomUUID } from "node:crypto";
import type { SessionId } from "../../domain/ids.js";
import type { Clock } from "../../ports/clock.js";
import {
  type ClusterBus,
  ClusterTimeoutError,
  ClusterUndeliveredError,
} from "../../ports/cluster.js";
import {
  BATCH_LIMITS,
  type BatchLimits,
  decodeBatch,
  encodeBatch,
  isBatch,
  TurnBatcher,
} from "../bus-batching.js";
import { MONOTONIC_TIME } from "../monotonic-time.js";
import { SystemClock } from "../system-clock.js";
import type { RedisConnection } from "./redis-connection.js";

export interface RedisClusterBusOptions {
  /**
   * Receives what a room-event or reconnect handler threw. Default: rethrown from a fresh task,
   * so it surfaces as an uncaught exception instead of vanishing.
   */
  onHandlerError?: (err: unknown) => void;
  /** Ends the turns whose messages are batched (`defer`). Default: the system clock. */
  clock?: Clock;
  /** How big one batched message may grow. Default: BATCH_LIMITS. */
  batchLimits?: BatchLimits;
  /**
   * Requests and replies: at most one message per destination per this many milliseconds
   * (TurnBatcher's `lingerMs`). Default: REQUEST_LINGER_MS.
   */
  requestLingerMs?: number;
}

/**
 * How long forwarded commands and their replies may wait to share a message. An instance
 * forwarding answers as they arrive ends most turns with one or two of them, and each message
 * is a system call and a message for Redis and the receiver to handle (one 10,000-player game
 * on two instances sent 3,470 request messages per turn; one with the linger, 2,443). Room
 * events are not held: a question must reach the other instances before the owner's own fan-out.
 */
export const REQUEST_LINGER_MS = 2;

interface RoomChannel {
  handlers: Set<{ onEvent: (encoded: string) => void }>;
  /** Settles when the SUBSCRIBE that opened the channel was answered. */
  subscribed: Promise<unknown>;
}

interface PendingRequest {
  resolve: (reply: string) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

interface RequestMessage {
  id: string;
  from: string;
  body: string;
}

type ReplyMessage =
  | { id: string; ok: true; body: string }
  | { id: string; ok: false; error: string };

/** One message waiting for the end of the turn: its text and who waits on its publish. */
interface Outgoing {
  text: string;
  /** Requests: the correlation id, settled through `pending`. */
  id?: string;
  /** Room events: the publisher's promise. */
  settle?: { resolve: () => void; reject: (err: unknown) => void };
}

/**
 * ClusterBus over Redis pub/sub. Channels (all under the connection's prefix):
 * `room:<sessionId>` carries a room's events as published; `reqb:<instanceId>` carries requests
 * to an instance and `repb:<instanceId>` the replies to its requests, JSON with a correlation id.
 *
 * Batching (issue 10): what this bus sends to one channel during one turn of the event loop
 * goes out as one message at the end of the turn (`clock.defer`), a batch frame of
 * src/adapters/bus-batching.ts (capped in count and size). Each request keeps its own
 * correlation id and timeout; the receiver unpacks a frame and handles its messages in order,
 * and replies to one requester are batched the same way. A room's first event in a turn goes
 * at once and only the rest of that turn's events wait: an owner fans an event out to its own
 * players in the same turn, which would otherwise delay every other instance's players.
 *
 * Rolling deploys: code from before batching sends one JSON message per request on `req:` and
 * expects one per reply on `rep:`. This bus still listens there and answers such requests
 * singly on `rep:`, and it sends its own batches on `reqb:`, which old code does not listen
 * to: when a batch finds no subscriber there, its requests are sent again one by one on
 * `req:` (only a subscriber count of 0 there too makes them undelivered). So old and new
 * instances never see a frame they cannot read on the request channels. A room's events are
 * published on `room:` as before: a turn with one event sends it as is, and only a turn with
 * several sends a frame, which old code fails to decode, logs and recovers from like lost
 * events (the next beacon shows the gap and its watchers resync); it does not crash.
 *
 * Publishing and replying use the given connection; subscriptions use a second connection the
 * bus opens and owns, because a subscribed Redis connection can do nothing else. When either
 * connection drops, `connected` turns false, publishing and requesting reject at once, and
 * what is published meanwhile is lost (at most once). When both are back, every subscription
 * is restored first, then the onReconnected handlers run.
 */
export class RedisClusterBus implements ClusterBus {
  private readonly rooms = new Map<string, RoomChannel>();
  private readonly pending = new Map<string, PendingRequest>();
  private readonly reconnectedHandlers: (() => void)[] = [];
  private readonly onHandlerError: (err: unknown) => void;
  private readonly requestChannel: string;
  private readonly replyChannel: string;
  private readonly legacyRequestChannel: string;
  private readonly legacyReplyChannel: string;
  private readonly outbox: TurnBatcher<Outgoing>;
  private readonly eventOutbox: TurnBatcher<Outgoing>;
  // Correlation ids stay unique across restarts of an instance with the same id.
  private readonly nonce = randomUUID();
  private nextRequestId = 0;
  private handler: ((encoded: string) => Promise<string>) | undefined;
  private subscriptionsRestored = true;
  private restoreGeneration = 0;
  private wasDown = false;
  private closed = false;
  private readonly removers: (() => void)[] = [];

  private constructor(
    private readonly conn: RedisConnection,
    private readonly sub: RedisConnection,
    readonly instanceId: string,
    options: RedisClusterBusOptions,
  ) {
    this.onHandlerError = options.onHandlerError ?? rethrowLater;
    const clock = options.clock ?? new SystemClock();
    const limits = options.batchLimits ?? BATCH_LIMITS;
    this.outbox = new TurnBatcher<Outgoing>(clock, (o) => o.text.length, limits, {
      lingerMs: options.requestLingerMs ?? REQUEST_LINGER_MS,
      // Real time, like the requests' timeouts: it paces this process's traffic to Redis,
      // whatever clock the rooms run on (tests drive them with a fake one).
      lingerClock: MONOTONIC_TIME,
    });
    // A room's first event of a turn goes at once: the owner's own fan-out of it (the rest of
    // the turn) must not hold it back from the other instances' players.
    this.eventOutbox = new TurnBatcher<Outgoing>(clock, (o) => o.text.length, limits, {
      leading: true,
    });
    this.requestChannel = conn.key("reqb", instanceId);
    this.replyChannel = conn.key("repb", instanceId);
    this.legacyRequestChannel = conn.key("req", instanceId);
    this.legacyReplyChannel = conn.key("rep", instanceId);
    sub.client.on("message", (channel: string, message: string) =>
      this.onMessage(channel, message),
    );
    this.removers.push(
      conn.onDisconnected(() => this.markDown()),
      conn.onReconnected(() => this.maybeReconnected()),
      sub.onDisconnected(() => {
        this.subscriptionsRestored = false;
        this.markDown();
      }),
      sub.onReconnected(() => this.restoreSubscriptions()),
    );
  }

  /**
   * Opens the bus of `instanceId` on `conn` (which stays the caller's to close): opens the
   * subscriber connection and subscribes to this instance's request and reply channels.
   */
  static async open(
    conn: RedisConnection,
    instanceId: string,
    options: RedisClusterBusOptions = {},
  ): Promise<RedisClusterBus> {
    const sub = await conn.duplicate(`${instanceId}:bus-sub`);
    const bus = new RedisClusterBus(conn, sub, instanceId, options);
    try {
      await sub.client.subscribe(...bus.ownChannels());
    } catch (err) {
      await bus.close();
      throw err;
    }
    return bus;
  }

  get connected(): boolean {
    return !this.closed && this.conn.connected && this.sub.connected && this.subscriptionsRestored;
  }

  async publishRoomEvent(sessionId: SessionId, encoded: string): Promise<void> {
    this.assertUsable("publish");
    const channel = this.conn.key("room", sessionId);
    return new Promise<void>((resolve, reject) => {
      this.eventOutbox.add(channel, { text: encoded, settle: { resolve, reject } }, (items) =>
        this.sendRoomEvents(channel, items),
      );
    });
  }

  async subscribeRoomEvents(
    sessionId: SessionId,
    onEvent: (encoded: string) => void,
  ): Promise<() => Promise<void>> {
    this.assertUsable("subscribe");
    const channel = this.conn.key("room", sessionId);
    let room = this.rooms.get(channel);
    if (!room) {
      room = { handlers: new Set(), subscribed: this.sub.client.subscribe(channel) };
      this.rooms.set(channel, room);
    }
    const entry = { onEvent };
    room.handlers.add(entry);
    try {
      await room.subscribed;
    } catch (err) {
      this.removeHandler(channel, room, entry);
      throw err;
    }
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      if (!this.removeHandler(channel, room, entry)) return;
      // A dropped connection took the subscription with it, and it is not restored any more.
      if (this.sub.connected) await this.sub.client.unsubscribe(channel);
    };
  }

  async request(to: string, encoded: string, timeoutMs: number): Promise<string> {
    this.assertUsable("send a request");
    const id = `${this.nonce}:${this.nextRequestId++}`;
    const message: RequestMessage = { id, from: this.instanceId, body: encoded };
    const reply = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ClusterTimeoutError(`no reply from instance ${to} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
    // Goes out with whatever else this turn sends `to`; its own timer runs from now.
    this.outbox.add(`req:${to}`, { text: JSON.stringify(message), id }, (items) =>
      this.sendRequests(to, items),
    );
    return reply;
  }

  private sendRequests(to: string, items: Outgoing[]): void {
    if (this.closed) return;
    this.conn.client.publish(this.conn.key("reqb", to), encodeBatch(items.map((i) => i.text))).then(
      (receivers) => {
        // Nobody reads batches there: an instance running code from before batching, or none.
        if (receivers === 0) this.sendRequestsSingly(to, items);
      },
      (err: unknown) => {
        for (const item of items) this.failRequest(item, err);
      },
    );
  }

  private sendRequestsSingly(to: string, items: Outgoing[]): void {
    for (const item of items) {
      if (this.closed) return;
      if (item.id === undefined || !this.pending.has(item.id)) continue; // timed out meanwhile
      this.conn.client.publish(this.conn.key("req", to), item.text).then(
        (receivers) => {
          // Nobody listens on that instance's channel: it is gone. Say so now rather than after
          // the whole timeout, so the caller can look for the session's next owner at once.
          if (receivers === 0) {
            this.failRequest(
              item,
              new ClusterUndeliveredError(`instance ${to} is not listening (gone)`),
            );
          }
        },
        (err: unknown) => this.failRequest(item, err),
      );
    }
  }

  /** The request's publish failed or reached nobody: its caller gets that, not a timeout. */
  private failRequest(item: Outgoing, err: unknown): void {
    if (item.id === undefined) return;
    const p = this.pending.get(item.id);
    if (!p) return;
    this.pending.delete(item.id);
    clearTimeout(p.timer);
    p.reject(err instanceof Error ? err : new Error(String(err)));
  }

  private sendRoomEvents(channel: string, items: Outgoing[]): void {
    if (this.closed) {
      for (const item of items) item.settle?.reject(new Error("cluster bus closed"));
      return;
    }
    // One event alone goes as is, readable by code from before batching (unless it could be
    // mistaken for a frame).
    const only = items.length === 1 ? items[0] : undefined;
    const text = only && !isBatch(only.text) ? only.text : encodeBatch(items.map((i) => i.text));
    this.conn.client.publish(channel, text).then(
      () => {
        for (const item of items) item.settle?.resolve();
      },
      (err: unknown) => {
        for (const item of items) item.settle?.reject(err);
      },
    );
  }

  async isAlive(instanceId: string): Promise<boolean> {
    this.assertUsable("ask about an instance");
    // Every live instance, from before batching or after, keeps a subscription to req:<id>.
    const reply = (await this.conn.client.pubsub(
      "NUMSUB",
      this.conn.key("req", instanceId),
    )) as unknown[];
    return Number(reply[1] ?? 0) > 0;
  }

  serve(handler: (encoded: string) => Promise<string>): void {
    this.handler = handler;
  }

  onReconnected(handler: () => void): void {
    this.reconnectedHandlers.push(handler);
  }

  /** Stops the bus and closes its subscriber connection (not the connection it was given). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const remove of this.removers) remove();
    for (const item of [...this.outbox.discard(), ...this.eventOutbox.discard()]) {
      item.settle?.reject(new Error(`cluster bus of ${this.instanceId} closed`));
    }
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`cluster bus of ${this.instanceId} closed`));
    }
    this.pending.clear();
    this.rooms.clear();
    await this.sub.close();
  }

  private onMessage(channel: string, message: string): void {
    if (this.closed) return;
    if (channel === this.requestChannel) {
      // An unreadable frame is dropped whole: its requesters time out.
      for (const m of decodeBatch(message) ?? []) this.handleRequest(m, true);
    } else if (channel === this.replyChannel) {
      for (const m of decodeBatch(message) ?? []) this.handleReply(m);
    } else if (channel === this.legacyRequestChannel) this.handleRequest(message, false);
    else if (channel === this.legacyReplyChannel) this.handleReply(message);
    else {
      const room = this.rooms.get(channel);
      if (!room) return;
      const events = isBatch(message) ? decodeBatch(message) : [message];
      // A frame cut short is dropped whole; the watchers' sequence checks notice the gap.
      if (!events) return;
      for (const event of events) {
        for (const entry of [...room.handlers]) {
          if (!room.handlers.has(entry)) continue;
          try {
            entry.onEvent(event);
          } catch (err) {
            this.onHandlerError(err);
          }
        }
      }
    }
  }

  /** `batched`: it came in a frame, so its requester reads batched replies. */
  private handleRequest(message: string, batched: boolean): void {
    const handler = this.handler;
    const request = parseRequest(message);
    // Unserved or unreadable requests get no reply: their requesters time out.
    if (!handler || !request) return;
    let result: Promise<string>;
    try {
      result = handler(request.body);
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (body) => this.reply(request, batched, { id: request.id, ok: true, body }),
      (err: unknown) =>
        this.reply(request, batched, {
          id: request.id,
          ok: false,
          error: `instance ${this.instanceId} failed the request: ${errorText(err)}`,
        }),
    );
  }

  private reply(request: RequestMessage, batched: boolean, reply: ReplyMessage): void {
    if (this.closed) return;
    const text = JSON.stringify(reply);
    // A reply that cannot be sent is lost like any pub/sub message; the requester times out.
    if (!batched) {
      this.conn.client.publish(this.conn.key("rep", request.from), text).catch(() => {});
      return;
    }
    const to = request.from;
    this.outbox.add(`rep:${to}`, { text }, (items) => {
      if (this.closed) return;
      this.conn.client
        .publish(this.conn.key("repb", to), encodeBatch(items.map((i) => i.text)))
        .catch(() => {});
    });
  }

  private handleReply(message: string): void {
    const reply = parseReply(message);
    if (!reply) return;
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    clearTimeout(p.timer);
    if (reply.ok) p.resolve(reply.body);
    else p.reject(new Error(reply.error));
  }

  /** Removes one handler; true when it was the channel's last, so the channel is dropped. */
  private removeHandler(
    channel: string,
    room: RoomChannel,
    entry: { onEvent: (encoded: string) => void },
  ): boolean {
    room.handlers.delete(entry);
    if (room.handlers.size > 0 || this.rooms.get(channel) !== room) return false;
    this.rooms.delete(channel);
    return true;
  }

  private markDown(): void {
    if (!this.closed) this.wasDown = true;
  }

  private restoreSubscriptions(): void {
    if (this.closed) return;
    const generation = ++this.restoreGeneration;
    const channels = [...this.ownChannels(), ...this.rooms.keys()];
    this.sub.client.subscribe(...channels).then(
      () => {
        if (generation !== this.restoreGeneration || this.closed) return;
        this.subscriptionsRestored = true;
        this.maybeReconnected();
      },
      () => {
        // Start over from a fresh connection rather than stay half subscribed.
        if (generation === this.restoreGeneration && this.sub.connected) {
          this.sub.client.disconnect(true);
        }
      },
    );
  }

  private maybeReconnected(): void {
    if (!this.wasDown || !this.connected) return;
    this.wasDown = false;
    for (const handler of this.reconnectedHandlers) {
      try {
        handler();
      } catch (err) {
        this.onHandlerError(err);
      }
    }
  }

  /** This instance's request and reply channels, batched and single. */
  private ownChannels(): string[] {
    return [
      this.requestChannel,
      this.replyChannel,
      this.legacyRequestChannel,
      this.legacyReplyChannel,
    ];
  }

  private assertUsable(what: string): void {
    if (this.closed) throw new Error(`cannot ${what}: cluster bus of ${this.instanceId} is closed`);
    if (!this.connected) throw new Error(`cannot ${what}: Redis unavailable`);
  }
}

function parseRequest(message: string): RequestMessage | undefined {
  const m = parseObject(message);
  if (!m || typeof m.id !== "string" || typeof m.from !== "string" || typeof m.body !== "string") {
    return undefined;
  }
  return { id: m.id, from: m.from, body: m.body };
}

function parseReply(message: string): ReplyMessage | undefined {
  const m = parseObject(message);
  if (!m || typeof m.id !== "string") return undefined;
  if (m.ok === true && typeof m.body === "string") return { id: m.id, ok: true, body: m.body };
  if (m.ok === false && typeof m.error === "string") return { id: m.id, ok: false, error: m.error };
  return undefined;
}

function parseObject(message: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(message);
    return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function rethrowLater(err: unknown): void {
  setImmediate(() => {
    throw err;
  });
}
