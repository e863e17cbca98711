import type { ParticipantId, QuizId, SessionId, UserId } from "../domain/ids.js";
import type { Phase } from "../domain/phase.js";
import type { AnswerValue, Difficulty, Question, Quiz, QuizSummary } from "../domain/quiz.js";
import type { SessionSettings } from "../domain/session-settings.js";

/** Quizzes written by hosts (and the demo content). */
export interface QuizStore {
  list(): Promise<QuizSummary[]>;
  get(id: QuizId): Promise<Quiz | undefined>;
  /** Creates or replaces the quiz with this id, questions included. */
  put(quiz: Quiz): Promise<void>;
  /** Resolves true when a quiz was deleted. Sessions keep their own copy of the questions. */
  delete(id: QuizId): Promise<boolean>;
}

/** The pool quick-fire contests draw their questions from (seed 004). */
export interface QuestionBankStore {
  /** Adds or replaces questions by id. */
  put(questions: readonly Question[]): Promise<void>;
  list(filter?: { difficulty?: Difficulty }): Promise<Question[]>;
  countByDifficulty(): Promise<Record<Difficulty, number>>;
}

/** A picture uploaded for questions; its id is the SHA-256 of its bytes (content/image-ref.ts). */
export interface StoredImage {
  id: string;
  /** Read from the bytes when it was uploaded (one of IMAGE_TYPES), never from a file name. */
  contentType: string;
  bytes: Uint8Array;
  createdAt: number;
}

/** Uploaded pictures, stored in the database so every instance of a cluster serves them. */
export interface ImageStore {
  /** Stores the image; the same bytes stored again (same id) keep the first row. */
  put(image: StoredImage): Promise<void>;
  get(id: string): Promise<StoredImage | undefined>;
  /** Which of `ids` are stored (a quiz may name only images that exist). */
  existing(ids: readonly string[]): Promise<Set<string>>;
}

/** Small server-wide values that must survive restarts (e.g. a generated signing secret). */
export interface MetaStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  /**
   * Stores `value` unless `key` already has one, and resolves with the value that is stored: the
   * first writer's when several instances race to create the same secret.
   */
  setIfAbsent(key: string, value: string): Promise<string>;
}

export type ParticipantRole = "player" | "host";
export type ParticipantStatus = "active" | "left" | "kicked";

export interface SessionRecord {
  id: SessionId;
  pin: string;
  quizId: QuizId;
  title: string;
  settings: SessionSettings;
  /** The questions as they were when the session was created; later quiz edits do not reach it. */
  questions: Question[];
  hostUserId: UserId;
  createdAt: number;
  state: SessionStateRecord;
}

/** The part of a session that changes as it runs. */
export interface SessionStateRecord {
  phase: Phase;
  locked: boolean;
  /** Incremented each time a server takes the session over (start-up resume, failover). */
  epoch: number;
  /** Last event sequence number the session had emitted when this was written. */
  seq: number;
  startedAt: number | null;
  endedAt: number | null;
  /**
   * The latest host and player commands that carried a client message identity, with the reply
   * each got: a retry reaching a new owner after a takeover gets that reply, not a second effect
   * . Bounded; absent when empty.
   */
  recentRequests?: RecentRequest[];
  /**
   * Who holds host rights now, when it is written (a host handed over, H-2/H-3, is stored here
   * and read back as the session's `hostUserId`). Absent: the session's `hostUserId`.
   */
  hostUserId?: UserId;
}

export interface RecentRequest {
  key: string;
  /** The reply as JSON. */
  reply: string;
}

export interface ParticipantRecord {
  id: ParticipantId;
  sessionId: SessionId;
  userId: UserId;
  name: string;
  role: ParticipantRole;
  /** Order of arrival within the session; breaks ties between equal zero scores. */
  joinOrder: number;
  joinedAt: number;
  status: ParticipantStatus;
  /** SHA-256 of the resume token; the token itself is only ever in the client's hands. */
  resumeTokenHash: string;
  score: number;
  kickReason: string | null;
}

export interface AnswerRecord {
  sessionId: SessionId;
  participantId: ParticipantId;
  questionIndex: number;
  questionId: string;
  answer: AnswerValue;
  correct: boolean;
  /** Points this answer earned, streak bonus included; a participant's score is the sum. */
  points: number;
  /** Server-measured time from the question opening (or being served) to receipt. */
  elapsedMs: number;
  receivedAt: number;
  /** Per-session order in which answers were accepted; breaks ties between equal scores. */
  seq: number;
  /**
   * The client message identity the answer arrived with (user + message id), when it had one:
   * a retry of that message gets this answer's acknowledgement back, even on another instance.
   */
  requestKey?: string;
}

export interface ServedRecord {
  sessionId: SessionId;
  participantId: ParticipantId;
  questionIndex: number;
  servedAt: number;
}

export interface BanRecord {
  sessionId: SessionId;
  userId: UserId;
  until: number;
  reason: string;
}

export interface StandingRecord {
  participantId: ParticipantId;
  score: number;
  rank: number;
}

/**
 * One change to a session. A batch of them is applied atomically and in order;
 * the answer writes in a batch are what an acknowledgement waits for.
 */
export type SessionWrite =
  | { kind: "session_created"; session: SessionRecord }
  | { kind: "session_state"; sessionId: SessionId; state: SessionStateRecord }
  | { kind: "participant_put"; participant: ParticipantRecord }
  /** Inserts or replaces the answer for (session, participant, question) and sets the participant's score. */
  | { kind: "answer_put"; answer: AnswerRecord; participantScore: number }
  | { kind: "served_put"; served: ServedRecord }
  | { kind: "ban_put"; ban: BanRecord }
  /** Final score and rank of every player, written when the session ends. */
  | { kind: "standings_put"; sessionId: SessionId; standings: StandingRecord[] };

