import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { postgresBatchWriter } from "../../src/adapters/postgres/postgres-run-writers.js";
import { migrateToLatest } from "../../src/adapters/sql/migrations.js";
import type { Database } from "../../src/adapters/sql/schema.js";
import { type BatchWriter, createSqlStorage, type Db } from "../../src/adapters/sql/sql-storage.js";
import { sqliteBatchWriter } from "../../src/adapters/sqlite/sqlite-batch-writer.js";
import { sqliteRunWriters } from "../../src/adapters/sqlite/sqlite-run-writers.js";
import { asParticipantId, asSessionId } from "../../src/domain/ids.js";
import { FencedError, type SessionWrite, type Storage } from "../../src/ports/storage.js";
import { playedSession, T0 } from "../support/stored-session.js";

/**
 * Which batches a dialect's own `BatchWriter` stores, and that the portable transaction stores the
 * rest (the contract suite checks what each storage stores, through whichever path). On a real
 * SQLite database in memory.
 */
describe("SqlSessionStore and a dialect's BatchWriter", () => {
  let storage: Storage | undefined;
  let db: Db | undefined;
  afterEach(async () => {
    await storage?.close();
    storage = undefined;
    db = undefined;
  });

  async function open(
    batchWriter: (sqlite: BetterSqlite3.Database) => BatchWriter | undefined,
  ): Promise<Storage> {
    const sqlite = new BetterSqlite3(":memory:");
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    await migrateToLatest(db);
    storage = createSqlStorage(db, {
      writers: sqliteRunWriters(sqlite),
      batchWriter: batchWriter(sqlite),
    });
    return storage;
  }

  const [created, joined, state, answered] = playedSession("s1") as [
    SessionWrite,
    SessionWrite,
    SessionWrite,
    SessionWrite,
  ];
  const s1 = asSessionId("s1");
  const served: SessionWrite = {
    kind: "served_put",
    served: {
      sessionId: s1,
      participantId: asParticipantId("s1/p1"),
      questionIndex: 2,
      servedAt: T0 + 5,
    },
  };
  const mark = { key: "commit-mark", value: "n:1" };

  it("gets every batch with its fences and mark; one it stored is stored by nothing else, one it declined goes to the portable transaction", async () => {
    const calls: Array<Parameters<BatchWriter>> = [];
    let takes = false;
    const s = await open(() => (...args) => {
      calls.push(args);
      return takes;
    });
    await s.sessions.write([created, joined, state]);
    expect(calls).toHaveLength(1);
    expect((await s.sessions.load(s1))?.participants).toHaveLength(1);

    takes = true;
    const fences = new Map([[s1, 1]]);
    await s.sessions.write([answered, served], fences, mark);
    expect(calls[1]?.[1]).toStrictEqual([answered, served]);
    expect(calls[1]?.[2]).toBe(fences);
    expect(calls[1]?.[3]).toBe(mark);
    // The recording writer stored nothing, so nothing else did either.
    const bundle = await s.sessions.load(s1);
    expect(bundle?.answers).toStrictEqual([]);
    expect(bundle?.served).toStrictEqual([]);
  });

  it("Postgres's takes answers alone without a mark and declines the rest", async () => {
    await open(() => undefined);
    // Declining touches no database (the one it would write to is Postgres).
    const pg = db as Db;
    expect(await postgresBatchWriter(pg, [state, answered], undefined, undefined)).toBe(false);
    expect(await postgresBatchWriter(pg, [answered], undefined, mark)).toBe(false);
    expect(await postgresBatchWriter(pg, [answered, served], undefined, undefined)).toBe(false);
  });

  describe("SQLite's", () => {
    function recorded(taken: boolean[]): (sqlite: BetterSqlite3.Database) => BatchWriter {
      return (sqlite) => {
        const own = sqliteBatchWriter(sqlite, sqliteRunWriters(sqlite));
        return async (...args) => {
          const took = await own(...args);
          taken.push(took);
          return took;
        };
      };
    }

    it("stores rows alone (joins, answers, served questions) with their mark, and declines a batch with a session's state", async () => {
      const taken: boolean[] = [];
      const s = await open(recorded(taken));
      await s.sessions.write([created, joined, state]);
      await s.sessions.write([joined, answered, served], new Map([[s1, 1]]), mark);
      expect(taken).toStrictEqual([false, true]);
      const bundle = await s.sessions.load(s1);
      expect(bundle?.answers).toHaveLength(1);
      expect(bundle?.served.map((q) => q.questionIndex)).toStrictEqual([2]);
      expect(bundle?.participants[0]?.score).toBe(
        (answered as Extract<SessionWrite, { kind: "answer_put" }>).participantScore,
      );
      expect(await s.meta.get(mark.key)).toBe(mark.value);
    });

    it("refuses a batch fenced at an older epoch than the stored one, and writes none of it", async () => {
      const taken: boolean[] = [];
      const s = await open(recorded(taken));
      await s.sessions.write([created, joined, state]);
      expect(await s.sessions.claim(s1, 1, 2)).toBe(true);
      const write = s.sessions.write([answered, served], new Map([[s1, 1]]), mark);
      await expect(write).rejects.toBeInstanceOf(FencedError);
      const bundle = await s.sessions.load(s1);
      expect(bundle?.answers).toStrictEqual([]);
      expect(bundle?.served).toStrictEqual([]);
      expect(await s.meta.get(mark.key)).toBeUndefined();
      // At the epoch it now runs at, the same batch is stored.
      await s.sessions.write([answered, served], new Map([[s1, 2]]), mark);
      expect((await s.sessions.load(s1))?.answers).toHaveLength(1);
    });

    it("waits while a Kysely transaction holds the connection instead of writing inside it", async () => {
      const s = await open(recorded([]));
      await s.sessions.write([created, joined, state]);
      let release = (): void => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let inside!: () => void;
      const began = new Promise<void>((resolve) => {
        inside = resolve;
      });
      const transaction = (db as Db).transaction().execute(async () => {
        inside();
        await held;
      });
      await began;
      let stored = false;
      const write = s.sessions.write([answered], undefined, mark).then(() => {
        stored = true;
      });
      // A turn of the event loop: a write inside the open transaction would have resolved by now.
      await new Promise((resolve) => setImmediate(resolve));
      expect(stored).toBe(false);
      release();
      await transaction;
      await write;
      expect((await s.sessions.load(s1))?.answers).toHaveLength(1);
    });
  });
});
