/**
 * The embedded default storage off the event loop: the whole SQLite storage (better-sqlite3,
 * Kysely, the shared stores, migrations) runs in a worker thread with its own connection
 * (`sqlite-worker.ts`), and this `Storage` forwards each call to it. better-sqlite3 is
 * synchronous, so in the main thread every statement and every fsync of a commit stopped
 * fan-out and acknowledgements; here they run on another core.
 *
 * What the callers rely on holds across the boundary:
 * - a call resolves only once the worker has finished it, so a write resolves after its
 *   transaction committed;
 * - the worker answers calls one at a time in the order they were made, so writes stay ordered;
 * - a FencedError comes back as a FencedError (the engine checks it with instanceof); any other
 *   error as an Error with the same name, message and SQLite code;
 * - when the worker dies (crash, out of memory, terminated), every call it had not answered
 *   rejects with `SqliteWorkerExitedError` (the committer refuses the critical writes, clients
 *   get UNAVAILABLE, nothing is acknowledged that was not stored), and the next call starts a
 *   fresh worker on the same file. A ":memory:" database is the worker's own and goes with it.
 * - except a session write that did commit: each carries a commit mark (a `meta` entry written
 *   in its transaction, `CommitMark`), and when its worker dies before answering, a fresh worker
 *   reads the mark back. A batch that committed resolves; only one that did not rejects. So a
 *   stored answer is never reported as failed (and undone by its room) because the reply, not
 *   the transaction, was lost.
 * - a worker that keeps dying is not restarted in a tight loop: after `restartBurst` unexpected
 *   exits within `restartWindowMs`, calls reject at once for `restartPauseMs` before the next
 *   start (readiness and the committer's retries see the outage meanwhile).
 *
 * A whole session (`sessions.load`: a results report, a room restored) is read by a second
 * worker with a read-only connection of its own, started at the first such read (a file only; a
 * ":memory:" database has one connection). Reads there take no turn in the writer's queue: an
 * ended 18,000-player game took the writer 408-558 ms to load for its results, and no room on
 * the instance had a commit, so an acknowledgement, meanwhile. The read is one transaction, a
 * snapshot in WAL mode, and sees every write that resolved before it was made; a write still in
 * flight when it is made may or may not be in it (the writer's queue ordered them before).
 */
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from "node:worker_threads";
import type { SessionId } from "../../domain/ids.js";
import type {
  CommitMark,
  ImageStore,
  MetaStore,
  QuestionBankStore,
  QuizStore,
  SessionStore,
  SessionWrite,
  Storage,
} from "../../ports/storage.js";
import { isMemoryPath } from "./sqlite-path.js";
import type { SqliteStorageOptions } from "./sqlite-storage.js";
import {
  fromWireError,
  STORE_METHODS,
  type StoreName,
  type WorkerData,
  type WorkerReply,
  type WorkerRequest,
} from "./sqlite-worker-protocol.js";

/** The worker stopped before answering a call; whether that call's writes committed is unknown. */
export class SqliteWorkerExitedError extends Error {
  constructor(detail: string) {
    super(`the SQLite worker stopped (${detail}) before answering`);
    this.name = "SqliteWorkerExitedError";
  }
}

export interface SqliteThreadStorageOptions extends SqliteStorageOptions {
  /** Called with each worker once it is started (logging; tests use it to terminate one). */
  onWorkerStart?: (worker: Worker) => void;
  /** Called when a worker stops unexpectedly, with why; the next call starts another. */
  onWorkerExit?: (err: Error) => void;
  /** Called when the reader's worker (below) stops unexpectedly; the next read starts another. */
  onReaderExit?: (err: Error) => void;
  /** Unexpected exits within `restartWindowMs` that pause restarting. Default 3. */
  restartBurst?: number;
  /** Default 10 s. */
  restartWindowMs?: number;
  /** How long calls are refused at once before the next start, after a burst. Default 5 s. */
  restartPauseMs?: number;
}

/** The `meta` key of the commit marks; one row, rewritten by every session write. */
const COMMIT_MARK_KEY = "sqlite_commit_mark";

