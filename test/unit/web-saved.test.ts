import { describe, expect, it } from "vitest";
import {
  adminToken,
  clearSeat,
  currentSeat,
  forgetHostedRoom,
  type HostedRoom,
  hostedRoom,
  hostedRooms,
  lastSeatFor,
  MemoryStore,
  markHostedRoomEnded,
  playerIdentity,
  runningAndFinished,
  type Seat,
  saveAdminToken,
  saveHostedRoom,
  saveLastSeat,
  savePlayerIdentity,
  saveSeat,
  updateHostToken,
} from "../../web/src/lib/saved.js";

const DAY = 24 * 60 * 60 * 1000;

function room(id: string, createdAt: number): HostedRoom {
  return {
    roomId: id,
    pin: "482913",
    title: `Room ${id}`,
    mode: "live",
    hostToken: `tok-${id}`,
    createdAt,
  };
}

const seat: Seat = {
  roomId: "r1",
  pin: "482913",
  name: "Ana",
  resumeToken: "Rk3vT8mQ2xLp9WcZ",
  identityToken: "anon-x.sig",
  savedAt: 1_000,
};

describe("web saved state: what survives a refresh", () => {
  it("keeps hosted rooms newest first, with the latest host token, for a day", () => {
    const s = new MemoryStore();
    saveHostedRoom(s, room("a", 1_000), 1_000);
    saveHostedRoom(s, room("b", 2_000), 2_000);
    expect(hostedRooms(s, 3_000).map((r) => r.roomId)).toEqual(["b", "a"]);
    // Every resume hands out a new host token; the newest replaces the old one.
    updateHostToken(s, "a", "tok-a2", 3_000);
    expect(hostedRoom(s, "a", 3_000)?.hostToken).toBe("tok-a2");
    expect(hostedRooms(s, 1_000 + DAY).map((r) => r.roomId)).toEqual(["b"]);
    forgetHostedRoom(s, "b", 3_000);
    expect(hostedRoom(s, "b", 3_000)).toBeNull();
  });

  it("a finished game is kept apart from the running ones, with when it ended", () => {
    const s = new MemoryStore();
    saveHostedRoom(s, room("a", 1_000), 1_000);
    saveHostedRoom(s, room("b", 2_000), 2_000);
    markHostedRoomEnded(s, "a", 5_000, 5_000);
    // Seen ending twice: the first time stands.
    markHostedRoomEnded(s, "a", 9_000, 9_000);
    const { running, finished } = runningAndFinished(hostedRooms(s, 9_000));
    expect(running.map((r) => r.roomId)).toEqual(["b"]);
    expect(finished.map((r) => [r.roomId, r.endedAt])).toEqual([["a", 5_000]]);
    // A new host token does not bring it back to life.
    updateHostToken(s, "a", "tok-a2", 9_000);
    expect(hostedRoom(s, "a", 9_000)?.endedAt).toBe(5_000);
    // Entries saved before endedAt existed read as running.
    s.setItem("quizwire.hosted", JSON.stringify([room("old", 8_000)]));
    expect(runningAndFinished(hostedRooms(s, 9_000)).running.map((r) => r.roomId)).toEqual(["old"]);
  });

  it("keeps this tab's seat, and offers the last one only for the same room", () => {
    const session = new MemoryStore();
    saveSeat(session, seat);
    expect(currentSeat(session)).toEqual(seat);
    clearSeat(session);
    expect(currentSeat(session)).toBeNull();
    const local = new MemoryStore();
    saveLastSeat(local, seat);
    expect(lastSeatFor(local, "r1", 2_000)).toEqual(seat);
    expect(lastSeatFor(local, "r2", 2_000)).toBeNull();
    expect(lastSeatFor(local, "r1", 1_000 + 7 * 60 * 60 * 1000)).toBeNull();
  });

  it("ignores garbage and storage that throws", () => {
    const s = new MemoryStore();
    s.setItem("quizwire.seat", "{not json");
    s.setItem("quizwire.hosted", JSON.stringify([{ roomId: 1 }, room("ok", 5)]));
    expect(currentSeat(s)).toBeNull();
    expect(hostedRooms(s, 10).map((r) => r.roomId)).toEqual(["ok"]);
    const broken = {
      getItem: () => {
        throw new Error("denied");
      },
      setItem: () => {
        throw new Error("full");
      },
      removeItem: () => {
        throw new Error("denied");
      },
    };
    expect(currentSeat(broken)).toBeNull();
    expect(() => saveSeat(broken, seat)).not.toThrow();
    expect(() => clearSeat(broken)).not.toThrow();
  });

  it("keeps the player's identity and the admin token", () => {
    const s = new MemoryStore();
    expect(playerIdentity(s)).toBeNull();
    savePlayerIdentity(s, "anon-1.sig");
    expect(playerIdentity(s)).toBe("anon-1.sig");
    saveAdminToken(s, "secret");
    expect(adminToken(s)).toBe("secret");
    saveAdminToken(s, "");
    expect(adminToken(s)).toBeNull();
  });
});
