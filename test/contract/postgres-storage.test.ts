import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  openPostgresStorage,
  splitSchemaFromUrl,
} from "../../src/adapters/postgres/postgres-storage.js";
import { MIGRATIONS } from "../../src/adapters/sql/migrations.js";
import { openSqliteStorage } from "../../src/adapters/sqlite/sqlite-storage.js";
import { asParticipantId, asSessionId } from "../../src/domain/ids.js";
import { FencedError, type Storage } from "../../src/ports/storage.js";
import {
  freshPgSchema,
  type PgSchema,
  postgresAvailable,
  requireOrSkip,
  TEST_DATABASE_URL,
  withPgClient,
} from "../support/services.js";
import {
  PLAYED_PARTICIPANT_ROW,
  PLAYED_SESSION_ROW,
  playedSession,
  STORAGE_TABLES,
  T0,
} from "../support/stored-session.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import { runStorageContract } from "./storage-contract.js";

const postgres = requireOrSkip(await postgresAvailable());

const schemas: PgSchema[] = [];
const schemaOf = new Map<Storage, PgSchema>();

afterAll(async () => {
  for (const s of schemas) await s.drop();
});

async function newSchema(): Promise<PgSchema> {
  const s = await freshPgSchema();
  schemas.push(s);
  return s;
}

async function openIn(schema: PgSchema, url = TEST_DATABASE_URL): Promise<Storage> {
  const storage = await openPostgresStorage({ url, schema: schema.name, poolSize: 4 });
  schemaOf.set(storage, schema);
  return storage;
}

/** Runs `fn` on a plain pg connection (global type parsers) whose search path is `schema`. */
function inSchema<T>(schema: PgSchema, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  return withPgClient(async (c) => {
    await c.query(`set search_path to ${pg.escapeIdentifier(schema.name)}`);
    return fn(c);
  });
}

