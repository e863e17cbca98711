import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import { MemoryRateLimiter } from "../../src/adapters/memory/memory-rate-limiter.js";
import { MemoryReplayCache } from "../../src/adapters/memory/memory-replay-cache.js";
import { IdentityService } from "../../src/auth/identity.js";
import { loadConfig } from "../../src/config.js";
import { asParticipantId, asUserId, type ParticipantId } from "../../src/domain/ids.js";
import { publicQuestion } from "../../src/domain/quiz.js";
import { SeededRandom } from "../../src/domain/seeded-random.js";
import {
  DEFAULT_LIMITS as CONTEST_LIMITS,
  ContestDoor,
} from "../../src/doors/contest/contest-door.js";
import { OriginPolicy } from "../../src/doors/origin-policy.js";
import type { RoomHandle } from "../../src/engine/room-handle.js";
import type {
  Command,
  EventBody,
  FinalResult,
  JoinResult,
  MemberInfo,
  PhaseView,
  PublicParticipant,
  Reply,
  ResultOf,
  RoomEvent,
  Snapshot,
  Standing,
} from "../../src/engine/types.js";
import { Metrics } from "../../src/observability/metrics.js";
import { type App, createApp } from "../../src/server/app.js";
import { FakeSocket } from "../support/fake-socket.js";
import { sessionRecord, threeQuestions } from "../support/fixtures.js";
import { deleteKeys, randomKeyPrefix } from "../support/redis.js";
import { redisAvailable, requireOrSkip, TEST_REDIS_URL } from "../support/services.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

/**
 * A seed 004 client written from the seed alone: fetch for POST /login and
 * POST /api/contests, a raw WebSocket for /ws/contests/{id}?token=…, messages
 * `{type, payload}` in and `{type, …fields}` out. The server runs on a
 * FakeClock, so the seed's 15 s question timer, 2 s reveal and 10 s close are
 * the real ones, moved on by the test instead of waited for.
 */

const SECRET = "seed004-shared-secret-of-another-app";
const otherApp = new TextEncoder().encode(SECRET);

// biome-ignore lint/suspicious/noExplicitAny: the client knows only the seed's JSON, not our types
type Payload = Record<string, any>;
interface Frame {
  type: string;
  payload: Payload;
}

/** A contest connection as a seed client would hold it. */
class ContestSocket {
  readonly frames: Frame[] = [];
  closeCode: number | null = null;
  closeReason = "";
  private waiters: Array<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  private closeWaiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const f = JSON.parse(String(data)) as Frame;
      this.frames.push(f);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(f)) return true;
        w.resolve(f);
        return false;
      });
    });
    ws.on("close", (code, reason) => {
      this.closeCode = code;
      this.closeReason = String(reason);
      for (const w of this.closeWaiters) w();
    });
  }

  static open(url: string): Promise<ContestSocket> {
    const ws = new WebSocket(url);
    const s = new ContestSocket(ws);
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(s));
      ws.once("error", reject);
    });
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === "string" ? msg : JSON.stringify(msg));
  }

  /** The first frame (received already or still to come) of `type` matching `where`. */
  next(type: string, where: (p: Payload) => boolean = () => true): Promise<Payload> {
    const match = (f: Frame) => f.type === type && where(f.payload);
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen.payload);
    return new Promise((resolve) =>
      this.waiters.push({ match, resolve: (f) => resolve(f.payload) }),
    );
  }

  /** The `n`-th frame of `type` (1-based), received already or still to come. */
  nth(type: string, n: number): Promise<Payload> {
    let seen = 0;
    return this.next(type, () => ++seen === n);
  }

  all(type: string): Payload[] {
    return this.frames.filter((f) => f.type === type).map((f) => f.payload);
  }

  closed(): Promise<void> {
    if (this.closeCode !== null) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  close(): void {
    this.ws.close();
  }
}

let t: TestApp;
let clock: FakeClock;
let http: string;
let wsBase: string;
const sockets: ContestSocket[] = [];

beforeAll(async () => {
  clock = new FakeClock(Date.now());
  t = await createTestApp({ JWT_SECRET: SECRET }, { clock });
  const port = await t.app.listen();
  http = `http://127.0.0.1:${port}`;
  wsBase = `ws://127.0.0.1:${port}`;
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await t.close();
});

async function post(
  path: string,
  body: unknown,
  token?: string,
  base = http,
): Promise<{ status: number; body: Payload }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Payload };
}

async function login(username: string): Promise<{ token: string; user_id: string }> {
  const res = await post("/login", { username, password: "dummy" });
  expect(res.status).toBe(200);
  return res.body as { token: string; user_id: string };
}

/** A token as another application (sharing JWT_SECRET) would mint it. */
function mint(userId: string, username: string, expiresIn: string | number = "2h") {
  return new SignJWT({ user_id: userId, username })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(otherApp);
}

async function createContest(token: string, difficulty = "easy", count = 3, base = http) {
  const res = await post("/api/contests", { difficulty, question_count: count }, token, base);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { contest_id: string; websocket_url: string };
}

async function connect(websocketUrl: string, token: string, base = wsBase): Promise<ContestSocket> {
  const s = await ContestSocket.open(`${base}${websocketUrl}?token=${token}`);
  sockets.push(s);
  return s;
}

