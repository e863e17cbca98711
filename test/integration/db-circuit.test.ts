/**
 * Issue 11, load shedding: the database's circuit breaker (seed 001 §10.3: open after 5
 * consecutive failures, retry after a period) seen from outside, with Postgres cut off behind a
 * TCP proxy. Once open, requests and answers are refused with the retryable UNAVAILABLE at once
 * — even while the network swallows packets, where each call would otherwise wait out its
 * 5 s timeout — and service comes back by itself once a probe after the period succeeds.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QuizwireError } from "../../src/sdk/index.js";
import { EventLog, sdkClients } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { choiceQuestion, quizOf } from "../support/fixtures.js";
import {
  type PgSchema,
  postgresAvailable,
  proxiedPgSchema,
  requireOrSkip,
} from "../support/services.js";
import type { TcpProxy } from "../support/tcp-proxy.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

const postgres = requireOrSkip(await postgresAvailable());

/** Well under the 5 s a call waits for a swallowed query: "at once". */
const PROMPT_MS = 2_000;

describe.skipIf(postgres.skip)(postgres.title("the database's circuit breaker"), () => {
  let proxy: TcpProxy;
  let schema: PgSchema;
  let t: TestApp;
  let base: string;
  let wsUrl: string;
  const clients = sdkClients(() => wsUrl);

  beforeAll(async () => {
    const proxied = await proxiedPgSchema();
    proxy = proxied.proxy;
    schema = proxied.schema;
    t = await createTestApp({
      DATABASE_URL: proxied.url,
      DEMO_CONTENT: "false",
      DB_CIRCUIT_FAILURES: "5",
      DB_CIRCUIT_RETRY_MS: "1000",
    });
    const port = await t.app.listen();
    base = `http://127.0.0.1:${port}`;
    wsUrl = `ws://127.0.0.1:${port}/ws/v1`;
    await t.app.storage.quizzes.put(
      quizOf([choiceQuestion("q1", { correct: [0], timeLimitMs: 60_000 })], "circuit-quiz"),
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

  const quizzes = () =>
    fetch(`${base}/api/v1/quizzes`, { signal: AbortSignal.timeout(PROMPT_MS) }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as { code?: string },
    }));

  it("opens after 5 failures, refuses at once with UNAVAILABLE (also while packets are swallowed), and closes again by itself", async () => {
    const host = await client();
    const room = await host.createRoom({ quizId: "circuit-quiz", mode: "live", settings: {} });
    const player = await client();
    await player.join({ pin: room.pin, displayName: "Pat" });
    const log = new EventLog(player, ["question"]);
    // A second player who never answers keeps the question open.
    await (await client()).join({ pin: room.pin, displayName: "Quinn" });
    await host.start();
    await log.wait("question");

    proxy.cut("reset");
    await eventually(
      "the circuit to open",
      () =>
        t.app.storage.ping().then(
          () => "up",
          (e) => e,
        ),
      {
        until: (e) => e instanceof Error && e.name === "StorageUnavailableError",
        intervalMs: 20,
      },
    );

    // Now the network swallows everything: without the breaker each call would wait 5 s.
    proxy.restore();
    proxy.cut("blackhole");
    const refused = await quizzes();
    expect(refused).toMatchObject({ status: 503, body: { code: "UNAVAILABLE" } });
    const answer = await Promise.race([
      player.answer(0, { choice: 0 }).catch((e: unknown) => e),
      new Promise((r) => setTimeout(() => r("still waiting"), PROMPT_MS)),
    ]);
    expect(answer).toBeInstanceOf(QuizwireError);
    expect(answer).toMatchObject({ code: "UNAVAILABLE", retryable: true });
    const ready = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(PROMPT_MS) });
    expect(ready.status).toBe(503);
    expect(
      ((await ready.json()) as { checks: { database: { detail: string } } }).checks.database.detail,
    ).toMatch(/unavailable/);

    // The database is back: after the retry period a probe finds it, and everything works again.
    proxy.restore();
    await eventually("REST to answer again", quizzes, {
      until: (r) => r.status === 200,
      intervalMs: 100,
      timeoutMs: 15_000,
    });
    await eventually(
      "readiness to answer 200",
      () => fetch(`${base}/health/ready`).then((r) => r.status),
      { until: (s) => s === 200, intervalMs: 100, timeoutMs: 10_000 },
    );
    const ack = await player.answer(0, { choice: 0 });
    expect(ack).toMatchObject({ accepted: true, correct: true });
  }, 40_000);
});
