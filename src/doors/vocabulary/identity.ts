import type { IncomingMessage } from "node:http";
import { AuthError, type IdentityService } from "../../auth/identity.js";
import { asUserId, type UserId } from "../../domain/ids.js";
import { upgradeToken } from "../ws-kit/frames.js";
import { USER_ID_MAX } from "./protocol.js";

/**
 * Unverified seed user ids live in their own namespace inside the engine, so
 * `?user_id=` can never claim a signed-in user's or an anonymous canonical
 * user's identity. Frames of this dialect show the id without the prefix.
 */
const UNVERIFIED_PREFIX = "seed001:";
// Control characters would make ids unprintable in logs and CSVs.
const CONTROL = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

/** Who a seed 001 connection is. */
export interface SeedUser {
  /** The engine's user id (namespaced when unverified). */
  userId: UserId;
  /** The id this dialect shows: the `user_id` the client gave, or the token's subject. */
  publicId: string;
  /** The token's display handle (seed 004's `username` claim), if any. */
  handle: string | null;
  roles: string[];
  /** True when nothing proves the user is who `user_id` says (the seed's mocked auth). */
  anonymous: boolean;
}

export type SeedUserResult =
  | { ok: true; user: SeedUser }
  | { ok: false; status: 400 | 401 | 403; message: string };

/** The id a frame of this dialect shows for an engine user id. */
export function publicUserId(userId: string): string {
  return userId.startsWith(UNVERIFIED_PREFIX) ? userId.slice(UNVERIFIED_PREFIX.length) : userId;
}

/**
 * Decides who is connecting, before the upgrade:
 *
 * - A token (`?token=` or `Authorization: Bearer`) must verify, and its subject
 *   is the user. `user_id` may then be left out; when given it must equal the
 *   subject (403 otherwise).
 * - Without a token, the seed's mocked auth applies when anonymous access is
 *   on: `user_id` (1–64 characters, no control characters) is the user (400
 *   when missing or invalid). When anonymous access is off a token is required (401).
 */
export async function resolveSeedUser(
  req: Pick<IncomingMessage, "url" | "headers">,
  identity: IdentityService,
): Promise<SeedUserResult> {
  const given = new URL(req.url ?? "/", "http://localhost").searchParams.get("user_id");
  const token = upgradeToken(req);
  if (token !== null) {
    try {
      const who = await identity.fromJwt(token);
      if (given !== null && given !== who.userId) {
        return { ok: false, status: 403, message: "user_id does not match the token's user" };
      }
      return {
        ok: true,
        user: {
          userId: who.userId,
          publicId: who.userId,
          handle: who.handle,
          roles: who.roles,
          anonymous: false,
        },
      };
    } catch (err) {
      if (err instanceof AuthError) return { ok: false, status: 401, message: err.message };
      throw err;
    }
  }
  if (!identity.allowsAnonymous) {
    return { ok: false, status: 401, message: "a token is required (anonymous access is off)" };
  }
  if (given === null || given === "") {
    return { ok: false, status: 400, message: "missing user_id parameter" };
  }
  if ([...given].length > USER_ID_MAX || CONTROL.test(given)) {
    return {
      ok: false,
      status: 400,
      message: `user_id must be 1-${USER_ID_MAX} characters without control characters`,
    };
  }
  return {
    ok: true,
    user: {
      userId: asUserId(`${UNVERIFIED_PREFIX}${given}`),
      publicId: given,
      handle: null,
      roles: [],
      anonymous: true,
    },
  };
}
