/**
 * Seed 004's quick-fire contest dialect: every REST body and reply and every
 * WebSocket message of the door, and nothing else defines them. The gateway
 * and the routes validate with these schemas; docs/protocols/seed-004.md is
 * checked against them by test/unit/seed004-protocol-doc.test.ts.
 *
 * Message and field names are the seed's own (`PLAYER_JOINED`, `question_id`,
 * …). Client messages carry their fields at the top level, as the seed shows
 * them; server messages are `{ "type": …, "payload": { … } }`.
 */
import Type from "typebox";
import { Compile } from "typebox/compile";
import { ERROR_CODES, type ErrorCode } from "../../domain/errors.js";
import { DIFFICULTIES, QUIZ_LIMITS } from "../../domain/quiz.js";
import { readJsonFrame } from "../ws-kit/json-frame.js";
import { compileMessages, messageTypeGuard } from "../ws-kit/validators.js";

/** WebSocket path prefix: `/ws/contests/{contestId}`. */
export const CONTEST_PATH_PREFIX = "/ws/contests/";
/** Largest frame a client may send (like the canonical door). */
export const MAX_FRAME_BYTES = 10 * 1024;
/** A contest closes this long after GAME_OVER (the seed's `time.AfterFunc(10*time.Second, …)`). */
export const CLOSE_AFTER_MS = 10_000;
/** Lifetime of a token from POST /login (the seed's 2 hours). */
export const LOGIN_TOKEN_TTL_SECONDS = 2 * 3600;
/** Longest username POST /login accepts (it becomes part of the user id). */
export const USERNAME_MAX = 64;
/** Most questions one contest may ask for. */
export const QUESTION_COUNT_MAX = QUIZ_LIMITS.questionsMax;

/** Close codes of this door. */
export const CLOSE_CODES = {
  /** The contest closed 10 s after GAME_OVER. */
  contestClosed: 1000,
  /** The server is shutting down; reconnect. */
  goingAway: 1001,
  /** A frame far beyond the size limit. */
  tooBig: 1009,
  /** The server failed to let the connection in (a bug); reconnect. */
  internalError: 1011,
  /** The connection kept sending invalid messages. */
  protocolViolations: 4002,
  /** The host (or an admin) removed this player. */
  kicked: 4003,
  /** Too many messages, or the client reads too slowly to keep up. */
  rateLimited: 4008,
  /** Joining the contest was refused (full, banned, …); an ERROR frame came just before. */
  joinRefused: 4009,
  /** No pong to the server's ping. */
  heartbeatTimeout: 4010,
} as const;

const ContestId = Type.String({ minLength: 1, maxLength: 64 });

// ---------------------------------------------------------------------------------------- REST

/** POST /login body. The password is not checked (development login, as in the seed). */
export const LoginBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: USERNAME_MAX }),
  password: Type.Optional(Type.String({ maxLength: 1024 })),
});
export type LoginBody = Type.Static<typeof LoginBody>;

export const LoginReply = Type.Object({
  /** HS256 JWT with claims user_id, username, sub and exp (2 h). */
  token: Type.String(),
  user_id: Type.String(),
  username: Type.String(),
});
export type LoginReply = Type.Static<typeof LoginReply>;

/** POST /api/contests body (Authorization: Bearer <jwt>). */
export const CreateContestBody = Type.Object({
  difficulty: Type.Enum([...DIFFICULTIES]),
  question_count: Type.Integer({ minimum: 1, maximum: QUESTION_COUNT_MAX }),
});
export type CreateContestBody = Type.Static<typeof CreateContestBody>;

export const CreateContestReply = Type.Object({
  contest_id: ContestId,
  /** Relative: "/ws/contests/<contest_id>"; connect with ?token=<jwt>. */
  websocket_url: Type.String(),
});
export type CreateContestReply = Type.Static<typeof CreateContestReply>;

