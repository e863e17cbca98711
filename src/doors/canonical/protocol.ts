/**
 * The canonical WebSocket protocol (seed 000's versioned envelope), version 1.
 * This module is the one source of every message shape: the gateway validates
 * with it, the SDK takes its types from it, and docs/protocol.md is checked
 * against it by test/unit/protocol-doc.test.ts.
 */
import Type from "typebox";
import { Compile } from "typebox/compile";
import { NAME_MAX } from "../../domain/names.js";
import { QUIZ_LIMITS } from "../../domain/quiz.js";
import { SETTINGS_LIMITS } from "../../domain/session-settings.js";
import { KickTarget } from "../schemas/kick.js";
import { ModeInput, SettingsInput } from "../schemas/session-settings.js";
import {
  CorrectView,
  ParticipantView,
  QuestionView,
  SnapshotView,
  StandingView,
} from "../schemas/views.js";
import { readJsonFrame } from "../ws-kit/json-frame.js";
import { compileMessages, messageTypeGuard } from "../ws-kit/validators.js";

import { MSG_ID_MAX, PROTOCOL_VERSION } from "./constants.js";

export {
  CANONICAL_PATH,
  CLOSE_CODES,
  MAX_FRAME_BYTES,
  MSG_ID_MAX,
  PROTOCOL_VERSION,
} from "./constants.js";

const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Pin = Type.String({ pattern: "^[0-9]{6}$" });
const RoomId = Type.String({ minLength: 1, maxLength: 64 });
const Empty = Type.Object({}, { additionalProperties: false });

/** The envelope every client frame must have. `data` is checked per type afterwards. */
export const ClientEnvelope = Type.Object({
  v: Type.Literal(PROTOCOL_VERSION),
  type: Type.String({ minLength: 1, maxLength: 32 }),
  msg_id: Type.String({ minLength: 1, maxLength: MSG_ID_MAX }),
  room_id: Type.Optional(RoomId),
  data: Type.Optional(Type.Object({})),
});
export type ClientEnvelope = Type.Static<typeof ClientEnvelope>;

