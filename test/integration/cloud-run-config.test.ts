/**
 * Seed 003's Cloud Run configuration, unchanged (issue 9): REDIS_HOST + REDIS_PORT without
 * REDIS_URL, CLOUD_SQL_CONNECTION with DB_USER / DB_PASSWORD / DB_NAME reaching Postgres through
 * the unix socket `<dir>/<connection>` (Cloud Run mounts `/cloudsql`; here a directory of the
 * test's own whose `<connection>` entry holds the local Postgres socket), ENV, and a half-given
 * set stopping the server at start naming the variable. Real server processes, raw fetch and ws.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { eventually } from "../support/eventually.js";
import { adminClient, deleteKeys, randomKeyPrefix } from "../support/redis.js";
import { ServerProcess } from "../support/server-process.js";
import {
  freshPgSchema,
  type PgSchema,
  postgresAvailable,
  redisAvailable,
  requireOrSkip,
  TEST_REDIS_URL,
  withPgClient,
} from "../support/services.js";

/** Where Debian's Postgres listens on a unix socket. */
const PG_SOCKET_DIR = "/var/run/postgresql";
const PG_SOCKET = join(PG_SOCKET_DIR, ".s.PGSQL.5432");
const CONNECTION = "quizwire-test:local:quiz-db";

const socketCheck = existsSync(PG_SOCKET)
  ? { service: "Postgres" as const, address: PG_SOCKET, ok: true, reason: "" }
  : {
      service: "Postgres" as const,
      address: PG_SOCKET,
      ok: false,
      reason: `no Postgres unix socket at ${PG_SOCKET}`,
    };
const services = requireOrSkip(await postgresAvailable(), await redisAvailable(), socketCheck);

/** Variables the parent environment may carry that would change what the server reads. */
const CLEARED = {
  DATABASE_URL: "",
  REDIS_URL: "",
  CLOUD_SQL_CONNECTION: "",
  DB_USER: "",
  DB_PASSWORD: "",
  DB_NAME: "",
  DB_SCHEMA: "",
  REDIS_HOST: "",
  REDIS_PORT: "",
};

