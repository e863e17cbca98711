/**
 * A minimal WebSocket client over `node:net` for the load generator: just enough RFC 6455 to be
 * a real client (the opening handshake with Sec-WebSocket-Key, Sec-WebSocket-Accept checked;
 * masked client frames; ping → pong; the closing handshake), and cheap enough that one process
 * drives 10,000+ of them.
 *
 * It does not decode text: a message is handed to the caller as a Buffer view that is valid only
 * during the callback, so a scenario can sniff the `"type":"…"` prefix and pull the two numbers
 * it needs (`frameType`, `numberField`, `stringField` below) instead of JSON.parse-ing every
 * frame. No permessage-deflate is offered (the server keeps it off anyway, STYLE.md §13).
 */
import { createHash, randomFillSync } from "node:crypto";
import { connect, type Socket } from "node:net";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const OP_CONT = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;
/** A server frame larger than this closes the connection with 1009 (the client's own limit). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** The upgrade response must fit in this many bytes. */
const MAX_HANDSHAKE_BYTES = 16 * 1024;

/** Random bytes for masks and keys, drawn from one pooled buffer so a frame costs no syscall. */
const pool = Buffer.allocUnsafe(64 * 1024);
let poolAt = pool.length;
function randomBytes(n: number): Buffer {
  if (poolAt + n > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const out = pool.subarray(poolAt, poolAt + n);
  poolAt += n;
  return out;
}

/**
 * Every socket of the process reads into this one buffer (`onread`): a read costs no allocation
 * and skips the stream machinery (at 10,000 sockets about a tenth of the generator's CPU per
 * frame). A read is handled whole before the next one starts, so one buffer serves them all;
 * what must outlive the read (a partial frame, a fragment) is copied out of it.
 */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

/** What a RawSocket tells its owner. `payload` is a view valid only during the call. */
export interface RawSocketEvents {
  /** The handshake succeeded; frames may be sent. */
  onOpen?(socket: RawSocket): void;
  /** One complete data message (text or binary, fragments joined). */
  onMessage(socket: RawSocket, payload: Buffer, binary: boolean): void;
  /**
   * The connection is gone: `code` from the server's close frame (1005 when it had none, 1006
   * when the TCP connection ended without one), `reason` its text, `error` what went wrong locally.
   */
  onClose?(socket: RawSocket, code: number, reason: string, error: Error | null): void;
}

export interface RawSocketOptions {
  host: string;
  port: number;
  /** Path and query of the request, e.g. "/ws/v1". */
  path: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

/** The Sec-WebSocket-Accept a server must answer `key` with (RFC 6455 §4.2.2). */
export function acceptFor(key: string): string {
  return createHash("sha1")
    .update(key + GUID)
    .digest("base64");
}

/**
 * One client connection. Frames are parsed incrementally from whatever the TCP reads deliver
 * (split headers, split payloads, several frames per read).
 */
export class RawSocket {
  /** `connecting` → `open` → `closing` (we or they sent a close) → `closed`. */
  state: "connecting" | "open" | "closing" | "closed" = "connecting";
  /** Whatever the owner wants to hang on the socket (its player). */
  data: unknown = null;
  /** Messages and payload bytes received (data frames only). */
  messages = 0;
  bytes = 0;
  private readonly socket: Socket;
  private readonly key: string;
  /** Unparsed bytes: the handshake response so far, then the start of a partial frame. */
  private pending: Buffer | null = null;
  /** Fragments of a message whose FIN has not come yet. */
  private fragments: Buffer[] | null = null;
  private fragmentsBinary = false;
  private fragmentsBytes = 0;
  private closeCode = 1006;
  private closeReason = "";
  private error: Error | null = null;

  constructor(
    options: RawSocketOptions,
    private readonly events: RawSocketEvents,
  ) {
    this.key = randomBytes(16).toString("base64");
    const socket = connect({
      host: options.host,
      port: options.port,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number, buf: Uint8Array): boolean => {
          this.onData((buf as Buffer).subarray(0, n));
          return true; // false would pause reading
        },
      },
    });
    this.socket = socket;
    socket.setNoDelay(true);
    let extra = "";
    for (const [k, v] of Object.entries(options.headers ?? {})) extra += `${k}: ${v}\r\n`;
    socket.on("connect", () => {
      socket.write(
        `GET ${options.path} HTTP/1.1\r\nHost: ${options.host}:${options.port}\r\n` +
          "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Key: ${this.key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
      );
    });
    socket.on("error", (e) => {
      this.error ??= e;
    });
    socket.on("close", () => this.finish());
  }

  /** Sends one text message, masked. */
  sendText(text: string): void {
    if (this.state !== "open") return;
    this.socket.write(encodeClientFrame(OP_TEXT, Buffer.from(text)));
  }

  /** Sends one message that is already bytes (text opcode unless `binary`), masked. */
  sendBytes(payload: Buffer, binary = false): void {
    if (this.state !== "open") return;
    this.socket.write(encodeClientFrame(binary ? OP_BINARY : OP_TEXT, payload));
  }

  /** Starts the closing handshake; the TCP connection ends when the server answers (or in 2 s). */
  close(code = 1000, reason = ""): void {
    if (this.state === "closed") return;
    if (this.state !== "open") {
      this.socket.destroy();
      return;
    }
    this.state = "closing";
    this.socket.write(encodeClientFrame(OP_CLOSE, closePayload(code, reason)));
    setTimeout(() => this.socket.destroy(), 2_000).unref();
  }

  /** Drops the TCP connection without a closing handshake. */
  destroy(): void {
    this.socket.destroy();
  }

  /** Bytes queued locally and not yet written to the kernel. */
  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  private fail(message: string, code = 1002): void {
    this.error ??= new Error(message);
    if (this.state === "open") {
      this.state = "closing";
      this.socket.write(encodeClientFrame(OP_CLOSE, closePayload(code, "")));
    }
    this.socket.destroy();
  }

  private finish(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.pending = null;
    this.fragments = null;
    this.events.onClose?.(this, this.closeCode, this.closeReason, this.error);
  }

  private onData(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending !== null) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    if (this.state === "connecting") {
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) {
        if (buf.length > MAX_HANDSHAKE_BYTES) this.fail("upgrade response too large");
        else this.pending = Buffer.from(buf);
        return;
      }
      const problem = checkUpgrade(buf.toString("latin1", 0, end), this.key);
      if (problem !== null) {
        this.fail(problem);
        return;
      }
      this.state = "open";
      this.events.onOpen?.(this);
      buf = buf.subarray(end + 4);
    }
    this.parse(buf);
  }

  /** Reads every complete frame in `buf`; keeps the rest for the next read. */
  private parse(buf: Buffer): void {
    let at = 0;
    const n = buf.length;
    while (this.state !== "closed" && n - at >= 2) {
      const b0 = buf[at] as number;
      const b1 = buf[at + 1] as number;
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      if ((b0 & 0x70) !== 0) {
        this.fail("reserved bits set (no extension was agreed)");
        return;
      }
      if ((b1 & 0x80) !== 0) {
        this.fail("a server frame must not be masked");
        return;
      }
      let len = b1 & 0x7f;
      let head = 2;
      if (len === 126) {
        if (n - at < 4) break;
        len = buf.readUInt16BE(at + 2);
        head = 4;
      } else if (len === 127) {
        if (n - at < 10) break;
        const hi = buf.readUInt32BE(at + 2);
        const lo = buf.readUInt32BE(at + 6);
        if (hi > 0x1fffff) {
          this.fail("frame length beyond 2^53", 1009);
          return;
        }
        len = hi * 0x1_0000_0000 + lo;
        head = 10;
      }
      if (len > MAX_MESSAGE_BYTES) {
        this.fail(`frame of ${len} bytes is too big`, 1009);
        return;
      }
      if (n - at < head + len) break;
      const payload = buf.subarray(at + head, at + head + len);
      at += head + len;
      if (opcode >= 0x8) {
        if (!fin || len > 125) {
          this.fail("a control frame must be whole and ≤ 125 bytes");
          return;
        }
        this.control(opcode, payload);
        continue;
      }
      if (opcode === OP_CONT) {
        if (this.fragments === null) {
          this.fail("continuation without a first fragment");
          return;
        }
        this.fragments.push(Buffer.from(payload));
        this.fragmentsBytes += len;
        if (this.fragmentsBytes > MAX_MESSAGE_BYTES) {
          this.fail("message too big", 1009);
          return;
        }
        if (fin) {
          const whole = Buffer.concat(this.fragments, this.fragmentsBytes);
          const binary = this.fragmentsBinary;
          this.fragments = null;
          this.deliver(whole, binary);
        }
        continue;
      }
      if (opcode !== OP_TEXT && opcode !== OP_BINARY) {
        this.fail(`opcode ${opcode}`);
        return;
      }
      if (this.fragments !== null) {
        this.fail("new message inside a fragmented one");
        return;
      }
      if (fin) {
        this.deliver(payload, opcode === OP_BINARY);
      } else {
        // Copied: the read buffer it lives in is not ours to keep.
        this.fragments = [Buffer.from(payload)];
        this.fragmentsBinary = opcode === OP_BINARY;
        this.fragmentsBytes = len;
      }
    }
    if (this.state !== "closed" && at < n) {
      // Copied: the read buffer is shared by every socket and reused by the next read.
      this.pending = Buffer.from(buf.subarray(at));
    }
  }

  private deliver(payload: Buffer, binary: boolean): void {
    if (this.state !== "open") return;
    this.messages++;
    this.bytes += payload.length;
    this.events.onMessage(this, payload, binary);
  }

  private control(opcode: number, payload: Buffer): void {
    switch (opcode) {
      case OP_PING:
        if (this.state === "open") this.socket.write(encodeClientFrame(OP_PONG, payload));
        return;
      case OP_PONG:
        return;
      case OP_CLOSE: {
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.closeReason = payload.length > 2 ? payload.toString("utf8", 2) : "";
        if (this.state === "open") {
          // Echo the code back, as RFC 6455 §5.5.1 asks, then let the server end TCP.
          this.state = "closing";
          this.socket.write(
            encodeClientFrame(OP_CLOSE, payload.length >= 2 ? payload.subarray(0, 2) : payload),
          );
        }
        this.socket.end();
        setTimeout(() => this.socket.destroy(), 1_000).unref();
        return;
      }
      default:
        this.fail(`control opcode ${opcode}`);
    }
  }
}