/** Client → server messages: the `data` of each type. */
export const ClientMessages = {
  create_room: Type.Object(
    {
      quiz_id: Type.String({ minLength: 1, maxLength: QUIZ_LIMITS.idMax }),
      mode: Type.Optional(ModeInput),
      settings: Type.Optional(SettingsInput),
      host_name: Type.Optional(Type.String({ minLength: 1, maxLength: NAME_MAX })),
    },
    { additionalProperties: false },
  ),
  /**
   * By PIN with a display name; by room_id (in the envelope) with a display name when the host
   * invited you; or back into a room with a resume token (room_id in the envelope).
   */
  join: Type.Union([
    Type.Object(
      { pin: Pin, display_name: Type.String({ minLength: 1, maxLength: 200 }) },
      { additionalProperties: false },
    ),
    Type.Object(
      { display_name: Type.String({ minLength: 1, maxLength: 200 }) },
      { additionalProperties: false },
    ),
    Type.Object(
      { resume_token: Type.String({ minLength: 8, maxLength: 128 }) },
      { additionalProperties: false },
    ),
  ]),
  /** Watch a room read-only (a big screen): by PIN, or by room_id in the envelope. */
  spectate: Type.Object({ pin: Type.Optional(Pin) }, { additionalProperties: false }),
  start: Empty,
  /** Host: advance the game. self_paced player: serve my next question. */
  next: Empty,
  end: Empty,
  lock: Type.Object({ locked: Type.Boolean() }, { additionalProperties: false }),
  /** The player by `participant_id`, or (seed 000) by `user_id`. */
  kick: KickTarget,
  /** The host hands host rights to another member of the room (H-3). */
  transfer_host: Type.Object(
    { user_id: Type.String({ minLength: 1, maxLength: SETTINGS_LIMITS.userIdMax }) },
    { additionalProperties: false },
  ),
  /** Exactly one of choice (single, true_false), choices (multiple) or text (typed). */
  answer: Type.Object(
    {
      index: Type.Integer({ minimum: 0, maximum: QUIZ_LIMITS.questionsMax - 1 }),
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
  ),
  leave: Empty,
  ping: Type.Object({ client_time: Type.Optional(Type.Number()) }, { additionalProperties: false }),
  /** Ask for a fresh `state` snapshot (after a sequence gap, say). */
  sync: Empty,
} as const;

export type ClientType = keyof typeof ClientMessages;
export type ClientData<T extends ClientType> = Type.Static<(typeof ClientMessages)[T]>;
export const CLIENT_TYPES = Object.keys(ClientMessages) as ClientType[];

/** A client message once decoded: its envelope, with `data` checked against its type's schema. */
export type ClientMessage = {
  [T in ClientType]: { type: T; msg_id: string; room_id?: string; data: ClientData<T> };
}[ClientType];

const ResultYou = Type.Object({
  answered: Type.Boolean(),
  correct: Type.Boolean(),
  points: Type.Integer(),
  score: Type.Integer(),
  rank: Type.Integer(),
  streak: Type.Integer(),
});

/** One player's result in a reveal's `per_user_stats` (seed 000): whose, then `you`'s fields. */
const UserStat = Type.Object({
  user_id: Type.String(),
  participant_id: Type.String(),
  ...ResultYou.properties,
});

/** Server → client messages: the `data` of each type. */
export const ServerMessages = {
  /** First frame on every connection. */
  welcome: Type.Object({
    user_id: Type.String(),
    /** Anonymous identities only: present it as ?identity= next time to stay the same user. */
    identity_token: Nullable(Type.String()),
    protocol: Type.Literal(PROTOCOL_VERSION),
    server_time: Type.Integer(),
    heartbeat_ms: Type.Integer(),
    max_frame_bytes: Type.Integer(),
  }),
  room_created: Type.Object({
    room_id: Type.String(),
    pin: Type.String(),
    join_url: Type.String(),
    participant_id: Type.String(),
    host_token: Type.String(),
  }),
  joined: Type.Object({
    room_id: Type.String(),
    participant_id: Type.String(),
    user_id: Type.String(),
    name: Type.String(),
    role: Type.Enum(["player", "host"]),
    resume_token: Type.String(),
    resumed: Type.Boolean(),
  }),
  /** A complete picture of the room for this client; it replaces whatever was missed. */
  state: SnapshotView,
  /** Reply to a host command, leave, or a self_paced `next` once finished. */
  ack: Type.Object({ type: Type.String(), phase: PhaseKind() }),
  pong: Type.Object({ server_time: Type.Integer(), client_time: Nullable(Type.Number()) }),
  error: Type.Object({
    code: Type.Enum([
      "FORBIDDEN",
      "RATE_LIMIT",
      "VALIDATION",
      "STATE",
      "NOT_FOUND",
      "CONFLICT",
      "UNAUTHORIZED",
      "UNAVAILABLE",
      "INTERNAL",
      "UNKNOWN",
    ]),
    msg: Type.String(),
    reason: Type.Optional(Type.String()),
    retryable: Type.Boolean(),
    retry_after_ms: Type.Optional(Type.Integer()),
  }),
  player_joined: Type.Object({ participant: ParticipantView, player_count: Type.Integer() }),
  player_left: Type.Object({
    participant_id: Type.String(),
    user_id: Type.String(),
    name: Type.String(),
    reason: Type.Enum(["left", "kicked"]),
    player_count: Type.Integer(),
  }),
  presence: Type.Object({
    participant_id: Type.String(),
    name: Type.String(),
    connected: Type.Boolean(),
  }),
  player_count: Type.Object({ player_count: Type.Integer() }),
  started: Type.Object({ started_at: Type.Integer(), question_count: Type.Integer() }),
  question: Type.Object({
    index: Type.Integer(),
    total: Type.Integer(),
    /** Seed 000's `question {index, body, options, deadline_ms}`: the question's text … */
    body: Type.String(),
    /** … and its options (empty for a typed question); both also inside `question`. */
    options: Type.Array(Type.String()),
    question: QuestionView,
    opened_at: Type.Integer(),
    /** Absolute server epoch ms; null for a self_paced question with no per-question deadline. */
    deadline_ms: Nullable(Type.Integer()),
  }),
  answer_count: Type.Object({
    index: Type.Integer(),
    answered: Type.Integer(),
    players: Type.Integer(),
  }),
  question_closed: Type.Object({
    index: Type.Integer(),
    reason: Type.Enum(["deadline", "all_answered", "host", "first_correct"]),
  }),
  /** The acknowledgement of an answer, sent only once it is stored. */
  score: Type.Object({
    index: Type.Integer(),
    question_id: Type.String(),
    accepted: Type.Literal(true),
    correct: Type.Boolean(),
    points: Type.Integer(),
    score: Type.Integer(),
    streak: Type.Integer(),
    changed: Type.Boolean(),
    elapsed_ms: Type.Integer(),
    correct_answer: Nullable(CorrectView),
  }),
  reveal: Type.Object({
    index: Type.Integer(),
    question_id: Type.String(),
    correct: CorrectView,
    /** Seed 000's `correct_choice`: the correct option's index when exactly one is correct, else null. */
    correct_choice: Nullable(Type.Integer()),
    option_counts: Type.Array(Type.Integer()),
    answered_count: Type.Integer(),
    leaderboard: Type.Array(StandingView),
    total_players: Type.Integer(),
    until: Nullable(Type.Integer()),
    /**
     * Seed 000's `per_user_stats`: hosts and spectators get every ranked player's entry (in rank
     * order); a player gets only their own, so a reveal to 10,000 players stays small.
     */
    per_user_stats: Type.Array(UserStat),
    /** The recipient's own result; null for hosts and spectators. */
    you: Nullable(ResultYou),
    /** The next question's picture, when it has one, so screens load it during the reveal. */
    next_image: Type.Optional(Type.String()),
  }),
  intermission: Type.Object({
    index: Type.Integer(),
    until: Nullable(Type.Integer()),
    leaderboard: Type.Array(StandingView),
  }),
  leaderboard: Type.Object({
    leaderboard: Type.Array(StandingView),
    total_players: Type.Integer(),
    your_rank: Nullable(Type.Integer()),
  }),
  lock: Type.Object({ locked: Type.Boolean() }),
  /** The game's clock stopped: the host's connection is gone (H-1). */
  paused: Type.Object({
    reason: Type.Enum(["host_disconnected"]),
    phase: PhaseKind(),
    index: Nullable(Type.Integer()),
  }),
  /** The game's clock runs again; the time left before the pause is kept (H-1). */
  resumed: Type.Object({
    phase: PhaseKind(),
    index: Nullable(Type.Integer()),
    /** The open question's new deadline (absolute server epoch ms); null outside an open question. */
    deadline_ms: Nullable(Type.Integer()),
    /** The reveal's or intermission's new end, when it ends by itself. */
    until: Nullable(Type.Integer()),
  }),
  /** Host rights moved to another member (H-2, H-3). */
  host_changed: Type.Object({
    user_id: Type.String(),
    participant_id: Type.String(),
    previous_user_id: Type.String(),
    reason: Type.Enum(["transferred", "host_disconnected"]),
  }),
  /** Sent to a kicked player just before the server closes their connection (code 4003). */
  kick: Type.Object({ reason: Type.String(), banned_until: Type.Integer() }),
  end: Type.Object({
    reason: Type.Enum(["finished", "host_ended", "closed", "expired"]),
    leaderboard: Type.Array(StandingView),
    podium: Type.Array(StandingView),
    total_players: Type.Integer(),
    you: Nullable(
      Type.Object({ score: Type.Integer(), rank: Type.Integer(), total: Type.Integer() }),
    ),
  }),
} as const;

function PhaseKind() {
  return Type.Enum(["lobby", "question", "reveal", "intermission", "active", "ended"]);
}

export type ServerType = keyof typeof ServerMessages;
export type ServerData<T extends ServerType> = Type.Static<(typeof ServerMessages)[T]>;
export const SERVER_TYPES = Object.keys(ServerMessages) as ServerType[];

/** A server frame as it arrives at a client. */
export interface ServerFrame<T extends ServerType = ServerType> {
  v: typeof PROTOCOL_VERSION;
  type: T;
  /** The client msg_id this frame answers; absent on events nobody asked for. */
  msg_id?: string;
  room_id?: string;
  /** Room event order: (epoch, seq) increases with every event a room emits. */
  epoch?: number;
  seq?: number;
  /** Room events: server epoch ms at which the room emitted the event (fan-out latency, countdowns). */
  at?: number;
  data: ServerData<T>;
}

export type AnyServerFrame = { [T in ServerType]: ServerFrame<T> }[ServerType];

export const envelopeValidator = Compile(ClientEnvelope);
export const clientValidators = compileMessages(ClientMessages);
export const serverValidators = compileMessages(ServerMessages);
export const isClientType = messageTypeGuard(ClientMessages);

/** A client frame that failed a check: what to tell the client, and the msg_id it gave, if any. */
export interface DecodeFailure {
  ok: false;
  msgId: string | null;
  msg: string;
  reason: "bad_json" | "frame_too_large" | "bad_envelope" | "unknown_type" | "bad_data";
}

/**
 * The typed decoder at the edge: binary, size, JSON, envelope, type and data
 * checks, in that order; the first failure is reported.
 */
export function decodeClientFrame(
  data: Buffer,
  isBinary: boolean,
  maxBytes: number,
): { ok: true; message: ClientMessage } | DecodeFailure {
  const fail = (msg: string, reason: DecodeFailure["reason"], msgId: string | null = null) =>
    ({ ok: false, msgId, msg, reason }) as const;
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
  if (!envelopeValidator.Check(value)) {
    const given = (value as { msg_id?: unknown } | null)?.msg_id;
    const first = envelopeValidator.Errors(value)[0];
    const where = first ? `${first.instancePath || "frame"} ${first.message}` : "bad envelope";
    return fail(
      `invalid envelope: ${where}`,
      "bad_envelope",
      typeof given === "string" ? given : null,
    );
  }
  const env = value;
  if (!isClientType(env.type)) {
    return fail(`unknown message type "${env.type}"`, "unknown_type", env.msg_id);
  }
  const body = env.data ?? {};
  const validator = clientValidators[env.type];
  if (!validator.Check(body)) {
    const first = validator.Errors(body)[0];
    const where = first ? `data${first.instancePath} ${first.message}` : "data is invalid";
    return fail(`invalid ${env.type}: ${where}`, "bad_data", env.msg_id);
  }
  const message = { type: env.type, msg_id: env.msg_id, data: body } as ClientMessage;
  if (env.room_id !== undefined) message.room_id = env.room_id;
  return { ok: true, message };
}
