import type { DomainError, Result } from "../domain/errors.js";
import type { ParticipantId, SessionId, UserId } from "../domain/ids.js";
import type { EndReason, PauseReason, PhaseKind, SessionStatus } from "../domain/phase.js";
import type { AnswerValue, CorrectAnswer, PublicQuestion } from "../domain/quiz.js";
import type { SessionMode, SessionSettings } from "../domain/session-settings.js";
import type { ParticipantRole, ParticipantStatus } from "../ports/storage.js";

/** Who is asking. Doors build it from the connection's identity. */
export interface Actor {
  userId: UserId;
  roles: readonly string[];
  /** True when the server made the identity up (no token): resume tokens then decide who you are. */
  anonymous: boolean;
  /** The member this connection acts as, once it has joined or resumed. */
  participantId?: ParticipantId;
}

/** What a viewer is, for snapshots and for which events a door forwards. */
export type ViewerRole = "player" | "host" | "spectator";

/**
 * Everything a door can ask a room to do. Serializable, so a command can be
 * forwarded to the instance that owns the room.
 */
export type Command =
  /**
   * `serveQuestions: false` for doors whose clients read the questions themselves (seed 001's REST,
   * seed 002): self_paced questions are then never pushed, so no per-question timer starts (T-7).
   */
  /**
   * `byInvitation`: the client named the room by id instead of its PIN, which only the users in
   * `settings.invited` may do.
   */
  | { type: "join"; name: string; serveQuestions?: boolean; byInvitation?: boolean }
  | { type: "resume"; token: string }
  | { type: "leave" }
  | { type: "start" }
  /** Host: advance the game. self_paced player: serve my next question. */
  | { type: "next" }
  | { type: "end" }
  /** Ends the room from outside (admin close): like end, with the reason "closed". */
  | { type: "close" }
  | { type: "lock"; locked: boolean }
  /** The player by participant id, or (seed 000) by user id. */
  | { type: "kick"; participantId: ParticipantId; reason: string }
  | { type: "kick"; userId: UserId; reason: string }
  /** H-3: the host hands host rights to another member of the room. */
  | { type: "transfer_host"; userId: UserId }
  /**
   * `unmatchedText`: a text that names none of a choice question's options is refused
   * (`bad_answer`, the default) or scored as a wrong answer (`wrong`, seed 001; rule A-7).
   */
  | {
      type: "answer";
      target: AnswerTarget;
      answer: AnswerValue;
      unmatchedText?: "refuse" | "wrong";
    }
  | { type: "presence"; connected: boolean }
  /** `top`: the leaderboard's length (default the session's leaderboard_size, at most 100). */
  | { type: "snapshot"; role: ViewerRole; top?: number }
  /** Read-only: a page of the leaderboard. */
  | { type: "standings"; fromRank: number; count: number }
  /** Read-only: who holds this resume token (REST bearer credentials), without rotating it. */
  | { type: "authenticate"; token: string }
  /** Read-only: a member by user or participant id. */
  | { type: "lookup"; userId?: UserId; participantId?: ParticipantId };

export type CommandType = Command["type"];

/** Doors that speak in question ids (seeds 001, 002, 004) and doors that speak in indices both work. */
export type AnswerTarget = { index: number } | { questionId: string };

export type Reply<T> = Result<T, DomainError>;

export interface JoinResult {
  participantId: ParticipantId;
  /** The user the connection is now acting as (differs from the caller's when an anonymous client resumes). */
  userId: UserId;
  role: ParticipantRole;
  name: string;
  /** Present on join and resume: the bearer secret that brings this member back. */
  resumeToken: string;
  resumed: boolean;
  /** This join started the session (its `startOnJoin`): the joiner saw no `started` event. */
  started: boolean;
  snapshot: Snapshot;
}

export interface AnswerAck {
  index: number;
  questionId: string;
  correct: boolean;
  points: number;
  /** The participant's score once this answer counted. */
  score: number;
  streak: number;
  /** True when this answer replaced an earlier one (allow_answer_change). */
  changed: boolean;
  elapsedMs: number;
  /** self_paced only: the answer is shown at once, since nobody else shares this question's clock. */
  correctAnswer: CorrectAnswer | null;
}

export interface NextResult {
  /** self_paced: the question now served to the caller, or null when they have finished. */
  served: ServedQuestion | null;
  phase: PhaseKind;
}

export interface ServedQuestion {
  index: number;
  total: number;
  question: PublicQuestion;
  servedAt: number;
  /** null when the question has no per-participant deadline (see rules T-7, S-5). */
  deadline: number | null;
}

