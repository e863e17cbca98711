import type { FastifyRequest } from "fastify";
import type { Identity } from "../../auth/identity.js";
import { asUserId, type ParticipantId, type UserId } from "../../domain/ids.js";
import type { RoomHandle } from "../../engine/room-handle.js";
import type { Actor } from "../../engine/types.js";
import { bearerOf, looksLikeJwt, type RestAuth, roomTarget } from "../rest/auth.js";
import { RestError } from "../rest/errors.js";

/**
 * Participants who joined through this door without a JWT live in their own
 * user namespace, as seed 001's unverified ids do: no other door can make a
 * user id with this prefix (anonymous canonical ids start with `anon-`, seed
 * 001's with `seed001:`, seed 004's logins with `user_`), so "this participant
 * id is its own credential" can be told apart from every other membership.
 */
const SEED002_ANONYMOUS = "seed002:";

/** The identity a seed 002 join acts as: the JWT's user, or an anonymous user in this door's namespace. */
export function joiningIdentity(caller: Identity): Identity {
  if (!caller.anonymous) return caller;
  return { ...caller, userId: asUserId(`${SEED002_ANONYMOUS}${caller.userId}`) };
}

function isSeed002Anonymous(userId: UserId): boolean {
  return userId.startsWith(SEED002_ANONYMOUS);
}

/**
 * Decides whether this request may answer as `participantId` (R-5: a player acts
 * only for themselves), given the member the id names:
 *
 * - a JWT must be that member's user's (a bad one is 401 `invalid_token`);
 * - another bearer value must be that member's resume token;
 * - with no credentials at all, the participant id is enough only for what seed
 *   002 itself makes: a participant who joined this door anonymously, in a
 *   self_paced quiz. A live or quick_fire room, or a member who joined through
 *   another door, always needs credentials (401 `token_required`).
 */
export async function answeringActor(
  req: FastifyRequest,
  auth: RestAuth,
  handle: RoomHandle,
  participantId: ParticipantId,
  member: { userId: UserId },
): Promise<Actor> {
  const actor: Actor = { userId: member.userId, roles: [], anonymous: false, participantId };
  const bearer = bearerOf(req);
  if (bearer !== null && looksLikeJwt(bearer)) {
    const who = await auth.caller(req);
    if (who.userId === member.userId) return actor;
    throw notThisPlayer();
  }
  if (bearer !== null) {
    const holder = await roomTarget(handle).authenticate(bearer);
    if (holder?.participantId === participantId && holder.role === "player") return actor;
    throw notThisPlayer();
  }
  if (handle.info.settings.mode === "self_paced" && isSeed002Anonymous(member.userId)) {
    return actor;
  }
  throw new RestError(
    "UNAUTHORIZED",
    "answering as this participant needs their credentials: the JWT they joined with, or their resume token, as the bearer token",
    "token_required",
  );
}

function notThisPlayer(): RestError {
  return new RestError("FORBIDDEN", "these credentials are not this participant's", "not_player");
}
