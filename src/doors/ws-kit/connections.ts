import type { Logger } from "pino";
import type { RawData, WebSocket } from "ws";
import type { MemoryRateLimiter } from "../../adapters/memory/memory-rate-limiter.js";
import { CLOSE_REASONS, type KitCloseCodes } from "./close-codes.js";
import type { DoorMetrics } from "./door-metrics.js";
import { Heartbeat } from "./heartbeat.js";
import { type GuardLimits, InboundGuard } from "./inbound-guard.js";

/** What the registry needs of a door's connection object. */
export interface RegisteredConn {
  readonly id: number;
  readonly ws: WebSocket;
  readonly guard: InboundGuard;
  /** Set by the registry once the socket has closed. */
  closed: boolean;
}

/** The limits every door sets for its connections. */
export interface ConnectionLimits extends GuardLimits {
  /** Frames beyond this are not even read: ws closes with 1009. */
  hardMaxFrameBytes: number;
  heartbeatMs: number;
  /** A client this far behind (bytes buffered) is disconnected. */
  slowConsumerBytes: number;
  /** A client this far behind skips coalescible frames until it catches up; without it none are skipped. */
  coalesceAboveBytes?: number;
}

/** A door's connection limits unless its seed names others. */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  hardMaxFrameBytes: 64 * 1024,
  messagesPerSecond: 20,
  messageBurst: 40,
  floodCloseAfter: 200,
  strikesPerMinute: 10,
  heartbeatMs: 30_000,
  slowConsumerBytes: 4 * 1024 * 1024,
};

/** How a door closes one of its connections. */
export type Closer<C> = (conn: C, code: number, reason: string) => void;

export interface ConnectionRegistryOptions<C> {
  metrics: DoorMetrics;
  limiter: MemoryRateLimiter;
  limits: ConnectionLimits;
  closeCodes: KitCloseCodes;
  log: Logger;
  onMessage: (conn: C, data: RawData, isBinary: boolean) => void;
  /** Called once per connection, after the registry has let go of it. */
  onClose: (conn: C) => void;
  /** A message over the rate limit (short of a flood): tell the client how long to wait. */
  onLimited?: (conn: C, retryAfterMs: number) => void;
  /** How the kit closes a connection (floods, strikes, slow clients, shutdown); `ws.close` by default. */
  close?: Closer<C>;
  /** The reason a slow client is closed with. */
  slowReason?: string;
  /** What a socket error is logged as (at debug). */
  socketError?: string;
}

/** A backpressure check before a push: send it, skip it, or the client was closed as too slow. */
export type Pressure = "send" | "skip" | "closed";

function wsClose(conn: RegisteredConn, code: number, reason: string): void {
  conn.ws.close(code, reason);
}

/**
 * A door's open connections and the plumbing every door gives each one:
 * protocol pings, the per-connection inbound guard, the connection gauge,
 * socket listeners, close handling, and sends with backpressure checks.
 */
export class ConnectionRegistry<C extends RegisteredConn> implements Iterable<C> {
  private readonly conns = new Set<C>();
  private readonly heartbeat: Heartbeat;
  private readonly close: Closer<C>;
  private nextId = 1;

  constructor(private readonly opts: ConnectionRegistryOptions<C>) {
    this.close = opts.close ?? wsClose;
    this.heartbeat = new Heartbeat(opts.limits.heartbeatMs, (ws) => {
      ws.close(opts.closeCodes.heartbeatTimeout, CLOSE_REASONS.noPong);
      ws.terminate();
    });
  }

  get size(): number {
    return this.conns.size;
  }

  [Symbol.iterator](): Iterator<C> {
    return this.conns.values();
  }

  /**
   * Registers a new socket: `create` builds the door's connection from its id
   * and inbound guard (keyed `<door>:<id>` unless `guardKey` says otherwise).
   */
  open(ws: WebSocket, create: (id: number, guard: InboundGuard) => C, guardKey?: string): C {
    const { metrics, limiter, limits, log } = this.opts;
    const id = this.nextId++;
    const conn = create(id, new InboundGuard(limiter, limits, guardKey ?? `${metrics.door}:${id}`));
    this.conns.add(conn);
    this.heartbeat.add(ws);
    metrics.connected();
    ws.on("message", (data, isBinary) => this.opts.onMessage(conn, data, isBinary));
    ws.on("close", () => this.release(conn));
    ws.on("error", (err) => log.debug({ err, conn: id }, this.opts.socketError ?? "socket error"));
    return conn;
  }

  /**
   * Stops the pings and closes every connection (1001) so clients reconnect
   * elsewhere: with the door's `close` unless another is given.
   */
  shutdown(close: Closer<C> = this.close): void {
    this.heartbeat.stop();
    for (const c of this.conns) close(c, this.opts.closeCodes.goingAway, CLOSE_REASONS.shutdown);
  }

  /**
   * Whether the next message may be read. A flood that goes on closes the
   * connection; short of that, the door's `onLimited` answers the message.
   */
  admit(conn: C): boolean {
    const verdict = conn.guard.admit();
    if (verdict.ok) return true;
    if (verdict.close) this.close(conn, this.opts.closeCodes.rateLimited, CLOSE_REASONS.flood);
    else this.opts.onLimited?.(conn, verdict.retryAfterMs);
    return false;
  }

  /** Counts an invalid message (the door has answered it); too many close the connection. */
  strike(conn: C): void {
    if (conn.guard.strike()) {
      this.close(conn, this.opts.closeCodes.protocolViolations, CLOSE_REASONS.strikes);
    }
  }

  /**
   * Backpressure before a push: a client too far behind is closed, one
   * somewhat behind skips frames a later one replaces (`coalescible`).
   */
  pressure(conn: C, coalescible?: boolean): Pressure {
    const { slowConsumerBytes, coalesceAboveBytes } = this.opts.limits;
    const buffered = conn.ws.bufferedAmount;
    if (buffered > slowConsumerBytes) {
      this.close(
        conn,
        this.opts.closeCodes.rateLimited,
        this.opts.slowReason ?? CLOSE_REASONS.slow,
      );
      return "closed";
    }
    if (coalescible && coalesceAboveBytes !== undefined && buffered > coalesceAboveBytes) {
      return "skip";
    }
    return "send";
  }

  /** Sends one text frame to an open connection, counted under `type`; false when it is not open. */
  send(conn: C, frame: string | Buffer, type: string): boolean {
    if (conn.closed || conn.ws.readyState !== conn.ws.OPEN) return false;
    conn.ws.send(frame, { binary: false });
    this.opts.metrics.sent(type);
    return true;
  }

  private release(conn: C): void {
    if (conn.closed) return;
    conn.closed = true;
    this.conns.delete(conn);
    this.heartbeat.remove(conn.ws);
    this.opts.metrics.disconnected();
    this.opts.onClose(conn);
  }
}