/** How an upgrade is refused: the HTTP status and body, or 101 when it is accepted. */
function upgrade(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, body });
        ws.terminate();
      });
    });
    ws.on("open", () => {
      resolve({ status: 101, body: "" });
      ws.close();
    });
    ws.on("error", () => undefined);
  });
}

/** The correct option's text for every bank question (the test's oracle, not the client's). */
async function answerKey(): Promise<Map<string, { right: string; wrong: string }>> {
  const key = new Map<string, { right: string; wrong: string }>();
  for (const q of await t.app.storage.bank.list()) {
    const right = q.options[q.correct[0] ?? 0] ?? "";
    key.set(q.id, { right, wrong: q.options.find((o) => o !== right) ?? "" });
  }
  return key;
}

describe("seed 004: a quick-fire contest from login to close", () => {
  it("M-2, T-4: three players play three questions; results are stored; the contest closes 10 s after GAME_OVER", async () => {
    const key = await answerKey();
    const alice = await login("alice");
    const bob = await login("bob");
    const cyd = await login("cyd");
    expect(alice.user_id).toMatch(/^user_alice_\d+$/);

    const contest = await createContest(alice.token, "easy", 3);
    expect(contest.websocket_url).toBe(`/ws/contests/${contest.contest_id}`);

    // Waiting room: PLAYER_JOINED to everyone, with the host flag and the growing roster.
    const a = await connect(contest.websocket_url, alice.token);
    const aJoined = await a.next("PLAYER_JOINED");
    expect(aJoined).toMatchObject({
      user_id: alice.user_id,
      username: "alice",
      is_host: true,
      player_count: 1,
    });
    expect(aJoined.players).toEqual([
      { user_id: alice.user_id, username: "alice", score: 0, is_host: true },
    ]);
    const b = await connect(contest.websocket_url, bob.token);
    const bJoined = await b.next("PLAYER_JOINED", (p) => p.user_id === bob.user_id);
    expect(bJoined).toMatchObject({ username: "bob", is_host: false, player_count: 2 });
    expect(bJoined.players.map((p: Payload) => p.username)).toEqual(["alice", "bob"]);
    await a.next("PLAYER_JOINED", (p) => p.user_id === bob.user_id);
    const c = await connect(contest.websocket_url, cyd.token);
    const cJoined = await c.next("PLAYER_JOINED", (p) => p.user_id === cyd.user_id);
    expect(cJoined.player_count).toBe(3);
    for (const s of [a, b]) {
      const seen = await s.next("PLAYER_JOINED", (p) => p.user_id === cyd.user_id);
      expect(seen.players.map((p: Payload) => p.username)).toEqual(["alice", "bob", "cyd"]);
    }
    const everyone = [a, b, c];

    // only the host starts.
    b.send({ type: "START_GAME" });
    expect(await b.next("ERROR")).toMatchObject({ code: "FORBIDDEN", reason: "not_host" });
    expect(a.all("CONTEST_STARTED")).toEqual([]);

    a.send({ type: "START_GAME" });
    for (const s of everyone) {
      const started = await s.next("CONTEST_STARTED");
      expect(started.total_questions).toBe(3);
      expect(started.players).toHaveLength(3);
    }
    const q1 = await a.next("NEW_QUESTION");
    expect(q1).toMatchObject({ question_number: 1, total_questions: 3, timer: 15 });
    expect(q1.options.length).toBeGreaterThan(1);
    for (const s of everyone) {
      expect(await s.next("NEW_QUESTION")).toEqual(q1);
    }
    const k1 = key.get(q1.question_id)!;

    // A wrong answer: only the answerer hears, with the correct answer.
    b.send({ type: "SUBMIT_ANSWER", question_id: q1.question_id, answer: k1.wrong });
    expect(await b.next("ANSWER_RESULT")).toEqual({ is_correct: false, correct_answer: k1.right });

    // The first correct answer scores, everyone sees it, the question is over for all (T-4).
    a.send({ type: "SUBMIT_ANSWER", question_id: q1.question_id, answer: k1.right });
    const aResult = await a.next("ANSWER_RESULT");
    // S-1: the clock did not move while the question was open, so the answer is worth the full 1000.
    expect(aResult).toMatchObject({ is_correct: true, points_awarded: 1_000, new_score: 1_000 });
    expect(typeof aResult.time_taken).toBe("number");
    for (const s of everyone) {
      expect(await s.next("SCORE_UPDATE")).toEqual({
        user_id: alice.user_id,
        username: "alice",
        score: aResult.new_score,
        points_earned: aResult.points_awarded,
      });
    }
    c.send({ type: "SUBMIT_ANSWER", question_id: q1.question_id, answer: k1.right });
    expect(await c.next("ERROR")).toMatchObject({ code: "STATE", reason: "not_open" });

    // After the reveal (2 s) the next question reaches everyone.
    clock.advance(2_000);
    const q2s = await Promise.all(everyone.map((s) => s.next("NEW_QUESTION", isNumber(2))));
    const q2 = q2s[0]!;
    expect(q2s.every((q) => q.question_id === q2.question_id)).toBe(true);
    expect(q2.question_id).not.toBe(q1.question_id);

    // Nobody gets question 2 right: the 15 s timer moves the contest on (T-3).
    const k2 = key.get(q2.question_id)!;
    c.send({ type: "SUBMIT_ANSWER", question_id: q2.question_id, answer: k2.wrong });
    expect(await c.next("ANSWER_RESULT")).toEqual({ is_correct: false, correct_answer: k2.right });
    clock.advance(14_999);
    // A round trip on the same socket: anything sent before its reply has arrived by then.
    await barrier(a);
    expect(a.all("NEW_QUESTION")).toHaveLength(2);
    clock.advance(1 + 2_000);
    const q3 = await a.next("NEW_QUESTION", isNumber(3));
    for (const s of [b, c]) await s.next("NEW_QUESTION", isNumber(3));

    // Bob takes question 3; the contest ends after its reveal.
    b.send({
      type: "SUBMIT_ANSWER",
      question_id: q3.question_id,
      answer: key.get(q3.question_id)!.right,
    });
    const bResult = await b.nth("ANSWER_RESULT", 2);
    expect(bResult.is_correct).toBe(true);
    for (const s of everyone) await s.next("SCORE_UPDATE", (p) => p.user_id === bob.user_id);
    clock.advance(2_000);
    const overs = await Promise.all(everyone.map((s) => s.next("GAME_OVER")));
    const over = overs[0]!;
    expect(overs.every((o) => JSON.stringify(o) === JSON.stringify(over))).toBe(true);
    expect(over.message).toBe("Contest finished!");
    // L-1, L-2: equal scores rank by who reached the score first.
    expect(over.final_scoreboard).toEqual([
      {
        user_id: alice.user_id,
        username: "alice",
        score: 1_000,
        is_host: true,
        rank: 1,
      },
      { user_id: bob.user_id, username: "bob", score: 1_000, is_host: false, rank: 2 },
      { user_id: cyd.user_id, username: "cyd", score: 0, is_host: false, rank: 3 },
    ]);
    expect(over.questions).toEqual(
      [q1, q2, q3].map((q) => ({
        question_id: q.question_id,
        question_text: q.question_text,
        correct_answer: key.get(q.question_id)!.right,
      })),
    );

    // Results are saved.
    const res = await fetch(`${http}/api/v1/sessions/${contest.contest_id}/results`);
    expect(res.status).toBe(200);
    const results = (await res.json()) as Payload;
    expect(results.session.phase).toBe("ended");
    expect(results.players.map((p: Payload) => [p.user_id, p.score, p.rank])).toEqual(
      over.final_scoreboard.map((e: Payload) => [e.user_id, e.score, e.rank]),
    );

    // Within the 10 s a reconnecting player still gets the final results.
    const late = await connect(contest.websocket_url, cyd.token);
    expect(await late.next("GAME_OVER")).toEqual(over);

    // 10 s after GAME_OVER the contest closes its sockets; later connections are refused.
    clock.advance(9_999);
    await barrier(a);
    expect(a.closeCode).toBeNull();
    clock.advance(1);
    for (const s of [...everyone, late]) {
      await s.closed();
      expect(s.closeCode).toBe(1000);
      expect(s.closeReason).toBe("contest closed");
    }
    const refused = await upgrade(`${wsBase}${contest.websocket_url}?token=${alice.token}`);
    expect(refused).toEqual({ status: 410, body: "WebSocket upgrade failed: contest closed" });
  });
});

