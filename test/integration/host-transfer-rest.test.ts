/**
 * H-3 over REST: after the host hands over, the new host's own JWT controls the session over
 * REST too (the REST check asks the room who the host is now), and the old host's is refused.
 */
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataOf, RawSocket } from "../support/clients.js";
import { choiceQuestion, quizOf } from "../support/fixtures.js";
import { createTestApp } from "../support/test-app.js";

const SECRET = "jwt-secret-for-host-transfer-0123";
let t: Awaited<ReturnType<typeof createTestApp>>;
let port: number;
const sockets: RawSocket[] = [];

function jwt(sub: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(SECRET));
}

async function open(token: string): Promise<RawSocket> {
  const s = await RawSocket.open(`ws://127.0.0.1:${port}/ws/v1?token=${token}`);
  sockets.push(s);
  return s;
}

beforeAll(async () => {
  t = await createTestApp({ JWT_SECRET: SECRET, ADMIN_TOKEN: "admin-token-host-transfer-0123" });
  port = await t.app.listen();
  await t.app.storage.quizzes.put(quizOf([choiceQuestion("q1"), choiceQuestion("q2")], "hq"));
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await t.close();
});

describe("H-3 over REST", () => {
  it("H-3: after transfer_host the new host's JWT starts the session over REST; the old host's is refused", async () => {
    const [hostToken, annToken] = await Promise.all([jwt("creator"), jwt("ann")]);
    const host = await open(hostToken);
    const room = dataOf(
      await host.request("create_room", "c1", { quiz_id: "hq", mode: "live", host_name: "H" }),
      "room_created",
    );
    const ann = await open(annToken);
    dataOf(await ann.request("join", "j1", { pin: room.pin, display_name: "Ann" }), "joined");
    dataOf(await host.request("transfer_host", "t1", { user_id: "ann" }), "ack");

    const start = (token: string) =>
      fetch(`http://127.0.0.1:${port}/api/v1/sessions/${room.room_id}/start`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
      });
    const old = await start(hostToken);
    expect(old.status).toBe(403);
    expect(await old.json()).toMatchObject({ code: "FORBIDDEN", reason: "not_host" });
    const now = await start(annToken);
    expect(now.status, await now.clone().text()).toBe(200);
  });
});
