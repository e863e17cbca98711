/**
 * A whole server-to-client WebSocket text frame (RFC 6455 §5.2: FIN, opcode
 * 1, no mask, the payload length in 7, 16 or 64 bits, then the payload), built
 * once for a payload every recipient shares: a broadcast to ten thousand
 * sockets then costs ten thousand writes of the same bytes, not ten thousand
 * framings.
 */
export function textFrame(payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
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
  payload.copy(frame, headerLength);
  return frame;
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
