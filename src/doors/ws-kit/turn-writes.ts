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
 *
 * A turn that gave more than `WRITES_PER_SLICE` sockets something (a broadcast
 * to a big room), or more than `BYTES_PER_SLICE` bytes, writes that much at
 * once and the rest in slices, one per `setImmediate`. Between two slices the
 * event loop reads the network: an answer that arrives while a question still
 * goes out to 10,000 sockets is handled, stored and acknowledged without
 * waiting for the other 9,000 writes. Bytes count as well as sockets because a
 * write's cost in this server grows with its size: about 12–20 µs for a 450-byte
 * question, 60–80 µs for a 6.7 KB seed-001 board (a bare loopback write costs the
 * same at any of these sizes; see ARCHITECTURE.md). A socket's frames keep their
 * order: one still waiting in a slice gets later frames appended to the same
 * write. A reply to the client (its answer's score) does not wait for that slice:
 * the socket's queue, the broadcast frames before the reply included, is written
 * with this turn's writes instead (`TurnQueue.push`), and its place in the
 * backlog finds it empty.
 */

/** Sockets written in one go before the event loop may read the network again (about 20 ms of questions). */
export const WRITES_PER_SLICE = 1_000;
/** Bytes written in one go before the same (about 15 ms of reveals, 10 ms of seed-001 boards). */
export const BYTES_PER_SLICE = 1024 * 1024;

/** A socket's queue: what the turn gave it, written by `flush` as one buffer. */
export interface QueuedWrites {
  /** Writes everything queued and says how many bytes that was; called once per turn in which something was queued. */
  flush(): number;
}

let dirty: QueuedWrites[] = [];
let spare: QueuedWrites[] = [];
let scheduled = false;
/** Counts the turns' flushes: a queue that knows the number it was listed under is listed for this turn's. */
let turn = 0;
/** Sockets of earlier turns still waiting for their slice, from `backlogAt` on. */
let backlog: QueuedWrites[] = [];
let backlogAt = 0;

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
  turn += 1;
  // Swapped, not copied: a flush that queues more (it never should) lands in the next turn.
  const list = dirty;
  dirty = spare;
  spare = list;
  const done = flushSlice(list, 0);
  if (done < list.length) {
    if (backlogAt >= backlog.length) {
      // A fresh array: `list` is reused as next turn's `dirty`.
      backlog = list.slice(done);
      backlogAt = 0;
      setImmediate(flushBacklog);
    } else {
      for (let i = done; i < list.length; i++) backlog.push(list[i] as QueuedWrites);
    }
  }
  list.length = 0;
  if (backlogAt >= backlog.length) forgetJoined();
}

/** Writes the next slice of the backlog; more waits for the next turn of the loop. */
function flushBacklog(): void {
  backlogAt = flushSlice(backlog, backlogAt);
  if (backlogAt < backlog.length) {
    setImmediate(flushBacklog);
    return;
  }
  backlog = [];
  backlogAt = 0;
  forgetJoined();
}

/** Flushes `list` from `from` on until a slice's sockets or bytes are used up; returns where it stopped. */
function flushSlice(list: QueuedWrites[], from: number): number {
  const end = Math.min(list.length, from + WRITES_PER_SLICE);
  let bytes = 0;
  let i = from;
  while (i < end && bytes < BYTES_PER_SLICE) {
    try {
      bytes += (list[i] as QueuedWrites).flush();
    } catch {
      // A socket that cannot take its bytes is closing; the others still get theirs.
    }
    i += 1;
  }
  return i;
}

function forgetJoined(): void {
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
  const out = slabbed(bytes);
  let at = 0;
  for (const part of parts) at += part.copy(out, at);
  lastParts = parts;
  lastJoined = out;
  return out;
}

/**
 * Joined writes are cut from slabs of `SLAB_BYTES`. A reveal gives each of
 * 10,000 sockets its own 2 KB write; `Buffer.concat` took each from Node's
 * 8 KB pool, so the broadcast allocated a new pool every four sockets. A slab
 * is freed once every write cut from it is done; a socket that cannot take its
 * bytes holds its slab (at most `SLAB_BYTES`) until it does or is closed.
 */
const SLAB_BYTES = 64 * 1024;
let slab: Buffer = Buffer.allocUnsafeSlow(0);
let slabUsed = 0;

function slabbed(bytes: number): Buffer {
  if (bytes > SLAB_BYTES / 4) return Buffer.allocUnsafeSlow(bytes);
  if (slabUsed + bytes > slab.length) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + bytes);
  slabUsed += bytes;
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
  /** The turn whose flush this queue was last listed for. */
  private listedFor = -1;

  constructor(private readonly write: (bytes: Buffer) => void) {}

  /**
   * Queues bytes: a whole frame, or the next piece of one (they are joined when written).
   * `reply`: the frame answers this client. Queued behind frames of an earlier turn that
   * still wait for their slice of a broadcast, it is written with this turn's writes, and
   * those frames with it, before it: a score does not wait for ten thousand other
   * sockets' boards.
   */
  push(frame: Buffer, reply = false): void {
    if (this.first === null) {
      this.first = frame;
      this.list();
    } else {
      if (this.frames === null) this.frames = [this.first, frame];
      else this.frames.push(frame);
      if (reply && this.listedFor !== turn) this.list();
    }
    this.bytes += frame.length;
  }

  private list(): void {
    this.listedFor = turn;
    flushAtEndOfTurn(this);
  }

  flush(): number {
    const first = this.first;
    if (first === null) return 0;
    const frames = this.frames;
    const bytes = this.bytes;
    this.first = null;
    this.frames = null;
    this.bytes = 0;
    this.write(frames === null ? first : joined(frames, bytes));
    return bytes;
  }
}