describe("a half-given Cloud Run set stops the server at start", () => {
  it.each([
    [{ REDIS_HOST: "127.0.0.1" }, "REDIS_PORT"],
    [{ CLOUD_SQL_CONNECTION: CONNECTION, DB_NAME: "test" }, "DB_USER"],
  ])("%j: exit 2, naming %s, nothing served", async (env, variable) => {
    const dataDir = await mkdtemp(join(tmpdir(), "quizwire-cloudrun-"));
    try {
      // A server that did start (the bug) is stopped at once rather than left running.
      const outcome = await ServerProcess.start({
        ...CLEARED,
        ...env,
        PORT: "0",
        DATA_DIR: dataDir,
      }).then(
        async (s) => {
          await s.kill();
          return "started";
        },
        (err: Error) => err.message,
      );
      expect(outcome).toMatch(/exited with 2/);
      expect(outcome).toMatch(new RegExp(`invalid configuration: ${variable}`));
      // It never fell back to the embedded database.
      expect(await readdir(dataDir)).toEqual([]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(services.skip)(
  services.title("Cloud Run's variables: Memorystore by host and port, Cloud SQL by socket"),
  () => {
    let schema: PgSchema;
    let socketDir: string;
    let dataDir: string;
    const prefix = randomKeyPrefix();
    const servers: ServerProcess[] = [];
    const redis = new URL(TEST_REDIS_URL);

    beforeAll(async () => {
      schema = await freshPgSchema();
      // The Cloud SQL connector's layout: one entry per instance connection name.
      socketDir = await mkdtemp(join(tmpdir(), "quizwire-cloudsql-"));
      await mkdir(join(socketDir, CONNECTION));
      await symlink(PG_SOCKET, join(socketDir, CONNECTION, ".s.PGSQL.5432"));
      dataDir = await mkdtemp(join(tmpdir(), "quizwire-cloudrun-"));
      const env = {
        ...CLEARED,
        ENV: "production",
        REDIS_HOST: redis.hostname,
        REDIS_PORT: redis.port || "6379",
        REDIS_KEY_PREFIX: prefix,
        CLOUD_SQL_CONNECTION: CONNECTION,
        CLOUD_SQL_SOCKET_DIR: socketDir,
        DB_USER: "postgres",
        DB_PASSWORD: "unused-by-local-trust",
        DB_NAME: new URL(schema.url).pathname.slice(1),
        DB_SCHEMA: schema.name,
        DATA_DIR: dataDir,
        PORT: "0",
      };
      // One at a time, so migrations are in place before the second starts.
      servers.push(await ServerProcess.start(env));
      servers.push(await ServerProcess.start(env));
    }, 90_000);

    afterAll(async () => {
      for (const s of servers) await s.kill();
      await deleteKeys(TEST_REDIS_URL, prefix).catch(() => undefined);
      await schema?.drop();
      await rm(socketDir, { recursive: true, force: true });
      await rm(dataDir, { recursive: true, force: true });
    });

    const base = (i: number) => `http://127.0.0.1:${servers[i]?.port}`;

    it("both instances are ready on Redis and the database, and say ENV", async () => {
      for (let i = 0; i < 2; i++) {
        const ready = await fetch(`${base(i)}/health/ready`);
        expect(ready.status).toBe(200);
        const body = (await ready.json()) as { checks: Record<string, { status: string }> };
        expect(body.checks.redis?.status).toBe("up");
        expect(body.checks.database?.status).toBe("up");
        const health = (await (await fetch(`${base(i)}/health`)).json()) as Record<string, unknown>;
        expect(health.environment).toBe("production");
      }
      // Postgres, not the embedded SQLite database: nothing in DATA_DIR.
      expect(await readdir(dataDir)).toEqual([]);
    });

    it("a session made on one instance is joined and answered on the other, through Redis, stored in Postgres, counted once", async () => {
      const quiz = {
        id: "cloud-run-quiz",
        title: "Cloud Run",
        questions: [{ id: "q1", text: "1+1?", options: ["1", "2"], correct: [1] }],
      };
      const put = await fetch(`${base(0)}/api/v1/quizzes`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(quiz),
      });
      expect([200, 201]).toContain(put.status);
      const created = await fetch(`${base(0)}/api/v1/sessions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        // A lobby (start_time null): the learner joins, then the host starts it.
        body: JSON.stringify({ quiz_id: quiz.id, max_participants: 10, start_time: null }),
      });
      expect(created.status).toBe(201);
      const { session_id } = (await created.json()) as { session_id: string };

      // The row is in the schema the socket connection chose.
      const rows = await withPgClient(
        async (c) =>
          (await c.query(`select id from ${schema.name}.sessions where id = $1`, [session_id]))
            .rows,
      );
      expect(rows).toHaveLength(1);

      const ws = new WebSocket(`ws://127.0.0.1:${servers[1]?.port}/ws?user_id=cloudrun-alice`);
      const received: Array<{ type: string; payload: Record<string, unknown> }> = [];
      ws.on("message", (data) => received.push(JSON.parse(String(data))));
      await new Promise((resolve, reject) => {
        ws.once("open", resolve);
        ws.once("error", reject);
      });
      const first = (type: string) =>
        eventually(type, () => received.find((m) => m.type === type || m.type === "ERROR"));
      ws.send(JSON.stringify({ type: "JOIN_SESSION", payload: { session_id } }));
      const joined = await first("SESSION_JOINED");
      expect(joined.type).toBe("SESSION_JOINED");
      expect(joined.payload.session_id).toBe(session_id);

      // An answer through the second instance is counted once, by the owner.
      const started = await fetch(`${base(0)}/api/v1/sessions/${session_id}/start`, {
        method: "POST",
      });
      expect(started.status).toBe(200);
      ws.send(
        JSON.stringify({
          type: "SUBMIT_ANSWER",
          payload: { session_id, question_id: "q1", answer: "2", time_taken_ms: 500 },
        }),
      );
      expect((await first("SCORE_UPDATED")).type).toBe("SCORE_UPDATED");
      ws.close();
      const counted = await Promise.all(
        [0, 1].map(async (i) => {
          const text = await (await fetch(`${base(i)}/metrics`)).text();
          const value = (name: string) =>
            Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? "NaN");
          return [value("quiz_participants_joined_total"), value("quiz_answers_submitted_total")];
        }),
      );
      expect(counted).toEqual([
        [1, 1],
        [0, 0],
      ]);

      // The second instance forwarded to the owner instead of running a copy of its own.
      const owners = await Promise.all(
        [0, 1].map(async (i) => {
          const body = (await (await fetch(`${base(i)}/health/ready`)).json()) as {
            checks: { redis?: { detail?: string } };
          };
          return body.checks.redis?.detail;
        }),
      );
      expect(owners).toEqual(["owns 1 sessions", "owns 0 sessions"]);
      // …and the owner's lease is in Redis, under this deployment's prefix.
      const admin = await adminClient(TEST_REDIS_URL);
      try {
        const [, keys] = await admin.scan("0", "MATCH", `${prefix}*`, "COUNT", 1000);
        expect(keys.length).toBeGreaterThan(0);
      } finally {
        admin.disconnect();
      }
    });
  },
);
