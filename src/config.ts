import { resolve } from "node:path";

/**
 * Every setting comes from an environment variable; README.md lists them all
 * with their defaults. An invalid value stops the server at start with a
 * message naming the variable.
 */
export interface Config {
  port: number;
  host: string;
  /** Where the embedded SQLite database lives. */
  dataDir: string;
  /**
   * Postgres connection string; unset means the embedded SQLite database. Built from seed 003's
   * `CLOUD_SQL_CONNECTION` + `DB_*` (a unix socket) when DATABASE_URL is not given.
   */
  databaseUrl: string | null;
  /** Which variable the database came from, for messages that must name it. */
  databaseVariable: "DATABASE_URL" | "CLOUD_SQL_CONNECTION" | null;
  /**
   * Redis connection string; unset means in-process fan-out and limits. Built from seed 003's
   * `REDIS_HOST` + `REDIS_PORT` when REDIS_URL is not given.
   */
  redisUrl: string | null;
  /** Which variable Redis came from, for messages that must name it. */
  redisVariable: "REDIS_URL" | "REDIS_HOST" | null;
  /** Seed 003's `ENV`: reported in /health and the start-up log; it changes no behaviour. */
  env: "production" | "staging" | "development";
  /** Seed 003's cap on WebSocket connections per instance; null means no cap. */
  maxConnectionsPerInstance: number | null;
  /** Seed 003's `ENABLE_RATE_LIMITING`: false turns off the per-connection message and answer rates. */
  rateLimiting: boolean;
  /** Starts every Redis key and channel, so several deployments can share one Redis. */
  redisKeyPrefix: string;
  /** HS256 shared secret for JWTs; unset means tokens are not accepted. */
  jwtSecret: string | null;
  /** The other application's JWKS (seed 000): RS256/ES256 tokens verify against it; unset accepts none. */
  jwtJwksUrl: string | null;
  /** How soon after a fetch a token with an unknown `kid` may fetch the JWKS again. */
  jwtJwksCooldownMs: number;
  /** How long a fetched JWKS is used before it is fetched again. */
  jwtJwksCacheMs: number;
  /** Required `iss` of every token (and set in the ones /login signs); unset checks none. */
  jwtIssuer: string | null;
  /** Required `aud` of every token (and set in the ones /login signs); unset checks none. */
  jwtAudience: string | null;
  /** Whether connections without a token get an anonymous identity. */
  allowAnonymous: boolean;
  /**
   * Bearer token that admin REST calls must carry. Unset: generated on first start when HOST is
   * a network address (src/server/admin-token.ts); open only on a loopback HOST.
   */
  adminToken: string | null;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** The URL players use to reach this server (for join links and QR codes). */
  publicUrl: string;
  sqliteSynchronous: "FULL" | "NORMAL";
  /** Load the demo quizzes and question bank on first start. */
  demoContent: boolean;
  /** How long an ended room stays in memory for late reconnects. */
  endedRetentionMs: number;
  /** The longest a session runs before it completes by itself (seed 001 §12.3: 2 h); 0: no limit. */
  sessionMaxDurationMs: number;
  /** How long an ended session keeps its answers (seed 001 §12.4, seed 003 §12.6: 24 h); 0: forever. */
  hotDataRetentionMs: number;
  /** How long an ended session is kept at all (seed 003 §12.6: 90 days); 0: forever. */
  completedRetentionMs: number;
  /** How often the purge of ended sessions' data runs. */
  retentionSweepMs: number;
  /** Browser origins allowed besides the server's own and PUBLIC_URL's (src/doors/origin-policy.ts). */
  allowedOrigins: string[];
  /** Seed 004's development login (POST /login); turn off where another app issues tokens. */
  loginEnabled: boolean;
  /** Consecutive failed database calls that open its circuit breaker (seed 001 §10.3: 5). */
  dbCircuitFailures: number;
  /** How long the open circuit refuses calls before one probe goes through (seed 001: 30 s). */
  dbCircuitRetryMs: number;
  /**
   * New connections are refused (503) while the event loop's p99 delay over the last sample is
   * above this; 0 turns it off (src/server/event-loop-shedding.ts).
   */
  eventLoopLagLimitMs: number;
  /** Players of the warm-up game played before the server opens (`server/warm-up.ts`); 0: none. */
  warmUpPlayers: number;
  /** OpenTelemetry traces exported over OTLP/HTTP; null (no endpoint set) means no tracing at all. */
  tracing: TracingConfig | null;
}

