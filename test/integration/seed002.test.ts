import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { MemoryRateLimiter } from "../../src/adapters/memory/memory-rate-limiter.js";
import { SystemClock } from "../../src/adapters/system-clock.js";
import type { ServerData } from "../../src/doors/canonical/protocol.js";
import { LeaderboardStreamDoor } from "../../src/doors/leaderboard-stream/stream-door.js";
import { OriginPolicy } from "../../src/doors/origin-policy.js";
import type { ExecuteOptions, RoomHandle } from "../../src/engine/room-handle.js";
import type { Actor, Command, Reply, ResultOf, RoomListener } from "../../src/engine/types.js";
import type { QuizwireClient } from "../../src/sdk/index.js";
import { connectClient, EventLog } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { createTestApp } from "../support/test-app.js";

// ------------------------------------------------------------------ a seed 002 client
// Written from seed 002 alone: raw WebSocket and fetch, the seed's paths, fields and texts.

interface Entry {
  participant_id: string;
  username: string;
  score: number;
  rank: number;
}

interface Board {
  quiz_id: string;
  leaderboard: Entry[];
  total_participants: number;
  timestamp: string;
}

/** A leaderboard stream: every message it received, in order, and a way to wait for one. */
class Stream {
  readonly messages: Board[] = [];
  closeCode: number | null = null;
  private waiters: Array<{ match: (b: Board) => boolean; resolve: (b: Board) => void }> = [];
  private closeWaiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const board = JSON.parse(String(data)) as Board;
      this.messages.push(board);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(board)) return true;
        w.resolve(board);
        return false;
      });
    });
    ws.on("close", (code) => {
      this.closeCode = code;
      for (const w of this.closeWaiters) w();
    });
  }

  static async open(quizId: string, participantId: string, at = wsBase): Promise<Stream> {
    const ws = new WebSocket(`${at}/quizzes/${quizId}/ws?participant_id=${participantId}`);
    const stream = new Stream(ws);
    streams.push(stream);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return stream;
  }

  /** The first message (received or still to come) that matches. */
  next(match: (b: Board) => boolean = () => true): Promise<Board> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  closed(): Promise<number> {
    if (this.closeCode !== null) return Promise.resolve(this.closeCode);
    return new Promise((resolve) => this.closeWaiters.push(() => resolve(this.closeCode ?? 0)));
  }

  get last(): Board | undefined {
    return this.messages.at(-1);
  }
}

/** What an upgrade refused before the WebSocket exists looks like to a client. */
function refusal(path: string, at = wsBase): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${at}${path}`);
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on("open", () => {
      ws.close();
      reject(new Error(`upgrade to ${path} succeeded`));
    });
    ws.on("error", () => {});
  });
}

async function call(
  method: "GET" | "POST",
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function createQuiz(body: unknown): Promise<string> {
  const res = await call("POST", "/quizzes", body);
  expect(res.status).toBe(201);
  expect(typeof res.body.quiz_id).toBe("string");
  return res.body.quiz_id as string;
}

async function addParticipant(quizId: string, username: string): Promise<string> {
  const res = await call("POST", `/quizzes/${quizId}/participants`, { username });
  expect(res.status).toBe(201);
  expect(res.body.username).toBe(username);
  return res.body.participant_id as string;
}

async function submit(
  quizId: string,
  participantId: string,
  questionId: string,
  answer: string,
): Promise<{ correct: boolean; points: number; score: number }> {
  const res = await call("POST", `/quizzes/${quizId}/answers`, {
    participant_id: participantId,
    question_id: questionId,
    answer,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { correct: boolean; points: number; score: number };
}

async function leaderboard(quizId: string): Promise<Board> {
  const res = await call("GET", `/quizzes/${quizId}/leaderboard`);
  expect(res.status).toBe(200);
  return res.body as unknown as Board;
}

/** The board without its timestamp, for comparing two views of the same moment. */
const content = (b: Board) => ({
  quiz_id: b.quiz_id,
  leaderboard: b.leaderboard,
  total_participants: b.total_participants,
});

const scoreOf = (b: Board, id: string) => b.leaderboard.find((e) => e.participant_id === id)?.score;

// ------------------------------------------------------------------ setup

type TestApp = Awaited<ReturnType<typeof createTestApp>>;
let t: TestApp;
let base: string;
let wsBase: string;
const streams: Stream[] = [];
const clients: QuizwireClient[] = [];

beforeAll(async () => {
  t = await createTestApp();
  const port = await t.app.listen();
  base = `http://127.0.0.1:${port}`;
  wsBase = `ws://127.0.0.1:${port}`;
});

