/**
 * One room as a screen sees it, rebuilt from the server's `state` snapshots
 * and kept current by its events. Host, big screen and player share this
 * reducer; each reads the parts it shows.
 */
import type {
  CorrectView,
  EndReason,
  Mode,
  ParticipantView,
  PhaseKind,
  QuestionView,
  ServerData,
  SettingsView,
  SnapshotView,
  StandingView,
} from "./types.js";

export type YouView = NonNullable<SnapshotView["you"]>;
export type QuestionResult = NonNullable<ServerData<"reveal">["you"]>;

export interface RevealView {
  correct: CorrectView;
  optionCounts: number[];
  answeredCount: number;
}

export interface EndView {
  reason: EndReason | null;
  podium: StandingView[];
  leaderboard: StandingView[];
  totalPlayers: number;
  you: ServerData<"end">["you"];
}

export interface RoomView {
  roomId: string;
  pin: string;
  title: string;
  mode: Mode;
  settings: SettingsView;
  status: SnapshotView["status"];
  phase: PhaseKind;
  questionCount: number;
  locked: boolean;
  playerCount: number;
  /** The question on screen (self_paced: this player's own), never with its answer. */
  index: number | null;
  question: QuestionView | null;
  openedAt: number | null;
  deadline: number | null;
  /** The open question stopped taking answers (its reveal follows). */
  closed: boolean;
  /** Why it closed, when this client saw it happen (not known after a reload). */
  closedReason: ServerData<"question_closed">["reason"] | null;
  /** Hosts and spectators: how many answered the open question. */
  answered: { answered: number; players: number } | null;
  reveal: RevealView | null;
  /** Reveal or intermission: when the room moves on by itself. */
  until: number | null;
  leaderboard: StandingView[];
  totalPlayers: number | null;
  /** Hosts and spectators: the players (kicked ones left out). */
  players: ParticipantView[] | null;
  /** Players and the host: their own membership. */
  you: YouView | null;
  /** Players: their result in the latest reveal. */
  lastResult: QuestionResult | null;
  end: EndView | null;
  epoch: number;
  seq: number;
}

/** Any server frame as the reducer needs it: type, data and where it sits in the room's order. */
export interface RoomEvent {
  type: string;
  data: unknown;
  epoch?: number | undefined;
  seq?: number | undefined;
}

export type RoomAction =
  | { type: "state"; snapshot: SnapshotView }
  | { type: "event"; event: RoomEvent }
  /** self_paced: the player has had every question. */
  | { type: "finished" };

/** The view a snapshot describes. */
export function fromSnapshot(s: SnapshotView): RoomView {
  const p = s.phase;
  return {
    roomId: s.room_id,
    pin: s.pin,
    title: s.title,
    mode: s.mode,
    settings: s.settings,
    status: s.status,
    phase: p.kind,
    questionCount: s.question_count,
    locked: s.locked,
    playerCount: s.player_count,
    index: p.index,
    question: p.question,
    openedAt: p.opened_at,
    deadline: p.deadline_ms,
    closed: p.closed,
    closedReason: null,
    answered: null,
    reveal: p.reveal
      ? {
          correct: p.reveal.correct,
          optionCounts: p.reveal.option_counts,
          answeredCount: p.reveal.answered_count,
        }
      : null,
    until: p.until,
    leaderboard: s.leaderboard,
    totalPlayers: null,
    players: s.players ? s.players.filter((x) => x.status !== "kicked") : null,
    you: s.you,
    lastResult: null,
    end:
      p.kind === "ended"
        ? {
            reason: p.end_reason,
            podium: s.leaderboard.slice(0, 3),
            leaderboard: s.leaderboard,
            totalPlayers: s.leaderboard.length,
            you:
              s.you && s.you.rank !== null
                ? { score: s.you.score, rank: s.you.rank, total: s.player_count }
                : null,
          }
        : null,
    epoch: s.epoch,
    seq: s.seq,
  };
}

/**
 * The next view. A `state` replaces everything; an event at or below the
 * snapshot's (epoch, seq) is already in it and is ignored; replies (no seq)
 * always apply.
 */
export function reduceRoom(view: RoomView | null, action: RoomAction): RoomView | null {
  if (action.type === "state") {
    const s = action.snapshot;
    if (view && view.roomId === s.room_id && view.epoch === s.epoch && s.seq < view.seq) {
      return view; // an older snapshot replayed after a newer one
    }
    const next = fromSnapshot(s);
    // A snapshot does not carry the last reveal's personal result; keep it for the same question.
    if (view && view.roomId === s.room_id && view.index === next.index) {
      next.lastResult = view.lastResult;
      next.answered = view.answered;
      next.closedReason = view.closedReason;
    }
    return next;
  }
  if (!view) return view;
  if (action.type === "finished") {
    return view.you ? { ...view, you: { ...view.you, finished: true } } : view;
  }
  const e = action.event;
  if (e.seq !== undefined && e.epoch === view.epoch && e.seq <= view.seq) return view;
  const next = applyEvent(view, e);
  if (next === view) return view;
  if (e.seq !== undefined && e.epoch !== undefined) {
    next.epoch = e.epoch;
    next.seq = e.epoch === view.epoch ? Math.max(view.seq, e.seq) : e.seq;
  }
  return next;
}

