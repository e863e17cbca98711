/**
 * Seed 003's MAX_CONNECTIONS_PER_INSTANCE and ENABLE_RATE_LIMITING (issues 9 and 11), written
 * from the documents: raw HTTP upgrade requests, raw `ws` sockets and fetch against a real server.
 */
import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { eventually } from "../support/eventually.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function listening(env: Record<string, string>): Promise<number> {
  app = await createTestApp(env);
  return app.app.listen();
}

/** A WebSocket upgrade by hand: the HTTP status, Retry-After and body of a refusal, or 101. */
function upgrade(
  port: number,
  path: string,
): Promise<{ status: number; retryAfter?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: "127.0.0.1",
      port,
      path,
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: "" });
    });
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          body,
          ...(res.headers["retry-after"] ? { retryAfter: res.headers["retry-after"] } : {}),
        }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

/** A raw socket that has received its first frame (the door is really serving it). */
async function openSocket(url: string, first?: unknown): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once("error", reject);
    ws.once("open", () => {
      if (first === undefined) return;
      ws.send(JSON.stringify(first));
    });
    ws.once("message", () => resolve());
  });
  return ws;
}

async function ready(port: number) {
  const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
  const body = (await res.json()) as {
    status: string;
    checks: { connections: { status: string; connections: number; max: number | null } };
  };
  return { status: res.status, body };
}

describe("MAX_CONNECTIONS_PER_INSTANCE", () => {
  it("refuses upgrades past the cap with 503 before the upgrade, on every door, and readiness says so", async () => {
    const port = await listening({ MAX_CONNECTIONS_PER_INSTANCE: "2" });
    expect((await ready(port)).body.checks.connections).toEqual({
      status: "ok",
      connections: 0,
      max: 2,
    });
    const a = await openSocket(`ws://127.0.0.1:${port}/ws/v1`);
    const b = await openSocket(`ws://127.0.0.1:${port}/ws?user_id=capped-b`, {
      type: "PING",
      payload: {},
    });

    for (const path of ["/ws/v1", "/ws?user_id=capped-c", "/ws/contests/x?token=t"]) {
      const refused = await upgrade(port, path);
      expect(refused).toEqual({
        status: 503,
        retryAfter: "5",
        body: "WebSocket upgrade failed: server at capacity, try again later",
      });
    }
    const full = await ready(port);
    expect(full.status).toBe(503);
    expect(full.body.checks.connections).toEqual({ status: "full", connections: 2, max: 2 });
    // The connections held are served as before.
    const pong = new Promise((resolve) => b.once("message", resolve));
    b.send(JSON.stringify({ type: "PING", payload: {} }));
    expect(JSON.parse(String(await pong)).type).toBe("PONG");

    // A closed connection frees its place.
    a.close();
    await eventually("ready again after a close", async () => (await ready(port)).status === 200);
    expect((await ready(port)).body.checks.connections).toEqual({
      status: "ok",
      connections: 1,
      max: 2,
    });
    expect((await upgrade(port, "/ws/v1")).status).toBe(101);
    b.close();
  });

  it("a burst of upgrades at once cannot overshoot the cap: upgrades still being admitted count", async () => {
    const port = await listening({ MAX_CONNECTIONS_PER_INSTANCE: "3" });
    const outcomes = await Promise.all(
      Array.from(
        { length: 8 },
        (_, i) =>
          new Promise<number | WebSocket>((resolve) => {
            const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?user_id=burst-${i}`);
            ws.once("open", () => resolve(ws));
            ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
          }),
      ),
    );
    const opened = outcomes.filter((o): o is WebSocket => typeof o !== "number");
    expect(opened).toHaveLength(3);
    expect(outcomes.filter((o) => o === 503)).toHaveLength(5);
    for (const ws of opened) ws.close();
  });

  it("unset: no cap, and readiness reports the connections with max null", async () => {
    const port = await listening({});
    const sockets = await Promise.all(
      [1, 2, 3].map(() => openSocket(`ws://127.0.0.1:${port}/ws/v1`)),
    );
    const r = await ready(port);
    expect(r.status).toBe(200);
    expect(r.body.checks.connections).toEqual({ status: "ok", connections: 3, max: null });
    for (const s of sockets) s.close();
  });
});

describe("ENABLE_RATE_LIMITING", () => {
  /** Sends 60 pings at once on the canonical door; resolves with how many were refused RATE_LIMIT. */
  async function flood(port: number): Promise<number> {
    const ws = await openSocket(`ws://127.0.0.1:${port}/ws/v1`);
    let limited = 0;
    let answered = 0;
    await new Promise<void>((resolve) => {
      ws.on("message", (data) => {
        const f = JSON.parse(String(data)) as { type: string; data?: { code?: string } };
        if (f.type === "error" && f.data?.code === "RATE_LIMIT") limited += 1;
        if (f.type === "pong" || f.type === "error") answered += 1;
        if (answered === 60) resolve();
      });
      for (let i = 0; i < 60; i++) {
        ws.send(JSON.stringify({ v: 1, type: "ping", msg_id: `p${i}`, data: {} }));
      }
    });
    ws.close();
    return limited;
  }

  it("on by default: a burst of 60 messages is rate limited", async () => {
    expect(await flood(await listening({}))).toBeGreaterThan(0);
  });

  it("false: the same burst is answered in full", async () => {
    expect(await flood(await listening({ ENABLE_RATE_LIMITING: "false" }))).toBe(0);
  });
});
