import type { SessionId } from "../../domain/ids.js";
import type { Clock, TimerHandle } from "../../ports/clock.js";
import {
  type ClusterBus,
  ClusterTimeoutError,
  ClusterUndeliveredError,
  type Lease,
  type OwnershipLeases,
} from "../../ports/cluster.js";
import { BATCH_LIMITS, type BatchLimits, TurnBatcher } from "../bus-batching.js";
import { positiveMs } from "../checked-numbers.js";
import { SystemClock } from "../system-clock.js";

export interface MemoryClusterHubOptions {
  /** Times request timeouts and ends the turns whose messages are batched. Default: the system clock. */
  clock?: Clock;
  /** How big one batched message may grow. Default: BATCH_LIMITS. */
  batchLimits?: BatchLimits;
  /**
   * Receives what a room-event, reconnect or request handler threw. Default: rethrown from a
   * fresh task, so it surfaces as an uncaught exception instead of vanishing.
   */
  onHandlerError?: (err: unknown) => void;
}

/**
 * The broker of several in-process "instances", for one-process deployments and tests:
 * `hub.bus(instanceId)` gives each instance its ClusterBus. Delivery is asynchronous (a later
 * macrotask, as from a socket) and in publish order per destination, like Redis pub/sub.
 *
 * Like the Redis bus, a bus batches (issue 10): the requests, replies and room events it sends
 * to one destination during one turn (`clock.defer`) travel as one message, unpacked and
 * handled in order on arrival (a room's first event of a turn goes at once, alone, and the
 * rest of the turn's together). `MemoryClusterBus.sent` counts those messages.
 */
export class MemoryClusterHub {
  readonly clock: Clock;
  readonly batchLimits: BatchLimits;
  readonly onHandlerError: (err: unknown) => void;
  /** @internal Open buses by instance id. */
  readonly buses = new Map<string, MemoryClusterBus>();
  private outage = false;

  constructor(options: MemoryClusterHubOptions = {}) {
    this.clock = options.clock ?? new SystemClock();
    this.batchLimits = options.batchLimits ?? BATCH_LIMITS;
    this.onHandlerError = options.onHandlerError ?? rethrowLater;
  }

  /** Opens the bus of instance `instanceId`; throws if that instance already has an open bus. */
  bus(instanceId: string): MemoryClusterBus {
    if (this.buses.has(instanceId)) {
      throw new Error(`instance ${instanceId} already has an open bus on this hub`);
    }
    const bus = new MemoryClusterBus(this, instanceId, !this.outage);
    this.buses.set(instanceId, bus);
    return bus;
  }

  /** Test hook: the broker goes away for every instance (see `MemoryClusterBus.simulateOutage`). */
  simulateOutage(): void {
    this.outage = true;
    for (const bus of this.buses.values()) bus.simulateOutage();
  }

  /** Test hook: the broker is back for every instance; each one's onReconnected handlers run. */
  simulateReconnect(): void {
    this.outage = false;
    for (const bus of this.buses.values()) bus.simulateReconnect();
  }

  /** @internal One message carrying `events`, in order. */
  publish(sessionId: SessionId, events: readonly string[]): void {
    for (const bus of this.buses.values()) bus.receiveRoomEvents(sessionId, events);
  }
}

/** One message waiting for the end of the turn. */
type Outgoing =
  | { kind: "event"; text: string; resolve: () => void; reject: (err: unknown) => void }
  | { kind: "request"; id: number; text: string }
  | { kind: "reply"; id: number; size: number; settle: (p: PendingRequest) => void };

let nextBusSerial = 0;

interface RoomSubscription {
  onEvent: (encoded: string) => void;
}

interface PendingRequest {
  resolve: (reply: string) => void;
  reject: (err: Error) => void;
  timer: TimerHandle;
}

