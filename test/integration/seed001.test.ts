import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SignJWT } from "jose";
import { pino } from "pino";
import { v7 as uuidv7 } from "uuid";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import {
  MemoryClusterHub,
  MemoryOwnershipLeases,
} from "../../src/adapters/memory/memory-cluster.js";
import { MemoryPinDirectory } from "../../src/adapters/memory/memory-pin-directory.js";
import { MemoryRateLimiter } from "../../src/adapters/memory/memory-rate-limiter.js";
import { MemoryReplayCache } from "../../src/adapters/memory/memory-replay-cache.js";
import { openSqliteStorage } from "../../src/adapters/sqlite/sqlite-storage.js";
import { SystemClock } from "../../src/adapters/system-clock.js";
import { IdentityService } from "../../src/auth/identity.js";
import { hashToken } from "../../src/auth/token-hash.js";
import { loadConfig } from "../../src/config.js";
import { asUserId } from "../../src/domain/ids.js";
import { SeededRandom } from "../../src/domain/seeded-random.js";
import { resolveSettings } from "../../src/domain/session-settings.js";
import type { ServerData } from "../../src/doors/canonical/protocol.js";
import { OriginPolicy } from "../../src/doors/origin-policy.js";
import { VocabularyDoor } from "../../src/doors/vocabulary/index.js";
import { ClusterDirectory } from "../../src/engine/cluster/cluster-directory.js";
import { decodeBeacon } from "../../src/engine/event-codec.js";
import { GroupCommitter } from "../../src/engine/group-committer.js";
import { RoomRegistry } from "../../src/engine/room-registry.js";
import type { Actor, RoomEvent } from "../../src/engine/types.js";
import { Metrics } from "../../src/observability/metrics.js";
import type { Storage } from "../../src/ports/storage.js";
import type { QuizwireClient } from "../../src/sdk/index.js";
import { SessionService } from "../../src/services/session-service.js";
import { connectClient, EventLog } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { choiceQuestion, quizOf } from "../support/fixtures.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

/*
 * The client side of these tests is written from seed 001 alone (§5.1, §6, §7, §10, §12):
 * a raw `ws` WebSocket on /ws?user_id=…, JSON envelopes {type, payload, timestamp?, message_id?},
 * and fetch for the REST API. Nothing from the server's own modules is used to speak to it.
 */

interface SeedMessage {
  type: string;
  payload: Record<string, unknown>;
  timestamp?: string;
  message_id?: string;
}

interface LeaderboardPayload {
  session_id: string;
  leaderboard: Array<{ rank: number; user_id: string; username: string; score: number }>;
  your_rank: number;
  total_participants: number;
}

/** A seed 001 client: every message it receives, and a way to take the next one that matches. */
class SeedClient {
  readonly messages: SeedMessage[] = [];
  closeCode: number | null = null;
  closeReason = "";
  private readonly consumed = new Set<SeedMessage>();
  private waiters: Array<{
    match: (m: SeedMessage) => boolean;
    resolve: (m: SeedMessage) => void;
  }> = [];
  private closeWaiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const m = JSON.parse(String(data)) as SeedMessage;
      this.messages.push(m);
      const w = this.waiters.find((x) => x.match(m));
      if (w) {
        this.waiters = this.waiters.filter((x) => x !== w);
        this.consumed.add(m);
        w.resolve(m);
      }
    });
    ws.on("close", (code, reason) => {
      this.closeCode = code;
      this.closeReason = String(reason);
      for (const w of this.closeWaiters) w();
    });
  }

  static async connect(
    query: string,
    headers: Record<string, string> = {},
    base = wsBase,
  ): Promise<SeedClient> {
    const ws = new WebSocket(`${base}/ws?${query}`, { headers });
    const c = new SeedClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    open.push(c);
    return c;
  }

  send(type: string, payload: unknown, extra: Record<string, unknown> = {}): void {
    this.ws.send(JSON.stringify({ type, payload, ...extra }));
  }

  sendText(text: string): void {
    this.ws.send(text);
  }

  /** The first message not taken yet (already received or still to come) that matches; takes it. */
  take(match: (m: SeedMessage) => boolean): Promise<SeedMessage> {
    const seen = this.messages.find((m) => !this.consumed.has(m) && match(m));
    if (seen) {
      this.consumed.add(seen);
      return Promise.resolve(seen);
    }
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  takeType(type: string, match: (p: Record<string, unknown>) => boolean = () => true) {
    return this.take((m) => m.type === type && match(m.payload));
  }

  /** Sends a message and waits for the first message of one of `replies` (or an ERROR). */
  async call(
    type: string,
    payload: unknown,
    replies: string[],
    extra: Record<string, unknown> = {},
  ): Promise<SeedMessage> {
    const before = this.messages.length;
    this.send(type, payload, extra);
    return this.take(
      (m) => (replies.includes(m.type) || m.type === "ERROR") && this.messages.indexOf(m) >= before,
    );
  }

  join(sessionId: string, username: string, extra: Record<string, unknown> = {}) {
    return this.call(
      "JOIN_SESSION",
      { session_id: sessionId, username },
      ["SESSION_JOINED"],
      extra,
    );
  }

  answer(
    sessionId: string,
    questionId: string,
    answer: string,
    timeTakenMs = 1500,
    extra: Record<string, unknown> = {},
  ) {
    return this.call(
      "SUBMIT_ANSWER",
      { session_id: sessionId, question_id: questionId, answer, time_taken_ms: timeTakenMs },
      ["SCORE_UPDATED"],
      extra,
    );
  }

  /** The first LEADERBOARD_UPDATED (not taken yet) whose board satisfies `match`. */
  async board(match: (p: LeaderboardPayload) => boolean): Promise<LeaderboardPayload> {
    const m = await this.take(
      (x) => x.type === "LEADERBOARD_UPDATED" && match(x.payload as unknown as LeaderboardPayload),
    );
    return m.payload as unknown as LeaderboardPayload;
  }

  closed(): Promise<void> {
    if (this.closeCode !== null) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  close(): void {
    this.ws.close();
  }
}

const SECRET = "seed001-test-secret-32-characters!";
const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));

let t: TestApp;
let base: string;
let wsBase: string;
const open: SeedClient[] = [];
const sdkClients: QuizwireClient[] = [];

beforeAll(async () => {
  t = await createTestApp({ JWT_SECRET: SECRET });
  const port = await t.app.listen();
  base = `http://127.0.0.1:${port}`;
  wsBase = `ws://127.0.0.1:${port}`;
});

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  for (const c of open) c.close();
  for (const c of sdkClients) c.close();
  await t.close();
});

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown> };
}

let quizCounter = 0;

/** POST /api/v1/quizzes with seed 001 §5.1's Quiz model, exactly as the seed shows it. */
async function createQuiz(
  questions: Array<{
    id: string;
    text: string;
    options?: string[];
    correct_answer: string;
    points: number;
  }>,
): Promise<string> {
  const id = `vocab-test-${++quizCounter}`;
  const res = await api("POST", "/api/v1/quizzes", { id, title: "Seed quiz", questions });
  expect(res.status).toBe(201);
  expect(res.body.id).toBe(id);
  return id;
}

