import { readFile } from "node:fs/promises";
import ExcelJS from "exceljs";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { VERSION } from "../../src/server/version.js";
import { eventually } from "../support/eventually.js";
import { deleteKeys, randomKeyPrefix } from "../support/redis.js";
import {
  freshPgSchema,
  type PgSchema,
  postgresAvailable,
  redisAvailable,
  requireOrSkip,
  TEST_REDIS_URL,
} from "../support/services.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

const ADMIN_TOKEN = "admin-token-for-tests-0123456789";
const JWT_SECRET = "jwt-secret-for-tests-0123456789";

type Json = Record<string, unknown>;
type Body = Json | unknown[] | string;

interface Call {
  body?: Body;
  token?: string;
  headers?: Record<string, string>;
}

/** A thin wrapper over inject: JSON bodies, bearer tokens, parsed replies. */
function client(t: () => TestApp) {
  const call = async (
    method: InjectOptions["method"],
    url: string,
    opts: Call = {},
  ): Promise<LightMyRequestResponse & { data: Json }> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    const req: InjectOptions = { method, url, headers };
    if (opts.body !== undefined) {
      req.payload = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
      headers["content-type"] ??= "application/json";
    }
    const res = await t().app.fastify.inject(req);
    let data: Json = {};
    if ((res.headers["content-type"] ?? "").toString().includes("json") && res.body !== "") {
      data = JSON.parse(res.body) as Json;
    }
    return Object.assign(res, { data });
  };
  return {
    get: (url: string, opts?: Call) => call("GET", url, opts),
    post: (url: string, opts?: Call) => call("POST", url, opts),
    put: (url: string, opts?: Call) => call("PUT", url, opts),
    del: (url: string, opts?: Call) => call("DELETE", url, opts),
  };
}

/** Starts one app (with `env`) for the describe block around it; `app()` is that app. */
function appFor(env: Record<string, string> = {}) {
  let t: TestApp | undefined;
  beforeAll(async () => {
    t = await createTestApp(env);
  });
  afterAll(async () => {
    await t?.close();
  });
  const app = (): TestApp => {
    if (t === undefined) throw new Error("the app is not started");
    return t;
  };
  return { app, api: client(app) };
}

/** Asserts the one REST error format and returns the body. */
function expectError(
  res: LightMyRequestResponse & { data: Json },
  status: number,
  code: string,
  reason?: string,
): Json {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  expect(res.data.code).toBe(code);
  expect(typeof res.data.message).toBe("string");
  if (reason !== undefined) expect(res.data.reason).toBe(reason);
  const allowed = new Set(["code", "message", "reason", "issues", "retry_after_ms"]);
  for (const key of Object.keys(res.data))
    expect(allowed.has(key), `unexpected key ${key}`).toBe(true);
  expect(res.body).not.toMatch(/\bat .+\.(ts|js):\d+/);
  return res.data;
}

async function jwt(sub: string, roles: string[] = [], expiresAt?: number): Promise<string> {
  const token = new SignJWT({ roles }).setProtectedHeader({ alg: "HS256" }).setSubject(sub);
  token.setExpirationTime(expiresAt ?? Math.floor(Date.now() / 1000) + 3600);
  return token.sign(new TextEncoder().encode(JWT_SECRET));
}

async function vocab101(): Promise<Json & { questions: Json[] }> {
  const text = await readFile(
    new URL("../../content/demo/vocab-101.json", import.meta.url),
    "utf8",
  );
  return JSON.parse(text) as Json & { questions: Json[] };
}

const issuesOf = (data: Json) => data.issues as Array<{ path: string; msg: string }>;

// ---------------------------------------------------------------------------------------------

