import type { DomainError } from "../../domain/errors.js";
import type { SessionId } from "../../domain/ids.js";
import { ClusterUndeliveredError } from "../../ports/cluster.js";
import { decodeBeacon, decodeRoomEvent } from "../event-codec.js";
import type { ExecuteOptions, RoomHandle, SessionInfo } from "../room-handle.js";
import type { RoomRuntime } from "../room-runtime.js";
import type {
  Actor,
  Command,
  CommandResult,
  Reply,
  ResultOf,
  RoomEvent,
  RoomListener,
} from "../types.js";

/** Where a session runs, as far as this instance knows. */
export type Target =
  | { kind: "local"; runtime: RoomRuntime }
  | { kind: "remote"; owner: string; at: number };

/** What a proxy needs from its directory. */
export interface ProxyHost {
  /** Works out (and if need be takes over) where the session runs; null when it is not open. */
  resolve(proxy: SessionProxy, force: boolean): Promise<Target | null>;
  /** Sends a command to the owner; rejects when the bus cannot deliver or no reply comes. */
  forward(
    owner: string,
    sessionId: SessionId,
    actor: Actor,
    command: Command,
    opts?: ExecuteOptions,
  ): Promise<Reply<CommandResult>>;
  subscribeRemote(
    sessionId: SessionId,
    onEvent: (text: string) => void,
  ): Promise<() => Promise<void>>;
  /** A request to `owner` could not be delivered (it is gone): free its claim so we can take over. */
  ownerGone(proxy: SessionProxy, owner: string): Promise<void>;
  onError(err: unknown, context: string): void;
}

interface Subscriber {
  listener: RoomListener;
  onResync: (() => void) | undefined;
}

const UNAVAILABLE: DomainError = {
  code: "UNAVAILABLE",
  msg: "the server running this session cannot be reached right now; please retry",
  reason: "owner_unreachable",
};
const CLOSED: DomainError = {
  code: "NOT_FOUND",
  msg: "this room is no longer open",
  reason: "room_closed",
};

/**
 * One session as seen from this instance, stable for the session's life here:
 * doors subscribe to it once, and it follows the session as ownership moves —
 * delivering a local runtime's events directly, or a remote owner's from the
 * bus with sequence checks — and tells its subscribers to resync whenever
 * events may have been missed.
 */
export class SessionProxy implements RoomHandle {
  target: Target | null = null;
  private readonly subscribers = new Set<Subscriber>();
  private detach: (() => void) | null = null;
  private detachingRemote: Promise<void> | null = null;
  private lastEpoch = 0;
  private lastSeq = 0;

  constructor(
    readonly id: SessionId,
    readonly info: SessionInfo,
    private readonly host: ProxyHost,
  ) {}

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  execute<C extends Command>(
    actor: Actor,
    command: C,
    opts?: ExecuteOptions,
  ): Promise<Reply<ResultOf<C>>> {
    // The owner answers each command type with that type's result (CommandResults).
    return this.executeAny(actor, command, opts) as Promise<Reply<ResultOf<C>>>;
  }

  private async executeAny(
    actor: Actor,
    command: Command,
    opts?: ExecuteOptions,
  ): Promise<Reply<CommandResult>> {
    for (let attempt = 0; attempt < 3; attempt++) {
      let target: Target | null;
      try {
        target = await this.host.resolve(this, attempt > 0);
      } catch (err) {
        this.host.onError(err, `could not locate session ${this.id}`);
        return { ok: false, error: UNAVAILABLE };
      }
      if (!target) return { ok: false, error: CLOSED };
      if (target.kind === "local") return target.runtime.execute(actor, command, opts);
      let reply: Reply<CommandResult>;
      try {
        reply = await this.host.forward(target.owner, this.id, actor, command, opts);
      } catch (err) {
        if (err instanceof ClusterUndeliveredError) {
          // Certainly not applied: the owner is gone. Take the session over and send it again.
          this.target = null;
          await this.host.ownerGone(this, target.owner);
          continue;
        }
        // It may have been applied and only the reply lost: never resend it from here. The client's
        // retry (same dedupe key) finds the owner's remembered reply.
        this.host.onError(err, `forwarding ${command.type} to ${target.owner}`);
        this.target = null;
        return { ok: false, error: UNAVAILABLE };
      }
      if (!reply.ok && reply.error.reason === "not_owner") {
        // Refused unapplied: the session moved. Find its new owner and try again.
        this.target = null;
        continue;
      }
      return reply;
    }
    return { ok: false, error: UNAVAILABLE };
  }

