import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { CryptoRandom } from "../../src/adapters/crypto-random.js";
import { AuthError, IdentityService } from "../../src/auth/identity.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

/**
 * Seed 000's tokens: the Node app signs RS256/ES256 JWTs and publishes its
 * public keys as a JWKS. A key server on 127.0.0.1 plays the Node app; every
 * door and REST route that takes a token is asked, with raw `ws` and `fetch`.
 */

const ISSUER = "https://node-app.test";
const AUDIENCE = "quizwire";
const SECRET = "a-shared-secret-of-the-next-app";

interface SigningKey {
  alg: "RS256" | "ES256";
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(alg: SigningKey["alg"], kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { alg, kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

interface Claims {
  sub?: string;
  iss?: string;
  aud?: string;
  /** Seconds from now; negative is in the past. */
  expiresIn?: number;
}

async function tokenOf(key: SigningKey, c: Claims = {}): Promise<string> {
  const jwt = new SignJWT({ handle: "nadia", roles: [] })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" })
    .setSubject(c.sub ?? `node-${key.kid}`)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (c.expiresIn ?? 3600));
  jwt.setIssuer(c.iss ?? ISSUER);
  jwt.setAudience(c.aud ?? AUDIENCE);
  return jwt.sign(key.privateKey);
}

async function sharedSecretToken(c: Claims = {}): Promise<string> {
  const jwt = new SignJWT({ user_id: c.sub ?? "next-user", username: "nel" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime("1h");
  if (c.iss !== "") jwt.setIssuer(c.iss ?? ISSUER);
  if (c.aud !== "") jwt.setAudience(c.aud ?? AUDIENCE);
  return jwt.sign(new TextEncoder().encode(SECRET));
}

/** An unsigned token (`alg: none`) with claims that would otherwise pass. */
function unsignedToken(): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "mallory", iss: ISSUER, aud: AUDIENCE, exp: now + 3600 })}.`;
}

let keyServer: Server;
let published: { keys: JWK[] } = { keys: [] };
let fetches = 0;
let t: TestApp;
let http: string;
let ws: string;
let rsa1: SigningKey;
let rsa2: SigningKey;
let ec1: SigningKey;
let stranger: SigningKey;
let contestUrl: string;

beforeAll(async () => {
  [rsa1, rsa2, ec1, stranger] = await Promise.all([
    signingKey("RS256", "rsa-1"),
    signingKey("RS256", "rsa-2"),
    signingKey("ES256", "ec-1"),
    signingKey("RS256", "rsa-1"), // same kid as a published key, another key pair
  ]);
  published = { keys: [rsa1.jwk, ec1.jwk] };
  keyServer = createServer((_req, res) => {
    fetches += 1;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(published));
  });
  await new Promise<void>((resolve) => keyServer.listen(0, "127.0.0.1", resolve));
  const { port } = keyServer.address() as AddressInfo;
  t = await createTestApp({
    JWT_SECRET: SECRET,
    JWT_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    // Rotation is seen at the first unknown kid, not 30 s later.
    JWT_JWKS_COOLDOWN_MS: "0",
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
  });
  const appPort = await t.app.listen();
  http = `http://127.0.0.1:${appPort}`;
  ws = `ws://127.0.0.1:${appPort}`;
  const created = await createContest(await tokenOf(rsa1, { sub: "contest-host" }));
  expect(created.status).toBe(200);
  contestUrl = created.body.websocket_url as string;
});

afterAll(async () => {
  await t?.close();
  await new Promise((resolve) => keyServer?.close(resolve));
});

// biome-ignore lint/suspicious/noExplicitAny: raw JSON from the wire
type Json = Record<string, any>;

async function post(path: string, body: unknown, token?: string) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${http}${path}`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

function createContest(token: string) {
  return post("/api/contests", { difficulty: "easy", question_count: 1 }, token);
}

/** How an upgrade ends: refused (status and body) or accepted (101). */
function upgrade(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    socket.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, body });
        socket.terminate();
      });
    });
    socket.once("open", () => {
      resolve({ status: 101, body: "" });
      socket.close();
    });
    socket.on("error", () => undefined);
  });
}

/** The canonical door's first frame (its welcome) to a token. */
function welcome(token: string): Promise<Json> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${ws}/ws/v1?token=${token}`);
    socket.once("message", (data) => {
      resolve(JSON.parse(String(data)) as Json);
      socket.close();
    });
    socket.once("error", reject);
  });
}

/** Every place a token is taken, and what it answers: 401 when refused. */
const doors: Array<[string, (token: string) => Promise<{ status: number; body: string }>]> = [
  ["canonical WebSocket /ws/v1", (tok) => upgrade(`${ws}/ws/v1?token=${tok}`)],
  ["seed 001 WebSocket /ws", (tok) => upgrade(`${ws}/ws?token=${tok}`)],
  ["seed 004 WebSocket /ws/contests/{id}", (tok) => upgrade(`${ws}${contestUrl}?token=${tok}`)],
  [
    "REST POST /api/contests",
    async (tok) => {
      const r = await createContest(tok);
      return { status: r.status, body: JSON.stringify(r.body) };
    },
  ],
  [
    "seed 002 REST POST /quizzes",
    async (tok) => {
      const r = await post("/quizzes", { from_quiz: "vocab-101" }, tok);
      return { status: r.status, body: JSON.stringify(r.body) };
    },
  ],
  [
    "REST POST /api/v1/sessions",
    async (tok) => {
      const r = await post("/api/v1/sessions", { quiz_id: "vocab-101" }, tok);
      return { status: r.status, body: JSON.stringify(r.body) };
    },
  ],
];

