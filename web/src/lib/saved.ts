/**
 * What the app keeps in the browser so a refresh returns to the same game:
 * the host's token per room, the player's seat, identities, the admin token.
 * Reads never throw: storage may be full, disabled or hold garbage.
 */

/** The part of the Web Storage API the app uses (window.localStorage / sessionStorage). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** A room this browser hosts. */
export interface HostedRoom {
  roomId: string;
  pin: string;
  title: string;
  mode: string;
  /** The latest host token (every resume hands out a new one). */
  hostToken: string;
  createdAt: number;
  /** When the game was seen to have ended; absent or null while it may still run. */
  endedAt?: number | null;
}

/** A player's place in a game. */
export interface Seat {
  roomId: string;
  pin: string;
  name: string;
  /** The latest resume token (every join hands out a new one). */
  resumeToken: string;
  /** The anonymous identity the seat belongs to (`?identity=`). */
  identityToken: string | null;
  savedAt: number;
}

const KEYS = {
  hosted: "quizwire.hosted",
  hostIdentity: "quizwire.host.identity",
  playerIdentity: "quizwire.player.identity",
  seat: "quizwire.seat",
  lastSeat: "quizwire.lastSeat",
  adminToken: "quizwire.adminToken",
} as const;

/** Hosted rooms are forgotten after a day; ended rooms are unloaded by the server long before. */
const HOSTED_TTL_MS = 24 * 60 * 60 * 1000;
const HOSTED_MAX = 20;

function readJson(store: KeyValueStore, key: string): unknown {
  try {
    const raw = store.getItem(key);
    return raw === null ? null : (JSON.parse(raw) as unknown);
  } catch {
    return null;
  }
}

function writeJson(store: KeyValueStore, key: string, value: unknown): void {
  try {
    store.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled: the game goes on, only a refresh will not find it.
  }
}

function remove(store: KeyValueStore, key: string): void {
  try {
    store.removeItem(key);
  } catch {
    // as above
  }
}

function isString(v: unknown): v is string {
  return typeof v === "string";
}

function isHostedRoom(v: unknown): v is HostedRoom {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    isString(o.roomId) &&
    isString(o.pin) &&
    isString(o.title) &&
    isString(o.mode) &&
    isString(o.hostToken) &&
    typeof o.createdAt === "number" &&
    (o.endedAt === undefined || o.endedAt === null || typeof o.endedAt === "number")
  );
}

function isSeat(v: unknown): v is Seat {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    isString(o.roomId) &&
    isString(o.pin) &&
    isString(o.name) &&
    isString(o.resumeToken) &&
    (o.identityToken === null || isString(o.identityToken)) &&
    typeof o.savedAt === "number"
  );
}

/** Rooms this browser hosts, newest first, expired ones dropped. */
export function hostedRooms(store: KeyValueStore, now: number): HostedRoom[] {
  const raw = readJson(store, KEYS.hosted);
  if (!Array.isArray(raw)) return [];
  return raw
    .filter(isHostedRoom)
    .filter((r) => now - r.createdAt < HOSTED_TTL_MS)
    .sort((a, b) => b.createdAt - a.createdAt);
}

export function hostedRoom(store: KeyValueStore, roomId: string, now: number): HostedRoom | null {
  return hostedRooms(store, now).find((r) => r.roomId === roomId) ?? null;
}

/** Adds or replaces a hosted room (a new host token replaces the old one). */
export function saveHostedRoom(store: KeyValueStore, room: HostedRoom, now: number): void {
  const rest = hostedRooms(store, now).filter((r) => r.roomId !== room.roomId);
  writeJson(store, KEYS.hosted, [room, ...rest].slice(0, HOSTED_MAX));
}

export function updateHostToken(
  store: KeyValueStore,
  roomId: string,
  hostToken: string,
  now: number,
): void {
  const room = hostedRoom(store, roomId, now);
  if (room && room.hostToken !== hostToken) saveHostedRoom(store, { ...room, hostToken }, now);
}