let barriers = 0;
/** Waits for the reply to a message the server refuses (an ERROR), as a marker in the stream. */
async function barrier(s: ContestSocket): Promise<void> {
  barriers += 1;
  const type = `BARRIER_${barriers}`;
  s.send({ type });
  const closed = s.closed().then(() => {
    throw new Error(`socket closed (${s.closeCode}) before the ${type} round trip`);
  });
  await Promise.race([
    s.next("ERROR", (p) => p.message === `unknown message type "${type}"`),
    closed,
  ]);
}

function isNumber(n: number) {
  return (p: Payload) => p.question_number === n;
}

describe("seed 004: contest rooms", () => {
  it("R-6: six players at most; a seventh is refused with a clear message; a returning user is the same player", async () => {
    const host = await mint("ext-host", "host");
    const contest = await createContest(host);
    const tokens = [host];
    for (let i = 1; i <= 5; i++) tokens.push(await mint(`ext-${i}`, `p${i}`));
    const socks: ContestSocket[] = [];
    for (const tok of tokens) {
      const s = await connect(contest.websocket_url, tok);
      await s.next("PLAYER_JOINED");
      socks.push(s);
    }
    expect(
      (await socks[0]!.next("PLAYER_JOINED", (p) => p.player_count === 6)).players,
    ).toHaveLength(6);

    const seventh = await connect(contest.websocket_url, await mint("ext-7", "p7"));
    expect(await seventh.next("ERROR")).toMatchObject({ code: "STATE", reason: "room_full" });
    await seventh.closed();
    expect(seventh.closeCode).toBe(4009);
    expect(seventh.closeReason).toBe("this room is full");

    // The same user again (a reconnect or a second tab) is not a seventh player.
    socks[3]!.close();
    await socks[3]!.closed();
    const back = await connect(contest.websocket_url, tokens[3]!);
    expect(await back.next("PLAYER_JOINED")).toMatchObject({
      user_id: "ext-3",
      username: "p3",
      is_host: false,
      player_count: 6,
    });
  });

  it("N-1: a username already playing gets a numbered suffix", async () => {
    const contest = await createContest(await mint("sam-1", "sam"));
    const first = await connect(contest.websocket_url, await mint("sam-1", "sam"));
    expect((await first.next("PLAYER_JOINED")).username).toBe("sam");
    const second = await connect(contest.websocket_url, await mint("sam-2", "Sam"));
    const joined = await second.next("PLAYER_JOINED");
    expect(joined).toMatchObject({ user_id: "sam-2", username: "Sam (2)", player_count: 2 });
    expect(joined.players.map((p: Payload) => p.username)).toEqual(["sam", "Sam (2)"]);
  });

  it("a player who joins mid-contest is sent the contest and the open question", async () => {
    const host = await mint("mid-host", "mia");
    const contest = await createContest(host, "medium", 2);
    const h = await connect(contest.websocket_url, host);
    await h.next("PLAYER_JOINED");
    h.send({ type: "START_GAME" });
    const q1 = await h.next("NEW_QUESTION");
    clock.advance(5_000);
    const late = await connect(contest.websocket_url, await mint("mid-late", "lou"));
    expect(await late.next("PLAYER_JOINED")).toMatchObject({ username: "lou", player_count: 2 });
    expect((await late.next("CONTEST_STARTED")).total_questions).toBe(2);
    expect(await late.next("NEW_QUESTION")).toEqual({ ...q1, timer: 10 });
  });
});