function applyEvent(v: RoomView, e: RoomEvent): RoomView {
  switch (e.type) {
    case "player_joined": {
      const d = e.data as ServerData<"player_joined">;
      const players = v.players
        ? [
            ...v.players.filter((p) => p.participant_id !== d.participant.participant_id),
            d.participant,
          ]
        : null;
      return { ...v, players, playerCount: d.player_count };
    }
    case "player_left": {
      const d = e.data as ServerData<"player_left">;
      const players = v.players
        ? d.reason === "kicked"
          ? v.players.filter((p) => p.participant_id !== d.participant_id)
          : v.players.map((p) =>
              p.participant_id === d.participant_id
                ? { ...p, status: "left" as const, connected: false }
                : p,
            )
        : null;
      const leaderboard =
        d.reason === "kicked"
          ? v.leaderboard.filter((s) => s.participant_id !== d.participant_id)
          : v.leaderboard;
      return { ...v, players, leaderboard, playerCount: d.player_count };
    }
    case "presence": {
      const d = e.data as ServerData<"presence">;
      if (!v.players) return { ...v };
      return {
        ...v,
        players: v.players.map((p) =>
          p.participant_id === d.participant_id
            ? { ...p, connected: d.connected, status: d.connected ? "active" : p.status }
            : p,
        ),
      };
    }
    case "player_count":
      return { ...v, playerCount: (e.data as ServerData<"player_count">).player_count };
    case "started": {
      const d = e.data as ServerData<"started">;
      return {
        ...v,
        status: "active",
        phase: v.mode === "self_paced" ? "active" : v.phase,
        questionCount: d.question_count,
      };
    }
    case "question": {
      const d = e.data as ServerData<"question">;
      return {
        ...v,
        status: "active",
        phase: v.mode === "self_paced" ? "active" : "question",
        index: d.index,
        question: d.question,
        questionCount: d.total,
        openedAt: d.opened_at,
        deadline: d.deadline_ms,
        closed: false,
        closedReason: null,
        answered: v.players ? { answered: 0, players: v.playerCount } : null,
        reveal: null,
        until: null,
        lastResult: null,
        you: v.you ? { ...v.you, answered_current: false } : null,
      };
    }
    case "answer_count": {
      const d = e.data as ServerData<"answer_count">;
      if (d.index !== v.index) return v;
      return { ...v, answered: { answered: d.answered, players: d.players } };
    }
    case "question_closed": {
      const d = e.data as ServerData<"question_closed">;
      return d.index === v.index ? { ...v, closed: true, closedReason: d.reason } : v;
    }
    case "score": {
      const d = e.data as ServerData<"score">;
      if (!v.you) return v;
      const current = d.index === v.index;
      return {
        ...v,
        you: {
          ...v.you,
          score: d.score,
          streak: d.streak,
          answered_current: current ? true : v.you.answered_current,
          answered_count: d.changed ? v.you.answered_count : v.you.answered_count + 1,
        },
      };
    }
    case "reveal": {
      const d = e.data as ServerData<"reveal">;
      return {
        ...v,
        phase: "reveal",
        index: d.index,
        closed: true,
        reveal: {
          correct: d.correct,
          optionCounts: d.option_counts,
          answeredCount: d.answered_count,
        },
        until: d.until,
        leaderboard: d.leaderboard,
        totalPlayers: d.total_players,
        lastResult: d.you,
        you:
          v.you && d.you
            ? { ...v.you, score: d.you.score, rank: d.you.rank, streak: d.you.streak }
            : v.you,
      };
    }
    case "intermission": {
      const d = e.data as ServerData<"intermission">;
      return { ...v, phase: "intermission", until: d.until, leaderboard: d.leaderboard };
    }
    case "leaderboard": {
      const d = e.data as ServerData<"leaderboard">;
      return {
        ...v,
        leaderboard: d.leaderboard,
        totalPlayers: d.total_players,
        you: v.you && d.your_rank !== null ? { ...v.you, rank: d.your_rank } : v.you,
      };
    }
    case "lock":
      return { ...v, locked: (e.data as ServerData<"lock">).locked };
    case "end": {
      const d = e.data as ServerData<"end">;
      return {
        ...v,
        status: "completed",
        phase: "ended",
        closed: true,
        until: null,
        leaderboard: d.leaderboard,
        totalPlayers: d.total_players,
        end: {
          reason: d.reason,
          podium: d.podium,
          leaderboard: d.leaderboard,
          totalPlayers: d.total_players,
          you: d.you,
        },
        you: v.you && d.you ? { ...v.you, score: d.you.score, rank: d.you.rank } : v.you,
      };
    }
    default:
      return v;
  }
}

/** The players to list (host lobby, big screen), in the order they joined. */
export function activePlayers(view: RoomView): ParticipantView[] {
  return (view.players ?? []).filter((p) => p.role === "player" && p.status !== "kicked");
}

/** Whether this is the last question of the game. */
export function isLastQuestion(view: RoomView): boolean {
  return view.index !== null && view.index >= view.questionCount - 1;
}

/** The largest option count, for scaling a bar chart (at least 1). */
export function maxCount(counts: readonly number[]): number {
  return Math.max(1, ...counts);
}
