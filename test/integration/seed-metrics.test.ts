/**
 * The seeds' Prometheus names (seed 001 §11.1, seed 003 §3.5, seed 000's operations list; issues
 * 9 and 11): every one exposed by GET /metrics exactly as the seeds write it, in a text with no
 * empty lines, and each moving as a real game is played on a real server (a live game on the
 * canonical door, a seed-001 session over raw `ws` and fetch, a refused upgrade, a REST error).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { openSqliteStorage } from "../../src/adapters/sqlite/sqlite-storage.js";
import { asQuizId } from "../../src/domain/ids.js";
import { Metrics } from "../../src/observability/metrics.js";
import { countStorageErrors } from "../../src/observability/storage-errors.js";
import type { QuizwireClient } from "../../src/sdk/index.js";
import { connectClient, EventLog } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { choiceQuestion, quizOf, typedQuestion } from "../support/fixtures.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

/** The names the seeds give, exactly (counters and gauges as series, histograms by their _count). */
const SEED_SERIES = [
  "websocket_active_connections",
  "websocket_total_connections",
  "websocket_connection_duration_seconds",
  "quiz_active_sessions",
  "quiz_total_participants",
  "quiz_session_duration_seconds",
  "http_request_duration_seconds",
  "scoring_latency_seconds",
  "leaderboard_update_latency_seconds",
  "error_total",
  "connection_errors_total",
  "database_errors_total",
  "quiz_answers_submitted_total",
  "quiz_correct_answers_total",
  "quiz_participants_joined_total",
  "quiz_sessions_completed_total",
  "question_duration_seconds",
  "dropped_msgs_total",
];

/** `# TYPE` lines of an exposition: metric name → type. */
function typesOf(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1] ?? "", m[2] ?? "");
  return out;
}

/** One series' value (`name` or `name{labels}` exactly as printed); 0 when absent. */
function sample(text: string, series: string): number {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    if (line.slice(0, space) === series) return Number(line.slice(space + 1));
  }
  return 0;
}

let t: TestApp;
let port: number;
const clients: QuizwireClient[] = [];

