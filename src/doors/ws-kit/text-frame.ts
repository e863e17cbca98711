/**
 * A whole server-to-client WebSocket text frame (RFC 6455 §5.2: FIN, opcode
 * 1, no mask, the payload length in 7, 16 or 64 bits, then the payload), built
 * once for a payload every recipient shares: a broadcast to ten thousand
 * sockets then costs ten thousand writes of the same bytes, not ten thousand
 * framings.
 */
export function textFrame(payload: Buffer): Buffer {
  const { frame, offset } = frameFor(payload.length);
  payload.copy(frame, offset);
  return frame;
}

/** One frame whose payload is `before`, `part` (UTF-8) and `after`: one allocation, no joined string. */
export function splicedTextFrame(before: Buffer, part: string, after: Buffer): Buffer {
  const partLength = Buffer.byteLength(part);
  const { frame, offset } = frameFor(before.length + partLength + after.length);
  before.copy(frame, offset);
  frame.write(part, offset + before.length);
  after.copy(frame, offset + before.length + partLength);
  return frame;
}

/** One frame of a text made for one recipient (a reply, a personal event): one buffer, one write. */
export function stringTextFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const { frame, offset } = frameFor(length);
  frame.write(text, offset);
  return frame;
}

/** A frame buffer with its header written, and where its payload of `length` bytes starts. */
function frameFor(length: number): { frame: Buffer; offset: number } {
  const offset = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(offset + length);
  frame[0] = 0x81; // FIN + text
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  return { frame, offset };
}

const framed = new WeakMap<Buffer, Buffer>();

/**
 * The frame around `payload`, made on first use and kept as long as the
 * payload is: the driver sends one event's shared bytes to every connection
 * of a room, so all but the first recipient find it here.
 */
export function sharedTextFrame(payload: Buffer): Buffer {
  let frame = framed.get(payload);
  if (frame === undefined) {
    frame = textFrame(payload);
    framed.set(payload, frame);
  }
  return frame;
}
