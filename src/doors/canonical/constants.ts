/**
 * Protocol constants with no dependencies, so the browser SDK can import them
 * without pulling in the schema compiler. protocol.ts re-exports them.
 */
export const PROTOCOL_VERSION = 1;
/** The path the canonical door listens on (plain /ws belongs to the seed 001 dialect). */
export const CANONICAL_PATH = "/ws/v1";
/** Largest frame a client may send (seed 001 §12.1). */
export const MAX_FRAME_BYTES = 10 * 1024;
export const MSG_ID_MAX = 64;

/** Close codes the server uses, beyond the standard ones. */
export const CLOSE_CODES = {
  /** 1001: the server is shutting down; reconnect. */
  goingAway: 1001,
  /** 1009: frame far beyond the size limit. */
  tooBig: 1009,
  /** The connection kept sending invalid messages. */
  protocolViolations: 4002,
  /** The host removed this player. */
  kicked: 4003,
  /** Too many messages, or the client reads too slowly to keep up. */
  rateLimited: 4008,
  /** No pong within two heartbeats. */
  heartbeatTimeout: 4010,
} as const;