const CAPITALS = [
  {
    id: "q1",
    text: "Capital of France?",
    options: ["Paris", "Lyon", "Nice"],
    correct_answer: "Paris",
    points: 10,
  },
  {
    id: "q2",
    text: "Capital of Spain?",
    options: ["Seville", "Madrid", "Bilbao"],
    correct_answer: "Madrid",
    points: 10,
  },
  {
    id: "q3",
    text: "Capital of Italy?",
    options: ["Milan", "Turin", "Rome"],
    correct_answer: "Rome",
    points: 20,
  },
  {
    id: "q4",
    text: "The word for 'lasting a very short time'",
    correct_answer: "ephemeral",
    points: 10,
  },
];

/**
 * POST /api/v1/sessions as seed 001 §6.4 shows it, with a lobby (`start_time: null`): these tests
 * start the session themselves once everyone is in (seed001-lifecycle.test.ts plays without it).
 */
async function createSession(quizId: string, maxParticipants = 1000, extra = {}) {
  const res = await api("POST", "/api/v1/sessions", {
    quiz_id: quizId,
    max_participants: maxParticipants,
    start_time: null,
    ...extra,
  });
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ quiz_id: quizId, status: "waiting" });
  expect(typeof res.body.session_id).toBe("string");
  return res.body as { session_id: string; pin: string };
}

/** A JWT for `userId`, signed with the test server's secret. */
function signedToken(userId: string): Promise<string> {
  return new SignJWT({ user_id: userId })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(SECRET));
}

let userCounter = 0;
/** A fresh user id per test, so per-user rate limits never carry over between tests. */
function user(name: string): string {
  return `user-${name}-${++userCounter}`;
}

async function player(sessionId: string, name: string) {
  const id = user(name);
  const c = await SeedClient.connect(`user_id=${id}`);
  const joined = await c.join(sessionId, name);
  expect(joined.type).toBe("SESSION_JOINED");
  return { c, id, joined: joined.payload };
}

function expectError(m: SeedMessage, code: string, recoverable?: boolean): void {
  expect(m.type).toBe("ERROR");
  expect(m.payload.code).toBe(code);
  expect(typeof m.payload.message).toBe("string");
  if (recoverable !== undefined) expect(m.payload.recoverable).toBe(recoverable);
}

/** How an upgrade went: the HTTP status and body of a refusal, or 101. */
function upgrade(path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve) => {
    const ws = new WebSocket(`${wsBase}${path}`, { headers });
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += String(chunk);
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on("open", () => {
      resolve({ status: 101, body: "" });
      ws.close();
    });
    ws.on("error", () => undefined);
  });
}

describe("seed 001: a full session", () => {
  it("S-4: three clients play a quiz created from the seed's model, start to end over REST", async () => {
    const quizId = await createQuiz(CAPITALS);
    const { session_id: sid } = await createSession(quizId, 1000);
    expect((await api("GET", `/api/v1/sessions/${sid}`)).body.status).toBe("waiting");

    const alice = await player(sid, "alice");
    expect(alice.joined).toMatchObject({
      session_id: sid,
      quiz_id: quizId,
      status: "waiting",
      participant_count: 1,
      your_score: 0,
    });
    const bob = await player(sid, "bob");
    expect(bob.joined.participant_count).toBe(2);
    expect((await alice.c.takeType("USER_JOINED")).payload).toEqual({
      user_id: bob.id,
      username: "bob",
      participant_count: 2,
    });
    const carol = await player(sid, "carol");
    for (const p of [alice, bob]) {
      expect((await p.c.takeType("USER_JOINED", (x) => x.username === "carol")).payload).toEqual({
        user_id: carol.id,
        username: "carol",
        participant_count: 3,
      });
    }

    // Answers count only while the session is active.
    expectError(await alice.c.answer(sid, "q1", "Paris"), "SESSION_NOT_ACTIVE", true);

    const started = await api("POST", `/api/v1/sessions/${sid}/start`);
    expect(started.status).toBe(200);
    expect(started.body.status).toBe("active");
    expect((await api("GET", `/api/v1/sessions/${sid}`)).body.status).toBe("active");

    // The questions come over REST, without their answers.
    const quiz = await api("GET", `/api/v1/quizzes/${quizId}`);
    expect(quiz.status).toBe(200);
    const questions = quiz.body.questions as Array<{ id: string; text: string; options: string[] }>;
    expect(questions.map((q) => q.id)).toEqual(["q1", "q2", "q3", "q4"]);
    expect(JSON.stringify(quiz.body)).not.toMatch(/correct/);
    expect(questions[0]?.options).toEqual(["Paris", "Lyon", "Nice"]);

    const picks: Record<string, string[]> = {
      alice: ["Paris", "Madrid", "Rome", "Ephemeral"],
      bob: ["paris", "Seville", "Rome", "transient"],
      carol: ["Lyon", "Bilbao", "Milan", "fleeting"],
    };
    const finalScores: Record<string, number> = {};
    for (const p of [alice, bob, carol]) {
      const name = p === alice ? "alice" : p === bob ? "bob" : "carol";
      let total = 0;
      for (const [i, q] of questions.entries()) {
        const answer = picks[name]![i]!;
        const r = await p.c.answer(sid, q.id, answer, 3500);
        expect(r.type).toBe("SCORE_UPDATED");
        const correct = answer.toLowerCase() === CAPITALS[i]!.correct_answer.toLowerCase();
        expect(r.payload).toMatchObject({
          user_id: p.id,
          is_correct: correct,
          question_id: q.id,
        });
        const points = r.payload.points_earned as number;
        const base = CAPITALS[i]!.points;
        if (correct) {
          expect(points).toBeGreaterThanOrEqual(base);
          expect(points).toBeLessThanOrEqual(base + 5);
        } else {
          expect(points).toBe(0);
        }
        total += points;
        expect(r.payload.new_score).toBe(total);
      }
      finalScores[name] = total;
    }
    expect(finalScores.alice).toBeGreaterThan(finalScores.bob!);
    expect(finalScores.bob).toBeGreaterThan(0);
    expect(finalScores.carol).toBe(0);

    // Everyone gets the batched board with the final scores, in order, with their own rank.
    const ranks = new Map([
      [alice, 1],
      [bob, 2],
      [carol, 3],
    ]);
    for (const [p, rank] of ranks) {
      const lb = await p.c.board(
        (b) =>
          b.leaderboard[0]?.score === finalScores.alice &&
          b.leaderboard[1]?.score === finalScores.bob &&
          b.leaderboard.length === 3,
      );
      expect(lb).toMatchObject({ session_id: sid, your_rank: rank, total_participants: 3 });
      expect(lb.leaderboard).toEqual([
        { rank: 1, user_id: alice.id, username: "alice", score: finalScores.alice },
        { rank: 2, user_id: bob.id, username: "bob", score: finalScores.bob },
        { rank: 3, user_id: carol.id, username: "carol", score: 0 },
      ]);
    }

    // LEAVE_SESSION: the others are told, with the count of who is still here; the leaver is not.
    const left = await carol.c.call("LEAVE_SESSION", { session_id: sid }, ["SESSION_LEFT"]);
    expect(left.type).toBe("SESSION_LEFT");
    for (const p of [alice, bob]) {
      expect((await p.c.takeType("USER_LEFT")).payload).toEqual({
        user_id: carol.id,
        username: "carol",
        participant_count: 2,
      });
    }
    expect(carol.c.messages.some((m) => m.type === "USER_LEFT")).toBe(false);
    expect(
      alice.c.messages.some((m) => m.type === "USER_JOINED" && m.payload.user_id === alice.id),
    ).toBe(false);

    const ended = await api("POST", `/api/v1/sessions/${sid}/end`);
    expect(ended.body.status).toBe("completed");
    expect((await api("GET", `/api/v1/sessions/${sid}`)).body.status).toBe("completed");
    // Boards are taken in the order they match, and earlier batches (alice done while bob was
    // part-way through his answers, on a slow machine) are still untaken: wait for the board
    // with every final score.
    const final = await alice.c.board(
      (b) =>
        b.leaderboard.length === 3 &&
        b.your_rank === 1 &&
        b.leaderboard[0]?.score === finalScores.alice &&
        b.leaderboard[1]?.score === finalScores.bob,
    );
    expect(final.leaderboard.map((e) => e.score)).toEqual([finalScores.alice, finalScores.bob, 0]);
    expect((await alice.c.takeType("SESSION_ENDED")).payload).toMatchObject({
      session_id: sid,
      status: "completed",
    });
    expectError(await alice.c.answer(sid, "q4", "ephemeral"), "SESSION_COMPLETED", false);
    // Every server message carries an ISO 8601 timestamp.
    for (const m of alice.c.messages)
      expect(Number.isNaN(Date.parse(m.timestamp ?? ""))).toBe(false);
  });

  it("the shipped vocab-101 quiz plays to the end", async () => {
    const key = JSON.parse(readFileSync(root("content/demo/vocab-101.json"), "utf8")) as {
      questions: Array<{ id: string; correct_answer: string }>;
    };
    const answers = new Map(key.questions.map((q) => [q.id, q.correct_answer]));
    const { session_id: sid } = await createSession("vocab-101");
    const ann = await player(sid, "ann");
    const ben = await player(sid, "ben");
    await api("POST", `/api/v1/sessions/${sid}/start`);
    const quiz = await api("GET", "/api/v1/quizzes/vocab-101");
    const questions = quiz.body.questions as Array<{ id: string; options: string[] }>;
    expect(questions).toHaveLength(10);
    let annScore = 0;
    let benScore = 0;
    for (const q of questions) {
      const a = await ann.c.answer(sid, q.id, answers.get(q.id)!);
      expect(a.payload.is_correct).toBe(true);
      annScore = a.payload.new_score as number;
      const wrong = q.options.find((o) => o !== answers.get(q.id))!;
      const b = await ben.c.answer(sid, q.id, wrong);
      expect(b.payload).toMatchObject({ is_correct: false, points_earned: 0 });
      benScore = b.payload.new_score as number;
    }
    expect(annScore).toBeGreaterThanOrEqual(100);
    expect(benScore).toBe(0);
    const lb = await ben.c.board((b) => b.leaderboard[0]?.score === annScore);
    expect(lb.your_rank).toBe(2);
    expect(lb.leaderboard.map((e) => e.username)).toEqual(["ann", "ben"]);
    expect((await api("POST", `/api/v1/sessions/${sid}/end`)).body.status).toBe("completed");
    await ann.c.takeType("SESSION_ENDED");
  });
});

