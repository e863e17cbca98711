import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type { RawData, WebSocket } from "ws";
import type { Tracer } from "../../ports/tracing.js";
import type { OriginPolicy } from "../origin-policy.js";
import { CLOSE_REASONS } from "./close-codes.js";
import { Heartbeat } from "./heartbeat.js";
import type { DoorSocket, SocketEvents } from "./socket.js";
import { sharedTextFrame, sharedTextFrames } from "./text-frame.js";
import { TurnQueue } from "./turn-writes.js";
import { type Admission, type Refusal, UpgradeGate } from "./upgrade.js";

/**
 * A `ws` socket as the driver sees it. `ws` does the handshake, reads and
 * answers control frames and closes; every data frame the server sends is
 * framed here and written straight to the network socket: bytes shared by
 * many (a broadcast) are framed once, a text made for one recipient (a reply)
 * is written as text into the turn's one write. Frames are queued for the turn (`TurnQueue`) and
 * written once per socket at its end, so a turn that sends a socket several
 * frames costs one system call. `ws` writes control frames to the same stream
 * synchronously (permessage-deflate is off, so it never queues); a close
 * writes the queued frames first, so frames keep their order before it, and
 * `bufferedAmount` counts the queue too.
 */
class WsSocket implements DoorSocket {
  private readonly queue: TurnQueue;

  constructor(
    private readonly ws: WebSocket,
    raw: Duplex,
  ) {
    this.queue = new TurnQueue((bytes) => {
      // The socket may have closed between the send and the end of the turn.
      if (!this.isOpen) return true;
      raw.write(bytes);
      // Nothing left in the stream: the kernel took every byte within the write, and neither
      // the stream nor libuv holds them (a partial write, or one behind another, keeps them).
      return raw.writableLength === 0;
    });
  }

  send(frame: string | Buffer, reply = false, mayWait = false): void {
    // Nothing follows a close frame (RFC 6455 §5.5.1); `ws` dropped such sends too.
    if (!this.isOpen) return;
    if (typeof frame !== "string") {
      this.queue.push(sharedTextFrame(frame), reply, mayWait);
      return;
    }
    // A text made for this client (a reply) goes in as text, framed and written into the turn's
    // joined write: no buffer of its own from Node's pool, whose fresh pages fault (turn-writes.ts).
    this.queue.pushTextFrame(null, frame, Buffer.byteLength(frame), null, reply);
  }

  sendSpliced(
    before: Buffer,
    part: string | Buffer,
    after: Buffer,
    reply = false,
    lead?: readonly Buffer[],
  ): void {
    if (!this.isOpen) return;
    // One queued frame: the turn's write joins it with the socket's other frames in one copy.
    const bytes = typeof part === "string" ? Buffer.byteLength(part) : part.length;
    const framedLead = lead === undefined || lead.length === 0 ? null : sharedTextFrames(lead);
    this.queue.pushTextFrame(before, part, bytes, after, reply, framedLead);
  }

  sendAll(payloads: readonly Buffer[]): void {
    if (!this.isOpen) return;
    this.queue.push(sharedTextFrames(payloads));
  }

  /** Every frame of a turn already goes out in one write. */
  batch(fn: () => void): void {
    fn();
  }

  close(code: number, reason: string): void {
    this.queue.flush();
    this.ws.close(code, reason);
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount + this.queue.bytes;
  }

  get isOpen(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }
}

/** One client frame as bytes, whatever shape `ws` delivered it in. */
function bytesOf(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export interface WsTransportOptions {
  /** Frames beyond this are not even read: ws closes with 1009. */
  maxPayload: number;
  heartbeatMs: number;
  /** The close code for a socket that did not answer the last ping. */
  heartbeatTimeoutCode: number;
  origins: OriginPolicy;
  log: Logger;
  /** What an admission that fails (throws) is logged as. */
  failure: string;
  /** Writes a refusal; a plain HTTP response unless the door counts it first. */
  refuse?: (socket: Duplex, refusal: Refusal) => void;
  /** Told how upgrades end and when sockets fail (the door's metrics). */
  observer?: {
    upgraded(startedMs: number, status: number): void;
    socketFailed(): void;
  };
  /** Traces upgrades; absent, tracing is off. */
  tracer?: Tracer;
  /** The door's name, on its upgrade spans. */
  door?: string;
}

/** A door's admission, opening a DoorSocket instead of a ws WebSocket. */
export type SocketAdmission<R extends { ok: true } | Refusal> = Omit<Admission<R>, "open"> & {
  /** The socket is open: the door registers it and says where its frames go. */
  open: (socket: DoorSocket, admitted: Extract<R, { ok: true }>) => SocketEvents;
};

/**
 * The `ws` side of a door: upgrades through the UpgradeGate (origin check, the
 * door's admission, the handshake), protocol-level pings, and each socket's
 * frames and close handed to the driver as bytes. The only place a door meets `ws`.
 */
export class WsTransport {
  private readonly gate: UpgradeGate;
  private readonly heartbeat: Heartbeat<WebSocket>;

  constructor(private readonly opts: WsTransportOptions) {
    this.gate = new UpgradeGate({
      maxPayload: opts.maxPayload,
      origins: opts.origins,
      log: opts.log,
      failure: opts.failure,
      ...(opts.refuse ? { refuse: opts.refuse } : {}),
      ...(opts.observer
        ? { settled: (t: number, status: number) => opts.observer?.upgraded(t, status) }
        : {}),
      ...(opts.tracer ? { tracer: opts.tracer } : {}),
      ...(opts.door ? { door: opts.door } : {}),
    });
    this.heartbeat = new Heartbeat<WebSocket>(opts.heartbeatMs, (ws) => {
      ws.close(opts.heartbeatTimeoutCode, CLOSE_REASONS.noPong);
      ws.terminate();
    });
  }

  accept<R extends { ok: true } | Refusal>(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    admission: SocketAdmission<R>,
  ): void {
    this.gate.accept(req, socket, head, {
      ...admission,
      open: (ws, admitted, raw) => this.wire(ws, admission.open(new WsSocket(ws, raw), admitted)),
    });
  }

  /**
   * The socket's listeners, made here rather than inside `accept`: a closure keeps its whole
   * enclosing scope alive, and `accept`'s holds the upgrade request (its headers, about a
   * kilobyte) for as long as the connection lasts.
   */
  private wire(ws: WebSocket, events: SocketEvents): void {
    this.heartbeat.add(ws);
    ws.on("message", (data, isBinary) => events.onMessage(bytesOf(data), isBinary));
    ws.on("close", () => {
      this.heartbeat.remove(ws);
      events.onClose();
    });
    ws.on("error", (err) => {
      this.opts.observer?.socketFailed();
      this.opts.log.debug({ err }, "socket error");
    });
  }

  /** Stops the pings (the driver closes the sockets). */
  stop(): void {
    this.heartbeat.stop();
  }
}
