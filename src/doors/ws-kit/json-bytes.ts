/**
 * JSON text written straight into bytes, for the one place where a frame has a
 * part per recipient in a room of thousands (a reveal's own entries): making a
 * string per player, then encoding and copying it, cost 33–89 ms before a
 * 10,000-player reveal's first write (an instrumented server, 2026-12-06),
 * time every player waits. Here a player's part is a few hundred byte stores
 * into one buffer: literals copied from bytes made once, numbers as digits,
 * ASCII strings byte by byte, anything else through `JSON.stringify`.
 *
 * The writers are functions of (buffer, position) that return the position
 * after what they wrote, so a caller's loop keeps its position in a local and
 * the optimiser inlines them (the same loop through methods that each checked
 * the capacity took twice as long in a micro-benchmark). The caller makes room
 * first (`JsonBytes.room`), with `jsonStringBound` and `JSON_NUMBER_BOUND` for
 * what it does not know the length of.
 */
export class JsonBytes {
  /** The buffer written into: replaced (grown) by `room`. */
  buf: Buffer;
  /** Bytes written so far; the caller moves it on. */
  at = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafeSlow(Math.max(64, capacity));
  }

  /** Makes sure `bytes` more fit after `at`, growing the buffer (copying what is written). */
  room(bytes: number): Buffer {
    const need = this.at + bytes;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(need, 2 * this.buf.length));
      this.buf.copy(grown, 0, 0, this.at);
      this.buf = grown;
    }
    return this.buf;
  }

  /** What was written (a view of the buffer: a later `room` may leave it behind). */
  get bytes(): Buffer {
    return this.buf.subarray(0, this.at);
  }
}

/** The most bytes `JSON.stringify` of a number writes (`-1.7976931348623157e+308`). */
export const JSON_NUMBER_BOUND = 24;

/** The most bytes `putJsonString` writes for `text`: six for a \uXXXX escape, three for UTF-8, two quotes. */
export function jsonStringBound(text: string): number {
  return 6 * text.length + 2;
}

/** Bytes of ASCII text (this module's callers' literals), made once. */
export function asciiBytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0x7f);
}

/** Copies `bytes` (a literal from `asciiBytes`) to `at`. */
export function putBytes(buf: Uint8Array, at: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) buf[at + i] = bytes[i] as number;
  return at + bytes.length;
}

/** `true` or `false`. */
export function putBoolean(buf: Uint8Array, at: number, b: boolean): number {
  return putBytes(buf, at, b ? TRUE : FALSE);
}

/** A JSON string: quoted, and escaped as `JSON.stringify` escapes it. */
export function putJsonString(buf: Buffer, at: number, text: string): number {
  let w = at;
  buf[w++] = QUOTE;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Control characters, the quote, the backslash and everything beyond ASCII take the slow path.
    if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) {
      return at + buf.write(JSON.stringify(text), at);
    }
    buf[w++] = c;
  }
  buf[w++] = QUOTE;
  return w;
}

/** A JSON number (`null` for NaN and the infinities, as `JSON.stringify` writes them). */
export function putJsonNumber(buf: Uint8Array, at: number, n: number): number {
  if (n >= 0 && n <= 0x7fffffff && (n | 0) === n) {
    let digits = 1;
    for (let m = n; m >= 10; m = (m / 10) | 0) digits++;
    const end = at + digits;
    let w = end;
    let m = n;
    do {
      buf[--w] = 0x30 + (m % 10);
      m = (m / 10) | 0;
    } while (m > 0);
    return end;
  }
  const text = JSON.stringify(n);
  for (let i = 0; i < text.length; i++) buf[at + i] = text.charCodeAt(i);
  return at + text.length;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const TRUE = asciiBytes("true");
const FALSE = asciiBytes("false");
