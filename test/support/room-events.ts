import type { ParticipantId, SessionId, UserId } from "../../src/domain/ids.js";
import type { RoomEvent } from "../../src/engine/types.js";

/** A room event of session `s_room` with `body`, for a dialect's encoder (nothing encoded yet). */
export function roomEvent(
  body: RoomEvent["body"],
  over: Partial<Omit<RoomEvent, "body">> = {},
): RoomEvent {
  return {
    sessionId: "s_room" as SessionId,
    epoch: 1,
    seq: 3,
    at: 1_765_000_000_000,
    audience: { kind: "all" },
    encoded: new Map(),
    ...over,
    body,
  };
}

/** Ana (`p_1`, user `u1`) joined; `presentCount` players are present with her. */
export function arrival(presentCount = 1): RoomEvent {
  return roomEvent({
    type: "participant_joined",
    participant: {
      participantId: "p_1" as ParticipantId,
      userId: "u1" as UserId,
      name: "Ana",
      role: "player",
      status: "active",
      score: 0,
      connected: true,
    } as never,
    playerCount: presentCount,
    presentCount,
    roster: [] as never,
  });
}
