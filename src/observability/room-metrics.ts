import type { RoomEvent, RoomListener } from "../engine/types.js";
import type { Metrics } from "./metrics.js";

/** What the listener needs of the room it watches. */
export interface WatchedRoom {
  /** When the session started (epoch ms), null before its start. */
  readonly startedAt: number | null;
}

/**
 * The business metrics of one room, counted where the room runs (its owner), so each answer,
 * join and ending is counted once however many instances its players are connected to. One
 * listener per room; the per-answer branch only increments two unlabelled counters.
 */
export function roomMetricsListener(metrics: Metrics, room: WatchedRoom): RoomListener {
  let openedAt: number | null = null;
  return (event: RoomEvent) => {
    const body = event.body;
    switch (body.type) {
      case "scored":
        metrics.answersSubmitted.inc();
        if (body.correct) metrics.correctAnswers.inc();
        return;
      case "participant_joined":
        metrics.participantsJoined.inc();
        return;
      case "question":
        // A live question, open for everyone; self-paced questions are served to one player each.
        if (event.audience.kind === "all") openedAt = body.openedAt;
        return;
      case "question_closed":
        if (openedAt !== null) metrics.questionDuration.observe((event.at - openedAt) / 1000);
        openedAt = null;
        return;
      case "ended": {
        metrics.sessionsCompleted.inc();
        const startedAt = room.startedAt;
        if (startedAt !== null) metrics.sessionDuration.observe((event.at - startedAt) / 1000);
        return;
      }
      default:
        return;
    }
  };
}
