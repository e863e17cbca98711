/**
 * Issue 11, "the seeds' limits as defaults" (docs/limits.md): seed 000's 10
 * messages/s per user and 3 join attempts per 30 s on /ws/v1, its per-room
 * action bucket, the /login limit, and the per-user bucket holding across two
 * instances that share Redis, reconciled in batches rather than per message.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import { loadConfig } from "../../src/config.js";
import type { AnyServerFrame, ServerData } from "../../src/doors/canonical/protocol.js";
import { LOGIN_LIMIT } from "../../src/doors/contest/contest-routes.js";
import { type App, createApp } from "../../src/server/app.js";
import { RawSocket } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { adminClient, deleteKeys, randomKeyPrefix } from "../support/redis.js";
import { redisAvailable, requireOrSkip, TEST_REDIS_URL } from "../support/services.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

const SECRET = "limits-test-secret-0123456789";

function mint(userId: string): Promise<string> {
  return new SignJWT({ sub: userId, handle: userId })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(SECRET));
}

/**
 * Sends a ping and resolves with its pong, or the RATE_LIMIT error that took its place (which
 * names the refused message's msg_id, so a client knows what to send again).
 */
async function ping(raw: RawSocket, id: string): Promise<AnyServerFrame> {
  const before = raw.frames.length;
  raw.send({ v: 1, type: "ping", msg_id: id, data: {} });
  return raw.next((f) => raw.frames.indexOf(f) >= before && f.msg_id === id);
}

const isLimited = (f: AnyServerFrame) =>
  f.type === "error" && (f.data as ServerData<"error">).code === "RATE_LIMIT";

