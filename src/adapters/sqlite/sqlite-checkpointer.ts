/**
 * Checkpoints of the SQLite write-ahead log, off the commit path: a thread of its own with its own
 * connection looks at the log every `intervalMs` and, once `pages` of it are not yet copied into
 * the database file (SQLite's own threshold, 1,000), copies them (`PRAGMA
 * wal_checkpoint(PASSIVE)`, which never waits for the writer and never makes it wait).
 *
 * Why: left to SQLite, the writer checkpoints inside the commit that fills the log to 1,000 pages,
 * and that commit waits for every page copied and for the database file's fsync. With answers
 * (each touches ~3 pages at random: its index entry, its participant's score, its session's
 * sequence index) that was one commit in ~30 during a live question's burst, 10–12 ms longer than
 * the others (a micro-benchmark of 30-answer batches over 100 sessions of 100, in the issue-10
 * note: commit p99 12–15 ms with SQLite's checkpoints, 4–5 ms with none in the commits). The
 * acknowledgements of every answer in that batch, and of the batches queued behind it, waited.
 *
 * The writer keeps a backstop (`WRITER_AUTOCHECKPOINT_PAGES`): under a steady stream of commits a
 * checkpoint that runs beside them rarely finds the log fully copied, and SQLite starts the log
 * over only then. When the log reaches the backstop the writer checkpoints in its commit as
 * before, but finds nearly everything already copied, so that commit copies only the last pages;
 * the next write starts the log over. The log file is not truncated: it stays as large as it grew
 * (at most the backstop, ~40 MB, plus a commit or two).
 *
 * Crash safety is SQLite's: a checkpoint copies only committed pages and the log stays the
 * authority until it is started over. The checkpointer holds no state; if it dies the writer's
 * backstop still bounds the log, and `SqliteThreadStorage` starts another.
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** The writer's own checkpoint threshold while a checkpointer runs (pages of the log). */
export const WRITER_AUTOCHECKPOINT_PAGES = 10_000;
/** How often the checkpointer looks at the log. */
export const CHECKPOINT_INTERVAL_MS = 100;
/**
 * Pages of log not yet copied at which it checkpoints: SQLite's own threshold. A checkpoint costs
 * an fsync of the database file and copies each page once however often it changed, so copying
 * every interval whatever there was (the first version) cost more than SQLite's checkpoints:
 * `npm run bench` (1,000 players) used 8 % more server CPU per answer.
 */
export const CHECKPOINT_PAGES = 1_000;

export interface CheckpointerOptions {
  /** The database file (not ":memory:", which has no log). */
  path: string;
  synchronous: "FULL" | "NORMAL";
  intervalMs: number;
  /** Pages of log not yet copied at which a checkpoint runs. */
  pages: number;
}

/**
 * Pages of the log not yet copied into the database file, from the first 100 bytes of the
 * `-shm` file (the wal-index, sqlite.org/walformat.html): `mxFrame`, the last valid frame, at
 * offset 16 of the header, and `nBackfill`, the frames already copied, at offset 96 (in the
 * checkpoint information after the header's two copies), both 32-bit in the machine's byte
 * order. Read without a lock, it may be a write behind: it only decides whether to checkpoint.
 * Self-contained: its source is also the checkpointer thread's (`PROGRAM`).
 */
export function uncopiedFrames(header: Uint8Array, littleEndian: boolean): number {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const last = view.getUint32(16, littleEndian);
  const copied = view.getUint32(96, littleEndian);
  // After the log is started over, frames count from 1 again and nothing is copied yet.
  return last >= copied ? last - copied : last;
}

/**
 * The thread's program: CommonJS evaluated as the worker's source, so it loads nothing of ours
 * (neither tsx nor the build is needed) and starts in milliseconds. better-sqlite3 is required by
 * the absolute path this module resolved. Every interval it reads the wal-index header (a
 * hundred bytes; `uncopiedFrames`) and checkpoints when enough of the log is not yet copied, or
 * when the header cannot be read. A checkpoint that fails (the file locked by a backup, say) is
 * tried again at the next interval; the writer's backstop covers the meanwhile.
 */
const PROGRAM = `
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const os = require("node:os");
const Database = require(workerData.driver);
const uncopiedFrames = ${uncopiedFrames.toString()};
const db = new Database(workerData.path);
db.pragma("synchronous = " + workerData.synchronous);
const header = new Uint8Array(100);
const littleEndian = os.endianness() === "LE";
let shm = -1;
function due() {
  try {
    if (shm < 0) shm = fs.openSync(workerData.path + "-shm", "r");
    if (fs.readSync(shm, header, 0, 100, 0) < 100) return true;
    return uncopiedFrames(header, littleEndian) >= workerData.pages;
  } catch {
    return true;
  }
}
const timer = setInterval(() => {
  if (!due()) return;
  try { db.pragma("wal_checkpoint(PASSIVE)"); } catch {}
}, workerData.intervalMs);
parentPort.on("message", () => {
  clearInterval(timer);
  if (shm >= 0) fs.closeSync(shm);
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
