import type { ParticipantId, UserId } from "../../domain/ids.js";
import type { RoomHandle } from "../../engine/room-handle.js";
import type { MemberLookup, Snapshot } from "../../engine/types.js";
import { VIEWER } from "./board.js";

/** What a lookup of a participant found: a member, nobody, or a session no longer open here. */
export type MemberAnswer = { kind: "member"; userId: UserId } | { kind: "none" } | { kind: "gone" };

/** The user behind a participant id (kicked members are nobody), through the session's handle. */
export async function memberOf(
  handle: RoomHandle,
  participantId: ParticipantId,
): Promise<MemberAnswer> {
  const reply = await handle.execute(VIEWER, { type: "lookup", participantId });
  if (!reply.ok) return { kind: "gone" };
  const member = (reply.value as MemberLookup).member;
  return member ? { kind: "member", userId: member.userId } : { kind: "none" };
}

/** Whether the session has ended (or is no longer open where it ran). */
export async function hasEnded(handle: RoomHandle): Promise<boolean> {
  const reply = await handle.execute(VIEWER, { type: "snapshot", role: "player" });
  return !reply.ok || (reply.value as Snapshot).status === "completed";
}