export interface TracingConfig {
  /** The OTLP/HTTP traces URL spans are posted to. */
  url: string;
  serviceName: string;
  /**
   * The share of new traces recorded (seed 003: 10 %); null when OTEL_TRACES_SAMPLER is set,
   * which then decides as the OpenTelemetry SDK reads it.
   */
  sampleRatio: number | null;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string): string | null {
  const v = env[name];
  return v === undefined || v.trim() === "" ? null : v.trim();
}

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const v = str(env, name);
  if (v === null) return def;
  if (!/^\d+$/.test(v)) throw new ConfigError(name, `must be a whole number, got "${v}"`);
  const n = Number(v);
  if (n < min || n > max)
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: Env, name: string, def: boolean): boolean {
  const v = str(env, name);
  if (v === null) return def;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ConfigError(name, `must be true or false, got "${v}"`);
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], def: T): T {
  const v = str(env, name);
  if (v === null) return def;
  const lower = v.toLowerCase();
  const found = values.find((x) => x.toLowerCase() === lower);
  if (!found) throw new ConfigError(name, `must be one of ${values.join(", ")}, got "${v}"`);
  return found;
}

function url(env: Env, name: string, protocols: readonly string[]): string | null {
  const v = str(env, name);
  if (v === null) return null;
  let parsed: URL;
  try {
    parsed = new URL(v);
  } catch {
    throw new ConfigError(name, `is not a valid URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.join(" or ")}`);
  }
  return v;
}

/** Where Cloud Run mounts Cloud SQL's unix sockets (one directory per instance connection name). */
export const CLOUD_SQL_SOCKET_DIR = "/cloudsql";

/**
 * Redis from REDIS_URL, or from seed 003's REDIS_HOST + REDIS_PORT (Memorystore). Both halves of
 * the seed's pair are required; given both ways, they must name the same server, and REDIS_URL
 * (which may add a password, TLS or a database number) is the one used.
 */
