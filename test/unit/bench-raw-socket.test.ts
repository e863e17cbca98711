import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import {
  acceptFor,
  checkUpgrade,
  encodeClientFrame,
  frameType,
  numberField,
  numberKey,
  RawSocket,
  stringField,
  stringKey,
} from "../../bench/raw-socket.js";

/** A real `ws` server on a free port of 127.0.0.1, closed after each test. */
let wss: WebSocketServer | null = null;
let raw: Server | null = null;

afterEach(async () => {
  for (const c of wss?.clients ?? []) c.terminate();
  await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()));
  await new Promise<void>((resolve) => (raw ? raw.close(() => resolve()) : resolve()));
  wss = null;
  raw = null;
});

async function wsServer(): Promise<{ port: number; connections: WebSocket[] }> {
  const connections: WebSocket[] = [];
  const s = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    perMessageDeserialize: false,
  } as never);
  wss = s;
  s.on("connection", (c) => connections.push(c));
  await new Promise<void>((resolve) => s.once("listening", () => resolve()));
  return { port: (s.address() as { port: number }).port, connections };
}

interface Client {
  socket: RawSocket;
  opened: Promise<void>;
  messages: string[];
  closed: Promise<{ code: number; reason: string; error: Error | null }>;
  next(count?: number): Promise<void>;
}