/** One instance's ClusterBus on a MemoryClusterHub, with hooks to simulate loss and outages. */
export class MemoryClusterBus implements ClusterBus {
  private readonly rooms = new Map<SessionId, Set<RoomSubscription>>();
  private readonly pending = new Map<number, PendingRequest>();
  private readonly reconnectedHandlers: (() => void)[] = [];
  private handler: ((encoded: string) => Promise<string>) | undefined;
  private nextRequestId = 0;
  private up: boolean;
  private closed = false;
  /** Losses the test asked for, oldest first. */
  private readonly drops: Array<{
    left: number;
    sessionId: SessionId | undefined;
    which: ((encoded: string) => boolean) | undefined;
  }> = [];
  private inbox: (() => void)[] = [];
  private drainScheduled = false;
  private readonly outbox: TurnBatcher<Outgoing>;
  private readonly eventOutbox: TurnBatcher<Outgoing>;
  /** Tells apart two buses that had the same instance id (one closed, one opened). */
  private readonly serial = nextBusSerial++;
  /** Test hook: messages this bus has handed to the broker (a batch counts once). */
  sent = 0;

  /** @internal Use `MemoryClusterHub.bus`. */
  constructor(
    private readonly hub: MemoryClusterHub,
    readonly instanceId: string,
    connected: boolean,
  ) {
    this.up = connected;
    const sizeOf = (o: Outgoing) => (o.kind === "reply" ? o.size : o.text.length);
    this.outbox = new TurnBatcher<Outgoing>(hub.clock, sizeOf, hub.batchLimits);
    // As on Redis: a room's first event of a turn goes at once, the rest at the end of the turn.
    this.eventOutbox = new TurnBatcher<Outgoing>(hub.clock, sizeOf, hub.batchLimits, {
      leading: true,
    });
  }

  get connected(): boolean {
    return this.up && !this.closed;
  }

  async publishRoomEvent(sessionId: SessionId, encoded: string): Promise<void> {
    this.assertUsable("publish");
    return new Promise<void>((resolve, reject) => {
      this.eventOutbox.add(
        `room:${sessionId}`,
        { kind: "event", text: encoded, resolve, reject },
        (items) => this.sendRoomEvents(sessionId, items),
      );
    });
  }

  private sendRoomEvents(sessionId: SessionId, items: Outgoing[]): void {
    const events = items.filter((i) => i.kind === "event");
    if (this.closed || !this.up) {
      const err = new Error(`cannot publish: cluster bus of ${this.instanceId} is not connected`);
      for (const e of events) e.reject(err);
      return;
    }
    this.sent += 1;
    this.hub.publish(
      sessionId,
      events.map((e) => e.text),
    );
    for (const e of events) e.resolve();
  }

  async subscribeRoomEvents(
    sessionId: SessionId,
    onEvent: (encoded: string) => void,
  ): Promise<() => Promise<void>> {
    this.assertUsable("subscribe");
    const sub: RoomSubscription = { onEvent };
    let subs = this.rooms.get(sessionId);
    if (!subs) {
      subs = new Set();
      this.rooms.set(sessionId, subs);
    }
    subs.add(sub);
    return async () => {
      const current = this.rooms.get(sessionId);
      if (!current?.delete(sub)) return;
      if (current.size === 0) this.rooms.delete(sessionId);
    };
  }

  async request(to: string, encoded: string, timeoutMs: number): Promise<string> {
    this.assertUsable("send a request");
    const id = this.nextRequestId++;
    return new Promise<string>((resolve, reject) => {
      const clock = this.hub.clock;
      const timer = clock.setTimer(clock.now() + timeoutMs, () => {
        this.pending.delete(id);
        reject(new ClusterTimeoutError(`no reply from instance ${to} within ${timeoutMs} ms`));
      });
      this.pending.set(id, { resolve, reject, timer });
      // Goes out with whatever else this turn sends `to`; its own timer runs from now.
      this.outbox.add(`req:${to}`, { kind: "request", id, text: encoded }, (items) =>
        this.sendRequests(to, items),
      );
    });
  }