afterAll(async () => {
  for (const s of streams) s.ws.terminate();
  for (const c of clients) c.close();
  await t.close();
});

// ------------------------------------------------------------------ tests

describe("seed 002: a quiz from a stored quiz, played over REST and watched on the stream", () => {
  it("S-4, L-1, L-2: snapshot on connect, then updates in rank order after answers; GET equals the stream", async () => {
    const quizId = await createQuiz({ from_quiz: "vocab-101" });
    const alice = await addParticipant(quizId, "alice_dev");
    const bob = await addParticipant(quizId, "bob_coder");

    const stream = await Stream.open(quizId, alice);
    const snapshot = await stream.next();
    expect(snapshot.quiz_id).toBe(quizId);
    expect(snapshot.total_participants).toBe(2);
    // Equal zero scores rank by join order (L-2).
    expect(snapshot.leaderboard).toEqual([
      { participant_id: alice, username: "alice_dev", score: 0, rank: 1 },
      { participant_id: bob, username: "bob_coder", score: 0, rank: 2 },
    ]);
    expect(new Date(snapshot.timestamp).toISOString()).toBe(snapshot.timestamp);

    // Bob is right first: vocab scoring gives 10 points plus a time bonus of at most 5 (S-4).
    const b1 = await submit(quizId, bob, "q1", "elated");
    expect(b1.correct).toBe(true);
    expect(b1.points).toBeGreaterThanOrEqual(10);
    expect(b1.points).toBeLessThanOrEqual(15);
    expect(b1.score).toBe(b1.points);
    const afterBob = await stream.next((b) => scoreOf(b, bob) === b1.score);
    expect(afterBob.leaderboard.map((e) => [e.username, e.score, e.rank])).toEqual([
      ["bob_coder", b1.score, 1],
      ["alice_dev", 0, 2],
    ]);

    // Alice misses one, then gets two right and overtakes him. The option text is matched loosely.
    expect(await submit(quizId, alice, "q1", "weary")).toEqual({
      correct: false,
      points: 0,
      score: 0,
    });
    const a2 = await submit(quizId, alice, "q2", "  MODERN ");
    expect(a2.correct).toBe(true);
    const a3 = await submit(quizId, alice, "q3", "reduce");
    expect(a3.score).toBe(a2.points + a3.points);
    const final = await stream.next((b) => scoreOf(b, alice) === a3.score);
    expect(final.leaderboard.map((e) => [e.participant_id, e.score, e.rank])).toEqual([
      [alice, a3.score, 1],
      [bob, b1.score, 2],
    ]);
    expect(final.total_participants).toBe(2);

    // The REST leaderboard and a stream opened now show exactly what the first stream shows.
    expect(content(await leaderboard(quizId))).toEqual(content(final));
    const bobStream = await Stream.open(quizId, bob);
    expect(content(await bobStream.next())).toEqual(content(final));
    // Updates are always newer: the timestamps never go back.
    const times = stream.messages.map((m) => Date.parse(m.timestamp));
    expect([...times].sort((x, y) => x - y)).toEqual(times);
  });

  it("a newcomer appears on open streams; every stream of the quiz gets the same update", async () => {
    const quizId = await createQuiz({ from_quiz: "vocab-101" });
    const ann = await addParticipant(quizId, "ann");
    const s1 = await Stream.open(quizId, ann);
    const s2 = await Stream.open(quizId, ann);
    await s1.next();
    await s2.next();
    const ben = await addParticipant(quizId, "ben");
    const seen1 = await s1.next((b) => b.total_participants === 2);
    const seen2 = await s2.next((b) => b.total_participants === 2);
    expect(seen1).toEqual(seen2);
    expect(seen1.leaderboard.map((e) => e.participant_id)).toEqual([ann, ben]);
  });
});

