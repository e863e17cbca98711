import type { Logger } from "pino";
import type { RoomHandle } from "../engine/room-handle.js";
import type { RoomEvent } from "../engine/types.js";

/**
 * One `INFO` line per step of a room's life, written by the instance that runs
 * the room (so once per step across a cluster): created, started, each
 * question opened and closed, ended; each player joined, left or kicked; a
 * room taken over by this instance (or resumed after a restart). Every line
 * carries `room_id` and `msg_type` (the room event, or `created`/`took_over`),
 * `user_id` when a player is concerned, and — tracing on — the `trace_id` of
 * what caused it. Display names and tokens are never logged.
 */
export class LifecycleLog {
  constructor(
    private readonly log: Logger,
    private readonly opts: { clustered: boolean },
  ) {}

  /** A room starts running here: log it, and its life from now on. */
  loaded(room: RoomHandle, how: "created" | "adopted", epoch: number): void {
    const base = { room_id: room.id };
    if (how === "created") {
      this.log.info(
        { ...base, msg_type: "created", mode: room.info.settings.mode, quiz_id: room.info.quizId },
        "room created",
      );
    } else if (this.opts.clustered) {
      this.log.info({ ...base, msg_type: "took_over", epoch }, "instance took over the session");
    } else {
      this.log.info({ ...base, msg_type: "resumed", epoch }, "session resumed after a restart");
    }
    room.subscribe((event) => this.event(event));
  }

  private event(e: RoomEvent): void {
    // Every room event passes here (each answer's `scored` too): below INFO, build nothing.
    if (!this.log.isLevelEnabled("info")) return;
    const b = e.body;
    const base = { room_id: e.sessionId, msg_type: b.type };
    switch (b.type) {
      case "started":
        this.log.info({ ...base, questions: b.questionCount }, "room started");
        return;
      case "question":
        // Self-paced rooms serve each player their own questions: those are not room steps.
        if (e.audience.kind === "all") {
          this.log.info({ ...base, index: b.index, deadline: b.deadline }, "question opened");
        }
        return;
      case "question_closed":
        this.log.info({ ...base, index: b.index, reason: b.reason }, "question closed");
        return;
      case "ended":
        this.log.info({ ...base, reason: b.reason, players: b.totalPlayers }, "room ended");
        return;
      case "participant_joined":
        if (b.participant.role === "player") {
          this.log.info(
            {
              ...base,
              user_id: b.participant.userId,
              participant_id: b.participant.participantId,
              players: b.playerCount,
            },
            "player joined",
          );
        }
        return;
      case "participant_left":
        this.log.info(
          {
            ...base,
            user_id: b.userId,
            participant_id: b.participantId,
            reason: b.reason,
            players: b.playerCount,
          },
          b.reason === "kicked" ? "player kicked" : "player left",
        );
        return;
      default:
        return;
    }
  }
}
