import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { migrateToLatest } from "../../src/adapters/sql/migrations.js";
import type { Database } from "../../src/adapters/sql/schema.js";
import { type AnswersAlone, createSqlStorage } from "../../src/adapters/sql/sql-storage.js";
import { sqliteRunWriters } from "../../src/adapters/sqlite/sqlite-run-writers.js";
import { asSessionId } from "../../src/domain/ids.js";
import type { SessionWrite, Storage } from "../../src/ports/storage.js";
import { playedSession } from "../support/stored-session.js";

/**
 * Which batches a dialect's one-statement writer for answers alone gets (Postgres brings one,
 * postgres-run-writers.ts; the contract suite checks what it stores). Here the writer only
 * records its calls, on a real SQLite database, so what it is not given is stored as usual.
 */
describe("SqlSessionStore and a dialect's writer for answers alone", () => {
  let storage: Storage | undefined;
  afterEach(async () => {
    await storage?.close();
  });

  async function open(calls: Array<Parameters<AnswersAlone>>): Promise<Storage> {
    const sqlite = new BetterSqlite3(":memory:");
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    await migrateToLatest(db);
    storage = createSqlStorage(db, {
      writers: sqliteRunWriters(sqlite),
      answersAlone: async (...args) => {
        calls.push(args);
      },
    });
    return storage;
  }

  it("gets a batch of answers alone, with its fences; a batch with anything else is stored in a transaction", async () => {
    const calls: Array<Parameters<AnswersAlone>> = [];
    const s = await open(calls);
    const [created, joined, state, answered] = playedSession("s1") as [
      SessionWrite,
      SessionWrite,
      SessionWrite,
      SessionWrite,
    ];
    await s.sessions.write([created, joined, state]);
    expect(calls).toHaveLength(0);

    const fences = new Map([[asSessionId("s1"), 1]]);
    await s.sessions.write([answered, answered], fences);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.[1]).toStrictEqual([answered, answered]);
    expect(calls[0]?.[2]).toBe(fences);
    // The recording writer stored nothing, so nothing else did either.
    expect((await s.sessions.load(asSessionId("s1")))?.answers).toStrictEqual([]);

    await s.sessions.write([state, answered]);
    expect(calls).toHaveLength(1);
    expect((await s.sessions.load(asSessionId("s1")))?.answers).toHaveLength(1);
  });

  it("does not get answers written with a commit mark (the mark must be in their transaction)", async () => {
    const calls: Array<Parameters<AnswersAlone>> = [];
    const s = await open(calls);
    const [created, joined, , answered] = playedSession("s1") as SessionWrite[];
    await s.sessions.write([created as SessionWrite, joined as SessionWrite]);
    await s.sessions.write([answered as SessionWrite], undefined, { key: "mark", value: "m1" });
    expect(calls).toHaveLength(0);
    expect((await s.sessions.load(asSessionId("s1")))?.answers).toHaveLength(1);
  });
});
