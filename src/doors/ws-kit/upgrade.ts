import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { type WebSocket, WebSocketServer } from "ws";
import { AuthError } from "../../auth/identity.js";
import type { ErrorCode } from "../../domain/errors.js";
import { TRACE_ATTRIBUTES, type Tracer } from "../../ports/tracing.js";
import type { OriginPolicy } from "../origin-policy.js";
import { rejectUpgrade } from "./frames.js";

/** A WebSocket server every door uses: upgrades routed by us, no compression, no tracking. */
function createWsServer(maxPayload: number): WebSocketServer {
  // permessage-deflate stays off: it costs CPU per recipient and defeats serialize-once broadcasts.
  return new WebSocketServer({
    noServer: true,
    maxPayload,
    perMessageDeflate: false,
    clientTracking: false,
  });
}

/** An upgrade turned down before any WebSocket exists: the HTTP status, the text, and a code to count it under. */
export interface Refusal {
  ok: false;
  status: number;
  message: string;
  code?: ErrorCode;
}

const ORIGIN_REFUSED: Refusal = {
  ok: false,
  status: 403,
  message: "origin not allowed",
  code: "FORBIDDEN",
};
const INTERNAL_REFUSED: Refusal = {
  ok: false,
  status: 500,
  message: "internal error",
  code: "INTERNAL",
};

export interface UpgradeGateOptions {
  /** Frames beyond this are not even read: ws closes with 1009. */
  maxPayload: number;
  /** Which browser origins may connect (403 otherwise). */
  origins: OriginPolicy;
  log: Logger;
  /** What an admission that fails (throws) is logged as. */
  failure: string;
  /** Writes a refusal; `rejectUpgrade` unless the door counts it first. */
  refuse?: (socket: Duplex, refusal: Refusal) => void;
  /**
   * While an admission is pending nobody listens on the raw socket: it is
   * destroyed on an error (a reset must not crash the server), and the verdict
   * dropped if the socket is gone by then. On unless set to false.
   */
  guardSocket?: boolean;
  /** Told how each upgrade ended (101 or the refusal's status), with `performance.now()` at its start. */
  settled?: (startedMs: number, status: number) => void;
  /** Traces each upgrade from the request to the handshake or refusal; absent, tracing is off. */
  tracer?: Tracer;
  /** The door's name, on its upgrade spans. */
  door?: string;
}

/** A door's decision about one upgrade, and what to do with the socket once it is open. */
export interface Admission<R extends { ok: true } | Refusal> {
  /** The door's checks: identity, what the client asks for; a refusal or what the door needs to open. */
  admit: () => R | Promise<R>;
  /**
   * Checked in the same tick as the handshake, after the admission: a limit
   * that other upgrades finishing meanwhile could use up (a per-client cap).
   */
  recheck?: (admitted: Extract<R, { ok: true }>) => Refusal | null;
  open: (ws: WebSocket, admitted: Extract<R, { ok: true }>, socket: Duplex) => void;
  /** Logged with a failed admission. */
  context?: Record<string, unknown>;
}

/**
 * Every door's upgrade: the Origin check (403), the door's admission (its own
 * refusals; an AuthError is 401; anything else thrown is logged and 500), then
 * the WebSocket handshake on a server with no compression and a small maxPayload.
 */
export class UpgradeGate {
  private readonly wss: WebSocketServer;

  constructor(private readonly opts: UpgradeGateOptions) {
    this.wss = createWsServer(opts.maxPayload);
  }

  accept<R extends { ok: true } | Refusal>(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    admission: Admission<R>,
  ): void {
    const started = performance.now();
    const write =
      this.opts.refuse ?? ((s: Duplex, r: Refusal) => rejectUpgrade(s, r.status, r.message));
    const refuse = (s: Duplex, r: Refusal): void => {
      write(s, r);
      this.opts.settled?.(started, r.status);
    };
    if (this.opts.tracer !== undefined) {
      this.acceptTraced(this.opts.tracer, req, socket, head, admission, refuse, started);
      return;
    }
    this.decide(req, socket, head, admission, refuse, started);
  }

  /**
   * An upgrade's span, ended with the handshake (101) or the refusal's status. The path is
   * recorded without its query string, which may hold a token.
   */
  private acceptTraced<R extends { ok: true } | Refusal>(
    tracer: Tracer,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    admission: Admission<R>,
    refuse: (socket: Duplex, refusal: Refusal) => void,
    started: number,
  ): void {
    const span = tracer.start("ws upgrade", {
      parent: null,
      kind: "server",
      attributes: {
        [TRACE_ATTRIBUTES.door]: this.opts.door ?? "",
        "url.path": (req.url ?? "/").split("?")[0] ?? "/",
      },
    });
    const traced: Admission<R> = {
      ...admission,
      open: (ws, admitted, raw) => {
        span.set("http.response.status_code", 101);
        span.end();
        admission.open(ws, admitted, raw);
      },
    };
    const refuseTraced = (s: Duplex, r: Refusal) => {
      span.set("http.response.status_code", r.status);
      if (r.code !== undefined) span.set(TRACE_ATTRIBUTES.errorCode, r.code);
      if (r.status >= 500) span.fail(r.message);
      span.end();
      refuse(s, r);
    };
    tracer.within(span, () => this.decide(req, socket, head, traced, refuseTraced, started));
  }

  private decide<R extends { ok: true } | Refusal>(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    admission: Admission<R>,
    refuse: (socket: Duplex, refusal: Refusal) => void,
    started: number,
  ): void {
    if (!this.opts.origins.allows(req.headers.origin, req.headers.host)) {
      refuse(socket, ORIGIN_REFUSED);
      return;
    }
    const decide = (verdict: R): void => {
      if (isRefusal(verdict)) {
        refuse(socket, verdict);
        return;
      }
      const admitted = verdict as Extract<R, { ok: true }>;
      const late = admission.recheck?.(admitted);
      if (late) {
        refuse(socket, late);
        return;
      }
      // The 101 response and what the door sends on open (a welcome) leave in one write: the
      // socket is corked until the turn's frames are flushed (turn-writes.ts, also on nextTick).
      socket.cork();
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.opts.settled?.(started, 101);
        admission.open(ws, admitted, socket);
      });
      process.nextTick(() => socket.uncork());
    };
    const fail = (err: unknown): void => {
      if (err instanceof AuthError) {
        refuse(socket, { ok: false, status: 401, message: err.message, code: "UNAUTHORIZED" });
        return;
      }
      this.opts.log.error({ err, ...admission.context }, this.opts.failure);
      refuse(socket, INTERNAL_REFUSED);
    };
    const verdict = admission.admit();
    if (!(verdict instanceof Promise)) {
      decide(verdict);
      return;
    }
    // Guarded unless a door opts out: Node drops its own error listener on upgrade, so a client
    // resetting the connection while the checks run would otherwise crash the process.
    if (this.opts.guardSocket === false) {
      verdict.then(decide, fail);
      return;
    }
    const onError = () => socket.destroy();
    socket.on("error", onError);
    verdict
      .then((v) => {
        if (!socket.destroyed) decide(v);
      }, fail)
      .finally(() => socket.off("error", onError));
  }
}

function isRefusal(verdict: { ok: boolean }): verdict is Refusal {
  return !verdict.ok;
}