/** What a command that only changes something answers with: the phase it left the room in. */
export interface Done {
  done: true;
  phase: PhaseKind;
}

/** What each command answers with, by command type. */
export interface CommandResults {
  join: JoinResult;
  resume: JoinResult;
  leave: Done;
  start: Done;
  /** A self_paced player is served their next question; the host's `next` advances the game. */
  next: NextResult | Done;
  end: Done;
  close: Done;
  lock: Done;
  kick: Done;
  transfer_host: Done;
  answer: AnswerAck;
  presence: Done;
  snapshot: Snapshot;
  standings: StandingsPage;
  authenticate: MemberLookup;
  lookup: MemberLookup;
}

/** The result type of one command: `execute` on a join resolves to a JoinResult, and so on. */
export type ResultOf<C extends Command> = CommandResults[C["type"]];

export type CommandResult = CommandResults[CommandType];

export interface StandingsPage {
  total: number;
  entries: Standing[];
  /** The point in the session's history the page reflects (as a snapshot's). */
  epoch: number;
  seq: number;
}

export interface MemberInfo {
  participantId: ParticipantId;
  userId: UserId;
  name: string;
  role: ParticipantRole;
  status: ParticipantStatus;
  score: number;
  rank: number | null;
}

/** Answer to `authenticate` and `lookup`: the member, or null when there is none (kicked members are none). */
export interface MemberLookup {
  member: MemberInfo | null;
}

export interface Standing {
  participantId: ParticipantId;
  userId: UserId;
  name: string;
  score: number;
  rank: number;
}

export interface PlayerResult {
  /** Whose result it is (seed 000's per_user_stats name players by user). */
  userId: UserId;
  answered: boolean;
  correct: boolean;
  points: number;
  score: number;
  rank: number;
  streak: number;
}

export interface FinalResult {
  score: number;
  rank: number;
  total: number;
}

export interface PublicParticipant {
  participantId: ParticipantId;
  userId: UserId;
  name: string;
  role: ParticipantRole;
  status: ParticipantStatus;
  connected: boolean;
  score: number;
}

/** A viewer's complete picture of a room; it replaces whatever the viewer missed. */
export interface Snapshot {
  sessionId: SessionId;
  pin: string;
  title: string;
  mode: SessionMode;
  status: SessionStatus;
  phase: PhaseView;
  questionCount: number;
  locked: boolean;
  /** Who holds host rights now (H-2, H-3). */
  hostUserId: UserId;
  settings: SessionSettings;
  playerCount: number;
  /** Players taking part now: joined, not left, connected or not connected yet (seed 001's participant_count). */
  presentCount: number;
  leaderboard: Standing[];
  /** When the game started and ended (server epoch ms), once it has. */
  startedAt: number | null;
  endedAt: number | null;
  /** Present for the viewer's own membership. */
  you: YouView | null;
  /** Host and spectators only: the players (first 500 by join order). */
  players: PublicParticipant[] | null;
  epoch: number;
  seq: number;
  serverTime: number;
}

export interface PhaseView {
  kind: PhaseKind;
  index: number | null;
  /** The question on screen (never with its answer); for self_paced, the viewer's served question. */
  question: PublicQuestion | null;
  openedAt: number | null;
  deadline: number | null;
  closed: boolean;
  until: number | null;
  endReason: EndReason | null;
  /** Why the game's clock stands still (H-1), or null while it runs. */
  paused: PauseReason | null;
  /** In reveal: what the reveal event carried. */
  reveal: RevealView | null;
}

export interface RevealView {
  correct: CorrectAnswer;
  optionCounts: number[];
  answeredCount: number;
}

export interface YouView {
  participantId: ParticipantId;
  name: string;
  role: ParticipantRole;
  score: number;
  rank: number | null;
  streak: number;
  /** The viewer's answer to the current question, if any. */
  answeredCurrent: boolean;
  /** self_paced: how many questions the viewer has answered. */
  answeredCount: number;
  finished: boolean;
}

/** Who an event is for. Doors decide which of their connections (by role) forward which event types. */
export type Audience = { kind: "all" } | { kind: "participant"; participantId: ParticipantId };