describe("seed 004: the seed's pages log in once per page", () => {
  it("R-1: the creator's game page (a second /login, a second later) is the host's own seat and starts the contest; another name cannot", async () => {
    // /api/contest/create-realtime: one /login, whose token creates the contest.
    const created = await login("nora");
    const contest = await createContest(created.token, "easy", 2);
    // /api/contest/token, when the game page opens: another /login at least a second later.
    clock.advance(1_000);
    const page = await login("nora");
    expect(page.user_id).not.toBe(created.user_id);
    expect(page.user_id).toMatch(/^user_nora_\d+$/);

    const n = await connect(contest.websocket_url, page.token);
    const joined = await n.next("PLAYER_JOINED");
    expect(joined).toMatchObject({
      user_id: created.user_id,
      username: "nora",
      is_host: true,
      player_count: 1,
    });
    expect(joined.players).toEqual([
      { user_id: created.user_id, username: "nora", score: 0, is_host: true },
    ]);

    // Another username, logged in the seed's way, is a player and cannot start.
    clock.advance(1_000);
    const otto = await login("otto");
    const o = await connect(contest.websocket_url, otto.token);
    expect(await o.next("PLAYER_JOINED")).toMatchObject({
      user_id: otto.user_id,
      username: "otto",
      is_host: false,
      player_count: 2,
    });
    o.send({ type: "START_GAME" });
    expect(await o.next("ERROR")).toMatchObject({ code: "FORBIDDEN", reason: "not_host" });

    // A token of the same username whose user id /login did not mint is someone else.
    const namesake = await connect(contest.websocket_url, await mint("ext-nora", "nora"));
    expect(await namesake.next("PLAYER_JOINED")).toMatchObject({
      user_id: "ext-nora",
      username: "nora (2)",
      is_host: false,
      player_count: 3,
    });
    namesake.send({ type: "START_GAME" });
    expect(await namesake.next("ERROR")).toMatchObject({ code: "FORBIDDEN", reason: "not_host" });

    // Otto reloads the game page: a third login, the same seat, not a fourth player.
    clock.advance(1_000);
    const reload = await login("otto");
    expect(reload.user_id).not.toBe(otto.user_id);
    const o2 = await connect(contest.websocket_url, reload.token);
    expect(await o2.next("PLAYER_JOINED")).toMatchObject({
      user_id: otto.user_id,
      username: "otto",
      is_host: false,
      player_count: 3,
    });

    n.send({ type: "START_GAME" });
    for (const s of [n, o, namesake, o2]) {
      const started = await s.next("CONTEST_STARTED");
      expect(started.players.map((p: Payload) => [p.username, p.is_host])).toEqual([
        ["nora", true],
        ["otto", false],
        ["nora (2)", false],
      ]);
    }
    expect((await n.next("NEW_QUESTION")).question_number).toBe(1);
  });
});

