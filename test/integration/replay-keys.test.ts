import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RawSocket, rawSockets } from "../support/clients.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

// A-6 on the canonical door (docs/protocol.md): a retried msg_id gets its first reply, and a msg_id
// reused for a different request — another room, another message type, another question — is that
// new request, never the old reply. Raw WebSocket frames only.

type Json = Record<string, unknown>;
let t: TestApp;
let url: string;
const sockets = rawSockets(() => url);

beforeAll(async () => {
  t = await createTestApp();
  url = `ws://127.0.0.1:${await t.app.listen()}/ws/v1`;
});
afterAll(async () => {
  sockets.closeAll();
  await t.close();
});

const socket = sockets.open;

async function room(host: RawSocket, msgId: string): Promise<Json> {
  const created = await host.request("create_room", msgId, { quiz_id: "vocab-101", mode: "live" });
  expect(created.type).toBe("room_created");
  return created.data as Json;
}

describe("A-6: replays are keyed by what the request is about", () => {
  it("A-6: a join by PIN to another room with a msg_id used before joins that room; a true retry still replays", async () => {
    const first = await room(await socket(), "c1");
    const second = await room(await socket(), "c1");
    const player = await socket();
    const a = await player.request("join", "j1", { pin: first.pin, display_name: "Pat" });
    expect((a.data as Json).room_id).toBe(first.room_id);
    const b = await player.request("join", "j1", { pin: second.pin, display_name: "Pat" });
    expect(b.type).toBe("joined");
    expect((b.data as Json).room_id).toBe(second.room_id);
    // The connection follows the second room: its state and events are the second room's.
    const state = await player.request("sync", "s1");
    expect(state.room_id).toBe(second.room_id);
    // Sending the second join again is a retry: the same reply, no second member.
    const again = await player.request("join", "j1", { pin: second.pin, display_name: "Pat" });
    expect(again.data).toEqual(b.data);
  });

  it("A-6: a host who reuses a msg_id for start and then next gets next's reply, and the game advances", async () => {
    const host = await socket();
    const r = await room(host, "c1");
    const player = await socket();
    await player.request("join", "j1", { pin: r.pin, display_name: "Pam" });
    const started = await host.request("start", "h1");
    expect(started.data).toMatchObject({ type: "start" });
    const next = await host.request("next", "h1");
    expect(next.type).toBe("ack");
    expect(next.data).toMatchObject({ type: "next" });
    // A retried next is still that next: no second advance.
    const retried = await host.request("next", "h1");
    expect(retried.data).toEqual(next.data);
  });

  it("A-6: an answer to another question under a used msg_id is that question's answer", async () => {
    const host = await socket();
    const r = await room(host, "c1");
    const player = await socket();
    await player.request("join", "j1", { pin: r.pin, display_name: "Pia" });
    await host.request("start", "h1");
    await player.next((f) => f.type === "question" && (f.data as Json).index === 0);
    const first = await player.request("answer", "a1", { index: 0, choice: 0 });
    expect(first.type).toBe("score");
    expect((first.data as Json).index).toBe(0);
    // The only player answered: question 0 closes by itself (T-3); the host moves on.
    await player.next((f) => f.type === "reveal" && (f.data as Json).index === 0);
    await host.request("next", "h2");
    await player.next((f) => f.type === "question" && (f.data as Json).index === 1);
    const second = await player.request("answer", "a1", { index: 1, choice: 0 });
    expect(second.type).toBe("score");
    expect((second.data as Json).index).toBe(1);
  });
});
