import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ServerProcess } from "../support/server-process.js";

const dataDir = mkdtempSync(join(tmpdir(), "quizwire-admin-default-"));
const servers: ServerProcess[] = [];

afterAll(async () => {
  for (const s of servers) await s.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

const TOKEN_LINE = /ADMIN TOKEN \(printed once\): (\S+)/;

async function call(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe("a server bound to a network address with no ADMIN_TOKEN (issue 11: admin closed on a network)", () => {
  it("generates an admin token on first start, prints it once, and refuses admin REST, /internal/rooms and REST session control without it", async () => {
    const first = await ServerProcess.start({ DATA_DIR: dataDir, PORT: "0", HOST: "0.0.0.0" });
    servers.push(first);
    const base = `http://127.0.0.1:${first.port}`;
    const token = TOKEN_LINE.exec(first.output.join(""))?.[1];
    expect(token, "the first start's log prints the generated token").toMatch(/^[\w-]{20,}$/);

    // Admin REST and seed 000's internal aliases.
    expect((await call(base, "GET", "/api/v1/sessions")).status).toBe(401);
    const quiz = { title: "t", questions: [] };
    expect((await call(base, "POST", "/api/v1/quizzes", { body: quiz })).status).toBe(401);
    const closeAlias = await call(
      base,
      "POST",
      "/internal/rooms/00000000-0000-0000-0000-000000000000/close",
    );
    expect(closeAlias.status).toBe(401);
    expect(closeAlias.body.code).toBe("UNAUTHORIZED");
    expect((await call(base, "GET", "/api/v1/sessions", { token: "wrong-token" })).status).toBe(
      403,
    );

    // REST control of a session someone else created: no credentials, no control.
    const created = await call(base, "POST", "/api/v1/sessions", {
      body: { quiz_id: "general-knowledge", mode: "live" },
    });
    expect(created.status).toBe(201);
    const id = String(created.body.session_id);
    const start = await call(base, "POST", `/api/v1/sessions/${id}/start`);
    expect(start.status).toBe(401);

    // The printed token opens all of it.
    expect((await call(base, "GET", "/api/v1/sessions", { token })).status).toBe(200);
    expect((await call(base, "POST", `/api/v1/sessions/${id}/start`, { token })).status).toBe(200);
    const closed = await call(base, "POST", `/internal/rooms/${id}/close`, { token });
    expect(closed.status).toBe(200);

    // The web app learns it must ask for the token.
    const webConfig = await call(base, "GET", "/web-config.json");
    expect(webConfig.body.admin_token_required).toBe(true);
    await first.kill("SIGTERM");

    // Second start on the same data directory: the same token, never printed again.
    const second = await ServerProcess.start({ DATA_DIR: dataDir, PORT: "0", HOST: "0.0.0.0" });
    servers.push(second);
    const again = `http://127.0.0.1:${second.port}`;
    const log = second.output.join("");
    expect(log).not.toContain(token);
    expect(log).toContain("generated on this server's first start");
    expect((await call(again, "GET", "/api/v1/sessions")).status).toBe(401);
    expect((await call(again, "GET", "/api/v1/sessions", { token })).status).toBe(200);
  }, 60_000);
});