describe("seed 004: tokens and contests over REST", () => {
  it("bad, expired and missing tokens are refused before the upgrade with 401; unknown contests with 404", async () => {
    const contest = await createContest(await mint("tok-host", "tess"));
    const at = `${wsBase}${contest.websocket_url}`;
    expect((await upgrade(`${at}?token=not-a-jwt`)).status).toBe(401);
    expect((await upgrade(at)).status).toBe(401);
    const expired = await mint("tok-old", "old", Math.floor(Date.now() / 1000) - 60);
    expect(await upgrade(`${at}?token=${expired}`)).toEqual({
      status: 401,
      body: "WebSocket upgrade failed: token expired",
    });
    const forged = await new SignJWT({ user_id: "x", username: "x" })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("not-the-secret-not-the-secret!!"));
    expect((await upgrade(`${at}?token=${forged}`)).status).toBe(401);
    const good = await mint("tok-ok", "okay");
    expect((await upgrade(`${wsBase}/ws/contests/no-such-contest?token=${good}`)).status).toBe(404);
    expect((await upgrade(`${at}?token=${good}`)).status).toBe(101);
  });

  it("a token minted by another application with the same JWT_SECRET is accepted everywhere", async () => {
    const token = await mint("user_ext_42", "ext");
    const contest = await createContest(token, "hard", 2);
    const s = await connect(contest.websocket_url, token);
    expect(await s.next("PLAYER_JOINED")).toMatchObject({
      user_id: "user_ext_42",
      username: "ext",
      is_host: true,
    });
  });

  it("POST /login issues a 2-hour HS256 token with user_id and username", async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await post("/login", { username: "zoe", password: "anything" });
    expect(res.status).toBe(200);
    expect(res.body.username).toBe("zoe");
    expect(res.body.user_id).toBe(`user_zoe_${Math.floor(clock.now() / 1000)}`);
    const [, claims] = (res.body.token as string).split(".");
    const decoded = JSON.parse(Buffer.from(claims!, "base64url").toString()) as Payload;
    expect(decoded).toMatchObject({ user_id: res.body.user_id, username: "zoe" });
    expect(decoded.exp - before).toBeGreaterThanOrEqual(7_199);
    expect(decoded.exp - before).toBeLessThanOrEqual(7_201);

    expect((await post("/login", { password: "x" })).body).toMatchObject({
      code: "VALIDATION",
    });
    expect((await post("/login", { username: "   " })).status).toBe(400);
  });

  it("POST /api/contests needs a valid token (401) and valid fields (400)", async () => {
    const body = { difficulty: "easy", question_count: 3 };
    expect((await post("/api/contests", body)).status).toBe(401);
    expect((await post("/api/contests", body, "not.a.jwt")).status).toBe(401);
    const token = await mint("rest-user", "rita");
    const bad = await post("/api/contests", { difficulty: "extreme", question_count: 3 }, token);
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe("VALIDATION");
    expect(
      (await post("/api/contests", { difficulty: "easy", question_count: 0 }, token)).status,
    ).toBe(400);
  });

  it("a bank too small for the contest is a 409 that says how many questions it has", async () => {
    const available = (await t.app.storage.bank.countByDifficulty()).hard;
    const res = await post(
      "/api/contests",
      { difficulty: "hard", question_count: available + 1 },
      await mint("bank-user", "bea"),
    );
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: "STATE", reason: "bank_short" });
    expect(res.body.message).toContain(`only ${available} hard`);
  });

  it("LOGIN_ENABLED=false removes POST /login", async () => {
    const off = await createTestApp({ JWT_SECRET: SECRET, LOGIN_ENABLED: "false" });
    try {
      const res = await off.app.fastify.inject({
        method: "POST",
        url: "/login",
        payload: { username: "x", password: "y" },
      });
      expect(res.statusCode).toBe(404);
    } finally {
      await off.close();
    }
  });
});

describe("seed 004: hostile input", () => {
  it("bad frames get an ERROR and change nothing; repeated garbage closes the connection (4002)", async () => {
    const host = await mint("hostile-host", "hal");
    const contest = await createContest(host);
    const s = await connect(contest.websocket_url, host);
    await s.next("PLAYER_JOINED");

    s.send("{not json");
    expect(await s.next("ERROR")).toMatchObject({ code: "VALIDATION", reason: "bad_json" });
    s.send({ type: "HACK_THE_PLANET" });
    expect(await s.next("ERROR", (p) => p.reason !== "bad_json")).toMatchObject({
      reason: "unknown_type",
    });
    s.send({ type: "SUBMIT_ANSWER", payload: { question_id: "x", answer: "y" } });
    expect(await s.next("ERROR", (p) => p.reason === "bad_data")).toMatchObject({
      code: "VALIDATION",
    });
    s.send(JSON.stringify({ type: "SUBMIT_ANSWER", question_id: "q", answer: "x".repeat(11_000) }));
    expect(await s.next("ERROR", (p) => p.reason === "frame_too_large")).toMatchObject({
      code: "VALIDATION",
    });
    // Nothing changed: the contest still waits for its host, who can start it.
    expect(s.all("CONTEST_STARTED")).toEqual([]);
    s.send({ type: "START_GAME" });
    expect((await s.next("NEW_QUESTION")).question_number).toBe(1);

    for (let i = 0; i < 20; i++) s.send("garbage");
    await s.closed();
    expect(s.closeCode).toBe(4002);
  });
});

// ------------------------------------------------------------------ several instances

const redis = requireOrSkip(await redisAvailable());

