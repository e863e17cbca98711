import type { SessionId } from "../../domain/ids.js";
import type { Clock } from "../../ports/clock.js";
import type { ClusterBus, Lease, OwnershipLeases, PinDirectory } from "../../ports/cluster.js";
import type { Storage } from "../../ports/storage.js";
import { TRACE_ATTRIBUTES, type Tracer } from "../../ports/tracing.js";
import { encodeBeacon, encodeRoomEvent } from "../event-codec.js";
import { repeatEvery, type StopRepeating } from "../repeating-timer.js";
import type { ExecuteOptions, RoomHandle, SessionInfo } from "../room-handle.js";
import type { CreateSessionInput, RoomRegistry } from "../room-registry.js";
import type { RoomRuntime } from "../room-runtime.js";
import type { CreatedHandle, DirectoryStatus, SessionDirectory } from "../session-directory.js";
import type { Actor, Command, CommandResult, Reply } from "../types.js";
import { type ProxyHost, SessionProxy, type Target } from "./session-proxy.js";

export interface ClusterDirectoryOptions {
  /** A lease not renewed for this long is free: how long a dead owner's sessions wait. */
  leaseTtlMs: number;
  renewEveryMs: number;
  /** How long a forwarded command waits for the owner's reply. */
  requestTimeoutMs: number;
  /** How often sessions watched here are checked for a dead owner to replace. */
  sweepEveryMs: number;
  /** How long a known remote owner is trusted before asking Redis again. */
  ownerCacheMs: number;
}

export const CLUSTER_DEFAULTS: ClusterDirectoryOptions = {
  // A dead owner's sessions wait at most lease + sweep (≈ 2.5 s) for a new owner (issue 5: < 5 s).
  leaseTtlMs: 2_000,
  renewEveryMs: 500,
  // Forwarding takes milliseconds (p99 < 100 ms measured); a silent owner is presumed dead sooner.
  requestTimeoutMs: 2_000,
  sweepEveryMs: 500,
  ownerCacheMs: 1_000,
};

export interface ClusterDirectoryDeps {
  instanceId: string;
  registry: RoomRegistry;
  storage: Storage;
  leases: OwnershipLeases;
  bus: ClusterBus;
  pins: PinDirectory;
  clock: Clock;
  onError(err: unknown, context: string): void;
  options?: Partial<ClusterDirectoryOptions>;
  /** Traces forwarded commands on both sides, carrying the trace in the request; absent, off. */
  tracer?: Tracer;
}

/** A command on its way to a session's owner. */
interface ForwardedCommand {
  sessionId: SessionId;
  actor: Actor;
  command: Command;
  dedupeKey?: string;
  /** The instance the client is connected to (its presence dies with it). */
  origin: string;
  /** The W3C `traceparent` of the forwarding span, when the sender traces (older senders never set it). */
  traceparent?: string;
}

/** Connections another instance reported for one participant of one session. */
interface RemotePresence {
  actor: Actor;
  count: number;
}

const NOT_OWNER: Reply<CommandResult> = {
  ok: false,
  error: {
    code: "UNAVAILABLE",
    msg: "this instance no longer runs that session",
    reason: "not_owner",
  },
};

/**
 * Sessions across several instances sharing Postgres and Redis (issue 5):
 * - each session is run by one owner holding its lease in Redis, at an epoch
 *   it claimed in the database (which fences any previous owner's writes);
 * - other instances hold a SessionProxy that forwards commands to the owner and
 *   relays its events from the bus, with gap detection;
 * - a session whose owner died (lease expired) is taken over from the database
 *   by the first instance that needs it or sees it orphaned;
 * - while Redis is away, owners keep serving what they own.
 */
export class ClusterDirectory implements SessionDirectory, ProxyHost {
  private readonly opts: ClusterDirectoryOptions;
  private readonly proxies = new Map<SessionId, SessionProxy>();
  private readonly loading = new Map<SessionId, Promise<SessionProxy | undefined>>();
  private readonly owned = new Map<
    SessionId,
    {
      lease: Lease;
      unpublish: () => void;
      published: { epoch: number; seq: number };
      /** Ended and stored, its lease let go (`onEnded`): not renewed or re-asserted again. */
      released: boolean;
    }
  >();
  private readonly takeovers = new Map<SessionId, Promise<Target | null>>();
  /** origin instance → session → participant → its connections there, for sessions we own. */
  private readonly remotePresence = new Map<string, Map<SessionId, Map<string, RemotePresence>>>();
  private stopRenewing: StopRepeating | null = null;
  private stopSweeping: StopRepeating | null = null;
  private stopped = false;

