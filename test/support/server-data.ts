/**
 * The data of canonical server messages, as the SDK receives them and the web app reduces them:
 * typical values, with `over` laid on top.
 */
import type { ServerData } from "../../src/doors/canonical/protocol.js";
import type { SnapshotView } from "../../src/doors/schemas/views.js";

/**
 * A canonical `state` snapshot of a live room still in its lobby (no question, nobody ranked),
 * with `over` laid on top: what the SDK receives and the web app's room view starts from.
 */
export function lobbySnapshot(over: Partial<SnapshotView> = {}): SnapshotView {
  return {
    room_id: "room-1",
    pin: "482913",
    title: "Capitals",
    mode: "live",
    status: "waiting",
    phase: {
      kind: "lobby",
      index: null,
      question: null,
      opened_at: null,
      deadline_ms: null,
      closed: false,
      until: null,
      end_reason: null,
      paused: null,
      reveal: null,
    },
    question_count: 3,
    locked: false,
    host_user_id: "host-1",
    settings: {
      mode: "live",
      scoring: { policy: "kahoot", streak_bonus: true },
      question_time_ms: null,
      allow_answer_change: false,
      max_participants: 100,
      auto_advance: false,
      reveal_ms: 5_000,
      intermission_ms: 0,
      closes_at: null,
      ban_ms: 600_000,
      leaderboard_size: 10,
      host_disconnect: "pause",
      host_grace_ms: 5_000,
      cohosts: [],
      invited: [],
    },
    player_count: 1,
    leaderboard: [],
    you: null,
    players: null,
    epoch: 1,
    seq: 0,
    server_time: 0,
    ...over,
  };
}

/** A `score` reply: the first question answered right, worth 900 points. */
export function scoreData(over: Partial<ServerData<"score">> = {}): ServerData<"score"> {
  return {
    index: 0,
    question_id: "q1",
    accepted: true,
    correct: true,
    points: 900,
    score: 900,
    streak: 1,
    changed: false,
    elapsed_ms: 2_000,
    correct_answer: null,
    ...over,
  };
}
