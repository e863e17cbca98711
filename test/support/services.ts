/**
 * The real services some tests need (Postgres, Redis), found at their usual local addresses.
 *
 * A suite that needs a service checks for it while its file is collected:
 *
 *     const needs = requireOrSkip(await postgresAvailable());
 *     describe.skipIf(needs.skip)(needs.title("postgres storage"), () => { … });
 *
 * When the service is absent the suite is skipped, with the reason in its title and printed as a
 * warning. With QUIZWIRE_REQUIRE_SERVICES=1 (CI sets it) absence is a failure instead: a failing
 * test saying what is missing is registered in place of the skipped suite.
 *
 * Addresses: QUIZWIRE_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) and
 * QUIZWIRE_TEST_REDIS_URL (default redis://127.0.0.1:6379).
 */
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import pg from "pg";
import { describe, it } from "vitest";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

/** The Postgres database tests use; each suite works in schemas of its own inside it. */
export const TEST_DATABASE_URL =
  process.env.QUIZWIRE_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** The Redis server tests use; each suite works under key prefixes of its own. */
export const TEST_REDIS_URL = process.env.QUIZWIRE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** Whether a missing service fails the run (CI) rather than skipping the suites that need it. */
export function servicesRequired(): boolean {
  return process.env.QUIZWIRE_REQUIRE_SERVICES === "1";
}

/** The outcome of looking for one service. */
export interface ServiceCheck {
  service: "Postgres" | "Redis";
  /** Where it was looked for (password hidden). */
  address: string;
  ok: boolean;
  /** Why it is not usable; empty when it is. */
  reason: string;
}

const CHECK_TIMEOUT_MS = 3_000;

