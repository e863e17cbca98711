import { createHmac, timingSafeEqual } from "node:crypto";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { asUserId, type UserId } from "../domain/ids.js";
import type { Random } from "../ports/clock.js";
import { isLoginUserIdOf } from "./login-ids.js";

/** Who is on the other end of a connection or request. */
export interface Identity {
  userId: UserId;
  /** Display handle from the token (seed 000's `handle`, seed 004's `username`). */
  handle: string | null;
  roles: string[];
  /** The server made this identity up; it proves nothing about the person. */
  anonymous: boolean;
  /**
   * Set when the token is a seed 004 login token: signed with the shared secret,
   * its user id minted as POST /login mints them for this `username` claim
   * (`user_<username>_<unix seconds>`). In that dialect the username is the
   * person, since /login asks for no password; the contest door seats every
   * such token of one username as one player.
   */
  loginName?: string;
}

export class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuthError";
  }
}

const USER_ID_MAX = 128;

/**
 * Turns tokens into identities. JWTs are HS256 with the shared JWT_SECRET and
 * may carry seed 000's claims (`sub`, `handle`, `roles`) or seed 004's
 * (`user_id`, `username`); both are accepted everywhere. Without a token a
 * connection is anonymous: the server assigns a user id and signs it into an
 * identity token the client can present later to stay the same user.
 */
export class IdentityService {
  private readonly jwtKey: Uint8Array | null;

  constructor(
    private readonly opts: {
      /** JWT_SECRET, or the installation's own generated secret when it is not set. */
      jwtSecret: string | null;
      allowAnonymous: boolean;
      /** Key for anonymous identity tokens; persisted so they survive restarts. */
      anonymousKey: string;
      random: Random;
    },
  ) {
    this.jwtKey = opts.jwtSecret ? new TextEncoder().encode(opts.jwtSecret) : null;
  }

  get allowsAnonymous(): boolean {
    return this.opts.allowAnonymous;
  }

  get acceptsTokens(): boolean {
    return this.jwtKey !== null;
  }

  /**
   * Signs a token for a user (seed 004's /login): HS256 with claims `user_id`,
   * `username` and `sub`, expiring after `ttlSeconds`.
   */
  async issueToken(
    user: { userId: string; username: string },
    ttlSeconds: number,
  ): Promise<string> {
    if (!this.jwtKey) throw new AuthError("this server has no signing secret");
    return new SignJWT({ user_id: user.userId, username: user.username })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(user.userId)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
      .sign(this.jwtKey);
  }

  /** Verifies a JWT. Rejects with AuthError for anything but a valid, unexpired token. */
  async fromJwt(token: string): Promise<Identity> {
    if (!this.jwtKey)
      throw new AuthError("this server does not accept tokens (JWT_SECRET is not set)");
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.jwtKey, { algorithms: ["HS256"] }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new AuthError("token expired");
      throw new AuthError("invalid token");
    }
    const sub = typeof payload.sub === "string" ? payload.sub : payload.user_id;
    if (typeof sub !== "string" || sub.length === 0 || sub.length > USER_ID_MAX) {
      throw new AuthError("token has no subject (sub or user_id)");
    }
    const handle = typeof payload.handle === "string" ? payload.handle : payload.username;
    const roles = Array.isArray(payload.roles)
      ? payload.roles.filter((r) => typeof r === "string")
      : [];
    const username = payload.username;
    return {
      userId: asUserId(sub),
      handle: typeof handle === "string" ? handle : null,
      roles,
      anonymous: false,
      ...(typeof username === "string" && isLoginUserIdOf(sub, username)
        ? { loginName: username }
        : {}),
    };
  }

  /**
   * An anonymous identity: the one an earlier identity token names when it is
   * genuine, otherwise a new one. Throws when anonymous access is off.
   */
  anonymous(identityToken: string | null): { identity: Identity; token: string } {
    if (!this.opts.allowAnonymous)
      throw new AuthError("a token is required (anonymous access is off)");
    const known = identityToken ? this.verifyAnonymous(identityToken) : null;
    const userId = known ?? asUserId(`anon-${this.opts.random.token(12)}`);
    return {
      identity: { userId, handle: null, roles: [], anonymous: true },
      token: `${userId}.${this.sign(userId)}`,
    };
  }

  /** Resolves a request's credentials: a JWT when given (and it must be valid), else anonymous. */
  async resolve(
    jwt: string | null,
    identityToken: string | null,
  ): Promise<{ identity: Identity; identityToken: string | null }> {
    if (jwt) return { identity: await this.fromJwt(jwt), identityToken: null };
    const anon = this.anonymous(identityToken);
    return { identity: anon.identity, identityToken: anon.token };
  }

  private verifyAnonymous(token: string): UserId | null {
    const dot = token.lastIndexOf(".");
    if (dot <= 0) return null;
    const userId = token.slice(0, dot);
    if (!userId.startsWith("anon-") || userId.length > USER_ID_MAX) return null;
    const given = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.sign(userId));
    return given.length === expected.length && timingSafeEqual(given, expected)
      ? asUserId(userId)
      : null;
  }

  private sign(userId: string): string {
    return createHmac("sha256", this.opts.anonymousKey).update(userId).digest("base64url");
  }
}
