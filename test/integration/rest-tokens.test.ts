import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../support/test-app.js";

// docs/errors.md, UNAUTHORIZED / invalid_token: "A bad JWT is refused on every route, public ones
// included." Written from the document with fetch: forged, expired and alg:none tokens on routes
// that need no token at all.

const SECRET = "rest-tokens-test-secret-0123456789";
type Json = Record<string, unknown>;

let t: TestApp;
let base: string;
let sessionId: string;
let pin: string;
let seed002Quiz: string;
const bad: Record<string, string> = {};

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

beforeAll(async () => {
  t = await createTestApp({ JWT_SECRET: SECRET });
  base = `http://127.0.0.1:${await t.app.listen()}`;
  const created = await fetch(`${base}/api/v1/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ quiz_id: "vocab-101" }),
  });
  const s = (await created.json()) as Json;
  sessionId = s.session_id as string;
  pin = s.pin as string;
  const quiz = await fetch(`${base}/quizzes`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ from_quiz: "vocab-101" }),
  });
  seed002Quiz = ((await quiz.json()) as Json).quiz_id as string;

  bad.forged = await new SignJWT({ sub: "mallory", roles: ["admin"] })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode("not-the-server-secret-0123456789"));
  bad.expired = await new SignJWT({ sub: "alice" })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
    .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
    .sign(new TextEncoder().encode(SECRET));
  bad.algNone = `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "mallory", roles: ["admin"] })}.`;
});
afterAll(async () => {
  await t.close();
});

const publicRoutes = () => [
  "/api/v1/quizzes",
  "/api/v1/bank",
  "/api/v1/quizzes/vocab-101",
  `/api/v1/sessions/${sessionId}`,
  `/api/v1/sessions/${sessionId}/leaderboard`,
  `/api/v1/rooms/${pin}`,
  `/quizzes/${seed002Quiz}/leaderboard`,
];

describe("a bad JWT is refused on every route, public ones included", () => {
  it("public routes answer 200 without a token", async () => {
    for (const path of publicRoutes()) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
    }
  });

  for (const kind of ["forged", "expired", "algNone"]) {
    it(`a ${kind} token is 401 UNAUTHORIZED invalid_token on every public route`, async () => {
      for (const path of publicRoutes()) {
        const res = await fetch(`${base}${path}`, {
          headers: { authorization: `Bearer ${bad[kind]}` },
        });
        expect(res.status, path).toBe(401);
        expect(await res.json(), path).toMatchObject({
          code: "UNAUTHORIZED",
          reason: "invalid_token",
        });
      }
    });
  }

  it("probes and the metrics scrape are not API routes: an Authorization header there is not judged", async () => {
    for (const path of ["/health/live", "/metrics"]) {
      const res = await fetch(`${base}${path}`, {
        headers: { authorization: `Bearer ${bad.forged}` },
      });
      expect(res.status, path).toBe(200);
    }
  });
});