async function scrape(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

beforeAll(async () => {
  t = await createTestApp();
  port = await t.app.listen();
  await t.app.storage.quizzes.put(
    quizOf(
      [choiceQuestion("m1", { correct: [0] }), choiceQuestion("m2", { correct: [1] })],
      "metrics-live",
    ),
  );
  await t.app.storage.quizzes.put(quizOf([typedQuestion("v1", ["ephemeral"])], "metrics-vocab"));
});

afterAll(async () => {
  for (const c of clients) c.close();
  await t.close();
});

describe("the seeds' metric names", () => {
  it("every name is exposed exactly as written, with its type, and no empty lines", async () => {
    const text = await scrape();
    const types = typesOf(text);
    for (const name of SEED_SERIES) expect(types.has(name), name).toBe(true);
    expect(types.get("websocket_active_connections")).toBe("gauge");
    expect(types.get("websocket_total_connections")).toBe("counter");
    expect(types.get("quiz_active_sessions")).toBe("gauge");
    expect(types.get("quiz_total_participants")).toBe("gauge");
    for (const h of [
      "websocket_connection_duration_seconds",
      "quiz_session_duration_seconds",
      "http_request_duration_seconds",
      "scoring_latency_seconds",
      "leaderboard_update_latency_seconds",
      "question_duration_seconds",
    ]) {
      expect(types.get(h), h).toBe("histogram");
    }
    // Node's runtime series stand for the seed's go_* ones, under their usual names.
    expect(types.has("nodejs_heap_size_used_bytes")).toBe(true);
    expect(types.has("process_resident_memory_bytes")).toBe(true);
    expect(text).not.toMatch(/\n\n/);
    expect(text.endsWith("\n")).toBe(true);
  });

  it("they move when games are played", async () => {
    const before = await scrape();

    // A live game on the canonical door: a host, two players, two questions, the end.
    const host = await connectClient(`ws://127.0.0.1:${port}/ws/v1`);
    const ann = await connectClient(`ws://127.0.0.1:${port}/ws/v1`);
    const bob = await connectClient(`ws://127.0.0.1:${port}/ws/v1`);
    clients.push(host, ann, bob);
    const room = await host.createRoom({
      quizId: "metrics-live",
      mode: "live",
      settings: { question_time_ms: 60_000 },
      hostName: "Host",
    });
    const annLog = new EventLog(ann, ["question", "reveal", "end"]);
    await ann.join({ pin: room.pin, displayName: "Ann" });
    await bob.join({ pin: room.pin, displayName: "Bob" });
    await host.start();
    await annLog.wait<{ index: number }>("question", (q) => q.index === 0);
    expect((await ann.answer(0, { choice: 0 })).correct).toBe(true);
    expect((await bob.answer(0, { choice: 2 })).correct).toBe(false);
    await annLog.wait<{ index: number }>("reveal", (r) => r.index === 0);
    await host.nextQuestion();
    await annLog.wait<{ index: number }>("question", (q) => q.index === 1);
    expect((await ann.answer(1, { choice: 1 })).correct).toBe(true);
    expect((await bob.answer(1, { choice: 1 })).correct).toBe(true);
    await annLog.wait<{ index: number }>("reveal", (r) => r.index === 1);
    await host.end();
    await annLog.wait("end");

    // A seed 001 session: create, join over raw ws, start, answer; the board is pushed.
    const created = await fetch(`http://127.0.0.1:${port}/api/v1/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      // A lobby (start_time null): the learner joins, then the host starts it.
      body: JSON.stringify({ quiz_id: "metrics-vocab", max_participants: 10, start_time: null }),
    });
    expect(created.status).toBe(201);
    const { session_id } = (await created.json()) as { session_id: string };
    const learner = new WebSocket(`ws://127.0.0.1:${port}/ws?user_id=metrics-learner`);
    const seen: string[] = [];
    learner.on("message", (d) => seen.push((JSON.parse(String(d)) as { type: string }).type));
    await new Promise((resolve) => learner.once("open", resolve));
    learner.send(JSON.stringify({ type: "JOIN_SESSION", payload: { session_id } }));
    await eventually("SESSION_JOINED", () => seen.includes("SESSION_JOINED"));
    const started = await fetch(`http://127.0.0.1:${port}/api/v1/sessions/${session_id}/start`, {
      method: "POST",
    });
    expect(started.status).toBe(200);
    learner.send(
      JSON.stringify({
        type: "SUBMIT_ANSWER",
        payload: { session_id, question_id: "v1", answer: "ephemeral", time_taken_ms: 900 },
      }),
    );
    await eventually("SCORE_UPDATED", () => seen.includes("SCORE_UPDATED"));
    await eventually(
      "a pushed board",
      () => seen.filter((type) => type === "LEADERBOARD_UPDATED").length >= 2,
    );

    // A refused upgrade and a REST error.
    const refused = new WebSocket(`ws://127.0.0.1:${port}/no-such-socket`);
    await new Promise((resolve) => refused.once("error", resolve));
    expect((await fetch(`http://127.0.0.1:${port}/api/v1/sessions/nope`)).status).toBe(404);

    const during = await scrape();
    const moved = (series: string) => sample(during, series) - sample(before, series);
    expect(moved("websocket_total_connections")).toBe(4);
    expect(sample(during, "websocket_active_connections")).toBe(4);
    expect(moved('http_request_duration_seconds_count{endpoint="/ws/v1"}')).toBe(3);
    expect(moved('http_request_duration_seconds_count{endpoint="/ws"}')).toBe(1);
    expect(moved('http_request_duration_seconds_count{endpoint="/api/v1/sessions"}')).toBe(1);
    expect(moved("quiz_participants_joined_total")).toBe(3);
    expect(moved("quiz_answers_submitted_total")).toBe(5);
    expect(moved("quiz_correct_answers_total")).toBe(4);
    expect(moved("scoring_latency_seconds_count")).toBe(5);
    expect(moved("question_duration_seconds_count")).toBe(2);
    expect(moved("quiz_sessions_completed_total")).toBe(1);
    expect(moved("quiz_session_duration_seconds_count")).toBe(1);
    expect(moved("leaderboard_update_latency_seconds_count")).toBeGreaterThanOrEqual(1);
    // The live game's phase broadcasts, each timed once from its stamp to its last write.
    const broadcast = (type: string, part: "count" | "sum") =>
      moved(`quizwire_broadcast_seconds_${part}{door="canonical",type="${type}"}`);
    expect(broadcast("started", "count")).toBe(1);
    expect(broadcast("question", "count")).toBe(2);
    expect(broadcast("reveal", "count")).toBe(2);
    expect(broadcast("ended", "count")).toBe(1);
    // Milliseconds on this machine, not the years a stamp on another clock would make.
    expect(broadcast("question", "sum")).toBeLessThan(5);
    expect(moved("connection_errors_total")).toBe(1);
    expect(moved('error_total{type="client_error"}')).toBeGreaterThanOrEqual(1);
    // The seed 001 session is running, with its one learner; the live room has ended.
    expect(sample(during, "quiz_active_sessions")).toBe(1);
    expect(sample(during, "quiz_total_participants")).toBe(1);

    for (const c of [host, ann, bob]) c.close();
    learner.close();
    const after = await eventually(
      "every socket closed",
      async () => {
        const text = await scrape();
        return sample(text, "websocket_active_connections") === 0 ? text : null;
      },
      { timeoutMs: 10_000 },
    );
    expect(
      sample(after, "websocket_connection_duration_seconds_count") -
        sample(before, "websocket_connection_duration_seconds_count"),
    ).toBe(4);
  });
});

describe("database_errors_total", () => {
  it("counts a storage operation that fails, and passes the failure on", async () => {
    const dir = await mkdtemp(join(tmpdir(), "quizwire-dberr-"));
    try {
      const metrics = new Metrics({ sessions: () => 0, storageQueue: () => 0 });
      const raw = await openSqliteStorage({ path: join(dir, "q.db") });
      const storage = countStorageErrors(raw, () => metrics.databaseErrors.inc());
      await storage.ping();
      await raw.close();
      // The database is closed: every statement now fails.
      await expect(storage.quizzes.get(asQuizId("anything"))).rejects.toThrow();
      await expect(storage.ping()).rejects.toThrow();
      const text = await metrics.registry.metrics();
      expect(sample(text, "database_errors_total")).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
