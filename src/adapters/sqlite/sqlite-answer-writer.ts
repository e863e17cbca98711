import type BetterSqlite3 from "better-sqlite3";
import { answerToRow } from "../sql/codec.js";
import type { AnswerPuts, AnswerWriter } from "../sql/sql-storage.js";

/**
 * Answers written with two statements prepared once, run once per answer, on the connection
 * whose transaction the batch is in (Kysely's SQLite driver runs `begin` on this same
 * better-sqlite3 connection and holds it for the transaction, and these calls are synchronous,
 * so nothing interleaves).
 *
 * Why not the portable statements: Kysely builds, compiles and SQLite prepares a multi-row
 * upsert for every batch, which cost about as much again as storing the rows. Measured on this
 * machine (`bench/storage.ts`' batches, FULL sync): 51 µs an answer in batches of 30 against 24 µs
 * here, 95 against 40 in batches of 10. Answers are the one write whose rate grows with the
 * room, and the SQLite thread's time per answer is how long an acknowledgement waits.
 *
 * Same effect as `putAnswers` in sql-storage.ts: an answer replaces the participant's earlier
 * answer to that question (applied in order, the last one stays), and a participant missing from
 * the session fails the batch.
 */
export function sqliteAnswerWriter(sqlite: BetterSqlite3.Database): AnswerWriter {
  const upsert = sqlite.prepare(
    `insert into answers (session_id, participant_id, question_index, question_id, answer_json,
       is_correct, points, elapsed_ms, received_at, seq, request_key)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     on conflict (session_id, participant_id, question_index) do update set
       question_id = excluded.question_id, answer_json = excluded.answer_json,
       is_correct = excluded.is_correct, points = excluded.points,
       elapsed_ms = excluded.elapsed_ms, received_at = excluded.received_at,
       seq = excluded.seq, request_key = excluded.request_key`,
  );
  const score = sqlite.prepare("update participants set score = ? where session_id = ? and id = ?");
  return (writes: AnswerPuts) => {
    for (const w of writes) {
      const r = answerToRow(w.answer);
      upsert.run(
        r.session_id,
        r.participant_id,
        r.question_index,
        r.question_id,
        r.answer_json,
        r.is_correct,
        r.points,
        r.elapsed_ms,
        r.received_at,
        r.seq,
        r.request_key,
      );
      if (score.run(w.participantScore, w.answer.sessionId, w.answer.participantId).changes !== 1) {
        throw new Error(`answer_put: a participant is not in session ${w.answer.sessionId}`);
      }
    }
  };
}