describe.skipIf(redis.skip)(redis.title("seed 004: a contest run by another instance"), () => {
  const shared = new FakeClock(Date.now());
  let dir = "";
  let prefix = "";
  const apps: App[] = [];
  /** [http, ws] base URLs of instance one (runs the contest) and two (reaches it through Redis). */
  const bases: Array<{ http: string; ws: string }> = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "quizwire-seed004-"));
    prefix = randomKeyPrefix();
    // Two instances sharing one database and one Redis, as behind a load balancer.
    for (let i = 0; i < 2; i++) {
      const config = loadConfig({
        DATA_DIR: dir,
        PORT: "0",
        HOST: "127.0.0.1",
        LOG_LEVEL: "silent",
        JWT_SECRET: SECRET,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: prefix,
        EVENT_LOOP_LAG_LIMIT_MS: "0",
      });
      const app = await createApp({ config, clock: shared });
      apps.push(app);
      const port = await app.listen();
      bases.push({ http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}` });
    }
  }, 30_000);

  afterAll(async () => {
    for (const app of apps.reverse()) await app.close();
    await rm(dir, { recursive: true, force: true });
    if (prefix) await deleteKeys(TEST_REDIS_URL, prefix);
  });

  it("M-2, T-4: players on the other instance get rosters, scores and GAME_OVER; it closes 10 s later there too", async () => {
    const key = await answerKey();
    const [one, two] = bases as [{ http: string; ws: string }, { http: string; ws: string }];
    const alice = { id: "x-alice", token: await mint("x-alice", "alice") };
    const bob = { id: "x-bob", token: await mint("x-bob", "bob") };
    const cyd = { id: "x-cyd", token: await mint("x-cyd", "cyd") };
    const contest = await createContest(alice.token, "easy", 2, one.http);

    const a = await connect(contest.websocket_url, alice.token, one.ws);
    await a.next("PLAYER_JOINED");
    // Bob and Cyd play through instance two: its door knows the roster only from events.
    const b = await connect(contest.websocket_url, bob.token, two.ws);
    expect(
      (await b.next("PLAYER_JOINED")).players.map((p: Payload) => [p.username, p.is_host]),
    ).toEqual([
      ["alice", true],
      ["bob", false],
    ]);
    await a.next("PLAYER_JOINED", (p) => p.user_id === bob.id);
    const c = await connect(contest.websocket_url, cyd.token, two.ws);
    await c.next("PLAYER_JOINED");
    for (const s of [a, b]) {
      const seen = await s.next("PLAYER_JOINED", (p) => p.user_id === cyd.id);
      expect(seen.player_count).toBe(3);
      expect(seen.players.map((p: Payload) => p.username)).toEqual(["alice", "bob", "cyd"]);
    }
    const everyone = [a, b, c];

    a.send({ type: "START_GAME" });
    for (const s of everyone) {
      expect((await s.next("CONTEST_STARTED")).players).toHaveLength(3);
    }
    const q1 = await a.next("NEW_QUESTION");
    for (const s of [b, c]) expect(await s.next("NEW_QUESTION")).toEqual(q1);

    // Bob's answer is forwarded to instance one; everyone hears of it.
    b.send({
      type: "SUBMIT_ANSWER",
      question_id: q1.question_id,
      answer: key.get(q1.question_id)!.right,
    });
    expect(await b.next("ANSWER_RESULT")).toMatchObject({ is_correct: true, new_score: 1_000 });
    for (const s of everyone) {
      expect(await s.next("SCORE_UPDATE")).toMatchObject({ user_id: bob.id, score: 1_000 });
    }
    shared.advance(2_000);
    const q2 = await c.next("NEW_QUESTION", isNumber(2));
    c.send({
      type: "SUBMIT_ANSWER",
      question_id: q2.question_id,
      answer: key.get(q2.question_id)!.right,
    });
    expect(await c.next("ANSWER_RESULT")).toMatchObject({ is_correct: true });
    for (const s of everyone) await s.next("SCORE_UPDATE", (p) => p.user_id === cyd.id);
    shared.advance(2_000);

    const overs = await Promise.all(everyone.map((s) => s.next("GAME_OVER")));
    const over = overs[0]!;
    expect(overs.every((o) => JSON.stringify(o) === JSON.stringify(over))).toBe(true);
    expect(
      over.final_scoreboard.map((e: Payload) => [e.username, e.score, e.rank, e.is_host]),
    ).toEqual([
      ["bob", 1_000, 1, false],
      ["cyd", 1_000, 2, false],
      ["alice", 0, 3, true],
    ]);
    expect(over.questions.map((q: Payload) => q.correct_answer)).toEqual(
      [q1, q2].map((q) => key.get(q.question_id)!.right),
    );

    // Within the 10 s a newcomer on instance two still gets the same GAME_OVER.
    shared.advance(5_000);
    const late = await connect(contest.websocket_url, await mint("x-dan", "dan"), two.ws);
    expect(await late.next("GAME_OVER")).toEqual(over);

    shared.advance(4_999);
    await barrier(b);
    expect(b.closeCode).toBeNull();
    shared.advance(1);
    for (const s of [...everyone, late]) {
      await s.closed();
      expect([s.closeCode, s.closeReason]).toEqual([1000, "contest closed"]);
    }
    for (const base of [one, two]) {
      expect(await upgrade(`${base.ws}${contest.websocket_url}?token=${bob.token}`)).toEqual({
        status: 410,
        body: "WebSocket upgrade failed: contest closed",
      });
    }
  });
});

// ------------------------------------------------------------------ the dialect on a fake socket

/**
 * The contest door driven without a network: a FakeSocket for the client and
 * a handle whose events and replies the test hands out, as a contest running
 * on another instance would deliver them.
 */
function contestOnAFakeSocket() {
  const record = sessionRecord("quick_fire", threeQuestions());
  const { state: _state, ...info } = record;
  const clock = new FakeClock(10_000);
  const asked: Command["type"][] = [];
  let listener: ((e: RoomEvent) => void) | null = null;
  let resync: (() => void) | undefined;
  let snapshot = snapshotAt(1, [ALICE]);
  const handle: RoomHandle = {
    id: info.id,
    info,
    execute: async (_actor, command) => {
      asked.push(command.type);
      switch (command.type) {
        case "join":
          return { ok: true, value: joinResult(BOB) } as Reply<ResultOf<typeof command>>;
        case "snapshot":
          return { ok: true, value: snapshot } as Reply<ResultOf<typeof command>>;
        case "lookup":
          return { ok: true, value: { member: memberInfo(BOB) } } as Reply<
            ResultOf<typeof command>
          >;
        default:
          return { ok: true, value: { done: true, phase: snapshot.phase.kind } } as Reply<
            ResultOf<typeof command>
          >;
      }
    },
    subscribe: (l, onResync) => {
      listener = l;
      resync = onResync;
      return () => {
        listener = null;
      };
    },
  };
  const log = pino({ level: "silent" });
  const metrics = new Metrics({ sessions: () => 1, storageQueue: () => 0 });
  const door = new ContestDoor(
    {
      config: loadConfig({ LOG_LEVEL: "silent" }),
      origins: OriginPolicy.fromConfig(loadConfig({ LOG_LEVEL: "silent" })),
      sessions: { find: async () => handle, load: async () => undefined },
      identity: new IdentityService({
        jwtSecret: SECRET,
        allowAnonymous: false,
        anonymousKey: "seed004-fake-socket-anonymous-key",
        random: new SeededRandom(4),
      }),
      clock,
      metrics,
      limiter: new MemoryRateLimiter(clock),
      sharedLimiter: new MemoryRateLimiter(clock),
      replay: new MemoryReplayCache(clock),
      log,
    },
    { closeAfterMs: 10_000, limits: CONTEST_LIMITS },
  );
  const socket = new FakeSocket();
  const identity = { userId: BOB.userId, handle: "bob", roles: [], anonymous: false };
  socket.attach(door.open(socket, { ok: true, identity, handle, endedAt: null }));
  return {
    socket,
    asked,
    emit: (e: RoomEvent) => listener?.(e),
    resync: () => resync?.(),
    setSnapshot: (s: Snapshot) => {
      snapshot = s;
    },
    /** Lets the door's pending replies run. */
    settle: () => new Promise((resolve) => setImmediate(resolve)),
  };
}

const HOST = "host";
function member(id: string, name: string, score = 0): PublicParticipant {
  return {
    participantId: asParticipantId(`p-${id}`),
    userId: asUserId(id === "alice" ? HOST : `u-${id}`),
    name,
    role: "player",
    status: "active",
    connected: true,
    score,
  };
}
const ALICE = member("alice", "alice");
const BOB = member("bob", "bob");
const CYD = member("cyd", "cyd");

function memberInfo(p: PublicParticipant): MemberInfo {
  const { connected: _connected, ...info } = p;
  return { ...info, rank: null };
}

function joinResult(p: PublicParticipant): JoinResult {
  return {
    participantId: p.participantId,
    userId: p.userId,
    role: "player",
    name: p.name,
    resumeToken: "token-of-bob",
    resumed: false,
    started: false,
    snapshot: snapshotAt(1, [ALICE, p]),
  };
}

function snapshotAt(
  seq: number,
  players: PublicParticipant[],
  phase: Partial<PhaseView> = {},
  playerCount = players.length,
): Snapshot {
  const record = sessionRecord("quick_fire", threeQuestions());
  return {
    sessionId: record.id,
    pin: record.pin,
    title: record.title,
    mode: "quick_fire",
    status: "waiting",
    phase: {
      kind: "lobby",
      index: null,
      question: null,
      openedAt: null,
      deadline: null,
      closed: false,
      until: null,
      endReason: null,
      paused: null,
      reveal: null,
      ...phase,
    },
    questionCount: 3,
    locked: false,
    hostUserId: record.hostUserId,
    settings: record.settings,
    playerCount,
    presentCount: playerCount,
    leaderboard: [],
    startedAt: null,
    endedAt: null,
    you: null,
    players,
    epoch: 1,
    seq,
    serverTime: 10_000,
  };
}

function event(seq: number, body: EventBody): RoomEvent {
  return {
    sessionId: sessionRecord("quick_fire", []).id,
    epoch: 1,
    seq,
    at: 1_000 + seq,
    audience: { kind: "all" },
    body,
    encoded: new Map(),
  };
}

function standing(p: PublicParticipant, score: number, rank: number): Standing {
  return { participantId: p.participantId, userId: p.userId, name: p.name, score, rank };
}

function scored(seq: number, p: PublicParticipant, points: number, score: number): RoomEvent {
  return event(seq, {
    type: "scored",
    participantId: p.participantId,
    userId: p.userId,
    name: p.name,
    index: 0,
    questionId: "q1",
    correct: points > 0,
    points,
    score,
  });
}

describe("seed 004: the contest dialect, from the room's events", () => {
  it("rosters, scores and GAME_OVER come from what the events carry, not from room queries", async () => {
    const f = contestOnAFakeSocket();
    await f.settle();
    // Entering: the join, presence, and one snapshot for the catch-up.
    expect(f.asked).toEqual(["join", "presence", "snapshot"]);
    expect(f.socket.types()).toEqual(["PLAYER_JOINED"]);

    const cydRoster = [ALICE, BOB, CYD];
    f.emit(
      event(2, {
        type: "participant_joined",
        participant: CYD,
        playerCount: 3,
        presentCount: 3,
        roster: cydRoster,
      }),
    );
    f.emit(
      event(3, {
        type: "participant_left",
        participantId: CYD.participantId,
        userId: CYD.userId,
        name: "cyd",
        reason: "kicked",
        playerCount: 2,
        presentCount: 2,
        present: true,
      }),
    );
    f.emit(event(4, { type: "started", startedAt: 1_004, questionCount: 3, roster: [ALICE, BOB] }));
    f.emit(scored(5, ALICE, 0, 0));
    f.emit(scored(6, ALICE, 800, 800));
    f.emit(
      event(7, {
        type: "ended",
        reason: "finished",
        leaderboard: [],
        totalPlayers: 2,
        results: new Map<ParticipantId, FinalResult>(),
        standings: [standing(ALICE, 800, 1), standing(BOB, 0, 2)],
      }),
    );
    const frames = f.socket.frames<Frame>();
    expect(frames.map((x) => x.type)).toEqual([
      "PLAYER_JOINED",
      "PLAYER_JOINED",
      "CONTEST_STARTED",
      "SCORE_UPDATE",
      "GAME_OVER",
    ]);
    expect(frames[1]!.payload).toEqual({
      user_id: CYD.userId,
      username: "cyd",
      is_host: false,
      player_count: 3,
      players: [
        { user_id: HOST, username: "alice", score: 0, is_host: true },
        { user_id: BOB.userId, username: "bob", score: 0, is_host: false },
        { user_id: CYD.userId, username: "cyd", score: 0, is_host: false },
      ],
    });
    expect(frames[2]!.payload.players.map((p: Payload) => p.username)).toEqual(["alice", "bob"]);
    // A wrong answer is not announced; a right one is.
    expect(frames[3]!.payload).toEqual({
      user_id: HOST,
      username: "alice",
      score: 800,
      points_earned: 800,
    });
    expect(frames[4]!.payload).toEqual({
      message: "Contest finished!",
      final_scoreboard: [
        { user_id: HOST, username: "alice", score: 800, is_host: true, rank: 1 },
        { user_id: BOB.userId, username: "bob", score: 0, is_host: false, rank: 2 },
      ],
      questions: [
        { question_id: "q1", question_text: "Question q1?", correct_answer: "A" },
        { question_id: "q2", question_text: "Question q2?", correct_answer: "B" },
        { question_id: "q3", question_text: "Question q3?", correct_answer: "C" },
      ],
    });
    // Nothing was asked of the room after the catch-up.
    expect(f.asked).toEqual(["join", "presence", "snapshot"]);
  });

  it("on resync, the client is told what it missed in the seed's own messages, once", async () => {
    const f = contestOnAFakeSocket();
    await f.settle();
    expect(f.socket.types()).toEqual(["PLAYER_JOINED"]);
    const q1 = publicQuestion(threeQuestions()[0]!);
    const open = {
      kind: "question" as const,
      index: 0,
      question: q1,
      openedAt: 5_000,
      deadline: 20_000,
    };
    // Events were lost between instances: the contest started, Bob scored, q1 opened.
    f.setSnapshot(snapshotAt(6, [ALICE, member("bob", "bob", 700)], open));
    f.resync();
    await f.settle();
    const frames = f.socket.frames<Frame>();
    expect(frames.map((x) => x.type)).toEqual([
      "PLAYER_JOINED",
      "PLAYER_JOINED",
      "CONTEST_STARTED",
      "NEW_QUESTION",
    ]);
    // The roster with everyone's score as it is now.
    expect(frames[1]!.payload).toMatchObject({ username: "bob", player_count: 2 });
    expect(frames[1]!.payload.players[1]).toMatchObject({ username: "bob", score: 700 });
    expect(frames[3]!.payload).toMatchObject({ question_number: 1, question_id: "q1", timer: 10 });

    // A late event already in that snapshot is not sent; a later one is.
    f.emit(
      event(5, {
        type: "question",
        index: 0,
        total: 3,
        question: q1,
        openedAt: 5_000,
        deadline: 20_000,
      }),
    );
    f.emit(scored(7, ALICE, 900, 900));
    expect(f.socket.types().slice(4)).toEqual(["SCORE_UPDATE"]);

    // Resynced again with nothing new: the start and the question are not told twice.
    f.setSnapshot(snapshotAt(8, [ALICE, member("bob", "bob", 700)], open));
    f.resync();
    await f.settle();
    expect(f.socket.types().slice(5)).toEqual(["PLAYER_JOINED"]);
  });
});
