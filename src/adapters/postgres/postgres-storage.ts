/**
 * Postgres storage: node-postgres (`pg`) pool behind Kysely's Postgres dialect, with the stores,
 * schema and migrations shared with SQLite (`../sql/`).
 *
 * Outages: every connection attempt and every query has a time limit, so with Postgres gone a
 * write rejects promptly instead of hanging (the group committer then refuses the answers it
 * holds with a retryable error). A connection that failed or timed out is dropped from the pool,
 * and the next query opens a fresh one, so service resumes by itself when Postgres returns.
 */
import {
  Kysely,
  type PostgresCursor,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryResult,
  sql,
} from "kysely";
import pg from "pg";
import type { Storage } from "../../ports/storage.js";
import { migrateToLatest } from "../sql/migrations.js";
import type { Database } from "../sql/schema.js";
import { createSqlStorage } from "../sql/sql-storage.js";
import { postgresBatchWriter, postgresRunWriters } from "./postgres-run-writers.js";
import { CurrentSchemaPostgresDialect } from "./schema-introspector.js";

/** Options for `openPostgresStorage`. */
export interface PostgresStorageOptions {
  /**
   * Connection string, `postgres://user:password@host:port/database`. A `?schema=name` query
   * parameter selects the schema (it is taken out before the URL reaches the driver).
   */
  url: string;
  /**
   * The schema holding quizwire's tables; created when missing, and the only schema on every
   * connection's search path. Overrides the URL's `?schema=`. Unset: the server's default
   * (normally `public`).
   */
  schema?: string;
  /** Most connections the pool holds. Default 10. */
  poolSize?: number;
  /** How long opening a connection (TCP, TLS, authentication) may take. Default 5000 ms. */
  connectTimeoutMs?: number;
  /**
   * How long one statement may wait for its result before it is given up and its connection
   * dropped. Default 5000 ms: with Postgres unreachable, an answer is refused well within the
   * client SDK's 10 s request timeout. Migrations at start get 10 minutes per statement.
   */
  queryTimeoutMs?: number;
}

const DEFAULT_POOL_SIZE = 10;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_QUERY_TIMEOUT_MS = 5_000;
/** A migration may rebuild an index over every answer ever stored. */
const MIGRATION_QUERY_TIMEOUT_MS = 10 * 60_000;
const INT8_OID = 20;

/**
 * Splits quizwire's own `schema` query parameter off a connection string. Resolves to the URL
 * without it (every other parameter, e.g. `sslmode`, is kept for the driver) and the schema,
 * if one was given.
 */
export function splitSchemaFromUrl(url: string): { url: string; schema: string | undefined } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url, schema: undefined };
  }
  const schema = parsed.searchParams.get("schema");
  if (schema === null) return { url, schema: undefined };
  parsed.searchParams.delete("schema");
  return { url: parsed.toString(), schema: schema === "" ? undefined : schema };
}

/** The URL with its password hidden, for error messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "***";
    return u.toString();
  } catch {
    return "(unparsable DATABASE_URL)";
  }
}

/**
 * A pool client whose queries give up after `timeoutMs`. A connection that timed out is in an
 * unknown state (its statement may still be running, or the network may be gone), so it refuses
 * further statements (Kysely's rollback after the failure included) and is destroyed, not
 * returned to the pool, when released.
 */
class GuardedClient implements PostgresPoolClient {
  private broken: Error | undefined;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly limits: { queryTimeoutMs: number },
  ) {}

  query<R>(sqlText: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(
    sqlOrCursor: string | PostgresCursor<R>,
    parameters?: ReadonlyArray<unknown>,
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof sqlOrCursor !== "string") {
      throw new Error("the Postgres storage does not stream with cursors");
    }
    return this.run<R>(sqlOrCursor, parameters ?? []);
  }

  private async run<R>(
    sqlText: string,
    parameters: ReadonlyArray<unknown>,
  ): Promise<PostgresQueryResult<R>> {
    if (this.broken) throw this.broken;
    const timeoutMs = this.limits.queryTimeoutMs;
    const pending = this.client.query(sqlText, [...parameters]);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.broken = new Error(`Postgres did not answer within ${timeoutMs} ms`);
        // The statement's own outcome no longer matters; keep its rejection from going unhandled.
        pending.catch(() => undefined);
        reject(this.broken);
      }, timeoutMs);
    });
    try {
      const result = await Promise.race([pending, timeout]);
      return {
        command: result.command as PostgresQueryResult<R>["command"],
        rowCount: result.rowCount ?? 0,
        rows: result.rows as R[],
      };
    } finally {
      clearTimeout(timer);
    }
  }

  release(): void {
    // With an error, pg-pool ends the connection instead of keeping it idle. A connection that
    // died under a query is dropped by pg-pool anyway (it is no longer queryable).
    this.client.release(this.broken);
  }
}

