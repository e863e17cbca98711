import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { eventually } from "../support/eventually.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

/*
 * A seed 001 session from the seed alone (§5.1, §6, §7, §12.3): the client creates the session with
 * §6.4's body, speaks §6.1–§6.3 over a raw `ws` on /ws?user_id=…, and knows the quiz from the
 * mocked content service's static JSON (§2.2: content/demo/vocab-101.json, the seed's own
 * `vocab-101`). No call the seed does not document is made, except where a test says so.
 */

interface SeedMessage {
  type: string;
  payload: Record<string, unknown>;
}

class SeedClient {
  readonly messages: SeedMessage[] = [];
  private readonly taken = new Set<SeedMessage>();
  private waiters: Array<{
    match: (m: SeedMessage) => boolean;
    resolve: (m: SeedMessage) => void;
  }> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const m = JSON.parse(String(data)) as SeedMessage;
      this.messages.push(m);
      const w = this.waiters.find((x) => x.match(m));
      if (w) {
        this.waiters = this.waiters.filter((x) => x !== w);
        this.taken.add(m);
        w.resolve(m);
      }
    });
  }

  static async connect(base: string, userId: string): Promise<SeedClient> {
    const ws = new WebSocket(`${base}/ws?user_id=${encodeURIComponent(userId)}`);
    const c = new SeedClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    clients.push(c);
    return c;
  }

  /** The first message not taken yet (received or to come) of this type that matches; takes it. */
  next(type: string, match: (p: Record<string, unknown>) => boolean = () => true) {
    const ok = (m: SeedMessage) => m.type === type && match(m.payload);
    const seen = this.messages.find((m) => !this.taken.has(m) && ok(m));
    if (seen) {
      this.taken.add(seen);
      return Promise.resolve(seen.payload);
    }
    return new Promise<Record<string, unknown>>((resolve) =>
      this.waiters.push({ match: ok, resolve: (m) => resolve(m.payload) }),
    );
  }

  /** Sends a message and waits for its reply (or an ERROR). */
  async call(type: string, payload: unknown, reply: string): Promise<SeedMessage> {
    const before = this.messages.length;
    this.ws.send(JSON.stringify({ type, payload }));
    const m = await new Promise<SeedMessage>((resolve) => {
      const ok = (x: SeedMessage) =>
        (x.type === reply || x.type === "ERROR") && this.messages.indexOf(x) >= before;
      const seen = this.messages.find((x) => !this.taken.has(x) && ok(x));
      if (seen) resolve(seen);
      else this.waiters.push({ match: ok, resolve });
    });
    this.taken.add(m);
    return m;
  }

  join(sessionId: string, username: string) {
    return this.call("JOIN_SESSION", { session_id: sessionId, username }, "SESSION_JOINED");
  }

  answer(sessionId: string, questionId: string, answer: string) {
    return this.call(
      "SUBMIT_ANSWER",
      { session_id: sessionId, question_id: questionId, answer, time_taken_ms: 2000 },
      "SCORE_UPDATED",
    );
  }

  leave(sessionId: string) {
    return this.call("LEAVE_SESSION", { session_id: sessionId }, "SESSION_LEFT");
  }

  types(): string[] {
    return this.messages.map((m) => m.type);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.ws.once("close", () => resolve());
      this.ws.close();
    });
  }
}

/** The mocked quiz content service's static JSON (seed 001 §2.2), as a seed client would ship it. */
const VOCAB_101 = JSON.parse(
  readFileSync(
    fileURLToPath(new URL("../../content/demo/vocab-101.json", import.meta.url)),
    "utf8",
  ),
) as { id: string; questions: Array<{ id: string; options: string[]; correct_answer: string }> };

const clients: SeedClient[] = [];
let t: TestApp;
let http: string;
let ws: string;
/** A second server whose sessions run at most a second (seed §12.3's limit, shortened). */
let short: TestApp;
let shortHttp: string;
let shortWs: string;
const ADMIN_TOKEN = "admin-token-for-the-lifecycle-test";

beforeAll(async () => {
  t = await createTestApp();
  const port = await t.app.listen();
  http = `http://127.0.0.1:${port}`;
  ws = `ws://127.0.0.1:${port}`;
  short = await createTestApp({ SESSION_MAX_DURATION_MS: "1000", ADMIN_TOKEN });
  const shortPort = await short.app.listen();
  shortHttp = `http://127.0.0.1:${shortPort}`;
  shortWs = `ws://127.0.0.1:${shortPort}`;
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await t.close();
  await short.close();
});

