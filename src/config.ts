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
  /** Postgres connection string; unset means the embedded SQLite database. */
  databaseUrl: string | null;
  /** Redis connection string; unset means in-process fan-out and limits. */
  redisUrl: string | null;
  /** Starts every Redis key and channel, so several deployments can share one Redis. */
  redisKeyPrefix: string;
  /** HS256 shared secret for JWTs; unset means tokens are not accepted. */
  jwtSecret: string | null;
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
    databaseUrl: url(env, "DATABASE_URL", ["postgres:", "postgresql:"]),
    redisUrl: url(env, "REDIS_URL", ["redis:", "rediss:"]),
    redisKeyPrefix: str(env, "REDIS_KEY_PREFIX") ?? "quizwire:",
    jwtSecret,
    allowAnonymous: bool(env, "ALLOW_ANONYMOUS", true),
    adminToken: str(env, "ADMIN_TOKEN"),
    logLevel: oneOf(env, "LOG_LEVEL", LOG_LEVELS, "info"),
    publicUrl: publicUrl.replace(/\/+$/, ""),
    sqliteSynchronous: oneOf(env, "SQLITE_SYNCHRONOUS", ["FULL", "NORMAL"] as const, "FULL"),
    demoContent: bool(env, "DEMO_CONTENT", true),
    endedRetentionMs: int(env, "ENDED_RETENTION_MS", 10 * 60_000, 0, 24 * 3600_000),
    allowedOrigins: (str(env, "ALLOWED_ORIGINS") ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    loginEnabled: bool(env, "LOGIN_ENABLED", true),
    dbCircuitFailures: int(env, "DB_CIRCUIT_FAILURES", 5, 1, 1_000),
    dbCircuitRetryMs: int(env, "DB_CIRCUIT_RETRY_MS", 30_000, 100, 3_600_000),
    eventLoopLagLimitMs: int(env, "EVENT_LOOP_LAG_LIMIT_MS", 250, 0, 60_000),
  };
}