describe("REST quizzes and bank (no ADMIN_TOKEN: admin routes open)", () => {
  const { app, api } = appFor();

  it("lists the quizzes with their question counts", async () => {
    const res = await api.get("/api/v1/quizzes");
    expect(res.statusCode).toBe(200);
    const list = res.data.quizzes as Json[];
    const v = list.find((q) => q.id === "vocab-101");
    expect(v).toMatchObject({ title: "Vocabulary 101", question_count: 10 });
    expect(typeof v?.updated_at).toBe("number");
  });

  it("round-trips seed 001's vocab-101 body: stored with answers, read back without them", async () => {
    const seed = await vocab101();
    const posted = await api.post("/api/v1/quizzes", { body: { ...seed, id: "vocab-101-copy" } });
    expect(posted.statusCode, posted.body).toBe(201);
    const stored = posted.data as { id: string; questions: Json[] };
    expect(stored.id).toBe("vocab-101-copy");
    expect(stored.questions.map((q) => q.correct_answer)).toEqual(
      seed.questions.map((q) => q.correct_answer),
    );

    const read = await api.get("/api/v1/quizzes/vocab-101-copy");
    expect(read.statusCode).toBe(200);
    expect(read.body).not.toContain("correct_answer");
    expect(read.body).not.toContain('"correct"');
    const doc = read.data as { title: string; questions: Json[] };
    expect(doc.title).toBe(seed.title);
    expect(doc.questions.map((q) => [q.id, q.text, q.options, q.points])).toEqual(
      seed.questions.map((q) => [q.id, q.text, q.options, q.points]),
    );

    const withAnswers = await api.get("/api/v1/quizzes/vocab-101-copy?answers=true");
    const qs = (withAnswers.data as { questions: Json[] }).questions;
    expect(qs.map((q) => q.correct_answer)).toEqual(seed.questions.map((q) => q.correct_answer));
  });

  it("POST with an existing id replaces the quiz (200); an identical re-POST is a 200 too", async () => {
    const seed = await vocab101();
    const body = { ...seed, id: "retry-me" };
    expect((await api.post("/api/v1/quizzes", { body })).statusCode).toBe(201);
    const again = await api.post("/api/v1/quizzes", { body });
    expect(again.statusCode).toBe(200);
    expect(again.data.id).toBe("retry-me");
    const changed = await api.post("/api/v1/quizzes", { body: { ...body, title: "Other" } });
    expect(changed.statusCode).toBe(200);
    expect((await api.get("/api/v1/quizzes/retry-me")).data.title).toBe("Other");
    // A seed 001 client posting its own vocab-101 works against a server that ships the demo one.
    const own = await api.post("/api/v1/quizzes", {
      body: {
        id: "vocab-101",
        title: "My words",
        questions: [
          { id: "q1", text: "Hi?", options: ["a", "b"], correct_answer: "a", points: 10 },
        ],
      },
    });
    expect(own.statusCode).toBe(200);
    // Import keeps refusing to overwrite a different quiz.
    const imported = await api.post("/api/v1/quizzes/import", {
      body: { ...body, title: "Third" },
    });
    expectError(imported, 409, "CONFLICT", "quiz_exists");
  });

  it("a POST without id gets a new id", async () => {
    const res = await api.post("/api/v1/quizzes", {
      body: {
        title: "No id",
        questions: [{ text: "2+2?", options: ["3", "4"], correct_answer: "4" }],
      },
    });
    expect(res.statusCode).toBe(201);
    expect(res.data.id).toMatch(/^[0-9a-f-]{36}$/);
    expect((res.data.questions as Json[])[0]).toMatchObject({
      id: "q1",
      correct: [1],
      correct_answer: "4",
    });
  });

  it("a quiz that does not parse is 400 VALIDATION listing every issue", async () => {
    const res = await api.post("/api/v1/quizzes", {
      body: { questions: [{ text: "Pick", options: ["a", "b"], correct_answer: "c" }] },
    });
    const data = expectError(res, 400, "VALIDATION");
    const paths = issuesOf(data).map((i) => i.path);
    expect(paths).toContain("title");
    expect(data.message).toContain("title");

    const domain = await api.post("/api/v1/quizzes", {
      body: { title: "T", questions: [{ text: "Pick", options: ["a", "b"], correct_answer: "c" }] },
    });
    const issues = issuesOf(expectError(domain, 400, "VALIDATION"));
    expect(issues).toEqual([expect.objectContaining({ path: "questions[0].correct_answer" })]);
  });

  it("malformed JSON and unknown routes answer in the same error format", async () => {
    const bad = await api.post("/api/v1/sessions", { body: "{not json" });
    expectError(bad, 400, "VALIDATION", "bad_json");
    const xml = await api.post("/api/v1/sessions", {
      body: "<x/>",
      headers: { "content-type": "application/xml" },
    });
    expectError(xml, 400, "VALIDATION", "unsupported_media_type");
    expectError(await api.get("/api/v1/nope"), 404, "NOT_FOUND", "no_route");
    expectError(await api.get("/api/v1/quizzes/missing"), 404, "NOT_FOUND", "no_quiz");
  });

  it("PUT replaces a quiz; the body id must match; unknown ids are 404", async () => {
    const seed = await vocab101();
    expect(
      (await api.post("/api/v1/quizzes", { body: { ...seed, id: "to-edit" } })).statusCode,
    ).toBe(201);
    const put = await api.put("/api/v1/quizzes/to-edit", {
      body: { ...seed, id: undefined, title: "Edited" },
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.data).toMatchObject({ id: "to-edit", title: "Edited" });
    expect((await api.get("/api/v1/quizzes/to-edit")).data.title).toBe("Edited");

    const mismatch = await api.put("/api/v1/quizzes/to-edit", { body: { ...seed, id: "other" } });
    expectError(mismatch, 400, "VALIDATION", "id_mismatch");
    expectError(
      await api.put("/api/v1/quizzes/ghost", { body: { ...seed, id: "ghost" } }),
      404,
      "NOT_FOUND",
      "no_quiz",
    );
  });

  it("DELETE removes a quiz (204), then it is 404", async () => {
    const seed = await vocab101();
    await api.post("/api/v1/quizzes", { body: { ...seed, id: "doomed" } });
    const del = await api.del("/api/v1/quizzes/doomed");
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe("");
    expectError(await api.get("/api/v1/quizzes/doomed"), 404, "NOT_FOUND");
    expectError(await api.del("/api/v1/quizzes/doomed"), 404, "NOT_FOUND", "no_quiz");
  });

  it("imports a CSV quiz (title from the query)", async () => {
    const csv = [
      "question,answer_1,answer_2,answer_3,correct,time_limit,difficulty,tags",
      "Capital of France?,Lyon,Paris,Nice,2,15,easy,geography",
      '"Spell the colour of the sky, British style",,,,colour|color,20,,spelling',
    ].join("\n");
    const res = await api.post(
      "/api/v1/quizzes/import?title=CSV%20quiz&description=From%20a%20file",
      {
        body: csv,
        headers: { "content-type": "text/csv" },
      },
    );
    expect(res.statusCode, res.body).toBe(201);
    expect(res.data).toMatchObject({ title: "CSV quiz", description: "From a file" });
    const [q1, q2] = res.data.questions as Json[];
    expect(q1).toMatchObject({
      kind: "single",
      options: ["Lyon", "Paris", "Nice"],
      correct: [1],
      time_limit_ms: 15_000,
    });
    expect(q2).toMatchObject({ kind: "typed", accepted: ["colour", "color"] });

    const noTitle = await api.post("/api/v1/quizzes/import", {
      body: csv,
      headers: { "content-type": "text/csv" },
    });
    expect(issuesOf(expectError(noTitle, 400, "VALIDATION", "missing_title"))[0]?.path).toBe(
      "title",
    );

    const badRow = await api.post("/api/v1/quizzes/import?title=Bad", {
      body: "question,answer_1,answer_2,correct\nOk?,a,b,1\nBad?,a,b,7\n",
      headers: { "content-type": "text/csv" },
    });
    expect(issuesOf(expectError(badRow, 400, "VALIDATION"))).toEqual([
      expect.objectContaining({ path: "line 3" }),
    ]);
  });

  it("export → delete → import gives the same quiz back", async () => {
    const exported = await api.get("/api/v1/quizzes/general-knowledge/export");
    expect(exported.statusCode).toBe(200);
    expect(exported.headers["content-disposition"]).toBe(
      'attachment; filename="general-knowledge.json"',
    );
    expect(exported.data.format).toBe("quizwire/quiz@1");
    expect(exported.body).toContain("correct");

    expect((await api.del("/api/v1/quizzes/general-knowledge")).statusCode).toBe(204);
    const imported = await api.post("/api/v1/quizzes/import", { body: exported.body });
    expect(imported.statusCode, imported.body).toBe(201);
    const back = await api.get("/api/v1/quizzes/general-knowledge?answers=true");
    expect(back.data).toEqual(exported.data);
  });

  it("bank: counts for anyone, questions added (difficulty required), listed and drawn", async () => {
    const counts = await api.get("/api/v1/bank");
    expect(counts.statusCode).toBe(200);
    const before = counts.data.counts as Record<string, number>;
    expect(before.easy).toBeGreaterThan(0);

    const missing = await api.post("/api/v1/bank/questions", {
      body: { questions: [{ text: "No level?", options: ["a", "b"], correct_answer: "a" }] },
    });
    expect(issuesOf(expectError(missing, 400, "VALIDATION"))).toContainEqual(
      expect.objectContaining({ path: "questions[0].difficulty" }),
    );

    const added = await api.post("/api/v1/bank/questions", {
      body: {
        questions: [
          {
            id: "bank-test-1",
            text: "Hard one?",
            options: ["x", "y"],
            correct_answer: "y",
            difficulty: "hard",
          },
          { id: "bank-test-2", text: "Hard two?", accepted: ["z"], difficulty: "hard" },
        ],
      },
    });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.data).toEqual({ added: 2 });
    const after = (await api.get("/api/v1/bank")).data.counts as Record<string, number>;
    expect(after.hard).toBe((before.hard ?? 0) + 2);

    const hard = await api.get("/api/v1/bank/questions?difficulty=hard");
    const ids = (hard.data.questions as Json[]).map((q) => q.id);
    expect(ids).toContain("bank-test-1");
    const one = (hard.data.questions as Json[]).find((q) => q.id === "bank-test-1");
    expect(one).toMatchObject({ correct_answer: "y", difficulty: "hard" });

    const drawn = await api.get("/api/v1/bank/draw?difficulty=easy&count=5");
    expect(drawn.statusCode).toBe(200);
    const qs = drawn.data.questions as Json[];
    expect(qs).toHaveLength(5);
    expect(new Set(qs.map((q) => q.id)).size).toBe(5);
    for (const q of qs) expect(q.difficulty).toBe("easy");

    const short = await api.get("/api/v1/bank/draw?difficulty=easy&count=200");
    const err = expectError(short, 409, "STATE", "bank_short");
    expect(err.message).toContain(String(before.easy));
    expectError(await api.get("/api/v1/bank/draw?count=0"), 400, "VALIDATION");
  });

  it("a failure inside a route is 500 INTERNAL without details", async () => {
    const spy = vi
      .spyOn(app().app.storage.quizzes, "list")
      .mockRejectedValueOnce(new Error("secret database detail"));
    const res = await api.get("/api/v1/quizzes");
    spy.mockRestore();
    const data = expectError(res, 500, "INTERNAL");
    expect(res.body).not.toContain("secret");
    expect(data.message).toBe("internal error");
  });
});

