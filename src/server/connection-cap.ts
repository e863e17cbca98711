import type { Duplex } from "node:stream";
import { rejectUpgrade } from "../doors/ws-kit/frames.js";

/** What an upgrade refused for capacity reads (docs/errors.md, "Upgrades refused for load"). */
export const AT_CAPACITY_MESSAGE = "server at capacity, try again later";
/** Seconds a client refused for capacity is told to wait (`Retry-After`). */
export const AT_CAPACITY_RETRY_AFTER_S = 5;

/**
 * Seed 003's MAX_CONNECTIONS_PER_INSTANCE: WebSocket upgrades past the cap are refused with
 * HTTP 503 before any WebSocket exists. A socket is counted from its upgrade request until it
 * closes, so upgrades still being admitted count too and a burst cannot overshoot the cap.
 */
export class ConnectionCap {
  private held = 0;

  constructor(
    /** The cap; null counts without refusing. */
    readonly max: number | null,
    private readonly onRefused: () => void = () => undefined,
  ) {}

  /** Sockets upgraded or being upgraded right now. */
  get connections(): number {
    return this.held;
  }

  /** Whether the next upgrade would be refused. */
  get full(): boolean {
    return this.max !== null && this.held >= this.max;
  }

  /** Counts `socket` until it closes and returns true, or refuses it (503) and returns false. */
  admit(socket: Duplex): boolean {
    if (this.full) {
      this.onRefused();
      rejectUpgrade(socket, 503, AT_CAPACITY_MESSAGE, {
        "Retry-After": String(AT_CAPACITY_RETRY_AFTER_S),
      });
      return false;
    }
    this.held += 1;
    socket.once("close", () => {
      this.held -= 1;
    });
    return true;
  }
}
