/**
 * Errors in words. The server's `reason` (docs/errors.md) picks the sentence;
 * the `code` is the fallback; the server's own `msg` is never shown as the
 * main text because it is not written for players.
 */

/** The parts of an SDK QuizwireError or a REST error body the words depend on. */
export interface ErrorLike {
  code?: string | undefined;
  reason?: string | undefined;
  retryAfterMs?: number | undefined;
}

export interface ErrorContext {
  /** The PIN the person typed, to repeat it back. */
  pin?: string;
  /** The nickname the person asked for. */
  name?: string;
}

const BY_REASON: Record<string, (c: ErrorContext, e: ErrorLike) => string> = {
  bad_pin: (c) =>
    c.pin
      ? `There is no game with PIN ${c.pin}. Check the number on the host's screen.`
      : "There is no game with that PIN. Check the number on the host's screen.",
  no_room: () => "That game is no longer running.",
  room_closed: () => "That game is no longer running.",
  room_locked: () => "This game is locked: the host is not letting new players in.",
  name_taken: (c) =>
    c.name
      ? `Someone in this game is already called “${c.name}”. Pick another nickname.`
      : "Someone in this game already has that nickname. Pick another one.",
  invalid_name: () => "Nicknames are 1 to 24 characters, without special control characters.",
  banned: () => "The host removed you from this game, so you cannot join it again for now.",
  kicked: () => "The host removed you from this game.",
  room_full: () => "This game is full.",
  room_ended: () => "This game has already ended.",
  is_host: () => "You are the host of this game. Join as a player from another browser or device.",
  bad_token: () => "Your place in this game could not be restored. Join again with the PIN.",
  wrong_user: () => "That place in the game belongs to someone else.",
  rate_limited: (_c, e) =>
    e.retryAfterMs !== undefined && e.retryAfterMs >= 1000
      ? `Too many attempts. Wait ${Math.ceil(e.retryAfterMs / 1000)} s and try again.`
      : "Too many attempts. Wait a moment and try again.",
  too_late: () => "Time is up for this question.",
  not_open: () => "This question is closed.",
  already_answered: () => "You already answered this question.",
  answer_pending: () => "Your answer is still being saved.",
  bad_answer: () => "That answer does not fit this question.",
  not_started: () => "The game has not started yet.",
  already_started: () => "The game has already started.",
  closing: () => "The last answers are still being saved. Try again in a moment.",
  not_host: () => "Only the host can do that.",
  paused: () => "The game is paused until the host is back.",
  no_member: () => "That person is not in this game.",
  already_host: () => "That person is already the host.",
  not_joined: () => "You are not in this game any more.",
  storage_unavailable: () => "Your answer could not be saved. Try again.",
  no_quiz: () => "That quiz no longer exists.",
  quiz_exists: () => "A different quiz with this id already exists.",
  invalid_quiz: () => "The quiz has problems; see the marked fields.",
  missing_title: () => "A CSV import needs a title.",
  not_admin: () => "This server needs an admin token for that.",
  no_session: () => "There is no such game.",
  bad_settings: () => "These game settings do not fit together.",
  self_paced: () => "In a self-paced game everyone moves on by themselves.",
  body_too_large: () => "That file is too large (1 MB at most).",
  bad_json: () => "That file is not valid JSON.",
  unsupported_media_type: () => "That kind of file cannot be imported. Use .json or .csv.",
};

const BY_CODE: Record<string, string> = {
  DISCONNECTED: "The connection to the server was lost. Check your network and try again.",
  TIMEOUT: "The server did not answer in time. Check your network and try again.",
  CLOSED: "The connection to the server was closed.",
  NETWORK: "The server cannot be reached. Check your network and try again.",
  UNAVAILABLE: "The server is busy right now. Try again in a moment.",
  INTERNAL: "Something went wrong on the server. Try again.",
  UNKNOWN: "Something went wrong on the server. Try again.",
  RATE_LIMIT: "Too many attempts. Wait a moment and try again.",
  UNAUTHORIZED: "This server needs you to sign in (or an admin token) for that.",
  FORBIDDEN: "You are not allowed to do that.",
  NOT_FOUND: "That could not be found.",
  CONFLICT: "That clashes with something that already exists.",
  STATE: "That cannot be done right now.",
  VALIDATION: "Something in the request is not right.",
};

/** The sentence to show for an error. */
export function errorText(error: unknown, context: ErrorContext = {}): string {
  const e = asErrorLike(error);
  if (e.reason !== undefined) {
    const byReason = BY_REASON[e.reason];
    if (byReason) return byReason(context, e);
  }
  if (e.code !== undefined) {
    const byCode = BY_CODE[e.code];
    if (byCode) return byCode;
  }
  return "Something went wrong. Try again.";
}

/** Reads code / reason / retryAfterMs off anything thrown (SDK errors, API errors, TypeErrors). */
export function asErrorLike(error: unknown): ErrorLike {
  if (typeof error !== "object" || error === null) return {};
  const o = error as Record<string, unknown>;
  const out: ErrorLike = {};
  if (typeof o.code === "string") out.code = o.code;
  if (typeof o.reason === "string") out.reason = o.reason;
  if (typeof o.retryAfterMs === "number") out.retryAfterMs = o.retryAfterMs;
  // fetch() rejects with a TypeError when the server cannot be reached at all.
  if (out.code === undefined && error instanceof TypeError) out.code = "NETWORK";
  return out;
}

/** Errors after which the join form should go back to the PIN step rather than the nickname. */
export function isRoomProblem(error: unknown): boolean {
  const r = asErrorLike(error).reason;
  return (
    r === "bad_pin" ||
    r === "no_room" ||
    r === "room_locked" ||
    r === "room_full" ||
    r === "room_ended" ||
    r === "banned" ||
    r === "room_closed"
  );
}