  subscribe(listener: RoomListener, onResync?: () => void): () => void {
    const sub: Subscriber = { listener, onResync };
    this.subscribers.add(sub);
    if (this.subscribers.size === 1) this.attach();
    return () => {
      this.subscribers.delete(sub);
      if (this.subscribers.size === 0) this.unattach();
    };
  }

  /** The directory moved the session (taken over here, or found elsewhere): follow it and resync. */
  retarget(target: Target | null): void {
    const before = this.target;
    this.target = target;
    const moved =
      before?.kind !== target?.kind ||
      (before?.kind === "local" && target?.kind === "local" && before.runtime !== target.runtime) ||
      (before?.kind === "remote" && target?.kind === "remote" && before.owner !== target.owner);
    if (!moved || this.subscribers.size === 0) return;
    this.unattach();
    this.attach();
    this.resync();
  }

  private attach(): void {
    const t = this.target;
    if (t?.kind === "local") {
      this.detach = t.runtime.subscribe((e, more) => this.deliver(e, more));
      return;
    }
    // Remote or not yet known: listen on the bus; whoever owns the session publishes there.
    let unsubscribe: (() => Promise<void>) | null = null;
    let cancelled = false;
    this.host
      .subscribeRemote(this.id, (text) => this.fromBus(text))
      .then(
        (u) => {
          if (cancelled) {
            void u();
            return;
          }
          unsubscribe = u;
          // Events published before the subscription was live are gone unnoticed (the first
          // event sets the baseline): subscribers catch up now.
          this.resync();
        },
        (err: unknown) => this.host.onError(err, `subscribing to session ${this.id}`),
      );
    this.detach = () => {
      cancelled = true;
      if (unsubscribe) this.detachingRemote = unsubscribe();
    };
  }

  private unattach(): void {
    this.detach?.();
    this.detach = null;
    this.lastEpoch = 0;
    this.lastSeq = 0;
  }

  private fromBus(text: string): void {
    if (this.target?.kind === "local") return; // we own it now; the runtime delivers directly
    const beacon = decodeBeacon(text);
    if (beacon) {
      const ahead =
        beacon.epoch > this.lastEpoch ||
        (beacon.epoch === this.lastEpoch && beacon.seq > this.lastSeq);
      if (ahead) {
        // Events were published that never arrived: catch up from a snapshot.
        this.lastEpoch = beacon.epoch;
        this.lastSeq = beacon.seq;
        this.resync();
      }
      return;
    }
    let event: RoomEvent;
    try {
      event = decodeRoomEvent(text);
    } catch (err) {
      this.host.onError(err, "undecodable room event");
      return;
    }
    if (event.epoch < this.lastEpoch) return;
    let missed = false;
    if (event.epoch > this.lastEpoch) {
      // A new owner (or our first event): whatever came before is covered by a fresh snapshot.
      missed = this.lastEpoch !== 0;
    } else if (event.seq <= this.lastSeq) {
      return; // a duplicate
    } else if (event.seq > this.lastSeq + 1) {
      missed = true; // pub/sub lost something on the way
    }
    this.lastEpoch = event.epoch;
    this.lastSeq = event.seq;
    this.deliver(event);
    if (missed) this.resync();
  }

  private deliver(event: RoomEvent, more = false): void {
    for (const s of this.subscribers) {
      try {
        s.listener(event, more);
      } catch (err) {
        this.host.onError(err, `listener failed on ${event.body.type}`);
      }
    }
  }

  private resync(): void {
    for (const s of this.subscribers) {
      try {
        s.onResync?.();
      } catch (err) {
        this.host.onError(err, "resync failed");
      }
    }
  }

  /** Waits for a pending bus unsubscription (tests, shutdown). */
  async settled(): Promise<void> {
    await this.detachingRemote;
  }
}
