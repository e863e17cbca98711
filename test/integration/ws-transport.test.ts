/**
 * The `ws` transport under a real client: shared bytes framed once and written
 * straight to the network arrive intact, in order with text `ws` framed, at
 * every payload-length encoding (7, 16 and 64 bits).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { OriginPolicy } from "../../src/doors/origin-policy.js";
import type { DoorSocket } from "../../src/doors/ws-kit/socket.js";
import {
  framedPayload,
  sharedTextFrame,
  textFrame,
  writeTextFrameHeader,
} from "../../src/doors/ws-kit/text-frame.js";
import { WsTransport } from "../../src/doors/ws-kit/ws-transport.js";

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** A server whose one door hands each opened socket to `opened`. */
async function serve(opened: (socket: DoorSocket) => void, heartbeatMs = 60_000): Promise<number> {
  const transport = new WsTransport({
    maxPayload: 1024,
    heartbeatMs,
    heartbeatTimeoutCode: 4010,
    origins: OriginPolicy.fromConfig({ allowedOrigins: [], publicUrl: "http://localhost" }),
    log: pino({ level: "silent" }),
    failure: "test admission failed",
  });
  const server = createServer();
  server.on("upgrade", (req, socket, head) =>
    transport.accept(req, socket, head, {
      admit: () => ({ ok: true as const }),
      open: (socket) => {
        opened(socket);
        return { onMessage: () => {}, onClose: () => {} };
      },
    }),
  );
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  server.on("close", () => transport.stop());
  return (server.address() as AddressInfo).port;
}