/**
 * How to start the worker. Built (dist/…/sqlite-thread-storage.js), the entry is the compiled
 * `sqlite-worker.js` beside this file. From source (tsx, vitest), this file is .ts and so is the
 * entry; a worker does not inherit the parent's module hooks (vitest's, or tsx's in Node 20), so
 * a small evaluated bootstrap registers tsx in the worker and then loads the entry. It uses
 * tsx's CommonJS hook: the worker's modules have no top-level await or `import.meta`, and
 * loading them through it takes about half the time of tsx's ESM hooks (which run in a thread
 * of their own and load Kysely's ESM build file by file), which every test that opens a storage
 * pays.
 */
function workerSource(): { source: string | URL; eval: boolean } {
  const self = import.meta.url;
  if (!self.endsWith(".ts")) return { source: new URL("./sqlite-worker.js", self), eval: false };
  const entry = fileURLToPath(new URL("./sqlite-worker.ts", self));
  const tsx = createRequire(self).resolve("tsx/cjs/api");
  const source = `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(entry)});`;
  return { source, eval: true };
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/** One worker and the calls it has not answered yet. */
class WorkerLink {
  readonly worker: Worker;
  /** Settles when the worker reports its database open (or failing to open). */
  readonly opened: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited = false;
  private failure: Error | undefined;
  private closing = false;
  private opening = true;
  /** The worker's replies (`WorkerData`), and how many it has posted and this thread handled. */
  private readonly replies: MessagePort;
  private readonly posted: Int32Array;
  private handled = 0;

  constructor(
    options: SqliteStorageOptions,
    onExit: (link: WorkerLink, err: Error | null) => void,
  ) {
    const { source, eval: isEval } = workerSource();
    const channel = new MessageChannel();
    const replyCount = new SharedArrayBuffer(4);
    this.replies = channel.port1;
    this.posted = new Int32Array(replyCount);
    const data: WorkerData = { options, replies: channel.port2, replyCount };
    this.worker = new Worker(source, {
      eval: isEval,
      workerData: data,
      transferList: [channel.port2],
      // The worker takes none of the parent's flags (e.g. `-e`, or a loader it cannot use).
      execArgv: [],
    });
    let settleOpen!: { resolve: () => void; reject: (err: Error) => void };
    this.opened = new Promise<void>((resolve, reject) => {
      settleOpen = { resolve, reject };
    });
    // Never an unhandled rejection: callers that care await it, and calls reject on their own.
    this.opened.catch(() => {});

    this.onReply = (msg: WorkerReply) => {
      this.handled += 1;
      switch (msg.kind) {
        case "opened":
          this.opening = false;
          this.updateRef();
          settleOpen.resolve();
          return;
        case "open_failed":
          this.failure = fromWireError(msg.error);
          settleOpen.reject(this.failure);
          void this.worker.terminate();
          return;
        case "result":
          this.settle(msg.id, (p) => p.resolve(msg.value));
          return;
        case "error":
          this.settle(msg.id, (p) => p.reject(fromWireError(msg.error)));
          return;
        default:
          return exhaustiveReply(msg);
      }
    };
    this.replies.on("message", this.onReply);
    this.worker.on("error", (err) => {
      this.failure ??= err;
    });
    this.worker.on("messageerror", (err) => {
      this.failure ??= err;
      void this.worker.terminate();
    });
    this.worker.on("exit", (code) => {
      // Replies posted before the exit still count: a commit that answered is not failed.
      this.settleArrived();
      this.replies.close();
      this.exited = true;
      const err = this.failure ?? new SqliteWorkerExitedError(`exit code ${code}`);
      settleOpen.reject(err);
      const pending = [...this.pending.values()];
      this.pending.clear();
      for (const p of pending) p.reject(this.closing ? err : asExited(err));
      onExit(this, this.closing ? null : err);
    });
  }

  get alive(): boolean {
    return !this.exited;
  }

  private readonly onReply: (msg: WorkerReply) => void;

  /**
   * Handles now, synchronously, the replies the worker has posted that the event loop has not
   * delivered yet. The loop delivers them in its poll phase, behind every socket that became
   * readable before: a loop that has fallen behind runs thousands of answers first.
   */
  settleArrived(): void {
    if (this.exited || Atomics.load(this.posted, 0) === this.handled) return;
    for (;;) {
      const got = receiveMessageOnPort(this.replies);
      if (got === undefined) return;
      this.onReply(got.message as WorkerReply);
    }
  }

  request(make: (id: number) => WorkerRequest): Promise<unknown> {
    if (this.exited) return Promise.reject(this.failure ?? new SqliteWorkerExitedError("exited"));
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      // Posting first: arguments that cannot be cloned reject here, leaving nothing pending.
      this.worker.postMessage(make(id));
      this.pending.set(id, { resolve, reject });
      this.updateRef();
    });
  }

  /** Closes the database in the worker and waits until the worker has ended. */
  async close(): Promise<void> {
    if (this.exited) return;
    this.closing = true;
    const ended = new Promise<void>((resolve) => this.worker.once("exit", () => resolve()));
    try {
      await this.request((id) => ({ kind: "close", id }));
    } catch {
      // The worker died while closing: its connection is gone with it, which is what close wants.
    }
    await this.worker.terminate();
    await ended;
  }

  private settle(id: number, with_: (p: Pending) => void): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    this.updateRef();
    with_(p);
  }

  /**
   * An idle worker does not keep the process alive, as an open database in-thread does not; one
   * that is opening or has calls in flight does, or a process awaiting them could end early.
   */
  private updateRef(): void {
    if (this.exited) return;
    if (this.opening || this.pending.size > 0) {
      this.worker.ref();
      this.replies.ref();
    } else {
      this.worker.unref();
      this.replies.unref();
    }
  }
}