function client(port: number, path = "/ws/v1"): Client {
  const messages: string[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  let open!: () => void;
  let close!: (c: { code: number; reason: string; error: Error | null }) => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  const closed = new Promise<{ code: number; reason: string; error: Error | null }>((r) => {
    close = r;
  });
  const socket = new RawSocket(
    { host: "127.0.0.1", port, path },
    {
      onOpen: () => open(),
      onMessage: (_s, payload) => {
        messages.push(payload.toString("utf8"));
        for (const w of waiters.splice(0)) {
          if (messages.length >= w.count) w.resolve();
          else waiters.push(w);
        }
      },
      onClose: (_s, code, reason, error) => close({ code, reason, error }),
    },
  );
  return {
    socket,
    opened,
    messages,
    closed,
    next: (count = messages.length + 1) =>
      new Promise<void>((resolve) => {
        if (messages.length >= count) resolve();
        else waiters.push({ count, resolve });
      }),
  };
}

/** Decodes masked client frames the way a server does, to check encodeClientFrame by hand. */
function unmask(frame: Buffer): { fin: boolean; opcode: number; masked: boolean; payload: Buffer } {
  let len = frame[1]! & 0x7f;
  let at = 2;
  if (len === 126) {
    len = frame.readUInt16BE(2);
    at = 4;
  } else if (len === 127) {
    len = Number(frame.readBigUInt64BE(2));
    at = 10;
  }
  const mask = frame.subarray(at, at + 4);
  const payload = Buffer.from(frame.subarray(at + 4, at + 4 + len));
  for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
  return {
    fin: (frame[0]! & 0x80) !== 0,
    opcode: frame[0]! & 0x0f,
    masked: (frame[1]! & 0x80) !== 0,
    payload,
  };
}

describe("RawSocket against a real ws server", () => {
  it("does the RFC 6455 handshake and its masked text frames arrive intact", async () => {
    const { port, connections } = await wsServer();
    const got: string[] = [];
    wss!.on("connection", (c) =>
      c.on("message", (d, binary) => got.push(`${binary}:${d.toString()}`)),
    );
    const c = client(port);
    await c.opened;
    expect(c.socket.state).toBe("open");
    c.socket.sendText('{"v":1,"type":"ping","msg_id":"t1"}');
    c.socket.sendText("é ✓ unicode");
    await expect.poll(() => got.length).toBe(2);
    expect(got).toEqual(['false:{"v":1,"type":"ping","msg_id":"t1"}', "false:é ✓ unicode"]);
    expect(connections).toHaveLength(1);
  });

  it("reads 7-, 16- and 64-bit lengths, and sends them too", async () => {
    const { port, connections } = await wsServer();
    const echoed: number[] = [];
    wss!.on("connection", (c) => c.on("message", (d) => echoed.push((d as Buffer).length)));
    const c = client(port);
    await c.opened;
    const sizes = [0, 125, 126, 65_535, 65_536, 300_000];
    for (const n of sizes) connections[0]!.send("x".repeat(n));
    await c.next(sizes.length);
    expect(c.messages.map((m) => m.length)).toEqual(sizes);
    for (const n of sizes) c.socket.sendText("y".repeat(n));
    await expect.poll(() => echoed.length).toBe(sizes.length);
    expect(echoed).toEqual(sizes);
  });

  it("joins fragmented messages and answers a ping with a pong", async () => {
    const { port, connections } = await wsServer();
    const c = client(port);
    await c.opened;
    const server = connections[0]!;
    const pong = new Promise<string>((resolve) =>
      server.once("pong", (d) => resolve(d.toString())),
    );
    server.ping("are you there");
    expect(await pong).toBe("are you there");
    server.send("hello ", { fin: false });
    server.send("fragmented ", { fin: false });
    server.send("world", { fin: true });
    await c.next(1);
    expect(c.messages).toEqual(["hello fragmented world"]);
  });

  it("closes with the server's code and reason, and answers its close", async () => {
    const { port, connections } = await wsServer();
    const c = client(port);
    await c.opened;
    const serverSaw = new Promise<number>((resolve) =>
      connections[0]!.once("close", (code) => resolve(code)),
    );
    connections[0]!.close(4003, "kicked");
    const closed = await c.closed;
    expect(closed.code).toBe(4003);
    expect(closed.reason).toBe("kicked");
    expect(closed.error).toBeNull();
    expect(await serverSaw).toBe(4003);
    expect(c.socket.state).toBe("closed");
  });

  it("starts the closing handshake itself", async () => {
    const { port, connections } = await wsServer();
    const c = client(port);
    await c.opened;
    const serverSaw = new Promise<[number, string]>((resolve) =>
      connections[0]!.once("close", (code, reason) => resolve([code, reason.toString()])),
    );
    c.socket.close(1000, "bye");
    expect(await serverSaw).toEqual([1000, "bye"]);
    expect((await c.closed).code).toBe(1000);
  });

  it("parses frames however the TCP reads split them (byte by byte, and many per read)", async () => {
    // A hand-rolled server: a valid upgrade, then frames written one byte per write.
    const frames: Buffer[] = [];
    const text = (s: string) => {
      const p = Buffer.from(s);
      const head =
        p.length < 126
          ? Buffer.from([0x81, p.length])
          : Buffer.from([0x81, 126, p.length >> 8, p.length & 0xff]);
      return Buffer.concat([head, p]);
    };
    frames.push(
      text('{"v":1,"type":"question","data":{"index":3}}'),
      text("z".repeat(1000)),
      text("last"),
    );
    const wire = Buffer.concat(frames);
    raw = createServer((sock) => {
      let head = "";
      sock.on("data", (d) => {
        head += d.toString("latin1");
        const m = /Sec-WebSocket-Key: (\S+)/i.exec(head);
        if (!head.includes("\r\n\r\n") || !m) return;
        head = "";
        sock.write(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(m[1]!)}\r\n\r\n`,
        );
        let i = 0;
        const drip = () => {
          if (i >= wire.length) return;
          // The first half byte by byte, the rest in one write.
          if (i < wire.length / 2) {
            sock.write(wire.subarray(i, i + 1));
            i++;
          } else {
            sock.write(wire.subarray(i));
            i = wire.length;
          }
          setImmediate(drip);
        };
        drip();
      });
    });
    await new Promise<void>((resolve) => raw!.listen(0, "127.0.0.1", () => resolve()));
    const c = client((raw.address() as { port: number }).port);
    await c.next(3);
    expect(c.messages[0]).toBe('{"v":1,"type":"question","data":{"index":3}}');
    expect(c.messages[1]).toBe("z".repeat(1000));
    expect(c.messages[2]).toBe("last");
    c.socket.destroy();
  });

  it("refuses an upgrade whose Sec-WebSocket-Accept is wrong", async () => {
    raw = createServer((sock) => {
      sock.once("data", () => {
        sock.write(
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bogus\r\n\r\n",
        );
      });
    });
    await new Promise<void>((resolve) => raw!.listen(0, "127.0.0.1", () => resolve()));
    const c = client((raw.address() as { port: number }).port);
    const closed = await c.closed;
    expect(closed.error?.message).toBe("wrong Sec-WebSocket-Accept");
    expect(c.socket.state).toBe("closed");
  });
});

describe("encodeClientFrame", () => {
  it("masks every frame with a fresh key and uses the shortest length form", () => {
    for (const n of [0, 5, 125, 126, 65_535, 65_536]) {
      const payload = Buffer.from("a".repeat(n));
      const f = encodeClientFrame(0x1, payload);
      const d = unmask(f);
      expect(d).toMatchObject({ fin: true, opcode: 1, masked: true });
      expect(d.payload.equals(payload)).toBe(true);
      expect(f.length).toBe(n + 4 + (n < 126 ? 2 : n < 65_536 ? 4 : 10));
    }
    const a = encodeClientFrame(0x1, Buffer.from("same"));
    const b = encodeClientFrame(0x1, Buffer.from("same"));
    expect(a.subarray(2, 6).equals(b.subarray(2, 6))).toBe(false);
  });
});

describe("checkUpgrade", () => {
  const key = "dGhlIHNhbXBsZSBub25jZQ==";
  it("accepts the RFC's own example and refuses what is wrong", () => {
    expect(acceptFor(key)).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    const ok =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
    expect(checkUpgrade(ok, key)).toBeNull();
    expect(checkUpgrade("HTTP/1.1 401 Unauthorized", key)).toMatch(/refused/);
    expect(checkUpgrade(ok.replace("Upgrade: websocket", "Upgrade: h2c"), key)).toMatch(/Upgrade/);
  });
});

describe("sniffing JSON frames", () => {
  const frame = Buffer.from(
    '{"v":1,"type":"reveal","room_id":"r","epoch":1,"seq":13,"at":1732262466912,"data":{"index":2,"opened_at":99,"points":-3.5,"msg":"x"}}',
  );
  it("reads the type, numbers and strings without parsing the rest", () => {
    expect(frameType(frame)).toBe("reveal");
    expect(frameType(Buffer.from('{"v":1}'))).toBe("");
    expect(numberField(frame, numberKey("at"))).toBe(1732262466912);
    expect(numberField(frame, numberKey("index"))).toBe(2);
    expect(numberField(frame, numberKey("opened_at"))).toBe(99);
    expect(numberField(frame, numberKey("points"))).toBe(-3.5);
    expect(numberField(frame, numberKey("missing"))).toBeNaN();
    expect(stringField(frame, stringKey("room_id"))).toBe("r");
    expect(stringField(frame, stringKey("msg"))).toBe("x");
    expect(stringField(frame, stringKey("nope"))).toBeNull();
  });
});
