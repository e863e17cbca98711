import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { DestinationStream, Logger } from "pino";
import { v7 as uuidv7 } from "uuid";
import { CircuitBreaker, withCircuitBreaker } from "../adapters/circuit-breaker-storage.js";
import { CryptoRandom } from "../adapters/crypto-random.js";
import { MemoryPinDirectory } from "../adapters/memory/memory-pin-directory.js";
import { MemoryPinGuesses } from "../adapters/memory/memory-pin-guesses.js";
import { MemoryRateLimiter, UnlimitedRateLimiter } from "../adapters/memory/memory-rate-limiter.js";
import { MemoryReplayCache } from "../adapters/memory/memory-replay-cache.js";
import { MONOTONIC_TIME } from "../adapters/monotonic-time.js";
import { openPostgresStorage } from "../adapters/postgres/postgres-storage.js";
import { ReconciledRateLimiter } from "../adapters/reconciled-rate-limiter.js";
import { openSqliteThreadStorage } from "../adapters/sqlite/sqlite-thread-storage.js";
import { SystemClock } from "../adapters/system-clock.js";
import { IdentityService } from "../auth/identity.js";
import { hashToken } from "../auth/token-hash.js";
import { type Config, ConfigError } from "../config.js";
import { loadDemoContent } from "../content/demo-content.js";
import { CanonicalDoor, type CanonicalLimits } from "../doors/canonical/canonical-door.js";
import { type ContestDoor, createContestDoor } from "../doors/contest/index.js";
import type { Door, DoorDeps } from "../doors/door.js";
import {
  createLeaderboardStreamDoor,
  type LeaderboardStreamDoor,
} from "../doors/leaderboard-stream/index.js";
import { OriginPolicy } from "../doors/origin-policy.js";
import { clientError, frameworkError, MAX_PARAM_LENGTH } from "../doors/rest/errors.js";
import { registerRestRoutes } from "../doors/rest/index.js";
import {
  createVocabularyDoor,
  type VocabularyDoor,
  type VocabularyLimits,
} from "../doors/vocabulary/index.js";
import { createWebDoor } from "../doors/web/index.js";
import type { Reply } from "../doors/ws-kit/dialect.js";
import { rejectUpgrade } from "../doors/ws-kit/frames.js";
import {
  ClusterDirectory,
  type ClusterDirectoryOptions,
} from "../engine/cluster/cluster-directory.js";
import { GroupCommitter } from "../engine/group-committer.js";
import { RoomRegistry } from "../engine/room-registry.js";
import { LocalDirectory, type SessionDirectory } from "../engine/session-directory.js";
import { ClientErrorLog } from "../observability/client-error-log.js";
import { LifecycleLog } from "../observability/lifecycle-log.js";
import { createLogger } from "../observability/logger.js";
import { Metrics } from "../observability/metrics.js";
import { OtelTracer } from "../observability/otel-tracer.js";
import { roomMetricsListener } from "../observability/room-metrics.js";
import { countStorageErrors } from "../observability/storage-errors.js";
import type { Clock, Random } from "../ports/clock.js";
import type { PinGuessLimits } from "../ports/pin-guesses.js";
import type { Storage } from "../ports/storage.js";
import { PinGate } from "../services/pin-gate.js";
import { RetentionSweeper } from "../services/retention.js";
import { SessionService } from "../services/session-service.js";
import { logAdminToken, resolveAdminToken } from "./admin-token.js";
import { feedStoredAnswers, newInstanceId, openRedisCluster } from "./cluster-setup.js";
import { ConnectionCap } from "./connection-cap.js";
import { EventLoopShedding, eventLoopDelaySource, IDLE_LAG } from "./event-loop-shedding.js";
import { registerHealthRoutes } from "./health-routes.js";
import { VERSION } from "./version.js";

/**
 * The group committer starts at most one batch per this many milliseconds (`lingerMs`), unless
 * `COMMIT_START_AT` writes are queued. A commit costs about the same whatever it holds: an
 * fsync of the log (about 140 µs of the SQLite thread's CPU on the test machine), the
 * transaction's own work, and a message each way between the threads. Seed 003's 100 sessions
 * of 100 learners send about 1,650 answers a second one by one: with 4 ms a run made 8,300
 * commits of 7 writes, with 12 ms 3,200 of 19, and the server's CPU went from 0.57–0.60
 * to 0.49–0.55 of a core (medians 0.58 and 0.52 in 3 alternating pairs; the SQLite thread
 * 0.13–0.14 → 0.10, the main thread 0.40–0.43 → 0.36–0.41; issue 10's note of 2026-12-07,
 * fourth sitting). The cost is the wait of an answer that trickles in: SCORE_UPDATED p50 4 → 9
 * ms in that plan (p99 17–23 → 20–30), and with 1,000 players answering over 2 s an
 * acknowledgement p50 of 2.2 → 7.2 ms (p99 6.6–8.3 → 13.5–15.2) for a quarter less CPU per
 * answer (0.50 → 0.38 ms): far inside the seeds' 50 / 100 ms, and below what a network adds.
 */
