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
 * Writes the RFC 6455 header of a text frame whose payload is `length` bytes into `out` at
 * `at`, and says how long it was: a frame whose payload is joined from pieces (a recipient's
 * own part between shared bytes, a reply's text) gets its header where it is written, so
 * neither the header nor the payload is a buffer of its own first.
 */
export function writeTextFrameHeader(out: Buffer, at: number, length: number): number {
  writeHeader(out, at, length);
  return headerLength(length);
}

/** A frame buffer with its header written, and where its payload of `length` bytes starts. */
function frameFor(length: number): { frame: Buffer; offset: number } {
  const offset = headerLength(length);
  const frame = Buffer.allocUnsafe(offset + length);
  writeHeader(frame, 0, length);
  return { frame, offset };
}

/** Bytes of the header before a text frame's payload of `length` bytes. */
export function headerLength(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10;
}

/** FIN + text, then the payload length in 7, 16 or 64 bits (a server's frames are not masked), at `at`. */
function writeHeader(frame: Buffer, at: number, length: number): void {
  frame[at] = 0x81;
  if (length < 126) {
    frame[at + 1] = length;
  } else if (length < 65_536) {
    frame[at + 1] = 126;
    frame.writeUInt16BE(length, at + 2);
  } else {
    frame[at + 1] = 127;
    frame.writeBigUInt64BE(BigInt(length), at + 2);
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

const framedTogether = new WeakMap<readonly Buffer[], Buffer>();

/**
 * The frames around `payloads`, one after another in one buffer, made on first use and kept as
 * long as the array is: a room step's broadcasts (`StepBundles`) reach every socket of a role
 * as the same array, so each socket's write is these bytes, not a join of its own.
 */
export function sharedTextFrames(payloads: readonly Buffer[]): Buffer {
  let frames = framedTogether.get(payloads);
  if (frames === undefined) {
    frames = Buffer.concat(payloads.map(sharedTextFrame));
    framedTogether.set(payloads, frames);
  }
  return frames;
}

/**
 * A payload of `length` bytes, made inside its own frame (the header written before it) and
 * registered so that `sharedTextFrame` finds that frame without copying: for a big shared
 * payload written in place (a reveal's list of every player for hosts, 1.5 MB at 10,000
 * players), the bytes are written once, where encoding a string and framing it copied them
 * again, each time into fresh memory (see turn-writes.ts for what fresh memory costs here).
 * The caller fills all `length` bytes.
 */
export function framedPayload(length: number): Buffer {
  const { frame, offset } = frameFor(length);
  const payload = frame.subarray(offset);
  framed.set(payload, frame);
  return payload;
}
