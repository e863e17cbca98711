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

/**
 * The RFC 6455 header of a text frame whose payload is `length` bytes: sent
 * before the payload's pieces when they are joined later (a spliced frame
 * queued with others for one write), so the payload is copied once.
 */
export function textFrameHeader(length: number): Buffer {
  const header = Buffer.allocUnsafe(headerLength(length));
  writeHeader(header, length);
  return header;
}

/** A frame buffer with its header written, and where its payload of `length` bytes starts. */
function frameFor(length: number): { frame: Buffer; offset: number } {
  const offset = headerLength(length);
  const frame = Buffer.allocUnsafe(offset + length);
  writeHeader(frame, length);
  return { frame, offset };
}

function headerLength(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10;
}

/** FIN + text, then the payload length in 7, 16 or 64 bits (a server's frames are not masked). */
function writeHeader(frame: Buffer, length: number): void {
  frame[0] = 0x81;
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
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