function receive(port: number, count: number): Promise<string[]> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`);
  const got: string[] = [];
  return new Promise((resolve, reject) => {
    ws.on("message", (data, isBinary) => {
      if (isBinary) reject(new Error("a binary frame"));
      got.push(String(data));
      if (got.length === count) {
        ws.close();
        resolve(got);
      }
    });
    ws.on("error", reject);
  });
}

/** A server whose first `count` sockets are handed back once they are all open. */
async function serveMany(count: number): Promise<{ port: number; opened: Promise<DoorSocket[]> }> {
  const sockets: DoorSocket[] = [];
  let ready: (all: DoorSocket[]) => void = () => {};
  const opened = new Promise<DoorSocket[]>((r) => {
    ready = r;
  });
  const port = await serve((s) => {
    sockets.push(s);
    if (sockets.length === count) ready(sockets);
  });
  return { port, opened };
}

/** `count` clients connected to one server, each expecting `frames` frames; resolves once all are open. */
async function openMany(
  count: number,
  frames: number,
): Promise<{ sockets: DoorSocket[]; received: Promise<string[][]> }> {
  const { port, opened } = await serveMany(count);
  const received = Promise.all(Array.from({ length: count }, () => receive(port, frames)));
  return { sockets: await opened, received };
}

describe("WsTransport", () => {
  it("shared bytes (framed once) and per-recipient text arrive intact and in order, at every length encoding", async () => {
    // Exactly 0, 5, 125 (7-bit), 126 and 65,535 (16-bit), 65,536 and 100,000 (64-bit) bytes; one not ASCII.
    const payloads = [0, 5, 125, 126, 65_535, 65_536, 100_000].map((n) => "x".repeat(n));
    payloads.push("Zoë’s “quiz” ✓");
    const expected: string[] = [];
    // Per-recipient text at every length encoding too: it is framed here, not by ws.
    for (const p of payloads) expected.push(p, `text:${p}`);
    expected.push('{"you":"Zoë"}', '{"you":"Zoë 🦊"}');
    const port = await serve((socket) => {
      for (const p of payloads) {
        socket.send(Buffer.from(p));
        socket.send(`text:${p}`);
      }
      socket.sendSpliced(Buffer.from('{"you":'), '"Zoë"', Buffer.from("}"));
      // A part given as bytes: a slice of a buffer that holds many recipients' parts.
      const parts = Buffer.from('"Ann""Zoë 🦊""Ben"');
      socket.sendSpliced(Buffer.from('{"you":'), parts.subarray(5, 5 + 11), Buffer.from("}"));
    });
    expect(await receive(port, expected.length)).toStrictEqual(expected);
  });

  it("a text made for one client arrives as its UTF-8 bytes (a lone surrogate as U+FFFD, as Buffer.from makes it)", async () => {
    const texts = ["", "hi", "Zoë ✓ 😀", "x".repeat(300), "bad \ud800 half"];
    const port = await serve((socket) => {
      for (const t of texts) socket.send(t, true);
    });
    expect(await receive(port, texts.length)).toStrictEqual(
      texts.map((t) => Buffer.from(t).toString()),
    );
  });

  it("frames sent in one batch (a reply and the events held for it) arrive whole and in order", async () => {
    const port = await serve((socket) => {
      socket.batch(() => {
        socket.send('{"type":"joined"}');
        socket.send(Buffer.from('{"type":"state"}'));
        socket.send('{"type":"presence"}');
      });
      socket.send('{"type":"after"}');
    });
    expect(await receive(port, 4)).toStrictEqual([
      '{"type":"joined"}',
      '{"type":"state"}',
      '{"type":"presence"}',
      '{"type":"after"}',
    ]);
  });

  it("a turn's frames to many sockets, shared and spliced, reach each socket whole and in order, and a close comes after them", async () => {
    const started = Buffer.from('{"type":"started"}');
    const question = Buffer.from(JSON.stringify({ type: "question", text: "q".repeat(300) }));
    const before = Buffer.from(`{"type":"reveal","board":"${"b".repeat(200)}","you":`);
    const after = Buffer.from("}");
    const { sockets, received } = await openMany(3, 3);
    // One turn: the same two shared frames to every socket (joined once for all), then each one's own part.
    for (const s of sockets) {
      s.send(started);
      s.send(question);
    }
    for (const [i, s] of sockets.entries()) s.sendSpliced(before, `"Zoë ${i}"`, after);
    for (const [i, frames] of (await received).entries()) {
      expect(frames).toStrictEqual([
        String(started),
        String(question),
        `${before.toString()}"Zoë ${i}"}`,
      ]);
    }
  });

  it("a room step's frames sent as one piece (sendAll, or before a player's own part) arrive whole and in order", async () => {
    const closed = Buffer.from('{"type":"question_closed"}');
    const started = Buffer.from('{"type":"started"}');
    const question = Buffer.from(JSON.stringify({ type: "question", text: "q".repeat(300) }));
    const before = Buffer.from('{"type":"reveal","you":');
    const after = Buffer.from("}");
    const { sockets, received } = await openMany(2, 5);
    // The same arrays for every socket, as a step's bundle hands them out.
    const step = [started, question];
    const lead = [closed];
    for (const [i, s] of sockets.entries()) {
      s.sendAll(step);
      s.sendSpliced(before, `"Zoë ${i}"`, after, false, lead);
      s.sendAll(lead);
    }
    for (const [i, frames] of (await received).entries()) {
      expect(frames).toStrictEqual([
        String(started),
        String(question),
        String(closed),
        `${before.toString()}"Zoë ${i}"}`,
        String(closed),
      ]);
    }
  });

  it("frames queued in the turn of a close go out before the close frame", async () => {
    const port = await serve((socket) => {
      socket.send('{"type":"kick"}');
      socket.close(4003, "kicked");
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    const frames: string[] = [];
    ws.on("message", (data) => frames.push(String(data)));
    const code = await new Promise<number>((resolve) => ws.on("close", (c) => resolve(c)));
    expect(code).toBe(4003);
    expect(frames).toStrictEqual(['{"type":"kick"}']);
  });

  it("a client that stops reading gets every frame intact later, while the others' writes reuse the memory its writes were made in", async () => {
    // Each socket's own part differs in every byte that matters, so a write made in memory the
    // stalled socket still held would arrive as another socket's text.
    const before = Buffer.from('{"type":"board","you":"');
    const after = Buffer.from('"}');
    const part = (who: number, turn: number) =>
      `${who}:${turn}:${String.fromCharCode(97 + ((who * 7 + turn) % 26)).repeat(40_000)}`;
    // The stalled client connects first, so it is the first socket the server opens.
    const { port, opened } = await serveMany(2);
    const stalled = new WebSocket(`ws://127.0.0.1:${port}`);
    const stalledGot: string[] = [];
    stalled.on("message", (data) => stalledGot.push(String(data)));
    await new Promise<void>((r) => stalled.on("open", () => r()));
    stalled.pause();
    const reader = new WebSocket(`ws://127.0.0.1:${port}`);
    const readerGot: string[] = [];
    reader.on("message", (data) => readerGot.push(String(data)));
    const [toStalled, toReader] = (await opened) as [DoorSocket, DoorSocket];

    // Turns of one frame each to both, until the stalled client's bytes back up in the server
    // (the kernel took only part of a write), and a few turns more. Bounded: 40 KB a turn.
    let turns = 0;
    let extra = 0;
    while (turns < 1_000 && extra < 5) {
      toStalled.sendSpliced(before, part(0, turns), after);
      toReader.sendSpliced(before, part(1, turns), after);
      turns += 1;
      await new Promise((r) => setImmediate(r));
      if (toStalled.bufferedAmount > 0) extra += 1;
    }
    expect(extra).toBe(5);

    const whole = (who: number) =>
      Array.from({ length: turns }, (_, t) => `${before}${part(who, t)}${after}`);
    await vi.waitFor(() => expect(readerGot).toHaveLength(turns), { timeout: 10_000 });
    stalled.resume();
    await vi.waitFor(() => expect(stalledGot).toHaveLength(turns), { timeout: 10_000 });
    const [readerWhole, stalledWhole] = [whole(1), whole(0)];
    expect(readerGot.every((f, t) => f === readerWhole[t])).toBe(true);
    expect(stalledGot.every((f, t) => f === stalledWhole[t])).toBe(true);
    stalled.close();
    reader.close();
  });

  it("one shared buffer sent to many sockets reaches each of them whole", async () => {
    const shared = Buffer.from(JSON.stringify({ type: "question", text: "q".repeat(300) }));
    const { sockets, received } = await openMany(5, 1);
    for (const s of sockets) s.send(shared);
    for (const got of await received) expect(got).toStrictEqual([String(shared)]);
  });
});