/** Null when the upgrade response head is a valid 101 for `key`; else what is wrong with it. */
export function checkUpgrade(head: string, key: string): string | null {
  const lines = head.split("\r\n");
  const status = lines[0] ?? "";
  if (!/^HTTP\/1\.1 101 /.test(status)) return `upgrade refused: ${status}`;
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0)
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  if (headers.get("upgrade")?.toLowerCase() !== "websocket") return "no Upgrade: websocket";
  if (!/\bupgrade\b/i.test(headers.get("connection") ?? "")) return "no Connection: Upgrade";
  if (headers.get("sec-websocket-accept") !== acceptFor(key)) return "wrong Sec-WebSocket-Accept";
  if (headers.has("sec-websocket-extensions")) return "an extension was not asked for";
  return null;
}

function closePayload(code: number, reason: string): Buffer {
  const r = Buffer.from(reason);
  const out = Buffer.allocUnsafe(2 + r.length);
  out.writeUInt16BE(code, 0);
  r.copy(out, 2);
  return out;
}

/** One masked client frame (FIN set): header, mask key, masked payload, in one buffer. */
export function encodeClientFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? 2 : len < 65_536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + 4 + len);
  out[0] = 0x80 | opcode;
  if (head === 2) {
    out[1] = 0x80 | len;
  } else if (head === 4) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(Math.floor(len / 0x1_0000_0000), 2);
    out.writeUInt32BE(len >>> 0, 6);
  }
  const mask = randomBytes(4);
  mask.copy(out, head);
  const m0 = mask[0] as number;
  const m1 = mask[1] as number;
  const m2 = mask[2] as number;
  const m3 = mask[3] as number;
  const base = head + 4;
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    out[base + i] = (payload[i] as number) ^ m0;
    out[base + i + 1] = (payload[i + 1] as number) ^ m1;
    out[base + i + 2] = (payload[i + 2] as number) ^ m2;
    out[base + i + 3] = (payload[i + 3] as number) ^ m3;
  }
  for (; i < len; i++) out[base + i] = (payload[i] as number) ^ (mask[i & 3] as number);
  return out;
}

