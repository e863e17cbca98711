import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentSecurityPolicy, findWebRoot } from "../../src/doors/web/index.js";
import { pageSize } from "../../web/scripts/bundle-size.js";
import { createTestApp, type TestApp } from "../support/test-app.js";
import { ensureWebBuilt } from "./support.js";

/** The player page must stay small enough for a phone on a weak network. */
const PLAYER_BUDGET_GZIP = 100 * 1024;

describe("web door: serving the built app", () => {
  let t: TestApp;
  beforeAll(async () => {
    await ensureWebBuilt();
    t = await createTestApp({ DEMO_CONTENT: "false" });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it("serves the host app at / and the player page at /play, uncached, with a CSP that forbids inline script", async () => {
    for (const [url, marker] of [
      ["/", 'id="app"'],
      ["/play?pin=123456", "player-body"],
      ["/host/some-room", 'id="app"'],
      ["/quiz/new", 'id="app"'],
      ["/screen?pin=123456", 'id="app"'],
    ] as const) {
      const res = await t.app.fastify.inject({
        method: "GET",
        url,
        headers: { host: "quiz.test:8080" },
      });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers["content-type"]).toMatch(/^text\/html/);
      expect(res.headers["cache-control"]).toBe("no-cache");
      expect(res.body).toContain(marker);
      const csp = String(res.headers["content-security-policy"]);
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).not.toContain("unsafe-eval");
      expect(csp).toContain("connect-src 'self' ws://quiz.test:8080 wss://quiz.test:8080");
      // No inline script in the page itself: every script has a src.
      expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    }
  });

  it("serves hashed assets for a year, and unknown assets as 404", async () => {
    const html = (await t.app.fastify.inject({ method: "GET", url: "/play" })).body;
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const res = await t.app.fastify.inject({ method: "GET", url: script ?? "" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/javascript/);
    expect(res.headers["cache-control"]).toContain("max-age=31536000");
    expect(res.headers["cache-control"]).toContain("immutable");
    const missing = await t.app.fastify.inject({ method: "GET", url: "/assets/nope-123.js" });
    expect(missing.statusCode).toBe(404);
  });

  it("answers unknown pages with the app (404) for browsers and JSON for API clients", async () => {
    const page = await t.app.fastify.inject({
      method: "GET",
      url: "/no/such/page",
      headers: { accept: "text/html,application/xhtml+xml" },
    });
    expect(page.statusCode).toBe(404);
    expect(page.body).toContain('id="app"');
    const api = await t.app.fastify.inject({
      method: "GET",
      url: "/api/v1/nothing",
      headers: { accept: "text/html" },
    });
    expect(api.statusCode).toBe(404);
    expect(api.json()).toMatchObject({ code: "NOT_FOUND" });
    const machine = await t.app.fastify.inject({ method: "GET", url: "/no/such/page" });
    expect(machine.statusCode).toBe(404);
    expect(machine.json()).toMatchObject({ code: "NOT_FOUND", reason: "no_route" });
  });

  it("tells the app where phones can reach the server", async () => {
    const res = await t.app.fastify.inject({
      method: "GET",
      url: "/web-config.json",
      headers: { host: "localhost:9999" },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json() as {
      public_url: string | null;
      lan_urls: string[];
      admin_token_required: boolean;
    };
    expect(body.public_url).toBeNull();
    expect(body.admin_token_required).toBe(false);
    for (const u of body.lan_urls) expect(u).toMatch(/^http:\/\/[\d.]+:9999$/);
  });

  it("with PUBLIC_URL set, the join address is the operator's", async () => {
    const other = await createTestApp({
      DEMO_CONTENT: "false",
      PUBLIC_URL: "https://quiz.example.com",
      ADMIN_TOKEN: "secret-admin-token",
    });
    try {
      const body = (
        await other.app.fastify.inject({ method: "GET", url: "/web-config.json" })
      ).json();
      expect(body).toEqual({
        public_url: "https://quiz.example.com",
        lan_urls: [],
        admin_token_required: true,
      });
    } finally {
      await other.close();
    }
  });

  it("builds a CSP without trusting a malformed Host header", () => {
    expect(contentSecurityPolicy('evil.test"; script-src *')).toContain("connect-src 'self';");
    expect(contentSecurityPolicy(undefined)).toContain("connect-src 'self';");
  });

  it(`keeps the player page under ${PLAYER_BUDGET_GZIP / 1024} KB gzipped`, () => {
    const root = findWebRoot();
    expect(root).not.toBeNull();
    const size = pageSize(root ?? "", "play.html");
    // The player page never loads the host app's code (editor, QR encoder).
    expect(size.files.some((f) => /\/index-/.test(f.file))).toBe(false);
    console.info(
      `player page: ${(size.gzip / 1024).toFixed(1)} KB gzipped (${size.files.length} files)`,
    );
    expect(size.gzip).toBeLessThan(PLAYER_BUDGET_GZIP);
  });
});
