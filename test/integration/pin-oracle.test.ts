import { SignJWT } from "jose";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { asUserId } from "../../src/domain/ids.js";
import { RawSocket } from "../support/clients.js";
import { FakeSocket } from "../support/fake-socket.js";
import { deleteKeys, randomKeyPrefix } from "../support/redis.js";
import {
  freshPgSchema,
  type PgSchema,
  postgresAvailable,
  redisAvailable,
  requireOrSkip,
  TEST_REDIS_URL,
} from "../support/services.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

// P-4 and invariant 8 of the brief: past the PIN limit no lookup, by any door or route, tells a
// right PIN from a wrong one. Written from docs/protocol.md and docs/errors.md: raw WebSocket
// frames and fetch. Seed 000: 10 PIN guesses per hour; excessive guessers are shadow-banned.

type Json = Record<string, unknown>;

/** What a refusal looks like to the client, whatever the door: code and reason. */
interface Outcome {
  code: string;
  reason: string | undefined;
}

class Server {
  readonly sockets: RawSocket[] = [];
  constructor(
    readonly t: TestApp,
    readonly base: string,
    readonly wsUrl: string,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<Server> {
    const t = await createTestApp(env);
    const port = await t.app.listen();
    return new Server(t, `http://127.0.0.1:${port}`, `ws://127.0.0.1:${port}/ws/v1`);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.close();
    await this.t.close();
  }

  async createRoom(): Promise<string> {
    const res = await fetch(`${this.base}/api/v1/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ quiz_id: "vocab-101", mode: "live" }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as Json).pin as string;
  }

  /** GET /api/v1/rooms/{pin}: 200 means found. */
  async rest(pin: string): Promise<Outcome | "found"> {
    const res = await fetch(`${this.base}/api/v1/rooms/${pin}`);
    if (res.status === 200) return "found";
    const body = (await res.json()) as Json;
    expect(res.status).toBe(body.code === "RATE_LIMIT" ? 429 : 404);
    return { code: body.code as string, reason: body.reason as string | undefined };
  }

  /** A `spectate` or `join` by PIN on a fresh connection (a fresh anonymous user each time). */
  async ws(type: "spectate" | "join", pin: string): Promise<Outcome | "found"> {
    const s = await RawSocket.open(this.wsUrl);
    this.sockets.push(s);
    const data = type === "join" ? { pin, display_name: `P${this.sockets.length}` } : { pin };
    const reply = await s.request(type, "m1", data);
    s.close();
    if (reply.type !== "error") return "found";
    const d = reply.data as Json;
    return { code: d.code as string, reason: d.reason as string | undefined };
  }
}

/** A PIN no open room has: any 6 digits but the room's. */
function wrongPin(right: string, n: number): string {
  const pin = String(500_000 + ((n * 7919) % 400_000));
  return pin === right ? String(Number(pin) + 1) : pin;
}

const LIMITED: Outcome = { code: "RATE_LIMIT", reason: "rate_limited" };
const BAD_PIN: Outcome = { code: "NOT_FOUND", reason: "bad_pin" };

describe("P-4: the PIN limit, on one server", () => {
  let s: Server;
  beforeEach(async () => {
    s = await Server.start();
  });
  afterEach(async () => {
    await s.close();
  });

  it("P-4: spectate by PIN counts against the limit: the 11th wrong PIN in an hour is RATE_LIMIT", async () => {
    const right = await s.createRoom();
    for (let i = 0; i < 10; i++)
      expect(await s.ws("spectate", wrongPin(right, i))).toEqual(BAD_PIN);
    expect(await s.ws("spectate", wrongPin(right, 10))).toEqual(LIMITED);
  });

  it("P-4: past the limit a right PIN and a wrong one get the same refusal on every door and route; then the guesser is shadow-banned and hears bad_pin for both", async () => {
    const right = await s.createRoom();
    // Right PINs cost nothing; the 10 wrong ones are spread over every way to look a PIN up.
    expect(await s.rest(right)).toBe("found");
    expect(await s.ws("spectate", right)).toBe("found");
    for (let i = 0; i < 10; i++) {
      const how = i % 3;
      const pin = wrongPin(right, i);
      const got = how === 0 ? await s.rest(pin) : await s.ws(how === 1 ? "spectate" : "join", pin);
      expect(got).toEqual(BAD_PIN);
    }
    // Refused the same way, right PIN or wrong, by every door and route: 10 refusals.
    const refused: Array<Outcome | "found"> = [];
    for (let i = 0; i < 2; i++) {
      refused.push(await s.rest(right), await s.rest(wrongPin(right, 20 + i)));
      refused.push(await s.ws("spectate", right), await s.ws("spectate", wrongPin(right, 30 + i)));
    }
    refused.push(await s.ws("join", right), await s.ws("join", wrongPin(right, 40)));
    expect(refused).toEqual(refused.map(() => LIMITED));

    // Kept guessing past 10 refusals: shadow-banned, every lookup is bad_pin, right PIN or wrong.
    const banned = [
      await s.rest(right),
      await s.rest(wrongPin(right, 50)),
      await s.ws("spectate", right),
      await s.ws("join", right),
      await s.ws("join", wrongPin(right, 51)),
    ];
    expect(banned).toEqual(banned.map(() => BAD_PIN));
  });

  it("P-4: a REST refusal carries retry_after_ms and Retry-After, the same for a right PIN and a wrong one", async () => {
    const right = await s.createRoom();
    for (let i = 0; i < 10; i++) await s.rest(wrongPin(right, i));
    for (const pin of [right, wrongPin(right, 99)]) {
      const res = await fetch(`${s.base}/api/v1/rooms/${pin}`);
      expect(res.status).toBe(429);
      const body = (await res.json()) as Json;
      expect(body.retry_after_ms as number).toBeGreaterThan(0);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    }
  });

  it("P-4: the limit counts per identity too: a signed-in guesser moving to another address is still limited", async () => {
    const right = await s.createRoom();
    const canonical = s.t.app.doors.canonical;
    const user = { userId: asUserId("guesser"), handle: null, roles: [], anonymous: false };
    const ask = async (
      ip: string,
      pin: string,
      userId = user.userId,
    ): Promise<Outcome | "found"> => {
      const socket = new FakeSocket();
      socket.attach(
        canonical.open(socket, {
          identity: { ...user, userId },
          identityToken: null,
          peer: { remoteAddress: ip },
        }),
      );
      socket.receive({ v: 1, type: "spectate", msg_id: "m", data: { pin } });
      for (let i = 0; i < 200; i++) {
        const reply = socket.frames<Json>().find((f) => f.msg_id === "m");
        if (reply) {
          if (reply.type !== "error") return "found";
          const d = reply.data as Json;
          return { code: d.code as string, reason: d.reason as string | undefined };
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      throw new Error("no reply to spectate");
    };
    for (let i = 0; i < 10; i++) expect(await ask("10.1.0.1", wrongPin(right, i))).toEqual(BAD_PIN);
    // The same user elsewhere: limited, right PIN or wrong.
    expect(await ask("10.1.0.2", right)).toEqual(LIMITED);
    expect(await ask("10.1.0.2", wrongPin(right, 11))).toEqual(LIMITED);
    // Someone else at that other address is not.
    expect(await ask("10.1.0.2", right, asUserId("bystander"))).toBe("found");
  });
});

describe("P-4: a PIN lookup needs no identity", () => {
  it("P-4: with anonymous access off, GET /api/v1/rooms/{pin} still answers without a token", async () => {
    const secret = "pin-oracle-test-secret-0123456789";
    const s = await Server.start({ ALLOW_ANONYMOUS: "false", JWT_SECRET: secret });
    try {
      const token = await new SignJWT({ sub: "host-user" })
        .setProtectedHeader({ alg: "HS256" })
        .setExpirationTime("1h")
        .sign(new TextEncoder().encode(secret));
      const created = await s.t.app.fastify.inject({
        method: "POST",
        url: "/api/v1/sessions",
        headers: { authorization: `Bearer ${token}` },
        payload: { quiz_id: "vocab-101" },
      });
      expect(created.statusCode, created.body).toBe(201);
      const pin = (JSON.parse(created.body) as Json).pin as string;
      expect(await s.rest(pin)).toBe("found");
      expect(await s.rest(wrongPin(pin, 1))).toEqual(BAD_PIN);
    } finally {
      await s.close();
    }
  });
});

const cluster = requireOrSkip(await postgresAvailable(), await redisAvailable());

describe.skipIf(cluster.skip)(
  cluster.title("P-4: the PIN limit across two instances sharing Redis"),
  () => {
    let schema: PgSchema;
    const prefix = randomKeyPrefix();
    let a: Server;
    let b: Server;
    beforeAll(async () => {
      schema = await freshPgSchema();
      const env = { DATABASE_URL: schema.url, REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix };
      // One at a time, so migrations and demo content are in place before the second starts.
      a = await Server.start(env);
      b = await Server.start(env);
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
      await schema?.drop();
      await deleteKeys(TEST_REDIS_URL, prefix);
    });

    it("P-4: guesses on either instance use one allowance; past it neither tells a right PIN from a wrong one", async () => {
      const right = await a.createRoom();
      expect(await b.rest(right)).toBe("found");
      for (let i = 0; i < 10; i++) {
        const on = i % 2 === 0 ? a : b;
        expect(
          await (i % 4 < 2 ? on.rest(wrongPin(right, i)) : on.ws("spectate", wrongPin(right, i))),
        ).toEqual(BAD_PIN);
      }
      for (const on of [a, b]) {
        expect(await on.rest(right)).toEqual(LIMITED);
        expect(await on.rest(wrongPin(right, 20))).toEqual(LIMITED);
        expect(await on.ws("spectate", right)).toEqual(LIMITED);
        expect(await on.ws("join", right)).toEqual(LIMITED);
      }
    });
  },
);
