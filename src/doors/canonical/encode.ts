import type { ParticipantId } from "../../domain/ids.js";
import type { PlayerResult, RoomEvent, ViewerRole } from "../../engine/types.js";
import { participantView, questionView, standingView } from "../schemas/views.js";
import { type EventFrame, eventFrame } from "../ws-kit/dialect.js";
import {
  asciiBytes,
  JSON_NUMBER_BOUND,
  JsonBytes,
  jsonStringBound,
  putBoolean,
  putBytes,
  putJsonNumber,
  putJsonString,
} from "../ws-kit/json-bytes.js";
import { framedPayload } from "../ws-kit/text-frame.js";
import { PROTOCOL_VERSION, type ServerData, type ServerType } from "./protocol.js";

/**
 * Room events as canonical frames. A broadcast is serialized once (STYLE.md
 * §13): the shared frame is one Buffer for every recipient, and events that
 * carry a per-recipient part (reveal, end, leaderboard) are split into a
 * prefix and suffix so each recipient costs one string concatenation, not a
 * JSON.stringify. The driver caches the frames on the event.
 */

const EVERYONE: ReadonlySet<ViewerRole> = new Set(["player", "host", "spectator"]);
const STAFF: ReadonlySet<ViewerRole> = new Set(["host", "spectator"]);
const PLAYERS: ReadonlySet<ViewerRole> = new Set(["player"]);

function frameHead(type: ServerType, event: RoomEvent): string {
  return `{"v":${PROTOCOL_VERSION},"type":"${type}","room_id":${JSON.stringify(event.sessionId)},"epoch":${event.epoch},"seq":${event.seq},"at":${event.at},"data":`;
}

function frame<T extends ServerType>(type: T, event: RoomEvent, data: ServerData<T>): string {
  return `${frameHead(type, event)}${JSON.stringify(data)}}`;
}

/** Splits `{...data}` so a `"you":…` member can be appended per recipient. */
function spliced<T extends ServerType>(
  type: T,
  event: RoomEvent,
  data: Omit<ServerData<T>, "you" | "your_rank">,
  key: "you" | "your_rank",
): { prefix: string; suffix: string } {
  const body = JSON.stringify(data);
  const open = body.length > 2 ? `${body.slice(0, -1)},` : "{";
  return { prefix: `${frameHead(type, event)}${open}"${key}":`, suffix: "}}" };
}

/**
 * One frame. A frame for hosts and spectators alone (joins, leaves, presence, the answer
 * count) may wait a few milliseconds for more to the same screen: in a join storm a host
 * gets them forty writes a second instead of one write per join.
 */
function make(
  type: ServerType,
  shared: string,
  roles: ReadonlySet<ViewerRole> = EVERYONE,
  personal: EventFrame["personal"] = null,
  coalescible = false,
): EventFrame[] {
  const mayWait = roles === STAFF;
  return [eventFrame(type, { shared: Buffer.from(shared), personal, roles, coalescible, mayWait })];
}

/** How this door presents a room event: one frame, or none for events it does not forward. */
export function encodeEvent(event: RoomEvent): EventFrame[] {
  return build(event);
}

