import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { ServerData } from "../../src/doors/canonical/protocol.js";
import type { QuizwireClient } from "../../src/sdk/index.js";
import { connectClient, EventLog } from "../support/clients.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

const SECRET = "a-test-secret-of-32-characters!!";
const key = new TextEncoder().encode(SECRET);

async function jwt(claims: Record<string, unknown>, expiresIn = "1h"): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(key);
}

/** The HTTP status an upgrade is refused with, or 101 when it is accepted. */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on("open", () => {
      resolve(101);
      ws.close();
    });
    ws.on("error", () => undefined);
  });
}

let t: TestApp;
let url: string;
const clients: QuizwireClient[] = [];

beforeAll(async () => {
  t = await createTestApp({ JWT_SECRET: SECRET });
  url = `ws://127.0.0.1:${await t.app.listen()}/ws/v1`;
});
afterAll(async () => {
  for (const c of clients) c.close();
  await t.close();
});

async function client(token?: string): Promise<QuizwireClient> {
  const c = await connectClient(url, token ? { token } : {});
  clients.push(c);
  return c;
}

describe("identity", () => {
  it("a JWT names the user (seed 000 claims sub/handle/roles, or seed 004's user_id/username)", async () => {
    const a = await client(await jwt({ sub: "user-42", handle: "ann", roles: ["teacher"] }));
    expect(a.userId).toBe("user-42");
    expect(a.identityToken).toBeNull();
    const b = await client(await jwt({ user_id: "user_bob_1700000000", username: "bob" }));
    expect(b.userId).toBe("user_bob_1700000000");
  });

  it("bad and expired tokens are refused before the upgrade with 401", async () => {
    expect(await upgradeStatus(`${url}?token=not-a-jwt`)).toBe(401);
    const expired = await new SignJWT({ sub: "x" })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(key);
    expect(await upgradeStatus(`${url}?token=${expired}`)).toBe(401);
    const forged = await new SignJWT({ sub: "x" })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("another-secret-another-secret!!"));
    expect(await upgradeStatus(`${url}?token=${forged}`)).toBe(401);
    expect(await upgradeStatus(url)).toBe(101);
  });

  it("an anonymous identity token brings back the same user id", async () => {
    const first = await client();
    const again = await client();
    expect(again.userId).not.toBe(first.userId);
    const same = await connectClient(url, { identityToken: first.identityToken ?? undefined });
    clients.push(same);
    expect(same.userId).toBe(first.userId);
    const tampered = await connectClient(url, { identityToken: `${first.userId}.forged` });
    clients.push(tampered);
    expect(tampered.userId).not.toBe(first.userId);
  });

  it("R-1: host-only actions are enforced by the server; an admin may act in any room", async () => {
    const host = await client(await jwt({ sub: "teacher-1" }));
    const room = await host.createRoom({ quizId: "general-knowledge" });
    const pupil = await client(await jwt({ sub: "pupil-1" }));
    await pupil.join({ pin: room.pin, displayName: "Pupil" });
    await expect(pupil.start()).rejects.toMatchObject({ code: "FORBIDDEN", reason: "not_host" });
    await expect(pupil.kick(room.participantId)).rejects.toMatchObject({ code: "FORBIDDEN" });
    const admin = await client(await jwt({ sub: "ops", roles: ["admin"] }));
    await admin.spectate({ pin: room.pin });
    const ack = await admin.start();
    expect(ack.phase).toBe("question");
  });
});

describe("anonymous access switched off", () => {
  it("refuses connections without a token", async () => {
    const closed = await createTestApp({ JWT_SECRET: SECRET, ALLOW_ANONYMOUS: "false" });
    try {
      const u = `ws://127.0.0.1:${await closed.app.listen()}/ws/v1`;
      expect(await upgradeStatus(u)).toBe(401);
      expect(await upgradeStatus(`${u}?token=${await jwt({ sub: "someone" })}`)).toBe(101);
    } finally {
      await closed.close();
    }
  });
});

describe("R-2: spectators (a big screen)", () => {
  it("watch a room by PIN, see the roster and every public event, and cannot act", async () => {
    const host = await client();
    const room = await host.createRoom({
      quizId: "general-knowledge",
      settings: { question_time_ms: 60_000 },
    });
    const screen = await client();
    const log = new EventLog(screen, ["player_joined", "question", "reveal", "answer_count"]);
    const state = await screen.spectate({ pin: room.pin });
    expect(state.players).toEqual([]);
    const p = await client();
    await p.join({ pin: room.pin, displayName: "Zoe" });
    const joined = await log.wait<ServerData<"player_joined">>("player_joined");
    expect(joined.participant.name).toBe("Zoe");
    await host.start();
    await log.wait("question");
    await expect(screen.answer(0, { choice: 0 })).rejects.toMatchObject({
      code: "STATE",
      reason: "not_joined",
    });
    await expect(screen.nextQuestion()).rejects.toMatchObject({ code: "FORBIDDEN" });
    await p.answer(0, { choice: 1 });
    const reveal = await log.wait<ServerData<"reveal">>("reveal");
    expect(reveal.you).toBeNull();
    expect(reveal.leaderboard.map((s) => s.name)).toEqual(["Zoe"]);
  });
});
