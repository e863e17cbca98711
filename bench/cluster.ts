/**
 * What `npm run bench -- --cluster N` needs besides the orchestration in bench/run.ts:
 *
 * - the round-robin TCP balancer, run as its own process (like nginx in compose.yaml, and so its
 *   CPU is its own). Each new connection goes to the next backend; a backend that refuses is
 *   skipped, so a client reconnecting after its instance died lands on a live one. No stickiness.
 *   It tags every HTTP response it relays with `x-bench-backend: <port>` (as nginx can with
 *   `add_header X-Upstream $upstream_addr`), which is how a player learns which instance its
 *   WebSocket landed on. The idea is test/support/round-robin-proxy.ts's; it is copied here
 *   rather than imported, because the bench should not depend on test code and needs the tag;
 * - the run's own Postgres schema and Redis key prefix, and removing them;
 * - which instance owns a session, from `/health/ready`.
 */
import { randomBytes } from "node:crypto";
import { connect, createServer, type Socket } from "node:net";
import { pathToFileURL } from "node:url";
import type { Redis } from "ioredis";
import type pg from "pg";
import type { RedisConnection } from "../src/adapters/redis/redis-connection.js";

// pg and ioredis are loaded when first needed: the balancer and the player workers, which import
// this file too, never need them.
const loadPg = async () => (await import("pg")).default;
const loadRedis = async () => (await import("ioredis")).Redis;
const loadRedisConnection = () => import("../src/adapters/redis/redis-connection.js");

// ---------------------------------------------------------------- the balancer

/** The response header naming the backend port a connection was relayed to. */
export const BACKEND_HEADER = "x-bench-backend";

/** What the orchestrator tells the balancer process. */
export type ToBalancer = { type: "start"; backends: number[] } | { type: "stats" };

/** What the balancer process tells the orchestrator. */
export type FromBalancer =
  | { type: "listening"; port: number }
  | {
      type: "stats";
      /** Connections relayed per backend port. */
      accepted: [number, number][];
      /** Connection attempts a backend refused (the next one was tried), per backend port. */
      refused: [number, number][];
    };

/** The most response head bytes looked at for the end of the status line. */
const MAX_STATUS_LINE = 8_192;

/**
 * `head` (the first bytes of an HTTP response) with `line` inserted as a header right after the
 * status line; null while the status line is not complete yet. Bytes after the status line are
 * kept as they are, so it works whatever the chunking.
 */
export function insertHeaderLine(head: Buffer, line: string): Buffer | null {
  const end = head.indexOf("\r\n");
  if (end < 0) return null;
  return Buffer.concat([
    head.subarray(0, end + 2),
    Buffer.from(`${line}\r\n`, "latin1"),
    head.subarray(end + 2),
  ]);
}

interface Balancer {
  port: number;
  accepted: Map<number, number>;
  refused: Map<number, number>;
}