describe("seed 002: participants with a JWT", () => {
  it("a JWT user joins once: joining again returns the same participant (200)", async () => {
    const secret = await t.app.storage.meta.get("jwt_secret");
    expect(secret).toBeTruthy();
    const token = await new SignJWT({ username: "nia" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("user-nia")
      .setExpirationTime("10m")
      .sign(new TextEncoder().encode(secret!));
    const quizId = await createQuiz({ from_quiz: "vocab-101" });
    const join = () =>
      fetch(`${base}/quizzes/${quizId}/participants`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ username: "Nia" }),
      }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as Record<string, string>,
      }));
    const first = await join();
    expect(first.status).toBe(201);
    const second = await join();
    expect(second).toEqual({ status: 200, body: first.body });
    expect((await leaderboard(quizId)).total_participants).toBe(1);
    const bad = await fetch(`${base}/quizzes/${quizId}/participants`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer a.b.c" },
      body: JSON.stringify({ username: "Mallory" }),
    });
    expect(bad.status).toBe(401);
  });
});

describe("seed 002: a quiz with its own questions", () => {
  it("inline questions in seed 001's shape: points as given, ids as given or q1, q2, …", async () => {
    const quizId = await createQuiz({
      title: "Capitals",
      questions: [
        {
          id: "cap-fr",
          text: "Capital of France?",
          options: ["Paris", "Lyon", "Nice"],
          correct_answer: "Paris",
          points: 20,
        },
        { text: "Capital of Italy?", options: ["Milan", "Rome"], correct_answer: "Rome" },
      ],
    });
    const cy = await addParticipant(quizId, "Cy");
    const di = await addParticipant(quizId, "Di");
    const stream = await Stream.open(quizId, di);
    await stream.next();

    const c1 = await submit(quizId, cy, "cap-fr", "paris");
    expect(c1.correct).toBe(true);
    expect(c1.points).toBeGreaterThanOrEqual(20);
    expect(c1.points).toBeLessThanOrEqual(25);
    // The second question had no id: missing ids are numbered q1, q2, … in order.
    const d2 = await submit(quizId, di, "q1", "Rome");
    expect(d2.correct).toBe(true);
    expect(d2.points).toBeLessThan(c1.points);
    const board = await stream.next((b) => scoreOf(b, di) === d2.score);
    expect(board.leaderboard).toEqual([
      { participant_id: cy, username: "Cy", score: c1.score, rank: 1 },
      { participant_id: di, username: "Di", score: d2.score, rank: 2 },
    ]);
    expect(content(await leaderboard(quizId))).toEqual(content(board));
  });
});