function build(event: RoomEvent): EventFrame[] {
  const b = event.body;
  switch (b.type) {
    case "participant_joined":
      return make(
        "player_joined",
        frame("player_joined", event, {
          participant: participantView(b.participant),
          player_count: b.playerCount,
        }),
        STAFF,
      );
    case "participant_left":
      return make(
        "player_left",
        frame("player_left", event, {
          participant_id: b.participantId,
          user_id: b.userId,
          name: b.name,
          reason: b.reason,
          player_count: b.playerCount,
        }),
        STAFF,
      );
    case "presence":
      return make(
        "presence",
        frame("presence", event, {
          participant_id: b.participantId,
          name: b.name,
          connected: b.connected,
        }),
        STAFF,
        null,
        true,
      );
    case "player_count":
      return make(
        "player_count",
        frame("player_count", event, { player_count: b.playerCount }),
        EVERYONE,
        null,
        true,
      );
    case "started":
      return make(
        "started",
        frame("started", event, { started_at: b.startedAt, question_count: b.questionCount }),
      );
    case "question":
      return make(
        "question",
        frame("question", event, {
          index: b.index,
          total: b.total,
          body: b.question.text,
          options: b.question.options,
          question: questionView(b.question),
          opened_at: b.openedAt,
          deadline_ms: b.deadline,
        }),
      );
    case "answer_count":
      return make(
        "answer_count",
        frame("answer_count", event, { index: b.index, answered: b.answered, players: b.players }),
        STAFF,
        null,
        true,
      );
    case "question_closed":
      return make(
        "question_closed",
        frame("question_closed", event, { index: b.index, reason: b.reason }),
      );
    case "reveal":
      return revealFrames(event, b);
    case "intermission":
      return make(
        "intermission",
        frame("intermission", event, {
          index: b.index,
          until: b.until,
          leaderboard: b.leaderboard.map(standingView),
        }),
      );
    case "leaderboard": {
      const { prefix, suffix } = spliced(
        "leaderboard",
        event,
        { leaderboard: b.leaderboard.map(standingView), total_players: b.totalPlayers },
        "your_rank",
      );
      return make(
        "leaderboard",
        `${prefix}null${suffix}`,
        EVERYONE,
        {
          before: Buffer.from(prefix),
          part: (id) => String(b.ranks(id) ?? "null"),
          after: Buffer.from(suffix),
        },
        true,
      );
    }
    case "locked":
      return make("lock", frame("lock", event, { locked: b.locked }));
    case "paused":
      return make(
        "paused",
        frame("paused", event, { reason: b.reason, phase: b.phase, index: b.index }),
      );
    case "resumed":
      return make(
        "resumed",
        frame("resumed", event, {
          phase: b.phase,
          index: b.index,
          deadline_ms: b.deadline,
          until: b.until,
        }),
      );
    case "host_changed":
      return make(
        "host_changed",
        frame("host_changed", event, {
          user_id: b.userId,
          participant_id: b.participantId,
          previous_user_id: b.previousUserId,
          reason: b.reason,
        }),
      );
    case "kicked":
      return make("kick", frame("kick", event, { reason: b.reason, banned_until: b.until }));
    case "ended": {
      const leaderboard = b.leaderboard.map(standingView);
      const { prefix, suffix } = spliced(
        "end",
        event,
        {
          reason: b.reason,
          leaderboard,
          podium: leaderboard.slice(0, 3),
          total_players: b.totalPlayers,
        },
        "you",
      );
      return make("end", `${prefix}null${suffix}`, EVERYONE, (id) => {
        const r = b.results.get(id);
        return `${prefix}${r ? JSON.stringify(r) : "null"}${suffix}`;
      });
    }
    // Scores reach their answerer in the reply and everyone else in the reveal.
    case "scored":
      return [];
    default: {
      const never: never = b;
      return never;
    }
  }
}

type RevealBody = Extract<RoomEvent["body"], { type: "reveal" }>;

/**
 * A reveal is two frames: hosts and spectators share one that lists every player's
 * `per_user_stats` (made once); each player gets the same bytes around their own entry and
 * result, so the per-player part is two small objects, not the whole list. Every player's part
 * is written at once, as bytes in one buffer (`ownParts`): delivering a part is copying a slice
 * of it. The staff's list is copied from those parts. Everything before the first write is time
 * every player waits: in an instrumented server (2026-12-06, 10,000 players) encoding each
 * player's entry as strings and then as bytes took 33–89 ms a reveal; see `JsonBytes`.
 */
function revealFrames(event: RoomEvent, b: RevealBody): EventFrame[] {
  const correctChoice = b.correct.indices.length === 1 ? (b.correct.indices[0] ?? null) : null;
  const head = JSON.stringify({
    index: b.index,
    question_id: b.questionId,
    correct: b.correct,
    correct_choice: correctChoice,
    option_counts: b.optionCounts,
    answered_count: b.answeredCount,
    leaderboard: b.leaderboard.map(standingView),
    total_players: b.totalPlayers,
    until: b.until,
    ...(b.nextImage === undefined ? {} : { next_image: b.nextImage }),
  });
  const prefix = `${frameHead("reveal", event)}${head.slice(0, -1)},"per_user_stats":`;
  const suffix = "}}";
  const own = ownParts(b.results);
  const indexOf = partIndex(b.results, own.ids);
  const list = staffList(`${prefix}[`, own, `],"you":null${suffix}`);
  return [
    eventFrame("reveal", { shared: list, roles: STAFF }),
    eventFrame("reveal", {
      shared: Buffer.from(`${prefix}[],"you":null${suffix}`),
      roles: PLAYERS,
      personal: {
        before: Buffer.from(prefix),
        part: (id) => {
          const i = indexOf(id);
          return i === undefined
            ? NO_OWN_PART
            : own.bytes.subarray(own.at[i] as number, own.at[i + 1] as number);
        },
        after: Buffer.from(suffix),
      },
    }),
  ];
}

/** The own part of a player the reveal has no result for (joined after the question closed). */
const NO_OWN_PART = `[],"you":null`;

/**
 * Every player's own part of a reveal in one buffer, in the results' (rank) order: part `i` is
 * `bytes[at[i]]` up to `at[i + 1]`, and its entry of the staff's list is `bytes[entry[2i]]` up
 * to `entry[2i + 1]`.
 */
interface OwnParts {
  bytes: Buffer;
  at: Int32Array;
  entry: Int32Array;
  /** Whose part `i` is. */
  ids: ParticipantId[];
}