async function expectAccepted(token: string): Promise<void> {
  for (const [name, ask] of doors) {
    const r = await ask(token);
    expect([name, r.status < 300]).toEqual([name, true]);
  }
}

async function expectRefused(token: string, message: string): Promise<void> {
  for (const [name, ask] of doors) {
    const r = await ask(token);
    expect([name, r.status]).toEqual([name, 401]);
    expect(r.body).toContain(message);
  }
}

describe("seed 000: tokens from the Node app's JWKS", () => {
  it("RS256 and ES256 tokens signed by published keys are accepted by every door and REST route", async () => {
    await expectAccepted(await tokenOf(rsa1));
    await expectAccepted(await tokenOf(ec1));
    // The canonical welcome names the token's subject.
    const hello = await welcome(await tokenOf(ec1, { sub: "ec-user" }));
    expect(hello).toMatchObject({ type: "welcome", data: { user_id: "ec-user" } });
  });

  it("the key set is cached: tokens of known keys do not fetch it again", async () => {
    await expectAccepted(await tokenOf(rsa1));
    const before = fetches;
    await expectAccepted(await tokenOf(rsa1));
    await expectAccepted(await tokenOf(ec1));
    expect(fetches).toBe(before);
  });

  it("refuses with 401: a key not in the set, an expired token, a wrong issuer or audience, alg none or another algorithm", async () => {
    await expectRefused(await tokenOf(stranger), "invalid token");
    await expectRefused(
      await tokenOf({ ...rsa2, kid: "rsa-unpublished" }),
      "token signed by an unknown key",
    );
    await expectRefused(await tokenOf(rsa1, { expiresIn: -60 }), "token expired");
    await expectRefused(
      await tokenOf(ec1, { iss: "https://evil.test" }),
      "token issuer not accepted",
    );
    await expectRefused(
      await tokenOf(rsa1, { aud: "another-service" }),
      "token audience not accepted",
    );
    await expectRefused(unsignedToken(), "invalid token");
    // Another algorithm, even with the right secret: only HS256, RS256 and ES256 are taken.
    const hs384 = await new SignJWT({ user_id: "next-user" })
      .setProtectedHeader({ alg: "HS384" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(SECRET));
    await expectRefused(hs384, "token algorithm not accepted");
  });

  it("rotation by kid: a new key is fetched at its first token; a removed key's tokens are refused", async () => {
    await expectAccepted(await tokenOf(rsa1));
    published = { keys: [rsa2.jwk, ec1.jwk] };
    const before = fetches;
    await expectAccepted(await tokenOf(rsa2));
    expect(fetches).toBeGreaterThan(before);
    await expectRefused(await tokenOf(rsa1), "token signed by an unknown key");
    await expectAccepted(await tokenOf(ec1));
  });

  it("HS256 with JWT_SECRET keeps working alongside, with the same issuer and audience checks", async () => {
    await expectAccepted(await sharedSecretToken());
    await expectRefused(await sharedSecretToken({ iss: "" }), "token issuer not accepted");
    await expectRefused(
      await sharedSecretToken({ aud: "someone-else" }),
      "token audience not accepted",
    );
    // POST /login signs its tokens with the configured issuer and audience, so they pass too.
    const login = await post("/login", { username: "lena" });
    expect(login.status).toBe(200);
    await expectAccepted(login.body.token as string);
  });
});

describe("seed 000: a key set that cannot be had", () => {
  async function closedPortUrl(): Promise<string> {
    const s = createServer();
    await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
    const { port } = s.address() as AddressInfo;
    await new Promise((resolve) => s.close(resolve));
    return `http://127.0.0.1:${port}/jwks.json`;
  }

  async function serviceAt(url: string, failures: unknown[]): Promise<IdentityService> {
    return new IdentityService({
      jwtSecret: null,
      jwks: { url, cooldownMs: 0, cacheMaxAgeMs: 60_000 },
      onKeySetFailure: (err) => failures.push(err),
      allowAnonymous: false,
      anonymousKey: "test-anonymous-key",
      random: new CryptoRandom(),
    });
  }

  it("a JWKS that is down or answers an error refuses its tokens (401) and is reported", async () => {
    for (const url of [await closedPortUrl(), `${await erroringKeyServer()}/jwks.json`]) {
      const failures: unknown[] = [];
      const identity = await serviceAt(url, failures);
      const refused = await identity.fromJwt(await tokenOf(rsa1)).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(AuthError);
      expect((refused as Error).message).toBe("token keys unavailable");
      expect(failures).toHaveLength(1);
    }
  });
});

const extraServers: Server[] = [];
afterAll(async () => {
  for (const s of extraServers) await new Promise((resolve) => s.close(resolve));
});

/** A key server that answers 500. */
async function erroringKeyServer(): Promise<string> {
  const s = createServer((_req, res) => {
    res.writeHead(500);
    res.end("down for maintenance");
  });
  extraServers.push(s);
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}
