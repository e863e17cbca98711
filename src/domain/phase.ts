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
      paused?: Pause;
    }
  | { kind: "reveal"; index: number; until: number | null; paused?: Pause }
  | { kind: "intermission"; index: number; until: number | null; paused?: Pause }
  | { kind: "active" }
  | { kind: "ended"; reason: EndReason; at: number };

export type PhaseKind = Phase["kind"];

/** Why a running game stopped its clock. */
export type PauseReason = "host_disconnected";

/**
 * H-1: a paused game phase. Its timers stand still from `at`; on resume every time in the phase
 * (opened-at, deadline, until) moves on by the length of the pause, so the time left is kept. It
 * is part of the stored phase, so a restarted server resumes the room still paused.
 */
export interface Pause {
  at: number;
  reason: PauseReason;
}
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
