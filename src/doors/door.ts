import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { IdentityService } from "../auth/identity.js";
import type { Config } from "../config.js";
import type { ClientErrorLog } from "../observability/client-error-log.js";
import type { Metrics } from "../observability/metrics.js";
import type { Clock, Random } from "../ports/clock.js";
import type { LocalRateLimiter, LocalReplayCache, RateLimiter } from "../ports/cluster.js";
import type { Storage } from "../ports/storage.js";
import type { Tracer } from "../ports/tracing.js";
import type { PinGate } from "../services/pin-gate.js";
import type { SessionService } from "../services/session-service.js";
import type { OriginPolicy } from "./origin-policy.js";
import type { Reply } from "./ws-kit/dialect.js";

/** Everything a door may use. Doors translate; the engine and services decide. */
export interface DoorDeps {
  config: Config;
  storage: Storage;
  sessions: SessionService;
  identity: IdentityService;
  clock: Clock;
  random: Random;
  metrics: Metrics;
  /** Per-connection limits (a connection lives on one instance): synchronous, in process. */
  limiter: LocalRateLimiter;
  /** Limits that must hold across instances (joins, PIN guesses, logins): Redis when clustered. */
  sharedLimiter: RateLimiter;
  /**
   * Per-message limits that must hold across instances (per-user and per-room buckets):
   * answered synchronously, reconciled with Redis in batches when clustered (docs/limits.md).
   * Unset (tests of one door): `limiter`.
   */
  clusterLimiter?: LocalRateLimiter;
  /** The WebSocket doors' replies, remembered for retries (A-6). */
  replay: LocalReplayCache<Reply>;
  /** Every lookup of a room by PIN (P-4: one limit for every door and route). */
  pinGate: PinGate;
  /** Which browser origins may open WebSockets and call REST across origins. */
  origins: OriginPolicy;
  log: Logger;
  /** The package version (OpenAPI, health). */
  version: string;
  /** Traces upgrades, messages and broadcasts (OTEL_EXPORTER_OTLP_ENDPOINT); absent, tracing is off. */
  tracer?: Tracer;
  /** A rate-limited WARN line per class of error sent to clients. */
  clientErrors?: ClientErrorLog;
}

/** What a WebSocket door's connections need (its REST routes may need more). */
export type WsDoorDeps = Pick<
  DoorDeps,
  | "config"
  | "sessions"
  | "identity"
  | "clock"
  | "metrics"
  | "limiter"
  | "sharedLimiter"
  | "clusterLimiter"
  | "replay"
  | "origins"
  | "log"
  | "tracer"
  | "clientErrors"
>;

/** A WebSocket door: the HTTP server hands it the upgrades whose path it claims. */
export interface WsDoor {
  readonly name: string;
  /** Whether this door serves WebSocket upgrades on `path` (no query string). */
  matches(path: string): boolean;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  readonly connectionCount: number;
  /** Closes every connection (1001) so clients reconnect elsewhere. */
  shutdown(): void;
}

/** A door as mounted on the server: its WebSocket part and/or its HTTP routes. */
export interface Door {
  ws?: WsDoor;
  routes?: (app: FastifyInstance) => Promise<void> | void;
}
