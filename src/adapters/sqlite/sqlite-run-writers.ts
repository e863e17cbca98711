import type BetterSqlite3 from "better-sqlite3";
import { answerToRow, participantToRow, servedToRow } from "../sql/codec.js";
import type { RunWriters, WriteOf } from "../sql/sql-storage.js";

/** `RunWriters` that need no transaction object: they run on the connection, synchronously. */
export type SqliteRunWriters = {
  [K in keyof RunWriters]: (writes: readonly WriteOf<K>[]) => void;
};

/**
 * The writes that grow with the room, answers, joins, the questions served to self-paced learners
 * and a game's final standings, run as statements prepared once and run once per row, on
 * the connection whose transaction the batch is in. Kysely's SQLite driver runs `begin` on this
 * same better-sqlite3 connection and holds it for the transaction, and these calls are
 * synchronous, so nothing interleaves.
 *
 * Why not Kysely's multi-row upserts (what stored them before): Kysely built, compiled and SQLite
 * prepared one for every batch, which cost about as much again as storing the rows. Measured on this
 * machine (`bench/storage.ts`' rows, FULL sync): 51 µs an answer in batches of 30 against 24 µs
 * here, 95 against 40 in batches of 10; a join alone, 405 µs a batch against 210. Answers and
 * joins are the writes whose rate grows with the room, and the SQLite thread's time per write is
 * how long an acknowledgement waits.
 *
 * Final standings went the same way (`standings_put`, the write that ends a game): as Kysely's
 * `update … from (values …)` in chunks of 3,333 players, one write of 10,000 players' standings
 * took 126 ms here (`npx tsx bench/storage.ts`), and the SQLite thread, which stores every room's
 * answers, stored nothing else meanwhile: at the end of a 10,000-player game every other room on
 * the instance waited that long for its acknowledgements.
 *
 * The effect is `RunWriters`' (sql-storage.ts). Applied in order, the last write to a row stays. An answer sets its participant's score; a participant missing from the
 * answer's session fails the batch. A participant's `final_rank` is left alone (only
 * `standings_put` sets it).
 */
export function sqliteRunWriters(sqlite: BetterSqlite3.Database): SqliteRunWriters {
  const answer = sqlite.prepare(
    `insert into answers (session_id, participant_id, question_index, question_id, answer_json,
       is_correct, points, elapsed_ms, received_at, seq, request_key)
     values (@session_id, @participant_id, @question_index, @question_id, @answer_json,
       @is_correct, @points, @elapsed_ms, @received_at, @seq, @request_key)
     on conflict (session_id, participant_id, question_index) do update set
       question_id = excluded.question_id, answer_json = excluded.answer_json,
       is_correct = excluded.is_correct, points = excluded.points,
       elapsed_ms = excluded.elapsed_ms, received_at = excluded.received_at,
       seq = excluded.seq, request_key = excluded.request_key`,
  );
  const score = sqlite.prepare("update participants set score = ? where session_id = ? and id = ?");
  const participant = sqlite.prepare(
    `insert into participants (id, session_id, user_id, name, role, join_order, joined_at, status,
       resume_token_hash, score, kick_reason)
     values (@id, @session_id, @user_id, @name, @role, @join_order, @joined_at, @status,
       @resume_token_hash, @score, @kick_reason)
     on conflict (id) do update set
       session_id = excluded.session_id, user_id = excluded.user_id, name = excluded.name,
       role = excluded.role, join_order = excluded.join_order, joined_at = excluded.joined_at,
       status = excluded.status, resume_token_hash = excluded.resume_token_hash,
       score = excluded.score, kick_reason = excluded.kick_reason`,
  );
  const clearRanks = sqlite.prepare(
    "update participants set final_rank = null where session_id = ? and final_rank is not null",
  );
  const standing = sqlite.prepare(
    "update participants set score = ?, final_rank = ? where session_id = ? and id = ?",
  );
  const served = sqlite.prepare(
    `insert into served_questions (session_id, participant_id, question_index, served_at)
     values (@session_id, @participant_id, @question_index, @served_at)
     on conflict (session_id, participant_id, question_index) do update set
       served_at = excluded.served_at`,
  );
  return {
    answer_put: (writes) => {
      for (const w of writes) {
        // Named parameters: the row's columns bind by name.
        answer.run(answerToRow(w.answer));
        const scored = score.run(w.participantScore, w.answer.sessionId, w.answer.participantId);
        if (scored.changes !== 1) {
          throw new Error(`answer_put: a participant is not in session ${w.answer.sessionId}`);
        }
      }
    },
    participant_put: (writes) => {
      for (const w of writes) participant.run(participantToRow(w.participant));
    },
    served_put: (writes) => {
      for (const w of writes) served.run(servedToRow(w.served));
    },
    standings_put: (writes) => {
      for (const w of writes) {
        clearRanks.run(w.sessionId);
        for (const s of w.standings) {
          if (standing.run(s.score, s.rank, w.sessionId, s.participantId).changes !== 1) {
            throw new Error(`standings_put: a participant is not in session ${w.sessionId}`);
          }
        }
      }
    },
  };
}