describe("seed 002: refusals", () => {
  it("the stream's three upgrade errors, with the seed's status and text", async () => {
    const quizId = await createQuiz({ from_quiz: "vocab-101" });
    const other = await createQuiz({ from_quiz: "vocab-101" });
    const stranger = await addParticipant(other, "stranger");

    expect(await refusal(`/quizzes/${quizId}/ws`)).toEqual({
      status: 400,
      body: "WebSocket upgrade failed: missing participant_id parameter",
    });
    expect(await refusal(`/quizzes/${quizId}/ws?participant_id=`)).toEqual({
      status: 400,
      body: "WebSocket upgrade failed: missing participant_id parameter",
    });
    expect(await refusal("/quizzes/quiz_a1b2c3d4e5f6/ws?participant_id=p_1234567890ab")).toEqual({
      status: 404,
      body: "WebSocket upgrade failed: quiz not found",
    });
    expect(await refusal(`/quizzes/${quizId}/ws?participant_id=${stranger}`)).toEqual({
      status: 403,
      body: "WebSocket upgrade failed: participant not in quiz",
    });
  });

  it("a participant holds at most 10 streams at once (429)", async () => {
    const quizId = await createQuiz({ from_quiz: "vocab-101" });
    const max = await addParticipant(quizId, "max");
    const open: Stream[] = [];
    for (let i = 0; i < 10; i++) open.push(await Stream.open(quizId, max));
    await Promise.all(open.map((s) => s.next()));
    expect(await refusal(`/quizzes/${quizId}/ws?participant_id=${max}`)).toEqual({
      status: 429,
      body: "WebSocket upgrade failed: too many streams for this participant",
    });
    open[0]!.ws.close();
    await open[0]!.closed();
    const again = await Stream.open(quizId, max);
    expect((await again.next()).total_participants).toBe(1);
  });

  it("an unknown quiz is 404 on every REST route", async () => {
    const id = "quiz_a1b2c3d4e5f6";
    const join = await call("POST", `/quizzes/${id}/participants`, { username: "x" });
    const answer = await call("POST", `/quizzes/${id}/answers`, {
      participant_id: "p_1",
      question_id: "q1",
      answer: "a",
    });
    const board = await call("GET", `/quizzes/${id}/leaderboard`);
    for (const res of [join, answer, board]) {
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ code: "NOT_FOUND", message: "quiz not found" });
    }
    const fromUnknown = await call("POST", "/quizzes", { from_quiz: "no-such-quiz" });
    expect(fromUnknown.status).toBe(404);
    expect(fromUnknown.body).toMatchObject({ code: "NOT_FOUND", reason: "no_quiz" });
  });

  it("bad bodies are 400 VALIDATION and change nothing", async () => {
    const quizId = await createQuiz({ from_quiz: "vocab-101" });
    const bad: Array<[string, unknown, string]> = [
      ["/quizzes", {}, "bad_request"],
      ["/quizzes", [], "bad_request"],
      ["/quizzes", { from_quiz: 5 }, "bad_request"],
      ["/quizzes", { from_quiz: "vocab-101", title: "T", questions: [] }, "bad_request"],
      ["/quizzes", { title: "T", questions: [] }, "invalid_quiz"],
      [
        "/quizzes",
        { title: "T", questions: [{ text: "?", options: ["a", "b"], correct_answer: "c" }] },
        "invalid_quiz",
      ],
      ["/quizzes", "{not json", "bad_json"],
      [`/quizzes/${quizId}/participants`, {}, "bad_request"],
      [`/quizzes/${quizId}/participants`, { username: "" }, "bad_request"],
      [`/quizzes/${quizId}/participants`, { username: "\u0007bell" }, "invalid_name"],
      [`/quizzes/${quizId}/answers`, { participant_id: "p" }, "bad_request"],
      [
        `/quizzes/${quizId}/answers`,
        { participant_id: "p", question_id: "q1", answer: 3 },
        "bad_request",
      ],
    ];
    for (const [path, body, reason] of bad) {
      const res = await call("POST", path, body);
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(res.body, `${path} ${JSON.stringify(body)}`).toMatchObject({
        code: "VALIDATION",
        reason,
      });
    }
    expect((await leaderboard(quizId)).total_participants).toBe(0);
  });

  it("A-1: answers by strangers, to unknown questions, or twice are refused", async () => {
    const quizId = await createQuiz({ from_quiz: "vocab-101" });
    const eve = await addParticipant(quizId, "eve");
    const answer = (participant_id: string, question_id: string) =>
      call("POST", `/quizzes/${quizId}/answers`, { participant_id, question_id, answer: "elated" });
    expect((await answer("p_nobody", "q1")).body).toMatchObject({
      code: "NOT_FOUND",
      reason: "no_player",
    });
    expect((await answer(eve, "q99")).body).toMatchObject({
      code: "NOT_FOUND",
      reason: "no_question",
    });
    expect((await answer(eve, "q1")).status).toBe(200);
    const again = await answer(eve, "q1");
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: "STATE", reason: "already_answered" });
    expect(scoreOf(await leaderboard(quizId), eve)).toBeGreaterThanOrEqual(10);
    const taken = await call("POST", `/quizzes/${quizId}/participants`, { username: "EVE" });
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({ code: "CONFLICT", reason: "name_taken" });
  });

  it("client frames are ignored; binary garbage closes the stream (4002); the quiz plays on", async () => {
    const quizId = await createQuiz({ from_quiz: "vocab-101" });
    const fay = await addParticipant(quizId, "fay");
    const chatty = await Stream.open(quizId, fay);
    await chatty.next();
    chatty.ws.send("hello");
    chatty.ws.send(JSON.stringify({ type: "subscribe" }));
    const ack = await submit(quizId, fay, "q1", "elated");
    await chatty.next((b) => scoreOf(b, fay) === ack.score);

    const hostile = await Stream.open(quizId, fay);
    await hostile.next();
    for (let i = 0; i < 10; i++) hostile.ws.send(Buffer.from([0, 1, 2, i]));
    expect(await hostile.closed()).toBe(4002);
    expect(chatty.closeCode).toBeNull();
    expect((await submit(quizId, fay, "q2", "modern")).correct).toBe(true);
  });

  it("a plain GET of the stream path is 426", async () => {
    const res = await fetch(`${base}/quizzes/x/ws?participant_id=p`);
    expect(res.status).toBe(426);
    expect(await res.text()).toBe("WebSocket upgrade failed: expected a WebSocket upgrade request");
  });
});

