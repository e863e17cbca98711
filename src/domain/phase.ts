/**
 * Where a session is. live and quick_fire walk lobby → question → reveal →
 * [intermission] → … → ended; self_paced is lobby → active → ended, with each
 * participant's own position kept per participant.
 */
export type Phase =
  | { kind: "lobby" }
  | {
      kind: "question";
      index: number;
      openedAt: number;
      deadline: number;
      /** Set once the question stops taking answers; the reveal waits for answers still being stored. */
      closedAt: number | null;
    }
  | { kind: "reveal"; index: number; until: number | null }
  | { kind: "intermission"; index: number; until: number | null }
  | { kind: "active" }
  | { kind: "ended"; reason: EndReason; at: number };

export type PhaseKind = Phase["kind"];
export type EndReason = "finished" | "host_ended" | "closed" | "expired";

/** Seed 001's coarse session status, shared by every mode. */
export type SessionStatus = "waiting" | "active" | "completed";

export function statusOf(phase: Phase): SessionStatus {
  switch (phase.kind) {
    case "lobby":
      return "waiting";
    case "ended":
      return "completed";
    case "question":
    case "reveal":
    case "intermission":
    case "active":
      return "active";
    default:
      return exhaustive(phase);
  }
}

export function exhaustive(x: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(x)}`);
}