function exhaustiveReply(msg: never): never {
  throw new Error(`unknown reply from the SQLite worker: ${JSON.stringify(msg)}`);
}

/** A call the worker never answered: failed opening is reported as such, the rest as an exit. */
function asExited(err: Error): Error {
  return err instanceof SqliteWorkerExitedError ? err : new SqliteWorkerExitedError(err.message);
}

/** The main thread's side: forwards every call to the current worker, starting one when needed. */
class SqliteThreadStorage implements Storage {
  readonly quizzes: QuizStore;
  readonly bank: QuestionBankStore;
  readonly sessions: SessionStore;
  readonly meta: MetaStore;
  readonly images: ImageStore;
  private link: WorkerLink | undefined;
  private closing: Promise<void> | undefined;
  /** This storage's marks are `<nonce>:<n>`: another process's marks on the same file never match. */
  private readonly markNonce = randomUUID();
  private writesMarked = 0;
  /** performance.now() of recent unexpected worker exits, oldest first. */
  private exitTimes: number[] = [];
  private restartNotBefore = 0;
  /** How many exits the last pause followed. */
  private burst = 0;
  /** Whole sessions are read through this one (see the file's comment); started at the first read. */
  private reader: SqliteThreadStorage | undefined;

  constructor(private readonly options: SqliteThreadStorageOptions) {
    this.quizzes = this.forward("quizzes");
    this.bank = this.forward("bank");
    const sessions = this.forward("sessions");
    this.sessions = {
      ...sessions,
      write: (batch, fences) => this.markedWrite(batch, fences),
      load: (id) => (this.readerOf()?.sessions ?? sessions).load(id),
    };
    this.meta = this.forward("meta");
    this.images = this.forward("images");
  }

  /** Starts the first worker and waits until its database is open. */
  async open(): Promise<void> {
    const link = this.current();
    try {
      await link.opened;
    } catch (err) {
      await link.close();
      throw err;
    }
  }

  async ping(): Promise<void> {
    await this.request((id) => ({ kind: "ping", id }));
  }

