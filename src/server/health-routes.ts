import type { FastifyInstance } from "fastify";
import type { GroupCommitter } from "../engine/group-committer.js";
import type { Metrics } from "../observability/metrics.js";
import type { Clock } from "../ports/clock.js";
import type { Storage } from "../ports/storage.js";
import type { SheddingStatus } from "./event-loop-shedding.js";

export interface HealthDeps {
  version: string;
  /** Seed 003's ENV, reported as `environment`. */
  environment: string;
  startedAt: number;
  clock: Clock;
  storage: Storage;
  committer: GroupCommitter;
  metrics: Metrics;
  connections: () => number;
  /** WebSocket connections held against MAX_CONNECTIONS_PER_INSTANCE. */
  connectionCap: {
    readonly connections: number;
    readonly max: number | null;
    readonly full: boolean;
  };
  sessions: () => number;
  /** Redis-backed clustering: whether the bus is up, and how many sessions this instance runs. */
  cluster: () => { cluster: "none" | "up" | "down"; owned: number };
  /** Load shedding by event-loop lag (src/server/event-loop-shedding.ts). */
  load?: () => SheddingStatus;
}

interface Check {
  status: "up" | "down" | "ok" | "high" | "degraded" | "full";
  latency_ms?: number;
  detail?: string;
  usage_percent?: number;
  connections?: number;
  max?: number | null;
}

// Readiness fails above this share of the heap limit (seed 001 §11.4: memory usage < 90%).
const MEMORY_READY_LIMIT = 0.9;

/**
 * Seed 001's /health JSON, liveness and readiness (with their checks, seed 001
 * §11.4), the Kubernetes-style aliases seed 000 names, and /metrics.
 */
export function registerHealthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  const summary = () => ({
    status: "healthy",
    version: deps.version,
    uptime_seconds: Math.floor((deps.clock.now() - deps.startedAt) / 1000),
    active_connections: deps.connections(),
    active_sessions: deps.sessions(),
    environment: deps.environment,
  });
  const live = () => ({ status: "ok" });
  const ready = async () => {
    const checks: Record<string, Check> = {};
    const t0 = performance.now();
    try {
      await deps.storage.ping();
      checks.database = {
        status: "up",
        latency_ms: Math.round((performance.now() - t0) * 100) / 100,
      };
    } catch (err) {
      checks.database = {
        status: "down",
        detail: err instanceof Error ? err.message : String(err),
      };
    }
    const committer = deps.committer.status();
    checks.storage_writes = committer.healthy
      ? { status: "up" }
      : { status: "down", detail: committer.lastError ?? "writes failing" };
    const { heapUsed } = process.memoryUsage();
    const { getHeapStatistics } = await import("node:v8");
    const usage = heapUsed / getHeapStatistics().heap_size_limit;
    checks.memory = {
      status: usage < MEMORY_READY_LIMIT ? "ok" : "high",
      usage_percent: Math.round(usage * 1000) / 10,
    };
    // At the cap an instance is not ready, so a load balancer sends new clients to another one;
    // the connections it holds are served as before.
    const cap = deps.connectionCap;
    checks.connections = {
      status: cap.full ? "full" : "ok",
      connections: cap.connections,
      max: cap.max,
    };
    const load = deps.load?.();
    if (load && load.limitMs > 0) {
      // Not ready while new connections are refused: a load balancer sends them elsewhere.
      checks.event_loop = {
        status: load.shedding ? "high" : "ok",
        detail: `p99 delay ${load.p99Ms} ms (limit ${load.limitMs} ms)${load.shedding ? ": refusing new connections" : ""}`,
      };
    }
    const cluster = deps.cluster();
    if (cluster.cluster !== "none") {
      // Without Redis an instance keeps serving the sessions it owns, so it stays ready; the
      // check says so, and new or foreign sessions are refused until Redis is back.
      checks.redis =
        cluster.cluster === "up"
          ? { status: "up", detail: `owns ${cluster.owned} sessions` }
          : {
              status: "degraded",
              detail: `Redis unreachable: serving the ${cluster.owned} sessions this instance owns, no others`,
            };
    }
    const healthy = Object.values(checks).every(
      (c) => c.status === "up" || c.status === "ok" || c.status === "degraded",
    );
    const degraded = Object.values(checks).some((c) => c.status === "degraded");
    return {
      healthy,
      body: { status: healthy ? (degraded ? "degraded" : "healthy") : "unhealthy", checks },
    };
  };

  app.get("/health", async () => summary());
  app.get("/health/live", async () => live());
  app.get("/healthz", async () => live());
  for (const path of ["/health/ready", "/readyz"]) {
    app.get(path, async (_req, reply) => {
      const r = await ready();
      return reply.code(r.healthy ? 200 : 503).send(r.body);
    });
  }
  app.get("/metrics", async (_req, reply) => {
    // prom-client separates metrics with an empty line; the exposition format has none.
    const text = (await deps.metrics.registry.metrics()).replace(/\n{2,}/g, "\n");
    return reply.type(deps.metrics.registry.contentType).send(text);
  });
}
