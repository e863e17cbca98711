/**
 * Answer-write cost (A-5: every acknowledgement waits for one). Not a test: prints, for SQLite
 * with synchronous=FULL and NORMAL, with the storage in the main thread (`openSqliteStorage`)
 * and in a worker thread (`openSqliteThreadStorage`, the app's default), the time of one
 * `SessionStore.write` holding 1, 10, 100 and 1,000 `answer_put` writes, the answers per second
 * that makes, and how long the main thread's event loop was busy per write (what a server
 * cannot spend on fan-out and acknowledgements meanwhile). The SQLite database is a temp file on
 * the OS temp dir's disk. For Postgres (`runPostgresStorageBench`, in a schema of its own that
 * it drops), the same writes fenced as a cluster instance makes them, and this process's CPU
 * per write (the pg client and Kysely; Postgres's own work is in the time, not the CPU). Each
 * measurement is capped in both calls and wall time.
 *
 *   npx tsx bench/storage.ts [postgres://postgres@127.0.0.1:5432/test]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { openPostgresStorage } from "../src/adapters/postgres/postgres-storage.js";
import {
  openSqliteStorage,
  WAL_AUTOCHECKPOINT_PAGES,
} from "../src/adapters/sqlite/sqlite-storage.js";
import { openSqliteThreadStorage } from "../src/adapters/sqlite/sqlite-thread-storage.js";
import {
  asParticipantId,
  asQuestionId,
  asQuizId,
  asSessionId,
  asUserId,
  type SessionId,
} from "../src/domain/ids.js";
import type { Question } from "../src/domain/quiz.js";
import { defaultSettings } from "../src/domain/session-settings.js";
import type { SessionWrite, Storage } from "../src/ports/storage.js";
import { freshSchema } from "./cluster.js";
import { summarize } from "./stats.js";

/**
 * What a batch holds: answers alone (a live question), or each answer followed by the question
 * served next to its player (a self-paced session's batches: seed 001, seed 003's plan).
 */
export type BatchShape = "answers" | "answers+served";

export interface StorageBenchRow {
  synchronous: "FULL" | "NORMAL";
  shape: BatchShape;
  /** Where the database connection runs. */
  thread: "main" | "worker";
  batchSize: number;
  calls: number;
  msPerWrite: number;
  answersPerSec: number;
  /** Main-thread event-loop busy time per write (event loop utilization's `active`). */
  mainBusyMsPerWrite: number;
}

export interface StorageBenchOptions {
  batchSizes?: readonly number[];
  /** Wall-time budget per measurement. */
  maxMs?: number;
  /** `write` calls cap per measurement. */
  maxCalls?: number;
}

const MIN_CALLS = 3;
const SHAPES: readonly BatchShape[] = ["answers", "answers+served"];

/**
 * Times fenced `write`s of `batch()` after one to warm up: at least `MIN_CALLS`, then until
 * `maxMs` of writing or `maxCalls` calls. The main thread's busy time (event loop utilization)
 * and this process's CPU are summed over the same calls.
 */
async function timeWrites(
  storage: Storage,
  batch: () => SessionWrite[],
  fences: ReadonlyMap<SessionId, number>,
  maxCalls: number,
  maxMs: number,
): Promise<{ calls: number; msPerWrite: number; busyMs: number; cpuMs: number }> {
  await storage.sessions.write(batch(), fences);
  let calls = 0;
  let elapsed = 0;
  let busyMs = 0;
  let cpuUs = 0;
  while (calls < maxCalls && (calls < MIN_CALLS || elapsed < maxMs)) {
    const writes = batch();
    const elu = performance.eventLoopUtilization();
    const cpu = process.cpuUsage();
    const start = performance.now();
    await storage.sessions.write(writes, fences);
    elapsed += performance.now() - start;
    busyMs += performance.eventLoopUtilization(elu).active;
    const used = process.cpuUsage(cpu);
    cpuUs += used.user + used.system;
    calls++;
  }
  return { calls, msPerWrite: elapsed / calls, busyMs, cpuMs: cpuUs / 1_000 };
}

