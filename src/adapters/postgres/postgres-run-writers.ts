import { type RawBuilder, sql } from "kysely";
import { asSessionId, type SessionId } from "../../domain/ids.js";
import { FencedError } from "../../ports/storage.js";
import { answerToRow, participantToRow } from "../sql/codec.js";
import {
  type BatchWriter,
  type Db,
  isAnswersAlone,
  lastByKey,
  putServed,
  type RunWriters,
  rowKey,
  type Trx,
  type WriteOf,
} from "../sql/sql-storage.js";

/**
 * The writes that grow with the room, runs of answers and of joins and a game's final standings,
 * as statements whose text never changes: each column goes as one array parameter and `unnest`
 * turns the arrays back into rows.
 *
 * Why not Kysely's multi-row upserts (what stored them before): Kysely built and compiled one
 * with eleven parameters per row for every batch, and Postgres parsed a statement as long as
 * the batch.
 * Here Kysely compiles a few nodes, the pg client sends eleven arrays, and Postgres parses and
 * plans the same short text each time (unnamed statements: it is not prepared once).
 * The group committer runs one transaction at a time, so its cost per answer caps how many
 * answers a second one instance stores. Traced in a two-instance game of 10,000 players, a
 * question's answers came faster than batches of a few hundred were stored (60-90 ms each), and
 * acknowledgements waited behind a queue that grew to 560. Fenced batches of 100 answers went
 * from 5.1 to 3.4-3.7 ms here, and the server's CPU per batch halved (`npm run bench -- --micro`).
 *
 * The effect is `RunWriters`' (sql-storage.ts): the last write to a row stays, each answer's
 * participant gets the score it carries, a participant missing from the answer's session fails
 * the batch, and a participant's `final_rank` is left alone. The questions served to self-paced
 * learners (a few a second per session) keep the portable upsert.
 */
export function postgresRunWriters(): RunWriters {
  return {
    answer_put: putAnswers,
    participant_put: putParticipants,
    standings_put: putStandings,
    served_put: putServed,
  };
}