describe("seed 001: connections, reconnects and replays", () => {
  it("PING gets PONG with the server's ISO 8601 time", async () => {
    const c = await SeedClient.connect(`user_id=${user("pinger")}`);
    const pong = await c.call("PING", {}, ["PONG"], { message_id: "ping-1" });
    expect(pong.type).toBe("PONG");
    expect(pong.payload.server_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(Number.isNaN(Date.parse(pong.payload.server_time as string))).toBe(false);
    expect(pong.message_id).toBe("ping-1");
  });

  it("messages are handled in order: the seed's load-test client joins and answers without waiting", async () => {
    const quizId = await createQuiz(CAPITALS);
    const { session_id: sid } = await createSession(quizId);
    await api("POST", `/api/v1/sessions/${sid}/start`);
    const id = user("k6");
    const c = await SeedClient.connect(`user_id=${id}`);
    // As seed 001 §9.3's k6 script does: JOIN_SESSION without a username, sent on open.
    c.send("JOIN_SESSION", { session_id: sid });
    c.send("SUBMIT_ANSWER", {
      session_id: sid,
      question_id: "q1",
      answer: "Paris",
      time_taken_ms: 900,
    });
    c.send("PING", {});
    const joined = await c.takeType("SESSION_JOINED");
    expect(joined.payload).toMatchObject({ status: "active", username: id, your_score: 0 });
    const scored = await c.takeType("SCORE_UPDATED");
    expect(scored.payload).toMatchObject({ user_id: id, is_correct: true });
    await c.takeType("PONG");
    const order = c.messages
      .filter((m) => ["SESSION_JOINED", "SCORE_UPDATED", "PONG"].includes(m.type))
      .map((m) => m.type);
    expect(order).toEqual(["SESSION_JOINED", "SCORE_UPDATED", "PONG"]);
  });

  it("the same user_id connecting again is the same participant with the same score", async () => {
    const quizId = await createQuiz(CAPITALS);
    const { session_id: sid } = await createSession(quizId);
    const watcher = await player(sid, "watcher");
    const id = user("rejoiner");
    const first = await SeedClient.connect(`user_id=${id}`);
    expect((await first.join(sid, "rick")).payload.participant_count).toBe(2);
    await api("POST", `/api/v1/sessions/${sid}/start`);
    const scored = await first.answer(sid, "q1", "Paris");
    const score = scored.payload.new_score as number;
    expect(score).toBeGreaterThan(0);

    // A dropped connection is announced as USER_LEFT; coming back as USER_JOINED.
    first.close();
    expect((await watcher.c.takeType("USER_LEFT")).payload).toMatchObject({
      user_id: id,
      username: "rick",
    });
    const again = await SeedClient.connect(`user_id=${id}`);
    const rejoined = await again.join(sid, "another-name");
    expect(rejoined.payload).toMatchObject({
      session_id: sid,
      status: "active",
      participant_count: 2,
      your_score: score,
      username: "rick",
      rejoined: true,
    });
    expect((await watcher.c.takeType("USER_JOINED", (p) => p.user_id === id)).payload).toEqual({
      user_id: id,
      username: "rick",
      participant_count: 2,
    });
    expect((await api("GET", `/api/v1/sessions/${sid}`)).body.player_count).toBe(2);
    expectError(await again.answer(sid, "q1", "Paris"), "ALREADY_ANSWERED", false);
    const next = await again.answer(sid, "q2", "Madrid");
    expect(next.payload.new_score).toBe(score + (next.payload.points_earned as number));
  });

  it("A-6: a retried message_id has no second effect and gets the original reply", async () => {
    const quizId = await createQuiz(CAPITALS);
    const { session_id: sid } = await createSession(quizId);
    const other = await player(sid, "other");
    const id = user("retrier");
    const c = await SeedClient.connect(`user_id=${id}`);
    const joined = await c.join(sid, "retry", { message_id: "join-1" });
    const joinedAgain = await c.join(sid, "retry", { message_id: "join-1" });
    expect(joinedAgain).toEqual(joined);
    expect(joinedAgain.message_id).toBe("join-1");
    await other.c.takeType("USER_JOINED");
    await api("POST", `/api/v1/sessions/${sid}/start`);

    const a1 = await c.answer(sid, "q1", "Paris", 1000, { message_id: "ans-1" });
    expect(a1.type).toBe("SCORE_UPDATED");
    const a2 = await c.answer(sid, "q1", "Paris", 1000, { message_id: "ans-1" });
    expect(a2).toEqual(a1);
    // Without the same message_id the answer is refused instead (first answer wins, A-1).
    expectError(
      await c.answer(sid, "q1", "Paris", 1000, { message_id: "ans-2" }),
      "ALREADY_ANSWERED",
    );

    // After a reconnect the retry still gets the original reply.
    c.close();
    const back = await SeedClient.connect(`user_id=${id}`);
    const a3 = await back.answer(sid, "q1", "Paris", 1000, { message_id: "ans-1" });
    expect(a3.payload).toEqual(a1.payload);
    // A retried JOIN_SESSION on the new connection gets its original reply and puts it back in.
    const j3 = await back.join(sid, "retry", { message_id: "join-1" });
    expect(j3).toEqual(joined);
    const lb = await back.board((b) => b.leaderboard.some((e) => e.user_id === id));
    expect(lb.your_rank).toBe(1);
    const a4 = await back.answer(sid, "q2", "Madrid");
    expect(a4.payload.new_score).toBe(
      (a1.payload.new_score as number) + (a4.payload.points_earned as number),
    );
    // The return is announced once (USER_JOINED may wait a few ms to share a write: awaited).
    await other.c.take((m) => m.type === "USER_JOINED" && m.payload.user_id === id);
    expect(USER_JOINED_count(other.c, id)).toBe(2);
  });
});

describe("seed 001: a retried JOIN_SESSION and the board", () => {
  it("A-6: the retry gets its first SESSION_JOINED but never the board remembered with it: a client's board does not go back", async () => {
    const quizId = await createQuiz(CAPITALS);
    const { session_id: sid } = await createSession(quizId);
    const id = user("rejoiner");
    const c = await SeedClient.connect(`user_id=${id}`);
    const joined = await c.join(sid, "rejoin", { message_id: "join-1" });
    await c.board((b) => b.leaderboard.length === 1);
    const other = await player(sid, "scorer");
    await api("POST", `/api/v1/sessions/${sid}/start`);
    await other.c.answer(sid, "q1", "Paris", 1000);
    // The board with the other learner's points reaches this client first.
    await c.board((b) => b.leaderboard.some((e) => e.score > 0));
    const before = c.messages.length;
    expect(await c.join(sid, "rejoin", { message_id: "join-1" })).toEqual(joined);
    // Seed 001's socket answers in order: once PONG is back, whatever the retry sent is in.
    await c.call("PING", {}, ["PONG"]);
    const boards = c.messages
      .slice(before)
      .filter((m) => m.type === "LEADERBOARD_UPDATED")
      .map((m) => m.payload as unknown as LeaderboardPayload);
    for (const b of boards) expect(b.leaderboard.some((e) => e.score > 0)).toBe(true);
  });
});

describe("seed 001: a reused message_id is a new request when it is about something else", () => {
  it("A-6: a JOIN_SESSION to another session with a message_id used before joins that session; an answer with it is answered", async () => {
    const quizId = await createQuiz(CAPITALS);
    const { session_id: first } = await createSession(quizId);
    const { session_id: second } = await createSession(quizId);
    const c = await SeedClient.connect(`user_id=${user("reuser")}`);
    const a = await c.join(first, "reuser", { message_id: "m1" });
    expect(a.payload.session_id).toBe(first);
    const b = await c.join(second, "reuser", { message_id: "m1" });
    expect(b.type).toBe("SESSION_JOINED");
    expect(b.payload.session_id).toBe(second);
    await api("POST", `/api/v1/sessions/${second}/start`);
    // The connection is in the second session now: answering there works, with the same id too.
    const answered = await c.answer(second, "q1", "Paris", 1000, { message_id: "m1" });
    expect(answered.type).toBe("SCORE_UPDATED");
    expect(answered.payload.is_correct).toBe(true);
    // And a second question's answer under the same id is that question's answer, not a replay.
    const next = await c.answer(second, "q2", "Madrid", 1000, { message_id: "m1" });
    expect(next.type).toBe("SCORE_UPDATED");
    expect(next.payload.question_id).toBe("q2");
  });
});

describe("seed 001: retries after a recoverable refusal", () => {
  it("A-6: a refusal with recoverable: true is not remembered; the same message_id runs again", async () => {
    const quizId = await createQuiz(CAPITALS);
    const { session_id: sid } = await createSession(quizId);
    const p = await player(sid, "early");
    expectError(
      await p.c.answer(sid, "q1", "Paris", 100, { message_id: "early-1" }),
      "SESSION_NOT_ACTIVE",
      true,
    );
    await api("POST", `/api/v1/sessions/${sid}/start`);
    const retried = await p.c.answer(sid, "q1", "Paris", 100, { message_id: "early-1" });
    expect(retried.type).toBe("SCORE_UPDATED");
    expect(retried.payload.is_correct).toBe(true);
  });
});

function USER_JOINED_count(c: SeedClient, id: string): number {
  return c.messages.filter((m) => m.type === "USER_JOINED" && m.payload.user_id === id).length;
}

describe("seed 001: every documented error", () => {
  it("INVALID_SESSION, NOT_JOINED, INVALID_QUESTION, INVALID_ANSWER, USERNAME_TAKEN, INVALID_USERNAME", async () => {
    const c = await SeedClient.connect(`user_id=${user("err")}`);
    const unknown = await c.join("quiz-999", "nobody");
    expectError(unknown, "INVALID_SESSION", false);
    expect(unknown.payload.message).toBe("Session quiz-999 does not exist");

    const quizId = await createQuiz(CAPITALS);
    const { session_id: sid } = await createSession(quizId);
    expectError(await c.answer(sid, "q1", "Paris"), "NOT_JOINED", true);
    expectError(
      await c.call("LEAVE_SESSION", { session_id: sid }, ["SESSION_LEFT"]),
      "NOT_JOINED",
      true,
    );
    await c.join(sid, "erin");
    await api("POST", `/api/v1/sessions/${sid}/start`);
    expectError(await c.answer("another-session", "q1", "Paris"), "NOT_JOINED");
    expectError(await c.answer(sid, "q99", "Paris"), "INVALID_QUESTION", false);
    expectError(await c.answer(sid, "q4", "!!!"), "INVALID_ANSWER", true);

    const twin = await SeedClient.connect(`user_id=${user("twin")}`);
    expectError(await twin.join(sid, "Erin"), "USERNAME_TAKEN", true);
    expectError(await twin.join(sid, "x".repeat(30)), "INVALID_USERNAME", true);
    expect((await twin.join(sid, "erin2")).type).toBe("SESSION_JOINED");
  });

  it("SESSION_FULL and SESSION_COMPLETED", async () => {
    const quizId = await createQuiz(CAPITALS);
    const { session_id: sid } = await createSession(quizId, 1);
    await player(sid, "first");
    const late = await SeedClient.connect(`user_id=${user("second")}`);
    const full = await late.join(sid, "second");
    expectError(full, "SESSION_FULL", false);
    expect(full.payload.message).toBe("Session at capacity");

    await api("POST", `/api/v1/sessions/${sid}/end`);
    expectError(await late.join(sid, "second"), "SESSION_COMPLETED", false);
  });

  it("QUESTION_CLOSED: a live session takes answers to its open question only", async () => {
    const quizId = await createQuiz(CAPITALS);
    const { session_id: sid } = await createSession(quizId, 10, { mode: "live" });
    const c = await SeedClient.connect("", {
      authorization: `Bearer ${await signedToken(user("live"))}`,
    });
    expect((await c.join(sid, "live")).type).toBe("SESSION_JOINED");
    await api("POST", `/api/v1/sessions/${sid}/start`);
    expectError(await c.answer(sid, "q2", "Madrid"), "QUESTION_CLOSED", false);
    expect((await c.answer(sid, "q1", "Paris")).payload.is_correct).toBe(true);
  });

  it("R-5: an unverified user_id joins only self-paced sessions; live and quick_fire need a token", async () => {
    const quizId = await createQuiz(CAPITALS);
    for (const mode of ["live", "quick_fire"]) {
      const { session_id: sid } = await createSession(quizId, 10, { mode });
      const id = user(mode);
      const unverified = await SeedClient.connect(`user_id=${id}`);
      const refused = await unverified.join(sid, mode);
      expectError(refused, "ACCESS_DENIED", false);
      expect(refused.payload.message).toMatch(/token/);
      const signed = await SeedClient.connect("", {
        authorization: `Bearer ${await signedToken(id)}`,
      });
      expect((await signed.join(sid, mode)).type).toBe("SESSION_JOINED");
    }
  });

  it("ACCESS_DENIED: a removed participant is told, disconnected (4003) and kept out", async () => {
    const quizId = await createQuiz(CAPITALS);
    const { session_id: sid } = await createSession(quizId);
    const stays = await player(sid, "stays");
    const goes = await player(sid, "goes");
    const lb = await api("GET", `/api/v1/sessions/${sid}/leaderboard?limit=10`);
    const target = (lb.body.leaderboard as Array<{ participant_id: string; name: string }>).find(
      (e) => e.name === "goes",
    )!;
    const kicked = await api("POST", `/api/v1/sessions/${sid}/kick`, {
      participant_id: target.participant_id,
    });
    expect(kicked.status).toBe(200);
    expectError(await goes.c.takeType("ERROR"), "ACCESS_DENIED", false);
    await goes.c.closed();
    expect(goes.c.closeCode).toBe(4003);
    expect((await stays.c.takeType("USER_LEFT")).payload.user_id).toBe(goes.id);
    const back = await SeedClient.connect(`user_id=${goes.id}`);
    expectError(await back.join(sid, "goes"), "ACCESS_DENIED", false);
  });

  it("MALFORMED_MESSAGE, UNKNOWN_MESSAGE_TYPE, INVALID_PAYLOAD and MESSAGE_TOO_LARGE", async () => {
    const c = await SeedClient.connect(`user_id=${user("garbage")}`);
    const next = () => c.take((m) => m.type === "ERROR");
    c.sendText("{not json");
    expectError(await next(), "MALFORMED_MESSAGE", false);
    c.sendText(JSON.stringify({ payload: {} }));
    expectError(await next(), "MALFORMED_MESSAGE");
    c.send("TELEPORT", {}, { message_id: "t1" });
    const unknownType = await next();
    expectError(unknownType, "UNKNOWN_MESSAGE_TYPE", false);
    expect(unknownType.message_id).toBe("t1");
    c.send("SUBMIT_ANSWER", {
      session_id: "s",
      question_id: "q1",
      answer: "a",
      time_taken_ms: 300_001,
    });
    expectError(await next(), "INVALID_PAYLOAD", false);
    c.send("SUBMIT_ANSWER", { session_id: "s", question_id: "q1", answer: "a", time_taken_ms: -1 });
    expectError(await next(), "INVALID_PAYLOAD");
    c.send("SUBMIT_ANSWER", {
      session_id: "s",
      question_id: "q1",
      answer: "a".repeat(1001),
      time_taken_ms: 5,
    });
    expectError(await next(), "INVALID_PAYLOAD");
    c.send("JOIN_SESSION", { username: "no-session" });
    expectError(await next(), "INVALID_PAYLOAD");
    c.send("PING", { pad: "x".repeat(11_000) });
    expectError(await next(), "MESSAGE_TOO_LARGE", false);
    // The connection still works.
    expect((await c.call("PING", {}, ["PONG"])).type).toBe("PONG");
  });

  it("garbage closes the connection (4002); a huge frame closes it with 1009", async () => {
    const c = await SeedClient.connect(`user_id=${user("spam")}`);
    for (let i = 0; i < 12; i++) c.sendText("garbage");
    await c.closed();
    expect(c.closeCode).toBe(4002);
    expect(c.closeReason).toMatch(/invalid/);
    const huge = await SeedClient.connect(`user_id=${user("huge")}`);
    huge.sendText("x".repeat(70_000));
    await huge.closed();
    expect(huge.closeCode).toBe(1009);
  });

  it("RATE_LIMITED: messages (100/s), answers (10/s) and joins (5/min) per user", async () => {
    const flood = await SeedClient.connect(`user_id=${user("flood")}`);
    for (let i = 0; i < 150; i++) flood.send("PING", {});
    const limited = await flood.takeType("ERROR", (p) => p.code === "RATE_LIMITED");
    expect(limited.payload.recoverable).toBe(true);
    expect(limited.payload.retry_after_ms).toBeGreaterThan(0);

    const quizId = await createQuiz(CAPITALS);
    const { session_id: sid } = await createSession(quizId);
    const eager = await player(sid, "eager");
    await api("POST", `/api/v1/sessions/${sid}/start`);
    for (let i = 0; i < 12; i++) {
      eager.c.send("SUBMIT_ANSWER", {
        session_id: sid,
        question_id: `x${i}`,
        answer: "a",
        time_taken_ms: 10,
      });
    }
    expectError(
      await eager.c.takeType("ERROR", (p) => p.code === "RATE_LIMITED"),
      "RATE_LIMITED",
      true,
    );

    const joiner = await SeedClient.connect(`user_id=${user("joiner")}`);
    for (let i = 0; i < 6; i++) joiner.send("JOIN_SESSION", { session_id: "nope", username: "j" });
    expectError(await joiner.takeType("ERROR", (p) => p.code === "RATE_LIMITED"), "RATE_LIMITED");
  });

  it("SERVICE_UNAVAILABLE when the answer cannot be stored (A-5), INTERNAL_ERROR on a server fault", async () => {
    const quizId = await createQuiz(CAPITALS);
    const { session_id: sid } = await createSession(quizId);
    const p = await player(sid, "unlucky");
    await api("POST", `/api/v1/sessions/${sid}/start`);
    // The start's own writes are stored first, so the write refused below is the answer's.
    await t.app.committer.idle();
    vi.spyOn(t.app.storage.sessions, "write").mockRejectedValueOnce(new Error("disk full"));
    expectError(await p.c.answer(sid, "q1", "Paris"), "SERVICE_UNAVAILABLE", true);
    // Nothing was recorded: the same answer goes through when retried.
    expect((await p.c.answer(sid, "q1", "Paris")).payload.is_correct).toBe(true);

    const handle = (await t.app.sessions.find(sid))!;
    vi.spyOn(handle, "execute").mockRejectedValueOnce(new Error("bug"));
    const fault = await p.c.answer(sid, "q2", "Madrid");
    expectError(fault, "INTERNAL_ERROR", true);
    expect(fault.payload.message).toBe("Internal error");
  });
});

describe("seed 001: identity at the upgrade", () => {
  it("a missing, empty or overlong user_id is refused with 400 and a clear text", async () => {
    expect(await upgrade("/ws")).toEqual({
      status: 400,
      body: "WebSocket upgrade failed: missing user_id parameter",
    });
    expect((await upgrade("/ws?user_id=")).status).toBe(400);
    const long = await upgrade(`/ws?user_id=${"u".repeat(65)}`);
    expect(long.status).toBe(400);
    expect(long.body).toMatch(/user_id must be 1-64 characters/);
    expect((await upgrade(`/ws?user_id=${"u".repeat(64)}`)).status).toBe(101);
  });

  it("a token defines the user; it must verify and match user_id when both are given", async () => {
    const key = new TextEncoder().encode(SECRET);
    const token = await new SignJWT({ user_id: "jwt-user-7", username: "jay" })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime("1h")
      .sign(key);
    expect((await upgrade("/ws?user_id=x&token=not-a-jwt")).status).toBe(401);
    expect((await upgrade(`/ws?user_id=someone-else&token=${token}`)).status).toBe(403);
    expect((await upgrade(`/ws?user_id=jwt-user-7&token=${token}`)).status).toBe(101);

    const quizId = await createQuiz(CAPITALS);
    const { session_id: sid } = await createSession(quizId);
    const c = await SeedClient.connect("", { authorization: `Bearer ${token}` });
    // Without a username the token's handle names the player.
    const joined = await c.call("JOIN_SESSION", { session_id: sid }, ["SESSION_JOINED"]);
    expect(joined.payload.username).toBe("jay");
    await api("POST", `/api/v1/sessions/${sid}/start`);
    expect((await c.answer(sid, "q1", "Paris")).payload.user_id).toBe("jwt-user-7");

    // An unverified user_id equal to a signed-in user's id is a different participant.
    const impostor = await SeedClient.connect("user_id=jwt-user-7");
    const other = await impostor.join(sid, "impostor");
    expect(other.payload).toMatchObject({ rejoined: false, your_score: 0, participant_count: 2 });
  });

  it("with anonymous access off a token is required (401)", async () => {
    const strict = await createTestApp({ JWT_SECRET: SECRET, ALLOW_ANONYMOUS: "false" });
    try {
      const port = await strict.app.listen();
      const res = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?user_id=someone`);
        ws.on("unexpected-response", (_req, r) => resolve(r.statusCode ?? 0));
        ws.on("error", () => undefined);
      });
      expect(res).toBe(401);
    } finally {
      await strict.close();
    }
  });
});

describe("seed 001: scoring time", () => {
  it("S-5: the server's clock decides the time bonus; time_taken_ms is validated, never used", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const app = await createTestApp({}, { clock });
    try {
      const port = await app.app.listen();
      const http = `http://127.0.0.1:${port}`;
      const post = async (path: string, body?: unknown) =>
        (await fetch(`${http}${path}`, {
          method: "POST",
          headers: body === undefined ? {} : { "content-type": "application/json" },
          body: body === undefined ? null : JSON.stringify(body),
        }).then((r) => r.json())) as Record<string, unknown>;
      const created = await post("/api/v1/sessions", {
        quiz_id: "vocab-101",
        max_participants: 10,
      });
      const sid = created.session_id as string;
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?user_id=timer`);
      const got: SeedMessage[] = [];
      const waiters: Array<[(m: SeedMessage) => boolean, (m: SeedMessage) => void]> = [];
      ws.on("message", (d) => {
        const m = JSON.parse(String(d)) as SeedMessage;
        got.push(m);
        for (const [match, resolve] of waiters) if (match(m)) resolve(m);
      });
      await new Promise((r) => ws.once("open", r));
      const reply = (type: string) => {
        const n = got.length;
        return new Promise<SeedMessage>((resolve) =>
          waiters.push([(m) => m.type === type && got.indexOf(m) >= n, resolve]),
        );
      };
      const send = (type: string, payload: unknown) => ws.send(JSON.stringify({ type, payload }));
      const joined = reply("SESSION_JOINED");
      send("JOIN_SESSION", { session_id: sid, username: "tim" });
      await joined;
      await post(`/api/v1/sessions/${sid}/start`);

      // 3 s after the start, claiming 0 ms: 10 + 5 - floor(3000 / 2000) = 14.
      clock.advance(3_000);
      let scored = reply("SCORE_UPDATED");
      send("SUBMIT_ANSWER", {
        session_id: sid,
        question_id: "q1",
        answer: "elated",
        time_taken_ms: 0,
      });
      expect((await scored).payload).toMatchObject({ points_earned: 14, elapsed_ms: 3_000 });

      // 4.5 s after the previous answer, claiming 300 s: 10 + 5 - floor(4500 / 2000) = 13.
      clock.advance(4_500);
      scored = reply("SCORE_UPDATED");
      send("SUBMIT_ANSWER", {
        session_id: sid,
        question_id: "q2",
        answer: "modern",
        time_taken_ms: 300_000,
      });
      expect((await scored).payload).toMatchObject({
        points_earned: 13,
        new_score: 27,
        elapsed_ms: 4_500,
      });

      // The leaderboard goes out once the 100 ms batch window has passed.
      const board = reply("LEADERBOARD_UPDATED");
      clock.advance(100);
      expect((await board).payload).toMatchObject({
        leaderboard: [{ rank: 1, user_id: "timer", username: "tim", score: 27 }],
        your_rank: 1,
        total_participants: 1,
      });
      ws.close();
    } finally {
      await app.close();
    }
  });
});

describe("seed 001 and the canonical door in one session", () => {
  it("a seed 001 client and an SDK client see the same leaderboard", async () => {
    const quizId = await createQuiz(CAPITALS.slice(0, 3));
    const { session_id: sid, pin } = await createSession(quizId);
    const seed = await player(sid, "sally");
    const sdk = await connectClient(`${wsBase}/ws/v1`);
    sdkClients.push(sdk);
    const log = new EventLog(sdk, ["leaderboard", "end"]);
    await sdk.join({ pin, displayName: "Sam" });
    expect((await seed.c.takeType("USER_JOINED")).payload).toMatchObject({
      username: "Sam",
      participant_count: 2,
    });
    await api("POST", `/api/v1/sessions/${sid}/start`);

    let seedScore = 0;
    for (const [q, a] of [
      ["q1", "Paris"],
      ["q2", "Madrid"],
      ["q3", "Milan"],
    ] as const) {
      seedScore = (await seed.c.answer(sid, q, a)).payload.new_score as number;
    }
    let sdkScore = 0;
    for (const [index, choice] of [
      [0, 0],
      [1, 0],
      [2, 2],
    ] as const) {
      sdkScore = (await sdk.answer(index, { choice })).score;
    }
    expect(sdkScore).toBeGreaterThan(seedScore);

    const seedBoard = await seed.c.board(
      (b) =>
        b.leaderboard.length === 2 &&
        b.leaderboard.every((e) => e.score > 0) &&
        b.leaderboard.some((e) => e.score === sdkScore) &&
        b.leaderboard.some((e) => e.score === seedScore),
    );
    const sdkBoard = await log.wait<ServerData<"leaderboard">>(
      "leaderboard",
      (b) =>
        b.leaderboard.some((e) => e.score === sdkScore) &&
        b.leaderboard.some((e) => e.score === seedScore),
    );
    expect(seedBoard.leaderboard.map((e) => [e.rank, e.username, e.score])).toEqual(
      sdkBoard.leaderboard.map((e) => [e.rank, e.name, e.score]),
    );
    expect(seedBoard.leaderboard.map((e) => e.username)).toEqual(["Sam", "sally"]);
    expect(seedBoard.your_rank).toBe(2);
    expect(sdkBoard.your_rank).toBe(1);
    expect(seedBoard.total_participants).toBe(sdkBoard.total_players);
  });
});

/*
 * Several instances in one process (the in-process bus and leases standing in for Redis, one
 * SQLite database shared), each with its own seed 001 door on its own port: a session runs on
 * one instance and its clients connect wherever they like.
 */
interface SeedInstance {
  directory: ClusterDirectory;
  bus: ReturnType<MemoryClusterHub["bus"]>;
  sessions: SessionService;
  wsBase: string;
}

const HOST: Actor = { userId: asUserId("seed001-cluster-host"), roles: [], anonymous: false };

async function seedCluster(n: number): Promise<{ nodes: SeedInstance[]; stop(): Promise<void> }> {
  const clock = new SystemClock();
  const dir = mkdtempSync(join(tmpdir(), "qw-seed001-cluster-"));
  const storage: Storage = await openSqliteStorage({ path: join(dir, "quizwire.db") });
  const config = loadConfig({ DATA_DIR: dir, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent" });
  const hub = new MemoryClusterHub({ clock });
  const leases = new MemoryOwnershipLeases(clock);
  const pins = new MemoryPinDirectory();
  // Stands for the Redis limiter every instance shares.
  const sharedLimiter = new MemoryRateLimiter(clock);
  const log = pino({ level: "silent" });
  const stops: Array<() => Promise<void>> = [];
  const nodes: SeedInstance[] = [];
  for (let i = 1; i <= n; i++) {
    const random = new SeededRandom(100 + i);
    const committer = new GroupCommitter(
      { write: (batch, fence) => storage.sessions.write(batch, fence), ping: () => storage.ping() },
      clock,
    );
    let directory: ClusterDirectory | null = null;
    const registry = new RoomRegistry({
      storage,
      committer,
      clock,
      random,
      pins,
      hashToken,
      newSessionId: () => uuidv7(),
      onError: () => undefined,
      endedRetentionMs: 60_000,
      onEnded: (r) => directory?.onEnded(r),
      onFenced: (r) => directory?.onFenced(r),
    });
    const bus = hub.bus(`seed-i${i}`);
    directory = new ClusterDirectory({
      instanceId: `seed-i${i}`,
      registry,
      storage,
      leases,
      bus,
      pins,
      clock,
      onError: () => undefined,
      options: { leaseTtlMs: 2_000, renewEveryMs: 200, sweepEveryMs: 200, requestTimeoutMs: 2_000 },
    });
    await directory.start();
    const sessions = new SessionService({
      directory,
      storage,
      clock,
      publicUrl: "http://localhost",
      committer,
    });
    const door = new VocabularyDoor({
      config,
      origins: OriginPolicy.fromConfig(config),
      sessions,
      identity: new IdentityService({
        jwtSecret: SECRET,
        allowAnonymous: true,
        anonymousKey: "seed001-cluster-anonymous-key",
        random,
      }),
      clock,
      metrics: new Metrics({ sessions: () => registry.size, storageQueue: () => 0 }),
      limiter: new MemoryRateLimiter(clock),
      sharedLimiter,
      replay: new MemoryReplayCache(clock),
      log,
    });
    const server = createServer();
    server.on("upgrade", (req, socket, head) => door.handleUpgrade(req, socket, head));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const d = directory;
    stops.push(async () => {
      door.shutdown();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await d.stop();
    });
    nodes.push({ directory: d, bus, sessions, wsBase: `ws://127.0.0.1:${port}` });
  }
  return {
    nodes,
    async stop() {
      for (const stop of stops) await stop();
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A self-paced vocab session (as seed 001's REST creates) owned by `owner`. */
async function clusterSession(owner: SeedInstance, leaderboardSize = 100) {
  const created = await owner.directory.create({
    quiz: quizOf(
      ["q1", "q2", "q3"].map((id) => choiceQuestion(id)),
      `seed001-cluster-${++quizCounter}`,
    ),
    settings: resolveSettings("self_paced", { leaderboardSize }),
    hostUserId: HOST.userId,
    hostName: null,
  });
  return created.handle;
}

describe("seed 001 across instances", () => {
  const clusters: Array<{ stop(): Promise<void> }> = [];
  afterEach(async () => {
    for (const c of clusters.splice(0)) await c.stop();
  });

  async function twoInstances(): Promise<[SeedInstance, SeedInstance]> {
    const c = await seedCluster(2);
    clusters.push(c);
    return c.nodes as [SeedInstance, SeedInstance];
  }

  it("a session run by another instance: joins, answers, presence and the batched board reach every client", async () => {
    const [a, b] = await twoInstances();
    // leaderboard_size 1: a LEADERBOARD_UPDATED is still the top 100, whether it comes from the
    // batch, a join or a resync's snapshot (which one comes first is a race between instances).
    const handle = await clusterSession(a, 1);
    const sid = handle.id;
    const annId = user("ann");
    const ann = await SeedClient.connect(`user_id=${annId}`, {}, a.wsBase);
    expect((await ann.join(sid, "ann")).type).toBe("SESSION_JOINED");
    const carolId = user("carol");
    const carol = await SeedClient.connect(`user_id=${carolId}`, {}, a.wsBase);
    await carol.join(sid, "carol");
    const bobId = user("bob");
    const bob = await SeedClient.connect(`user_id=${bobId}`, {}, b.wsBase);
    const joined = await bob.join(sid, "bob");
    expect(joined.payload).toMatchObject({
      session_id: sid,
      quiz_id: handle.info.quizId,
      status: "waiting",
      participant_count: 3,
      username: "bob",
      rejoined: false,
    });
    expect((await ann.takeType("USER_JOINED", (p) => p.user_id === bobId)).payload).toEqual({
      user_id: bobId,
      username: "bob",
      participant_count: 3,
    });

    carol.close();
    expect((await bob.takeType("USER_LEFT")).payload).toEqual({
      user_id: carolId,
      username: "carol",
      participant_count: 2,
    });

    expect((await handle.execute(HOST, { type: "start" })).ok).toBe(true);
    await bob.takeType("SESSION_STARTED");
    const annScore = (await ann.answer(sid, "q1", "A")).payload.new_score as number;
    expect(annScore).toBeGreaterThan(0);
    const bobAnswer = await bob.answer(sid, "q1", "B");
    expect(bobAnswer.payload).toMatchObject({ user_id: bobId, is_correct: false, new_score: 0 });
    // The board after ann's answer: all three ranked, ann first (cluster-directory.test.ts holds
    // the beacon race that once put a snapshot's board here instead of the batch's).
    const board = await bob.board(
      (x) => x.leaderboard.length === 3 && x.leaderboard[0]?.score === annScore,
    );
    expect(board).toMatchObject({ session_id: sid, your_rank: 3, total_participants: 3 });
    expect(board.leaderboard.map((e) => [e.rank, e.user_id, e.score])).toEqual([
      [1, annId, annScore],
      [2, carolId, 0],
      [3, bobId, 0],
    ]);
    expect((await ann.board((x) => x.leaderboard[0]?.score === annScore)).your_rank).toBe(1);
  });

  it("A-6: a retry reaching the session through another instance gets the first reply", async () => {
    const [a, b] = await twoInstances();
    const handle = await clusterSession(a);
    const sid = handle.id;
    const id = user("wanderer");
    const first = await SeedClient.connect(`user_id=${id}`, {}, b.wsBase);
    const joined = await first.join(sid, "wanda", { message_id: "join-1" });
    expect(joined.payload.rejoined).toBe(false);
    await handle.execute(HOST, { type: "start" });
    const a1 = await first.answer(sid, "q1", "A", 1000, { message_id: "ans-1" });
    expect(a1.type).toBe("SCORE_UPDATED");
    first.close();

    // Instance a never saw these messages; the session's owner remembers them.
    const back = await SeedClient.connect(`user_id=${id}`, {}, a.wsBase);
    const j2 = await back.join(sid, "wanda", { message_id: "join-1" });
    expect(j2.payload).toEqual(joined.payload);
    expect((await back.board((x) => x.leaderboard.length === 1)).your_rank).toBe(1);
    const a2 = await back.answer(sid, "q1", "A", 1000, { message_id: "ans-1" });
    expect(a2.payload).toEqual(a1.payload);
    expectError(
      await back.answer(sid, "q1", "A", 1000, { message_id: "ans-2" }),
      "ALREADY_ANSWERED",
    );
  });

  it("RATE_LIMITED: the join limit (5/min per user) holds across instances", async () => {
    const [a, b] = await twoInstances();
    const id = user("hopper");
    const onA = await SeedClient.connect(`user_id=${id}`, {}, a.wsBase);
    const onB = await SeedClient.connect(`user_id=${id}`, {}, b.wsBase);
    for (let i = 0; i < 3; i++) {
      expectError(await onA.join("nope", "h"), "INVALID_SESSION");
    }
    expectError(await onB.join("nope", "h"), "INVALID_SESSION");
    expectError(await onB.join("nope", "h"), "INVALID_SESSION");
    expectError(await onB.join("nope", "h"), "RATE_LIMITED", true);
  });

  it("events lost between instances: every client gets a fresh LEADERBOARD_UPDATED with its own rank", async () => {
    const [a, b] = await twoInstances();
    const handle = await clusterSession(a);
    const sid = handle.id;
    const remote = (await b.sessions.find(sid))!;
    const seen: RoomEvent[] = [];
    let resyncs = 0;
    remote.subscribe(
      (e) => seen.push(e),
      () => {
        resyncs += 1;
      },
    );
    const ann = await SeedClient.connect(`user_id=${user("ann")}`, {}, a.wsBase);
    await ann.join(sid, "ann");
    const bobId = user("bob");
    const bob = await SeedClient.connect(`user_id=${bobId}`, {}, b.wsBase);
    await bob.join(sid, "bob");
    await handle.execute(HOST, { type: "start" });
    // The joins' coalesced player count goes out after a second; let it pass before losing events.
    await eventually("the joins' player_count on b", () => seen.map((e) => e.body.type), {
      until: (types) => types.includes("player_count"),
    });

    // The answer's `scored` and the batched `leaderboard` never reach instance b.
    const before = resyncs; // the bus subscription going live counted one
    // Room events only: an owner's beacon in between must not use up a loss.
    b.bus.dropNextRoomEvents(2, sid, (text) => decodeBeacon(text) === null);
    const annScore = (await ann.answer(sid, "q1", "A")).payload.new_score as number;
    await ann.board((x) => x.leaderboard[0]?.score === annScore);
    await handle.execute(HOST, { type: "lock", locked: true });
    const board = await bob.board((x) => x.leaderboard[0]?.score === annScore);
    expect(resyncs).toBe(before + 1);
    expect(seen.some((e) => e.body.type === "leaderboard")).toBe(false);
    expect(board).toMatchObject({ session_id: sid, your_rank: 2, total_participants: 2 });
    expect(board.leaderboard.map((e) => [e.rank, e.user_id, e.score])).toEqual([
      [1, expect.any(String), annScore],
      [2, bobId, 0],
    ]);
  });
});