// ---------------------------------------------------------------------------------------------

describe("REST auth (ADMIN_TOKEN and JWT_SECRET set)", () => {
  const { api } = appFor({ ADMIN_TOKEN, JWT_SECRET });

  it("admin routes: 401 without a token, 403 with a wrong one or a non-admin JWT", async () => {
    expectError(await api.get("/api/v1/sessions"), 401, "UNAUTHORIZED", "admin_required");
    expectError(
      await api.get("/api/v1/sessions", { token: "wrong" }),
      403,
      "FORBIDDEN",
      "not_admin",
    );
    expectError(await api.get("/api/v1/sessions", { token: await jwt("alice") }), 403, "FORBIDDEN");
    expectError(await api.get("/api/v1/bank/questions"), 401, "UNAUTHORIZED");
    expectError(await api.get("/api/v1/quizzes/vocab-101?answers=true"), 401, "UNAUTHORIZED");
    expectError(await api.del("/api/v1/quizzes/vocab-101", { token: "wrong" }), 403, "FORBIDDEN");
    const seed = await vocab101();
    expectError(await api.post("/api/v1/quizzes", { body: seed }), 401, "UNAUTHORIZED");
  });

  it("admin routes pass with the admin token or a JWT with the admin role", async () => {
    expect((await api.get("/api/v1/sessions", { token: ADMIN_TOKEN })).statusCode).toBe(200);
    expect(
      (await api.get("/api/v1/sessions", { token: await jwt("root", ["admin"]) })).statusCode,
    ).toBe(200);
    const answers = await api.get("/api/v1/quizzes/vocab-101?answers=true", { token: ADMIN_TOKEN });
    expect(answers.body).toContain("correct_answer");
  });

  it("public routes need no token", async () => {
    expect((await api.get("/api/v1/quizzes")).statusCode).toBe(200);
    expect((await api.get("/api/v1/quizzes/vocab-101")).statusCode).toBe(200);
    expect((await api.get("/api/v1/bank")).statusCode).toBe(200);
  });

  it("a bad or expired JWT is 401 on any route", async () => {
    const forged = (await jwt("mallory")).replace(/\.[^.]+$/, ".AAAA");
    expectError(
      await api.get("/api/v1/sessions", { token: forged }),
      401,
      "UNAUTHORIZED",
      "invalid_token",
    );
    const expired = await jwt("late", ["admin"], Math.floor(Date.now() / 1000) - 60);
    const res = await api.post("/api/v1/sessions", {
      token: expired,
      body: { quiz_id: "vocab-101" },
    });
    expect(expectError(res, 401, "UNAUTHORIZED").message).toContain("expired");
  });

  it("R-1: a JWT host controls their session; other users may not, admins may", async () => {
    const teacher = await jwt("teacher");
    const created = await api.post("/api/v1/sessions", {
      token: teacher,
      body: { quiz_id: "vocab-101", mode: "live" },
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.data.session_id as string;

    expectError(
      await api.post(`/api/v1/sessions/${id}/lock`, {
        token: await jwt("student"),
        body: { locked: true },
      }),
      403,
      "FORBIDDEN",
      "not_host",
    );
    const lock = await api.post(`/api/v1/sessions/${id}/lock`, {
      token: teacher,
      body: { locked: true },
    });
    expect(lock.statusCode, lock.body).toBe(200);
    const unlock = await api.post(`/api/v1/sessions/${id}/lock`, {
      token: ADMIN_TOKEN,
      body: { locked: false },
    });
    expect(unlock.statusCode).toBe(200);

    const student = await jwt("student");
    const joined = await api.post(`/api/v1/sessions/${id}/participants`, {
      token: student,
      body: { display_name: "Stu" },
    });
    expect(joined.statusCode).toBe(201);
    expect(joined.data.user_id).toBe("student");
    // The same signed-in user joining again gets their seat back.
    const again = await api.post(`/api/v1/sessions/${id}/participants`, {
      token: student,
      body: { display_name: "Stu" },
    });
    expect(again.statusCode).toBe(200);
    expect(again.data.participant_id).toBe(joined.data.participant_id);
    // The host cannot join their own room as a player.
    expectError(
      await api.post(`/api/v1/sessions/${id}/participants`, {
        token: teacher,
        body: { display_name: "T" },
      }),
      409,
      "CONFLICT",
      "is_host",
    );

    // With ADMIN_TOKEN set, host control needs credentials.
    expectError(await api.post(`/api/v1/sessions/${id}/start`), 401, "UNAUTHORIZED");
    const close = await api.post(`/api/v1/sessions/${id}/close`, { token: teacher });
    expectError(close, 403, "FORBIDDEN");
    const closed = await api.post(`/api/v1/sessions/${id}/close`, { token: ADMIN_TOKEN });
    expect(closed.data).toEqual({ session_id: id, status: "completed", phase: "ended" });
  });
});

// ---------------------------------------------------------------------------------------------

describe("REST sessions", () => {
  const { api } = appFor();

  async function createSession(body: Json = { quiz_id: "vocab-101" }) {
    const res = await api.post("/api/v1/sessions", { body });
    expect(res.statusCode, res.body).toBe(201);
    return res.data as {
      session_id: string;
      pin: string;
      host_token: string;
      host_participant_id: string;
      settings: Json;
    };
  }

  async function join(id: string, name: string) {
    const res = await api.post(`/api/v1/sessions/${id}/participants`, {
      body: { display_name: name },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.data as {
      participant_id: string;
      resume_token: string;
      user_id: string;
      name: string;
    };
  }

  it("a whole self_paced session over REST: create, join, start, answer, rank, end, results", async () => {
    // start_time null: a lobby the host starts (without it the first join would start it, M-4).
    const s = await createSession({ quiz_id: "vocab-101", host_name: "Teacher", start_time: null });
    const id = s.session_id;
    expect(Object.keys(s).slice(0, 3)).toEqual(["session_id", "quiz_id", "status"]);
    expect(s).toMatchObject({ quiz_id: "vocab-101", status: "waiting", mode: "self_paced" });
    expect(s.pin).toMatch(/^[1-9][0-9]{5}$/);
    expect((s as Json).join_url).toContain(`pin=${s.pin}`);
    expect(s.settings).toMatchObject({ mode: "self_paced", scoring: { policy: "vocab" } });

    const room = await api.get(`/api/v1/rooms/${s.pin}`);
    expect(room.data).toEqual({
      room_id: id,
      title: "Vocabulary 101",
      mode: "self_paced",
      status: "waiting",
      locked: false,
      player_count: 0,
    });

    const ann = await join(id, "Ann");
    const bob = await join(id, "Bob");
    expect(ann.name).toBe("Ann");
    expectError(
      await api.post(`/api/v1/sessions/${id}/participants`, { body: { display_name: "ann" } }),
      409,
      "CONFLICT",
      "name_taken",
    );

    // only the host starts. (With no ADMIN_TOKEN a request with no credentials is let
    // through like any admin call, so seed 001 clients work; a player's token is still refused.)
    expectError(
      await api.post(`/api/v1/sessions/${id}/start`, { token: ann.resume_token }),
      403,
      "FORBIDDEN",
      "not_host",
    );
    expectError(
      await api.post(`/api/v1/sessions/${id}/start`, { token: "made-up-token" }),
      403,
      "FORBIDDEN",
    );
    const started = await api.post(`/api/v1/sessions/${id}/start`, { token: s.host_token });
    expect(started.data).toEqual({ session_id: id, status: "active", phase: "active" });
    expectError(
      await api.post(`/api/v1/sessions/${id}/next`, { token: s.host_token }),
      409,
      "STATE",
      "self_paced",
    );

    // answers need the participant's own resume token.
    const answer = (token: string | undefined, body: Json) =>
      api.post(`/api/v1/sessions/${id}/answers`, token === undefined ? { body } : { token, body });
    expectError(await answer(undefined, { question_index: 0, choice: 0 }), 401, "UNAUTHORIZED");
    expectError(
      await answer(s.host_token, { question_index: 0, choice: 0 }),
      403,
      "FORBIDDEN",
      "not_player",
    );
    expectError(
      await answer("nobody-has-this", { question_index: 0, choice: 0 }),
      403,
      "FORBIDDEN",
    );
    expectError(
      await answer(ann.resume_token, { question_index: 0, choice: 0, text: "elated" }),
      400,
      "VALIDATION",
      "bad_answer",
    );
    expectError(await answer(ann.resume_token, { choice: 0 }), 400, "VALIDATION", "bad_answer");
    expectError(
      await answer(ann.resume_token, { question_index: 0, choice: 0, extra: 1 }),
      400,
      "VALIDATION",
    );

    const a1 = await answer(ann.resume_token, { question_index: 0, choice: 0 });
    expect(a1.statusCode, a1.body).toBe(200);
    expect(a1.data).toMatchObject({
      index: 0,
      question_id: "q1",
      accepted: true,
      correct: true,
      changed: false,
      correct_answer: { indices: [0], texts: ["elated"] },
    });
    // S-4: 10 points plus a speed bonus of at most 5.
    expect(a1.data.points as number).toBeGreaterThanOrEqual(10);
    expect(a1.data.points as number).toBeLessThanOrEqual(15);
    const a2 = await answer(ann.resume_token, { question_id: "q2", text: "modern" });
    expect(a2.data).toMatchObject({ index: 1, correct: true, streak: 2 });
    expect(a2.data.score).toBe((a1.data.points as number) + (a2.data.points as number));
    const b1 = await answer(bob.resume_token, { question_index: 0, choice: 3 });
    expect(b1.data).toMatchObject({ correct: false, points: 0, score: 0 });
    // the first answer wins.
    expectError(
      await answer(ann.resume_token, { question_index: 0, choice: 1 }),
      409,
      "STATE",
      "already_answered",
    );
    expectError(
      await answer(ann.resume_token, { question_index: 42, choice: 0 }),
      404,
      "NOT_FOUND",
      "no_question",
    );

    // L-1: ranked by score.
    const board = await api.get(`/api/v1/sessions/${id}/leaderboard`);
    expect(board.data.total).toBe(2);
    expect((board.data.leaderboard as Json[]).map((e) => [e.name, e.rank])).toEqual([
      ["Ann", 1],
      ["Bob", 2],
    ]);
    const page = await api.get(`/api/v1/sessions/${id}/leaderboard?limit=1&offset=1`);
    expect((page.data.leaderboard as Json[]).map((e) => e.name)).toEqual(["Bob"]);

    const detail = await api.get(`/api/v1/sessions/${id}`);
    expect(detail.data).toMatchObject({
      session_id: id,
      quiz_id: "vocab-101",
      status: "active",
      mode: "self_paced",
      phase: "active",
      player_count: 2,
      question_count: 10,
      ended_at: null,
    });
    expect(typeof detail.data.started_at).toBe("number");
    const state = detail.data.state as Json;
    expect(state).toMatchObject({ room_id: id, player_count: 2, you: null });
    expect(JSON.stringify(state)).not.toContain("resume");

    // While it runs, the results (which show every answer) are the host's or an admin's; a
    // player's token is refused (with no ADMIN_TOKEN, a request with no credentials is an admin's).
    expectError(
      await api.get(`/api/v1/sessions/${id}/results.csv`, { token: bob.resume_token }),
      403,
      "FORBIDDEN",
    );
    const running = await api.get(`/api/v1/sessions/${id}/results`, { token: s.host_token });
    expect(running.statusCode, running.body).toBe(200);
    expect((running.data.session as Json).status).toBe("active");

    const ended = await api.post(`/api/v1/sessions/${id}/end`, { token: s.host_token });
    expect(ended.data).toEqual({ session_id: id, status: "completed", phase: "ended" });
    expectError(
      await answer(bob.resume_token, { question_index: 1, choice: 1 }),
      409,
      "STATE",
      "room_ended",
    );
    expectError(await api.get(`/api/v1/rooms/${s.pin}`), 404, "NOT_FOUND", "bad_pin");

    // Once ended, anyone may read them.
    const results = await api.get(`/api/v1/sessions/${id}/results`);
    expect(results.statusCode, results.body).toBe(200);
    const r = results.data as {
      session: Json;
      questions: Json[];
      players: Array<{ name: string; rank: number; score: number; answers: Json[] }>;
    };
    expect(r.session).toMatchObject({
      id,
      status: "completed",
      phase: "ended",
      question_count: 10,
    });
    expect(typeof r.session.ended_at).toBe("number");
    expect(r.players.map((p) => [p.name, p.rank])).toEqual([
      ["Ann", 1],
      ["Bob", 2],
    ]);
    expect(r.players[0]?.score).toBe(a2.data.score);
    expect(r.players[0]?.answers[0]).toMatchObject({
      answered: true,
      answer: "elated",
      correct: true,
    });
    expect(r.players[0]?.answers[1]).toMatchObject({
      answered: true,
      answer: "modern",
      correct: true,
    });
    expect(r.players[1]?.answers[0]).toMatchObject({
      answered: true,
      answer: "bland",
      correct: false,
    });
    expect(r.players[1]?.answers[2]).toMatchObject({ answered: false, answer: null });

    const csv = await api.get(`/api/v1/sessions/${id}/results.csv`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers["content-type"]).toMatch(/^text\/csv/);
    expect(csv.headers["content-disposition"]).toBe(`attachment; filename="results-${id}.csv"`);
    // A UTF-8 byte-order mark, then the summary per player, an empty line, and every answer.
    expect(csv.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const [summary, answers] = csv.body.replace(/^\uFEFF/, "").split("\n\n");
    expect(summary?.split("\n")).toEqual([
      "rank,name,score,correct,answered,questions,average_time_s,status,participant_id",
      expect.stringMatching(
        new RegExp(`^1,Ann,${a2.data.score},2,2,10,\\d+\\.\\d,active,${ann.participant_id}$`),
      ),
      expect.stringMatching(
        new RegExp(`^2,Bob,0,0,\\d+,10,\\d+\\.\\d,active,${bob.participant_id}$`),
      ),
    ]);
    const lines = (answers ?? "").trim().split("\n");
    expect(lines[0]).toBe(
      "rank,participant_id,name,status,score,question,question_id,question_text,answer,correct,points,time_ms",
    );
    expect(lines).toHaveLength(1 + 2 * 10);
    expect(lines[1]).toMatch(
      new RegExp(`^1,${ann.participant_id},Ann,active,${a2.data.score},1,q1,`),
    );
    expect(lines[1]).toContain(",elated,true,");
    expect(lines[11]).toMatch(new RegExp(`^2,${bob.participant_id},Bob,active,0,1,q1,`));
    const onlyAnswers = await api.get(`/api/v1/sessions/${id}/results.csv?part=answers`);
    expect(onlyAnswers.headers["content-disposition"]).toBe(
      `attachment; filename="results-${id}-answers.csv"`,
    );
    expect(onlyAnswers.body).toBe(`\uFEFF${answers}`);
    expectError(
      await api.get(`/api/v1/sessions/${id}/results.csv?part=everything`),
      400,
      "VALIDATION",
    );

    // The same two tables as an Excel workbook, numbers as numbers.
    const xlsx = await api.get(`/api/v1/sessions/${id}/results.xlsx`);
    expect(xlsx.statusCode).toBe(200);
    expect(xlsx.headers["content-type"]).toBe(
      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    );
    expect(xlsx.headers["content-disposition"]).toBe(`attachment; filename="results-${id}.xlsx"`);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(xlsx.rawPayload as unknown as ExcelJS.Buffer);
    expect(book.worksheets.map((w) => w.name)).toEqual(["Summary", "Answers"]);
    const sheet = book.getWorksheet("Summary");
    expect(sheet?.getRow(1).values).toEqual([undefined, ...summary!.split("\n")[0]!.split(",")]);
    expect(sheet?.getRow(2).getCell(1).value).toBe(1);
    expect(sheet?.getRow(2).getCell(2).value).toBe("Ann");
    expect(sheet?.getRow(2).getCell(3).value).toBe(a2.data.score);
    expect(book.getWorksheet("Answers")?.rowCount).toBe(1 + 2 * 10);
    expect(book.getWorksheet("Answers")?.getRow(2).getCell(10).value).toBe(true);

    const all = await api.get("/api/v1/sessions?include_ended=true");
    const mine = (all.data.sessions as Json[]).find((x) => x.session_id === id);
    expect(mine).toMatchObject({ status: "completed", phase: "ended", participant_count: 2 });
    const open = await api.get("/api/v1/sessions");
    expect((open.data.sessions as Json[]).some((x) => x.session_id === id)).toBe(false);
  });

  it("T-2/A-2: an answer after the question closed is 409 STATE; lock and kick are the host's", async () => {
    const s = await createSession({ quiz_id: "vocab-101", mode: "live" });
    const id = s.session_id;
    const p1 = await join(id, "One");
    const p2 = await join(id, "Two");
    const p3 = await join(id, "Three");

    const locked = await api.post(`/api/v1/sessions/${id}/lock`, {
      token: s.host_token,
      body: { locked: true },
    });
    expect(locked.statusCode).toBe(200);
    expectError(
      await api.post(`/api/v1/sessions/${id}/participants`, { body: { display_name: "Late" } }),
      403,
      "FORBIDDEN",
      "room_locked",
    );
    expect((await api.get(`/api/v1/rooms/${s.pin}`)).data.locked).toBe(true);
    await api.post(`/api/v1/sessions/${id}/lock`, { token: s.host_token, body: { locked: false } });
    expectError(
      await api.post(`/api/v1/sessions/${id}/lock`, { token: s.host_token, body: {} }),
      400,
      "VALIDATION",
    );

    expectError(
      await api.post(`/api/v1/sessions/${id}/kick`, {
        token: p1.resume_token,
        body: { participant_id: p2.participant_id },
      }),
      403,
      "FORBIDDEN",
    );
    const kicked = await api.post(`/api/v1/sessions/${id}/kick`, {
      token: s.host_token,
      body: { participant_id: p3.participant_id, reason: "spam" },
    });
    expect(kicked.statusCode, kicked.body).toBe(200);

    const started = await api.post(`/api/v1/sessions/${id}/start`, { token: s.host_token });
    expect(started.data).toEqual({ session_id: id, status: "active", phase: "question" });
    // a kicked player's token no longer acts.
    expectError(
      await api.post(`/api/v1/sessions/${id}/answers`, {
        token: p3.resume_token,
        body: { question_index: 0, choice: 0 },
      }),
      403,
      "FORBIDDEN",
    );
    const ok = await api.post(`/api/v1/sessions/${id}/answers`, {
      token: p1.resume_token,
      body: { question_index: 0, choice: 0 },
    });
    expect(ok.data).toMatchObject({ correct: true, correct_answer: null });
    expectError(
      await api.post(`/api/v1/sessions/${id}/answers`, {
        token: p1.resume_token,
        body: { question_index: 1, choice: 0 },
      }),
      409,
      "STATE",
      "not_open",
    );

    const next = await api.post(`/api/v1/sessions/${id}/next`, { token: s.host_token });
    expect(next.data).toMatchObject({ phase: "reveal" });
    const late = await api.post(`/api/v1/sessions/${id}/answers`, {
      token: p2.resume_token,
      body: { question_index: 0, choice: 0 },
    });
    expectError(late, 409, "STATE");

    const board = await api.get(`/api/v1/sessions/${id}/leaderboard`);
    expect((board.data.leaderboard as Json[]).map((e) => e.name)).toEqual(["One", "Two"]);
  });

  it("max_participants overrides settings.max_participants (R-6: one more is room_full)", async () => {
    const s = await createSession({
      quiz_id: "vocab-101",
      max_participants: 1,
      settings: { max_participants: 5 },
    });
    expect(s.settings.max_participants).toBe(1);
    await join(s.session_id, "Only");
    expectError(
      await api.post(`/api/v1/sessions/${s.session_id}/participants`, {
        body: { display_name: "Extra" },
      }),
      409,
      "STATE",
      "room_full",
    );
  });

  it("session creation errors: unknown quiz, bad settings, unknown fields", async () => {
    expectError(
      await api.post("/api/v1/sessions", { body: { quiz_id: "nope" } }),
      404,
      "NOT_FOUND",
      "no_quiz",
    );
    const bad = await api.post("/api/v1/sessions", {
      body: { quiz_id: "vocab-101", settings: { max_participants: 0 } },
    });
    const issues = issuesOf(expectError(bad, 400, "VALIDATION"));
    expect(issues[0]?.path).toBe("settings.max_participants");
    expect(bad.data.message).toContain("settings.max_participants");
    expectError(
      await api.post("/api/v1/sessions", { body: { quiz_id: "vocab-101", colour: "red" } }),
      400,
      "VALIDATION",
    );
    expectError(
      await api.post("/api/v1/sessions", {
        body: { quiz_id: "vocab-101", mode: "live", settings: { closes_at: 1 } },
      }),
      400,
      "VALIDATION",
      "bad_settings",
    );
  });

  it("unknown sessions are 404 no_session on every session route", async () => {
    const id = "00000000-0000-7000-8000-000000000000";
    expectError(await api.get(`/api/v1/sessions/${id}`), 404, "NOT_FOUND", "no_session");
    expectError(
      await api.get(`/api/v1/sessions/${id}/leaderboard`),
      404,
      "NOT_FOUND",
      "no_session",
    );
    expectError(
      await api.post(`/api/v1/sessions/${id}/start`, { token: "x" }),
      404,
      "NOT_FOUND",
      "no_session",
    );
    expectError(
      await api.post(`/api/v1/sessions/${id}/answers`, {
        token: "x",
        body: { question_index: 0, choice: 0 },
      }),
      404,
      "NOT_FOUND",
    );
    expectError(await api.get(`/api/v1/sessions/${id}/results`), 404, "NOT_FOUND");
    expectError(await api.get("/api/v1/rooms/12345"), 400, "VALIDATION");
  });

  it("A-6: an answer retried with the same Idempotency-Key gets the first acknowledgement", async () => {
    const s = await createSession({ quiz_id: "vocab-101" });
    const id = s.session_id;
    const ann = await join(id, "Ann");
    const bob = await join(id, "Bob");
    await api.post(`/api/v1/sessions/${id}/start`, { token: s.host_token });
    const answer = (token: string, key: string | undefined, body: Json) =>
      api.post(`/api/v1/sessions/${id}/answers`, {
        token,
        body,
        ...(key === undefined ? {} : { headers: { "idempotency-key": key } }),
      });

    const first = await answer(ann.resume_token, "try-1", { question_index: 0, choice: 0 });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.data).toMatchObject({ index: 0, correct: true, changed: false });
    // The retry is the same answer even if its body differs: no second effect, the first reply.
    const retry = await answer(ann.resume_token, "try-1", { question_index: 0, choice: 1 });
    expect(retry.statusCode, retry.body).toBe(200);
    expect(retry.data).toEqual(first.data);
    // A new key, or none, is a new answer, which A-1 refuses.
    expectError(
      await answer(ann.resume_token, "try-2", { question_index: 0, choice: 1 }),
      409,
      "STATE",
      "already_answered",
    );
    expectError(
      await answer(ann.resume_token, undefined, { question_index: 0, choice: 1 }),
      409,
      "STATE",
      "already_answered",
    );
    // Keys are per participant: Bob's "try-1" is his own answer.
    const bobs = await answer(bob.resume_token, "try-1", { question_index: 0, choice: 3 });
    expect(bobs.data).toMatchObject({ index: 0, correct: false, score: 0 });
    expectError(
      await answer(ann.resume_token, "", { question_index: 1, choice: 0 }),
      400,
      "VALIDATION",
    );

    const results = await api.get(`/api/v1/sessions/${id}/results`, { token: s.host_token });
    const ann1 = (
      results.data.players as Array<{ name: string; score: number; answers: Json[] }>
    ).find((p) => p.name === "Ann");
    expect(ann1?.score).toBe(first.data.score);
    expect(ann1?.answers[0]).toMatchObject({ answer: "elated", correct: true });

    const doc = (await api.get("/openapi.json")).data as {
      paths: Record<string, Record<string, { parameters?: Json[] }>>;
    };
    const params = doc.paths["/api/v1/sessions/{id}/answers"]?.post?.parameters ?? [];
    const header = params.find((p) => p.in === "header" && p.name === "idempotency-key");
    expect(header).toMatchObject({ required: false });
    expect(JSON.stringify(header)).toContain("first acknowledgement");
  });

  it("admin close and seed 000's /internal/rooms aliases", async () => {
    const s = await createSession({ quiz_id: "vocab-101", mode: "live" });
    const p = await join(s.session_id, "Kickme");
    const kicked = await api.post(`/internal/rooms/${s.session_id}/kick`, {
      body: { participant_id: p.participant_id },
    });
    expect(kicked.statusCode, kicked.body).toBe(200);
    expectError(
      await api.post(`/internal/rooms/${s.session_id}/kick`, {
        body: { participant_id: p.participant_id },
      }),
      409,
      "STATE",
      "already_kicked",
    );
    const closed = await api.post(`/internal/rooms/${s.session_id}/close`);
    expect(closed.data).toEqual({ session_id: s.session_id, status: "completed", phase: "ended" });
    expectError(
      await api.post(`/api/v1/sessions/${s.session_id}/close`),
      409,
      "STATE",
      "room_ended",
    );
    const detail = await api.get(`/api/v1/sessions/${s.session_id}`);
    expect((detail.data.state as { phase: Json }).phase.end_reason).toBe("closed");
  });
});

// ---------------------------------------------------------------------------------------------

describe("/health counts the sessions in play", () => {
  const { api } = appFor();

  it("an ended room still held in memory is not an active session (health and metrics)", async () => {
    const active = async () => ((await api.get("/health")).data.active_sessions as number) ?? -1;
    const gauge = async () =>
      /^quizwire_sessions_active (\d+)$/m.exec((await api.get("/metrics")).body)?.[1];
    expect(await active()).toBe(0);
    const created = await api.post("/api/v1/sessions", { body: { quiz_id: "vocab-101" } });
    expect(created.statusCode, created.body).toBe(201);
    const { session_id: id, host_token: token } = created.data as {
      session_id: string;
      host_token: string;
    };
    expect(await active()).toBe(1);
    expect(await gauge()).toBe("1");

    const ended = await api.post(`/api/v1/sessions/${id}/end`, { token });
    expect(ended.statusCode, ended.body).toBe(200);
    // Still loaded (ENDED_RETENTION_MS keeps it for late reconnects), but no longer active.
    expect((await api.get(`/api/v1/sessions/${id}`)).data.state).toBeDefined();
    expect(await active()).toBe(0);
    expect(await gauge()).toBe("0");
  });
});

describe("REST on sessions only in storage, and PIN guessing", () => {
  // Ended rooms leave memory at once, so reads come from storage.
  const { app, api } = appFor({ ENDED_RETENTION_MS: "0" });

  it("a stored-only session still has its status, leaderboard and results", async () => {
    const created = await api.post("/api/v1/sessions", { body: { quiz_id: "vocab-101" } });
    const s = created.data as { session_id: string; host_token: string };
    const id = s.session_id;
    const a = await api.post(`/api/v1/sessions/${id}/participants`, {
      body: { display_name: "Ann" },
    });
    const b = await api.post(`/api/v1/sessions/${id}/participants`, {
      body: { display_name: "Bob" },
    });
    await api.post(`/api/v1/sessions/${id}/start`, { token: s.host_token });
    await api.post(`/api/v1/sessions/${id}/answers`, {
      token: b.data.resume_token as string,
      body: { question_index: 0, choice: 0 },
    });
    await api.post(`/api/v1/sessions/${id}/end`, { token: s.host_token });
    await eventually("the ended session to be unloaded", () => app().app.registry.get(id), {
      until: (room) => room === undefined,
    });

    const detail = await api.get(`/api/v1/sessions/${id}`);
    expect(detail.data).toMatchObject({
      session_id: id,
      status: "completed",
      phase: "ended",
      player_count: 2,
      question_count: 10,
      state: null,
    });
    expect(typeof detail.data.started_at).toBe("number");
    expect(typeof detail.data.ended_at).toBe("number");

    const board = await api.get(`/api/v1/sessions/${id}/leaderboard`);
    expect(board.data.total).toBe(2);
    expect((board.data.leaderboard as Json[]).map((e) => [e.name, e.rank])).toEqual([
      ["Bob", 1],
      ["Ann", 2],
    ]);
    expect((board.data.leaderboard as Json[])[1]?.participant_id).toBe(a.data.participant_id);

    const results = await api.get(`/api/v1/sessions/${id}/results`);
    expect(results.statusCode, results.body).toBe(200);
    expect((results.data.players as Json[]).map((p) => p.name)).toEqual(["Bob", "Ann"]);

    expectError(
      await api.post(`/api/v1/sessions/${id}/start`, { token: s.host_token }),
      409,
      "STATE",
      "room_ended",
    );
    expectError(
      await api.post(`/api/v1/sessions/${id}/participants`, { body: { display_name: "Cy" } }),
      409,
      "STATE",
      "room_ended",
    );
  });

  it("P-4: 10 unknown PINs per hour per address, then every lookup is 429 RATE_LIMIT", async () => {
    const created = await api.post("/api/v1/sessions", { body: { quiz_id: "vocab-101" } });
    const pin = created.data.pin as string;
    const unknown = pin === "987654" ? "987653" : "987654";
    for (let i = 0; i < 10; i++) {
      expectError(await api.get(`/api/v1/rooms/${unknown}`), 404, "NOT_FOUND", "bad_pin");
    }
    const limited = await api.get(`/api/v1/rooms/${unknown}`);
    const data = expectError(limited, 429, "RATE_LIMIT", "rate_limited");
    expect(data.retry_after_ms as number).toBeGreaterThan(0);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    // Even a right PIN is refused while the guesser is blocked.
    expectError(await api.get(`/api/v1/rooms/${pin}`), 429, "RATE_LIMIT");
  });
});

// ---------------------------------------------------------------------------------------------

const cluster = requireOrSkip(await postgresAvailable(), await redisAvailable());

describe.skipIf(cluster.skip)(cluster.title("REST on two instances (Postgres and Redis)"), () => {
  let schema: PgSchema;
  const prefix = randomKeyPrefix();
  let a: TestApp;
  let b: TestApp;
  const onA = client(() => a);
  const onB = client(() => b);
  beforeAll(async () => {
    schema = await freshPgSchema();
    const env = { DATABASE_URL: schema.url, REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix };
    // One at a time, so migrations and demo content are in place before the second starts.
    a = await createTestApp(env);
    b = await createTestApp(env);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await schema?.drop();
    await deleteKeys(TEST_REDIS_URL, prefix);
  });

  it("a session run by one instance is played, read and closed through the other", async () => {
    const created = await onA.post("/api/v1/sessions", {
      body: { quiz_id: "vocab-101", host_name: "Teacher", start_time: null },
    });
    expect(created.statusCode, created.body).toBe(201);
    const s = created.data as { session_id: string; pin: string; host_token: string };
    const id = s.session_id;

    expect((await onB.get(`/api/v1/rooms/${s.pin}`)).data).toMatchObject({
      room_id: id,
      status: "waiting",
      player_count: 0,
    });
    const joined = await onB.post(`/api/v1/sessions/${id}/participants`, {
      body: { display_name: "Ann" },
    });
    expect(joined.statusCode, joined.body).toBe(201);
    const ann = joined.data as { participant_id: string; resume_token: string };
    // hold wherever the request lands: tokens are checked by the owner.
    expectError(
      await onB.post(`/api/v1/sessions/${id}/start`, { token: ann.resume_token }),
      403,
      "FORBIDDEN",
      "not_host",
    );
    const started = await onB.post(`/api/v1/sessions/${id}/start`, { token: s.host_token });
    expect(started.data).toEqual({ session_id: id, status: "active", phase: "active" });

    // the retry reaches the other instance and still gets the first acknowledgement.
    const body = { question_index: 0, choice: 0 };
    const headers = { "idempotency-key": "ann-q0" };
    const first = await onB.post(`/api/v1/sessions/${id}/answers`, {
      token: ann.resume_token,
      body,
      headers,
    });
    expect(first.statusCode, first.body).toBe(200);
    const retry = await onA.post(`/api/v1/sessions/${id}/answers`, {
      token: ann.resume_token,
      body,
      headers,
    });
    expect(retry.data).toEqual(first.data);
    expectError(
      await onB.post(`/api/v1/sessions/${id}/answers`, { token: s.host_token, body }),
      403,
      "FORBIDDEN",
      "not_player",
    );

    const board = await onB.get(`/api/v1/sessions/${id}/leaderboard`);
    expect(board.data).toMatchObject({ session_id: id, total: 1 });
    expect((board.data.leaderboard as Json[])[0]).toMatchObject({
      name: "Ann",
      rank: 1,
      score: first.data.score,
    });
    const detail = await onB.get(`/api/v1/sessions/${id}`);
    expect(detail.data).toMatchObject({ status: "active", phase: "active", player_count: 1 });
    expect(typeof detail.data.started_at).toBe("number");
    expectError(
      await onB.get(`/api/v1/sessions/${id}/results`, { token: ann.resume_token }),
      403,
      "FORBIDDEN",
    );

    const closed = await onB.post(`/api/v1/sessions/${id}/close`);
    expect(closed.data).toEqual({ session_id: id, status: "completed", phase: "ended" });
    expectError(await onA.post(`/api/v1/sessions/${id}/close`), 409, "STATE", "room_ended");
    // The end reaches storage a moment after the close is answered.
    const ended = await eventually(
      "the session read through b to have ended",
      () => onB.get(`/api/v1/sessions/${id}`),
      { until: (r) => typeof r.data.ended_at === "number" },
    );
    expect(ended.data).toMatchObject({ status: "completed", phase: "ended" });
    const results = await onB.get(`/api/v1/sessions/${id}/results`);
    expect(results.statusCode, results.body).toBe(200);
    expect((results.data.players as Json[]).map((p) => [p.name, p.score])).toEqual([
      ["Ann", first.data.score],
    ]);
  });

  it("P-4: unknown PINs count against one allowance across instances", async () => {
    for (let i = 0; i < 10; i++) {
      const api = i % 2 === 0 ? onA : onB;
      expectError(await api.get("/api/v1/rooms/100000"), 404, "NOT_FOUND", "bad_pin");
    }
    expectError(await onB.get("/api/v1/rooms/100000"), 429, "RATE_LIMIT", "rate_limited");
  });
});

// ---------------------------------------------------------------------------------------------

describe("OpenAPI and docs", () => {
  const { api } = appFor();

  const ROUTES: Array<[string, string]> = [
    ["get", "/api/v1/quizzes"],
    ["post", "/api/v1/quizzes"],
    ["post", "/api/v1/quizzes/import"],
    ["get", "/api/v1/quizzes/{id}"],
    ["put", "/api/v1/quizzes/{id}"],
    ["delete", "/api/v1/quizzes/{id}"],
    ["get", "/api/v1/quizzes/{id}/export"],
    ["get", "/api/v1/bank"],
    ["get", "/api/v1/bank/questions"],
    ["post", "/api/v1/bank/questions"],
    ["get", "/api/v1/bank/draw"],
    ["post", "/api/v1/sessions"],
    ["get", "/api/v1/sessions"],
    ["get", "/api/v1/sessions/{id}"],
    ["post", "/api/v1/sessions/{id}/start"],
    ["post", "/api/v1/sessions/{id}/next"],
    ["post", "/api/v1/sessions/{id}/end"],
    ["post", "/api/v1/sessions/{id}/lock"],
    ["post", "/api/v1/sessions/{id}/kick"],
    ["post", "/api/v1/sessions/{id}/close"],
    ["post", "/internal/rooms/{id}/close"],
    ["post", "/internal/rooms/{id}/kick"],
    ["post", "/api/v1/sessions/{id}/participants"],
    ["post", "/api/v1/sessions/{id}/answers"],
    ["get", "/api/v1/sessions/{id}/leaderboard"],
    ["get", "/api/v1/sessions/{id}/results"],
    ["get", "/api/v1/sessions/{id}/results.csv"],
    ["get", "/api/v1/sessions/{id}/results.xlsx"],
    ["get", "/api/v1/rooms/{pin}"],
  ];

  it("/openapi.json is clean JSON with every route, its tags, summary and responses", async () => {
    const res = await api.get("/openapi.json");
    expect(res.statusCode).toBe(200);
    const doc = JSON.parse(res.body) as {
      openapi: string;
      info: { title: string; version: string };
      paths: Record<
        string,
        Record<string, { tags?: string[]; summary?: string; responses?: Json }>
      >;
      components: { securitySchemes: Json };
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info).toMatchObject({ title: "quizwire", version: VERSION });
    for (const [method, path] of ROUTES) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method.toUpperCase()} ${path}`).toBeDefined();
      expect(op?.tags?.length, path).toBeGreaterThan(0);
      expect(op?.summary, path).toBeTruthy();
      expect(Object.keys(op?.responses ?? {}).length, path).toBeGreaterThan(0);
    }
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual([
      "adminToken",
      "hostToken",
      "jwt",
      "resumeToken",
    ]);
    expect(res.body).not.toContain("~kind");
    expect(res.body).not.toMatch(/"~/);
    const create = doc.paths["/api/v1/sessions"]?.post as { responses: Record<string, Json> };
    expect(JSON.stringify(create.responses["201"])).toContain("host_token");
    expect(JSON.stringify(create.responses["404"])).toContain("message");
  });

  it("/docs serves Swagger UI from the installed package", async () => {
    const docs = await api.get("/docs");
    expect(docs.statusCode).toBe(200);
    expect(docs.headers["content-type"]).toMatch(/^text\/html/);
    expect(docs.body).toContain("swagger-ui");
    const css = await api.get("/docs/static/swagger-ui.css");
    expect(css.statusCode).toBe(200);
  });
});