export const COMMIT_LINGER_MS = 12;

/**
 * A commit waiting for the end of the turn (or the linger) starts as soon as this many writes
 * are queued (`startAt`). A burst needs no linger to share an fsync: a live question's 5,000
 * answers a second queue 24 in about 5 ms, so its commits start about as often as with a 4 ms
 * linger (10,000 players: acknowledgement p50 4.1 → 4.8 ms, p99 and CPU the same within the
 * noise). And a loop that has fallen behind reads thousands of answers in one poll phase before
 * the turn ends: in a 18,000-player game's instrumented build (issue 10), answers queued for
 * 80–280 ms with no commit in flight, up to 5,800 of them, while the SQLite thread idled. Such
 * a commit starts in a microtask, and the next takes what queued meanwhile (up to `maxBatch`).
 */
export const COMMIT_START_AT = 24;

export interface AppOptions {
  config: Config;
  clock?: Clock;
  random?: Random;
  logger?: Logger;
  /** Overrides for the canonical door's limits (tests use small ones). */
  canonicalLimits?: Partial<CanonicalLimits>;
  /** The PIN limit (P-4); seed 000's when absent. Tests make it small to reach it. */
  pinGuessLimits?: PinGuessLimits;
  /** Overrides for the seed 001 door's limits (tests use small big-session thresholds). */
  vocabularyLimits?: Partial<VocabularyLimits>;
  /** How often the event loop's lag is sampled for load shedding (tests use short periods). */
  eventLoopSampleMs?: number;
  /** Overrides for lease and takeover timing when several instances run (tests). */
  clusterOptions?: Partial<ClusterDirectoryOptions>;
  /** Where the server's own logger writes (tests capture it); stdout unless given. */
  logDestination?: DestinationStream;
  /** prom-client's process metrics on /metrics (`MetricsSources.processMetrics`); on unless false. */
  processMetrics?: boolean;
}

/** A composed quizwire server: every port wired to its adapter, every door mounted. */
export interface App {
  readonly config: Config;
  readonly fastify: FastifyInstance;
  readonly storage: Storage;
  readonly registry: RoomRegistry;
  readonly sessions: SessionService;
  readonly committer: GroupCommitter;
  /** The purge of ended sessions' data past its retention (seed 001 §12.4, seed 003 §12.6). */
  readonly retention: RetentionSweeper;
  readonly canonical: CanonicalDoor;
  /** The WebSocket doors, each a dialect on the door driver (tests open FakeSockets on them). */
  readonly doors: {
    canonical: CanonicalDoor;
    vocabulary: VocabularyDoor;
    contest: ContestDoor;
    stream: LeaderboardStreamDoor;
  };
  readonly metrics: Metrics;
  readonly log: Logger;
  /** This instance's name (cluster leases, `service.instance.id` on spans). */
  readonly instanceId: string;
  /** The OpenTelemetry tracer when OTEL_EXPORTER_OTLP_ENDPOINT is set; null when tracing is off. */
  readonly tracer: OtelTracer | null;
  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number>;
  /** Graceful stop: clients told to reconnect, queued writes stored, database closed. */
  close(): Promise<void>;
}

async function openStorage(config: Config, log: Logger, clock: Clock): Promise<Storage> {
  // Seed 001 §10.3: a database that keeps failing is not waited for; calls are refused at once
  // (UNAVAILABLE, retryable) until a probe after the retry period finds it back.
  const breaker = new CircuitBreaker(
    clock,
    { failureThreshold: config.dbCircuitFailures, retryAfterMs: config.dbCircuitRetryMs },
    (s) =>
      s.state === "open"
        ? log.error(
            { circuit: s },
            "database circuit open: calls are refused until a probe succeeds",
          )
        : log.info({ circuit: s }, "database circuit closed: the database answers again"),
  );
  return withCircuitBreaker(await openAdapter(config, log), breaker);
}