describe("seed 002: the end of a quiz", () => {
  it("a kicked participant's stream closes (4003); at the end every stream closes (1000)", async () => {
    const quizId = await createQuiz({ from_quiz: "vocab-101" });
    const gil = await addParticipant(quizId, "gil");
    const hal = await addParticipant(quizId, "hal");
    const gilStream = await Stream.open(quizId, gil);
    const halStream = await Stream.open(quizId, hal);
    await gilStream.next();
    await halStream.next();

    // The server's own API ends and kicks (no ADMIN_TOKEN: admin control is open locally).
    const kick = await call("POST", `/api/v1/sessions/${quizId}/kick`, { participant_id: hal });
    expect(kick.status).toBe(200);
    expect(await halStream.closed()).toBe(4003);
    const without = await gilStream.next((b) => b.total_participants === 1);
    expect(without.leaderboard.map((e) => e.username)).toEqual(["gil"]);
    expect((await refusal(`/quizzes/${quizId}/ws?participant_id=${hal}`)).status).toBe(403);

    const ack = await submit(quizId, gil, "q1", "elated");
    await gilStream.next((b) => scoreOf(b, gil) === ack.score);
    expect((await call("POST", `/api/v1/sessions/${quizId}/end`)).status).toBe(200);
    expect(await gilStream.closed()).toBe(1000);

    // Late: the final board, then a normal close; answers and joins are refused.
    const late = await Stream.open(quizId, gil);
    expect(content(await late.next())).toEqual(content(gilStream.last!));
    expect(await late.closed()).toBe(1000);
    const refused = await call("POST", `/quizzes/${quizId}/answers`, {
      participant_id: gil,
      question_id: "q2",
      answer: "modern",
    });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: "STATE", reason: "room_ended" });
    expect(content(await leaderboard(quizId))).toEqual(content(gilStream.last!));
  });
});

