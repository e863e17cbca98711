/**
 * Checkpoints of the SQLite write-ahead log, off the commit path: a thread of its own with its own
 * connection copies committed pages from the log into the database file every `intervalMs`
 * (`PRAGMA wal_checkpoint(PASSIVE)`, which never waits for the writer and never makes it wait).
 *
 * Why: left to SQLite, the writer checkpoints inside the commit that fills the log to 1,000 pages,
 * and that commit waits for every page copied and for the database file's fsync. With answers
 * (each touches ~3 pages at random: its index entry, its participant's score, its session's
 * sequence index) that was one commit in ~30 during a live question's burst, 10–12 ms longer than
 * the others (a micro-benchmark of 30-answer batches over 100 sessions of 100, in the issue-10
 * note: commit p99 12–15 ms with SQLite's checkpoints, 4–5 ms with none in the commits): the acknowledgements of every answer in that batch,
 * and of the batches queued behind it, waited for it.
 *
 * The writer keeps a backstop (`WRITER_AUTOCHECKPOINT_PAGES`): under a steady stream of commits a
 * checkpoint that runs beside them rarely finds the log fully copied, and SQLite starts the log
 * over only then. When the log reaches the backstop the writer checkpoints in its commit as
 * before, but finds nearly everything already copied, so that commit copies only the pages of
 * the last interval; the next write starts the log over. The log file is not truncated: it stays
 * as large as it grew (at most the backstop, ~40 MB, plus one interval of pages).
 *
 * Crash safety is SQLite's: a checkpoint copies only committed pages and the log stays the
 * authority until it is started over. The checkpointer holds no state; if it dies the writer's
 * backstop still bounds the log, and `SqliteThreadStorage` starts another.
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** The writer's own checkpoint threshold while a checkpointer runs (pages of the log). */
export const WRITER_AUTOCHECKPOINT_PAGES = 10_000;
/** How often the checkpointer copies the log into the database file. */
export const CHECKPOINT_INTERVAL_MS = 250;

export interface CheckpointerOptions {
  /** The database file (not ":memory:", which has no log). */
  path: string;
  synchronous: "FULL" | "NORMAL";
  intervalMs: number;
}

/**
 * The thread's program: CommonJS evaluated as the worker's source, so it loads nothing of ours
 * (neither tsx nor the build is needed) and starts in milliseconds. better-sqlite3 is required by
 * the absolute path this module resolved. A checkpoint that fails (the file locked by a backup,
 * say) is tried again at the next interval; the writer's backstop covers the meanwhile.
 */
const PROGRAM = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma("synchronous = " + workerData.synchronous);
const timer = setInterval(() => {
  try { db.pragma("wal_checkpoint(PASSIVE)"); } catch {}
}, workerData.intervalMs);
parentPort.on("message", () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

const driver = createRequire(import.meta.url).resolve("better-sqlite3");

/** A running checkpointer thread. */
export class Checkpointer {
  readonly worker: Worker;
  private stopping = false;
  readonly exited: Promise<void>;

  /** `onUnexpectedExit`: the thread ended without `stop` (its error, when it threw one). */
  constructor(options: CheckpointerOptions, onUnexpectedExit: (err: Error) => void) {
    this.worker = new Worker(PROGRAM, {
      eval: true,
      workerData: { ...options, driver },
      execArgv: [],
    });
    // Never keeps the process alive: it has nothing to finish that the log does not hold.
    this.worker.unref();
    let failure: Error | undefined;
    this.worker.on("error", (err) => {
      failure = err;
    });
    this.exited = new Promise((resolve) => {
      this.worker.once("exit", (code) => {
        if (!this.stopping) onUnexpectedExit(failure ?? new Error(`exit code ${code}`));
        resolve();
      });
    });
  }

  /** Closes its connection and waits for the thread to end. */
  async stop(): Promise<void> {
    if (this.stopping) return this.exited;
    this.stopping = true;
    this.worker.postMessage("stop");
    // A thread stuck in a checkpoint still ends: terminate after a grace period.
    const grace = setTimeout(() => void this.worker.terminate(), 2_000);
    grace.unref();
    await this.exited;
    clearTimeout(grace);
  }
}
