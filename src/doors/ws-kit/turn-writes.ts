import { headerLength, writeTextFrameHeader } from "./text-frame.js";

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
 * waiting for the other 9,000 writes. Bytes count as well as sockets, so that
 * a slice of big frames (6.6 KB seed-001 boards) hands the kernel no more than
 * a megabyte at a time; each write costs about 11–17 µs whatever its size (see
 * ARCHITECTURE.md and the scratch buffer below). A socket's frames keep their
 * order: one still waiting in a slice gets later frames appended to the same
 * write. A reply to the client (its answer's score) does not wait for that slice:
 * the socket's queue, the broadcast frames before the reply included, is written
 * with this turn's writes instead (`TurnQueue.push`), and its place in the
 * backlog finds it empty.
 */

/** Sockets written in one go before the event loop may read the network again (about 20 ms of questions). */
export const WRITES_PER_SLICE = 1_000;
/** Bytes written in one go before the same (about 8 ms of reveals, 3 ms of seed-001 boards). */
export const BYTES_PER_SLICE = 1024 * 1024;

/**
 * How long a frame that may wait (`push(frame, false, true)`) waits for others to the same
 * socket. During a join storm a host's screen was sent `player_joined` and `presence` in a
 * write of their own for almost every join (about 1,400 writes a second at 10,000 players,
 * a third of the server's writes during the joins); waiting this long, a host gets them in
 * forty writes a second, and a person watching a lobby fill sees no difference.
 */
export const WAIT_MS = 25;

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

/**
 * Calls `fn` once the frames queued so far for this turn's flush, and every slice of a broadcast
 * before them, have been handed to the kernel: when a broadcast to 10,000 sockets has really
 * gone out, not when its frames were queued (a question's: 5–6 ms of queueing, 120–180 ms of writes). Frames that
 * may wait (`WAIT_MS`) and are still waiting are not waited for. `fn` must not throw.
 */
export function afterWrites(fn: () => void): void {
  turnWaiters.push(fn);
  if (!scheduled) {
    scheduled = true;
    process.nextTick(flushAll);
  }
}

/** `afterWrites` callbacks of this turn, called after its flush. */
let turnWaiters: Array<() => void> = [];
/** `afterWrites` callbacks of earlier turns, in order, each called once the backlog is written up to `until`. */
const backlogWaiters: Array<{ until: number; fn: () => void }> = [];

function flushAll(): void {
  scheduled = false;
  turn += 1;
  // Swapped, not copied: a flush that queues more (it never should) lands in the next turn.
  const list = dirty;
  dirty = spare;
  spare = list;
  const waiters = turnWaiters;
  if (waiters.length > 0) turnWaiters = [];
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
  if (waiters.length === 0) return;
  if (backlogAt >= backlog.length) {
    for (const fn of waiters) fn();
  } else {
    // This turn's last socket is the backlog's last one now.
    const until = backlog.length;
    for (const fn of waiters) backlogWaiters.push({ until, fn });
  }
}

/** Writes the next slice of the backlog; more waits for the next turn of the loop. */
function flushBacklog(): void {
  backlogAt = flushSlice(backlog, backlogAt);
  if (backlogAt < backlog.length) {
    setImmediate(flushBacklog);
    callBacklogWaiters(backlogAt);
    return;
  }
  backlog = [];
  backlogAt = 0;
  callBacklogWaiters(Number.POSITIVE_INFINITY);
}

/** Calls the `afterWrites` callbacks whose sockets are all written (the backlog is written up to `written`). */
function callBacklogWaiters(written: number): void {
  if (backlogWaiters.length === 0) return;
  let n = 0;
  while (n < backlogWaiters.length && (backlogWaiters[n]?.until ?? 0) <= written) n += 1;
  for (const w of backlogWaiters.splice(0, n)) w.fn();
}

/** Queues holding only frames that may wait: listed for a turn's flush when `WAIT_MS` is up. */
let waiting: TurnQueue[] = [];
let waitTimer: NodeJS.Timeout | null = null;

function waitForOthers(q: TurnQueue): void {
  waiting.push(q);
  if (waitTimer === null) {
    waitTimer = setTimeout(listWaiting, WAIT_MS);
    // Nothing to wait for once the server is going away.
    waitTimer.unref();
  }
}

function listWaiting(): void {
  waitTimer = null;
  const list = waiting;
  waiting = [];
  // A queue that something urgent flushed meanwhile is no longer waiting (`listWaited`).
  for (const q of list) q.listWaited();
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

/**
 * Joined writes are cut from one scratch buffer, and a cut the socket took whole (the kernel
 * accepted every byte in the write itself, as it does unless the client is behind) is cut
 * again for the next socket. Fresh memory is what made joined writes expensive: a reveal gives
 * each of 10,000 sockets its own write of about 2 KB, and cut from new 64 KB slabs (Node's
 * 8 KB pool before that) every page of the 20 MB was touched for the first time; on this
 * virtual machine, which hands freed memory back to its host, each first touch is a page
 * fault that stops the thread. A CPU profile of one reveal's writes had 89 ms in copying into
 * the slabs next to 157 ms in the system calls; reused, the same bytes stay in a few
 * cache-hot pages (10 ms next to 115 ms). A cut the socket has not taken (written later, when
 * the client reads) is left to it: the next cut starts after it, and a scratch buffer that
 * fills up is replaced and freed once its sockets are done with it.
 */
const SCRATCH_BYTES = 64 * 1024;
let scratch: Buffer = Buffer.allocUnsafeSlow(0);
let scratchUsed = 0;

/** The bytes of a turn's pieces (frames and text frames) in one buffer cut from the scratch. */
function joined(pieces: readonly Piece[], bytes: number): Buffer {
  if (scratchUsed + bytes > scratch.length) {
    scratch = Buffer.allocUnsafeSlow(Math.max(SCRATCH_BYTES, bytes));
    scratchUsed = 0;
  }
  const out = scratch.subarray(scratchUsed, scratchUsed + bytes);
  scratchUsed += bytes;
  let at = 0;
  for (const piece of pieces) {
    if (piece instanceof TextFrame) {
      at = piece.writeInto(out, at);
    } else {
      out.set(piece, at);
      at += piece.length;
    }
  }
  return out;
}

/**
 * A text frame made for one recipient, framed where it is written: bytes shared with the
 * other recipients (`before`, `after`: the rest of a reveal) around the recipient's own text
 * (their result), or a reply's text alone. Queued as one object, it costs no buffer for its
 * header or its text and no list of pieces: a reveal to 10,000 players queues 10,000 of these.
 * The recipient's part may be bytes already (a slice of a buffer that holds every player's
 * part): then it is copied, not encoded.
 */
class TextFrame {
  /** The payload's bytes. */
  private readonly payload: number;
  /** The frame's bytes: header and payload, and the frames before it (`lead`). */
  readonly bytes: number;

  constructor(
    private readonly before: Buffer | null,
    private readonly text: string | Buffer,
    textBytes: number,
    private readonly after: Buffer | null,
    /** Whole frames written before this one (a room step's broadcasts before a reveal). */
    private readonly lead: Buffer | null = null,
  ) {
    this.payload = (before?.length ?? 0) + textBytes + (after?.length ?? 0);
    this.bytes = (lead?.length ?? 0) + headerLength(this.payload) + this.payload;
  }

  /** Writes the frame at `at` (the text as UTF-8); returns where it ends. */
  writeInto(out: Buffer, at: number): number {
    const end = at + this.bytes;
    if (this.lead !== null) {
      out.set(this.lead, at);
      at += this.lead.length;
    }
    let i = at + writeTextFrameHeader(out, at, this.payload);
    if (this.before !== null) {
      out.set(this.before, i);
      i += this.before.length;
    }
    const text = this.text;
    if (typeof text === "string") {
      i += out.write(text, i);
    } else {
      out.set(text, i);
      i += text.length;
    }
    if (this.after !== null) out.set(this.after, i);
    return end;
  }
}

/** The socket took `out` whole: the next cut may reuse its bytes (it is the last one made). */
function giveBack(out: Buffer): void {
  if (
    out.buffer === scratch.buffer &&
    out.byteOffset + out.length === scratch.byteOffset + scratchUsed
  ) {
    scratchUsed -= out.length;
  }
}

/** What a socket's turn queues: a frame's bytes (a shared frame), or a text frame for it alone. */
type Piece = Buffer | TextFrame;

/**
 * One socket's frames of this turn. Holds the pieces (shared frames are not
 * copied) and their size, which counts towards the socket's backlog.
 */
export class TurnQueue implements QueuedWrites {
  private first: Piece | null = null;
  /** Every piece of the turn, the first included, once there is more than one. */
  private pieces: Piece[] | null = null;
  /** Bytes queued and not yet handed to the socket. */
  bytes = 0;
  /** The turn whose flush this queue was last listed for. */
  private listedFor = -1;
  /** Holds only frames that may wait, and is listed for no flush until `WAIT_MS` is up. */
  private waits = false;

  /**
   * `write` hands the turn's bytes to the socket and says whether it is done with them (took
   * them whole, holds no reference): only then may a joined buffer's memory be used again.
   */
  constructor(private readonly write: (bytes: Buffer) => boolean) {}

  /**
   * Queues bytes: a whole frame, or the next piece of one (they are joined when written).
   * `mayWait`: the frame may wait up to `WAIT_MS` for others to this socket (a host's news
   * of a join); a frame that may not wait takes every frame before it along.
   * `reply`: the frame answers this client. Queued behind frames of an earlier turn that
   * still wait for their slice of a broadcast, it is written with this turn's writes, and
   * those frames with it, before it: a score does not wait for ten thousand other
   * sockets' boards.
   */
  push(frame: Buffer, reply = false, mayWait = false): void {
    this.add(frame, frame.length, reply, mayWait);
  }

  /**
   * Queues a text frame whose payload is `before`, then `text` (`textBytes` long in UTF-8; or
   * its UTF-8 bytes), then `after` (either may be null): framed and written straight into the
   * joined buffer, so a recipient's own frame is not a buffer of its own first. `reply` as for
   * `push`. `lead`: whole frames (framed once for every socket) that go before it.
   */
  pushTextFrame(
    before: Buffer | null,
    text: string | Buffer,
    textBytes: number,
    after: Buffer | null,
    reply = false,
    lead: Buffer | null = null,
  ): void {
    const frame = new TextFrame(before, text, textBytes, after, lead);
    this.add(frame, frame.bytes, reply);
  }

  private add(piece: Piece, bytes: number, reply: boolean, mayWait = false): void {
    if (this.first === null) {
      this.first = piece;
      if (mayWait) {
        this.waits = true;
        waitForOthers(this);
      } else {
        this.list();
      }
    } else {
      if (this.pieces === null) this.pieces = [this.first, piece];
      else this.pieces.push(piece);
      // Waiting frames go out with the first frame that may not wait; otherwise a reply goes
      // out this turn even if the queue sits in a broadcast's backlog.
      if (this.waits ? !mayWait : reply && this.listedFor !== turn) this.list();
    }
    this.bytes += bytes;
  }

  private list(): void {
    this.waits = false;
    this.listedFor = turn;
    flushAtEndOfTurn(this);
  }

  /** `WAIT_MS` is up: what waits goes out with this turn's writes. */
  listWaited(): void {
    if (this.waits) this.list();
  }

  flush(): number {
    this.waits = false;
    const first = this.first;
    if (first === null) return 0;
    const pieces = this.pieces;
    const bytes = this.bytes;
    this.first = null;
    this.pieces = null;
    this.bytes = 0;
    if (pieces === null && !(first instanceof TextFrame)) {
      this.write(first);
      return bytes;
    }
    const out = joined(pieces ?? [first], bytes);
    if (this.write(out)) giveBack(out);
    return bytes;
  }
}
