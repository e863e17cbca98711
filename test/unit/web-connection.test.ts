import { describe, expect, it } from "vitest";
import {
  type ConnectionEvent,
  type ConnectionState,
  connectionIsFatal,
  connectionText,
  INITIAL_CONNECTION,
  reduceConnection,
  settleWithoutRoom,
} from "../../web/src/lib/connection.js";

function run(
  events: ConnectionEvent[],
  from: ConnectionState = INITIAL_CONNECTION,
): ConnectionState {
  return events.reduce(reduceConnection, from);
}

describe("web connection banner", () => {
  it("shows nothing while connected", () => {
    expect(connectionText(INITIAL_CONNECTION, 0)).toBeNull();
    expect(connectionText(run([{ type: "connected" }]), 0)).toBeNull();
  });

  it("says the connection is lost, and when the next try is, while the SDK retries", () => {
    const lost = run([{ type: "disconnected", willReconnect: true, code: 1006 }]);
    expect(connectionText(lost, 0)).toBe("Connection lost. Reconnecting…");
    const waiting = reduceConnection(lost, {
      type: "reconnecting",
      attempt: 1,
      delayMs: 2_400,
      now: 10_000,
    });
    expect(connectionText(waiting, 10_000)).toBe("Connection lost. Retrying in 3 s…");
    expect(connectionText(waiting, 12_000)).toBe("Connection lost. Retrying in 1 s…");
    expect(connectionText(waiting, 12_500)).toBe("Connection lost. Reconnecting now…");
    const again = reduceConnection(waiting, {
      type: "reconnecting",
      attempt: 3,
      delayMs: 5_000,
      now: 20_000,
    });
    expect(connectionText(again, 20_000)).toBe("Connection lost. Retrying in 5 s (attempt 3)…");
    expect(connectionIsFatal(again)).toBe(false);
  });

  it("keeps a banner until the room is resumed, then clears it", () => {
    const back = run([
      { type: "disconnected", willReconnect: true, code: 1001 },
      { type: "reconnecting", attempt: 1, delayMs: 300, now: 0 },
      { type: "connected" },
    ]);
    expect(back.kind).toBe("resuming");
    expect(connectionText(back, 0)).toMatch(/Getting you back into the game/);
    expect(reduceConnection(back, { type: "resumed" })).toEqual({ kind: "ok" });
    // A client with no room to resume settles as soon as it is connected.
    expect(settleWithoutRoom(back)).toEqual({ kind: "ok" });
  });

  it("R-3: a kicked player is told so, and nothing afterwards hides it", () => {
    const kicked = run([
      { type: "disconnected", willReconnect: false, code: 4003 },
      { type: "closed", code: 4003, reason: "kicked" },
      { type: "connected" },
      { type: "resumed" },
    ]);
    expect(kicked).toEqual({ kind: "gone", reason: "kicked", detail: null });
    expect(connectionText(kicked, 0)).toBe("The host removed you from this game.");
    expect(connectionIsFatal(kicked)).toBe(true);
  });

  it("a refused resume is final and keeps the server's reason", () => {
    const refused = run([
      { type: "disconnected", willReconnect: true, code: 1006 },
      { type: "connected" },
      { type: "resume_failed", reason: "room_ended" },
    ]);
    expect(refused).toEqual({ kind: "gone", reason: "resume_failed", detail: "room_ended" });
    expect(connectionText(refused, 0)).toBe("You could not get back into this game.");
  });

  it("a close without reconnecting (not a kick) is reported as closed", () => {
    const closed = run([{ type: "disconnected", willReconnect: false, code: 1000 }]);
    expect(closed).toEqual({ kind: "gone", reason: "closed", detail: null });
  });
});
