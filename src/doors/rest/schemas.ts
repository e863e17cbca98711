/**
 * TypeBox schemas of the REST bodies, queries and replies that no other module
 * defines. Quizzes and questions are content/quiz-format.ts's documents;
 * settings and room views come from doors/schemas; results from
 * doors/schemas/results.ts. All snake_case.
 */
import Type from "typebox";
import { QuestionDocument } from "../../content/quiz-format.js";
import { NAME_MAX } from "../../domain/names.js";
import { DIFFICULTIES, QUIZ_LIMITS } from "../../domain/quiz.js";
import { SETTINGS_LIMITS } from "../../domain/session-settings.js";
import { KickTarget } from "../schemas/kick.js";
import { ModeInput, SettingsInput, SettingsView } from "../schemas/session-settings.js";
import {
  CorrectView,
  PhaseKindView,
  SnapshotView,
  StandingView,
  StatusView,
} from "../schemas/views.js";

const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Id = Type.String({ minLength: 1, maxLength: QUIZ_LIMITS.idMax });
const Difficulty = Type.Enum([...DIFFICULTIES]);
const EpochMs = Type.Integer({ description: "server epoch milliseconds" });

// ------------------------------------------------------------------ quizzes

export const IdParams = Type.Object({ id: Id });

export const QuizSummaryView = Type.Object({
  id: Type.String(),
  title: Type.String(),
  description: Type.String(),
  question_count: Type.Integer(),
  updated_at: EpochMs,
});

export const QuizListReply = Type.Object({ quizzes: Type.Array(QuizSummaryView) });

export const QuizGetQuery = Type.Object({
  /** Include the correct answers (admin only). */
  answers: Type.Optional(Type.Boolean({ description: "include the correct answers (admin only)" })),
});

export const ImportQuery = Type.Object({
  title: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: QUIZ_LIMITS.titleMax,
      description: "the quiz title (required for text/csv)",
    }),
  ),
  description: Type.Optional(
    Type.String({ maxLength: QUIZ_LIMITS.descriptionMax, description: "text/csv only" }),
  ),
});

// ------------------------------------------------------------------ question bank

export const BankCountsReply = Type.Object({
  counts: Type.Object({ easy: Type.Integer(), medium: Type.Integer(), hard: Type.Integer() }),
});

export const BankListQuery = Type.Object({ difficulty: Type.Optional(Difficulty) });

export const BankQuestionsReply = Type.Object({ questions: Type.Array(QuestionDocument) });

export const BANK_ADD_MAX = 500;

export const BankAddBody = Type.Object({
  /** Each needs a `difficulty`; an existing id is replaced. */
  questions: Type.Array(QuestionDocument, { minItems: 1, maxItems: BANK_ADD_MAX }),
});

export const BankAddReply = Type.Object({ added: Type.Integer() });

export const DrawQuery = Type.Object({
  difficulty: Type.Optional(Difficulty),
  count: Type.Integer({ minimum: 1, maximum: QUIZ_LIMITS.questionsMax }),
});

// ------------------------------------------------------------------ sessions

export const CreateSessionBody = Type.Object(
  {
    quiz_id: Id,
    /** Overrides settings.max_participants. */
    max_participants: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: SETTINGS_LIMITS.maxParticipantsMax,
        description: "overrides settings.max_participants",
      }),
    ),
    mode: Type.Optional(ModeInput),
    settings: Type.Optional(SettingsInput),
    host_name: Type.Optional(Type.String({ minLength: 1, maxLength: NAME_MAX })),
    start_time: Type.Optional(
      Nullable(
        Type.String({
          minLength: 1,
          maxLength: 64,
          description:
            "Seed 001's start_time, ISO 8601 with a time zone (2025-11-16T10:30:00Z): the session " +
            "starts by itself then (at once when it has passed). null: the host starts it " +
            "(POST …/start), a lobby. Left out: a self_paced session starts when its first " +
            "participant joins; other modes wait for the host.",
        }),
      ),
    ),
  },
  { additionalProperties: false },
);
export type CreateSessionBody = Type.Static<typeof CreateSessionBody>;

export const CreateSessionReply = Type.Object({
  session_id: Type.String(),
  quiz_id: Type.String(),
  status: StatusView,
  mode: ModeInput,
  pin: Type.String(),
  join_url: Type.String(),
  /** Bearer credential for host control of this session (keep it secret). */
  host_token: Type.String(),
  host_participant_id: Type.String(),
  settings: SettingsView,
  /** When the session starts by itself (ISO 8601), or null when it does not have a set time. */
  start_time: Nullable(Type.String()),
  /** Whether the first participant's arrival starts it (a self_paced session created without start_time). */
  start_on_join: Type.Boolean(),
});

export const SessionListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  include_ended: Type.Optional(Type.Boolean({ default: false })),
});

export const SessionSummaryView = Type.Object({
  session_id: Type.String(),
  pin: Type.String(),
  quiz_id: Type.String(),
  title: Type.String(),
  mode: ModeInput,
  phase: PhaseKindView,
  status: StatusView,
  participant_count: Type.Integer(),
  created_at: EpochMs,
  ended_at: Nullable(EpochMs),
});

export const SessionListReply = Type.Object({ sessions: Type.Array(SessionSummaryView) });