  constructor(private readonly deps: ClusterDirectoryDeps) {
    this.opts = { ...CLUSTER_DEFAULTS, ...deps.options };
  }

  get instanceId(): string {
    return this.deps.instanceId;
  }

  async start(): Promise<void> {
    this.deps.bus.serve((text) => this.serve(text));
    this.deps.bus.onReconnected(() => void this.reassert());
    // Background timers: housekeeping alone must not keep a process alive.
    const { clock } = this.deps;
    this.stopRenewing = repeatEvery(clock, this.opts.renewEveryMs, () => void this.renew(), {
      background: true,
    });
    this.stopSweeping = repeatEvery(clock, this.opts.sweepEveryMs, () => void this.sweep(), {
      background: true,
    });
  }

  /** Graceful stop: every owned session is stored and its lease released, for others to take over. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopRenewing?.();
    this.stopSweeping?.();
    await this.deps.registry.shutdown();
    for (const [, o] of this.owned) {
      o.unpublish();
      await this.deps.leases
        .release(o.lease)
        .catch((err: unknown) => this.deps.onError(err, "releasing a lease"));
    }
    this.owned.clear();
    for (const p of this.proxies.values()) p.retarget(null);
  }

  status(): DirectoryStatus {
    let owned = 0;
    for (const id of this.owned.keys()) if (!this.deps.registry.get(id)?.room.ended) owned += 1;
    return { cluster: this.deps.bus.connected ? "up" : "down", owned };
  }

  async find(id: string): Promise<RoomHandle | undefined> {
    const proxy = await this.proxyFor(id as SessionId);
    if (!proxy) return undefined;
    try {
      const target = await this.resolve(proxy, false);
      return target ? proxy : undefined;
    } catch (err) {
      // Redis away and we do not own it: the session exists; commands will say it is unavailable.
      this.deps.onError(err, `could not locate session ${id}`);
      return proxy;
    }
  }

  async findByPin(pin: string): Promise<RoomHandle | undefined> {
    const local = this.deps.registry.findByPin(pin);
    if (local) return this.find(local.id);
    const id = await this.deps.pins.lookup(pin);
    return id ? this.find(id) : undefined;
  }

  async create(input: CreateSessionInput): Promise<CreatedHandle> {
    const created = await this.deps.registry.create(input);
    const runtime = created.runtime;
    const acquired = await this.deps.leases.acquire(
      runtime.id,
      this.deps.instanceId,
      runtime.room.currentEpoch,
      this.opts.leaseTtlMs,
    );
    if (!acquired.ok) {
      // Cannot happen for a brand-new id unless Redis misbehaves; keep running it, the lease follows.
      this.deps.onError(new Error(`no lease for new session ${runtime.id}`), "creating a session");
    }
    const proxy = this.proxyOf(runtime.id, runtime.info);
    this.own(runtime, acquired.ok ? acquired.lease : this.leaseOf(runtime));
    proxy.retarget({ kind: "local", runtime });
    return {
      handle: proxy,
      hostParticipantId: created.hostParticipantId,
      hostToken: created.hostToken,
    };
  }

  /**
   * The registry tells us a room ended here. The ended room stays in memory for late
   * reconnects, but nobody needs to take it over: its lease goes once the end is stored. Let
   * go sooner, another instance asked about the session (a late joiner) took it over from the
   * database as it was before the end (a question still open) and fenced the end out: with
   * commits every 12 ms, a two-instance contest test did so every time. Until then the lease is
   * renewed like any other (`renew`): a disk slower than the lease's lifetime must not let it lapse.
   */
  onEnded(runtime: RoomRuntime): void {
    const o = this.owned.get(runtime.id);
    if (!o) return;
    void runtime
      .writesSettled()
      .then(() => {
        // Fenced out meanwhile (`onFenced`): the lease is another instance's now.
        if (this.owned.get(runtime.id) !== o) return;
        // Marked first: a renewal after the release would take the lease again.
        o.released = true;
        return this.deps.leases.release(o.lease);
      })
      .catch((err: unknown) => this.deps.onError(err, "releasing a lease"));
  }

  /** The registry tells us storage fenced a room out: another instance owns it now. */
  onFenced(runtime: RoomRuntime): void {
    this.disown(runtime.id);
    this.proxies.get(runtime.id)?.retarget(null);
  }

  // ------------------------------------------------------------------ ProxyHost

