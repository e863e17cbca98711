import { describe, expect, it } from "vitest";
import type { ParticipantId, SessionId, UserId } from "../../src/domain/ids.js";
import {
  announcementFrame,
  announcementOf,
  encodeEvent,
} from "../../src/doors/vocabulary/encode.js";
import type { RoomEvent } from "../../src/engine/types.js";

const event = (body: RoomEvent["body"]): RoomEvent => ({
  sessionId: "s_vocab" as SessionId,
  epoch: 1,
  seq: 3,
  at: 1_765_000_000_000,
  audience: { kind: "all" },
  encoded: new Map(),
  body,
});

const arrival = (presentCount: number): RoomEvent =>
  event({
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

describe("seed-001 announcements may wait to share a write", () => {
  it("USER_JOINED below the grouping threshold, and a grouped one, may wait; a session's start may not", () => {
    const policy = { announceAbove: 100, boardsAbove: 10 };
    const one = encodeEvent(arrival(5), policy);
    expect(one.map((f) => [f.type, f.mayWait, f.about])).toEqual([["USER_JOINED", true, "p_1"]]);

    const a = announcementOf(arrival(150));
    if (a === null) throw new Error("an arrival is announced");
    const grouped = announcementFrame(a, 1_765_000_000_000, { size: 7 });
    expect([grouped.type, grouped.mayWait, grouped.coalescible]).toEqual([
      "USER_JOINED",
      true,
      true,
    ]);
    expect(JSON.parse(grouped.shared?.toString() ?? "").payload.batch_size).toBe(7);

    const started = encodeEvent(
      event({ type: "started", startedAt: 1_765_000_000_000 } as RoomEvent["body"]),
      policy,
    );
    expect(started.length).toBeGreaterThan(0);
    expect(started.every((f) => !f.mayWait)).toBe(true);
  });
});
