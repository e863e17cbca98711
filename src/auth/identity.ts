import { createHmac, timingSafeEqual } from "node:crypto";
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  type JWTVerifyOptions,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
} from "jose";
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

/** Where the other application publishes its signing keys (seed 000: "Node's public JWKS"). */
export interface JwksSettings {
  url: string;
  /** How soon after a fetch an unknown `kid` may fetch the set again (jose's cooldown). */
  cooldownMs: number;
  /** How long a fetched set is used before it is fetched again. */
  cacheMaxAgeMs: number;
}

/** The asymmetric algorithms a JWKS token may use; HS256 is the shared secret's. */
const JWKS_ALGORITHMS = ["RS256", "ES256"];
type RemoteKeys = ReturnType<typeof createRemoteJWKSet>;

/**
 * Turns tokens into identities. JWTs are HS256 with the shared JWT_SECRET or,
 * when a JWKS URL is set, RS256/ES256 signed by a key of that set (chosen by
 * `kid`; jose fetches, caches and refetches it on rotation). Either may carry
 * seed 000's claims (`sub`, `handle`, `roles`) or seed 004's (`user_id`,
 * `username`); all are accepted everywhere, and the issuer and audience, when
 * set, are required of every token. Without a token a connection is
 * anonymous: the server assigns a user id and signs it into an identity token
 * the client can present later to stay the same user.
 */
export class IdentityService {
  private readonly jwtKey: Uint8Array | null;
  private readonly remoteKeys: RemoteKeys | null;
  private readonly claims: Pick<JWTVerifyOptions, "issuer" | "audience">;

  constructor(
    private readonly opts: {
      /** JWT_SECRET, or the installation's own generated secret when it is not set. */
      jwtSecret: string | null;
      /** JWT_JWKS_URL and its cache settings; null accepts no RS256/ES256 token. */
      jwks?: JwksSettings | null;
      /** JWT_ISSUER / JWT_AUDIENCE: required of every token, and put into the ones this server signs. */
      issuer?: string | null;
      audience?: string | null;
      /** The JWKS could not be fetched or read (its tokens are refused meanwhile): for the log. */
      onKeySetFailure?: (err: unknown) => void;
      allowAnonymous: boolean;
      /** Key for anonymous identity tokens; persisted so they survive restarts. */
      anonymousKey: string;
      random: Random;
    },
  ) {
    this.jwtKey = opts.jwtSecret ? new TextEncoder().encode(opts.jwtSecret) : null;
    this.remoteKeys = opts.jwks
      ? createRemoteJWKSet(new URL(opts.jwks.url), {
          cooldownDuration: opts.jwks.cooldownMs,
          cacheMaxAge: opts.jwks.cacheMaxAgeMs,
        })
      : null;
    this.claims = {
      ...(opts.issuer ? { issuer: opts.issuer } : {}),
      ...(opts.audience ? { audience: opts.audience } : {}),
    };
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
    const jwt = new SignJWT({ user_id: user.userId, username: user.username })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(user.userId)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds);
    // Its own tokens must pass its own issuer and audience checks.
    if (this.opts.issuer) jwt.setIssuer(this.opts.issuer);
    if (this.opts.audience) jwt.setAudience(this.opts.audience);
    return jwt.sign(this.jwtKey);
  }

  /**
   * Verifies a JWT: HS256 against the shared secret, RS256/ES256 against the
   * JWKS; anything else (`alg: none` included) is refused. Rejects with
   * AuthError for anything but a valid, unexpired token with the configured
   * issuer and audience.
   */
  async fromJwt(token: string): Promise<Identity> {
    const { payload, shared } = await this.verify(token);
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
      ...(shared && typeof username === "string" && isLoginUserIdOf(sub, username)
        ? { loginName: username }
        : {}),
    };
  }

  /** The verified claims, and whether the shared secret signed them (else a JWKS key). */
  private async verify(
    token: string,
  ): Promise<{ payload: Record<string, unknown>; shared: boolean }> {
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new AuthError("invalid token");
    }
    try {
      if (alg === "HS256" && this.jwtKey) {
        const { payload } = await jwtVerify(token, this.jwtKey, {
          ...this.claims,
          algorithms: ["HS256"],
        });
        return { payload, shared: true };
      }
      if (typeof alg === "string" && JWKS_ALGORITHMS.includes(alg) && this.remoteKeys) {
        const { payload } = await jwtVerify(token, this.remoteKeys, {
          ...this.claims,
          algorithms: JWKS_ALGORITHMS,
        });
        return { payload, shared: false };
      }
    } catch (err) {
      if (keySetFailure(err)) this.opts.onKeySetFailure?.(err);
      throw authErrorOf(err);
    }
    // Fixed words: the header is the client's, and messages go back in refusals.
    throw new AuthError(
      alg === "none" || typeof alg !== "string" ? "invalid token" : "token algorithm not accepted",
    );
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

/** Why jose refused a token, in words a client can act on; every case is a 401. */
function authErrorOf(err: unknown): AuthError {
  if (err instanceof joseErrors.JWTExpired) return new AuthError("token expired");
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === "iss") return new AuthError("token issuer not accepted");
    if (err.claim === "aud") return new AuthError("token audience not accepted");
    return new AuthError("invalid token");
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey)
    return new AuthError("token signed by an unknown key");
  if (keySetFailure(err)) return new AuthError(KEYS_UNAVAILABLE);
  if (err instanceof joseErrors.JOSEError) return new AuthError("invalid token");
  throw err;
}

const KEYS_UNAVAILABLE = "token keys unavailable";

/**
 * The key set could not be fetched or read (jose's generic error is its
 * non-200 and bad-JSON case; a TypeError is fetch's network failure): no key
 * can vouch for the token, and the operator should hear of it.
 */
function keySetFailure(err: unknown): boolean {
  return (
    err instanceof joseErrors.JWKSTimeout ||
    err instanceof joseErrors.JWKSInvalid ||
    (err instanceof joseErrors.JOSEError && err.code === "ERR_JOSE_GENERIC") ||
    err instanceof TypeError
  );
}