describe("seed 002 and the canonical door in one session", () => {
  it("L-1: a seed 002 REST participant and a canonical SDK player see the same leaderboard", async () => {
    const quizId = await createQuiz({ from_quiz: "vocab-101" });
    const dan = await addParticipant(quizId, "dan");
    const stream = await Stream.open(quizId, dan);
    await stream.next();

    const session = await call("GET", `/api/v1/sessions/${quizId}`);
    const pin = session.body.pin as string;
    const sdk = await connectClient(`${wsBase}/ws/v1`);
    clients.push(sdk);
    const log = new EventLog(sdk, ["leaderboard"]);
    const joined = await sdk.join({ pin, displayName: "Cara" });
    const cara = joined.joined.participant_id;
    // The quiz is running: the first question is served with the join (M-3).
    expect(joined.state.phase.question?.id).toBe("q1");

    const c1 = await sdk.answer(0, { choice: 0 });
    const c2 = await sdk.answer(1, { choice: 1 });
    expect([c1.correct, c2.correct]).toEqual([true, true]);
    const d1 = await submit(quizId, dan, "q1", "elated");
    expect(d1.correct).toBe(true);

    // The stream, the REST leaderboard and the canonical player's leaderboard agree.
    const board = await stream.next(
      (b) => scoreOf(b, cara) === c2.score && scoreOf(b, dan) === d1.score,
    );
    expect(board.leaderboard.map((e) => [e.username, e.score, e.rank])).toEqual([
      ["Cara", c2.score, 1],
      ["dan", d1.score, 2],
    ]);
    const pushed = await log.wait<ServerData<"leaderboard">>("leaderboard", (l) =>
      l.leaderboard.some((s) => s.participant_id === dan && s.score === d1.score),
    );
    expect(
      pushed.leaderboard.map((s) => ({
        participant_id: s.participant_id,
        username: s.name,
        score: s.score,
        rank: s.rank,
      })),
    ).toEqual(board.leaderboard);
    expect(pushed.total_players).toBe(board.total_participants);
    expect(pushed.your_rank).toBe(1);
    expect(content(await leaderboard(quizId))).toEqual(content(board));
  });
});

describe("seed 002 streams on a live session", () => {
  it("M-1: a live game's board reaches the stream at each reveal, never while a question is open", async () => {
    const host = await connectClient(`${wsBase}/ws/v1`);
    clients.push(host);
    const room = await host.createRoom({ quizId: "vocab-101", mode: "live", hostName: "Host" });
    const players: QuizwireClient[] = [];
    const ids: string[] = [];
    for (const name of ["Ivy", "Jon"]) {
      const c = await connectClient(`${wsBase}/ws/v1`);
      clients.push(c);
      players.push(c);
      ids.push((await c.join({ pin: room.pin, displayName: name })).joined.participant_id);
    }
    const [ivy, jon] = ids as [string, string];
    const [ivyClient, jonClient] = players as [QuizwireClient, QuizwireClient];
    const stream = await Stream.open(room.roomId, jon);
    expect((await stream.next()).leaderboard.map((e) => e.username)).toEqual(["Ivy", "Jon"]);

    const question = new EventLog(ivyClient, ["question"]);
    await host.start();
    await question.wait("question");
    const a = await ivyClient.answer(0, { choice: 0 });
    const b = await jonClient.answer(0, { choice: 0 });
    expect([a.correct, b.correct]).toEqual([true, true]);
    // Both answered: the question closes and is revealed; the stream shows both scores at once.
    const revealed = await stream.next((m) => m.leaderboard.every((e) => e.score > 0));
    expect(revealed.leaderboard.map((e) => [e.participant_id, e.score, e.rank])).toEqual([
      [ivy, a.score, 1],
      [jon, b.score, 2],
    ]);
    // Ivy's answer was stored before Jon's, yet no message ever showed her score alone.
    expect(
      stream.messages.filter((m) => scoreOf(m, ivy) === a.score && scoreOf(m, jon) === 0),
    ).toEqual([]);

    await host.end();
    expect(await stream.closed()).toBe(1000);
  });
});

