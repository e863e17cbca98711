/**
 * The quizwire schema, as Kysely migrations defined in code. Only Kysely's dialect-neutral schema
 * builder is used here, so SQLite and Postgres run the very same migrations.
 *
 * Conventions, for the other applications that read these tables:
 * - names are plain snake_case; columns holding JSON text end in `_json`;
 * - times are epoch milliseconds in `bigint` columns (`*_at`, `*_ms`, `until`);
 * - booleans are `integer` 0/1;
 * - ids are text (UUIDs or the quiz author's own question ids).
 *
 * A released migration is never edited: later changes are new entries in `MIGRATIONS`.
 */
import {
  type CreateTableBuilder,
  type Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  sql,
} from "kysely";
import type { Database } from "./schema.js";

/** Adds the columns a question has wherever it is stored; the caller adds `id`. */
function questionColumns<TB extends string, C extends string>(t: CreateTableBuilder<TB, C>) {
  return (
    t
      // single | multiple | true_false | typed
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("text", "text", (c) => c.notNull())
      // JSON array of the choices in display order; [] for typed questions
      .addColumn("options_json", "text", (c) => c.notNull())
      // JSON array of indices into options that are correct; [] for typed questions
      .addColumn("correct_json", "text", (c) => c.notNull())
      // JSON array of accepted typed answers, the canonical one first; [] for choice questions
      .addColumn("accepted_json", "text", (c) => c.notNull())
      .addColumn("time_limit_ms", "integer", (c) => c.notNull())
      // points multiplier: 0, 1 or 2
      .addColumn("multiplier", "integer", (c) => c.notNull())
      // easy | medium | hard
      .addColumn("difficulty", "text", (c) => c.notNull())
      // JSON array of strings
      .addColumn("tags_json", "text", (c) => c.notNull())
      // base points for the vocab scoring policy
      .addColumn("points", "integer", (c) => c.notNull())
  );
}

const initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    // A quiz as its host wrote it.
    await db.schema
      .createTable("quizzes")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("title", "text", (c) => c.notNull())
      .addColumn("description", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();

    // A quiz's questions; `position` is the 0-based order in which they are asked.
    await questionColumns(
      db.schema
        .createTable("quiz_questions")
        .addColumn("quiz_id", "text", (c) =>
          c.notNull().references("quizzes.id").onDelete("cascade"),
        )
        .addColumn("position", "integer", (c) => c.notNull())
        // the question's own id, unique within its quiz
        .addColumn("id", "text", (c) => c.notNull()),
    )
      .addPrimaryKeyConstraint("quiz_questions_pk", ["quiz_id", "position"])
      .addUniqueConstraint("quiz_questions_quiz_id_id_uq", ["quiz_id", "id"])
      .execute();

    // The pool quick-fire contests draw random questions from.
    await questionColumns(
      db.schema.createTable("bank_questions").addColumn("id", "text", (c) => c.primaryKey()),
    ).execute();
    await db.schema
      .createIndex("bank_questions_difficulty_idx")
      .on("bank_questions")
      .column("difficulty")
      .execute();

    // One room. No foreign key to quizzes: a session keeps its own copy of the questions, so it
    // outlives edits to (and deletion of) the quiz it was made from.
    await db.schema
      .createTable("sessions")
      .addColumn("id", "text", (c) => c.primaryKey())
      // the 6-digit join code; unique among sessions that are not completed
      .addColumn("pin", "text", (c) => c.notNull())
      // the quiz the session was created from (it may since have been deleted)
      .addColumn("quiz_id", "text", (c) => c.notNull())
      .addColumn("title", "text", (c) => c.notNull())
      // live | quick_fire | self_paced
      .addColumn("mode", "text", (c) => c.notNull())
      // waiting | active | completed, derived from the phase
      .addColumn("status", "text", (c) => c.notNull())
      // the phase kind: lobby | question | reveal | intermission | active | ended
      .addColumn("phase", "text", (c) => c.notNull())
      // the whole phase (index, deadlines, end reason); the source of truth for the columns above
      .addColumn("phase_json", "text", (c) => c.notNull())
      // the question index of a question/reveal/intermission phase; null otherwise
      .addColumn("current_index", "integer")
      // when the current phase ends by timer (a question's deadline, a reveal's or intermission's
      // end); null when it does not
      .addColumn("deadline_ms", "bigint")
      // 1 while the room refuses new players
      .addColumn("locked", "integer", (c) => c.notNull())
      // incremented each time a server takes the session over
      .addColumn("epoch", "integer", (c) => c.notNull())
      // last event sequence number emitted when the row was written
      .addColumn("seq", "bigint", (c) => c.notNull())
      // JSON of the session settings (mode, scoring policy, timings, limits)
      .addColumn("settings_json", "text", (c) => c.notNull())
      // JSON array of the questions as they were when the session was created
      .addColumn("questions_json", "text", (c) => c.notNull())
      .addColumn("host_user_id", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("started_at", "bigint")
      .addColumn("ended_at", "bigint")
      .execute();
    await db.schema.createIndex("sessions_status_idx").on("sessions").column("status").execute();
    // P-3: a PIN is unique among open rooms; a completed room's PIN may be drawn again.
    await db.schema
      .createIndex("sessions_open_pin_uq")
      .unique()
      .on("sessions")
      .column("pin")
      .where(sql.ref("status"), "<>", "completed")
      .execute();

    // Everyone who joined a session: players and hosts.
    await db.schema
      .createTable("participants")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("session_id", "text", (c) =>
        c.notNull().references("sessions.id").onDelete("cascade"),
      )
      .addColumn("user_id", "text", (c) => c.notNull())
      // display name
      .addColumn("name", "text", (c) => c.notNull())
      // player | host
      .addColumn("role", "text", (c) => c.notNull())
      // order of arrival within the session, from 0; breaks ties between equal zero scores
      .addColumn("join_order", "integer", (c) => c.notNull())
      .addColumn("joined_at", "bigint", (c) => c.notNull())
      // active | left | kicked
      .addColumn("status", "text", (c) => c.notNull())
      // hex SHA-256 of the resume token (the token itself is never stored)
      .addColumn("resume_token_hash", "text", (c) => c.notNull())
      // the sum of the points of the participant's answers
      .addColumn("score", "integer", (c) => c.notNull())
      .addColumn("kick_reason", "text")
      // rank on the final leaderboard, from 1; null until the session ends, and for hosts
      .addColumn("final_rank", "integer")
      .addUniqueConstraint("participants_session_id_user_id_uq", ["session_id", "user_id"])
      .execute();
    await db.schema
      .createIndex("participants_session_id_idx")
      .on("participants")
      .column("session_id")
      .execute();

    // Accepted answers: at most one per participant and question (a changed answer replaces it).
    await db.schema
      .createTable("answers")
      .addColumn("session_id", "text", (c) =>
        c.notNull().references("sessions.id").onDelete("cascade"),
      )
      .addColumn("participant_id", "text", (c) =>
        c.notNull().references("participants.id").onDelete("cascade"),
      )
      // 0-based index into the session's questions
      .addColumn("question_index", "integer", (c) => c.notNull())
      .addColumn("question_id", "text", (c) => c.notNull())
      // JSON of the answer: {"kind":"choice","index":n} | {"kind":"choices","indices":[…]} |
      // {"kind":"text","text":"…"}
      .addColumn("answer_json", "text", (c) => c.notNull())
      .addColumn("is_correct", "integer", (c) => c.notNull())
      // points earned, streak bonus included
      .addColumn("points", "integer", (c) => c.notNull())
      // server-measured time from the question opening (or being served) to receipt
      .addColumn("elapsed_ms", "integer", (c) => c.notNull())
      .addColumn("received_at", "bigint", (c) => c.notNull())
      // per-session order in which answers were accepted
      .addColumn("seq", "integer", (c) => c.notNull())
      .addPrimaryKeyConstraint("answers_pk", ["session_id", "participant_id", "question_index"])
      .execute();
    await db.schema
      .createIndex("answers_session_id_seq_idx")
      .on("answers")
      .columns(["session_id", "seq"])
      .execute();

    // self_paced: when each question was served to each participant (T-7, S-5).
    await db.schema
      .createTable("served_questions")
      .addColumn("session_id", "text", (c) =>
        c.notNull().references("sessions.id").onDelete("cascade"),
      )
      .addColumn("participant_id", "text", (c) =>
        c.notNull().references("participants.id").onDelete("cascade"),
      )
      .addColumn("question_index", "integer", (c) => c.notNull())
      .addColumn("served_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("served_questions_pk", [
        "session_id",
        "participant_id",
        "question_index",
      ])
      .execute();

    // Users kicked from a session, who may not join again before `until`.
    await db.schema
      .createTable("bans")
      .addColumn("session_id", "text", (c) =>
        c.notNull().references("sessions.id").onDelete("cascade"),
      )
      .addColumn("user_id", "text", (c) => c.notNull())
      .addColumn("until", "bigint", (c) => c.notNull())
      .addColumn("reason", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("bans_pk", ["session_id", "user_id"])
      .execute();

    // Small server-wide values that survive restarts (e.g. a generated signing secret).
    await db.schema
      .createTable("meta")
      .addColumn("key", "text", (c) => c.primaryKey())
      .addColumn("value", "text", (c) => c.notNull())
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of [
      "meta",
      "bans",
      "served_questions",
      "answers",
      "participants",
      "sessions",
      "bank_questions",
      "quiz_questions",
      "quizzes",
    ]) {
      await db.schema.dropTable(table).execute();
    }
  },
};

