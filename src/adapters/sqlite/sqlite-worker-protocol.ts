/**
 * The messages between `SqliteThreadStorage` (main thread) and its worker (`sqlite-worker.ts`),
 * and how an error crosses between them. Values cross by structured clone: every argument and
 * result of the storage ports is plain data (records, arrays, Maps), so nothing is lost.
 */
import type { MessagePort } from "node:worker_threads";
import type { SessionId } from "../../domain/ids.js";
import { FencedError, type Storage } from "../../ports/storage.js";
import type { SqliteStorageOptions } from "./sqlite-storage.js";

/** The stores a call can name. */
export type StoreName = "quizzes" | "bank" | "sessions" | "meta" | "images";

/**
 * Every method of every store, for both sides: the main thread builds its forwarding stores from
 * it and the worker refuses a call it does not list. A `Record` over the store's keys, so a
 * method added to a port and missing here is a compile error.
 */
export const STORE_METHODS: { [S in StoreName]: Record<keyof Storage[S], true> } = {
  quizzes: { list: true, get: true, put: true, delete: true },
  bank: { put: true, list: true, countByDifficulty: true },
  sessions: {
    write: true,
    claim: true,
    epochOf: true,
    load: true,
    listOpen: true,
    list: true,
    purgeEnded: true,
    userData: true,
    eraseUser: true,
  },
  meta: { get: true, set: true, setIfAbsent: true },
  images: { put: true, get: true, existing: true },
};

/** Main thread → worker. The worker answers them one at a time, in the order they were sent. */
export type WorkerRequest =
  | { kind: "call"; id: number; store: StoreName; method: string; args: unknown[] }
  | { kind: "ping"; id: number }
  | { kind: "close"; id: number };

/** Worker → main thread. */
export type WorkerReply =
  /** The database is open and migrated; requests sent meanwhile are answered next. */
  | { kind: "opened" }
  /** Opening failed; the worker answers nothing more and waits to be terminated. */
  | { kind: "open_failed"; error: WireError }
  | { kind: "result"; id: number; value: unknown }
  | { kind: "error"; id: number; error: WireError };

/**
 * The worker's `workerData`. Replies go over `replies`, a port of their own, not the worker's
 * parent port: the main thread can take them synchronously (`receiveMessageOnPort`) when
 * `replyCount`, which the worker raises by one after posting each reply, says one is waiting.
 */
export interface WorkerData {
  options: SqliteStorageOptions;
  replies: MessagePort;
  /** An Int32Array's buffer of one element. */
  replyCount: SharedArrayBuffer;
}

/** An error as it crosses the thread boundary. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  /** better-sqlite3's `SqliteError.code`, e.g. SQLITE_CONSTRAINT_UNIQUE. */
  code?: string;
  /** Set for a FencedError, which the engine tells apart with instanceof. */
  fenced?: { sessionId: string; writerEpoch: number; storedEpoch: number };
}

export function toWireError(err: unknown): WireError {
  if (err instanceof FencedError) {
    return {
      name: err.name,
      message: err.message,
      fenced: {
        sessionId: err.sessionId,
        writerEpoch: err.writerEpoch,
        storedEpoch: err.storedEpoch,
      },
    };
  }
  if (!(err instanceof Error)) return { name: "Error", message: String(err) };
  const wire: WireError = { name: err.name, message: err.message };
  if (err.stack !== undefined) wire.stack = err.stack;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") wire.code = code;
  return wire;
}

/** A FencedError comes back as one; anything else as an Error with its name, message and code. */
export function fromWireError(wire: WireError): Error {
  if (wire.fenced) {
    const f = wire.fenced;
    return new FencedError(f.sessionId as SessionId, f.writerEpoch, f.storedEpoch);
  }
  const err: Error & { code?: string } = new Error(wire.message);
  err.name = wire.name;
  if (wire.stack !== undefined) err.stack = wire.stack;
  if (wire.code !== undefined) err.code = wire.code;
  return err;
}