/**
 * Player `i`'s part is `[`, their entry of the staff's list, `],"you":`, then their result:
 * `[{"user_id":…,"participant_id":…,"answered":…,…,"streak":…}],"you":{"answered":…,…}`. The
 * result is the entry's tail, so it is written once and copied.
 */
function ownParts(results: ReadonlyMap<ParticipantId, PlayerResult>): OwnParts {
  const n = results.size;
  const out = new JsonBytes(n * 256);
  const at = new Int32Array(n + 1);
  const entry = new Int32Array(2 * n);
  const ids: ParticipantId[] = [];
  let i = 0;
  for (const [id, r] of results) {
    ids.push(id);
    const buf = out.room(OWN_PART_BOUND + jsonStringBound(r.userId) + jsonStringBound(id));
    let w = out.at;
    at[i] = w;
    buf[w++] = OPEN_LIST;
    entry[2 * i] = w;
    w = putBytes(buf, w, USER_ID);
    w = putJsonString(buf, w, r.userId);
    w = putBytes(buf, w, PARTICIPANT_ID);
    w = putJsonString(buf, w, id);
    buf[w++] = COMMA;
    const tail = w;
    w = putBytes(buf, w, ANSWERED);
    w = putBoolean(buf, w, r.answered);
    w = putBytes(buf, w, CORRECT);
    w = putBoolean(buf, w, r.correct);
    w = putBytes(buf, w, POINTS);
    w = putJsonNumber(buf, w, r.points);
    w = putBytes(buf, w, SCORE);
    w = putJsonNumber(buf, w, r.score);
    w = putBytes(buf, w, RANK);
    w = putJsonNumber(buf, w, r.rank);
    w = putBytes(buf, w, STREAK);
    w = putJsonNumber(buf, w, r.streak);
    buf[w++] = CLOSE_OBJECT;
    const end = w;
    entry[2 * i + 1] = end;
    w = putBytes(buf, w, YOU);
    buf.copyWithin(w, tail, end);
    out.at = w + (end - tail);
    i++;
  }
  at[n] = out.at;
  return { bytes: out.bytes, at, entry, ids };
}

const OPEN_LIST = 0x5b;
const CLOSE_OBJECT = 0x7d;
const USER_ID = asciiBytes('{"user_id":');
const PARTICIPANT_ID = asciiBytes(',"participant_id":');
const ANSWERED = asciiBytes('"answered":');
const CORRECT = asciiBytes(',"correct":');
const POINTS = asciiBytes(',"points":');
const SCORE = asciiBytes(',"score":');
const RANK = asciiBytes(',"rank":');
const STREAK = asciiBytes(',"streak":');
const YOU = asciiBytes('],"you":{');
/** The most bytes of a result (the entry's tail): its names, two booleans, four numbers, `}`. */
const RESULT_BOUND =
  ANSWERED.length +
  CORRECT.length +
  POINTS.length +
  SCORE.length +
  RANK.length +
  STREAK.length +
  2 * "false".length +
  4 * JSON_NUMBER_BOUND +
  1;
/** The most bytes of a part but its two strings: `[`, the names, `,`, the result twice. */
const OWN_PART_BOUND = 2 + USER_ID.length + PARTICIPANT_ID.length + YOU.length + 2 * RESULT_BOUND;

/**
 * Where a player's part is. The results come in rank order with ranks 1, 2, 3…, so a
 * player's part is at their rank less one: found with the lookup the results already have,
 * where a map of its own cost 2–5 ms of inserts per 10,000 players before the first write. A
 * map is made only if a rank is not where that says.
 */
function partIndex(
  results: ReadonlyMap<ParticipantId, PlayerResult>,
  ids: readonly ParticipantId[],
): (id: ParticipantId) => number | undefined {
  let byId: Map<ParticipantId, number> | undefined;
  return (id) => {
    const r = results.get(id);
    if (r === undefined) return undefined;
    const i = r.rank - 1;
    if (ids[i] === id) return i;
    byId ??= new Map(ids.map((x, k) => [x, k]));
    return byId.get(id);
  };
}

/** `head`, every player's entry (copied from their own parts) with commas between, then `tail`. */
function staffList(head: string, own: OwnParts, tail: string): Buffer {
  const n = own.at.length - 1;
  let length = Buffer.byteLength(head) + Buffer.byteLength(tail) + Math.max(0, n - 1);
  for (let i = 0; i < n; i++) {
    length += (own.entry[2 * i + 1] as number) - (own.entry[2 * i] as number);
  }
  const payload = framedPayload(length);
  let w = payload.write(head, 0);
  for (let i = 0; i < n; i++) {
    if (i > 0) payload[w++] = COMMA;
    w += own.bytes.copy(payload, w, own.entry[2 * i], own.entry[2 * i + 1]);
  }
  payload.write(tail, w);
  return payload;
}

const COMMA = 0x2c;