/** Notes that a hosted game has ended (kept, to find its results, but no longer running). */
export function markHostedRoomEnded(
  store: KeyValueStore,
  roomId: string,
  endedAt: number,
  now: number,
): void {
  const room = hostedRoom(store, roomId, now);
  if (room && (room.endedAt ?? null) === null) saveHostedRoom(store, { ...room, endedAt }, now);
}

/** Hosted games split into those that may still run and those that have ended, newest first. */
export function runningAndFinished(rooms: readonly HostedRoom[]): {
  running: HostedRoom[];
  finished: HostedRoom[];
} {
  return {
    running: rooms.filter((r) => (r.endedAt ?? null) === null),
    finished: rooms.filter((r) => (r.endedAt ?? null) !== null),
  };
}

export function forgetHostedRoom(store: KeyValueStore, roomId: string, now: number): void {
  writeJson(
    store,
    KEYS.hosted,
    hostedRooms(store, now).filter((r) => r.roomId !== roomId),
  );
}

/** The seat of this tab (session storage, so a refresh of this tab finds it). */
export function currentSeat(store: KeyValueStore): Seat | null {
  const raw = readJson(store, KEYS.seat);
  return isSeat(raw) ? raw : null;
}

export function saveSeat(store: KeyValueStore, seat: Seat): void {
  writeJson(store, KEYS.seat, seat);
}

export function clearSeat(store: KeyValueStore): void {
  remove(store, KEYS.seat);
}

/**
 * The last seat this browser had (local storage), offered as "continue as …"
 * when the same game is opened again in a new tab: the same room, within a
 * few hours.
 */
export function lastSeatFor(store: KeyValueStore, roomId: string, now: number): Seat | null {
  const raw = readJson(store, KEYS.lastSeat);
  if (!isSeat(raw) || raw.roomId !== roomId) return null;
  return now - raw.savedAt < 6 * 60 * 60 * 1000 ? raw : null;
}

export function saveLastSeat(store: KeyValueStore, seat: Seat): void {
  writeJson(store, KEYS.lastSeat, seat);
}

export function clearLastSeat(store: KeyValueStore): void {
  remove(store, KEYS.lastSeat);
}

/** The host console's anonymous identity, so the same browser stays the same host user. */
export function hostIdentity(store: KeyValueStore): string | null {
  const raw = readJson(store, KEYS.hostIdentity);
  return isString(raw) ? raw : null;
}

export function saveHostIdentity(store: KeyValueStore, token: string): void {
  writeJson(store, KEYS.hostIdentity, token);
}

/**
 * The player page's anonymous identity, one per browser: the server knows a
 * returning device as the same player (a rejoin is a reconnect, and a kick
 * sticks, R-3). It is kept apart from the host's, so one laptop can host and
 * play at once.
 */
export function playerIdentity(store: KeyValueStore): string | null {
  const raw = readJson(store, KEYS.playerIdentity);
  return isString(raw) ? raw : null;
}

export function savePlayerIdentity(store: KeyValueStore, token: string): void {
  writeJson(store, KEYS.playerIdentity, token);
}

export function adminToken(store: KeyValueStore): string | null {
  const raw = readJson(store, KEYS.adminToken);
  return isString(raw) && raw.length > 0 ? raw : null;
}

export function saveAdminToken(store: KeyValueStore, token: string | null): void {
  if (token === null || token === "") remove(store, KEYS.adminToken);
  else writeJson(store, KEYS.adminToken, token);
}

/** A Map-backed store, for tests and for browsers whose storage is unavailable. */
export class MemoryStore implements KeyValueStore {
  private readonly map = new Map<string, string>();
  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.map.set(key, value);
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
}

/** window.localStorage / sessionStorage when they work, else a memory store. */
export function browserStore(kind: "local" | "session"): KeyValueStore {
  try {
    const s = kind === "local" ? globalThis.localStorage : globalThis.sessionStorage;
    const probe = "quizwire.probe";
    s.setItem(probe, "1");
    s.removeItem(probe);
    return s;
  } catch {
    return new MemoryStore();
  }
}