describe("seed 002 on a quiz that ended and left memory", () => {
  let t2: TestApp;
  let base2: string;
  beforeAll(async () => {
    t2 = await createTestApp({ ENDED_RETENTION_MS: "0" });
    base2 = `http://127.0.0.1:${await t2.app.listen()}`;
  });
  afterAll(async () => {
    await t2.close();
  });

  it("the final board comes from storage: GET leaderboard, and a stream's snapshot then close 1000", async () => {
    const post = (path: string, body?: unknown) =>
      fetch(`${base2}${path}`, {
        method: "POST",
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as Record<string, string>,
      }));
    const quizId = (await post("/quizzes", { from_quiz: "vocab-101" })).body.quiz_id!;
    const kim = (await post(`/quizzes/${quizId}/participants`, { username: "kim" })).body
      .participant_id!;
    const ack = await post(`/quizzes/${quizId}/answers`, {
      participant_id: kim,
      question_id: "q1",
      answer: "elated",
    });
    expect(ack.status).toBe(200);
    expect((await post(`/api/v1/sessions/${quizId}/end`)).status).toBe(200);
    await eventually("the ended quiz to be unloaded", () => t2.app.sessions.find(quizId), {
      until: (handle) => handle === undefined,
    });

    const res = await fetch(`${base2}/quizzes/${quizId}/leaderboard`);
    const board = (await res.json()) as Board;
    expect(board.leaderboard).toEqual([
      { participant_id: kim, username: "kim", score: Number(ack.body.score), rank: 1 },
    ]);
    const ws = new WebSocket(
      `${base2.replace("http", "ws")}/quizzes/${quizId}/ws?participant_id=${kim}`,
    );
    const got: Board[] = [];
    ws.on("message", (d) => got.push(JSON.parse(String(d)) as Board));
    const code = await new Promise<number>((resolve) => ws.on("close", (c) => resolve(c)));
    expect(code).toBe(1000);
    expect(got.map(content)).toEqual([content(board)]);
    expect(
      (await post(`/quizzes/${quizId}/participants`, { username: "late" })).body,
    ).toMatchObject({ code: "STATE", reason: "room_ended" });
  });
});

describe("seed 002 in the OpenAPI document", () => {
  it("documents the REST family with tags and summaries", async () => {
    const res = await fetch(`${base}/openapi.json`);
    const doc = (await res.json()) as {
      paths: Record<string, Record<string, { tags?: string[]; summary?: string }>>;
    };
    const routes: Array<[string, string]> = [
      ["/quizzes", "post"],
      ["/quizzes/{quizId}/participants", "post"],
      ["/quizzes/{quizId}/answers", "post"],
      ["/quizzes/{quizId}/leaderboard", "get"],
      ["/quizzes/{quizId}/ws", "get"],
    ];
    for (const [path, method] of routes) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op?.tags).toEqual(["seed 002"]);
      expect(op?.summary).toBeTruthy();
    }
  });
});

// ------------------------------------------------------------------ missed events

/**
 * A session as another instance sees it (src/engine/cluster/session-proxy.ts):
 * it can lose events on the way (then signals a resync, as the proxy does on a
 * sequence gap) and lose its owner (commands answer UNAVAILABLE).
 */
class LossyHandle implements RoomHandle {
  dropping = false;
  unreachable = false;
  private readonly resyncs = new Set<() => void>();

  constructor(private readonly inner: RoomHandle) {}

  get id() {
    return this.inner.id;
  }

  get info() {
    return this.inner.info;
  }

  execute<C extends Command>(
    actor: Actor,
    command: C,
    opts?: ExecuteOptions,
  ): Promise<Reply<ResultOf<C>>> {
    if (!this.unreachable) return this.inner.execute(actor, command, opts);
    return Promise.resolve({
      ok: false,
      error: { code: "UNAVAILABLE", msg: "owner out of reach", reason: "owner_unreachable" },
    });
  }

  subscribe(listener: RoomListener, onResync?: () => void): () => void {
    const off = this.inner.subscribe((e) => {
      if (!this.dropping) listener(e);
    });
    if (onResync) this.resyncs.add(onResync);
    return () => {
      off();
      if (onResync) this.resyncs.delete(onResync);
    };
  }

