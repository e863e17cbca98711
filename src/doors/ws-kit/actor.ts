import type { ParticipantId } from "../../domain/ids.js";
import type { Actor } from "../../engine/types.js";

/** Who a connection acts as in room commands: its user, and its member once it has joined. */
export function actorOf(
  who: Pick<Actor, "userId" | "roles" | "anonymous">,
  participantId: ParticipantId | null,
  anonymous: boolean = who.anonymous,
): Actor {
  const a: Actor = { userId: who.userId, roles: who.roles, anonymous };
  if (participantId) a.participantId = participantId;
  return a;
}