let users = 0;
const user = (name: string) => `user-${name}-${++users}`;

/** POST /api/v1/sessions with seed §6.4's body (plus whatever `extra` a test names). */
async function createSession(base = http, extra: Record<string, unknown> = {}) {
  const res = await fetch(`${base}/api/v1/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ quiz_id: "vocab-101", max_participants: 1000, ...extra }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  return { status: res.status, body, id: body.session_id as string };
}

describe("seed 001 sessions from the seed alone", () => {
  it("M-4, A-7: a whole session with only the seed's calls: create, join (which starts it), answer every question, leave", async () => {
    const created = await createSession();
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ quiz_id: "vocab-101", status: "waiting" });
    const sid = created.id;

    const alice = await SeedClient.connect(ws, user("alice"));
    const joined = await alice.join(sid, "alice");
    expect(joined.type).toBe("SESSION_JOINED");
    // The first participant's arrival starts the session: active at once, and announced.
    expect(joined.payload).toMatchObject({
      session_id: sid,
      status: "active",
      participant_count: 1,
    });
    expect(await alice.next("SESSION_STARTED")).toMatchObject({
      session_id: sid,
      status: "active",
    });

    const bob = await SeedClient.connect(ws, user("bob"));
    const bobJoined = await bob.join(sid, "bob");
    expect(bobJoined.payload).toMatchObject({ status: "active", participant_count: 2 });
    expect(await alice.next("USER_JOINED")).toMatchObject({
      username: "bob",
      participant_count: 2,
    });

    let aliceScore = 0;
    for (const q of VOCAB_101.questions) {
      const right = await alice.answer(sid, q.id, q.correct_answer);
      expect(right.type).toBe("SCORE_UPDATED");
      expect(right.payload).toMatchObject({ question_id: q.id, is_correct: true });
      expect(right.payload.points_earned).toBeGreaterThanOrEqual(10);
      aliceScore += right.payload.points_earned as number;
      expect(right.payload.new_score).toBe(aliceScore);

      // Seed §4.3: "0 (if incorrect)". A text that is none of the options is just wrong.
      const wrong = await bob.answer(sid, q.id, "definitely not one of the options");
      expect(wrong.type).toBe("SCORE_UPDATED");
      expect(wrong.payload).toMatchObject({
        question_id: q.id,
        is_correct: false,
        points_earned: 0,
        new_score: 0,
      });
    }

    const board = await alice.next(
      "LEADERBOARD_UPDATED",
      (p) => (p.leaderboard as Array<{ score: number }>)[0]?.score === aliceScore,
    );
    expect(board).toMatchObject({ session_id: sid, your_rank: 1, total_participants: 2 });

    expect((await bob.leave(sid)).type).toBe("SESSION_LEFT");
    expect(await alice.next("USER_LEFT")).toMatchObject({ username: "bob", participant_count: 1 });
    // Nothing the seed client sent was refused.
    expect(alice.types()).not.toContain("ERROR");
    expect(bob.types()).not.toContain("ERROR");
  });

  it("A-7: a wrong answer is stored and counts as answered: the same question again is ALREADY_ANSWERED", async () => {
    const { id: sid } = await createSession();
    const carol = await SeedClient.connect(ws, user("carol"));
    await carol.join(sid, "carol");
    const wrong = await carol.answer(sid, "q1", "weary");
    expect(wrong.payload).toMatchObject({ is_correct: false, points_earned: 0 });
    const offList = await carol.answer(sid, "q2", "zzz");
    expect(offList.payload).toMatchObject({ is_correct: false, points_earned: 0, new_score: 0 });
    const again = await carol.answer(sid, "q2", "modern");
    expect(again.type).toBe("ERROR");
    expect(again.payload.code).toBe("ALREADY_ANSWERED");
  });

  it("M-4: a start_time in the future: joins wait, answers are SESSION_NOT_ACTIVE, and at that time everyone gets SESSION_STARTED", async () => {
    const startAt = new Date(Date.now() + 3_000);
    const created = await createSession(http, { start_time: startAt.toISOString() });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: "waiting", start_time: startAt.toISOString() });
    const sid = created.id;

    const dave = await SeedClient.connect(ws, user("dave"));
    const joined = await dave.join(sid, "dave");
    expect(joined.payload).toMatchObject({ status: "waiting", participant_count: 1 });
    const early = await dave.answer(sid, "q1", "elated");
    expect(early.type).toBe("ERROR");
    expect(early.payload.code).toBe("SESSION_NOT_ACTIVE");

    const started = await dave.next("SESSION_STARTED");
    expect(started).toMatchObject({ session_id: sid, status: "active" });
    expect(Date.parse(started.started_at as string)).toBeGreaterThanOrEqual(startAt.getTime());
    const scored = await dave.answer(sid, "q1", "elated");
    expect(scored.payload).toMatchObject({ is_correct: true });
  });

  it("M-4: a start_time already passed starts the session as it is created", async () => {
    const created = await createSession(http, { start_time: "2020-01-01T00:00:00Z" });
    expect(created.body).toMatchObject({ status: "active" });
    const erin = await SeedClient.connect(ws, user("erin"));
    expect((await erin.join(created.id, "erin")).payload).toMatchObject({ status: "active" });
    expect((await erin.answer(created.id, "q1", "elated")).payload).toMatchObject({
      is_correct: true,
    });
  });

  it("a start_time that is not an ISO 8601 date-time is refused with 400 and creates nothing", async () => {
    for (const start_time of ["tomorrow", "2025-11-16 10:30", "2025-11-16T10:30:00", 12]) {
      const res = await createSession(http, { start_time });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe("VALIDATION");
    }
  });

  it("M-4: start_time null keeps a lobby: answers wait for the host's POST …/start, which sends SESSION_STARTED", async () => {
    const created = await createSession(http, { start_time: null });
    const sid = created.id;
    const fay = await SeedClient.connect(ws, user("fay"));
    expect((await fay.join(sid, "fay")).payload).toMatchObject({ status: "waiting" });
    expect((await fay.answer(sid, "q1", "elated")).payload.code).toBe("SESSION_NOT_ACTIVE");
    // quizwire's own start call (not in the seed) for a host who wants a lobby.
    const res = await fetch(`${http}/api/v1/sessions/${sid}/start`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(await fay.next("SESSION_STARTED")).toMatchObject({ session_id: sid, status: "active" });
    expect((await fay.answer(sid, "q1", "elated")).payload).toMatchObject({ is_correct: true });
  });
});

describe("seed 001: participant_count counts who is in the session (§6.3: 16 → 15 after USER_LEFT)", () => {
  it("SESSION_JOINED, USER_JOINED and USER_LEFT agree: leaving or dropping lowers the count, coming back raises it", async () => {
    const { id: sid } = await createSession();
    const ann = await SeedClient.connect(ws, user("ann"));
    expect((await ann.join(sid, "ann")).payload.participant_count).toBe(1);
    const ben = await SeedClient.connect(ws, user("ben"));
    expect((await ben.join(sid, "ben")).payload.participant_count).toBe(2);
    expect(await ann.next("USER_JOINED")).toMatchObject({ username: "ben", participant_count: 2 });
    const cal = await SeedClient.connect(ws, user("cal"));
    expect((await cal.join(sid, "cal")).payload.participant_count).toBe(3);
    expect(await ann.next("USER_JOINED")).toMatchObject({ username: "cal", participant_count: 3 });

    // LEAVE_SESSION: the others see the count fall, as the seed's 16 → 15.
    await cal.leave(sid);
    expect(await ann.next("USER_LEFT")).toMatchObject({ username: "cal", participant_count: 2 });
    expect(await ben.next("USER_LEFT")).toMatchObject({ username: "cal", participant_count: 2 });

    // A dropped connection is a departure too (§4.5 "leaves/disconnects").
    const benId = new URL(ben.ws.url).searchParams.get("user_id") ?? "";
    await ben.close();
    expect(await ann.next("USER_LEFT")).toMatchObject({ username: "ben", participant_count: 1 });

    // A newcomer counts everyone present, themselves included.
    const dot = await SeedClient.connect(ws, user("dot"));
    expect((await dot.join(sid, "dot")).payload.participant_count).toBe(2);
    expect(await ann.next("USER_JOINED")).toMatchObject({ username: "dot", participant_count: 2 });

    // Coming back (§7.1 reconnect) counts again, in the returner's reply and in the others' news.
    const benAgain = await SeedClient.connect(ws, benId);
    const back = await benAgain.join(sid, "ben");
    expect(back.payload).toMatchObject({ rejoined: true, participant_count: 3 });
    expect(await ann.next("USER_JOINED")).toMatchObject({ username: "ben", participant_count: 3 });
    // The leaderboard still ranks everyone who took part, the one who left included (L-3).
    expect((await benAgain.next("LEADERBOARD_UPDATED")).total_participants).toBe(4);
  });
});

describe("seed 001: sessions end by themselves (§12.3: maximum duration)", () => {
  it("M-5: past the maximum duration the session completes with SESSION_ENDED; answers and joins then get SESSION_COMPLETED", async () => {
    const { id: sid } = await createSession(shortHttp);
    const gus = await SeedClient.connect(shortWs, user("gus"));
    expect((await gus.join(sid, "gus")).payload.status).toBe("active");
    const ended = await gus.next("SESSION_ENDED");
    expect(ended).toMatchObject({ session_id: sid, status: "completed", reason: "expired" });
    expect((await gus.answer(sid, "q1", "elated")).payload.code).toBe("SESSION_COMPLETED");
    const late = await SeedClient.connect(shortWs, user("late"));
    expect((await late.join(sid, "late")).payload.code).toBe("SESSION_COMPLETED");
  });
});

describe("seed 003 §12.6: one user's data, exported and erased by an admin", () => {
  async function admin(method: string, path: string, token: string | null = ADMIN_TOKEN) {
    const res = await fetch(`${shortHttp}${path}`, {
      method,
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it("GET exports every session of the user with their answers; DELETE erases it once those sessions ended", async () => {
    const { id: sid } = await createSession(shortHttp);
    const hal = user("hal");
    const c = await SeedClient.connect(shortWs, hal);
    await c.join(sid, "hal");
    await c.answer(sid, "q1", "elated");
    await c.answer(sid, "q2", "not an option");
    const path = `/api/v1/admin/users/${encodeURIComponent(`seed001:${hal}`)}/data`;

    // Admin only, like the other admin routes: 401 without a token, 403 with a wrong one.
    expect((await admin("GET", path, null)).status).toBe(401);
    expect((await admin("DELETE", path, "wrong")).status).toBe(403);

    const exported = await admin("GET", path);
    expect(exported.status).toBe(200);
    expect(exported.body.user_id).toBe(`seed001:${hal}`);
    const [session] = exported.body.sessions as Array<Record<string, unknown>>;
    expect(session).toMatchObject({
      session_id: sid,
      quiz_id: "vocab-101",
      hosted: false,
      participant: { name: "hal", role: "player" },
    });
    expect(session?.answers).toMatchObject([
      { question_id: "q1", answer: { choice: 0 }, correct: true },
      { question_id: "q2", answer: { text: "not an option" }, correct: false, points: 0 },
    ]);
    expect(JSON.stringify(exported.body)).not.toMatch(/resume_token|token_hash/);

    // While the session runs, erasing is refused and changes nothing.
    const refused = await admin("DELETE", path);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: "STATE", reason: "user_in_open_session" });
    expect(((await admin("GET", path)).body.sessions as unknown[]).length).toBe(1);

    // Once it ended (the maximum duration here), the user is erased; others are untouched.
    await c.next("SESSION_ENDED");
    const erased = await admin("DELETE", path);
    expect(erased).toMatchObject({ status: 200, body: { sessions_erased: 1 } });
    expect((await admin("GET", path)).body.sessions).toStrictEqual([]);
    const results = await fetch(`${shortHttp}/api/v1/sessions/${sid}/results`);
    expect(results.status).toBe(200);
    expect(JSON.stringify(await results.json())).not.toContain('"hal"');
  });

  it("ended sessions' answers are purged after HOT_DATA_RETENTION_MS by the periodic sweep", async () => {
    const purging = await createTestApp({
      SESSION_MAX_DURATION_MS: "1000",
      HOT_DATA_RETENTION_MS: "1",
      RETENTION_SWEEP_MS: "1000",
    });
    try {
      const port = await purging.app.listen();
      const { id: sid } = await createSession(`http://127.0.0.1:${port}`);
      const ivy = await SeedClient.connect(`ws://127.0.0.1:${port}`, user("ivy"));
      await ivy.join(sid, "ivy");
      expect((await ivy.answer(sid, "q1", "elated")).payload.is_correct).toBe(true);
      await ivy.next("SESSION_ENDED");
      const stored = () => purging.app.storage.sessions.load(sid as never);
      await eventually("the answers purged", async () => (await stored())?.answers.length === 0);
      // The session itself, its players and their final scores stay for COMPLETED_RETENTION_MS.
      const kept = await stored();
      expect(kept?.participants.find((p) => p.name === "ivy")?.score).toBeGreaterThan(0);
    } finally {
      await purging.close();
    }
  });
});
