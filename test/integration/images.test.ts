/**
 * Question pictures over REST (issue 12): upload by bytes, served immutable, checked by type
 * from the bytes, named by quizzes only when they exist, and carried by export/import.
 */
import type { InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectClient, record } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { choiceQuestion, quizOf } from "../support/fixtures.js";
import { TINY_IMAGES } from "../support/images.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

const ADMIN_TOKEN = "admin-token-for-image-tests-0123";
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };

type Json = Record<string, unknown>;

async function call(t: TestApp, req: InjectOptions) {
  const res = await t.app.fastify.inject(req);
  const isJson = String(res.headers["content-type"] ?? "").includes("json") && res.body !== "";
  return Object.assign(res, { data: (isJson ? JSON.parse(res.body) : {}) as Json });
}

function upload(t: TestApp, bytes: Buffer, contentType = "image/png", headers = ADMIN) {
  return call(t, {
    method: "POST",
    url: "/api/v1/images",
    headers: { ...headers, "content-type": contentType },
    payload: bytes,
  });
}

function quizWith(image: string, id = "pictures") {
  return {
    id,
    title: "Pictures",
    questions: [
      { text: "Which flag?", options: ["A", "B"], correct: [0], image },
      { text: "No picture here", options: ["C", "D"], correct: [1] },
    ],
  };
}

function postQuiz(t: TestApp, doc: unknown, url = "/api/v1/quizzes") {
  return call(t, {
    method: "POST",
    url,
    headers: { ...ADMIN, "content-type": "application/json" },
    payload: JSON.stringify(doc),
  });
}

describe("question pictures over REST", () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await createTestApp({ ADMIN_TOKEN });
    b = await createTestApp({ ADMIN_TOKEN });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("an upload is named by its bytes and served back with its type, cached as immutable", async () => {
    const res = await upload(a, TINY_IMAGES.png, "application/octet-stream");
    expect(res.statusCode, res.body).toBe(201);
    const { id, url, content_type, size } = res.data as Record<string, string | number>;
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(url).toBe(`/api/v1/images/${id}`);
    expect(content_type).toBe("image/png");
    expect(size).toBe(TINY_IMAGES.png.length);

    const again = await upload(a, TINY_IMAGES.png);
    expect(again.statusCode).toBe(200);
    expect(again.data.id).toBe(id);

    const got = await a.app.fastify.inject({ method: "GET", url: String(url) });
    expect(got.statusCode).toBe(200);
    expect(got.headers["content-type"]).toBe("image/png");
    expect(got.headers["cache-control"]).toContain("immutable");
    expect(got.headers["x-content-type-options"]).toBe("nosniff");
    expect(got.rawPayload.equals(TINY_IMAGES.png)).toBe(true);

    const notModified = await a.app.fastify.inject({
      method: "GET",
      url: String(url),
      headers: { "if-none-match": String(got.headers.etag) },
    });
    expect(notModified.statusCode).toBe(304);
  });

  it("the type comes from the bytes, not from what the client says: a GIF sent as image/png is a GIF", async () => {
    const res = await upload(a, TINY_IMAGES.gif, "image/png");
    expect(res.data.content_type).toBe("image/gif");
    const got = await a.app.fastify.inject({ method: "GET", url: String(res.data.url) });
    expect(got.headers["content-type"]).toBe("image/gif");
  });

  it("refuses what is not an image, too large or unauthenticated, and stores nothing", async () => {
    const text = await upload(a, Buffer.from("<svg><script>alert(1)</script></svg>"), "image/png");
    expect(text.statusCode).toBe(400);
    expect(text.data).toMatchObject({ code: "VALIDATION", reason: "not_an_image" });

    const huge = await upload(a, Buffer.concat([TINY_IMAGES.png, Buffer.alloc(2 * 1024 * 1024)]));
    expect(huge.statusCode).toBe(400);
    expect(huge.data.code).toBe("VALIDATION");
    expect(["image_too_large", "body_too_large"]).toContain(huge.data.reason);

    const wrongType = await upload(a, TINY_IMAGES.png, "text/plain");
    expect(wrongType.data.code).toBe("VALIDATION");

    const anonymous = await upload(a, TINY_IMAGES.webp, "image/webp", {} as typeof ADMIN);
    expect(anonymous.statusCode).toBe(401);

    const id = "f".repeat(64);
    const missing = await call(a, { method: "GET", url: `/api/v1/images/${id}` });
    expect(missing.statusCode).toBe(404);
    expect(missing.data).toMatchObject({ code: "NOT_FOUND", reason: "no_image" });
    const badId = await call(a, { method: "GET", url: "/api/v1/images/not-an-id" });
    expect(badId.statusCode).toBe(400);
  });

  it("a quiz names an uploaded picture or an http(s) URL; a missing upload or another scheme is refused", async () => {
    const up = await upload(a, TINY_IMAGES.jpeg, "image/jpeg");
    const ok = await postQuiz(a, quizWith(String(up.data.url)));
    expect(ok.statusCode, ok.body).toBe(201);
    const questions = ok.data.questions as Json[];
    expect(questions[0]?.image).toBe(up.data.url);
    expect(questions[1]?.image).toBeUndefined();

    const outside = await postQuiz(a, quizWith("https://example.org/flag.png", "outside"));
    expect(outside.statusCode).toBe(201);

    const missing = await postQuiz(a, quizWith(`/api/v1/images/${"e".repeat(64)}`, "missing"));
    expect(missing.statusCode).toBe(400);
    expect(missing.data.issues).toEqual([expect.objectContaining({ path: "questions[0].image" })]);
    const js = await postQuiz(a, quizWith("javascript:alert(1)", "js"));
    expect(js.statusCode).toBe(400);
    expect(js.data.issues).toEqual([expect.objectContaining({ path: "questions[0].image" })]);
    for (const id of ["missing", "js"]) {
      const get = await call(a, { method: "GET", url: `/api/v1/quizzes/${id}` });
      expect(get.statusCode).toBe(404);
    }

    // Players see the picture too (the quiz without answers).
    const pub = await call(a, { method: "GET", url: "/api/v1/quizzes/pictures" });
    expect((pub.data.questions as Json[])[0]?.image).toBe(up.data.url);
  });

  it("an export carries its uploaded pictures, and importing it on another server brings them along", async () => {
    const up = await upload(a, TINY_IMAGES.webp, "image/webp");
    await postQuiz(a, quizWith(String(up.data.url), "travels"));
    const exported = await call(a, {
      method: "GET",
      url: "/api/v1/quizzes/travels/export",
      headers: ADMIN,
    });
    expect(exported.statusCode).toBe(200);
    const images = exported.data.images as Record<string, { data_base64: string }>;
    expect(Object.keys(images)).toEqual([up.data.id]);

    // Server b has never seen the picture: the document brings it.
    expect((await call(b, { method: "GET", url: String(up.data.url) })).statusCode).toBe(404);
    const imported = await postQuiz(b, exported.data, "/api/v1/quizzes/import");
    expect(imported.statusCode, imported.body).toBe(201);
    const served = await b.app.fastify.inject({ method: "GET", url: String(up.data.url) });
    expect(served.statusCode).toBe(200);
    expect(served.rawPayload.equals(TINY_IMAGES.webp)).toBe(true);

    // A carried picture whose bytes do not match its id is refused, and nothing is stored.
    const forged = structuredClone(exported.data) as Json & { images: Record<string, unknown> };
    forged.id = "forged";
    const id = "1".repeat(64);
    forged.images = {
      [id]: { content_type: "image/png", data_base64: TINY_IMAGES.png.toString("base64") },
    };
    (forged.questions as Json[])[0] = {
      ...(forged.questions as Json[])[0],
      image: `/api/v1/images/${id}`,
    };
    const refused = await postQuiz(b, forged, "/api/v1/quizzes/import");
    expect(refused.statusCode).toBe(400);
    expect(refused.data.issues).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: `images.${id}` })]),
    );
    expect((await call(b, { method: "GET", url: `/api/v1/images/${id}` })).statusCode).toBe(404);
    expect((await call(b, { method: "GET", url: "/api/v1/quizzes/forged" })).statusCode).toBe(404);
  });
});