/** A `pg.Pool` as Kysely's `PostgresPool`, handing out guarded clients. */
class GuardedPool implements PostgresPool {
  // One wrapper per connection: Kysely keeps its own per-connection state keyed by the client.
  private readonly guarded = new WeakMap<pg.PoolClient, GuardedClient>();

  constructor(
    private readonly pool: pg.Pool,
    /** Read at each statement, so it can be raised while migrations run. */
    readonly limits: { queryTimeoutMs: number },
  ) {}

  async connect(): Promise<PostgresPoolClient> {
    const client = await this.pool.connect();
    let guarded = this.guarded.get(client);
    if (guarded === undefined) {
      guarded = new GuardedClient(client, this.limits);
      this.guarded.set(client, guarded);
    }
    return guarded;
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

/** Makes `schema` the only schema on a new connection's search path, within `timeoutMs`. */
async function setSearchPath(client: pg.ClientBase, schema: string, timeoutMs: number) {
  let timer: NodeJS.Timeout | undefined;
  const pending = client.query(`set search_path to ${pg.escapeIdentifier(schema)}`);
  pending.catch(() => undefined);
  try {
    await Promise.race([
      pending,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Postgres did not answer within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Creates `schema` unless it exists; safe when several servers start at once. */
async function ensureSchema(db: Kysely<Database>, schema: string): Promise<void> {
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  } catch (err) {
    // Two concurrent `create schema if not exists` can still collide on the catalog's unique
    // index; the loser finds the schema there and carries on.
    const found = await sql<{
      n: number;
    }>`select 1 as n from pg_namespace where nspname = ${schema}`
      .execute(db)
      .catch(() => ({ rows: [] }));
    if (found.rows.length === 0) throw err;
  }
}

/**
 * Connects to Postgres at `opts.url`, creates the schema when one is named and missing, brings
 * it up to date with the migrations SQLite uses, and returns the stores over it. `close()` ends
 * the pool. Rejects when Postgres cannot be reached or a migration fails.
 */
export async function openPostgresStorage(opts: PostgresStorageOptions): Promise<Storage> {
  const fromUrl = splitSchemaFromUrl(opts.url);
  const schema = opts.schema ?? fromUrl.schema;
  const queryTimeoutMs = opts.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;

  // node-postgres returns int8 as a string; quizwire's int8 columns hold epoch milliseconds and
  // counts, which fit a double exactly. The parser is set on this pool only, not globally.
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8_OID, Number);

  const connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const pool = new pg.Pool({
    connectionString: fromUrl.url,
    max: Math.max(1, Math.floor(opts.poolSize ?? DEFAULT_POOL_SIZE)),
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: "quizwire",
    types,
    // The pool runs this on each new connection before handing it out, and drops the connection
    // when it fails. (Kysely's own hook would leak the connection on failure.)
    ...(schema === undefined
      ? {}
      : { onConnect: (client: pg.ClientBase) => setSearchPath(client, schema, connectTimeoutMs) }),
  });
  // Without these listeners a connection dying while idle, or while checked out between two
  // statements, would be an unhandled 'error' event and crash the process. The pool drops such
  // connections by itself; the failure reaches callers through their next query.
  pool.on("error", () => undefined);
  pool.on("connect", (client) => {
    client.on("error", () => undefined);
  });

  const limits = { queryTimeoutMs: Math.max(queryTimeoutMs, MIGRATION_QUERY_TIMEOUT_MS) };
  const db = new Kysely<Database>({
    dialect: new CurrentSchemaPostgresDialect({ pool: new GuardedPool(pool, limits) }),
  });

  try {
    if (schema !== undefined) await ensureSchema(db, schema);
    const current = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(
      db,
    );
    const migrationSchema = current.rows[0]?.schema ?? null;
    if (migrationSchema === null) {
      throw new Error("no schema to create tables in: the search path names no existing schema");
    }
    // The migration bookkeeping tables are looked up in this schema only, so other quizwire
    // schemas in the same database (tests, other installations) are not mistaken for this one.
    await migrateToLatest(db, { migrationTableSchema: migrationSchema });
    limits.queryTimeoutMs = queryTimeoutMs;
  } catch (err) {
    await db.destroy().catch(() => undefined);
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`Postgres storage at ${redact(fromUrl.url)}: ${reason}`, { cause: err });
  }
  return createSqlStorage(db, { writers: postgresRunWriters(), batchWriter: postgresBatchWriter });
}
