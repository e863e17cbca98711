import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import { type Logger, pino } from "pino";
import { v7 as uuidv7 } from "uuid";
import { CryptoRandom } from "../adapters/crypto-random.js";
import { MemoryPinDirectory } from "../adapters/memory/memory-pin-directory.js";
import { MemoryRateLimiter } from "../adapters/memory/memory-rate-limiter.js";
import { MemoryReplayCache } from "../adapters/memory/memory-replay-cache.js";
import { openPostgresStorage } from "../adapters/postgres/postgres-storage.js";
import { openSqliteThreadStorage } from "../adapters/sqlite/sqlite-thread-storage.js";
import { SystemClock } from "../adapters/system-clock.js";
import { IdentityService } from "../auth/identity.js";
import { hashToken } from "../auth/token-hash.js";
import type { Config } from "../config.js";
import { loadDemoContent } from "../content/demo-content.js";
import { CanonicalDoor, type CanonicalLimits } from "../doors/canonical/canonical-door.js";
import { type ContestDoor, createContestDoor } from "../doors/contest/index.js";
import type { Door, DoorDeps } from "../doors/door.js";
import {
  createLeaderboardStreamDoor,
  type LeaderboardStreamDoor,
} from "../doors/leaderboard-stream/index.js";
import { registerRestRoutes } from "../doors/rest/index.js";
import {
  createVocabularyDoor,
  type VocabularyDoor,
  type VocabularyLimits,
} from "../doors/vocabulary/index.js";
import { createWebDoor } from "../doors/web/index.js";
import { rejectUpgrade } from "../doors/ws-kit/frames.js";
import {
  ClusterDirectory,
  type ClusterDirectoryOptions,
} from "../engine/cluster/cluster-directory.js";
import { GroupCommitter } from "../engine/group-committer.js";
import { RoomRegistry } from "../engine/room-registry.js";
import { LocalDirectory, type SessionDirectory } from "../engine/session-directory.js";
import { Metrics } from "../observability/metrics.js";
import type { Clock, Random } from "../ports/clock.js";
import type { Storage } from "../ports/storage.js";
import { SessionService } from "../services/session-service.js";
import { openRedisCluster } from "./cluster-setup.js";
import { registerHealthRoutes } from "./health-routes.js";
import { VERSION } from "./version.js";

export interface AppOptions {
  config: Config;
  clock?: Clock;
  random?: Random;
  logger?: Logger;
  /** Overrides for the canonical door's limits (tests use small ones). */
  canonicalLimits?: Partial<CanonicalLimits>;
  /** Overrides for the seed 001 door's limits (tests use small big-session thresholds). */
  vocabularyLimits?: Partial<VocabularyLimits>;
  /** Overrides for lease and takeover timing when several instances run (tests). */
  clusterOptions?: Partial<ClusterDirectoryOptions>;
}

/** A composed quizwire server: every port wired to its adapter, every door mounted. */
export interface App {
  readonly config: Config;
  readonly fastify: FastifyInstance;
  readonly storage: Storage;
  readonly registry: RoomRegistry;
  readonly sessions: SessionService;
  readonly committer: GroupCommitter;
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
  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number>;
  /** Graceful stop: clients told to reconnect, queued writes stored, database closed. */
  close(): Promise<void>;
}

async function openStorage(config: Config, log: Logger): Promise<Storage> {
  // A `?schema=name` on the URL puts quizwire's tables in that schema (see docs/schema.md).
  if (config.databaseUrl) return openPostgresStorage({ url: config.databaseUrl });
  // In a worker thread, so statements and fsyncs never stop the event loop.
  return openSqliteThreadStorage({
    path: join(config.dataDir, "quizwire.db"),
    synchronous: config.sqliteSynchronous,
    onWorkerExit: (err) =>
      log.error({ err }, "the SQLite worker stopped; the next write starts another"),
  });
}

/** A per-installation secret, generated once and kept in the database. */
async function installationSecret(storage: Storage, random: Random, key: string): Promise<string> {
  const existing = await storage.meta.get(key);
  if (existing) return existing;
  const secret = random.token(32);
  await storage.meta.set(key, secret);
  return secret;
}

export async function createApp(opts: AppOptions): Promise<App> {
  const { config } = opts;
  const clock = opts.clock ?? new SystemClock();
  const random = opts.random ?? new CryptoRandom();
  const log = opts.logger ?? pino({ level: config.logLevel });
  const started = clock.now();

  const storage = await openStorage(config, log);
  if (config.demoContent) {
    const { loaded } = await loadDemoContent(storage, { now: clock.now(), newId: () => uuidv7() });
    if (loaded) log.info("demo content loaded");
  }
  const onError = (err: unknown, context: string) => log.error({ err }, context);
  // The gauges read the registry and committer lazily, at scrape time.
  const metrics = new Metrics({
    sessions: () => registry.activeCount,
    storageQueue: () => committer.status().queued,
  });
  const committer = new GroupCommitter(
    { write: (batch, fences) => storage.sessions.write(batch, fences), ping: () => storage.ping() },
    clock,
    { onError, onBatch: (n) => metrics.storageBatch.observe(n) },
  );
  // Several instances share PINs, limits, ownership and events through Redis; one runs in-process.
  const cluster = config.redisUrl
    ? await openRedisCluster({
        url: config.redisUrl,
        keyPrefix: config.redisKeyPrefix,
        clock,
        random,
      })
    : null;
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
    onEnded: (r) => clusterDirectory?.onEnded(r),
    onFenced: (r) => clusterDirectory?.onFenced(r),
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
    });
  }
  const directory: SessionDirectory = clusterDirectory ?? new LocalDirectory(registry);
  await directory.start();
  log.info({ ...directory.status(), instance: cluster?.instanceId ?? null }, "sessions ready");

  const identity = new IdentityService({
    // Without JWT_SECRET the server signs (and accepts) tokens with a secret of its own, so its
    // own /login works out of the box; other applications need the shared JWT_SECRET.
    jwtSecret: config.jwtSecret ?? (await installationSecret(storage, random, "jwt_secret")),
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
  const limiter = new MemoryRateLimiter(clock);
  const sharedLimiter = cluster?.limiter ?? limiter;
  const replay = new MemoryReplayCache(clock);

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
    replay,
    log,
    version: VERSION,
  };
  const canonical = new CanonicalDoor({
    ...deps,
    allowedOrigins: config.allowedOrigins,
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

  const fastify: FastifyInstance = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // Per-request logs would dominate under load; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
  });
  registerHealthRoutes(fastify, {
    version: VERSION,
    startedAt: started,
    clock,
    storage,
    committer,
    metrics,
    connections: () => wsDoors.reduce((n, d) => n + d.connectionCount, 0),
    sessions: () => registry.activeCount,
    cluster: () => directory.status(),
  });
  for (const door of doors) await door.routes?.(fastify);

  fastify.server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const target = wsDoors.find((d) => d.matches(path));
    if (!target) {
      rejectUpgrade(socket, 404, `no WebSocket endpoint at ${path}`);
      return;
    }
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
    canonical,
    doors: { canonical, vocabulary: vocabulary.ws, contest: contest.ws, stream: stream.ws },
    metrics,
    log,
    async listen() {
      await fastify.listen({ port: config.port, host: config.host });
      const address = fastify.server.address();
      return typeof address === "object" && address ? address.port : config.port;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const d of wsDoors) d.shutdown();
      await fastify.close();
      await directory.stop();
      await cluster?.close();
      await storage.close();
    },
  };
}
