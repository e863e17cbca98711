import type BetterSqlite3 from "better-sqlite3";
import type { SessionId } from "../../domain/ids.js";
import { type CommitMark, FencedError, type SessionWrite } from "../../ports/storage.js";
import { type BatchWriter, type Run, runsOf } from "../sql/sql-storage.js";
import type { SqliteRunWriters } from "./sqlite-run-writers.js";

/** The kinds `SqliteRunWriters` store; a batch of these alone is this writer's. */
const ROW_KINDS: ReadonlySet<SessionWrite["kind"]> = new Set([
  "answer_put",
  "participant_put",
  "served_put",
  "standings_put",
]);

type RowRun = Extract<Run, { kind: keyof SqliteRunWriters }>;

/**
 * SQLite's `BatchWriter` (sql-storage.ts): a batch made only of rows that grow with the room
 * (answers, joins, questions served, final standings), with its fences and commit mark, as one
 * synchronous transaction of statements prepared once. Any other batch (a session created, its
 * state, bans) takes the portable transaction.
 *
 * Why: through Kysely, the fence check (an UPDATE), the commit mark and every run of served
 * questions were built and compiled afresh for each batch, and a self-paced session's runs
 * alternate (answer, served, answer, …), so each answer brought a compiled statement of its own.
 * `npx tsx bench/storage.ts`, the SQLite thread, FULL sync, batches of answers each followed by
 * the question served next, 2 runs each: 10 answers 1.50 / 2.02 → 1.08 / 1.21 ms a batch, 100
 * answers 7.8 / 9.6 → 5.8 / 5.7, 1,000 answers 75 / 73 → 40 / 40; answers alone gain less (10
 * answers 1.03 / 1.25 → 0.92 / 0.96 ms; at 100 and 1,000 the rows' own cost hides it).
 *
 * The fences are read, not locked with a no-op UPDATE as the portable check does (which also
 * rewrote each fenced session's row, its questions included, into the log at every commit):
 * `BEGIN IMMEDIATE` takes the database's one write lock before the read, so no claim can commit
 * between the check and the commit. The transaction runs inside Kysely's hold on the connection
 * (`db.connection()`), so it never lands inside, or overtakes, a Kysely transaction on it.
 */
export function sqliteBatchWriter(
  sqlite: BetterSqlite3.Database,
  writers: SqliteRunWriters,
): BatchWriter {
  const epochOf = sqlite.prepare<[string], { epoch: number }>(
    "select epoch from sessions where id = ?",
  );
  const putMark = sqlite.prepare<[string, string]>(
    "insert into meta (key, value) values (?, ?) on conflict (key) do update set value = excluded.value",
  );

  const store = sqlite.transaction(
    (
      runs: readonly RowRun[],
      fences: ReadonlyMap<SessionId, number> | undefined,
      mark: CommitMark | undefined,
    ) => {
      if (fences !== undefined) {
        for (const [id, writer] of fences) {
          // A session not stored passes, as in the portable check.
          const stored = epochOf.get(id)?.epoch;
          if (stored !== undefined && stored > writer) throw new FencedError(id, writer, stored);
        }
      }
      for (const run of runs) applyRun(writers, run);
      if (mark !== undefined) putMark.run(mark.key, mark.value);
    },
  );

  return async (db, batch, fences, mark) => {
    if (!batch.every((w) => ROW_KINDS.has(w.kind))) return false;
    const runs = runsOf(batch) as RowRun[];
    await db.connection().execute(async () => {
      store.immediate(runs, fences, mark);
    });
    return true;
  };
}

function applyRun(writers: SqliteRunWriters, run: RowRun): void {
  switch (run.kind) {
    case "answer_put":
      writers.answer_put(run.writes);
      break;
    case "participant_put":
      writers.participant_put(run.writes);
      break;
    case "served_put":
      writers.served_put(run.writes);
      break;
    case "standings_put":
      writers.standings_put(run.writes);
      break;
    default:
      exhaustive(run);
  }
}

function exhaustive(run: never): never {
  throw new Error(`not a row write: ${JSON.stringify(run)}`);
}