  settleArrived(): void {
    this.link?.settleArrived();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      // The reader first: the writer's connection, closing last, checkpoints the log.
      await this.reader?.close();
      const link = this.link;
      this.link = undefined;
      await link?.close();
    })();
    return this.closing;
  }

  /** The reader, started when first needed; none for a reader itself or a ":memory:" database. */
  private readerOf(): SqliteThreadStorage | undefined {
    const { path, readOnly, busyTimeoutMs, onReaderExit } = this.options;
    if (readOnly === true || isMemoryPath(path) || this.closing) return undefined;
    this.reader ??= new SqliteThreadStorage({
      path,
      readOnly: true,
      ...(busyTimeoutMs === undefined ? {} : { busyTimeoutMs }),
      ...(onReaderExit === undefined ? {} : { onWorkerExit: onReaderExit }),
    });
    return this.reader;
  }

  private request(make: (id: number) => WorkerRequest): Promise<unknown> {
    if (this.closing) return Promise.reject(new Error("the SQLite storage is closed"));
    const wait = this.restartNotBefore - performance.now();
    if (!this.link?.alive && wait > 0) {
      return Promise.reject(
        new SqliteWorkerExitedError(
          `it stopped ${this.burst} times in a row; the next start in ${Math.ceil(wait)} ms`,
        ),
      );
    }
    return this.current().request(make);
  }

  /**
   * A session write with its commit mark. When the worker dies before answering, a fresh one
   * reads the mark: the batch committed (resolve) or did not (reject with the exit).
   */
  private async markedWrite(
    batch: readonly SessionWrite[],
    fences?: ReadonlyMap<SessionId, number>,
  ): Promise<void> {
    if (batch.length === 0) return;
    const n = ++this.writesMarked;
    const mark: CommitMark = { key: COMMIT_MARK_KEY, value: `${this.markNonce}:${n}` };
    try {
      await this.request((id) => ({
        kind: "call",
        id,
        store: "sessions",
        method: "write",
        args: [batch, fences, mark],
      }));
    } catch (err) {
      if (!(err instanceof SqliteWorkerExitedError) || !(await this.committed(n))) throw err;
    }
  }

  /** Whether this storage's write number `n` committed, as its mark shows; false when unknown. */
  private async committed(n: number): Promise<boolean> {
    try {
      const value = await this.meta.get(COMMIT_MARK_KEY);
      const [nonce, last] = (value ?? "").split(":");
      // Marks are written in order, so a later write's mark means this one committed too.
      return nonce === this.markNonce && Number(last) >= n;
    } catch {
      return false;
    }
  }

  private noteExit(): void {
    const now = performance.now();
    const window = this.options.restartWindowMs ?? 10_000;
    this.exitTimes = [...this.exitTimes.filter((t) => now - t < window), now];
    if (this.exitTimes.length >= (this.options.restartBurst ?? 3)) {
      this.restartNotBefore = now + (this.options.restartPauseMs ?? 5_000);
      this.burst = this.exitTimes.length;
      this.exitTimes = [];
    }
  }

  private current(): WorkerLink {
    if (this.link?.alive) return this.link;
    const {
      onWorkerStart,
      onWorkerExit,
      onReaderExit: _readerExit,
      restartBurst: _burst,
      restartWindowMs: _window,
      restartPauseMs: _pause,
      ...open
    } = this.options;
    const link = new WorkerLink(open, (exited, err) => {
      if (this.link === exited) this.link = undefined;
      if (err !== null) {
        this.noteExit();
        onWorkerExit?.(err);
      }
    });
    this.link = link;
    onWorkerStart?.(link.worker);
    return link;
  }

  private forward<S extends StoreName>(store: S): Storage[S] {
    const methods: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
    for (const method of Object.keys(STORE_METHODS[store])) {
      methods[method] = (...args) =>
        this.request((id) => ({ kind: "call", id, store, method, args }));
    }
    return methods as unknown as Storage[S];
  }
}

/**
 * Opens (creating when needed) the SQLite database at `opts.path` in a worker thread, brings its
 * schema up to date there, and returns the stores over it. `close()` closes the database and
 * ends the worker.
 */
export async function openSqliteThreadStorage(opts: SqliteThreadStorageOptions): Promise<Storage> {
  const storage = new SqliteThreadStorage(opts);
  await storage.open();
  return storage;
}
