/**
 * The seed 001 / 003 vocabulary-quiz dialect: every client and server message
 * of `ws://HOST/ws?user_id=…`, its error codes and its limits. This module is
 * the one source of those shapes: the gateway validates with it and
 * docs/protocols/seed-001.md is checked against it by
 * test/unit/seed001-protocol-doc.test.ts.
 */
import Type from "typebox";
import { Compile } from "typebox/compile";
import { readJsonFrame } from "../ws-kit/json-frame.js";

export { CLOSE_CODES } from "../canonical/constants.js";

/** The dialect's path: plain `/ws` (the canonical door is on `/ws/v1`). */
export const SEED001_PATH = "/ws";
/** Largest frame a client may send (seed 001 §12.1, seed 003 §12.4). */
export const MAX_FRAME_BYTES = 10 * 1024;
export const MESSAGE_ID_MAX = 64;
/** Longest `user_id` query parameter accepted at the upgrade. */
export const USER_ID_MAX = 64;
/** `time_taken_ms` range (seed 003 §12.4: `min=0,max=300000`). */
export const TIME_TAKEN_MAX_MS = 300_000;
/** Longest `answer` (seed 003 §12.4: `max=1000`). */
export const ANSWER_MAX = 1000;
/** Longest `username` (seed 001 §5.2: `VARCHAR(100)`); the engine then applies N-1 (24). */
export const USERNAME_MAX = 100;
/** LEADERBOARD_UPDATED lists the top 100 (seed 001 §4.2), whatever its cause. */
export const LEADERBOARD_TOP = 100;
const ID_MAX = 128;

const SessionId = Type.String({ minLength: 1, maxLength: ID_MAX });
/** ISO 8601 in UTC, as the seed's examples show ("2025-11-16T10:30:05Z"; milliseconds may follow). */
const IsoTime = Type.String({ format: "date-time" });
const Status = Type.Enum(["waiting", "active", "completed"]);

/**
 * The envelope of every client message (seed 001 §6.1). `payload` is checked
 * per type afterwards; `timestamp` is accepted and ignored (the server is the
 * only clock, T-1).
 */
export const ClientEnvelope = Type.Object({
  type: Type.String({ minLength: 1, maxLength: 64 }),
  payload: Type.Optional(Type.Object({})),
  timestamp: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Number()])),
  message_id: Type.Optional(Type.String({ minLength: 1, maxLength: MESSAGE_ID_MAX })),
});
export type ClientEnvelope = Type.Static<typeof ClientEnvelope>;

/** Client → server messages (seed 001 §6.2): the `payload` of each type. Unknown fields are ignored. */
export const ClientMessages = {
  JOIN_SESSION: Type.Object({
    session_id: SessionId,
    /** Optional: the seed's own load-test script leaves it out (the user id is used instead). */
    username: Type.Optional(Type.String({ minLength: 1, maxLength: USERNAME_MAX })),
  }),
  SUBMIT_ANSWER: Type.Object({
    session_id: SessionId,
    question_id: Type.String({ minLength: 1, maxLength: ID_MAX }),
    answer: Type.String({ minLength: 1, maxLength: ANSWER_MAX }),
    /** Validated, never used for scoring (S-5). */
    time_taken_ms: Type.Integer({ minimum: 0, maximum: TIME_TAKEN_MAX_MS }),
  }),
  LEAVE_SESSION: Type.Object({ session_id: SessionId }),
  PING: Type.Object({}),
} as const;

export type ClientType = keyof typeof ClientMessages;
export type ClientPayload<T extends ClientType> = Type.Static<(typeof ClientMessages)[T]>;
export const CLIENT_TYPES = Object.keys(ClientMessages) as ClientType[];

/** A client message once decoded: its envelope, with `payload` checked against its type's schema. */
export type ClientMessage = {
  [T in ClientType]: { type: T; payload: ClientPayload<T>; message_id?: string };
}[ClientType];

/**
 * Error codes of this dialect, each with whether the client can recover: true
 * when the same request can succeed later or after something the protocol
 * lets the client do (wait, join first, pick another name), false when it
 * will not succeed as sent. docs/protocols/seed-001.md lists each.
 */