/** Everything needed to rebuild a session in memory or to report its results. */
export interface SessionBundle {
  session: SessionRecord;
  participants: ParticipantRecord[];
  /** In `seq` order. */
  answers: AnswerRecord[];
  served: ServedRecord[];
  bans: BanRecord[];
  /** Empty until the session has ended. */
  standings: StandingRecord[];
}

export interface SessionSummary {
  id: SessionId;
  pin: string;
  quizId: QuizId;
  title: string;
  mode: SessionSettings["mode"];
  phase: Phase["kind"];
  participantCount: number;
  createdAt: number;
  endedAt: number | null;
}

/**
 * What a retention sweep deletes (seed 001 §12.4, seed 003 §12.6), by when sessions ended.
 * Null leaves that part alone. Sessions that have not ended are never touched.
 */
export interface PurgeCutoffs {
  /** Sessions that ended before this lose their answers, served questions and bans. */
  detailsEndedBefore: number | null;
  /** Sessions that ended before this are deleted whole. */
  sessionsEndedBefore: number | null;
}

export interface PurgeResult {
  /** Answers deleted from sessions kept (their details' retention passed). */
  answersDeleted: number;
  /** Sessions deleted whole, with everything in them. */
  sessionsDeleted: number;
}

/** One session as it concerns one user, for a data export. */
export interface UserSessionData {
  sessionId: SessionId;
  quizId: QuizId;
  title: string;
  mode: SessionSettings["mode"];
  phase: Phase["kind"];
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  /** The user is the session's host. */
  hosted: boolean;
  /** Their membership (player or host), if they had one. */
  participant: ParticipantRecord | null;
  /** Their answers, in seq order. */
  answers: AnswerRecord[];
  /** Their bans from this session. */
  bans: BanRecord[];
}

/**
 * A write was refused because its session now runs at a higher epoch: another
 * instance took the session over, and the writer must stop acting for it.
 */
export class FencedError extends Error {
  constructor(
    readonly sessionId: SessionId,
    readonly writerEpoch: number,
    readonly storedEpoch: number,
  ) {
    super(
      `session ${sessionId} is at epoch ${storedEpoch}; a writer at epoch ${writerEpoch} is fenced out`,
    );
    this.name = "FencedError";
  }
}

/**
 * The database is known to be unreachable (its circuit breaker is open): the call was refused at
 * once, without waiting for the database, and nothing was done. Retryable after `retryAfterMs`.
 * `statusCode` makes any HTTP door answer it 503 UNAVAILABLE.
 */
export class StorageUnavailableError extends Error {
  readonly statusCode = 503;
  readonly code = "UNAVAILABLE";

  constructor(readonly retryAfterMs: number) {
    super(`the database is unavailable; retry in ${Math.ceil(retryAfterMs / 1000)} s`);
    this.name = "StorageUnavailableError";
  }
}

export interface SessionStore {
  /**
   * Applies the writes in one transaction, in order. Resolves only once they are durable.
   * `fences` maps sessions to the epoch the writer runs them at: when a session is stored at a
   * higher epoch the whole batch is refused with FencedError and nothing is applied.
   */
  write(
    batch: readonly SessionWrite[],
    fences?: ReadonlyMap<SessionId, number>,
    mark?: CommitMark,
  ): Promise<void>;
  /**
   * Moves a session from epoch `from` to `to` if it is still at `from` (compare-and-set):
   * how a new owner fences out the previous one before loading the session.
   */
  claim(id: SessionId, from: number, to: number): Promise<boolean>;
  /** The epoch a session is stored at, without loading it; undefined when there is no such session. */
  epochOf(id: SessionId): Promise<number | undefined>;
  load(id: SessionId): Promise<SessionBundle | undefined>;
  /** Ids of every session that has not ended, oldest first: what a starting server resumes. */
  listOpen(): Promise<SessionId[]>;
  list(options: { limit: number; includeEnded: boolean }): Promise<SessionSummary[]>;
  /** Deletes what ended sessions keep past their retention (see PurgeCutoffs). */
  purgeEnded(cutoffs: PurgeCutoffs): Promise<PurgeResult>;
  /** Every session that concerns the user (member or host), oldest first: what a data export shows. */
  userData(userId: UserId): Promise<UserSessionData[]>;
  /**
   * Erases the user from every ended session: their memberships, answers, served questions and
   * bans are deleted, and a session they hosted keeps no host id. Sessions still open are left
   * alone (their room would write the user back). Resolves with how many sessions changed.
   */
  eraseUser(userId: UserId): Promise<number>;
}

/**
 * A meta entry written in the same transaction as a batch: a caller that lost the reply (the
 * SQLite worker died between commit and answer) reads it back to learn whether the batch
 * committed, instead of reporting a committed write as failed.
 */
export interface CommitMark {
  key: string;
  value: string;
}

/** The embedded or external database behind every store. */
export interface Storage {
  readonly quizzes: QuizStore;
  readonly bank: QuestionBankStore;
  readonly sessions: SessionStore;
  readonly meta: MetaStore;
  readonly images: ImageStore;
  /** Round-trip to the database, for readiness checks. Rejects when it is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Settles now the calls whose results have already arrived but wait for the event loop to
   * deliver them (the SQLite worker thread's replies). Optional: storage whose results come
   * another way has nothing to do.
   */
  settleArrived?(): void;
}