describe("question pictures in a live game", () => {
  it("the question carries its picture, and the reveal before it names it so screens load it early", async () => {
    const t = await createTestApp({ ADMIN_TOKEN });
    const clients: Array<{ close(): void }> = [];
    try {
      const up = await upload(t, TINY_IMAGES.png);
      const picture = String(up.data.url);
      await t.app.storage.quizzes.put(
        quizOf(
          [
            choiceQuestion("plain"),
            choiceQuestion("pictured", { image: picture }),
            choiceQuestion("outside", { image: "https://example.org/q3.png" }),
          ],
          "game-pictures",
        ),
      );
      const port = await t.app.listen();
      const url = `ws://127.0.0.1:${port}/ws/v1`;
      const host = await connectClient(url);
      const player = await connectClient(url);
      clients.push(host, player);
      const room = await host.createRoom({
        quizId: "game-pictures",
        mode: "live",
        settings: { question_time_ms: 1_000 },
        hostName: "Host",
      });
      const questions = record<{ index: number; question: { image?: string } }>(player, "question");
      const reveals = record<{ index: number; next_image?: string }>(player, "reveal");
      await player.join({ pin: room.pin, displayName: "Pat" });
      await host.start();
      for (let k = 0; k < 3; k++) {
        await eventually(`the reveal of question ${k + 1}`, () =>
          reveals.some((r) => r.index === k),
        );
        if (k < 2) await host.nextQuestion();
      }
      expect(questions.map((q) => q.question.image)).toEqual([
        undefined,
        picture,
        "https://example.org/q3.png",
      ]);
      expect(reveals.map((r) => r.next_image)).toEqual([
        picture,
        "https://example.org/q3.png",
        undefined,
      ]);
    } finally {
      for (const c of clients) c.close();
      await t.close();
    }
  });
});
