import { type EventMark, isAfter, ORIGIN } from "../../engine/event-order.js";
import type { RoomHandle } from "../../engine/room-handle.js";
import type { RoomEvent } from "../../engine/types.js";
import type { Clock, TimerHandle } from "../../ports/clock.js";
import { type BoardRead, encodeBoard, readBoard } from "./board.js";
import { UPDATE_COALESCE_MS } from "./protocol.js";
import { sessionState } from "./queries.js";

/** Where a feed's output goes: the quiz's streams. */
export interface FeedSink {
  /** An update, serialized once for every stream of the quiz, as of `mark` (BoardView.mark). */
  board(frame: Buffer, mark: EventMark): void;
  /** The quiz ended and its final board (if it changed and could be read) has gone out. */
  ended(): void;
  /** Updates may have been missed and the board cannot be read now: the streams must reconnect. */
  lost(): void;
}

/**
 * When one quiz's stream subscribers get a leaderboard update. Updates are
 * read from the session's standings (a command to the session's owner, which
 * may run on another instance), so they show what the engine ranks:
 *
 * - self_paced: after every stored answer (`scored`) and when a participant
 *   joins or is removed, coalesced — the first change goes out at once, later
 *   ones at most once per UPDATE_COALESCE_MS;
 * - live and quick_fire: at each reveal, when the engine publishes its own
 *   leaderboard (scores of an open question are never pushed);
 * - every mode: at the end, the final board;
 * - after a resync (events may have been missed): the board as it is then,
 *   or the end if the quiz ended meanwhile;
 * - never when nothing on the board changed since the last update.
 */
export class BoardFeed {
  private timer: TimerHandle | null = null;
  private lastKey: string | null = null;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  /** The newest read shown, so a slow read never overwrites a newer board. */
  private shown: EventMark = ORIGIN;
  private finished = false;

  constructor(
    private readonly handle: RoomHandle,
    private readonly clock: Clock,
    private readonly sink: FeedSink,
  ) {}

  /** A stream got this board as its snapshot: if nothing was published yet, it is the baseline. */
  noteSnapshot(key: string): void {
    if (this.lastKey === null) this.lastKey = key;
  }

  onEvent(event: RoomEvent): void {
    if (this.finished) return;
    const b = event.body;
    const selfPaced = this.handle.info.settings.mode === "self_paced";
    switch (b.type) {
      case "scored":
      case "participant_joined":
        if (selfPaced) this.request();
        return;
      case "participant_left":
        if (selfPaced && b.reason === "kicked") this.request();
        return;
      case "reveal":
        // Read now, while the room is at its reveal: no answer to a later question counts yet.
        void this.publish();
        return;
      case "ended":
        this.finish();
        return;
      default:
        return;
    }
  }

  /**
   * Events may have been missed (lost between instances, a new owner): asks
   * where the session stands first, so an end that was missed still closes the
   * streams after the final board; otherwise publishes the board as it is now.
   */
  resync(): void {
    if (this.finished) return;
    void this.catchUp();
  }

  /** Stops the pending update (the last subscriber left, or the server stops). */
  dispose(): void {
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = null;
  }

  private async catchUp(): Promise<void> {
    const state = await sessionState(this.handle).catch(() => "unavailable" as const);
    // An ended event that arrived meanwhile has taken over.
    if (this.finished) return;
    if (state === "ended") {
      this.finish();
      return;
    }
    if (state === "unavailable") {
      this.sink.lost();
      return;
    }
    const read = await this.publish();
    if (this.finished) return;
    if (read === "gone") this.finish();
    else if (read === "unavailable") this.sink.lost();
  }

  /** The final board (when it can still be read), then the streams close. */
  private finish(): void {
    this.finished = true;
    this.dispose();
    void this.publish().finally(() => this.sink.ended());
  }

  /** Leading edge at once, then at most one update per window. */
  private request(): void {
    if (this.timer) return;
    const due = this.lastSentAt + UPDATE_COALESCE_MS;
    if (due <= this.clock.now()) {
      void this.publish();
      return;
    }
    this.timer = this.clock.setTimer(due, () => {
      this.timer = null;
      void this.publish();
    });
  }

  /** Reads the board and sends it if it changed; a failed read skips this update (the next change publishes). */
  private async publish(): Promise<BoardRead["kind"]> {
    this.lastSentAt = this.clock.now();
    const read = await readBoard(this.handle).catch(() => ({ kind: "unavailable" }) as const);
    if (read.kind !== "board") return read.kind;
    const view = read.view;
    if (isAfter(this.shown, view.mark)) return read.kind;
    this.shown = view.mark;
    const encoded = encodeBoard(view, this.clock.now());
    if (encoded.key === this.lastKey) return read.kind;
    this.lastKey = encoded.key;
    this.sink.board(encoded.frame, view.mark);
    return read.kind;
  }
}