// ---------------------------------------------------------------- sniffing JSON frames

const TYPE_KEY = Buffer.from('"type":"');

/**
 * The `type` of a JSON message whose `"type":"…"` member comes within its first 64 bytes (every
 * quizwire door puts it first or second); "" when there is none. Reads nothing past it.
 */
export function frameType(payload: Buffer): string {
  const at = payload.indexOf(TYPE_KEY);
  if (at < 0 || at > 64) return "";
  const start = at + TYPE_KEY.length;
  const end = payload.indexOf(0x22, start);
  return end < 0 ? "" : payload.toString("latin1", start, end);
}

/**
 * The number after the first `key` (a Buffer such as `"opened_at":`) at or after `from`; NaN
 * when absent or not a number. Integers and decimals; no exponent.
 */
export function numberField(payload: Buffer, key: Buffer, from = 0): number {
  const at = payload.indexOf(key, from);
  if (at < 0) return Number.NaN;
  let i = at + key.length;
  const n = payload.length;
  while (i < n && payload[i] === 0x20) i++;
  let sign = 1;
  if (payload[i] === 0x2d) {
    sign = -1;
    i++;
  }
  let v = 0;
  let digits = 0;
  for (; i < n; i++) {
    const c = payload[i] as number;
    if (c < 0x30 || c > 0x39) break;
    v = v * 10 + (c - 0x30);
    digits++;
  }
  if (payload[i] === 0x2e) {
    let scale = 0.1;
    for (i++; i < n; i++) {
      const c = payload[i] as number;
      if (c < 0x30 || c > 0x39) break;
      v += (c - 0x30) * scale;
      scale /= 10;
      digits++;
    }
  }
  return digits > 0 ? sign * v : Number.NaN;
}

/**
 * The string after the first `key` (a Buffer such as `"msg_id":"`, quote included) at or after
 * `from`, up to the next quote; null when absent. Escapes are not decoded (ids have none).
 */
export function stringField(payload: Buffer, key: Buffer, from = 0): string | null {
  const at = payload.indexOf(key, from);
  if (at < 0) return null;
  const start = at + key.length;
  const end = payload.indexOf(0x22, start);
  return end < 0 ? null : payload.toString("latin1", start, end);
}

/** `"name":` as a Buffer, for numberField. */
export const numberKey = (name: string): Buffer => Buffer.from(`"${name}":`);
/** `"name":"` as a Buffer, for stringField. */
export const stringKey = (name: string): Buffer => Buffer.from(`"${name}":"`);