  private sendRequests(to: string, items: Outgoing[]): void {
    if (this.closed) return; // close() failed them already
    const requests = items.filter((i) => i.kind === "request");
    const fail = (err: Error) => {
      for (const r of requests) {
        const p = this.pending.get(r.id);
        if (!p) continue;
        this.pending.delete(r.id);
        this.hub.clock.clearTimer(p.timer);
        p.reject(err);
      }
    };
    if (!this.up) {
      fail(new Error(`cannot send a request: cluster broker unavailable`));
      return;
    }
    const target = this.hub.buses.get(to);
    if (!target) {
      // Like Redis reporting no subscriber: the instance is gone and nothing was delivered.
      fail(new ClusterUndeliveredError(`instance ${to} is not listening (gone)`));
      return;
    }
    this.sent += 1;
    if (!target.connected) return; // lost on the way: the requesters time out
    target.enqueue(() => {
      for (const r of requests) target.handleRequest(this, r.id, r.text);
    });
  }

  async isAlive(instanceId: string): Promise<boolean> {
    this.assertUsable("ask about an instance");
    return this.hub.buses.has(instanceId);
  }

  serve(handler: (encoded: string) => Promise<string>): void {
    this.handler = handler;
  }

  onReconnected(handler: () => void): void {
    this.reconnectedHandlers.push(handler);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.hub.buses.get(this.instanceId) === this) this.hub.buses.delete(this.instanceId);
    for (const p of this.pending.values()) {
      this.hub.clock.clearTimer(p.timer);
      p.reject(new Error(`cluster bus of ${this.instanceId} closed`));
    }
    this.pending.clear();
    this.rooms.clear();
    this.inbox = [];
    for (const item of [...this.outbox.discard(), ...this.eventOutbox.discard()]) {
      if (item.kind === "event") item.reject(new Error(`cluster bus of ${this.instanceId} closed`));
    }
  }

  /**
   * Test hook: the next `count` room events that would reach this instance are lost (only
   * those of `sessionId` when given, and only messages `which` picks when given: the bus
   * carries what owners publish, beacons too), as a lossy broker may lose them.
   */
  dropNextRoomEvents(
    count: number,
    sessionId?: SessionId,
    which?: (encoded: string) => boolean,
  ): void {
    this.drops.push({ left: count, sessionId, which });
  }

  /**
   * Test hook: this instance loses the broker. `connected` turns false, publishing, subscribing
   * and requesting reject, and whatever is sent to this instance meanwhile is lost (its
   * requesters time out). Subscriptions survive, as a real adapter restores them.
   */
  simulateOutage(): void {
    this.up = false;
  }

  /** Test hook: the broker is back; the onReconnected handlers run in a later task. */
  simulateReconnect(): void {
    if (this.up || this.closed) return;
    this.up = true;
    this.enqueue(() => {
      for (const handler of this.reconnectedHandlers) this.guard(handler);
    });
  }

  /** @internal Called by the hub for every message of room events. */
  receiveRoomEvents(sessionId: SessionId, events: readonly string[]): void {
    if (!this.connected || !this.rooms.has(sessionId)) return;
    const kept = events.filter((encoded) => {
      const drop = this.drops.find(
        (d) =>
          (d.sessionId === undefined || d.sessionId === sessionId) &&
          (d.which === undefined || d.which(encoded)),
      );
      if (!drop) return true;
      drop.left -= 1;
      if (drop.left <= 0) this.drops.splice(this.drops.indexOf(drop), 1);
      return false;
    });
    if (kept.length === 0) return;
    this.enqueue(() => {
      for (const encoded of kept) {
        // Looked up at delivery, so an unsubscribe stops even events already on their way.
        const subs = this.rooms.get(sessionId);
        if (!subs) return;
        for (const sub of [...subs]) {
          if (subs.has(sub)) this.guard(() => sub.onEvent(encoded));
        }
      }
    });
  }

  /** @internal */
  handleRequest(from: MemoryClusterBus, id: number, encoded: string): void {
    const handler = this.handler;
    if (!this.connected || !handler) return;
    const reply = (size: number, settle: (p: PendingRequest) => void) => {
      if (!this.connected || !from.connected) return;
      // Replies to one requester in one turn go back as one message.
      this.outbox.add(`rep:${from.serial}`, { kind: "reply", id, size, settle }, (items) =>
        this.sendReplies(from, items),
      );
    };
    let result: Promise<string>;
    try {
      result = handler(encoded);
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (r) => reply(r.length, (p) => p.resolve(r)),
      (err: unknown) => {
        const error = remoteError(this.instanceId, err);
        reply(error.message.length, (p) => p.reject(error));
      },
    );
  }

  private sendReplies(from: MemoryClusterBus, items: Outgoing[]): void {
    if (!this.connected || !from.connected) return;
    this.sent += 1;
    from.enqueue(() => {
      for (const item of items) {
        if (item.kind !== "reply") continue;
        const p = from.pending.get(item.id);
        if (!p) continue;
        from.pending.delete(item.id);
        from.hub.clock.clearTimer(p.timer);
        item.settle(p);
      }
    });
  }

  /** @internal Runs `task` in a later macrotask, after everything queued before it. */
  enqueue(task: () => void): void {
    this.inbox.push(task);
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.drainScheduled = false;
    const tasks = this.inbox;
    this.inbox = [];
    for (const task of tasks) {
      if (this.closed) return;
      task();
    }
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.hub.onHandlerError(err);
    }
  }

  private assertUsable(what: string): void {
    if (this.closed) throw new Error(`cannot ${what}: cluster bus of ${this.instanceId} is closed`);
    if (!this.up) throw new Error(`cannot ${what}: cluster broker unavailable`);
  }
}