/** `url` with its password hidden. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}

function messageOf(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return err.errors.map(messageOf).join("; ");
  }
  return err instanceof Error ? err.message || err.name : String(err);
}

function codeOf(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err
    ? String((err as { code: unknown }).code)
    : undefined;
}

async function selectOne(url: string): Promise<void> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: CHECK_TIMEOUT_MS,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("select 1");
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates the database `url` names, through the server's `postgres` database. */
async function createDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ""));
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new pg.Client({
    connectionString: admin.toString(),
    connectionTimeoutMillis: CHECK_TIMEOUT_MS,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query(`create database ${pg.escapeIdentifier(name)}`);
  } catch (err) {
    if (codeOf(err) !== "42P04") throw err; // created meanwhile by a test running alongside
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Looks for Postgres at `url` (default `TEST_DATABASE_URL`). A running server without the test
 * database gets it created, so a fresh local Postgres works as it is.
 */
export async function postgresAvailable(url = TEST_DATABASE_URL): Promise<ServiceCheck> {
  const address = redactUrl(url);
  try {
    try {
      await selectOne(url);
    } catch (err) {
      if (codeOf(err) !== "3D000") throw err; // 3D000: the database does not exist
      await createDatabase(url);
      await selectOne(url);
    }
    return { service: "Postgres", address, ok: true, reason: "" };
  } catch (err) {
    return {
      service: "Postgres",
      address,
      ok: false,
      reason: `no usable Postgres at ${address}: ${messageOf(err)}`,
    };
  }
}

/** Looks for Redis at `url` (default `TEST_REDIS_URL`): it must answer PING with PONG. */
export async function redisAvailable(url = TEST_REDIS_URL): Promise<ServiceCheck> {
  const address = redactUrl(url);
  const fail = (why: string): ServiceCheck => ({
    service: "Redis",
    address,
    ok: false,
    reason: `no usable Redis at ${address}: ${why}`,
  });
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail("the URL does not parse");
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1";
  const port = Number(parsed.port || 6379);
  const auth =
    parsed.password !== ""
      ? [decodeURIComponent(parsed.username || "default"), decodeURIComponent(parsed.password)]
      : undefined;
  return new Promise<ServiceCheck>((resolve) => {
    const socket = connect({ host, port });
    let received = "";
    const done = (check: ServiceCheck) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(check);
    };
    const timer = setTimeout(
      () => done(fail(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
    const command = (args: string[]) =>
      `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
    socket.on("connect", () => {
      socket.write((auth ? command(["AUTH", ...auth]) : "") + command(["PING"]));
    });
    socket.on("data", (chunk) => {
      received += chunk.toString("utf8");
      // One simple reply per command sent: AUTH's (when sent), then PING's.
      const replies = received.split("\r\n").slice(0, -1);
      if (replies.length < (auth ? 2 : 1)) return;
      const pong = replies[replies.length - 1];
      if (pong === "+PONG") done({ service: "Redis", address, ok: true, reason: "" });
      else done(fail(replies.find((r) => r.startsWith("-")) ?? pong ?? received));
    });
    socket.on("error", (err) => done(fail(messageOf(err))));
  });
}

/** What `requireOrSkip` decided for a suite. */
export interface ServiceGate {
  /** Whether the suite must be skipped (a failing test stands in for it when services are required). */
  skip: boolean;
  /** Why, naming the addresses tried; empty when nothing is missing. */
  reason: string;
  /** `name`, with the reason appended when the suite is skipped. */
  title(name: string): string;
}

/**
 * Decides, while a test file is collected, whether its suites that need `checks` run. Every
 * service there: they run. One missing: they are skipped with a printed reason or, with
 * QUIZWIRE_REQUIRE_SERVICES=1, a test that fails with that reason is registered in their place.
 */
export function requireOrSkip(...checks: ServiceCheck[]): ServiceGate {
  const missing = checks.filter((c) => !c.ok);
  if (missing.length === 0) return { skip: false, reason: "", title: (name) => name };
  const reason = missing.map((c) => c.reason).join("; ");
  const names = missing.map((c) => c.service).join(" and ");
  if (servicesRequired()) {
    describe("required services", () => {
      it(`${names} must be running (QUIZWIRE_REQUIRE_SERVICES=1)`, () => {
        throw new Error(reason);
      });
    });
  } else {
    console.warn(`[quizwire tests] skipping what needs ${names}: ${reason}`);
  }
  return { skip: true, reason, title: (name) => `${name} (skipped: ${reason})` };
}

// ---------------------------------------------------------------------------------------------
// Postgres schemas for test isolation

/** A schema of its own in the test database, for one storage or one app. */
export interface PgSchema {
  /** The schema's name, a plain lower-case identifier. */
  readonly name: string;
  /** The test database's URL with `?schema=<name>`, as DATABASE_URL takes it. */
  readonly url: string;
  /** Drops the schema and everything in it; does nothing when it is already gone. */
  drop(): Promise<void>;
}

const SCHEMA_PREFIX = "qw_test_";
/** Schemas left behind by killed test runs are dropped once they are this old. */
const STALE_SCHEMA_MS = 24 * 3600_000;
let sweep: Promise<void> | undefined;

/** Runs `fn` on a short-lived connection to `url`. */
export async function withPgClient<T>(
  fn: (client: pg.Client) => Promise<T>,
  url = TEST_DATABASE_URL,
): Promise<T> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: CHECK_TIMEOUT_MS,
  });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function dropSchema(name: string, url: string): Promise<void> {
  await withPgClient(async (c) => {
    await c.query(`drop schema if exists ${pg.escapeIdentifier(name)} cascade`);
  }, url);
}

/** Drops test schemas older than a day: runs that were killed never dropped theirs. */
async function sweepStaleSchemas(url: string, now: number): Promise<void> {
  const rows = await withPgClient(
    async (c) =>
      (
        await c.query<{ nspname: string }>(
          "select nspname from pg_namespace where nspname like $1",
          [`${SCHEMA_PREFIX}%`],
        )
      ).rows,
    url,
  );
  for (const { nspname } of rows) {
    const stamp = Number.parseInt(nspname.slice(SCHEMA_PREFIX.length).split("_")[0] ?? "", 36);
    if (Number.isFinite(stamp) && now - stamp > STALE_SCHEMA_MS) {
      await dropSchema(nspname, url).catch(() => undefined);
    }
  }
}

/**
 * A name for a new schema in the test database, unique to this call, so suites running side by
 * side never meet. Nothing is created: the storage creates the schema when it first opens it.
 * Call `drop()` when done (in afterAll).
 */
export async function freshPgSchema(url = TEST_DATABASE_URL): Promise<PgSchema> {
  const now = Date.now();
  sweep ??= sweepStaleSchemas(url, now).catch(() => undefined);
  await sweep;
  const name = `${SCHEMA_PREFIX}${now.toString(36)}_${process.pid}_${randomBytes(4).toString("hex")}`;
  const withSchema = new URL(url);
  withSchema.searchParams.set("schema", name);
  return { name, url: withSchema.toString(), drop: () => dropSchema(name, url) };
}

/**
 * A fresh schema reached through a TCP proxy that a test can cut (`proxy.cut`) while the
 * machine's Postgres keeps running; `url` is the DATABASE_URL through the proxy.
 */
export async function proxiedPgSchema(): Promise<{
  proxy: TcpProxy;
  schema: PgSchema;
  url: string;
}> {
  const target = new URL(TEST_DATABASE_URL);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const schema = await freshPgSchema();
  const url = new URL(schema.url);
  url.hostname = "127.0.0.1";
  url.port = String(proxy.port);
  return { proxy, schema, url: url.toString() };
}
