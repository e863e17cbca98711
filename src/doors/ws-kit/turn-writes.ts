/**
 * Frames queued for sockets during one turn of the event loop, written at the
 * end of the turn with one write per socket.
 *
 * A system call per frame is the largest cost of a broadcast (on loopback the
 * kernel runs the receiver's side of TCP inside the sender's write). One turn
 * often sends a socket several frames: a question's close and its reveal come
 * out of the same flush of the room, a join's reply is followed by its
 * snapshot, one commit settles many answers. Queued here, they cost one write
 * per socket, and a broadcast loop touches no socket until it has run. The
 * queue is flushed from `process.nextTick`, so nothing waits longer than the
 * code that is already running.
 */

/** A socket's queue: what the turn gave it, written by `flush` as one buffer. */
export interface QueuedWrites {
  /** Writes everything queued; called once per turn in which something was queued. */
  flush(): void;
}

let dirty: QueuedWrites[] = [];
let spare: QueuedWrites[] = [];
let scheduled = false;

/** Remembers `q` for this turn's flush; the caller does so once per turn (when its queue was empty). */
export function flushAtEndOfTurn(q: QueuedWrites): void {
  dirty.push(q);
  if (!scheduled) {
    scheduled = true;
    process.nextTick(flushAll);
  }
}

function flushAll(): void {
  scheduled = false;
  // Swapped, not copied: a flush that queues more (it never should) lands in the next turn.
  const list = dirty;
  dirty = spare;
  spare = list;
  for (let i = 0; i < list.length; i++) {
    try {
      (list[i] as QueuedWrites).flush();
    } catch {
      // A socket that cannot take its bytes is closing; the others still get theirs.
    }
  }
  list.length = 0;
  lastParts = null;
  lastJoined = null;
}

/**
 * The last joined write and what it was joined from. A broadcast of several shared frames
 * (a game's start: `started`, the player count and the first question) gives every socket the
 * same buffers in the same order: they are joined once for the whole room, not per socket.
 */
let lastParts: Buffer[] | null = null;
let lastJoined: Buffer | null = null;

function joined(parts: Buffer[], bytes: number): Buffer {
  const last = lastParts;
  if (last !== null && lastJoined !== null && last.length === parts.length) {
    let same = true;
    for (let i = 0; i < parts.length && same; i++) same = last[i] === parts[i];
    if (same) return lastJoined;
  }
  const out = Buffer.concat(parts, bytes);
  lastParts = parts;
  lastJoined = out;
  return out;
}

/**
 * One socket's frames of this turn. Holds the buffers (shared frames are not
 * copied) and their size, which counts towards the socket's backlog.
 */
export class TurnQueue implements QueuedWrites {
  private first: Buffer | null = null;
  /** Every frame of the turn, the first included, once there is more than one. */
  private frames: Buffer[] | null = null;
  /** Bytes queued and not yet handed to the socket. */
  bytes = 0;

  constructor(private readonly write: (bytes: Buffer) => void) {}

  /** Queues bytes: a whole frame, or the next piece of one (they are joined when written). */
  push(frame: Buffer): void {
    if (this.first === null) {
      this.first = frame;
      flushAtEndOfTurn(this);
    } else if (this.frames === null) {
      this.frames = [this.first, frame];
    } else {
      this.frames.push(frame);
    }
    this.bytes += frame.length;
  }

  flush(): void {
    const first = this.first;
    if (first === null) return;
    const frames = this.frames;
    const bytes = this.bytes;
    this.first = null;
    this.frames = null;
    this.bytes = 0;
    this.write(frames === null ? first : joined(frames, bytes));
  }
}