/** One column of `rows` as an array, for one `unnest` parameter. */
function column<R, T>(rows: readonly R[], pick: (row: R) => T): T[] {
  const out = new Array<T>(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = pick(rows[i] as R);
  return out;
}

/**
 * The upsert of a run's answers (the last write to each answer), as a statement to put in a
 * WITH; `guard`, when given, is a WHERE that must hold for anything to be inserted.
 */
function answersUpsert(writes: readonly WriteOf<"answer_put">[], guard?: RawBuilder<unknown>) {
  const rows = lastByKey(writes, (w) =>
    rowKey(w.answer.sessionId, w.answer.participantId, w.answer.questionIndex),
  ).map((w) => answerToRow(w.answer));
  const col = <T>(pick: (r: (typeof rows)[number]) => T): T[] => column(rows, pick);
  return sql`insert into answers (session_id, participant_id, question_index, question_id,
      answer_json, is_correct, points, elapsed_ms, received_at, seq, request_key)
    select * from unnest(${col((r) => r.session_id)}::text[],
      ${col((r) => r.participant_id)}::text[], ${col((r) => r.question_index)}::integer[],
      ${col((r) => r.question_id)}::text[], ${col((r) => r.answer_json)}::text[],
      ${col((r) => r.is_correct)}::integer[], ${col((r) => r.points)}::integer[],
      ${col((r) => r.elapsed_ms)}::integer[], ${col((r) => r.received_at)}::bigint[],
      ${col((r) => r.seq)}::integer[], ${col((r) => r.request_key)}::text[])
    ${guard ?? sql``}
    on conflict (session_id, participant_id, question_index) do update set
      question_id = excluded.question_id, answer_json = excluded.answer_json,
      is_correct = excluded.is_correct, points = excluded.points,
      elapsed_ms = excluded.elapsed_ms, received_at = excluded.received_at,
      seq = excluded.seq, request_key = excluded.request_key`;
}

/** The last score a run gives each participant (one UPDATE may set a row only once), as a table. */
function lastScores(writes: readonly WriteOf<"answer_put">[]) {
  const scores = lastByKey(writes, (w) => rowKey(w.answer.sessionId, w.answer.participantId));
  return {
    count: scores.length,
    table: sql`unnest(${scores.map((w) => w.answer.sessionId)}::text[],
      ${scores.map((w) => w.answer.participantId)}::text[],
      ${scores.map((w) => w.participantScore)}::integer[])`,
  };
}

async function putAnswers(writes: readonly WriteOf<"answer_put">[], trx: Trx): Promise<void> {
  const scores = lastScores(writes);
  // One statement, one round trip: the insert runs as a data-modifying WITH (Postgres runs it
  // whether or not the rest reads it), and the row count is the UPDATE's.
  const result = await sql`with stored as (${answersUpsert(writes)})
    update participants set score = v.score
    from ${scores.table} as v(session_id, id, score)
    where participants.session_id = v.session_id and participants.id = v.id`.execute(trx);
  if (Number(result.numAffectedRows ?? 0) !== scores.count) {
    throw new Error("answer_put: a participant is not in the answer's session");
  }
}

async function putParticipants(
  writes: readonly WriteOf<"participant_put">[],
  trx: Trx,
): Promise<void> {
  const rows = lastByKey(writes, (w) => w.participant.id).map((w) =>
    participantToRow(w.participant),
  );
  const col = <T>(pick: (r: (typeof rows)[number]) => T): T[] => column(rows, pick);
  await sql`insert into participants (id, session_id, user_id, name, role, join_order,
      joined_at, status, resume_token_hash, score, kick_reason)
    select * from unnest(${col((r) => r.id)}::text[], ${col((r) => r.session_id)}::text[],
      ${col((r) => r.user_id)}::text[], ${col((r) => r.name)}::text[],
      ${col((r) => r.role)}::text[], ${col((r) => r.join_order)}::integer[],
      ${col((r) => r.joined_at)}::bigint[], ${col((r) => r.status)}::text[],
      ${col((r) => r.resume_token_hash)}::text[], ${col((r) => r.score)}::integer[],
      ${col((r) => r.kick_reason)}::text[])
    on conflict (id) do update set
      session_id = excluded.session_id, user_id = excluded.user_id, name = excluded.name,
      role = excluded.role, join_order = excluded.join_order, joined_at = excluded.joined_at,
      status = excluded.status, resume_token_hash = excluded.resume_token_hash,
      score = excluded.score, kick_reason = excluded.kick_reason`.execute(trx);
}

/**
 * A game's final standings: every final rank in the session cleared, then each named
 * participant's score and rank set by one UPDATE over `unnest` arrays (the last standing of a
 * participant counts: one UPDATE sets a row once). As Kysely's `update … from (values …)` in
 * chunks of 3,333 players, 10,000 players' standings took 326 ms here (`npx tsx
 * bench/storage.ts`), and the group committer, which stores every room's answers on the instance,
 * stored nothing else meanwhile.
 */
async function putStandings(writes: readonly WriteOf<"standings_put">[], trx: Trx): Promise<void> {
  for (const w of writes) {
    await sql`update participants set final_rank = null
      where session_id = ${w.sessionId} and final_rank is not null`.execute(trx);
    const standings = lastByKey(w.standings, (s) => s.participantId);
    const result = await sql`update participants set score = v.score, final_rank = v.rank
      from unnest(${column(standings, (s) => s.participantId)}::text[],
        ${column(standings, (s) => s.score)}::integer[],
        ${column(standings, (s) => s.rank)}::integer[]) as v(id, score, rank)
      where participants.session_id = ${w.sessionId} and participants.id = v.id`.execute(trx);
    if (Number(result.numAffectedRows ?? 0) !== standings.length) {
      throw new Error(`standings_put: a participant is not in session ${w.sessionId}`);
    }
  }
}

/**
 * Postgres's `BatchWriter` (sql-storage.ts): a batch of answers alone as `answersAlone`'s one
 * statement; every other batch takes the portable transaction. (Commit marks are the SQLite
 * thread's; a batch with one is not Postgres's to take.)
 */
export const postgresBatchWriter: BatchWriter = async (db, batch, fences, mark) => {
  if (mark !== undefined || !isAnswersAlone(batch)) return false;
  await answersAlone(db, batch, fences);
  return true;
};

/**
 * A batch of answers alone, fences included, as one statement: one round trip, atomic without a
 * transaction block. The fenced sessions' rows are locked first, `FOR SHARE`: a claim (an UPDATE
 * of the row's epoch) waits for this statement, and this statement for a claim in flight, after
 * which it reads the epoch the claim committed. A share lock writes nothing, where the
 * transaction's portable no-op UPDATE (`checkFences`) makes a new version of the session's row,
 * and a record of it in the write-ahead log, at every batch. If a session moved to a newer
 * epoch, or an answer's participant is not in the answer's session, nothing is written and the
 * statement says why. The same refusals as the transaction: `FencedError`, and an error for the
 * participant.
 */
export async function answersAlone(
  db: Db,
  writes: readonly WriteOf<"answer_put">[],
  fences: ReadonlyMap<SessionId, number> | undefined,
): Promise<void> {
  // Sessions locked in id order, as `id in (…)` through the primary key did: two writers that
  // fence the same sessions cannot each hold one the other waits for.
  const fenced = fences === undefined ? [] : [...fences].sort(([a], [b]) => (a < b ? -1 : 1));
  const fenceIds = fenced.map(([id]) => id);
  const fenceEpochs = fenced.map(([, epoch]) => epoch);
  const { rows: result } = await sql<{
    fenced_id: string | null;
    stored_epoch: number | string | null;
    writer_epoch: number | null;
    missing: boolean;
  }>`with fence (id, epoch) as (
      select * from unnest(${fenceIds}::text[], ${fenceEpochs}::integer[])
    ), locked as (
      select sessions.id, sessions.epoch as stored_epoch, fence.epoch as writer_epoch
      from sessions join fence on sessions.id = fence.id
      order by sessions.id
      for share of sessions
    ), fenced as (
      select id, stored_epoch, writer_epoch from locked where stored_epoch > writer_epoch limit 1
    ), score (session_id, id, score) as (
      select * from ${lastScores(writes).table}
    ), missing as (
      -- Joined on the primary key alone: on a fresh table's statistics the planner took the
      -- session index for both columns and read every participant of the session per answer.
      select 1 from score left join participants p on p.id = score.id
      where p.id is null or p.session_id <> score.session_id
      limit 1
    ), stored as (${answersUpsert(
      writes,
      sql`where not exists (select 1 from fenced) and not exists (select 1 from missing)`,
    )}
    ), scored as (
      update participants set score = score.score from score
      where participants.id = score.id
        and not exists (select 1 from fenced) and not exists (select 1 from missing)
    )
    select (select id from fenced) as fenced_id, (select stored_epoch from fenced) as stored_epoch,
      (select writer_epoch from fenced) as writer_epoch,
      exists (select 1 from missing) as missing`.execute(db);
  const r = result[0];
  if (r?.fenced_id != null && r.writer_epoch != null && r.stored_epoch != null) {
    throw new FencedError(asSessionId(r.fenced_id), Number(r.writer_epoch), Number(r.stored_epoch));
  }
  if (r?.missing) throw new Error("answer_put: a participant is not in the answer's session");
}