export const ERROR_CODES = {
  INVALID_SESSION: { recoverable: false },
  SESSION_FULL: { recoverable: false },
  SESSION_NOT_ACTIVE: { recoverable: true },
  SESSION_COMPLETED: { recoverable: false },
  NOT_JOINED: { recoverable: true },
  INVALID_QUESTION: { recoverable: false },
  INVALID_ANSWER: { recoverable: true },
  ALREADY_ANSWERED: { recoverable: false },
  QUESTION_CLOSED: { recoverable: false },
  USERNAME_TAKEN: { recoverable: true },
  INVALID_USERNAME: { recoverable: true },
  ACCESS_DENIED: { recoverable: false },
  REQUEST_REFUSED: { recoverable: false },
  MALFORMED_MESSAGE: { recoverable: false },
  UNKNOWN_MESSAGE_TYPE: { recoverable: false },
  INVALID_PAYLOAD: { recoverable: false },
  MESSAGE_TOO_LARGE: { recoverable: false },
  RATE_LIMITED: { recoverable: true },
  SERVICE_UNAVAILABLE: { recoverable: true },
  INTERNAL_ERROR: { recoverable: true },
} as const satisfies Record<string, { recoverable: boolean }>;

export type Seed001ErrorCode = keyof typeof ERROR_CODES;
export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as Seed001ErrorCode[];

const LeaderboardEntry = Type.Object({
  rank: Type.Integer({ minimum: 1 }),
  user_id: Type.String(),
  username: Type.String(),
  score: Type.Integer(),
});

const Membership = Type.Object({
  user_id: Type.String(),
  username: Type.String(),
  participant_count: Type.Integer({ minimum: 0 }),
  /**
   * Addition, big sessions only: how many arrivals (USER_JOINED) or departures
   * (USER_LEFT) this one message stands for; it names the latest of them.
   */
  batch_size: Type.Optional(Type.Integer({ minimum: 2 })),
});

/** Server → client messages (seed 001 §6.3, plus the additions docs/protocols/seed-001.md lists). */
export const ServerMessages = {
  SESSION_JOINED: Type.Object({
    session_id: Type.String(),
    quiz_id: Type.String(),
    status: Status,
    participant_count: Type.Integer({ minimum: 0 }),
    your_score: Type.Integer(),
    /** Addition: the name the session knows you by (a rejoin keeps the first one). */
    username: Type.String(),
    /** Addition: true when this user was already a participant (a reconnect). */
    rejoined: Type.Boolean(),
  }),
  SCORE_UPDATED: Type.Object({
    user_id: Type.String(),
    new_score: Type.Integer(),
    points_earned: Type.Integer(),
    is_correct: Type.Boolean(),
    question_id: Type.String(),
    /** Addition: the server-measured answer time the points were computed from (S-5). */
    elapsed_ms: Type.Integer({ minimum: 0 }),
  }),
  LEADERBOARD_UPDATED: Type.Object({
    session_id: Type.String(),
    leaderboard: Type.Array(LeaderboardEntry),
    /** null only for a recipient who is not ranked. */
    your_rank: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
    total_participants: Type.Integer({ minimum: 0 }),
  }),
  USER_JOINED: Membership,
  USER_LEFT: Membership,
  ERROR: Type.Object({
    code: Type.Enum(ERROR_CODE_LIST),
    message: Type.String(),
    recoverable: Type.Boolean(),
    /** Addition, RATE_LIMITED only: how long to wait before retrying. */
    retry_after_ms: Type.Optional(Type.Integer({ minimum: 0 })),
  }),
  PONG: Type.Object({ server_time: IsoTime }),
  /** Addition: the reply to LEAVE_SESSION. */
  SESSION_LEFT: Type.Object({ session_id: Type.String() }),
  /** Addition (seed 001 §4.5's SESSION_STARTED): the session became active. */
  SESSION_STARTED: Type.Object({
    session_id: Type.String(),
    status: Type.Literal("active"),
    started_at: IsoTime,
  }),
  /** Addition (seed 001 §4.5's SESSION_ENDED): the session completed. */
  SESSION_ENDED: Type.Object({
    session_id: Type.String(),
    status: Type.Literal("completed"),
    reason: Type.Enum(["finished", "host_ended", "closed", "expired"]),
  }),
} as const;

