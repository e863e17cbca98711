import Type, { type Static } from "typebox";
import { asParticipantId, asUserId } from "../../domain/ids.js";
import { SETTINGS_LIMITS } from "../../domain/session-settings.js";
import type { Command } from "../../engine/types.js";

/**
 * Who a kick removes, as the canonical `kick` message and the REST kick routes both take it: the
 * player by `participant_id`, or (seed 000's `kick {user_id, reason}`) by `user_id`.
 */
export const KickTarget = Type.Union([
  Type.Object(
    {
      participant_id: Type.String({ minLength: 1, maxLength: 64 }),
      reason: Type.Optional(Type.String({ maxLength: 200 })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      user_id: Type.String({ minLength: 1, maxLength: SETTINGS_LIMITS.userIdMax }),
      reason: Type.Optional(Type.String({ maxLength: 200 })),
    },
    { additionalProperties: false },
  ),
]);
export type KickTarget = Static<typeof KickTarget>;

/** A kick target as the room command, with `defaultReason` when it names none. */
export function kickCommand(
  target: KickTarget,
  defaultReason: string,
): Extract<Command, { type: "kick" }> {
  const reason = target.reason ?? defaultReason;
  return "participant_id" in target
    ? { type: "kick", participantId: asParticipantId(target.participant_id), reason }
    : { type: "kick", userId: asUserId(target.user_id), reason };
}
