import { sql } from "kysely";
import { answerToRow } from "../sql/codec.js";
import { lastByKey, type RunWriters, rowKey, type Trx, type WriteOf } from "../sql/sql-storage.js";

/**
 * The hottest write, a run of answers, as two statements whose text never changes: each column
 * goes as one array parameter and `unnest` turns the arrays back into rows.
 *
 * Why not the portable statements: Kysely builds and compiles a multi-row upsert with eleven
 * parameters per answer for every batch, and Postgres parses and plans that new text each time.
 * The group committer runs one transaction at a time, so its cost per answer caps how many
 * answers a second one instance stores: in a two-instance game of 10,000 players the answers of a
 * question arrived faster than batches of a few hundred were stored, and acknowledgements waited
 * behind a queue that kept growing (see the note in the commit that added this file).
 *
 * Same effect as `putAnswers` in sql-storage.ts: the last write to an answer stays, each answer's
 * participant gets the score it carries, and a participant missing from the answer's session
 * fails the batch.
 */
export function postgresRunWriters(): RunWriters {
  return { answer_put: putAnswers };
}

async function putAnswers(writes: readonly WriteOf<"answer_put">[], trx: Trx): Promise<void> {
  const rows = lastByKey(writes, (w) =>
    rowKey(w.answer.sessionId, w.answer.participantId, w.answer.questionIndex),
  ).map((w) => answerToRow(w.answer));
  const n = rows.length;
  const col = <T>(pick: (r: (typeof rows)[number]) => T): T[] => {
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = pick(rows[i] as (typeof rows)[number]);
    return out;
  };
  // The last score written for each participant; one UPDATE may set a row only once.
  const scores = lastByKey(writes, (w) => rowKey(w.answer.sessionId, w.answer.participantId));
  // One statement, one round trip: the insert runs as a data-modifying WITH (Postgres runs it
  // whether or not the rest reads it), and the row count is the UPDATE's.
  const result = await sql`with stored as (
      insert into answers (session_id, participant_id, question_index, question_id,
        answer_json, is_correct, points, elapsed_ms, received_at, seq, request_key)
      select * from unnest(${col((r) => r.session_id)}::text[],
        ${col((r) => r.participant_id)}::text[], ${col((r) => r.question_index)}::integer[],
        ${col((r) => r.question_id)}::text[], ${col((r) => r.answer_json)}::text[],
        ${col((r) => r.is_correct)}::integer[], ${col((r) => r.points)}::integer[],
        ${col((r) => r.elapsed_ms)}::integer[], ${col((r) => r.received_at)}::bigint[],
        ${col((r) => r.seq)}::integer[], ${col((r) => r.request_key)}::text[])
      on conflict (session_id, participant_id, question_index) do update set
        question_id = excluded.question_id, answer_json = excluded.answer_json,
        is_correct = excluded.is_correct, points = excluded.points,
        elapsed_ms = excluded.elapsed_ms, received_at = excluded.received_at,
        seq = excluded.seq, request_key = excluded.request_key
    )
    update participants set score = v.score
    from unnest(${scores.map((w) => w.answer.sessionId)}::text[],
      ${scores.map((w) => w.answer.participantId)}::text[],
      ${scores.map((w) => w.participantScore)}::integer[]) as v(session_id, id, score)
    where participants.session_id = v.session_id and participants.id = v.id`.execute(trx);
  if (Number(result.numAffectedRows ?? 0) !== scores.length) {
    throw new Error("answer_put: a participant is not in the answer's session");
  }
}