describe.skipIf(postgres.skip)(postgres.title("postgres"), () => {
  runStorageContract(
    "postgres",
    async () => openIn(await newSchema()),
    async (closed) => {
      const schema = schemaOf.get(closed);
      if (schema === undefined) throw new Error("reopen: unknown storage");
      return openIn(schema);
    },
  );

  describe("PostgresStorage", () => {
    it("creates its schema, applies the migrations there once, and nothing elsewhere", async () => {
      const schema = await newSchema();
      for (let i = 0; i < 3; i++) {
        const storage = await openIn(schema);
        await storage.meta.set(`open-${i}`, "yes");
        await storage.close();
      }
      await inSchema(schema, async (c) => {
        const migrations = await c.query("select name from kysely_migration order by name");
        expect(migrations.rows.map((r) => r.name)).toStrictEqual(Object.keys(MIGRATIONS).sort());
        const tables = await c.query(
          `select table_name from information_schema.tables
            where table_schema = $1 and table_name not like 'kysely%' order by table_name`,
          [schema.name],
        );
        expect(tables.rows.map((r) => r.table_name)).toStrictEqual(STORAGE_TABLES);
        expect((await c.query("select count(*)::int as n from meta")).rows[0]?.n).toBe(3);
      });
    });

    it("opens (and migrates) while other schemas of the database are created and dropped", async () => {
      // Kysely's own introspector calls has_schema_privilege on every schema it lists, and failed
      // with `schema "…" does not exist` when another test run dropped one at that moment.
      let churning = true;
      const churn = (async () => {
        for (let i = 0; churning && i < 400; i++) {
          // A test schema's name, so a run killed here leaves nothing the stale sweep misses.
          const { name } = await freshPgSchema();
          await withPgClient(async (c) => {
            await c.query(`create schema ${pg.escapeIdentifier(name)}`);
            await c.query(`create table ${pg.escapeIdentifier(name)}.t (id serial primary key)`);
            await c.query(`drop schema ${pg.escapeIdentifier(name)} cascade`);
          });
        }
      })();
      try {
        for (let i = 0; i < 8; i++) {
          const storage = await openIn(await newSchema());
          await storage.meta.set("opened", "yes");
          await storage.close();
        }
      } finally {
        churning = false;
        await churn;
      }
    });

    it("two schemas of one database are two separate storages", async () => {
      const a = await openIn(await newSchema());
      const b = await openIn(await newSchema());
      try {
        await a.sessions.write(playedSession("s1"));
        await b.sessions.write(playedSession("s1"));
        await b.meta.set("only-b", "x");
        expect((await a.sessions.load(asSessionId("s1")))?.answers.length).toBe(1);
        expect(await a.meta.get("only-b")).toBeUndefined();
        expect(await b.meta.get("only-b")).toBe("x");
      } finally {
        await a.close();
        await b.close();
      }
    });

    it("a ?schema= on the URL selects the schema and is not passed to the driver", async () => {
      const schema = await newSchema();
      expect(splitSchemaFromUrl(schema.url)).toStrictEqual({
        url: TEST_DATABASE_URL,
        schema: schema.name,
      });
      const storage = await openPostgresStorage({ url: schema.url });
      try {
        await storage.meta.set("k", "v");
      } finally {
        await storage.close();
      }
      expect(
        await inSchema(schema, async (c) => (await c.query("select value from meta")).rows),
      ).toStrictEqual([{ value: "v" }]);
    });

    it("reads int8 as numbers on its own pool without changing pg's global parser", async () => {
      const storage = await openIn(await newSchema());
      try {
        await storage.sessions.write(playedSession("s1"));
        const bundle = await storage.sessions.load(asSessionId("s1"));
        expect(bundle?.session.createdAt).toBe(T0);
        expect(bundle?.answers[0]?.receivedAt).toBe(T0 + 2_000);
        // Another pool in the same process still gets node-postgres' default: int8 as a string.
        const raw = await withPgClient(async (c) => (await c.query("select 42::int8 as n")).rows);
        expect(raw).toStrictEqual([{ n: "42" }]);
      } finally {
        await storage.close();
      }
    });

    it("writes plain columns another application can read", async () => {
      const schema = await newSchema();
      const storage = await openIn(schema);
      try {
        await storage.sessions.write(playedSession("s1"));
      } finally {
        await storage.close();
      }
      await inSchema(schema, async (c) => {
        const s = await c.query(
          `select status, phase, current_index, deadline_ms::float8 as deadline_ms, locked, mode,
                  started_at::float8 as started_at, ended_at
             from sessions`,
        );
        expect(s.rows).toStrictEqual([PLAYED_SESSION_ROW]);
        const a = await c.query(
          "select answer_json::jsonb as answer, is_correct, points, question_id from answers",
        );
        expect(a.rows).toStrictEqual([
          {
            answer: { kind: "choices", indices: [0, 2] },
            is_correct: 1,
            points: 1800,
            question_id: "q2",
          },
        ]);
        const p = await c.query("select score, final_rank from participants");
        expect(p.rows).toStrictEqual([PLAYED_PARTICIPANT_ROW]);
      });
    });

    it("a claim that holds the session's row while a batch of answers alone arrives: the batch waits, then is refused whole", async () => {
      // Postgres stores answers alone in one statement without BEGIN (answersAlone): its lock on
      // the session's row is what keeps a new owner's claim and a stale writer apart.
      const schema = await newSchema();
      const storage = await openIn(schema);
      try {
        const [created, joined, state, answered] = playedSession("s1");
        if (!created || !joined || !state || !answered) throw new Error("playedSession changed");
        await storage.sessions.write([created, joined, state]);
        const id = asSessionId("s1");
        await inSchema(schema, async (claimer) => {
          await claimer.query("begin");
          await claimer.query("update sessions set epoch = 2 where id = $1 and epoch = 1", [id]);
          const pid = (await claimer.query("select pg_backend_pid() as pid")).rows[0]?.pid;
          const outcome = storage.sessions.write([answered], new Map([[id, 1]])).then(
            () => "stored",
            (e: unknown) => e,
          );
          // Wait until the write is blocked behind the claim, then let the claim commit.
          let blocked = false;
          for (let i = 0; i < 500 && !blocked; i++) {
            blocked = await withPgClient(async (c) => {
              const r = await c.query(
                "select count(*)::int as n from pg_stat_activity where $1 = any(pg_blocking_pids(pid))",
                [pid],
              );
              return (r.rows[0]?.n ?? 0) > 0;
            });
          }
          expect(blocked).toBe(true);
          await claimer.query("commit");
          const err = await outcome;
          expect(err).toBeInstanceOf(FencedError);
          expect(err).toMatchObject({ sessionId: id, writerEpoch: 1, storedEpoch: 2 });
        });
        const bundle = await storage.sessions.load(id);
        expect(bundle?.answers).toStrictEqual([]);
        expect(bundle?.participants[0]?.score).toBe(0);
      } finally {
        await storage.close();
      }
    });

    it("stores a batch of answers alone with its one statement: an unknown participant is refused by its check, not by the foreign key", async () => {
      const schema = await newSchema();
      const storage = await openIn(schema);
      try {
        const [created, joined, state, answered] = playedSession("s1");
        if (!created || !joined || !state || answered?.kind !== "answer_put") {
          throw new Error("playedSession changed");
        }
        await storage.sessions.write([created, joined, state]);
        const ghost = {
          ...answered,
          answer: { ...answered.answer, participantId: asParticipantId("s1/ghost") },
        };
        // A transaction would reach the INSERT and fail on answers_participant_id_fkey.
        await expect(storage.sessions.write([answered, ghost])).rejects.toThrow(
          /a participant is not in the answer's session/,
        );
      } finally {
        await storage.close();
      }
    });

    it("close ends the pool: no connection stays open, and ping rejects", async () => {
      const proxy = await startTcpProxy({ host: "127.0.0.1", port: pgPort() });
      try {
        const storage = await openIn(await newSchema(), viaProxy(proxy));
        await Promise.all([storage.ping(), storage.ping(), storage.ping()]);
        expect(proxy.openConnections).toBeGreaterThan(0);
        await storage.close();
        await storage.close();
        await proxy.drained();
        expect(proxy.openConnections).toBe(0);
        await expect(storage.ping()).rejects.toThrow();
      } finally {
        await proxy.close();
      }
    });

    it("refuses to open when Postgres cannot be reached, naming the address but not the password", async () => {
      const proxy = await startTcpProxy({ host: "127.0.0.1", port: pgPort() });
      try {
        proxy.cut("reset");
        const url = new URL(viaProxy(proxy));
        url.password = "s3cret-pw";
        const err = await openPostgresStorage({ url: url.toString() }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(Error);
        expect((err as Error).message).toContain(`127.0.0.1:${proxy.port}`);
        expect((err as Error).message).not.toContain("s3cret-pw");
      } finally {
        await proxy.close();
      }
    });

    describe("outages (through a TCP proxy, the shared Postgres keeps running)", () => {
      let proxy: TcpProxy;

      beforeAll(async () => {
        proxy = await startTcpProxy({ host: "127.0.0.1", port: pgPort() });
      });

      afterAll(async () => {
        await proxy.close();
      });

      it("A-5: with Postgres gone, a write rejects and stores nothing; once back, the same storage works", async () => {
        proxy.restore();
        const storage = await openIn(await newSchema(), viaProxy(proxy));
        try {
          const [created, joined, state, answered] = playedSession("s1");
          await storage.sessions.write([created!, joined!, state!]);

          proxy.cut("reset");
          await expect(storage.sessions.write([answered!])).rejects.toThrow();
          await expect(storage.ping()).rejects.toThrow();

          proxy.restore();
          expect((await storage.sessions.load(asSessionId("s1")))?.answers).toStrictEqual([]);
          await storage.sessions.write([answered!]);
          expect((await storage.sessions.load(asSessionId("s1")))?.answers.length).toBe(1);
        } finally {
          proxy.restore();
          await storage.close();
        }
      });

      it("a connection that stops answering is given up after the query timeout; the pool recovers", async () => {
        proxy.restore();
        const schema = await newSchema();
        const storage = await openPostgresStorage({
          url: viaProxy(proxy),
          schema: schema.name,
          poolSize: 2,
          connectTimeoutMs: 300,
          queryTimeoutMs: 300,
        });
        try {
          const [created, joined, state, answered] = playedSession("s1");
          await storage.sessions.write([created!, joined!, state!]);

          // Idle connections of the pool now hang, and so do new ones.
          proxy.cut("blackhole");
          await expect(storage.sessions.write([answered!])).rejects.toThrow();
          await expect(storage.ping()).rejects.toThrow();
          await expect(storage.ping()).rejects.toThrow();

          proxy.restore();
          await storage.ping();
          await storage.sessions.write([answered!]);
          const bundle = await storage.sessions.load(asSessionId("s1"));
          expect(bundle?.answers.map((a) => a.questionIndex)).toStrictEqual([1]);
          expect(bundle?.participants[0]?.score).toBe(1800);
        } finally {
          proxy.restore();
          await storage.close();
        }
      });
    });
  });
});

/** The port of the test database's server. */
function pgPort(): number {
  return Number(new URL(TEST_DATABASE_URL).port || 5432);
}

/** The test database's URL, pointing at the proxy instead. */
function viaProxy(proxy: TcpProxy): string {
  const url = new URL(TEST_DATABASE_URL);
  url.hostname = "127.0.0.1";
  url.port = String(proxy.port);
  return url.toString();
}

// ---------------------------------------------------------------------------------------------
// docs/schema.md documents every column, with its type on each database.

interface DocColumn {
  table: string;
  column: string;
  sqlite: string;
  postgres: string;
  nullable: boolean;
}

/** The column tables of docs/schema.md: a `### \`table\`` heading, then `| \`column\` | … |` rows. */
function documentedColumns(): DocColumn[] {
  const text = readFileSync(new URL("../../docs/schema.md", import.meta.url), "utf8");
  const out: DocColumn[] = [];
  let table: string | undefined;
  for (const line of text.split("\n")) {
    const heading = /^###\s+`([a-z_]+)`/.exec(line);
    if (heading) {
      table = heading[1];
      continue;
    }
    if (/^#{1,3}\s/.test(line)) table = undefined;
    const row =
      /^\|\s*`([a-z_0-9]+)`\s*\|\s*([a-z0-9]+)\s*\|\s*([a-z0-9]+)\s*\|\s*(yes|no)\s*\|/.exec(line);
    if (table !== undefined && row) {
      out.push({
        table,
        column: row[1] ?? "",
        sqlite: row[2] ?? "",
        postgres: row[3] ?? "",
        nullable: row[4] === "yes",
      });
    }
  }
  return out;
}

const byTableColumn = (
  a: { table: string; column: string },
  b: { table: string; column: string },
) => (`${a.table}.${a.column}` < `${b.table}.${b.column}` ? -1 : 1);

describe("docs/schema.md", () => {
  it("documents every SQLite table and column, with its declared type and nullability", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quizwire-schema-doc-"));
    try {
      const path = join(dir, "quizwire.db");
      await (await openSqliteStorage({ path })).close();
      const raw = new BetterSqlite3(path, { readonly: true });
      try {
        const actual = STORAGE_TABLES.flatMap((table) =>
          (
            raw
              .prepare(`select name, type, "notnull", pk from pragma_table_info(?)`)
              .all(table) as {
              name: string;
              type: string;
              notnull: number;
              pk: number;
            }[]
          ).map((c) => ({
            table,
            column: c.name,
            type: c.type.toLowerCase(),
            // SQLite lets a single-column text primary key hold null; quizwire never writes one.
            nullable: c.notnull === 0 && c.pk === 0,
          })),
        );
        const documented = documentedColumns().map((d) => ({
          table: d.table,
          column: d.column,
          type: d.sqlite,
          nullable: d.nullable,
        }));
        expect(documented.sort(byTableColumn)).toStrictEqual(actual.sort(byTableColumn));
      } finally {
        raw.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(postgres.skip)(
    postgres.title("documents every Postgres table and column, with its type and nullability"),
    async () => {
      const schema = await newSchema();
      await (await openIn(schema)).close();
      const actual = await withPgClient(
        async (c) =>
          (
            await c.query<{
              table: string;
              column: string;
              type: string;
              nullable: boolean;
            }>(
              `select table_name as table, column_name as column, data_type as type,
                      is_nullable = 'YES' as nullable
                 from information_schema.columns
                where table_schema = $1 and table_name not like 'kysely%'`,
              [schema.name],
            )
          ).rows,
      );
      const documented = documentedColumns().map((d) => ({
        table: d.table,
        column: d.column,
        type: d.postgres,
        nullable: d.nullable,
      }));
      expect(documented.sort(byTableColumn)).toStrictEqual(actual.sort(byTableColumn));
    },
  );
});