  async resolve(proxy: SessionProxy, force: boolean): Promise<Target | null> {
    const id = proxy.id;
    const local = this.deps.registry.get(id);
    if (local && this.owned.has(id)) {
      if (proxy.target?.kind !== "local" || proxy.target.runtime !== local)
        proxy.retarget({ kind: "local", runtime: local });
      return proxy.target;
    }
    const cached = proxy.target;
    if (
      !force &&
      cached?.kind === "remote" &&
      this.deps.clock.now() - cached.at < this.opts.ownerCacheMs
    )
      return cached;
    const holder = await this.deps.leases.holder(id);
    if (holder && holder.instanceId !== this.deps.instanceId) {
      const target: Target = {
        kind: "remote",
        owner: holder.instanceId,
        at: this.deps.clock.now(),
      };
      proxy.retarget(target);
      return target;
    }
    return this.takeOver(proxy);
  }

  /** Not async itself: untraced, the bus's promise is handed back with no extra turn. */
  forward(
    owner: string,
    sessionId: SessionId,
    actor: Actor,
    command: Command,
    opts?: ExecuteOptions,
  ): Promise<Reply<CommandResult>> {
    const request: ForwardedCommand = { sessionId, actor, command, origin: this.deps.instanceId };
    if (opts?.dedupeKey) request.dedupeKey = opts.dedupeKey;
    if (this.deps.tracer !== undefined) return this.forwardTraced(this.deps.tracer, owner, request);
    return this.send(owner, request);
  }

  private async send(owner: string, request: ForwardedCommand): Promise<Reply<CommandResult>> {
    const text = await this.deps.bus.request(
      owner,
      JSON.stringify(request),
      this.opts.requestTimeoutMs,
    );
    return JSON.parse(text) as Reply<CommandResult>;
  }

  /** A forwarded command's span, from sending it to its reply; its context travels in the request. */
  private async forwardTraced(
    tracer: Tracer,
    owner: string,
    request: ForwardedCommand,
  ): Promise<Reply<CommandResult>> {
    const span = tracer.start(`forward ${request.command.type}`, {
      kind: "client",
      attributes: {
        [TRACE_ATTRIBUTES.roomId]: request.sessionId,
        [TRACE_ATTRIBUTES.msgType]: request.command.type,
        "quizwire.owner": owner,
      },
    });
    const traceparent = tracer.inject(span.parent);
    if (traceparent !== undefined) request.traceparent = traceparent;
    try {
      const reply = await this.send(owner, request);
      if (!reply.ok) span.set(TRACE_ATTRIBUTES.errorCode, reply.error.code);
      return reply;
    } catch (err) {
      span.fail(err instanceof Error ? err.message : String(err));
      throw err;
    } finally {
      span.end();
    }
  }

  subscribeRemote(
    sessionId: SessionId,
    onEvent: (text: string) => void,
  ): Promise<() => Promise<void>> {
    return this.deps.bus.subscribeRoomEvents(sessionId, onEvent);
  }

  onError(err: unknown, context: string): void {
    this.deps.onError(err, context);
  }

  /**
   * Nobody listens for the lease holder any more: it died before its lease ran out. Its lease
   * is released (only if still exactly its) so the session can be taken over now rather than
   * after the TTL. Were it merely slow to resubscribe, fencing makes this safe: it would lose
   * the session, never write over its successor.
   */
  async ownerGone(proxy: SessionProxy, owner: string): Promise<void> {
    try {
      const holder = await this.deps.leases.holder(proxy.id);
      if (holder && holder.instanceId === owner) await this.deps.leases.release(holder);
    } catch (err) {
      this.deps.onError(err, "releasing a dead owner's lease");
    }
  }

  // ------------------------------------------------------------------ ownership

  private async takeOver(proxy: SessionProxy): Promise<Target | null> {
    const id = proxy.id;
    const running = this.takeovers.get(id);
    if (running) return running;
    const attempt = (async (): Promise<Target | null> => {
      if (this.stopped) return null;
      const stored = await this.deps.storage.sessions.epochOf(id);
      if (stored === undefined) return null;
      const next = stored + 1;
      const acquired = await this.deps.leases.acquire(
        id,
        this.deps.instanceId,
        next,
        this.opts.leaseTtlMs,
      );
      if (!acquired.ok) {
        if (!acquired.holder) return null;
        const target: Target = {
          kind: "remote",
          owner: acquired.holder.instanceId,
          at: this.deps.clock.now(),
        };
        proxy.retarget(target);
        return target;
      }
      const runtime = await this.deps.registry.adopt(id, next);
      if (!runtime) {
        // Ended, or another instance claimed a newer epoch first: the lease is not ours to keep.
        await this.deps.leases.release(acquired.lease);
        proxy.retarget(null);
        return null;
      }
      this.own(runtime, acquired.lease);
      const target: Target = { kind: "local", runtime };
      proxy.retarget(target);
      return target;
    })();
    this.takeovers.set(id, attempt);
    try {
      return await attempt;
    } finally {
      this.takeovers.delete(id);
    }
  }

