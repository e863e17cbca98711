/**
 * The close codes the kit closes with. The numbers belong to each door's
 * protocol module (every dialect documents its own); a door's CLOSE_CODES
 * satisfies this and is handed to the kit.
 */
export interface KitCloseCodes {
  /** The server is shutting down; reconnect elsewhere. */
  goingAway: number;
  /** Too many messages, or a client too slow to keep up. */
  rateLimited: number;
  /** Too many invalid messages. */
  protocolViolations: number;
  /** No pong to the last ping. */
  heartbeatTimeout: number;
}

/** The reasons the kit closes with, the same in every door. */
export const CLOSE_REASONS = {
  shutdown: "server shutting down",
  noPong: "no pong",
  flood: "too many messages",
  strikes: "too many invalid messages",
  slow: "client too slow to keep up; reconnect",
} as const;