describe("seed 000's limits on one instance", () => {
  let t: TestApp;
  let ws: string;
  let http: string;
  const sockets: RawSocket[] = [];
  const open = async (query = "") => {
    const s = await RawSocket.open(`${ws}/ws/v1${query}`);
    sockets.push(s);
    return s;
  };

  beforeAll(async () => {
    // A fixed clock: every message of a test falls in the same one-second window.
    t = await createTestApp({ JWT_SECRET: SECRET }, { clock: new FakeClock(1_000_000_000) });
    const port = await t.app.listen();
    ws = `ws://127.0.0.1:${port}`;
    http = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await t.close();
  });

  it("10 messages per second per user (20 per 2 s), counted over all of the user's connections", async () => {
    const token = await mint("busy-user");
    const one = await open(`?token=${token}`);
    const two = await open(`?token=${token}`);
    const replies: AnyServerFrame[] = [];
    for (let i = 0; i < 11; i++) replies.push(await ping(one, `a${i}`));
    for (let i = 0; i < 11; i++) replies.push(await ping(two, `b${i}`));
    expect(replies.filter((f) => f.type === "pong")).toHaveLength(20);
    const refused = replies.filter(isLimited);
    expect(refused).toHaveLength(2);
    expect((refused[0]!.data as ServerData<"error">).retry_after_ms).toBeGreaterThan(0);
    // Another user is not affected.
    const other = await open(`?token=${await mint("calm-user")}`);
    expect((await ping(other, "c0")).type).toBe("pong");
  });

  it("3 join attempts per 30 s per user", async () => {
    const raw = await open(`?token=${await mint("joiner")}`);
    const codes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await raw.request("join", `j${i}`, { pin: "000000", display_name: "J" });
      codes.push((r.data as ServerData<"error">).code);
    }
    expect(codes).toEqual(["NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "RATE_LIMIT"]);
  });

  it("POST /login is limited per address", async () => {
    const statuses: number[] = [];
    for (let i = 0; i <= LOGIN_LIMIT.limit; i++) {
      const res = await fetch(`${http}/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: `u${i}`, password: "x" }),
      });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
        expect(await res.json()).toMatchObject({ code: "RATE_LIMIT", reason: "rate_limited" });
      }
    }
    expect(statuses.slice(0, LOGIN_LIMIT.limit).every((s) => s === 200)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });
});

describe("seed 000's per-room action bucket", () => {
  let t: TestApp;
  let ws: string;
  const sockets: RawSocket[] = [];

  beforeAll(async () => {
    t = await createTestApp(
      { JWT_SECRET: SECRET },
      { clock: new FakeClock(2_000_000_000), canonicalLimits: { roomActionsPerSecond: 2 } },
    );
    ws = `ws://127.0.0.1:${await t.app.listen()}/ws/v1`;
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await t.close();
  });

  it("a room takes only so many actions per second from all its clients together (room_busy)", async () => {
    const host = await RawSocket.open(`${ws}?token=${await mint("room-host")}`);
    sockets.push(host);
    const created = await host.request("create_room", "c", { quiz_id: "general-knowledge" });
    const pin = (created.data as ServerData<"room_created">).pin;
    const outcomes: string[] = [];
    for (const name of ["p1", "p2", "p3"]) {
      const p = await RawSocket.open(`${ws}?token=${await mint(name)}`);
      sockets.push(p);
      const r = await p.request("join", "j", { pin, display_name: name });
      outcomes.push(r.type === "error" ? ((r.data as ServerData<"error">).reason ?? "") : r.type);
    }
    // Two joins fit in the room's bucket this second; the third is refused.
    expect(outcomes).toEqual(["joined", "joined", "room_busy"]);
  });
});

const redis = requireOrSkip(await redisAvailable());

describe.skipIf(redis.skip)(
  redis.title("per-user limits across two instances sharing Redis"),
  () => {
    // Aligned to a window start, and shared: both instances count the same one-second window.
    const clock = new FakeClock(3_000_000_000);
    let dir = "";
    let prefix = "";
    const apps: App[] = [];
    const urls: string[] = [];
    const sockets: RawSocket[] = [];

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "quizwire-limits-"));
      prefix = randomKeyPrefix();
      for (let i = 0; i < 2; i++) {
        const config = loadConfig({
          DATA_DIR: dir,
          PORT: "0",
          HOST: "127.0.0.1",
          LOG_LEVEL: "silent",
          JWT_SECRET: SECRET,
          REDIS_URL: TEST_REDIS_URL,
          REDIS_KEY_PREFIX: prefix,
          EVENT_LOOP_LAG_LIMIT_MS: "0",
        });
        const app = await createApp({ config, clock });
        apps.push(app);
        urls.push(`ws://127.0.0.1:${await app.listen()}/ws/v1`);
      }
    });
    afterAll(async () => {
      for (const s of sockets) s.close();
      for (const app of apps.reverse()) await app.close();
      await rm(dir, { recursive: true, force: true });
      if (prefix) await deleteKeys(TEST_REDIS_URL, prefix);
    });

    it("a user who spent their 20 messages (2 s window) on one instance is refused on the other after one reconciliation; nothing goes to Redis per message", async () => {
      const token = await mint("roamer");
      const [a, b] = [urls[0]!, urls[1]!];
      const onA = await RawSocket.open(`${a}?token=${token}`);
      const onB = await RawSocket.open(`${b}?token=${token}`);
      sockets.push(onA, onB);
      for (let i = 0; i < 20; i++) expect((await ping(onA, `a${i}`)).type).toBe("pong");

      // A adds its 20 to the shared counter when its reconciliation period is over.
      const probe = await adminClient(TEST_REDIS_URL);
      const counterKey = `${prefix}count:msg:canonical:roamer@${Math.floor(clock.now() / 2_000)}`;
      try {
        // Nothing went to Redis per message: the counts wait for the end of the period.
        expect(await probe.get(counterKey)).toBeNull();
        clock.advance(100);
        await eventually("A's count in Redis", () => probe.get(counterKey), {
          until: (v) => v === "20",
        });

        // B has not heard of this user yet: its first message goes through, and its own
        // reconciliation brings back A's 20.
        expect((await ping(onB, "b0")).type).toBe("pong");
        clock.advance(100);
        await eventually("B's count in Redis", () => probe.get(counterKey), {
          until: (v) => v === "21",
        });
        let n = 0;
        await eventually("B refuses the user", async () => isLimited(await ping(onB, `b${++n}`)));
        // Still the same window: without the reconciliation B alone would have let 20 through.
        expect(clock.now() - 3_000_000_000).toBeLessThan(2_000);
        const passedOnB = onB.frames.filter((f) => f.type === "pong").length;
        expect(passedOnB).toBeLessThan(20);
      } finally {
        probe.disconnect();
      }
    });
  },
);