/** Answers a second at `msPerWrite` per batch of `size`. */
function perSecond(size: number, msPerWrite: number): number {
  return msPerWrite > 0 ? (size * 1_000) / msPerWrite : Number.POSITIVE_INFINITY;
}

export async function runStorageBench(
  options: StorageBenchOptions = {},
): Promise<StorageBenchRow[]> {
  const batchSizes = options.batchSizes ?? [1, 10, 100, 1_000];
  const maxMs = options.maxMs ?? 1_000;
  const maxCalls = options.maxCalls ?? 2_000;
  const players = Math.max(...batchSizes);
  const rows: StorageBenchRow[] = [];

  const variants = (["FULL", "NORMAL"] as const).flatMap((synchronous) =>
    (["main", "worker"] as const).map((thread) => ({ synchronous, thread })),
  );
  for (const { synchronous, thread } of variants)
    for (const shape of SHAPES) {
      const dir = mkdtempSync(join(tmpdir(), "quizwire-bench-"));
      const path = join(dir, "bench.db");
      const storage: Storage =
        thread === "main"
          ? await openSqliteStorage({ path, synchronous })
          : await openSqliteThreadStorage({ path, synchronous });
      try {
        const { sessionId, setup, batchOf } = benchWrites(players);
        await storage.sessions.write(setup);
        // Fenced, as the engine's every write is (its room's epoch).
        const fences = new Map([[sessionId, 1]]);
        const served = shape === "answers+served";

        for (const size of batchSizes) {
          const m = await timeWrites(storage, () => batchOf(size, served), fences, maxCalls, maxMs);
          rows.push({
            synchronous,
            shape,
            thread,
            mainBusyMsPerWrite: m.busyMs / m.calls,
            batchSize: size,
            calls: m.calls,
            msPerWrite: m.msPerWrite,
            answersPerSec: perSecond(size, m.msPerWrite),
          });
        }
      } finally {
        await storage.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  return rows;
}

export interface CommitTailRow {
  /** The write-ahead log's pages between checkpoints (`wal_autocheckpoint`). */
  walPages: number;
  writes: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  totalMs: number;
  /** This process's CPU over the writes, the SQLite thread's included. */
  cpuMs: number;
}

/**
 * A live room's commits: every one of `players` players answers each of `questions` questions,
 * in fenced writes of `perWrite` answers (the group commit's start threshold, server/app.ts), one
 * after another, on the SQLite thread with FULL sync. Prints each write's time as percentiles: a
 * checkpoint (the log copied into the database file) lands on the write that passes
 * `walPages`, and every acknowledgement in that write waits for it.
 */
export async function runCommitTailBench(
  walPagesList: readonly number[] = [1_000, WAL_AUTOCHECKPOINT_PAGES],
  players = 10_000,
  questions = 6,
  perWrite = 24,
): Promise<CommitTailRow[]> {
  const rows: CommitTailRow[] = [];
  for (const walPages of walPagesList) {
    const dir = mkdtempSync(join(tmpdir(), "quizwire-bench-"));
    const storage = await openSqliteThreadStorage({
      path: join(dir, "bench.db"),
      synchronous: "FULL",
      walAutocheckpointPages: walPages,
    });
    try {
      const { sessionId, setup, answerOf } = benchWrites(players);
      await storage.sessions.write(setup);
      const fences = new Map([[sessionId, 1]]);
      const times: number[] = [];
      const cpu = process.cpuUsage();
      const started = performance.now();
      for (let q = 0; q < questions; q++) {
        for (let from = 0; from < players; from += perWrite) {
          const writes: SessionWrite[] = [];
          for (let i = from; i < Math.min(players, from + perWrite); i++)
            writes.push(answerOf(q, i));
          const t = performance.now();
          await storage.sessions.write(writes, fences);
          times.push(performance.now() - t);
        }
      }
      const totalMs = performance.now() - started;
      const used = process.cpuUsage(cpu);
      const s = summarize(times);
      rows.push({
        walPages,
        writes: s.count,
        p50Ms: s.p50,
        p99Ms: s.p99,
        maxMs: s.max,
        totalMs,
        cpuMs: (used.user + used.system) / 1_000,
      });
    } finally {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

export function formatCommitTailRows(rows: readonly CommitTailRow[]): string {
  const lines = [
    `${"wal pages".padStart(9)} ${"writes".padStart(7)} ${"p50 ms".padStart(7)} ${"p99 ms".padStart(7)} ${"max ms".padStart(7)} ${"total ms".padStart(9)} ${"CPU ms".padStart(7)}`,
  ];
  for (const r of rows) {
    lines.push(
      `${r.walPages.toLocaleString("en-US").padStart(9)} ${r.writes.toLocaleString("en-US").padStart(7)} ${r.p50Ms.toFixed(2).padStart(7)} ${r.p99Ms.toFixed(2).padStart(7)} ${r.maxMs.toFixed(2).padStart(7)} ${Math.round(r.totalMs).toLocaleString("en-US").padStart(9)} ${Math.round(r.cpuMs).toLocaleString("en-US").padStart(7)}`,
    );
  }
  return lines.join("\n");
}

export interface PostgresStorageBenchRow {
  shape: BatchShape;
  batchSize: number;
  calls: number;
  msPerWrite: number;
  answersPerSec: number;
  /** This process's CPU per write: Kysely, the pg client, the event loop (not Postgres's). */
  cpuMsPerWrite: number;
}

/**
 * The same answer batches on Postgres at `url`, each `write` fenced as a cluster instance's are
 * (the fence check is a statement of every batch), in a schema of the run's own, dropped after.
 */
export async function runPostgresStorageBench(
  url: string,
  options: StorageBenchOptions = {},
): Promise<PostgresStorageBenchRow[]> {
  const batchSizes = options.batchSizes ?? [1, 10, 100, 1_000];
  const maxMs = options.maxMs ?? 1_000;
  const maxCalls = options.maxCalls ?? 2_000;
  const schema = await freshSchema(url, Date.now());
  const rows: PostgresStorageBenchRow[] = [];
  try {
    const storage = await openPostgresStorage({ url: schema.url, poolSize: 2 });
    try {
      const { sessionId, setup, batchOf } = benchWrites(Math.max(...batchSizes));
      await storage.sessions.write(setup);
      const fences = new Map([[sessionId, 1]]);
      for (const shape of SHAPES)
        for (const size of batchSizes) {
          const served = shape === "answers+served";
          const m = await timeWrites(storage, () => batchOf(size, served), fences, maxCalls, maxMs);
          rows.push({
            shape,
            batchSize: size,
            calls: m.calls,
            msPerWrite: m.msPerWrite,
            answersPerSec: perSecond(size, m.msPerWrite),
            cpuMsPerWrite: m.cpuMs / m.calls,
          });
        }
    } finally {
      await storage.close();
    }
  } finally {
    await schema.drop();
  }
  return rows;
}

/** One row of `runStandingsBench`. */
export interface StandingsBenchRow {
  store: "SQLite" | "Postgres";
  players: number;
  calls: number;
  /** Mean time of one `write` holding the session's final standings. */
  msPerWrite: number;
}

/**
 * The end of a game: one `standings_put` naming every player's final score and rank, the write
 * that ends a session (`Room`'s end). It goes through the same group committer as every room's
 * answers, so while it runs no acknowledgement on the instance can be given. For SQLite (the
 * worker thread, synchronous=FULL, a temp file) and, with `url`, Postgres (a schema of its own,
 * dropped after): `calls` writes per size, each the end of a session of its own.
 */
export async function runStandingsBench(
  url: string | null,
  sizes: readonly number[] = [1_000, 10_000],
  calls = 3,
): Promise<StandingsBenchRow[]> {
  const rows: StandingsBenchRow[] = [];
  // A session ends once: each call is the first standings_put of a session of its own.
  const measure = async (store: StandingsBenchRow["store"], storage: Storage, players: number) => {
    let elapsed = 0;
    for (let c = 1; c <= calls; c++) {
      const { sessionId, setup } = benchWrites(players, c);
      await storage.sessions.write(setup);
      const standings = Array.from({ length: players }, (_, i) => ({
        participantId: asParticipantId(`p${(i * 7 + c) % players}-${c}`),
        score: 1_000_000 - i,
        rank: i + 1,
      }));
      const start = performance.now();
      await storage.sessions.write([{ kind: "standings_put", sessionId, standings }]);
      elapsed += performance.now() - start;
    }
    rows.push({ store, players, calls, msPerWrite: elapsed / calls });
  };
  for (const players of sizes) {
    const dir = mkdtempSync(join(tmpdir(), "quizwire-bench-"));
    const storage = await openSqliteThreadStorage({ path: join(dir, "bench.db") });
    try {
      await measure("SQLite", storage, players);
    } finally {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (url === null) return rows;
  for (const players of sizes) {
    const schema = await freshSchema(url, Date.now());
    try {
      const storage = await openPostgresStorage({ url: schema.url, poolSize: 2 });
      try {
        await measure("Postgres", storage, players);
      } finally {
        await storage.close();
      }
    } finally {
      await schema.drop();
    }
  }
  return rows;
}

export function formatStandingsRows(rows: readonly StandingsBenchRow[]): string {
  const lines = [
    `${"store".padEnd(9)} ${"players".padStart(8)} ${"calls".padStart(6)} ${"ms/write".padStart(10)}`,
  ];
  for (const r of rows) {
    lines.push(
      `${r.store.padEnd(9)} ${r.players.toLocaleString("en-US").padStart(8)} ${String(r.calls).padStart(6)} ${r.msPerWrite.toFixed(1).padStart(10)}`,
    );
  }
  return lines.join("\n");
}

/** A session with `players` participants, and batches of answers to it: each batch a question no batch used before, so each answer is an insert. */
function benchWrites(
  players: number,
  n = 0,
): {
  sessionId: SessionId;
  setup: SessionWrite[];
  /** `size` answers to a question no batch answered before; `served`: each followed by a served_put. */
  batchOf: (size: number, served?: boolean) => SessionWrite[];
  /** Player `i`'s answer to question `qi` (for a caller that numbers the questions itself). */
  answerOf: (qi: number, i: number) => SessionWrite;
} {
  /** Player `i` of this session (the setup's participants, the answers' and served questions'). */
  const playerId = (i: number) => asParticipantId(n === 0 ? `p${i}` : `p${i}-${n}`);
  const sessionId = asSessionId(n === 0 ? "bench-session" : `bench-session-${n}`);
  const question: Question = {
    id: asQuestionId("q"),
    kind: "single",
    text: "?",
    options: ["a", "b"],
    correct: [0],
    accepted: [],
    timeLimitMs: 20_000,
    multiplier: 1,
    difficulty: "easy",
    tags: [],
    points: 10,
  };
  const setup: SessionWrite[] = [
    {
      kind: "session_created",
      session: {
        id: sessionId,
        pin: String(482913 + n),
        quizId: asQuizId("bench-quiz"),
        title: "bench",
        settings: defaultSettings("live"),
        questions: [question],
        hostUserId: asUserId("host"),
        createdAt: 0,
        state: {
          phase: { kind: "active" },
          locked: false,
          epoch: 1,
          seq: 0,
          startedAt: 0,
          endedAt: null,
        },
      },
    },
  ];
  for (let i = 0; i < players; i++) {
    setup.push({
      kind: "participant_put",
      participant: {
        id: playerId(i),
        sessionId,
        userId: asUserId(`u${i}`),
        name: `Player ${i}`,
        role: "player",
        joinOrder: i,
        joinedAt: 0,
        status: "active",
        resumeTokenHash: "0".repeat(64),
        score: 0,
        kickReason: null,
      },
    });
  }

  let seq = 0;
  /** Player `i`'s answer to question `qi`. */
  const answerOf = (qi: number, i: number): SessionWrite => ({
    kind: "answer_put",
    answer: {
      sessionId,
      participantId: playerId(i),
      questionIndex: qi,
      questionId: "q",
      answer: { kind: "choice", index: 0 },
      correct: true,
      points: 900,
      elapsedMs: 1_234,
      receivedAt: 1_700_000_000_000 + seq,
      seq: ++seq,
    },
    participantScore: 900 * (qi + 1),
  });
  // Every call answers a question index no call used before, so each answer is an insert.
  let questionIndex = 0;
  const batchOf = (size: number, served = false): SessionWrite[] => {
    const qi = questionIndex++;
    return Array.from({ length: size }, (_, i): SessionWrite[] => {
      const answer = answerOf(qi, i);
      if (!served) return [answer];
      const next: SessionWrite = {
        kind: "served_put",
        served: {
          sessionId,
          participantId: playerId(i),
          questionIndex: qi + 1,
          servedAt: 1_700_000_000_000 + seq,
        },
      };
      return [answer, next];
    }).flat();
  };
  return { sessionId, setup, batchOf, answerOf };
}

export function formatPostgresRows(rows: readonly PostgresStorageBenchRow[]): string {
  const lines = [
    `${"shape".padEnd(14)} ${"batch".padStart(6)} ${"calls".padStart(6)} ${"ms/write".padStart(10)} ${"answers/s".padStart(12)} ${"node CPU ms".padStart(12)}`,
  ];
  for (const r of rows) {
    lines.push(
      `${r.shape.padEnd(14)} ${r.batchSize.toLocaleString("en-US").padStart(6)} ${r.calls.toLocaleString("en-US").padStart(6)} ${r.msPerWrite.toFixed(3).padStart(10)} ${Math.round(r.answersPerSec).toLocaleString("en-US").padStart(12)} ${r.cpuMsPerWrite.toFixed(3).padStart(12)}`,
    );
  }
  return lines.join("\n");
}

export function formatStorageRows(rows: readonly StorageBenchRow[]): string {
  const lines = [
    `${"sync".padEnd(6)} ${"shape".padEnd(14)} ${"thread".padEnd(6)} ${"batch".padStart(6)} ${"calls".padStart(6)} ${"ms/write".padStart(10)} ${"answers/s".padStart(12)} ${"main busy ms".padStart(13)}`,
  ];
  for (const r of rows) {
    lines.push(
      `${r.synchronous.padEnd(6)} ${r.shape.padEnd(14)} ${r.thread.padEnd(6)} ${String(r.batchSize).padStart(6)} ${String(r.calls).padStart(6)} ${r.msPerWrite.toFixed(3).padStart(10)} ${Math.round(r.answersPerSec).toLocaleString("en-US").padStart(12)} ${r.mainBusyMsPerWrite.toFixed(3).padStart(13)}`,
    );
  }
  return lines.join("\n");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(
    `SQLite answer writes (one fenced SessionStore.write per batch; batch: the answers in it; shapes in bench/README.md; temp dir ${tmpdir()})`,
  );
  console.log(formatStorageRows(await runStorageBench()));
  const url = process.argv[2];
  if (url !== undefined) {
    console.log("\nPostgres answer writes (one fenced SessionStore.write per batch)");
    console.log(formatPostgresRows(await runPostgresStorageBench(url)));
  }
  console.log(
    `\nA live room's commits (10,000 players answer 6 questions, 24 answers a write, SQLite thread, FULL; wal pages ${WAL_AUTOCHECKPOINT_PAGES.toLocaleString("en-US")} is the server's, 1,000 SQLite's default)`,
  );
  console.log(formatCommitTailRows(await runCommitTailBench()));
  console.log("\nFinal standings (one standings_put naming every player)");
  console.log(formatStandingsRows(await runStandingsBench(url ?? null)));
}