async function startBalancer(backends: readonly number[]): Promise<Balancer> {
  let next = 0;
  const accepted = new Map<number, number>();
  const refused = new Map<number, number>();

  /**
   * The next backend in turn that this connection has not tried yet. The turn is shared by every
   * connection, so a retry must skip what it tried: with many clients reconnecting at once, "the
   * next one" is often the dead backend again.
   */
  const pick = (tried: ReadonlySet<number>): number | null => {
    for (let i = 0; i < backends.length; i++) {
      const port = backends[next % backends.length] ?? 0;
      next += 1;
      if (!tried.has(port)) return port;
    }
    return null;
  };

  const relay = (client: Socket, tried: Set<number>) => {
    const port = pick(tried);
    if (port === null) {
      client.destroy();
      return;
    }
    tried.add(port);
    const upstream = connect({ host: "127.0.0.1", port });
    upstream.setNoDelay(true);
    let connected = false;
    upstream.once("connect", () => {
      connected = true;
      accepted.set(port, (accepted.get(port) ?? 0) + 1);
      client.pipe(upstream);
      // The response head gets the tag; everything after it is piped untouched.
      let head: Buffer = Buffer.alloc(0);
      const onHead = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const tagged = insertHeaderLine(head, `${BACKEND_HEADER}: ${port}`);
        if (tagged === null && head.length < MAX_STATUS_LINE) return;
        upstream.off("data", onHead);
        upstream.pause();
        client.write(tagged ?? head);
        upstream.pipe(client);
      };
      upstream.on("data", onHead);
    });
    upstream.on("error", () => {
      if (connected) {
        client.destroy();
        return;
      }
      refused.set(port, (refused.get(port) ?? 0) + 1);
      relay(client, tried);
    });
    upstream.on("close", () => {
      if (connected) client.destroy();
    });
    client.on("close", () => upstream.destroy());
  };

  const server = createServer((client) => {
    client.setNoDelay(true);
    // Paused until the upstream connects; pipe() resumes it, so nothing is lost meanwhile.
    client.pause();
    client.on("error", () => undefined);
    relay(client, new Set());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    // A deep backlog: a join storm opens hundreds of connections at once.
    server.listen({ port: 0, host: "127.0.0.1", backlog: 4_096 }, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { port, accepted, refused };
}

function balancerMain(): void {
  const send = (m: FromBalancer) => process.send?.(m);
  let balancer: Balancer | null = null;
  // Nobody to balance for once the orchestrator is gone.
  process.on("disconnect", () => process.exit(0));
  process.on("message", (message: unknown) => {
    const m = message as ToBalancer;
    if (m.type === "start" && balancer === null) {
      startBalancer(m.backends).then(
        (b) => {
          balancer = b;
          send({ type: "listening", port: b.port });
        },
        (e: unknown) => {
          process.stderr.write(`balancer: cannot listen: ${String(e)}\n`);
          process.exit(1);
        },
      );
    } else if (m.type === "stats" && balancer !== null) {
      send({ type: "stats", accepted: [...balancer.accepted], refused: [...balancer.refused] });
    }
  });
}

// ---------------------------------------------------------------- Postgres

/** A schema of the run's own in the bench database. */
export interface RunSchema {
  readonly name: string;
  /** The database URL with `?schema=<name>`, as DATABASE_URL takes it. */
  readonly url: string;
  /** Drops the schema and everything in it; nothing happens when it is already gone. */
  drop(): Promise<void>;
  /** Whether the schema exists (after drop(): it should not). */
  exists(): Promise<boolean>;
}

const SCHEMA_PREFIX = "qw_bench_";
/** Schemas of runs that were SIGKILLed (and so never dropped theirs) go once they are this old. */
const STALE_SCHEMA_MS = 24 * 3600_000;
/** How long connecting to Postgres or Redis may take. */
const SERVICE_TIMEOUT_MS = 5_000;

/** `url` without its password and query, for printing. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "***";
    u.search = "";
    return u.toString();
  } catch {
    return url;
  }
}

async function withPg<T>(
  url: string,
  fn: (c: pg.Client, ident: (name: string) => string) => Promise<T>,
): Promise<T> {
  const pg = await loadPg();
  const u = new URL(url);
  u.searchParams.delete("schema");
  const client = new pg.Client({
    connectionString: u.toString(),
    connectionTimeoutMillis: SERVICE_TIMEOUT_MS,
    statement_timeout: 20_000,
  });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await fn(client, (name) => pg.escapeIdentifier(name));
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Connects and runs `select 1`; throws a message naming the URL when it cannot. */
export async function checkPostgres(url: string): Promise<void> {
  try {
    await withPg(url, (c) => c.query("select 1"));
  } catch (e) {
    const code = typeof e === "object" && e !== null && "code" in e ? String(e.code) : "";
    const hint =
      code === "3D000"
        ? " (create the database, e.g. `createdb -h 127.0.0.1 -U postgres test`, or pass --database-url)"
        : "";
    throw new Error(`no usable Postgres at ${describeUrl(url)}: ${messageOf(e)}${hint}`);
  }
}

/**
 * A name for a new schema in the database at `url`, unique to this run (nothing is created: the
 * servers create it when they first open it). Schemas left by killed runs more than a day ago
 * are dropped first.
 */
export async function freshSchema(url: string, now: number): Promise<RunSchema> {
  await withPg(url, async (c, ident) => {
    const { rows } = await c.query<{ nspname: string }>(
      "select nspname from pg_namespace where nspname like $1",
      [`${SCHEMA_PREFIX}%`],
    );
    for (const { nspname } of rows) {
      const stamp = Number.parseInt(nspname.slice(SCHEMA_PREFIX.length).split("_")[0] ?? "", 36);
      if (Number.isFinite(stamp) && now - stamp > STALE_SCHEMA_MS) {
        await c.query(`drop schema if exists ${ident(nspname)} cascade`).catch(() => undefined);
      }
    }
  });
  const name = `${SCHEMA_PREFIX}${now.toString(36)}_${process.pid}_${randomBytes(3).toString("hex")}`;
  const withSchema = new URL(url);
  withSchema.searchParams.set("schema", name);
  return {
    name,
    url: withSchema.toString(),
    drop: () =>
      withPg(url, async (c, ident) => {
        await c.query(`drop schema if exists ${ident(name)} cascade`);
      }),
    exists: () =>
      withPg(url, async (c) => {
        const r = await c.query("select 1 from pg_namespace where nspname = $1", [name]);
        return (r.rowCount ?? 0) > 0;
      }),
  };
}

// ---------------------------------------------------------------- Redis

/** A key prefix no other run uses: `quizwire-bench:<random>:`. */
export function randomKeyPrefix(): string {
  return `quizwire-bench:${randomBytes(6).toString("hex")}:`;
}

async function withRedis<T>(url: string, fn: (r: Redis) => Promise<T>): Promise<T> {
  const Redis = await loadRedis();
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: SERVICE_TIMEOUT_MS,
    retryStrategy: () => null,
  });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

/** Connects and PINGs; throws a message naming the URL when it cannot. */
export async function checkRedis(url: string): Promise<void> {
  try {
    const pong = await withRedis(url, (r) => r.ping());
    if (pong !== "PONG") throw new Error(`PING answered ${pong}`);
  } catch (e) {
    throw new Error(`no usable Redis at ${describeUrl(url)}: ${messageOf(e)}`);
  }
}

/** Deletes every key that starts with `prefix`; resolves with how many there were. */
export function deleteKeys(url: string, prefix: string): Promise<number> {
  return underPrefix(url, prefix, (c) => c.deleteOwnKeys());
}

/** How many keys start with `prefix`. */
export function countKeys(url: string, prefix: string): Promise<number> {
  return underPrefix(url, prefix, (c) => c.countOwnKeys());
}

/** Runs `fn` on a one-off connection whose key prefix is `prefix`. */
async function underPrefix<T>(
  url: string,
  prefix: string,
  fn: (c: RedisConnection) => Promise<T>,
): Promise<T> {
  const { withConnection } = await loadRedisConnection();
  const options = {
    url,
    keyPrefix: prefix,
    name: "bench-cleanup",
    openTimeoutMs: SERVICE_TIMEOUT_MS,
  };
  return withConnection(options, fn);
}

// ---------------------------------------------------------------- instances

/**
 * How many running sessions the instance at `httpBase` owns, from `/health/ready`'s
 * `checks.redis.detail` ("owns N sessions"); null when it does not answer or say.
 */
export async function sessionsOwned(httpBase: string): Promise<number | null> {
  try {
    const res = await fetch(`${httpBase}/health/ready`, { signal: AbortSignal.timeout(2_000) });
    const body = (await res.json()) as { checks?: { redis?: { detail?: string } } };
    const m = /owns (\d+)/.exec(body.checks?.redis?.detail ?? "");
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function messageOf(e: unknown): string {
  if (e instanceof AggregateError && e.errors.length > 0) return e.errors.map(messageOf).join("; ");
  return e instanceof Error ? e.message || e.name : String(e);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (!process.send) {
    process.stderr.write("bench/cluster.ts is started by bench/run.ts (npm run bench)\n");
    process.exit(2);
  }
  balancerMain();
}
