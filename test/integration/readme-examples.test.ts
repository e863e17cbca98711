/**
 * The README's examples, run as written against a real server (issue 12: "examples in the README
 * must be runnable as written"). The wscat session and the curl commands are read from
 * README.md itself: only `localhost:8080`, the example PIN and `<room_id>` are replaced by the
 * test server's address, the real PIN and the real room id.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AnyServerFrame } from "../../src/doors/canonical/protocol.js";
import { RawSocket } from "../support/clients.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

const README = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");

/** The fenced ```sh blocks of the README, in order. */
function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
}

/** The block that follows `marker` in the README. */
function blockAfter(marker: string): string {
  const at = README.indexOf(marker);
  if (at < 0) throw new Error(`README has no "${marker}"`);
  const block = shellBlocks(README.slice(at))[0];
  if (block === undefined) throw new Error(`no sh block after "${marker}"`);
  return block;
}

const HOST_TYPES = new Set(["create_room", "start", "next", "end", "lock", "kick"]);

describe("README examples run as written", () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp({ DEMO_CONTENT: "true" });
    base = `127.0.0.1:${await t.app.listen()}`;
  });
  afterAll(async () => {
    await t?.close();
  });
  const local = (text: string) => text.replaceAll("localhost:8080", base);

  it("the wscat session: create a room, join by PIN, start, answer, next — no step is refused", async () => {
    const block = blockAfter("By hand, with [`wscat`]");
    const urls = [...block.matchAll(/^wscat -c (\S+)$/gm)].map((m) => m[1] ?? "");
    expect(urls.length).toBeGreaterThanOrEqual(2);
    for (const url of urls) expect(url).toBe("ws://localhost:8080/ws/v1");
    const messages = [...block.matchAll(/^> (.+)$/gm)].map(
      (m) =>
        JSON.parse(m[1] ?? "") as { type: string; msg_id: string; data: Record<string, unknown> },
    );
    expect(messages.map((m) => m.type)).toEqual(["create_room", "join", "start", "answer", "next"]);

    // Terminal 1 is the host, terminal 2 a player (the README's terminals 2–4 are alike).
    const host = await RawSocket.open(local(urls[0] ?? ""));
    const player = await RawSocket.open(local(urls[1] ?? ""));
    let pin = "";
    let question: AnyServerFrame | null = null;
    try {
      for (const m of messages) {
        const socket = HOST_TYPES.has(m.type) ? host : player;
        // "with the PIN from above": the example PIN is replaced by the one the room got.
        const data = m.type === "join" ? { ...m.data, pin } : m.data;
        if (m.type === "answer") {
          // A player answers the question it was sent.
          question = await player.next((f) => f.type === "question");
          expect((question.data as { index: number }).index).toBe(m.data.index);
        }
        const before = socket.frames.length;
        socket.send({ ...m, data });
        const reply = await socket.next(
          (f) => f.msg_id === m.msg_id && socket.frames.indexOf(f) >= before,
        );
        expect(reply.type, `${m.type} → ${JSON.stringify(reply.data)}`).not.toBe("error");
        if (m.type === "create_room") {
          expect(reply.type).toBe("room_created");
          pin = (reply.data as { pin: string }).pin;
          expect(pin).toMatch(/^[1-9]\d{5}$/);
        }
        if (m.type === "answer") {
          // The README's answer is the right one, as its comment says.
          expect(reply.type).toBe("score");
          expect(reply.data).toMatchObject({ accepted: true, correct: true });
        }
      }
      // Everyone had answered, so "reveal" came, and "next" moved on to question 1.
      await player.next((f) => f.type === "reveal");
      await player.next((f) => f.type === "question" && (f.data as { index: number }).index === 1);
    } finally {
      host.close();
      player.close();
    }
  });

  it("the curl commands answer 200 (the results ones for a room created and ended over the wire)", async () => {
    const curls = shellBlocks(README)
      .flatMap((b) => b.split("\n"))
      .filter((line) => /^curl /.test(line));
    expect(curls.length).toBeGreaterThanOrEqual(4);

    // A game to read the results of: the wscat example's room, created and ended over the wire.
    const host = await RawSocket.open(`ws://${base}/ws/v1`);
    const created = await host.request("create_room", "1", { quiz_id: "general-knowledge" });
    const roomId = (created.data as { room_id: string }).room_id;
    await host.request("end", "2", {}, roomId);
    host.close();

    for (const line of curls) {
      const url = /\s(localhost:8080\S*)/.exec(line)?.[1];
      expect(url, line).toBeDefined();
      const res = await fetch(`http://${local(url ?? "").replace("<room_id>", roomId)}`);
      expect(res.status, line).toBe(200);
      await res.arrayBuffer();
    }
  });
});