  /** Runs a session here: its events go out on the bus for every other instance. */
  private own(runtime: RoomRuntime, lease: Lease): void {
    // The last event handed to the bus, for beacons. Not the room's own sequence: events a stored
    // answer causes are numbered at once but go out a turn later, and a beacon naming one of them
    // first would make every watcher resync and then drop the event as a duplicate.
    const published = { epoch: runtime.room.currentEpoch, seq: runtime.room.currentSeq };
    const unpublish = runtime.subscribe((e) => {
      published.epoch = e.epoch;
      published.seq = e.seq;
      const ranks = e.body.type === "leaderboard" ? () => runtime.room.rankList() : undefined;
      this.deps.bus
        .publishRoomEvent(runtime.id, encodeRoomEvent(e, ranks))
        .catch((err: unknown) => {
          // Redis away: remote instances will see the gap and resync once it is back.
          this.deps.onError(err, "publishing a room event");
        });
    });
    this.owned.set(runtime.id, { lease, unpublish, published, released: false });
  }

  private disown(id: SessionId): void {
    const o = this.owned.get(id);
    if (!o) return;
    o.unpublish();
    this.owned.delete(id);
    this.deps.registry.relinquish(id);
  }

  private leaseOf(runtime: RoomRuntime): Lease {
    return {
      sessionId: runtime.id,
      instanceId: this.deps.instanceId,
      epoch: runtime.room.currentEpoch,
    };
  }

  private async renew(): Promise<void> {
    if (!this.deps.bus.connected) return; // degraded: keep serving what we own
    for (const [id, o] of [...this.owned]) {
      // An ended room is renewed until its end is stored and the lease let go (`onEnded`).
      if (o.released || !this.deps.registry.get(id)) continue;
      try {
        const renewed = await this.deps.leases.renew(o.lease, this.opts.leaseTtlMs);
        // Let go while the renewal was on its way: nothing to take again.
        if (o.released) continue;
        if (!renewed && !(await this.renewedLate(id, o.lease))) {
          this.lost(id);
          continue;
        }
        // Pub/sub loses messages silently (Redis restarts, full buffers): a beacon with the
        // latest published sequence lets every watcher notice a loss even when no new event follows.
        await this.deps.bus.publishRoomEvent(id, encodeBeacon({ ...o.published }));
      } catch (err) {
        this.deps.onError(err, "renewing a lease");
      }
    }
  }

  /**
   * A renewal that came after the lease expired (the loop or Redis was that far behind: a single
   * instance on Postgres under a 10,000-player question lost its own session this way and took it
   * over again from the database, refusing the answers in flight). If nobody took the lease since,
   * it is taken again at the same epoch and the session stays here. Safe for the reason takeovers
   * are: an instance that did take it claimed a newer epoch in storage first, so this one's writes
   * are fenced out and it lets go (`onFenced`). True when the lease is ours again.
   */
  private async renewedLate(id: SessionId, lease: Lease): Promise<boolean> {
    if (!(await this.reacquire(id, lease))) return false;
    this.deps.onError(
      new Error(`the lease of session ${id} expired before its renewal and was taken again`),
      "lease renewed late",
    );
    return true;
  }

  /** Takes a lease this instance held again at its epoch, unless someone else holds it now. */
  private async reacquire(id: SessionId, lease: Lease): Promise<boolean> {
    const again = await this.deps.leases.acquire(
      id,
      this.deps.instanceId,
      lease.epoch,
      this.opts.leaseTtlMs,
    );
    return again.ok;
  }

  /** After Redis came back (possibly empty): claim our leases again before anyone else does. */
  private async reassert(): Promise<void> {
    for (const [id, o] of [...this.owned]) {
      if (o.released) continue;
      try {
        if (!(await this.reacquire(id, o.lease))) this.lost(id);
      } catch (err) {
        this.deps.onError(err, "re-asserting a lease");
      }
    }
  }

  private lost(id: SessionId): void {
    this.deps.onError(new Error(`lost the lease of session ${id}`), "lease lost");
    this.disown(id);
    this.proxies.get(id)?.retarget(null);
  }

