import { describe, expect, it } from "vitest";
import {
  announcementFrame,
  announcementOf,
  encodeEvent,
} from "../../src/doors/vocabulary/encode.js";
import type { RoomEvent } from "../../src/engine/types.js";
import { arrival, roomEvent } from "../support/room-events.js";

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
      roomEvent({ type: "started", startedAt: 1_765_000_000_000 } as RoomEvent["body"]),
      policy,
    );
    expect(started.length).toBeGreaterThan(0);
    expect(started.every((f) => !f.mayWait)).toBe(true);
  });
});