  /** Events flow again and subscribers are told some were missed. */
  recover(): void {
    this.dropping = false;
    for (const r of [...this.resyncs]) r();
  }
}

describe("seed 002 streams after missed events (a stream served by another instance)", () => {
  let door: LeaderboardStreamDoor;
  let server: Server;
  let at: string;
  const handles = new Map<string, LossyHandle>();

  beforeAll(async () => {
    door = new LeaderboardStreamDoor({
      config: t.app.config,
      origins: OriginPolicy.fromConfig(t.app.config),
      clock: new SystemClock(),
      metrics: t.app.metrics,
      log: t.app.log,
      limiter: new MemoryRateLimiter(new SystemClock()),
      sessions: {
        find: async (id) => {
          const known = handles.get(id);
          if (known) return known;
          const inner = await t.app.sessions.find(id);
          if (!inner) return undefined;
          const lossy = new LossyHandle(inner);
          handles.set(id, lossy);
          return lossy;
        },
        load: (id) => t.app.sessions.load(id),
      },
    });
    server = createServer();
    server.on("upgrade", (req, socket, head) => door.handleUpgrade(req, socket, head));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    at = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    door.shutdown();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("L-1: after a resync the stream shows the board as it is, removed participants' streams close (4003), a missed end closes (1000)", async () => {
    const quizId = await createQuiz({ from_quiz: "vocab-101" });
    const ann = await addParticipant(quizId, "ann");
    const bob = await addParticipant(quizId, "bob");
    const cy = await addParticipant(quizId, "cy");
    const annStream = await Stream.open(quizId, ann, at);
    const cyStream = await Stream.open(quizId, cy, at);
    expect((await annStream.next()).total_participants).toBe(3);
    await cyStream.next();
    const lossy = handles.get(quizId)!;

    // Bob scores and Cy is removed while this instance hears nothing.
    lossy.dropping = true;
    const b1 = await submit(quizId, bob, "q1", "elated");
    expect(b1.correct).toBe(true);
    expect(
      (await call("POST", `/api/v1/sessions/${quizId}/kick`, { participant_id: cy })).status,
    ).toBe(200);
    lossy.recover();

    const caughtUp = await annStream.next((b) => scoreOf(b, bob) === b1.score);
    expect(caughtUp.leaderboard.map((e) => [e.username, e.score, e.rank])).toEqual([
      ["bob", b1.score, 1],
      ["ann", 0, 2],
    ]);
    expect(caughtUp.total_participants).toBe(2);
    expect(content(caughtUp)).toEqual(content(await leaderboard(quizId)));
    expect(await cyStream.closed()).toBe(4003);

    // The end is missed too: the resync finds it and closes the stream normally.
    lossy.dropping = true;
    expect((await call("POST", `/api/v1/sessions/${quizId}/end`)).status).toBe(200);
    lossy.recover();
    expect(await annStream.closed()).toBe(1000);
    expect(content(annStream.last!)).toEqual(content(await leaderboard(quizId)));
  });

  it("an owner out of reach: a resync closes the stream with 1011, an upgrade is refused with 503", async () => {
    const quizId = await createQuiz({ from_quiz: "vocab-101" });
    const dee = await addParticipant(quizId, "dee");
    const stream = await Stream.open(quizId, dee, at);
    await stream.next();
    const lossy = handles.get(quizId)!;

    lossy.unreachable = true;
    lossy.recover();
    expect(await stream.closed()).toBe(1011);
    expect(await refusal(`/quizzes/${quizId}/ws?participant_id=${dee}`, at)).toEqual({
      status: 503,
      body: "WebSocket upgrade failed: quiz temporarily unavailable",
    });

    // Back in reach: a reconnect gets a fresh snapshot.
    lossy.unreachable = false;
    const again = await Stream.open(quizId, dee, at);
    expect(content(await again.next())).toEqual(content(await leaderboard(quizId)));
  });
});
