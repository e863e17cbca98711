/**
 * The whole server on Postgres (DATABASE_URL pointing at a schema of its own), reached through
 * a TCP proxy so a test can cut Postgres off from this server while the machine's Postgres keeps
 * running for everyone else.
 */
import { readFileSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerData } from "../../src/doors/canonical/protocol.js";
import { QuizwireError } from "../../src/sdk/index.js";
import { EventLog, sdkClients } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { choiceQuestion, quizOf } from "../support/fixtures.js";
import {
  type PgSchema,
  postgresAvailable,
  proxiedPgSchema,
  requireOrSkip,
  withPgClient,
} from "../support/services.js";
import type { TcpProxy } from "../support/tcp-proxy.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

const postgres = requireOrSkip(await postgresAvailable());

interface ReadyBody {
  status: string;
  checks: Record<string, { status: string; detail?: string }>;
}

describe.skipIf(postgres.skip)(postgres.title("quizwire on Postgres"), () => {
  let proxy: TcpProxy;
  let schema: PgSchema;
  let t: TestApp;
  let wsUrl: string;
  let base: string;
  const clients = sdkClients(() => wsUrl);

  beforeAll(async () => {
    const proxied = await proxiedPgSchema();
    proxy = proxied.proxy;
    schema = proxied.schema;
    t = await createTestApp({
      DATABASE_URL: proxied.url,
      DEMO_CONTENT: "false",
      // The database's circuit breaker opens during the outage below; a short retry period lets
      // the recovery be seen within the test (db-circuit.test.ts tests the breaker itself).
      DB_CIRCUIT_RETRY_MS: "500",
    });
    const port = await t.app.listen();
    wsUrl = `ws://127.0.0.1:${port}/ws/v1`;
    base = `http://127.0.0.1:${port}`;
    await t.app.storage.quizzes.put(
      quizOf(
        [
          choiceQuestion("q1", { correct: [0], timeLimitMs: 60_000 }),
          choiceQuestion("q2", { correct: [1], timeLimitMs: 60_000 }),
        ],
        "pg-quiz",
      ),
    );
  });

  afterAll(async () => {
    clients.closeAll();
    proxy?.restore();
    await t?.close();
    await proxy?.close();
    await schema?.drop();
  });

  const client = clients.open;

  /** A live room on the test quiz, and players joined to it. */
  async function room(...names: string[]) {
    const host = await client();
    const created = await host.createRoom({
      quizId: "pg-quiz",
      mode: "live",
      settings: {},
      hostName: "Host",
    });
    const players = [];
    for (const name of names) {
      const c = await client();
      const joined = await c.join({ pin: created.pin, displayName: name });
      players.push({
        c,
        id: joined.joined.participant_id,
        log: new EventLog(c, ["question", "end"]),
      });
    }
    return { host, created, players };
  }

  /** Runs `sql` directly against the app's schema (not through the proxy). */
  function query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []) {
    return withPgClient(async (c) => {
      await c.query(`set search_path to ${pg.escapeIdentifier(schema.name)}`);
      return (await c.query<R>(sql, params)).rows;
    });
  }

  async function ready(): Promise<{ status: number; body: ReadyBody }> {
    const res = await fetch(`${base}/health/ready`);
    return { status: res.status, body: (await res.json()) as ReadyBody };
  }

  it("A-5: a game's answers are acknowledged once stored, and its results read back with the documented queries", async () => {
    const { host, created, players } = await room("Ann", "Bob");
    const [ann, bob] = players as [(typeof players)[0], (typeof players)[0]];
    await host.start();
    await ann.log.wait("question");
    const annAck = await ann.c.answer(0, { choice: 0 });
    const bobAck = await bob.c.answer(0, { choice: 3 });

    // Acknowledged means already in Postgres, score included.
    const stored = await query<{ participant_id: string; is_correct: number; points: number }>(
      "select participant_id, is_correct, points from answers where session_id = $1 order by seq",
      [created.roomId],
    );
    expect(stored).toStrictEqual([
      { participant_id: ann.id, is_correct: 1, points: annAck.points },
      { participant_id: bob.id, is_correct: 0, points: 0 },
    ]);
    expect(bobAck.points).toBe(0);

    await host.nextQuestion();
    await bob.log.wait<ServerData<"question">>("question", (q) => q.index === 1);
    await bob.c.answer(1, { choice: 1 });
    await ann.c.answer(1, { choice: 0 });
    await host.nextQuestion();
    const end = await ann.log.wait<ServerData<"end">>("end");

    // The end is stored a moment after the players see it; then docs/schema.md's "Final
    // scores" query gives the podium the players were shown.
    await eventually(
      "both players' final ranks in Postgres",
      () =>
        query("select 1 from participants where session_id = $1 and final_rank is not null", [
          created.roomId,
        ]),
      { until: (ranked) => ranked.length === 2, intervalMs: 50, timeoutMs: 10_000 },
    );
    const finalScores = await query<{ rank: number; name: string; score: number }>(
      docQuery("Final scores"),
      [created.roomId],
    );
    expect(finalScores.map((r) => ({ rank: r.rank, name: r.name, score: r.score }))).toStrictEqual(
      end.podium.map((p, i) => ({ rank: i + 1, name: p.name, score: p.score })),
    );
    const answers = await query<{ name: string; question: string }>(
      docQuery("A session's answers"),
      [created.roomId],
    );
    expect(answers.map((a) => [a.name, a.question])).toStrictEqual([
      ["Ann", "Question q1?"],
      ["Bob", "Question q1?"],
      ["Bob", "Question q2?"],
      ["Ann", "Question q2?"],
    ]);
    const session = await query<{ status: string; phase: string }>(
      "select status, phase from sessions where id = $1",
      [created.roomId],
    );
    expect(session).toStrictEqual([{ status: "completed", phase: "ended" }]);
  });

  it("every query docs/schema.md shows runs on Postgres", async () => {
    const { host, created, players } = await room("Cyd");
    await host.start();
    await players[0]?.log.wait("question");
    await players[0]?.c.answer(0, { choice: 0 });
    const queries = docQueries();
    expect(queries.length).toBeGreaterThan(5);
    for (const { title, sql } of queries) {
      const param = /quiz_id = \$1/.test(sql)
        ? "pg-quiz"
        : /pin = \$1/.test(sql)
          ? created.pin
          : /user_id = \$1/.test(sql)
            ? "nobody"
            : created.roomId;
      await expect(
        query(sql, sql.includes("$1") ? [param] : []),
        `docs/schema.md: ${title}`,
      ).resolves.toBeInstanceOf(Array);
    }
  });

  it("A-5: with Postgres down, answers are refused (UNAVAILABLE, retryable) and never stored; readiness says why; service resumes by itself", async () => {
    // Eve never answers, so Dee's answer does not close the question (all answered).
    const { host, created, players } = await room("Dee", "Eve");
    const dee = players[0];
    if (dee === undefined) throw new Error("no player");
    await host.start();
    await dee.log.wait("question");
    expect((await ready()).status).toBe(200);

    proxy.cut("reset");
    const refused = await dee.c.answer(0, { choice: 0 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(QuizwireError);
    expect(refused).toMatchObject({ code: "UNAVAILABLE", retryable: true });

    const down = await ready();
    expect(down.status).toBe(503);
    expect(down.body.checks.database?.status).toBe("down");
    expect(down.body.checks.database?.detail).toBeTruthy();
    // Postgres itself is fine: the refused answer is nowhere in it.
    expect(
      await query("select 1 from answers where session_id = $1", [created.roomId]),
    ).toStrictEqual([]);

    proxy.restore();
    await eventually("readiness to see the database up again", ready, {
      until: (r) => r.body.checks.database?.status === "up",
      intervalMs: 50,
      timeoutMs: 10_000,
    });

    // The refused answer had no effect, so the player can give it again, and now it counts.
    const ack = await dee.c.answer(0, { choice: 0 });
    expect(ack).toMatchObject({ accepted: true, correct: true });
    expect(
      await query<{ participant_id: string; points: number }>(
        "select participant_id, points from answers where session_id = $1",
        [created.roomId],
      ),
    ).toStrictEqual([{ participant_id: dee.id, points: ack.points }]);
    await eventually("readiness to answer 200", ready, {
      until: (r) => r.status === 200,
      intervalMs: 50,
      timeoutMs: 10_000,
    });
  });
});

/** The SQL blocks of docs/schema.md that read (SELECT …), each with the paragraph before it. */
function docQueries(): { title: string; sql: string }[] {
  const text = readFileSync(new URL("../../docs/schema.md", import.meta.url), "utf8");
  const out: { title: string; sql: string }[] = [];
  const block = /([^\n]*)\n\n```sql\n([\s\S]*?)```/g;
  for (const m of text.matchAll(block)) {
    const title = m[1] ?? "";
    // A block may hold several statements; each SELECT is one query.
    for (const statement of (m[2] ?? "").split(/;\s*\n/)) {
      const sql = statement.trim().replace(/;$/, "");
      if (/^select\b/i.test(sql)) out.push({ title, sql: sql.replaceAll("quizwire.", "") });
    }
  }
  return out;
}

/** The first SELECT of docs/schema.md whose introducing paragraph starts with `title`. */
function docQuery(title: string): string {
  const found = docQueries().find((q) => q.title.startsWith(title));
  if (found === undefined) throw new Error(`docs/schema.md has no query "${title}"`);
  return found.sql;
}
