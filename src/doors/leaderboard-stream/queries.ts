import type { DomainError } from "../../domain/errors.js";
import type { ParticipantId, UserId } from "../../domain/ids.js";
import type { RoomHandle } from "../../engine/room-handle.js";
import { VIEWER } from "./board.js";

/**
 * What a lookup of a participant found: a member, nobody, a session no longer
 * open (it is then in storage), or a session whose server cannot be reached now.
 */
export type MemberAnswer =
  | { kind: "member"; userId: UserId }
  | { kind: "none" }
  | { kind: "gone" }
  | { kind: "unavailable" };

/** Whether a failed query means "try again" (the owner is out of reach) rather than "not open". */
export function isUnavailable(error: DomainError): boolean {
  return error.code === "UNAVAILABLE";
}

/** The user behind a participant id (kicked members are nobody), through the session's handle. */
export async function memberOf(
  handle: RoomHandle,
  participantId: ParticipantId,
): Promise<MemberAnswer> {
  const reply = await handle.execute(VIEWER, { type: "lookup", participantId });
  if (!reply.ok) return { kind: isUnavailable(reply.error) ? "unavailable" : "gone" };
  const member = reply.value.member;
  return member ? { kind: "member", userId: member.userId } : { kind: "none" };
}

/** Where a session stands for the stream: open, ended (or no longer open), or out of reach. */
export type SessionState = "open" | "ended" | "unavailable";

export async function sessionState(handle: RoomHandle): Promise<SessionState> {
  const reply = await handle.execute(VIEWER, { type: "snapshot", role: "player" });
  if (!reply.ok) return isUnavailable(reply.error) ? "unavailable" : "ended";
  return reply.value.status === "completed" ? "ended" : "open";
}