function redisTarget(env: Env): Pick<Config, "redisUrl" | "redisVariable"> {
  const fromUrl = url(env, "REDIS_URL", ["redis:", "rediss:"]);
  const host = str(env, "REDIS_HOST");
  const portText = str(env, "REDIS_PORT");
  if (host === null && portText === null) {
    return { redisUrl: fromUrl, redisVariable: fromUrl === null ? null : "REDIS_URL" };
  }
  if (host === null) throw new ConfigError("REDIS_HOST", "is required when REDIS_PORT is set");
  if (portText === null) throw new ConfigError("REDIS_PORT", "is required when REDIS_HOST is set");
  const port = int(env, "REDIS_PORT", 0, 1, 65535);
  if (/[\s/@?#]/.test(host))
    throw new ConfigError("REDIS_HOST", `is not a host name, got "${host}"`);
  const bare = host.replace(/^\[|\]$/g, "");
  const built = `redis://${bare.includes(":") ? `[${bare}]` : bare}:${port}`;
  if (fromUrl === null) return { redisUrl: built, redisVariable: "REDIS_HOST" };
  const given = new URL(fromUrl);
  const sameHost = given.hostname.replace(/^\[|\]$/g, "").toLowerCase() === bare.toLowerCase();
  if (!sameHost || Number(given.port || 6379) !== port) {
    throw new ConfigError(
      "REDIS_HOST",
      `REDIS_HOST:REDIS_PORT (${bare}:${port}) names another server than REDIS_URL; set one of them`,
    );
  }
  return { redisUrl: fromUrl, redisVariable: "REDIS_URL" };
}

const CLOUD_SQL_PARTS = ["DB_USER", "DB_PASSWORD", "DB_NAME", "DB_SCHEMA"] as const;

/**
 * Postgres from DATABASE_URL, or from seed 003's CLOUD_SQL_CONNECTION (`project:region:instance`)
 * with DB_USER, DB_PASSWORD and DB_NAME: Cloud SQL's unix socket `/cloudsql/<connection>`.
 * A half-given set stops start-up; it never falls back to the embedded database.
 */
function databaseTarget(env: Env): Pick<Config, "databaseUrl" | "databaseVariable"> {
  const fromUrl = url(env, "DATABASE_URL", ["postgres:", "postgresql:"]);
  const connection = str(env, "CLOUD_SQL_CONNECTION");
  if (connection === null) {
    const stray = CLOUD_SQL_PARTS.find((name) => str(env, name) !== null);
    if (stray !== undefined) {
      throw new ConfigError(
        "CLOUD_SQL_CONNECTION",
        `is required when ${stray} is set (DB_* describe a Cloud SQL connection; use DATABASE_URL otherwise)`,
      );
    }
    return { databaseUrl: fromUrl, databaseVariable: fromUrl === null ? null : "DATABASE_URL" };
  }
  if (!/^[^\s/:]+(:[^\s/:]+){2,3}$/.test(connection)) {
    throw new ConfigError(
      "CLOUD_SQL_CONNECTION",
      `must be an instance connection name project:region:instance, got "${connection}"`,
    );
  }
  const user = str(env, "DB_USER");
  if (user === null)
    throw new ConfigError("DB_USER", "is required when CLOUD_SQL_CONNECTION is set");
  const name = str(env, "DB_NAME");
  if (name === null)
    throw new ConfigError("DB_NAME", "is required when CLOUD_SQL_CONNECTION is set");
  const socketDir = str(env, "CLOUD_SQL_SOCKET_DIR") ?? CLOUD_SQL_SOCKET_DIR;
  if (!socketDir.startsWith("/")) {
    throw new ConfigError("CLOUD_SQL_SOCKET_DIR", `must be an absolute path, got "${socketDir}"`);
  }
  const socketHost = `${socketDir.replace(/\/+$/, "")}/${connection}`;
  // node-postgres takes a unix socket directory as the `host` query parameter.
  const built = new URL(`postgresql://localhost/${encodeURIComponent(name)}`);
  built.username = encodeURIComponent(user);
  const password = env.DB_PASSWORD; // not trimmed: a password may end in a space
  if (password !== undefined && password !== "") built.password = encodeURIComponent(password);
  built.searchParams.set("host", socketHost);
  const schema = str(env, "DB_SCHEMA");
  if (schema !== null) built.searchParams.set("schema", schema);
  if (fromUrl === null)
    return { databaseUrl: built.toString(), databaseVariable: "CLOUD_SQL_CONNECTION" };
  const given = new URL(fromUrl);
  const same =
    given.searchParams.get("host") === socketHost &&
    decodeURIComponent(given.username) === user &&
    decodeURIComponent(given.pathname.replace(/^\//, "")) === name;
  if (!same) {
    throw new ConfigError(
      "CLOUD_SQL_CONNECTION",
      `CLOUD_SQL_CONNECTION with DB_USER and DB_NAME names another database than DATABASE_URL; set one of them`,
    );
  }
  return { databaseUrl: fromUrl, databaseVariable: "DATABASE_URL" };
}
const HOUR = 3600_000;
const DAY = 24 * HOUR;
function ratio(env: Env, name: string, def: number): number {
  const v = str(env, name);
  if (v === null) return def;
  const n = Number(v);
  if (!/^\d*\.?\d+$/.test(v) || n < 0 || n > 1) {
    throw new ConfigError(name, `must be a number from 0 to 1, got "${v}"`);
  }
  return n;
}

/**
 * Tracing is on when an OTLP endpoint is set (the standard OpenTelemetry variables):
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is the traces URL itself, OTEL_EXPORTER_OTLP_ENDPOINT
 * the collector's base URL (`/v1/traces` is added). OTEL_SDK_DISABLED=true turns it off.
 */
function tracingConfig(env: Env): TracingConfig | null {
  if (bool(env, "OTEL_SDK_DISABLED", false)) return null;
  const traces = url(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ["http:", "https:"]);
  const base = url(env, "OTEL_EXPORTER_OTLP_ENDPOINT", ["http:", "https:"]);
  const target = traces ?? (base === null ? null : `${base.replace(/\/+$/, "")}/v1/traces`);
  if (target === null) return null;
  return {
    url: target,
    serviceName: str(env, "OTEL_SERVICE_NAME") ?? "quizwire",
    sampleRatio:
      str(env, "OTEL_TRACES_SAMPLER") === null ? ratio(env, "OTEL_TRACES_SAMPLER_ARG", 0.1) : null,
  };
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export function loadConfig(env: Env = process.env): Config {
  const port = int(env, "PORT", 8080, 0, 65535);
  const host = str(env, "HOST") ?? "0.0.0.0";
  const jwtSecret = str(env, "JWT_SECRET");
  if (jwtSecret !== null && jwtSecret.length < 16) {
    throw new ConfigError("JWT_SECRET", "must be at least 16 characters");
  }
  const publicUrl = url(env, "PUBLIC_URL", ["http:", "https:"]) ?? `http://localhost:${port}`;
  return {
    port,
    host,
    dataDir: resolve(str(env, "DATA_DIR") ?? "./data"),
    ...databaseTarget(env),
    ...redisTarget(env),
    env: oneOf(env, "ENV", ["production", "staging", "development"] as const, "development"),
    // 0 is read as "no cap", as unset.
    maxConnectionsPerInstance: int(env, "MAX_CONNECTIONS_PER_INSTANCE", 0, 0, 10_000_000) || null,
    rateLimiting: bool(env, "ENABLE_RATE_LIMITING", true),
    redisKeyPrefix: str(env, "REDIS_KEY_PREFIX") ?? "quizwire:",
    jwtSecret,
    jwtJwksUrl: url(env, "JWT_JWKS_URL", ["http:", "https:"]),
    jwtJwksCooldownMs: int(env, "JWT_JWKS_COOLDOWN_MS", 30_000, 0, 3600_000),
    jwtJwksCacheMs: int(env, "JWT_JWKS_CACHE_MS", 10 * 60_000, 0, 24 * 3600_000),
    jwtIssuer: str(env, "JWT_ISSUER"),
    jwtAudience: str(env, "JWT_AUDIENCE"),
    allowAnonymous: bool(env, "ALLOW_ANONYMOUS", true),
    adminToken: str(env, "ADMIN_TOKEN"),
    logLevel: oneOf(env, "LOG_LEVEL", LOG_LEVELS, "info"),
    publicUrl: publicUrl.replace(/\/+$/, ""),
    sqliteSynchronous: oneOf(env, "SQLITE_SYNCHRONOUS", ["FULL", "NORMAL"] as const, "FULL"),
    demoContent: bool(env, "DEMO_CONTENT", true),
    endedRetentionMs: int(env, "ENDED_RETENTION_MS", 10 * 60_000, 0, 24 * 3600_000),
    sessionMaxDurationMs: int(env, "SESSION_MAX_DURATION_MS", 2 * HOUR, 0, 30 * DAY),
    hotDataRetentionMs: int(env, "HOT_DATA_RETENTION_MS", DAY, 0, 3650 * DAY),
    completedRetentionMs: int(env, "COMPLETED_RETENTION_MS", 90 * DAY, 0, 3650 * DAY),
    retentionSweepMs: int(env, "RETENTION_SWEEP_MS", HOUR, 1_000, DAY),
    allowedOrigins: (str(env, "ALLOWED_ORIGINS") ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    loginEnabled: bool(env, "LOGIN_ENABLED", true),
    tracing: tracingConfig(env),
    dbCircuitFailures: int(env, "DB_CIRCUIT_FAILURES", 5, 1, 1_000),
    dbCircuitRetryMs: int(env, "DB_CIRCUIT_RETRY_MS", 30_000, 100, 3_600_000),
    eventLoopLagLimitMs: int(env, "EVENT_LOOP_LAG_LIMIT_MS", 250, 0, 60_000),
    warmUpPlayers: int(env, "WARMUP_PLAYERS", 300, 0, 5_000),
  };
}