export const SessionDetailReply = Type.Object({
  session_id: Type.String(),
  quiz_id: Type.String(),
  status: StatusView,
  mode: ModeInput,
  pin: Type.String(),
  title: Type.String(),
  phase: PhaseKindView,
  player_count: Type.Integer(),
  question_count: Type.Integer(),
  created_at: EpochMs,
  started_at: Nullable(EpochMs),
  ended_at: Nullable(EpochMs),
  /** The spectator's view while the session is loaded; null once only storage has it. */
  state: Nullable(SnapshotView),
});

export const ControlReply = Type.Object({
  session_id: Type.String(),
  status: StatusView,
  phase: PhaseKindView,
});

export const LockBody = Type.Object({ locked: Type.Boolean() }, { additionalProperties: false });

/** The player by `participant_id`, or (seed 000's `kick {user_id, reason}`) by `user_id`. */
export const KickBody = KickTarget;

export const JoinBody = Type.Object(
  { display_name: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);

export const JoinReply = Type.Object({
  participant_id: Type.String(),
  user_id: Type.String(),
  name: Type.String(),
  /** Bearer credential for this participant's answers (and for resuming over WebSocket). */
  resume_token: Type.String(),
  session_id: Type.String(),
});

/** Exactly one of question_index / question_id, and exactly one of choice / choices / text. */
export const AnswerBody = Type.Object(
  {
    question_index: Type.Optional(
      Type.Integer({ minimum: 0, maximum: QUIZ_LIMITS.questionsMax - 1 }),
    ),
    question_id: Type.Optional(Id),
    choice: Type.Optional(Type.Integer({ minimum: 0, maximum: QUIZ_LIMITS.optionsMax - 1 })),
    choices: Type.Optional(
      Type.Array(Type.Integer({ minimum: 0, maximum: QUIZ_LIMITS.optionsMax - 1 }), {
        minItems: 1,
        maxItems: QUIZ_LIMITS.optionsMax,
      }),
    ),
    text: Type.Optional(Type.String({ minLength: 1, maxLength: QUIZ_LIMITS.acceptedTextMax })),
  },
  { additionalProperties: false },
);
export type AnswerBody = Type.Static<typeof AnswerBody>;

export const IDEMPOTENCY_KEY_MAX = 200;

/** Optional request headers of POST /answers. */
export const AnswerHeaders = Type.Object({
  "idempotency-key": Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: IDEMPOTENCY_KEY_MAX,
      description:
        "Optional. Any string you choose per answer (a UUID, say). Sending the same answer again " +
        "with the same key (after a timeout or a lost connection) has no second effect and " +
        "returns the first acknowledgement (A-6), whichever server the retry reaches. Keys are " +
        "per participant and remembered for a couple of minutes.",
    }),
  ),
});

export const AnswerReply = Type.Object({
  index: Type.Integer(),
  question_id: Type.String(),
  accepted: Type.Literal(true),
  correct: Type.Boolean(),
  points: Type.Integer(),
  score: Type.Integer(),
  streak: Type.Integer(),
  changed: Type.Boolean(),
  elapsed_ms: Type.Integer(),
  /** self_paced only: the correct answer, shown at once. */
  correct_answer: Nullable(CorrectView),
});

export const LeaderboardQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 10 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
});

export const LeaderboardReply = Type.Object({
  session_id: Type.String(),
  /** Ranked players in all. */
  total: Type.Integer(),
  leaderboard: Type.Array(StandingView),
});

export const PinParams = Type.Object({ pin: Type.String({ pattern: "^[0-9]{6}$" }) });

export const RoomByPinReply = Type.Object({
  room_id: Type.String(),
  title: Type.String(),
  mode: ModeInput,
  status: StatusView,
  locked: Type.Boolean(),
  player_count: Type.Integer(),
});

// ------------------------------------------------------------------ one user's data (admin)

export const UserParams = Type.Object({
  user_id: Type.String({ minLength: 1, maxLength: 200, description: "the stored user id" }),
});

/** A stored answer in the request's own form: exactly one of the three fields. */
export const UserAnswerView = Type.Object({
  choice: Type.Optional(Type.Integer()),
  choices: Type.Optional(Type.Array(Type.Integer())),
  text: Type.Optional(Type.String()),
});

export const UserSessionView = Type.Object({
  session_id: Type.String(),
  quiz_id: Type.String(),
  title: Type.String(),
  mode: ModeInput,
  phase: PhaseKindView,
  created_at: EpochMs,
  started_at: Nullable(EpochMs),
  ended_at: Nullable(EpochMs),
  /** The user hosted this session. */
  hosted: Type.Boolean(),
  participant: Nullable(
    Type.Object({
      participant_id: Type.String(),
      name: Type.String(),
      role: Type.String(),
      status: Type.String(),
      score: Type.Integer(),
      joined_at: EpochMs,
      kick_reason: Nullable(Type.String()),
    }),
  ),
  answers: Type.Array(
    Type.Object({
      question_index: Type.Integer(),
      question_id: Type.String(),
      answer: UserAnswerView,
      correct: Type.Boolean(),
      points: Type.Integer(),
      elapsed_ms: Type.Integer(),
      received_at: EpochMs,
    }),
  ),
  bans: Type.Array(Type.Object({ until: EpochMs, reason: Type.String() })),
});

export const UserDataReply = Type.Object({
  user_id: Type.String(),
  sessions: Type.Array(UserSessionView),
});

export const UserEraseReply = Type.Object({
  user_id: Type.String(),
  /** Ended sessions the user was erased from. */
  sessions_erased: Type.Integer(),
});
