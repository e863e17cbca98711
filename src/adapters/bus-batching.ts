import type { Clock, LingerClock, TimerHandle } from "../ports/clock.js";

/**
 * What the cluster buses share to send many messages as one (issue 10): everything bound for
 * the same destination during one turn of the event loop is gathered and goes out when the
 * turn ends (`clock.defer`), as one broker message, so a busy room costs a publish per turn
 * and destination instead of one per command, reply or event.
 *
 * The frame is internal to the buses and versioned by its header: `QWB1\n`, then for each
 * message its length in UTF-16 code units, a newline and the message itself. Nothing is
 * escaped, so a frame costs one concatenation to build and one slice per message to read.
 */

/** How big one batch may grow before it goes out early, so one broker message stays reasonable. */
export interface BatchLimits {
  /** Messages per batch. */
  maxMessages: number;
  /** Characters per batch (the sum of the messages' lengths; one message larger than this goes alone). */
  maxChars: number;
}

export const BATCH_LIMITS: BatchLimits = { maxMessages: 500, maxChars: 512 * 1024 };

const HEADER = "QWB1\n";

/** Packs messages (in order) into one frame. */
export function encodeBatch(messages: readonly string[]): string {
  let frame = HEADER;
  for (const m of messages) frame += `${m.length}\n${m}`;
  return frame;
}

/** Whether `text` is a batch frame of any version this code knows (`QWB1`). */
export function isBatch(text: string): boolean {
  return text.startsWith(HEADER);
}

/**
 * The messages of a frame, in order; undefined when `text` is not a frame of a version this
 * code reads or is cut short (then none of it is trusted).
 */
export function decodeBatch(text: string): string[] | undefined {
  if (!isBatch(text)) return undefined;
  const messages: string[] = [];
  let at = HEADER.length;
  while (at < text.length) {
    const nl = text.indexOf("\n", at);
    if (nl < 0 || nl === at || nl - at > 10) return undefined;
    const lengthText = text.slice(at, nl);
    if (!/^\d+$/.test(lengthText)) return undefined;
    const length = Number(lengthText);
    const start = nl + 1;
    if (start + length > text.length) return undefined;
    messages.push(text.slice(start, start + length));
    at = start + length;
  }
  return messages;
}

interface OpenBatch<T> {
  items: T[];
  chars: number;
  send: (items: T[]) => void;
}

export interface TurnBatcherOptions {
  /**
   * The first item a key gets in a turn is sent at once, alone; only what follows it in the
   * same turn waits for the end of the turn. A lone message then costs no wait (what the rest
   * of the turn does, such as an owner's own fan-out, no longer delays it); a burst still goes
   * as one message more than without. Default false.
   */
  leading?: boolean;
  /**
   * At most one flush per `lingerMs`: items added sooner than that after the last flush wait
   * for the rest of the interval (on a timer), so a steady stream of turns that each carry one
   * or two items (an instance forwarding answers as they arrive) still goes as a few broker
   * messages, not one per turn; the first turn after a quiet interval goes at its end as before.
   * Default 0: every turn's items go at its end.
   */
  lingerMs?: number;
  /** The time the linger is measured in. Default: the batcher's clock. */
  lingerClock?: LingerClock;
}

/**
 * Gathers items by destination key during one turn of the event loop and hands each
 * destination's items, in the order added, to the `send` given with the first of them. A batch
 * that reaches the limits is sent at once and the next item starts a new one, so what one key
 * sends stays in order. Batches of different keys go out in the order their keys first got an
 * item this turn.
 */
export class TurnBatcher<T> {
  private open = new Map<string, OpenBatch<T>>();
  /** With `leading`: keys whose first item of this turn went out at once. */
  private started = new Set<string>();
  private scheduled = false;
  private readonly leading: boolean;
  private readonly lingerMs: number;
  private readonly lingerClock: LingerClock;
  private lastFlushAt = Number.NEGATIVE_INFINITY;
  private lingering: TimerHandle | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly sizeOf: (item: T) => number,
    private readonly limits: BatchLimits = BATCH_LIMITS,
    options: TurnBatcherOptions = {},
  ) {
    this.leading = options.leading === true;
    this.lingerMs = options.lingerMs ?? 0;
    this.lingerClock = options.lingerClock ?? clock;
  }

  add(key: string, item: T, send: (items: T[]) => void): void {
    if (this.leading && !this.started.has(key)) {
      this.started.add(key);
      this.scheduleFlush();
      send([item]);
      return;
    }
    const size = this.sizeOf(item);
    let batch = this.open.get(key);
    if (
      batch &&
      (batch.items.length >= this.limits.maxMessages || batch.chars + size > this.limits.maxChars)
    ) {
      this.open.delete(key);
      batch.send(batch.items);
      batch = undefined;
    }
    if (!batch) {
      batch = { items: [], chars: 0, send };
      this.open.set(key, batch);
    }
    batch.items.push(item);
    batch.chars += size;
    this.scheduleFlush();
  }

  /** Sends every open batch now; the turn is over. */
  flush(): void {
    this.stopLingering();
    this.scheduled = false;
    this.lastFlushAt = this.lingerClock.now();
    this.started = new Set();
    const open = this.open;
    this.open = new Map();
    // One destination's send failing must not hold back the others'; the first error still surfaces.
    let failure: { err: unknown } | undefined;
    for (const batch of open.values()) {
      try {
        batch.send(batch.items);
      } catch (err) {
        failure ??= { err };
      }
    }
    if (failure) throw failure.err;
  }

  private scheduleFlush(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const due = this.lastFlushAt + this.lingerMs;
    if (this.lingerMs <= 0 || this.lingerClock.now() >= due) {
      this.clock.defer(() => this.flush());
      return;
    }
    this.lingering = this.lingerClock.setTimer(due, () => {
      this.lingering = null;
      this.flush();
    });
  }

  private stopLingering(): void {
    if (this.lingering === null) return;
    this.lingerClock.clearTimer(this.lingering);
    this.lingering = null;
  }

  /** Forgets every open batch unsent (the bus closed); returns their items. */
  discard(): T[] {
    this.stopLingering();
    this.scheduled = false;
    const items: T[] = [];
    for (const batch of this.open.values()) items.push(...batch.items);
    this.open = new Map();
    return items;
  }
}