/** The REST endpoints of this door, with their request and success bodies (for the doc check). */
export const REST_ENDPOINTS = {
  "POST /login": { request: LoginBody, response: LoginReply },
  "POST /api/contests": { request: CreateContestBody, response: CreateContestReply },
} as const;
export type RestEndpoint = keyof typeof REST_ENDPOINTS;

// ------------------------------------------------------------------------------ client messages

/**
 * Client → server messages, whole. Unknown extra fields are ignored (an
 * existing client may send more than the seed shows); the listed ones are checked.
 */
export const ClientMessages = {
  /** Host only: start the contest. */
  START_GAME: Type.Object({ type: Type.Literal("START_GAME") }),
  /** `answer` is the chosen option's text, compared like a typed answer (rule A-3). */
  SUBMIT_ANSWER: Type.Object({
    type: Type.Literal("SUBMIT_ANSWER"),
    question_id: Type.String({ minLength: 1, maxLength: QUIZ_LIMITS.idMax }),
    answer: Type.String({ minLength: 1, maxLength: QUIZ_LIMITS.acceptedTextMax }),
  }),
} as const;

export type ClientType = keyof typeof ClientMessages;
export type ClientMessage<T extends ClientType = ClientType> = Type.Static<
  (typeof ClientMessages)[T]
>;
export const CLIENT_TYPES = Object.keys(ClientMessages) as ClientType[];

/** What every client frame must be before its type is known. */
export const ClientEnvelope = Type.Object({ type: Type.String({ minLength: 1, maxLength: 32 }) });

// ------------------------------------------------------------------------------ server messages

/** One player as rosters and scoreboards show them. */
export const PlayerState = Type.Object({
  user_id: Type.String(),
  /** The player's name in this contest (the token's username, suffixed on a clash). */
  username: Type.String(),
  score: Type.Integer(),
  is_host: Type.Boolean(),
});
export type PlayerState = Type.Static<typeof PlayerState>;

export const ScoreboardEntry = Type.Object({
  user_id: Type.String(),
  username: Type.String(),
  score: Type.Integer(),
  is_host: Type.Boolean(),
  /** 1, 2, 3, … (rules L-1, L-2). */
  rank: Type.Integer({ minimum: 1 }),
});
export type ScoreboardEntry = Type.Static<typeof ScoreboardEntry>;

export const QuestionSummary = Type.Object({
  question_id: Type.String(),
  question_text: Type.String(),
  correct_answer: Type.String(),
});

const ErrorCodeSchema = Type.Enum(Object.keys(ERROR_CODES) as ErrorCode[]);

