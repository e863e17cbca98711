/**
 * Who is calling a REST route. Every credential arrives as
 * `Authorization: Bearer <value>`; the value is tried as, in order:
 *
 * 1. a JWT (three dot-separated base64url parts), verified with JWT_SECRET;
 *    a bad or expired one is refused with 401 whatever the route;
 * 2. the ADMIN_TOKEN;
 * 3. a session's host token or a participant's resume token, checked by the
 *    session's owner (the `authenticate` command), or against the stored
 *    hashes once the session is only in storage.
 *
 * Missing credentials are 401 UNAUTHORIZED; credentials that do not grant the
 * action are 403 FORBIDDEN.
 *
 * The admin token is ADMIN_TOKEN, or one the server generated on its first
 * start because it listens on a network address (src/server/admin-token.ts).
 * Only a server bound to loopback with no ADMIN_TOKEN has none: its admin
 * routes are open to that one machine. That openness never makes
 * anyone a session's host: host control always needs the host token, the
 * host's JWT, a JWT with the `admin` role, or the configured ADMIN_TOKEN.
 */
import { timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { AuthError, type Identity, type IdentityService } from "../../auth/identity.js";
import type { DomainError } from "../../domain/errors.js";
import { asUserId, type ParticipantId, type UserId } from "../../domain/ids.js";
import type { RoomHandle } from "../../engine/room-handle.js";
import type { Actor } from "../../engine/types.js";
import type { ParticipantRole } from "../../ports/storage.js";
import { RestError } from "./errors.js";

/** The OpenAPI security schemes REST routes name. */
export const SECURITY_SCHEMES = {
  adminToken: {
    type: "http",
    scheme: "bearer",
    description:
      "The server's ADMIN_TOKEN, or the token it generated and printed on its first start " +
      "when it listens on a network address. Only a server bound to loopback with no " +
      "ADMIN_TOKEN leaves admin routes open (to that machine).",
  },
  jwt: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      "HS256 JWT signed with JWT_SECRET (claims: sub or user_id, handle or username, roles). " +
      "Identifies the caller; a JWT whose roles include `admin` counts as admin everywhere.",
  },
  hostToken: {
    type: "http",
    scheme: "bearer",
    description: "The host_token returned when the session was created: controls that session.",
  },
  resumeToken: {
    type: "http",
    scheme: "bearer",
    description:
      "The resume_token returned when a participant joined: acts as that participant in that session.",
  },
} as const;

/** Security requirements, for route schemas. */
export const SECURITY = {
  anyone: [{}, { jwt: [] }],
  admin: [{ adminToken: [] }, { jwt: [] }],
  host: [{ hostToken: [] }, { jwt: [] }, { adminToken: [] }],
  participant: [{ resumeToken: [] }],
} as const;

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const ADMIN_USER = asUserId("admin");

/** The actor admin routes act as (rooms let the `admin` role do what a host may, R-1). */
export const ADMIN_ACTOR: Actor = { userId: ADMIN_USER, roles: ["admin"], anonymous: false };

/** Reads views and checks tokens as a bystander: never a member, never the host. */
export const BYSTANDER: Actor = { userId: asUserId("rest:bystander"), roles: [], anonymous: true };

/** The bearer value of the request, or null. */
export function bearerOf(req: FastifyRequest): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
  return m?.[1] ?? null;
}

