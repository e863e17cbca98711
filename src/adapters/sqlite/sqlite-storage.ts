/**
 * The embedded default storage: a SQLite file through better-sqlite3, queried with Kysely.
 * The stores themselves are shared with Postgres (`../sql/sql-storage.ts`).
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, type SqliteDatabase, SqliteDialect, type SqliteStatement } from "kysely";
import type { Storage } from "../../ports/storage.js";
import { migrateToLatest } from "../sql/migrations.js";
import type { Database } from "../sql/schema.js";
import { createSqlStorage } from "../sql/sql-storage.js";
import { sqliteBatchWriter } from "./sqlite-batch-writer.js";
import { isMemoryPath } from "./sqlite-path.js";
import { sqliteRunWriters } from "./sqlite-run-writers.js";

export interface SqliteStorageOptions {
  /** Database file (its directory is created when missing), or ":memory:". */
  path: string;
  /**
   * FULL (the default) syncs the write-ahead log on every commit, so an acknowledged answer
   * survives a power cut. NORMAL syncs only at checkpoints: it survives a crash of the
   * process but may lose the last commits on a power cut.
   */
  synchronous?: "FULL" | "NORMAL";
  /** How long a statement waits for another process's lock before failing. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Pages the write-ahead log grows by between checkpoints. Default `WAL_AUTOCHECKPOINT_PAGES`. */
  walAutocheckpointPages?: number;
  /**
   * A second connection to a database another connection opened (and migrated): read-only, no
   * migrations, its writes refused by SQLite. `sqlite-thread-storage.ts` reads whole sessions
   * through one, so that a long read never holds up the commits.
   */
  readOnly?: boolean;
  /**
   * Fault injection for tests of the worker thread (sqlite-worker.ts): the worker exits right
   * after its `exitAfterWrites`-th session write commits, before answering it.
   */
  faults?: {
    exitAfterWrites?: number;
    /**
     * The worker answers its `after`-th session write, then waits until `gate`'s first Int32 is
     * not 0 before it takes its next call: a writer busy for as long as a test needs.
     */
    holdAfterWrites?: { after: number; gate: SharedArrayBuffer };
  };
}

/** Prepared statements kept per connection; multi-row statements of every chunk size included. */
const STATEMENT_CACHE_SIZE = 64;

/**
 * better-sqlite3 behind Kysely's `SqliteDatabase`, with the last prepared statements cached by
 * their SQL: Kysely prepares every query afresh, and preparing a 1,000-row answer upsert takes
 * about half as long as running it. Kysely runs one statement at a time on this single
 * connection and never iterates (it does not stream here), so reusing a statement is safe.
 */
function withStatementCache(sqlite: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => {
      cache.clear();
      sqlite.close();
    },
    prepare: (sql) => {
      let stmt = cache.get(sql);
      if (stmt !== undefined) {
        cache.delete(sql); // re-inserted below: most recently used last
      } else {
        stmt = sqlite.prepare(sql);
        const oldest = cache.size >= STATEMENT_CACHE_SIZE ? cache.keys().next() : undefined;
        if (oldest !== undefined && oldest.done !== true) cache.delete(oldest.value);
      }
      cache.set(sql, stmt);
      return stmt;
    },
  };
}

/**
 * How many pages the write-ahead log grows by before the commit that passes it copies them into
 * the database file (a checkpoint, with an fsync of the file). SQLite's default is 1,000 pages
 * (4 MB): a room taking 5,000 answers a second fills that a few times a second, and each commit
 * that runs a checkpoint takes several milliseconds longer, as do the acknowledgements waiting
 * for it. Ten times as many pages make checkpoints ten times rarer; each copies the pages changed
 * since the last one once (the participants' rows, the indexes' hot pages), however often they
 * changed, so the copying shrinks, while one checkpoint takes a little longer. Measured on the
 * bench's machine (2026-12-07): seed 003's plan (`npm run bench -- --scenario seed001-many`, 7
 * alternating pairs) took the SQLite thread from a median of 0.140 to 0.128 of a core (its system
 * time from 0.050–0.063 to 0.039–0.045); `npx tsx bench/storage.ts` ("A live room's commits", 4
 * runs each) took the commits' p99 from 3.5–3.8 to 2.3–3.1 ms and their max from 8.6–11.7 to
 * 12.7–16.9. The log's file stays at up to 40 MB; a restart after a crash reads it once.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/**
 * Opens (creating when needed) the SQLite database at `opts.path`, brings its schema up to date
 * and returns the stores over it. `close()` closes the database.
 */
export async function openSqliteStorage(opts: SqliteStorageOptions): Promise<Storage> {
  if (opts.readOnly === true) return openReadOnly(opts);
  if (!isMemoryPath(opts.path)) mkdirSync(dirname(opts.path), { recursive: true });
  const sqlite = new BetterSqlite3(opts.path);
  let db: Kysely<Database> | undefined;
  try {
    // WAL: readers do not block the writer, and a commit appends to one file.
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma(`synchronous = ${opts.synchronous ?? "FULL"}`);
    sqlite.pragma(
      `wal_autocheckpoint = ${Math.max(0, Math.floor(opts.walAutocheckpointPages ?? WAL_AUTOCHECKPOINT_PAGES))}`,
    );
    sqlite.pragma("foreign_keys = ON");
    setBusyTimeout(sqlite, opts);
    db = kyselyOver(sqlite);
    await migrateToLatest(db);
    // Prepared after the migrations, which create the tables they name.
    const writers = sqliteRunWriters(sqlite);
    return createSqlStorage(db, { writers, batchWriter: sqliteBatchWriter(sqlite, writers) });
  } catch (err) {
    if (db !== undefined) await db.destroy();
    else sqlite.close();
    throw err;
  }
}

/** `readOnly`: the file must exist (its writer made it and brought its schema up to date). */
async function openReadOnly(opts: SqliteStorageOptions): Promise<Storage> {
  if (isMemoryPath(opts.path)) {
    throw new Error("a read-only SQLite connection needs a database file, not :memory:");
  }
  const sqlite = new BetterSqlite3(opts.path, { readonly: true, fileMustExist: true });
  try {
    setBusyTimeout(sqlite, opts);
    return createSqlStorage(kyselyOver(sqlite), { writers: sqliteRunWriters(sqlite) });
  } catch (err) {
    sqlite.close();
    throw err;
  }
}

function setBusyTimeout(sqlite: BetterSqlite3.Database, opts: SqliteStorageOptions): void {
  sqlite.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
}

/** Kysely over the connection, its statements cached (`withStatementCache`). */
function kyselyOver(sqlite: BetterSqlite3.Database): Kysely<Database> {
  return new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
  });
}