async function openAdapter(config: Config, log: Logger): Promise<Storage> {
  // A `?schema=name` on the URL puts quizwire's tables in that schema (see docs/schema.md).
  if (config.databaseUrl) {
    try {
      return await openPostgresStorage({ url: config.databaseUrl });
    } catch (err) {
      // Seed 003's Cloud SQL set is built into a URL the operator never wrote: name their variable.
      if (config.databaseVariable !== "CLOUD_SQL_CONNECTION") throw err;
      throw new ConfigError(
        "CLOUD_SQL_CONNECTION",
        `cannot open the database: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  // In a worker thread, so statements and fsyncs never stop the event loop.
  return openSqliteThreadStorage({
    path: join(config.dataDir, "quizwire.db"),
    synchronous: config.sqliteSynchronous,
    onWorkerExit: (err) =>
      log.error({ err }, "the SQLite worker stopped; the next write starts another"),
    onReaderExit: (err) =>
      log.error({ err }, "the SQLite reader stopped; the next session read starts another"),
  });
}

/** http_request_duration_seconds by route pattern, and REST errors in error_total. */
function observeHttpRequests(fastify: FastifyInstance, metrics: Metrics): void {
  const byEndpoint = new Map<string, { observe(seconds: number): void }>();
  fastify.addHook("onResponse", async (req, reply) => {
    const endpoint = req.routeOptions.url ?? "unmatched";
    let h = byEndpoint.get(endpoint);
    if (h === undefined) {
      h = metrics.httpDuration.labels({ endpoint });
      byEndpoint.set(endpoint, h);
    }
    h.observe(reply.elapsedTime / 1000);
    metrics.httpError(reply.statusCode);
  });
}

/** The rooms the session gauges read at scrape time. */
function* roomsOf(registry: RoomRegistry): Iterable<{ ended: boolean; players: number }> {
  for (const r of registry.all()) yield r.room;
}

/** A per-installation secret, generated once and kept in the database. */
async function installationSecret(storage: Storage, random: Random, key: string): Promise<string> {
  const existing = await storage.meta.get(key);
  if (existing) return existing;
  // Instances starting together on one database agree on the first secret stored.
  return storage.meta.setIfAbsent(key, random.token(32));
}

export async function createApp(opts: AppOptions): Promise<App> {
  const clock = opts.clock ?? new SystemClock();
  const random = opts.random ?? new CryptoRandom();
  const instanceId = newInstanceId(random);
  // Tracing is off, and costs nothing, unless an OTLP endpoint is configured.
  const tracer = opts.config.tracing
    ? OtelTracer.open({
        url: opts.config.tracing.url,
        serviceName: opts.config.tracing.serviceName,
        version: VERSION,
        instanceId,
        sampleRatio: opts.config.tracing.sampleRatio,
      })
    : null;
  const traced = tracer ? { tracer } : {};
  const log =
    opts.logger ??
    createLogger({
      level: opts.config.logLevel,
      ...(tracer ? { traceId: () => tracer.currentTraceId() } : {}),
      ...(opts.logDestination ? { destination: opts.logDestination } : {}),
    });
  const started = clock.now();

  const opened = await openStorage(opts.config, log, clock);
  // Never open for admin on a reachable interface: from here on `config.adminToken` is the token
  // in force, configured or generated (src/server/admin-token.ts).
  const admin = await resolveAdminToken({
    configured: opts.config.adminToken,
    host: opts.config.host,
    meta: opened.meta,
    random,
  });
  const config: Config = { ...opts.config, adminToken: admin.token };
  logAdminToken(
    log,
    admin,
    config.databaseUrl ? "the database's meta table" : join(config.dataDir, "quizwire.db"),
  );
  if (config.demoContent) {
    const { loaded } = await loadDemoContent(opened, { now: clock.now(), newId: () => uuidv7() });
    if (loaded) log.info("demo content loaded");
  }
  const onError = (err: unknown, context: string) => log.error({ err }, context);
  // The gauges read the registry and committer lazily, at scrape time.
  const metrics = new Metrics({
    sessions: () => registry.activeCount,
    storageQueue: () => committer.status().queued,
    rooms: () => roomsOf(registry),
    processMetrics: opts.processMetrics !== false,
  });
  const storage = countStorageErrors(opened, () => metrics.databaseErrors.inc());
  const committer = new GroupCommitter(
    {
      write: (batch, fences) => storage.sessions.write(batch, fences),
      ping: () => storage.ping(),
      settleArrived: () => storage.settleArrived?.(),
    },
    clock,
    {
      onError,
      onBatch: (n, seconds) => {
        metrics.storageBatch.observe(n);
        metrics.storageCommit.observe(seconds);
      },
      // In real time, like the bus's linger: tests drive the rooms with a clock that stands still.
      lingerMs: COMMIT_LINGER_MS,
      lingerClock: MONOTONIC_TIME,
      startAt: COMMIT_START_AT,
      ...traced,
    },
  );
  // Several instances share PINs, limits, ownership and events through Redis; one runs in-process.
  const cluster = config.redisUrl
    ? await openRedisCluster({
        url: config.redisUrl,
        variable: config.redisVariable ?? "REDIS_URL",
        keyPrefix: config.redisKeyPrefix,
        clock,
        random,
        onError,
        instanceId,
      })
    : null;
  const lifecycle = new LifecycleLog(log, { clustered: cluster !== null });
  const pins = cluster?.pins ?? new MemoryPinDirectory();
  let clusterDirectory: ClusterDirectory | null = null;
  const registry = new RoomRegistry({
    storage,
    committer,
    clock,
    random,
    pins,
    hashToken,
    newSessionId: () => uuidv7(),
    onError,
    endedRetentionMs: config.endedRetentionMs,
    maxDurationMs: config.sessionMaxDurationMs === 0 ? null : config.sessionMaxDurationMs,
    onEnded: (r) => clusterDirectory?.onEnded(r),
    onFenced: (r) => clusterDirectory?.onFenced(r),
    onRunning: (r, how) => {
      lifecycle.loaded(r, how, r.room.currentEpoch);
      r.subscribe(
        roomMetricsListener(metrics, {
          get startedAt() {
            return r.room.sessionStartedAt;
          },
        }),
      );
      // Seed 002's "Submit Answer API → PUBLISH", for Redis subscribers outside quizwire.
      if (cluster) feedStoredAnswers(r, cluster.answers);
    },
    ...traced,
  });
  if (cluster) {
    clusterDirectory = new ClusterDirectory({
      instanceId: cluster.instanceId,
      registry,
      storage,
      leases: cluster.leases,
      bus: cluster.bus,
      pins,
      clock,
      onError,
      ...(opts.clusterOptions ? { options: opts.clusterOptions } : {}),
      ...traced,
    });
  }
  const directory: SessionDirectory = clusterDirectory ?? new LocalDirectory(registry);
  await directory.start();
  const retention = new RetentionSweeper({
    sessions: storage.sessions,
    clock,
    settings: {
      hotDataMs: config.hotDataRetentionMs === 0 ? null : config.hotDataRetentionMs,
      completedMs: config.completedRetentionMs === 0 ? null : config.completedRetentionMs,
      intervalMs: config.retentionSweepMs,
    },
    onSwept: (r) => {
      if (r.answersDeleted + r.sessionsDeleted > 0) log.info(r, "ended sessions' data purged");
    },
    onError,
  });
  retention.start();
  log.info(
    {
      ...directory.status(),
      instance: instanceId,
      tracing: config.tracing?.url ?? "off",
      env: config.env,
      storage: config.databaseVariable ?? "sqlite",
      redis: config.redisVariable,
    },
    "sessions ready",
  );

  const identity = new IdentityService({
    // Without JWT_SECRET the server signs (and accepts) tokens with a secret of its own, so its
    // own /login works out of the box; other applications need the shared JWT_SECRET.
    jwtSecret: config.jwtSecret ?? (await installationSecret(storage, random, "jwt_secret")),
    jwks: config.jwtJwksUrl
      ? {
          url: config.jwtJwksUrl,
          cooldownMs: config.jwtJwksCooldownMs,
          cacheMaxAgeMs: config.jwtJwksCacheMs,
        }
      : null,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    onKeySetFailure: (err) => log.warn({ err, url: config.jwtJwksUrl }, "JWKS unavailable"),
    allowAnonymous: config.allowAnonymous,
    anonymousKey: await installationSecret(storage, random, "anonymous_identity_key"),
    random,
  });
  const sessions = new SessionService({
    directory,
    storage,
    clock,
    publicUrl: config.publicUrl,
    committer,
  });
  const ownLimiter = new MemoryRateLimiter(clock);
  // Seed 003's ENABLE_RATE_LIMITING=false lifts the per-connection and per-user message and answer
  // rates only: join attempts and PIN guesses stay limited, or a PIN could be guessed at full speed.
  const limiter = config.rateLimiting ? ownLimiter : new UnlimitedRateLimiter();
  const sharedLimiter = cluster?.limiter ?? ownLimiter;
  // Per-user limits: one instance counts exactly in process; several reconcile through Redis.
  const clusterLimiter =
    cluster && config.rateLimiting
      ? new ReconciledRateLimiter(clock, cluster.counters, {
          onError: (err) =>
            log.warn({ err }, "rate limit counts could not be shared; limiting per instance"),
        })
      : limiter;
  const replay = new MemoryReplayCache<Reply>(clock);
  const pinGate = new PinGate({
    findByPin: (pin) => sessions.findByPin(pin),
    guesses: cluster?.pinGuesses ?? new MemoryPinGuesses(clock),
    ...(opts.pinGuessLimits ? { limits: opts.pinGuessLimits } : {}),
  });

  const deps: DoorDeps = {
    config,
    storage,
    sessions,
    identity,
    clock,
    random,
    metrics,
    limiter,
    sharedLimiter,
    clusterLimiter,
    replay,
    pinGate,
    origins: OriginPolicy.fromConfig(config),
    log,
    version: VERSION,
    clientErrors: new ClientErrorLog(log, clock),
    ...traced,
  };
  const canonical = new CanonicalDoor({
    ...deps,
    ...(opts.canonicalLimits ? { limits: opts.canonicalLimits } : {}),
  });
  const vocabulary = createVocabularyDoor(deps, opts.vocabularyLimits);
  const stream = createLeaderboardStreamDoor(deps);
  const contest = createContestDoor(deps);
  // Every door of the server. Seed dialects mount here too, each a thin translation onto the engine.
  const doors: Door[] = [
    { ws: canonical, routes: (app) => registerRestRoutes(app, deps) },
    vocabulary,
    stream,
    contest,
    createWebDoor({ config }),
  ];
  const wsDoors = doors.flatMap((d) => (d.ws ? [d.ws] : []));

  const connectionCap = new ConnectionCap(config.maxConnectionsPerInstance, () =>
    metrics.connectionErrors.inc(),
  );

  const fastify: FastifyInstance = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // Per-request logs would dominate under load; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    // Framework refusals leave in the one REST error format too (docs/errors.md).
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: frameworkError,
    clientErrorHandler: clientError,
  });
  observeHttpRequests(fastify, metrics);
  const shedding = new EventLoopShedding(
    clock,
    config.eventLoopLagLimitMs > 0 ? eventLoopDelaySource() : IDLE_LAG,
    {
      limitMs: config.eventLoopLagLimitMs,
      ...(opts.eventLoopSampleMs ? { sampleEveryMs: opts.eventLoopSampleMs } : {}),
    },
  );
  registerHealthRoutes(fastify, {
    version: VERSION,
    environment: config.env,
    startedAt: started,
    clock,
    storage,
    committer,
    metrics,
    connections: () => wsDoors.reduce((n, d) => n + d.connectionCount, 0),
    connectionCap,
    sessions: () => registry.activeCount,
    cluster: () => directory.status(),
    load: () => shedding.status(),
  });
  for (const door of doors) await door.routes?.(fastify);

  fastify.server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (shedding.refuseUpgrade(socket)) return;
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const target = wsDoors.find((d) => d.matches(path));
    if (!target) {
      metrics.connectionErrors.inc();
      rejectUpgrade(socket, 404, `no WebSocket endpoint at ${path}`);
      return;
    }
    if (!connectionCap.admit(socket)) return;
    target.handleUpgrade(req, socket, head);
  });

  let closed = false;
  return {
    config,
    fastify,
    storage,
    registry,
    sessions,
    committer,
    retention,
    canonical,
    doors: { canonical, vocabulary: vocabulary.ws, contest: contest.ws, stream: stream.ws },
    metrics,
    log,
    instanceId,
    tracer,
    async listen() {
      await fastify.listen({ port: config.port, host: config.host });
      // Measured from here: start-up work (migrations, route compilation) is not load.
      shedding.start();
      const address = fastify.server.address();
      return typeof address === "object" && address ? address.port : config.port;
    },
    async close() {
      if (closed) return;
      closed = true;
      shedding.stop();
      for (const d of wsDoors) d.shutdown();
      await fastify.close();
      await directory.stop();
      await retention.shutdown();
      await cluster?.close();
      await storage.close();
      // Spans still buffered are exported before the process goes.
      await tracer?.shutdown().catch((err: unknown) => log.warn({ err }, "exporting spans failed"));
    },
  };
}
