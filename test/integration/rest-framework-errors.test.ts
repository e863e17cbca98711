import { readFile } from "node:fs/promises";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../support/test-app.js";

// docs/errors.md, "REST error body": every REST error, Fastify's own body and routing errors
// included, has the one body `{code, message, reason?, issues?, retry_after_ms?}` and the HTTP
// status of its documented code. Written from the document: real HTTP over fetch, and a raw TCP
// socket for requests Node's parser refuses before any route runs.

type Json = Record<string, unknown>;
let t: TestApp;
let base: string;
let port: number;
/** code → HTTP status, as docs/errors.md's tables say. */
const documented = new Map<string, number>();
/** Every reason docs/errors.md lists. */
const reasons = new Set<string>();

beforeAll(async () => {
  const doc = await readFile(new URL("../../docs/errors.md", import.meta.url), "utf8");
  for (const m of doc.matchAll(/^## `([A-Z_]+)`\n[\s\S]*?\| HTTP status \| (\d{3}) \|/gm)) {
    documented.set(m[1] ?? "", Number(m[2]));
  }
  for (const m of doc.matchAll(/^\| `([a-z_]+)`(?:, `([a-z_]+)`)* \|/gm)) reasons.add(m[1] ?? "");
  t = await createTestApp();
  port = await t.app.listen();
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await t.close();
});

/** Asserts the one error body with its documented status, and returns it. */
function expectDocumented(status: number, contentType: string | null, text: string): Json {
  expect(contentType ?? "").toMatch(/^application\/json/);
  const body = JSON.parse(text) as Json;
  const allowed = new Set(["code", "message", "reason", "issues", "retry_after_ms"]);
  for (const key of Object.keys(body))
    expect(allowed.has(key), `unexpected field ${key}`).toBe(true);
  expect(documented.get(body.code as string), `code ${String(body.code)}`).toBe(status);
  expect(typeof body.message).toBe("string");
  if (body.reason !== undefined)
    expect(reasons.has(body.reason as string), String(body.reason)).toBe(true);
  return body;
}

async function call(path: string, init: RequestInit = {}): Promise<Json> {
  const res = await fetch(`${base}${path}`, init);
  return expectDocumented(res.status, res.headers.get("content-type"), await res.text());
}

/** Sends raw bytes and returns the status line, content type and body of the response. */
function raw(
  request: string | Buffer,
): Promise<{ status: number; type: string | null; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let got = "";
    socket.on("data", (chunk) => {
      got += chunk.toString("utf8");
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      const [head = "", body = ""] = got.split("\r\n\r\n");
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      const type = /\r\ncontent-type: ([^\r]+)/i.exec(head)?.[1] ?? null;
      if (status === 0) reject(new Error(`no response: ${JSON.stringify(got)}`));
      else resolve({ status, type, body });
    });
    socket.write(request);
  });
}

const json = { "content-type": "application/json" };

describe("framework errors leave in the one documented REST error body", () => {
  it("a path id over 100 characters: a 400 VALIDATION from the route's own schema, never a 414 echoing the URL", async () => {
    const id = "x".repeat(150);
    for (const [path, init] of [
      [`/api/v1/quizzes/${id}`, {}],
      [`/api/v1/sessions/${id}`, {}],
      [
        `/quizzes/${id}/answers`,
        {
          method: "POST",
          headers: json,
          body: '{"participant_id":"p","question_id":"q","answer":"a"}',
        },
      ],
      [`/quizzes/${id}/leaderboard`, {}],
    ] as const) {
      const body = await call(path, init as RequestInit);
      expect(body.code, path).toBe("VALIDATION");
      expect(body.message as string).not.toContain(id);
    }
  });

  it("a path parameter beyond what the router takes is 400 VALIDATION param_too_long, without the URL", async () => {
    const id = "y".repeat(1_500);
    const body = await call(`/quizzes/${id}/answers`, {
      method: "POST",
      headers: json,
      body: "{}",
    });
    expect(body).toMatchObject({ code: "VALIDATION", reason: "param_too_long" });
    expect(body.message as string).not.toContain(id);
  });

  it("a URL that does not decode is 400 VALIDATION bad_url", async () => {
    for (const path of [
      "/api/v1/quizzes/%E0%A4%A",
      "/api/v1/sessions/%ff",
      "/quizzes/%zz/leaderboard",
    ]) {
      expect(await call(path), path).toMatchObject({ code: "VALIDATION", reason: "bad_url" });
    }
  });

  it("bad JSON, an empty JSON body, prototype keys, a wrong content type and a body over 1 MiB", async () => {
    const post = (body: string | Uint8Array, headers: Record<string, string> = json) =>
      call("/api/v1/sessions", { method: "POST", headers, body: body as BodyInit });
    expect(await post("{not json")).toMatchObject({ code: "VALIDATION", reason: "bad_json" });
    expect(await post("")).toMatchObject({ code: "VALIDATION", reason: "empty_body" });
    expect(await post('{"__proto__":{"admin":true}}')).toMatchObject({ code: "VALIDATION" });
    expect(await post('{"constructor":{"prototype":{"x":1}}}')).toMatchObject({
      code: "VALIDATION",
    });
    expect(await post("<a/>", { "content-type": "application/xml" })).toMatchObject({
      code: "VALIDATION",
      reason: "unsupported_media_type",
    });
    expect(await post(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]))).toMatchObject(
      {
        code: "VALIDATION",
      },
    );
    const big = `{"quiz_id":"${"z".repeat(1_100_000)}"}`;
    expect(await post(big)).toMatchObject({ code: "VALIDATION", reason: "body_too_large" });
  });

  it("an unknown route, an unknown method and a wrong method are 404 NOT_FOUND no_route, the path cut short", async () => {
    expect(await call("/api/v1/nope")).toMatchObject({ code: "NOT_FOUND", reason: "no_route" });
    expect(await call("/api/v1/quizzes", { method: "PATCH" })).toMatchObject({
      reason: "no_route",
    });
    expect(await call("/api/v1/sessions", { method: "DELETE" })).toMatchObject({
      reason: "no_route",
    });
    const long = `/api/v2/${"w".repeat(2_000)}`;
    const body = await call(long);
    expect(body.reason).toBe("no_route");
    expect((body.message as string).length).toBeLessThan(200);
  });

  it("a request Node's parser refuses (malformed, headers too large) gets the same body", async () => {
    const malformed = await raw("GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n");
    expect(expectDocumented(malformed.status, malformed.type, malformed.body)).toMatchObject({
      code: "VALIDATION",
      reason: "bad_http",
    });
    const huge = await raw(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"h".repeat(20_000)}\r\n\r\n`);
    expect(expectDocumented(huge.status, huge.type, huge.body)).toMatchObject({
      code: "VALIDATION",
      reason: "headers_too_large",
    });
    const notHttp = await raw(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x0d, 0x0a, 0x0d, 0x0a]));
    expect(expectDocumented(notHttp.status, notHttp.type, notHttp.body).code).toBe("VALIDATION");
  });
});
