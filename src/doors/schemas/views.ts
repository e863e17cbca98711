import Type from "typebox";
import { type PublicQuestion, QUESTION_KINDS } from "../../domain/quiz.js";
import type {
  PhaseView as EnginePhaseView,
  PublicParticipant,
  Snapshot,
  Standing,
} from "../../engine/types.js";
import { ModeInput, SettingsView, settingsView } from "./session-settings.js";

/**
 * What clients see of a room, in snake_case: the pieces every door and REST
 * share. Converters below turn engine values into these shapes.
 */
export const QuestionView = Type.Object({
  id: Type.String(),
  kind: Type.Enum([...QUESTION_KINDS]),
  text: Type.String(),
  options: Type.Array(Type.String()),
  time_limit_ms: Type.Integer(),
  multiplier: Type.Integer(),
  /** The question's picture (an http(s) URL or `/api/v1/images/<id>`); absent when it has none. */
  image: Type.Optional(Type.String()),
});
export type QuestionView = Type.Static<typeof QuestionView>;

export const CorrectView = Type.Object({
  indices: Type.Array(Type.Integer()),
  texts: Type.Array(Type.String()),
});

export const StandingView = Type.Object({
  participant_id: Type.String(),
  user_id: Type.String(),
  name: Type.String(),
  score: Type.Integer(),
  rank: Type.Integer(),
});
export type StandingView = Type.Static<typeof StandingView>;

export const ParticipantView = Type.Object({
  participant_id: Type.String(),
  user_id: Type.String(),
  name: Type.String(),
  role: Type.Enum(["player", "host"]),
  status: Type.Enum(["active", "left", "kicked"]),
  connected: Type.Boolean(),
  score: Type.Integer(),
});
export type ParticipantView = Type.Static<typeof ParticipantView>;

const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const PhaseKindView = Type.Enum([
  "lobby",
  "question",
  "reveal",
  "intermission",
  "active",
  "ended",
]);
export const StatusView = Type.Enum(["waiting", "active", "completed"]);

export const SnapshotView = Type.Object({
  room_id: Type.String(),
  pin: Type.String(),
  title: Type.String(),
  mode: ModeInput,
  status: StatusView,
  phase: Type.Object({
    kind: PhaseKindView,
    index: Nullable(Type.Integer()),
    question: Nullable(QuestionView),
    opened_at: Nullable(Type.Integer()),
    deadline_ms: Nullable(Type.Integer()),
    closed: Type.Boolean(),
    until: Nullable(Type.Integer()),
    end_reason: Nullable(Type.Enum(["finished", "host_ended", "closed", "expired"])),
    /** Why the game's clock stands still (H-1), or null while it runs. */
    paused: Nullable(Type.Enum(["host_disconnected"])),
    reveal: Nullable(
      Type.Object({
        correct: CorrectView,
        option_counts: Type.Array(Type.Integer()),
        answered_count: Type.Integer(),
      }),
    ),
  }),
  question_count: Type.Integer(),
  locked: Type.Boolean(),
  /** Who holds host rights now (H-2, H-3). */
  host_user_id: Type.String(),
  settings: SettingsView,
  player_count: Type.Integer(),
  leaderboard: Type.Array(StandingView),
  you: Nullable(
    Type.Object({
      participant_id: Type.String(),
      name: Type.String(),
      role: Type.Enum(["player", "host"]),
      score: Type.Integer(),
      rank: Nullable(Type.Integer()),
      streak: Type.Integer(),
      answered_current: Type.Boolean(),
      answered_count: Type.Integer(),
      finished: Type.Boolean(),
    }),
  ),
  players: Nullable(Type.Array(ParticipantView)),
  epoch: Type.Integer(),
  seq: Type.Integer(),
  server_time: Type.Integer(),
});
export type SnapshotView = Type.Static<typeof SnapshotView>;

export function questionView(q: PublicQuestion): QuestionView {
  const view: QuestionView = {
    id: q.id,
    kind: q.kind,
    text: q.text,
    options: q.options,
    time_limit_ms: q.timeLimitMs,
    multiplier: q.multiplier,
  };
  if (q.image !== undefined) view.image = q.image;
  return view;
}

export function standingView(s: Standing): StandingView {
  return {
    participant_id: s.participantId,
    user_id: s.userId,
    name: s.name,
    score: s.score,
    rank: s.rank,
  };
}

export function participantView(p: PublicParticipant): ParticipantView {
  return {
    participant_id: p.participantId,
    user_id: p.userId,
    name: p.name,
    role: p.role,
    status: p.status,
    connected: p.connected,
    score: p.score,
  };
}

function phaseView(p: EnginePhaseView): SnapshotView["phase"] {
  return {
    kind: p.kind,
    index: p.index,
    question: p.question ? questionView(p.question) : null,
    opened_at: p.openedAt,
    deadline_ms: p.deadline,
    closed: p.closed,
    until: p.until,
    end_reason: p.endReason,
    paused: p.paused,
    reveal: p.reveal
      ? {
          correct: p.reveal.correct,
          option_counts: p.reveal.optionCounts,
          answered_count: p.reveal.answeredCount,
        }
      : null,
  };
}

export function snapshotView(s: Snapshot): SnapshotView {
  return {
    room_id: s.sessionId,
    pin: s.pin,
    title: s.title,
    mode: s.mode,
    status: s.status,
    phase: phaseView(s.phase),
    question_count: s.questionCount,
    locked: s.locked,
    host_user_id: s.hostUserId,
    settings: settingsView(s.settings),
    player_count: s.playerCount,
    leaderboard: s.leaderboard.map(standingView),
    you: s.you
      ? {
          participant_id: s.you.participantId,
          name: s.you.name,
          role: s.you.role,
          score: s.you.score,
          rank: s.you.rank,
          streak: s.you.streak,
          answered_current: s.you.answeredCurrent,
          answered_count: s.you.answeredCount,
          finished: s.you.finished,
        }
      : null,
    players: s.players ? s.players.map(participantView) : null,
    epoch: s.epoch,
    seq: s.seq,
    server_time: s.serverTime,
  };
}