export type EventBody =
  | {
      type: "participant_joined";
      participant: PublicParticipant;
      playerCount: number;
      /** Players taking part now, this one included (Snapshot.presentCount). */
      presentCount: number;
      /** quick_fire only (its doors show everyone with every arrival): the players, as a snapshot lists them. */
      roster: PublicParticipant[] | null;
    }
  | {
      type: "participant_left";
      participantId: ParticipantId;
      userId: UserId;
      name: string;
      reason: "left" | "kicked";
      playerCount: number;
      /** Players taking part now, this one no longer (Snapshot.presentCount). */
      presentCount: number;
      /**
       * Whether they counted as here when they left: connected, or joined and not
       * connected yet. One whose last connection had closed was already gone.
       */
      present: boolean;
    }
  | {
      /** A player's first connection opened or their last one closed. */
      type: "presence";
      participantId: ParticipantId;
      userId: UserId;
      name: string;
      connected: boolean;
      /** True on the first connection the room has seen from this participant (their arrival). */
      firstConnection: boolean;
      /** Still taking part: false once they left (a closing socket after a leave is no news). */
      active: boolean;
      playerCount: number;
      /** Players taking part now, after this change (Snapshot.presentCount). */
      presentCount: number;
    }
  | { type: "player_count"; playerCount: number }
  | {
      type: "started";
      startedAt: number;
      questionCount: number;
      /** quick_fire only, as on participant_joined. */
      roster: PublicParticipant[] | null;
    }
  | {
      type: "question";
      index: number;
      total: number;
      question: PublicQuestion;
      openedAt: number;
      deadline: number | null;
    }
  | { type: "answer_count"; index: number; answered: number; players: number }
  | {
      type: "question_closed";
      index: number;
      reason: "deadline" | "all_answered" | "host" | "first_correct";
    }
  | {
      type: "reveal";
      index: number;
      questionId: string;
      correct: CorrectAnswer;
      optionCounts: number[];
      answeredCount: number;
      leaderboard: Standing[];
      totalPlayers: number;
      /** Each ranked player's own result, in rank order; doors deliver only the recipient's entry. */
      results: ReadonlyMap<ParticipantId, PlayerResult>;
      until: number | null;
      /** The next question's picture, so screens load it now and show it the moment it opens. */
      nextImage?: string;
    }
  | { type: "intermission"; index: number; until: number | null; leaderboard: Standing[] }
  | { type: "leaderboard"; leaderboard: Standing[]; totalPlayers: number; ranks: RankLookup }
  | { type: "locked"; locked: boolean }
  /** H-1: the game's clock stopped (the host is gone). `index`: the question shown, if any. */
  | { type: "paused"; reason: PauseReason; phase: PhaseKind; index: number | null }
  /**
   * H-1: the game's clock runs again; every time in the phase moved on by the pause's length.
   * `deadline`: the open question's new deadline; `until`: the reveal's or intermission's end.
   */
  | {
      type: "resumed";
      phase: PhaseKind;
      index: number | null;
      deadline: number | null;
      until: number | null;
    }
  /** H-2, H-3: host rights moved to another member. */
  | {
      type: "host_changed";
      userId: UserId;
      participantId: ParticipantId;
      previousUserId: UserId;
      reason: "transferred" | "host_disconnected";
    }
  | { type: "kicked"; participantId: ParticipantId; reason: string; until: number }
  | {
      type: "ended";
      reason: EndReason;
      leaderboard: Standing[];
      totalPlayers: number;
      results: ReadonlyMap<ParticipantId, FinalResult>;
      /** Every ranked player, best first: the final scoreboard. */
      standings: Standing[];
    }
  /** A participant's answer was accepted and stored (doors like seed 001 tell everyone's scores). */
  | {
      type: "scored";
      participantId: ParticipantId;
      userId: UserId;
      name: string;
      index: number;
      questionId: string;
      correct: boolean;
      points: number;
      score: number;
    };

export type EventType = EventBody["type"];

/** Reads a participant's current rank lazily, so only recipients that need it pay for it. */
export type RankLookup = (participantId: ParticipantId) => number | null;

export interface RoomEvent {
  sessionId: SessionId;
  epoch: number;
  seq: number;
  at: number;
  audience: Audience;
  body: EventBody;
  /** Doors cache their encoding here so a broadcast is serialized once per dialect. */
  readonly encoded: Map<string, unknown>;
}

/**
 * Receives a room's events in order. `more`: another event of the same room step follows in the
 * same synchronous run (a game's start, its ride-along player count and its first question; a
 * question's close and its reveal), so a listener may hold the event and handle the step's
 * events together when the last one (`more` false or absent) arrives.
 */
export type RoomListener = (event: RoomEvent, more?: boolean) => void;