describe("writeTextFrameHeader", () => {
  it("written where it says, followed by its payload, is the whole frame, at every length encoding", () => {
    for (const n of [0, 125, 126, 65_535, 65_536]) {
      const payload = Buffer.alloc(n, 0x78);
      const out = Buffer.alloc(3 + 10 + n, 0xee);
      const header = writeTextFrameHeader(out, 3, n);
      payload.copy(out, 3 + header);
      expect(out[0]).toBe(0xee);
      expect(out.subarray(3, 3 + header + n)).toStrictEqual(textFrame(payload));
    }
  });
});

describe("framedPayload", () => {
  it("is a payload made inside its frame: the frame is found for it without a copy, and holds what was written", () => {
    for (const text of ["{}", "Zoë 🦊", "x".repeat(70_000), ""]) {
      const bytes = Buffer.from(text);
      const payload = framedPayload(bytes.length);
      expect(payload.length).toBe(bytes.length);
      bytes.copy(payload);
      const frame = sharedTextFrame(payload);
      expect(frame).toStrictEqual(textFrame(bytes));
      expect(frame.buffer).toBe(payload.buffer);
    }
  });
});

describe("textFrame", () => {
  it("writes RFC 6455's header: FIN + text, unmasked, the shortest length encoding", () => {
    expect([...textFrame(Buffer.from("hi")).subarray(0, 2)]).toStrictEqual([0x81, 2]);
    expect([...textFrame(Buffer.alloc(300)).subarray(0, 4)]).toStrictEqual([0x81, 126, 1, 44]);
    expect([...textFrame(Buffer.alloc(70_000)).subarray(0, 10)]).toStrictEqual([
      0x81, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70,
    ]);
  });
});

describe("WsTransport heartbeat", () => {
  it("closes a client that answers no ping with the door's code (4010), and keeps one that does", async () => {
    const port = await serve(() => {}, 300);
    const closed = (ws: WebSocket) =>
      new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
    const silent = new WebSocket(`ws://127.0.0.1:${port}`, { autoPong: false });
    const lively = new WebSocket(`ws://127.0.0.1:${port}`);
    const silentClosed = closed(silent);
    const pinged = new Promise((r) => lively.once("ping", r));
    await new Promise((r) => lively.on("open", r));
    expect(await silentClosed).toBe(4010);
    await pinged;
    // The lively client has answered every ping it got: still open.
    expect(lively.readyState).toBe(WebSocket.OPEN);
    const livelyClosed = closed(lively);
    lively.close();
    await livelyClosed;
  });
});