  /** Watched sessions whose owner vanished are taken over without waiting for a client. */
  private async sweep(): Promise<void> {
    if (this.stopped || !this.deps.bus.connected) return;
    await this.dropDeadOrigins();
    for (const proxy of this.proxies.values()) {
      if (proxy.subscriberCount === 0 || proxy.target?.kind === "local") continue;
      try {
        await this.resolve(proxy, true);
      } catch (err) {
        this.deps.onError(err, "sweeping sessions");
      }
    }
  }

  /** Requests from other instances: commands for sessions we own. */
  private async serve(text: string): Promise<string> {
    const req = JSON.parse(text) as ForwardedCommand;
    const runtime = this.deps.registry.get(req.sessionId);
    if (!runtime || !this.owned.has(req.sessionId)) return JSON.stringify(NOT_OWNER);
    const opts: ExecuteOptions = req.dedupeKey ? { dedupeKey: req.dedupeKey } : {};
    const tracer = this.deps.tracer;
    const reply =
      tracer === undefined
        ? await runtime.execute(req.actor, req.command, opts)
        : await this.serveTraced(tracer, runtime, req, opts);
    if (reply.ok && req.command.type === "presence") this.notePresence(req, req.command.connected);
    return JSON.stringify(reply);
  }

  /** A forwarded command on the owner: under the sender's span when it sent its trace context. */
  private async serveTraced(
    tracer: Tracer,
    runtime: RoomRuntime,
    req: ForwardedCommand,
    opts: ExecuteOptions,
  ): Promise<Reply<CommandResult>> {
    const parent = req.traceparent === undefined ? undefined : tracer.extract(req.traceparent);
    const span = tracer.start(`serve ${req.command.type}`, {
      parent: parent ?? null,
      kind: "server",
      attributes: {
        [TRACE_ATTRIBUTES.roomId]: req.sessionId,
        [TRACE_ATTRIBUTES.msgType]: req.command.type,
        "quizwire.origin": req.origin,
      },
    });
    try {
      return await tracer.within(span, () => runtime.execute(req.actor, req.command, opts));
    } finally {
      span.end();
    }
  }

  /** Remembers which instance holds a participant's connections, to undo them if it dies. */
  private notePresence(req: ForwardedCommand, connected: boolean): void {
    const pid = req.actor.participantId;
    if (!pid) return;
    let sessions = this.remotePresence.get(req.origin);
    if (!sessions) {
      sessions = new Map();
      this.remotePresence.set(req.origin, sessions);
    }
    let members = sessions.get(req.sessionId);
    if (!members) {
      members = new Map();
      sessions.set(req.sessionId, members);
    }
    const entry = members.get(pid) ?? { actor: req.actor, count: 0 };
    entry.count = Math.max(0, entry.count + (connected ? 1 : -1));
    if (entry.count === 0) members.delete(pid);
    else members.set(pid, entry);
  }

  /**
   * An instance that died took its connections with it, but never said so: the
   * players it held are marked disconnected here, so "every connected player has
   * answered" (T-3) and the host's roster stop counting them.
   */
  private async dropDeadOrigins(): Promise<void> {
    for (const [origin, sessions] of [...this.remotePresence]) {
      let alive: boolean;
      try {
        alive = await this.deps.bus.isAlive(origin);
      } catch {
        continue; // Redis away: cannot tell, try again later
      }
      if (alive) continue;
      this.remotePresence.delete(origin);
      for (const [sessionId, members] of sessions) {
        const runtime = this.deps.registry.get(sessionId);
        if (!runtime || !this.owned.has(sessionId)) continue;
        for (const { actor, count } of members.values()) {
          for (let i = 0; i < count; i++) {
            await runtime.execute(actor, { type: "presence", connected: false });
          }
        }
      }
    }
  }

  // ------------------------------------------------------------------ proxies

  private proxyOf(id: SessionId, info: SessionInfo): SessionProxy {
    let p = this.proxies.get(id);
    if (!p) {
      p = new SessionProxy(id, info, this);
      this.proxies.set(id, p);
    }
    return p;
  }

  private async proxyFor(id: SessionId): Promise<SessionProxy | undefined> {
    const known = this.proxies.get(id);
    if (known) return known;
    const local = this.deps.registry.get(id);
    if (local) return this.proxyOf(id, local.info);
    let loading = this.loading.get(id);
    if (!loading) {
      loading = this.deps.storage.sessions.load(id).then((bundle) => {
        if (!bundle || bundle.session.state.phase.kind === "ended") return undefined;
        const { state: _state, ...info } = bundle.session;
        return this.proxyOf(id, info);
      });
      this.loading.set(id, loading);
      void loading.finally(() => this.loading.delete(id));
    }
    return loading;
  }
}