/**
 * Ownership leases in process memory, expiring by the injected clock. Share one instance
 * between the in-process "instances" of a test.
 */
export class MemoryOwnershipLeases implements OwnershipLeases {
  private readonly leases = new Map<SessionId, { lease: Lease; expiresAt: number }>();

  constructor(private readonly clock: Clock) {}

  async acquire(
    sessionId: SessionId,
    instanceId: string,
    epoch: number,
    ttlMs: number,
  ): Promise<{ ok: true; lease: Lease } | { ok: false; holder: Lease | null }> {
    positiveMs(ttlMs, "ttlMs");
    if (!Number.isSafeInteger(epoch)) {
      throw new RangeError(`lease epoch must be an integer, got ${epoch}`);
    }
    const lease: Lease = { sessionId, instanceId, epoch };
    const live = this.live(sessionId);
    if (live && !sameLease(live.lease, lease)) return { ok: false, holder: { ...live.lease } };
    this.leases.set(sessionId, { lease, expiresAt: this.clock.now() + ttlMs });
    return { ok: true, lease: { ...lease } };
  }

  async renew(lease: Lease, ttlMs: number): Promise<boolean> {
    positiveMs(ttlMs, "ttlMs");
    const live = this.live(lease.sessionId);
    if (!live || !sameLease(live.lease, lease)) return false;
    live.expiresAt = this.clock.now() + ttlMs;
    return true;
  }

  async release(lease: Lease): Promise<void> {
    const live = this.live(lease.sessionId);
    if (live && sameLease(live.lease, lease)) this.leases.delete(lease.sessionId);
  }

  async holder(sessionId: SessionId): Promise<Lease | null> {
    const live = this.live(sessionId);
    return live ? { ...live.lease } : null;
  }

  private live(sessionId: SessionId): { lease: Lease; expiresAt: number } | undefined {
    const entry = this.leases.get(sessionId);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.clock.now()) {
      this.leases.delete(sessionId);
      return undefined;
    }
    return entry;
  }
}

function sameLease(a: Lease, b: Lease): boolean {
  return a.sessionId === b.sessionId && a.instanceId === b.instanceId && a.epoch === b.epoch;
}

/** The error a requester sees when the serving instance's handler failed. */
function remoteError(instanceId: string, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  return new Error(`instance ${instanceId} failed the request: ${message}`);
}

function rethrowLater(err: unknown): void {
  setImmediate(() => {
    throw err;
  });
}