export type ServerType = keyof typeof ServerMessages;
export type ServerPayload<T extends ServerType> = Type.Static<(typeof ServerMessages)[T]>;
export const SERVER_TYPES = Object.keys(ServerMessages) as ServerType[];

/** A server message as it goes on the wire. */
export interface ServerFrame<T extends ServerType = ServerType> {
  type: T;
  payload: ServerPayload<T>;
  /** When the server sent it (room events: when the room emitted them), ISO 8601. */
  timestamp: string;
  /** On a reply: the `message_id` of the request it answers, when the request had one. */
  message_id?: string;
}

export const envelopeValidator = Compile(ClientEnvelope);
export const clientValidators = Object.fromEntries(
  CLIENT_TYPES.map((t) => [t, Compile(ClientMessages[t])]),
) as { [T in ClientType]: ReturnType<typeof Compile<(typeof ClientMessages)[T]>> };
export const serverValidators = Object.fromEntries(
  SERVER_TYPES.map((t) => [t, Compile(ServerMessages[t])]),
) as { [T in ServerType]: ReturnType<typeof Compile<(typeof ServerMessages)[T]>> };

export function isClientType(type: string): type is ClientType {
  return Object.hasOwn(ClientMessages, type);
}

/** A client message that failed a check: the seed's error code and words, and its message_id if any. */
export interface DecodeFailure {
  ok: false;
  messageId: string | null;
  code: Extract<
    Seed001ErrorCode,
    "MALFORMED_MESSAGE" | "MESSAGE_TOO_LARGE" | "UNKNOWN_MESSAGE_TYPE" | "INVALID_PAYLOAD"
  >;
  message: string;
}

/**
 * The typed decoder at the edge: binary, size, JSON, envelope, type and
 * payload checks, in that order; the first failure is reported.
 */
export function decodeClientFrame(
  data: Buffer,
  isBinary: boolean,
  maxBytes: number,
): { ok: true; message: ClientMessage } | DecodeFailure {
  const bad = (code: DecodeFailure["code"], message: string, messageId: string | null = null) =>
    ({ ok: false, messageId, code, message }) as const;
  const read = readJsonFrame(data, isBinary, maxBytes);
  if (!read.ok) {
    if (read.problem === "binary") {
      return bad("MALFORMED_MESSAGE", "Binary frames are not accepted; send JSON text");
    }
    if (read.problem === "not_json") return bad("MALFORMED_MESSAGE", "Message is not valid JSON");
    return bad(
      "MESSAGE_TOO_LARGE",
      `Message of ${read.bytes} bytes exceeds the ${maxBytes}-byte limit`,
    );
  }
  const value = read.value;
  if (!envelopeValidator.Check(value)) {
    const given = (value as { message_id?: unknown } | null)?.message_id;
    const first = envelopeValidator.Errors(value)[0];
    const where = first ? `${first.instancePath || "message"} ${first.message}` : "bad envelope";
    return bad(
      "MALFORMED_MESSAGE",
      `Invalid message envelope: ${where}`,
      typeof given === "string" && given.length > 0 ? given.slice(0, 64) : null,
    );
  }
  const env = value;
  const messageId = env.message_id ?? null;
  if (!isClientType(env.type)) {
    return bad("UNKNOWN_MESSAGE_TYPE", `Unknown message type "${env.type}"`, messageId);
  }
  const payload = env.payload ?? {};
  const validator = clientValidators[env.type];
  if (!validator.Check(payload)) {
    const first = validator.Errors(payload)[0];
    const where = first ? `payload${first.instancePath} ${first.message}` : "invalid payload";
    return bad("INVALID_PAYLOAD", `Invalid ${env.type}: ${where}`, messageId);
  }
  // Checked against the schema of its own type just above.
  const message = { type: env.type, payload } as ClientMessage;
  if (env.message_id !== undefined) message.message_id = env.message_id;
  return { ok: true, message };
}
