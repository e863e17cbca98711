/**
 * What the "connection lost" banner shows, derived from the SDK's lifecycle
 * events. The SDK reconnects and resumes by itself; this only decides what
 * the person sees while it does.
 */

export type ConnectionState =
  /** Connected, or not connected yet for the first time (the page shows its own loading state). */
  | { kind: "ok" }
  /** The connection dropped; the SDK will try again at `retryAt` (local ms), attempt `attempt`. */
  | { kind: "lost"; attempt: number; retryAt: number | null }
  /** A new connection is up and the client is getting back into its room. */
  | { kind: "resuming" }
  /** The client will not reconnect: closed, kicked, or the server refused to let it back in. */
  | { kind: "gone"; reason: GoneReason; detail: string | null };

export type GoneReason = "kicked" | "closed" | "resume_failed";

export type ConnectionEvent =
  | { type: "connected" }
  | { type: "disconnected"; willReconnect: boolean; code: number }
  | { type: "reconnecting"; attempt: number; delayMs: number; now: number }
  | { type: "resumed" }
  | { type: "resume_failed"; reason: string | null }
  | { type: "closed"; code: number; reason: string };

export const INITIAL_CONNECTION: ConnectionState = { kind: "ok" };

/** Close code of a kicked player (the protocol's CLOSE_CODES.kicked). */
const KICKED = 4003;

/** The next banner state after a lifecycle event. */
export function reduceConnection(state: ConnectionState, event: ConnectionEvent): ConnectionState {
  // Once gone, nothing brings the client back; the page has to start over.
  if (state.kind === "gone") return state;
  switch (event.type) {
    case "disconnected":
      if (!event.willReconnect) {
        return event.code === KICKED
          ? { kind: "gone", reason: "kicked", detail: null }
          : { kind: "gone", reason: "closed", detail: null };
      }
      return { kind: "lost", attempt: state.kind === "lost" ? state.attempt : 0, retryAt: null };
    case "reconnecting":
      return { kind: "lost", attempt: event.attempt, retryAt: event.now + event.delayMs };
    case "connected":
      // A fresh connection: if we were in a room, the SDK resumes it next.
      return state.kind === "lost" ? { kind: "resuming" } : state;
    case "resumed":
      return { kind: "ok" };
    case "resume_failed":
      return { kind: "gone", reason: "resume_failed", detail: event.reason };
    case "closed":
      return {
        kind: "gone",
        reason: event.code === KICKED ? "kicked" : "closed",
        detail: event.reason || null,
      };
  }
}

/**
 * A connection that comes back without a room to resume never gets "resumed";
 * treat the first welcome after a loss as recovery when there is no room.
 */
export function settleWithoutRoom(state: ConnectionState): ConnectionState {
  return state.kind === "resuming" ? { kind: "ok" } : state;
}

/** The banner's words, or null when no banner is shown. */
export function connectionText(state: ConnectionState, localNow: number): string | null {
  switch (state.kind) {
    case "ok":
      return null;
    case "lost": {
      if (state.retryAt === null) return "Connection lost. Reconnecting…";
      const s = Math.max(0, Math.ceil((state.retryAt - localNow) / 1000));
      const attempt = state.attempt > 1 ? ` (attempt ${state.attempt})` : "";
      return s > 0
        ? `Connection lost. Retrying in ${s} s${attempt}…`
        : `Connection lost. Reconnecting now${attempt}…`;
    }
    case "resuming":
      return "Reconnected. Getting you back into the game…";
    case "gone":
      switch (state.reason) {
        case "kicked":
          return "The host removed you from this game.";
        case "resume_failed":
          return "You could not get back into this game.";
        case "closed":
          return "The connection was closed.";
      }
  }
}

/** Whether the banner is an alert (the person cannot continue) rather than a passing status. */
export function connectionIsFatal(state: ConnectionState): boolean {
  return state.kind === "gone";
}