/**
 * answers.request_key: the client message identity an answer arrived with, so a
 * retry of that very message gets the original acknowledgement even from an
 * instance that took the session over. Null for answers without one.
 */
const answerRequestKey: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("answers").addColumn("request_key", "text").execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable("answers").dropColumn("request_key").execute();
  },
};

/**
 * sessions.recent_requests_json: the latest commands that carried a client message
 * identity, with their replies, so a retry reaching a new owner after a takeover
 * gets the reply instead of a second effect. JSON array, `[]` when none.
 */
const sessionRecentRequests: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable("sessions")
      .addColumn("recent_requests_json", "text", (col) => col.notNull().defaultTo("[]"))
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable("sessions").dropColumn("recent_requests_json").execute();
  },
};

/**
 * Question pictures: `image` on both question tables (a URL or an uploaded image's path, null
 * for none), and `images`, the uploaded pictures themselves, so every instance of a cluster
 * serves the same ones. Bytes are base64 text: one column type SQLite and Postgres share.
 */
const questionImages: Migration = {
  async up(db: Kysely<unknown>) {
    for (const table of ["quiz_questions", "bank_questions"]) {
      await db.schema.alterTable(table).addColumn("image", "text").execute();
    }
    await db.schema
      .createTable("images")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("content_type", "text", (c) => c.notNull())
      .addColumn("data_base64", "text", (c) => c.notNull())
      .addColumn("size", "integer", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("images").execute();
    for (const table of ["quiz_questions", "bank_questions"]) {
      await db.schema.alterTable(table).dropColumn("image").execute();
    }
  },
};

/** Every migration, by name; Kysely applies them in name order. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  "0001_initial": initial,
  "0002_answer_request_key": answerRequestKey,
  "0003_session_recent_requests": sessionRecentRequests,
  "0004_question_images": questionImages,
};

const provider: MigrationProvider = {
  getMigrations: async () => ({ ...MIGRATIONS }),
};

/** Options for `migrateToLatest`. */
export interface MigrateOptions {
  /**
   * Dialect: Postgres only. The schema holding Kysely's bookkeeping tables. Kysely otherwise
   * looks for them in every schema of the database, and would take another schema's for these.
   */
  migrationTableSchema?: string;
}

/**
 * Brings the database up to the latest schema. Safe to call on every start: applied migrations
 * are skipped. Rejects with the first migration error.
 */
export async function migrateToLatest(
  db: Kysely<Database>,
  options: MigrateOptions = {},
): Promise<void> {
  const { error } = await new Migrator({ db, provider, ...options }).migrateToLatest();
  if (error !== undefined) {
    throw error instanceof Error ? error : new Error(`migration failed: ${String(error)}`);
  }
}