/** Server → client messages: the `payload` of each type. */
export const ServerPayloads = {
  PLAYER_JOINED: Type.Object({
    user_id: Type.String(),
    username: Type.String(),
    is_host: Type.Boolean(),
    player_count: Type.Integer({ minimum: 0 }),
    players: Type.Array(PlayerState),
  }),
  CONTEST_STARTED: Type.Object({
    message: Type.String(),
    total_questions: Type.Integer({ minimum: 1 }),
    players: Type.Array(PlayerState),
  }),
  NEW_QUESTION: Type.Object({
    question_number: Type.Integer({ minimum: 1 }),
    total_questions: Type.Integer({ minimum: 1 }),
    question_id: Type.String(),
    question_text: Type.String(),
    options: Type.Array(Type.String()),
    /** Whole seconds left to answer (15 for a fresh question). */
    timer: Type.Integer({ minimum: 0 }),
  }),
  /** To the answerer only, once the answer is stored (rule A-5). */
  ANSWER_RESULT: Type.Union([
    Type.Object(
      {
        is_correct: Type.Literal(true),
        points_awarded: Type.Integer({ minimum: 0 }),
        /** Seconds from the question opening to the answer's arrival, measured by the server (S-5). */
        time_taken: Type.Number({ minimum: 0 }),
        new_score: Type.Integer(),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      { is_correct: Type.Literal(false), correct_answer: Type.String() },
      { additionalProperties: false },
    ),
  ]),
  SCORE_UPDATE: Type.Object({
    user_id: Type.String(),
    username: Type.String(),
    score: Type.Integer(),
    points_earned: Type.Integer({ minimum: 0 }),
  }),
  GAME_OVER: Type.Object({
    message: Type.String(),
    final_scoreboard: Type.Array(ScoreboardEntry),
    questions: Type.Array(QuestionSummary),
  }),
  /** Not in the seed: a refused or invalid message. */
  ERROR: Type.Object({
    code: ErrorCodeSchema,
    message: Type.String(),
    reason: Type.Optional(Type.String()),
    retry_after_ms: Type.Optional(Type.Integer({ minimum: 0 })),
  }),
} as const;

export type ServerType = keyof typeof ServerPayloads;
export type ServerPayload<T extends ServerType> = Type.Static<(typeof ServerPayloads)[T]>;
export const SERVER_TYPES = Object.keys(ServerPayloads) as ServerType[];

/** A whole server frame of one type: `{ "type": T, "payload": … }`. */
function serverFrame<T extends ServerType>(type: T) {
  return Type.Object(
    { type: Type.Literal(type), payload: ServerPayloads[type] },
    { additionalProperties: false },
  );
}

export const ServerMessages = Object.fromEntries(SERVER_TYPES.map((t) => [t, serverFrame(t)])) as {
  [T in ServerType]: ReturnType<typeof serverFrame<T>>;
};

export interface ServerFrame<T extends ServerType = ServerType> {
  type: T;
  payload: ServerPayload<T>;
}
export type AnyServerFrame = { [T in ServerType]: ServerFrame<T> }[ServerType];

// ------------------------------------------------------------------------------------ validators

export const envelopeValidator = Compile(ClientEnvelope);
export const clientValidators = compileMessages(ClientMessages);
export const serverValidators = compileMessages(ServerMessages);
export const isClientType = messageTypeGuard(ClientMessages);

/** The contest id in a WebSocket path, or null when the path is not this door's. */
export function contestIdOf(path: string): string | null {
  if (!path.startsWith(CONTEST_PATH_PREFIX)) return null;
  const id = path.slice(CONTEST_PATH_PREFIX.length);
  return id.length > 0 && !id.includes("/") ? id : null;
}

/** A client frame that failed a check: what to tell the client, and why. */
export interface DecodeFailure {
  ok: false;
  message: string;
  reason: "bad_json" | "frame_too_large" | "bad_message" | "unknown_type" | "bad_data";
}

/**
 * The typed decoder at the edge: binary, size, JSON, a `type` this door knows,
 * then that type's schema. The first failure is reported.
 */
export function decodeClientFrame(
  data: Buffer,
  isBinary: boolean,
  maxBytes: number,
): { ok: true; message: ClientMessage } | DecodeFailure {
  const fail = (message: string, reason: DecodeFailure["reason"]) =>
    ({ ok: false, message, reason }) as const;
  const read = readJsonFrame(data, isBinary, maxBytes);
  if (!read.ok) {
    if (read.problem === "binary") return fail("binary frames are not accepted", "bad_json");
    if (read.problem === "not_json") return fail("frame is not valid JSON", "bad_json");
    return fail(
      `frame of ${read.bytes} bytes exceeds the ${maxBytes}-byte limit`,
      "frame_too_large",
    );
  }
  const value = read.value;
  if (!envelopeValidator.Check(value) || Array.isArray(value)) {
    return fail('a message is a JSON object with a string "type"', "bad_message");
  }
  const type = value.type;
  if (!isClientType(type)) return fail(`unknown message type "${type}"`, "unknown_type");
  const validator = clientValidators[type];
  if (!validator.Check(value)) {
    const first = validator.Errors(value)[0];
    const where = first ? `${first.instancePath.slice(1) || "message"} ${first.message}` : "";
    return fail(`invalid ${type}: ${where}`.trim(), "bad_data");
  }
  // Checked against the schema of its own type just above.
  return { ok: true, message: value as ClientMessage };
}