export function looksLikeJwt(value: string): boolean {
  return JWT_SHAPE.test(value);
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface RestAuthOptions {
  identity: IdentityService;
  /** The admin token in force; null (loopback only, none configured) leaves admin routes open. */
  adminToken: string | null;
}

/** Who holds a host or resume token. */
export interface TokenHolder {
  participantId: ParticipantId;
  userId: UserId;
  role: ParticipantRole;
}

/** A session as host and participant checks need it: an open session, or a stored bundle. */
export interface HostTarget {
  /** The session's creator, as it was loaded (a handover since is not in it). */
  hostUserId: UserId;
  /** Who holds host rights now, asked of the running room (H-3); absent for a stored session. */
  currentHostUserId?: () => Promise<UserId>;
  /** Who holds this host or resume token (kicked members hold none). */
  authenticate(token: string): Promise<TokenHolder | undefined>;
}

/**
 * An open session as a HostTarget: tokens are checked by the session's owner,
 * wherever it runs. A refusal (the owner unreachable, the session gone) is
 * thrown as `refused` makes it.
 */
export function roomTarget(
  handle: RoomHandle,
  refused: (e: DomainError) => RestError = RestError.fromDomain,
): HostTarget {
  return {
    hostUserId: handle.info.hostUserId,
    currentHostUserId: async () => {
      const reply = await handle.execute(BYSTANDER, { type: "snapshot", role: "spectator" });
      if (!reply.ok) throw refused(reply.error);
      return reply.value.hostUserId;
    },
    authenticate: async (token) => {
      const reply = await handle.execute(BYSTANDER, { type: "authenticate", token });
      if (!reply.ok) throw refused(reply.error);
      const m = reply.value.member;
      return m ? { participantId: m.participantId, userId: m.userId, role: m.role } : undefined;
    },
  };
}

/** Paths outside the API (probes and scrapers), where an Authorization header is not ours to judge. */
const UNCHECKED_PATHS: ReadonlySet<string> = new Set([
  "/health",
  "/health/live",
  "/health/ready",
  "/healthz",
  "/readyz",
  "/metrics",
]);

/**
 * An onRequest hook for the whole server: a bearer JWT that does not verify (forged, expired,
 * `alg:none`, signed with another secret) is refused 401 `invalid_token` on every route, public
 * ones included, before the route runs. No token at all, or a bearer value that is not a JWT (an
 * admin, host or resume token), is left to the route.
 */
export function refuseBadJwt(auth: RestAuth) {
  return async (req: FastifyRequest): Promise<void> => {
    const bearer = bearerOf(req);
    if (bearer === null || !looksLikeJwt(bearer)) return;
    const path = req.url.split("?", 1)[0] ?? req.url;
    if (UNCHECKED_PATHS.has(path)) return;
    await auth.caller(req);
  };
}

/** JWTs already verified, per request, so routes that ask again pay nothing. */
const verified = new WeakMap<FastifyRequest, Promise<Identity>>();

/** Resolves REST callers into identities and room actors (see the module comment for the rules). */
export class RestAuth {
  constructor(private readonly opts: RestAuthOptions) {}

  /** Whether admin routes are open because no ADMIN_TOKEN is configured. */
  get adminOpen(): boolean {
    return this.opts.adminToken === null;
  }

  /**
   * The caller's identity: the JWT's when one is presented, otherwise a fresh
   * anonymous identity (when anonymous access is on). Other bearer values
   * (admin, host and resume tokens) are not identities and are ignored here.
   */
  async caller(req: FastifyRequest): Promise<Identity> {
    const bearer = bearerOf(req);
    if (bearer !== null && looksLikeJwt(bearer)) return this.verifyJwt(bearer, req);
    try {
      return this.opts.identity.anonymous(null).identity;
    } catch (err) {
      if (err instanceof AuthError)
        throw new RestError("UNAUTHORIZED", err.message, "token_required");
      throw err;
    }
  }

  /** Passes for an admin (or anyone when admin routes are open); throws 401/403 otherwise. */
  async requireAdmin(req: FastifyRequest): Promise<void> {
    if (this.adminOpen) return;
    const bearer = bearerOf(req);
    if (bearer === null) {
      throw new RestError("UNAUTHORIZED", "this route needs the admin token", "admin_required");
    }
    if (await this.isAdminBearer(bearer)) return;
    throw new RestError("FORBIDDEN", "this route is for admins only", "not_admin");
  }

  /** Whether the request carries admin credentials (an open server does not count). */
  async isAdmin(req: FastifyRequest): Promise<boolean> {
    const bearer = bearerOf(req);
    return bearer !== null && (await this.isAdminBearer(bearer));
  }

  /**
   * The actor for host control of a session: an admin, the holder of the host
   * token, or the JWT user who created the session. The room checks the actor
   * again.
   */
  async hostActor(req: FastifyRequest, session: HostTarget): Promise<Actor> {
    const bearer = bearerOf(req);
    // With no ADMIN_TOKEN (local use) REST control is open like the other admin routes, so
    // seed 001 clients can start and end sessions with no credentials at all.
    if (bearer === null && this.adminOpen) return ADMIN_ACTOR;
    if (bearer === null) {
      throw new RestError(
        "UNAUTHORIZED",
        "host control needs the session's host token",
        "host_required",
      );
    }
    if (looksLikeJwt(bearer)) {
      const who = await this.verifyJwt(bearer);
      // The creator, or whom host rights were handed to since (asked of the room only then).
      const host =
        who.roles.includes("admin") ||
        who.userId === session.hostUserId ||
        (session.currentHostUserId !== undefined &&
          who.userId === (await session.currentHostUserId()));
      if (host) return { userId: who.userId, roles: who.roles, anonymous: false };
    } else if (this.isAdminToken(bearer)) {
      return ADMIN_ACTOR;
    } else {
      const member = await session.authenticate(bearer);
      if (member?.role === "host") {
        return {
          userId: member.userId,
          roles: [],
          anonymous: false,
          participantId: member.participantId,
        };
      }
    }
    throw new RestError("FORBIDDEN", "only the host can do that", "not_host");
  }

  /** The actor of the participant whose resume token the request carries. */
  async participantActor(req: FastifyRequest, session: HostTarget): Promise<Actor> {
    const bearer = bearerOf(req);
    if (bearer === null) {
      throw new RestError(
        "UNAUTHORIZED",
        "answering needs the participant's resume token as the bearer token",
        "token_required",
      );
    }
    const member = looksLikeJwt(bearer) ? undefined : await session.authenticate(bearer);
    if (member?.role !== "player") {
      throw new RestError(
        "FORBIDDEN",
        "this token is not a player's resume token for this session",
        "not_player",
      );
    }
    return {
      userId: member.userId,
      roles: [],
      anonymous: false,
      participantId: member.participantId,
    };
  }

  private async isAdminBearer(bearer: string): Promise<boolean> {
    if (looksLikeJwt(bearer)) return (await this.verifyJwt(bearer)).roles.includes("admin");
    return this.isAdminToken(bearer);
  }

  private isAdminToken(bearer: string): boolean {
    const token = this.opts.adminToken;
    return token !== null && sameSecret(bearer, token);
  }

  private verifyJwt(token: string, req?: FastifyRequest): Promise<Identity> {
    const known = req && bearerOf(req) === token ? verified.get(req) : undefined;
    if (known) return known;
    const result = this.opts.identity.fromJwt(token).catch((err: unknown) => {
      if (err instanceof AuthError)
        throw new RestError("UNAUTHORIZED", err.message, "invalid_token");
      throw err;
    });
    if (req) verified.set(req, result);
    return result;
  }
}
