/**
 * Issue 11, "Origins": with ALLOWED_ORIGINS unset the server accepts its own
 * origin and PUBLIC_URL's, not every origin; clients with no Origin still get
 * in; REST CORS follows the same list. Raw `ws` and `fetch`, as a browser or
 * a script would send them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upgradeStatus } from "../support/clients.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

describe("origins with ALLOWED_ORIGINS unset", () => {
  let t: TestApp;
  let port: number;
  let http: string;
  let ws: string;

  beforeAll(async () => {
    t = await createTestApp({ PUBLIC_URL: "https://quiz.example.com" });
    port = await t.app.listen();
    http = `http://127.0.0.1:${port}`;
    ws = `ws://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await t.close();
  });

  it("a WebSocket from another site's page is refused with 403 on every door", async () => {
    const evil = { Origin: "https://evil.example" };
    expect(await upgradeStatus(`${ws}/ws/v1`, evil)).toBe(403);
    expect(await upgradeStatus(`${ws}/ws?user_id=u1`, evil)).toBe(403);
    expect(await upgradeStatus(`${ws}/quizzes/q1/ws`, evil)).toBe(403);
  });

  it("a WebSocket from the server's own origin, from PUBLIC_URL, or with no Origin opens", async () => {
    expect(await upgradeStatus(`${ws}/ws/v1`, { Origin: http })).toBe(101);
    expect(await upgradeStatus(`${ws}/ws/v1`, { Origin: "https://quiz.example.com" })).toBe(101);
    expect(await upgradeStatus(`${ws}/ws/v1`)).toBe(101);
    // Behind a proxy the Host is the public name: that origin is the server's own.
    const proxied = { Host: "quiz.lan:8443", Origin: "https://quiz.lan:8443" };
    expect(await upgradeStatus(`${ws}/ws/v1`, proxied)).toBe(101);
  });

  it("REST: an allowed origin gets CORS headers (preflight included); another gets none and a 403", async () => {
    const own = await fetch(`${http}/api/v1/quizzes`, { headers: { Origin: http } });
    expect(own.status).toBe(200);
    expect(own.headers.get("access-control-allow-origin")).toBe(http);

    const preflight = await fetch(`${http}/api/v1/quizzes`, {
      method: "OPTIONS",
      headers: {
        Origin: "https://quiz.example.com",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://quiz.example.com");
    expect(preflight.headers.get("access-control-allow-methods")).toContain("DELETE");

    const evilPreflight = await fetch(`${http}/api/v1/quizzes`, {
      method: "OPTIONS",
      headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "POST" },
    });
    expect(evilPreflight.headers.get("access-control-allow-origin")).toBeNull();

    const evil = await fetch(`${http}/api/v1/quizzes`, {
      headers: { Origin: "https://evil.example" },
    });
    expect(evil.status).toBe(403);
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
    expect(await evil.json()).toMatchObject({ code: "FORBIDDEN", reason: "origin_not_allowed" });
    // A cross-site form post (no preflight) changes nothing either.
    const formPost = await fetch(`${http}/api/v1/sessions`, {
      method: "POST",
      headers: { Origin: "https://evil.example", "content-type": "application/json" },
      body: JSON.stringify({ quiz_id: "general-knowledge", mode: "live" }),
    });
    expect(formPost.status).toBe(403);
    // Health checks and scripts (no Origin) are untouched.
    expect((await fetch(`${http}/api/v1/quizzes`)).status).toBe(200);
    expect((await fetch(`${http}/health/ready`, { headers: { Origin: http } })).status).toBe(200);
  });
});

describe("origins with ALLOWED_ORIGINS set", () => {
  let t: TestApp;
  let http: string;
  let ws: string;

  beforeAll(async () => {
    t = await createTestApp({ ALLOWED_ORIGINS: "https://partner.example" });
    const port = await t.app.listen();
    http = `http://127.0.0.1:${port}`;
    ws = `ws://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await t.close();
  });

  it("a listed origin gets in over WebSocket and REST (with CORS), besides the server's own", async () => {
    const partner = { Origin: "https://partner.example" };
    expect(await upgradeStatus(`${ws}/ws/v1`, partner)).toBe(101);
    expect(await upgradeStatus(`${ws}/ws/v1`, { Origin: http })).toBe(101);
    expect(await upgradeStatus(`${ws}/ws/v1`, { Origin: "https://other.example" })).toBe(403);
    const res = await fetch(`${http}/api/v1/quizzes`, { headers: partner });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://partner.example");
  });
});
