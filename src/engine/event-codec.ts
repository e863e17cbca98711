import type { ParticipantId } from "../domain/ids.js";
import type { EventBody, FinalResult, PlayerResult, RoomEvent } from "./types.js";

/**
 * Room events as they travel between instances. Everything in an event is
 * plain data except the per-player maps (reveal and end results), which become
 * entry lists, and the leaderboard's rank lookup, which becomes the ranks of
 * every ranked player so a remote door can still tell each recipient theirs.
 */
type WireBody =
  | Exclude<EventBody, { type: "reveal" } | { type: "ended" } | { type: "leaderboard" }>
  | (Omit<Extract<EventBody, { type: "reveal" }>, "results"> & {
      results: Array<[ParticipantId, PlayerResult]>;
    })
  | (Omit<Extract<EventBody, { type: "ended" }>, "results"> & {
      results: Array<[ParticipantId, FinalResult]>;
    })
  | (Omit<Extract<EventBody, { type: "leaderboard" }>, "ranks"> & {
      ranks: Array<[ParticipantId, number]>;
    });

interface WireEvent {
  sessionId: string;
  epoch: number;
  seq: number;
  at: number;
  audience: RoomEvent["audience"];
  body: WireBody;
}

/** Serializes an event for the bus. `allRanks` lists every ranked player (leaderboard events only). */
export function encodeRoomEvent(
  e: RoomEvent,
  allRanks?: () => Array<[ParticipantId, number]>,
): string {
  const b = e.body;
  let body: WireBody;
  switch (b.type) {
    case "reveal":
      body = { ...b, results: [...b.results] };
      break;
    case "ended":
      body = { ...b, results: [...b.results] };
      break;
    case "leaderboard": {
      const { ranks: _lookup, ...rest } = b;
      body = { ...rest, ranks: allRanks ? allRanks() : [] };
      break;
    }
    default:
      body = b;
  }
  const wire: WireEvent = {
    sessionId: e.sessionId,
    epoch: e.epoch,
    seq: e.seq,
    at: e.at,
    audience: e.audience,
    body,
  };
  return JSON.stringify(wire);
}

export function decodeRoomEvent(text: string): RoomEvent {
  const w = JSON.parse(text) as WireEvent;
  const b = w.body;
  let body: EventBody;
  switch (b.type) {
    case "reveal":
      body = { ...b, results: new Map(b.results) };
      break;
    case "ended":
      body = { ...b, results: new Map(b.results) };
      break;
    case "leaderboard": {
      const ranks = new Map(b.ranks);
      body = { ...b, ranks: (id) => ranks.get(id) ?? null };
      break;
    }
    default:
      body = b;
  }
  return {
    sessionId: w.sessionId as RoomEvent["sessionId"],
    epoch: w.epoch,
    seq: w.seq,
    at: w.at,
    audience: w.audience,
    body,
    encoded: new Map(),
  };
}

/**
 * The owner's periodic "latest event is (epoch, seq)" on the bus, so a watcher
 * that lost the last events (and would otherwise wait for the next one to see
 * the gap) resyncs within a beacon interval.
 */
export interface Beacon {
  epoch: number;
  seq: number;
}

export function encodeBeacon(b: Beacon): string {
  return JSON.stringify({ beacon: true, epoch: b.epoch, seq: b.seq });
}

/** The beacon in a bus message, or null when the message is a room event. */
export function decodeBeacon(text: string): Beacon | null {
  // Room events start with {"sessionId":…; a cheap check before parsing.
  if (!text.startsWith('{"beacon":true')) return null;
  const b = JSON.parse(text) as { epoch: number; seq: number };
  return { epoch: b.epoch, seq: b.seq };
}
