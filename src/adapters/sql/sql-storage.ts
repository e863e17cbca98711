/**
 * The stores behind `Storage`, written once against `Kysely<Database>` and shared by the SQLite
 * adapter and (later) the Postgres one. Only portable SQL is used; where SQLite and Postgres
 * behave differently the code takes the form both accept, and a comment marked "Dialect:" says
 * why.
 */
import { type Kysely, sql, type Transaction } from "kysely";
import type { QuizId, SessionId, UserId } from "../../domain/ids.js";
import type { Phase } from "../../domain/phase.js";
import {
  DIFFICULTIES,
  type Difficulty,
  type Question,
  type Quiz,
  type QuizSummary,
} from "../../domain/quiz.js";
import type { SessionMode } from "../../domain/session-settings.js";
import {
  type CommitMark,
  FencedError,
  type ImageStore,
  type MetaStore,
  type PurgeCutoffs,
  type PurgeResult,
  type QuestionBankStore,
  type QuizStore,
  type SessionBundle,
  type SessionStore,
  type SessionSummary,
  type SessionWrite,
  type StandingRecord,
  type Storage,
  type StoredImage,
  type UserSessionData,
} from "../../ports/storage.js";
import {
  banToRow,
  questionToRow,
  quizToRow,
  rowToAnswer,
  rowToBan,
  rowToParticipant,
  rowToQuestion,
  rowToQuiz,
  rowToServed,
  rowToSession,
  rowToStanding,
  servedToRow,
  sessionToRow,
  stateToColumns,
} from "./codec.js";
import type { Database } from "./schema.js";

/**
 * Bound parameters per statement. Multi-row statements are cut into chunks that stay under it.
 * Dialect: SQLite allows 32,766 variables per statement, Postgres 65,535; 10,000 leaves room and
 * still fits a 1,000-answer batch (10 columns) in one INSERT.
 */
const MAX_PARAMS = 10_000;

export type Db = Kysely<Database>;
export type Trx = Transaction<Database>;

/** Splits `items` into chunks of at most `MAX_PARAMS / paramsPerItem` items. */
function chunks<T>(items: readonly T[], paramsPerItem: number): T[][] {
  const size = Math.max(1, Math.floor(MAX_PARAMS / paramsPerItem));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Keeps the last item for each key. Within a run of upserts of the same kind, the last write to
 * a row is the one that survives, so applying only that one is equivalent to applying them all
 * in order. Dialect: Postgres also requires it, since one `INSERT … ON CONFLICT DO UPDATE` may
 * not touch the same row twice.
 */
export function lastByKey<T>(items: readonly T[], key: (item: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) byKey.set(key(item), item);
  return [...byKey.values()];
}

/** Dialect: `count(*)` is an integer in SQLite but int8 (a string in node-postgres) in Postgres. */
function toCount(n: string | number | bigint | null | undefined): number {
  return n === null || n === undefined ? 0 : Number(n);
}

export function isAnswersAlone(
  batch: readonly SessionWrite[],
): batch is readonly WriteOf<"answer_put">[] {
  for (const w of batch) if (w.kind !== "answer_put") return false;
  return true;
}

/** A composite key for `lastByKey`. */
function key(...parts: readonly (string | number)[]): string {
  return parts.join("\u0000");
}

export { key as rowKey };

// ---------------------------------------------------------------------------------------------
// Quizzes

/** Quizzes and their questions in `quizzes` and `quiz_questions`. */
export class SqlQuizStore implements QuizStore {
  constructor(private readonly db: Db) {}

  async list(): Promise<QuizSummary[]> {
    // Dialect: `order by title` follows the column collation: byte order in SQLite, the
    // database locale in Postgres. Titles that differ only in case or accents may sort apart.
    const rows = await this.db
      .selectFrom("quizzes as q")
      .select((eb) => [
        "q.id",
        "q.title",
        "q.description",
        "q.updated_at",
        eb
          .selectFrom("quiz_questions as qq")
          .select(eb.fn.countAll().as("n"))
          .whereRef("qq.quiz_id", "=", "q.id")
          .as("question_count"),
      ])
      .orderBy("q.title")
      .orderBy("q.id")
      .execute();
    return rows.map((r) => ({
      id: r.id as QuizId,
      title: r.title,
      description: r.description,
      questionCount: toCount(r.question_count),
      updatedAt: r.updated_at,
    }));
  }

  async get(id: QuizId): Promise<Quiz | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom("quizzes")
        .selectAll()
        .where("id", "=", id)
        .executeTakeFirst();
      if (row === undefined) return undefined;
      const questions = await trx
        .selectFrom("quiz_questions")
        .selectAll()
        .where("quiz_id", "=", id)
        .orderBy("position")
        .execute();
      return rowToQuiz(row, questions.map(rowToQuestion));
    });
  }

  async put(quiz: Quiz): Promise<void> {
    const { id, ...rest } = quizToRow(quiz);
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto("quizzes")
        .values({ id, ...rest })
        .onConflict((oc) => oc.column("id").doUpdateSet(rest))
        .execute();
      await trx.deleteFrom("quiz_questions").where("quiz_id", "=", id).execute();
      const rows = quiz.questions.map((q, position) => ({
        quiz_id: id,
        position,
        ...questionToRow(q),
      }));
      for (const chunk of chunks(rows, 13)) {
        await trx.insertInto("quiz_questions").values(chunk).execute();
      }
    });
  }

  async delete(id: QuizId): Promise<boolean> {
    // quiz_questions go with it (on delete cascade).
    const result = await this.db.deleteFrom("quizzes").where("id", "=", id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}

// ---------------------------------------------------------------------------------------------
// Question bank

/** The quick-fire question pool in `bank_questions`. */
export class SqlQuestionBankStore implements QuestionBankStore {
  constructor(private readonly db: Db) {}

  async put(questions: readonly Question[]): Promise<void> {
    const rows = lastByKey(questions, (q) => q.id).map(questionToRow);
    if (rows.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (const chunk of chunks(rows, 11)) {
        await trx
          .insertInto("bank_questions")
          .values(chunk)
          .onConflict((oc) =>
            oc.column("id").doUpdateSet((eb) => ({
              kind: eb.ref("excluded.kind"),
              text: eb.ref("excluded.text"),
              options_json: eb.ref("excluded.options_json"),
              correct_json: eb.ref("excluded.correct_json"),
              accepted_json: eb.ref("excluded.accepted_json"),
              time_limit_ms: eb.ref("excluded.time_limit_ms"),
              multiplier: eb.ref("excluded.multiplier"),
              difficulty: eb.ref("excluded.difficulty"),
              tags_json: eb.ref("excluded.tags_json"),
              points: eb.ref("excluded.points"),
            })),
          )
          .execute();
      }
    });
  }

  async list(filter: { difficulty?: Difficulty } = {}): Promise<Question[]> {
    const { difficulty } = filter;
    const rows = await this.db
      .selectFrom("bank_questions")
      .selectAll()
      .$if(difficulty !== undefined, (qb) => qb.where("difficulty", "=", difficulty as Difficulty))
      .orderBy("id")
      .execute();
    return rows.map(rowToQuestion);
  }

  async countByDifficulty(): Promise<Record<Difficulty, number>> {
    const rows = await this.db
      .selectFrom("bank_questions")
      .select((eb) => ["difficulty", eb.fn.countAll().as("n")])
      .groupBy("difficulty")
      .execute();
    const counts = Object.fromEntries(DIFFICULTIES.map((d) => [d, 0])) as Record<
      Difficulty,
      number
    >;
    for (const r of rows) {
      if ((DIFFICULTIES as readonly string[]).includes(r.difficulty)) {
        counts[r.difficulty as Difficulty] = toCount(r.n);
      }
    }
    return counts;
  }
}

// ---------------------------------------------------------------------------------------------
// Meta

/** Key/value pairs in `meta`. */
export class SqlMetaStore implements MetaStore {
  constructor(private readonly db: Db) {}

  async get(key: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom("meta")
      .select("value")
      .where("key", "=", key)
      .executeTakeFirst();
    return row?.value;
  }

  async set(key: string, value: string): Promise<void> {
    await this.db
      .insertInto("meta")
      .values({ key, value })
      .onConflict((oc) => oc.column("key").doUpdateSet({ value }))
      .execute();
  }

  async setIfAbsent(key: string, value: string): Promise<string> {
    await this.db
      .insertInto("meta")
      .values({ key, value })
      .onConflict((oc) => oc.column("key").doNothing())
      .execute();
    const stored = await this.get(key);
    if (stored === undefined) throw new Error(`meta key ${key} vanished right after it was set`);
    return stored;
  }
}

/** Uploaded pictures in `images`. */
export class SqlImageStore implements ImageStore {
  constructor(private readonly db: Db) {}

  async put(image: StoredImage): Promise<void> {
    await this.db
      .insertInto("images")
      .values({
        id: image.id,
        content_type: image.contentType,
        data_base64: Buffer.from(image.bytes).toString("base64"),
        size: image.bytes.byteLength,
        created_at: image.createdAt,
      })
      // Same id, same bytes: storing it again is a no-op.
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
  }

  async get(id: string): Promise<StoredImage | undefined> {
    const row = await this.db
      .selectFrom("images")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return {
      id: row.id,
      contentType: row.content_type,
      bytes: Buffer.from(row.data_base64, "base64"),
      createdAt: Number(row.created_at),
    };
  }

  async existing(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db
      .selectFrom("images")
      .select("id")
      .where("id", "in", [...new Set(ids)])
      .execute();
    return new Set(rows.map((r) => r.id));
  }
}

// ---------------------------------------------------------------------------------------------
// Sessions

type WriteKind = SessionWrite["kind"];
export type WriteOf<K extends WriteKind> = Extract<SessionWrite, { kind: K }>;
/** Writes of one kind, applied together. */
export type Run = { [K in WriteKind]: { kind: K; writes: WriteOf<K>[] } }[WriteKind];

/**
 * Kinds whose writes touch rows the others of the set neither read nor write (an answer: its
 * row and its participant's score; a served question: its row), so they may be applied kind by
 * kind in any order. A self-paced batch alternates them (each answer, then the question served
 * next): cut at every change of kind it made a statement per write, each a round trip on
 * Postgres.
 */
const COMMUTING: ReadonlySet<WriteKind> = new Set(["answer_put", "served_put"]);

/**
 * Cuts a batch into runs of writes of the same kind, each run in the batch's order. A run is
 * consecutive writes of its kind, except that a stretch of commuting kinds (`COMMUTING`, and
 * nothing else between) makes one run per kind. Applied run after run, the runs leave what
 * the writes one by one would: a write of another kind (a participant's row, which an answer's
 * score update also writes) still sees every write before it and none after.
 */
export function runsOf(batch: readonly SessionWrite[]): Run[] {
  const runs: Run[] = [];
  // The runs a write of their kind joins: the last run, or the stretch's runs of commuting kinds.
  let open = new Map<WriteKind, { kind: WriteKind; writes: SessionWrite[] }>();
  let stretch = true;
  for (const w of batch) {
    const joined = open.get(w.kind);
    if (joined !== undefined) {
      joined.writes.push(w);
      continue;
    }
    const run = { kind: w.kind, writes: [w] };
    runs.push(run as Run);
    const commutes = COMMUTING.has(w.kind);
    if (!commutes || !stretch) {
      open = new Map();
      stretch = commutes;
    }
    open.set(w.kind, run);
  }
  return runs;
}

/** Sessions and everything that happens in them. */
/**
 * Refuses the batch when a session it writes is stored at a higher epoch than
 * its writer runs it at (a newer owner claimed it). Sessions not stored yet
 * (being created in this batch) pass.
 * Dialect: the no-op UPDATE takes the rows' write locks on Postgres, so a claim
 * waits for this transaction (or this one for the claim) — a portable FOR UPDATE;
 * SQLite transactions are serialized anyway. It returns the epochs it locked (a
 * claim that committed first shows its new epoch), so the check is one statement:
 * every statement of a batch is a round trip the group committer waits for.
 */
async function checkFences(trx: Trx, fences: ReadonlyMap<SessionId, number>): Promise<void> {
  const ids = [...fences.keys()];
  const rows = await trx
    .updateTable("sessions")
    .set({ epoch: sql`epoch` })
    .where("id", "in", ids)
    .returning(["id", "epoch"])
    .execute();
  for (const row of rows) {
    const writer = fences.get(row.id as SessionId);
    if (writer !== undefined && Number(row.epoch) > writer) {
      throw new FencedError(row.id as SessionId, writer, Number(row.epoch));
    }
  }
}

/**
 * How a dialect stores the writes whose size grows with the room, answers, joins, the questions
 * served to self-paced learners and a game's final standings, inside the batch's transaction:
 * each stores the rows its own fastest way
 * (`sqlite-run-writers.ts`: statements prepared once, run synchronously on the connection that
 * holds the transaction; `postgres-run-writers.ts`: one statement over `unnest` arrays on
 * `trx`). Applied in order, the last write to a row stays; an answer sets its participant's
 * score, and a participant missing from the answer's session fails the batch; a participant's
 * `final_rank` is left alone except by `standings_put`, which clears every final rank in its
 * session and then sets the score and rank of each participant it names (one not in the
 * session fails the batch).
 */
export interface RunWriters {
  answer_put: (writes: readonly WriteOf<"answer_put">[], trx: Trx) => void | Promise<void>;
  participant_put: (
    writes: readonly WriteOf<"participant_put">[],
    trx: Trx,
  ) => void | Promise<void>;
  standings_put: (writes: readonly WriteOf<"standings_put">[], trx: Trx) => void | Promise<void>;
  served_put: (writes: readonly WriteOf<"served_put">[], trx: Trx) => void | Promise<void>;
}

export class SqlSessionStore implements SessionStore {
  constructor(
    private readonly db: Db,
    private readonly writers: RunWriters,
    private readonly batchWriter?: BatchWriter,
  ) {}

  /**
   * One transaction. The batch is cut into runs of consecutive writes of the same kind and each
   * run is applied with as few statements as it can (one multi-row upsert per chunk; answers and
   * joins by the dialect's `RunWriters`), so a batch of answers costs a handful of statements
   * however many answers it holds, while a write still sees every write before it (a participant
   * is inserted before their first answer). Any failure rolls the whole batch back and rejects.
   * A batch the dialect's `BatchWriter` takes is stored its way instead.
   */
  async write(
    batch: readonly SessionWrite[],
    fences?: ReadonlyMap<SessionId, number>,
    mark?: CommitMark,
  ): Promise<void> {
    if (batch.length === 0) return;
    if (this.batchWriter !== undefined && (await this.batchWriter(this.db, batch, fences, mark))) {
      return;
    }
    await this.db.transaction().execute(async (trx) => {
      if (fences && fences.size > 0) await checkFences(trx, fences);
      for (const run of runsOf(batch)) await applyRun(trx, run, this.writers);
      if (mark) {
        await trx
          .insertInto("meta")
          .values(mark)
          .onConflict((oc) => oc.column("key").doUpdateSet({ value: mark.value }))
          .execute();
      }
    });
  }

  async epochOf(id: SessionId): Promise<number | undefined> {
    const row = await this.db
      .selectFrom("sessions")
      .select("epoch")
      .where("id", "=", id)
      .executeTakeFirst();
    return row === undefined ? undefined : Number(row.epoch);
  }

  async claim(id: SessionId, from: number, to: number): Promise<boolean> {
    const result = await this.db
      .updateTable("sessions")
      .set({ epoch: to })
      .where("id", "=", id)
      .where("epoch", "=", from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async load(id: SessionId): Promise<SessionBundle | undefined> {
    // One read transaction, so the bundle is a consistent snapshot even while writes go on.
    // Dialect: SQLite ignores the isolation level (a read transaction is a snapshot in WAL mode);
    // Postgres needs repeatable read for every statement to see the same snapshot.
    return this.db
      .transaction()
      .setIsolationLevel("repeatable read")
      .execute(async (trx) => {
        const row = await trx
          .selectFrom("sessions")
          .selectAll()
          .where("id", "=", id)
          .executeTakeFirst();
        if (row === undefined) return undefined;
        const participants = await trx
          .selectFrom("participants")
          .selectAll()
          .where("session_id", "=", id)
          .orderBy("join_order")
          .orderBy("id")
          .execute();
        const answers = await trx
          .selectFrom("answers")
          .selectAll()
          .where("session_id", "=", id)
          .orderBy("seq")
          .orderBy("participant_id")
          .orderBy("question_index")
          .execute();
        const served = await trx
          .selectFrom("served_questions")
          .selectAll()
          .where("session_id", "=", id)
          .orderBy("served_at")
          .orderBy("participant_id")
          .orderBy("question_index")
          .execute();
        const bans = await trx
          .selectFrom("bans")
          .selectAll()
          .where("session_id", "=", id)
          .orderBy("user_id")
          .execute();
        const standings = participants
          .map(rowToStanding)
          .filter((s): s is StandingRecord => s !== undefined)
          .sort((a, b) => a.rank - b.rank);
        return {
          session: rowToSession(row),
          participants: participants.map(rowToParticipant),
          answers: answers.map(rowToAnswer),
          served: served.map(rowToServed),
          bans: bans.map(rowToBan),
          standings,
        };
      });
  }

  async listOpen(): Promise<SessionId[]> {
    const rows = await this.db
      .selectFrom("sessions")
      .select("id")
      .where("status", "<>", "completed")
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map((r) => r.id as SessionId);
  }

  async list(options: { limit: number; includeEnded: boolean }): Promise<SessionSummary[]> {
    const rows = await this.db
      .selectFrom("sessions as s")
      .select((eb) => [
        "s.id",
        "s.pin",
        "s.quiz_id",
        "s.title",
        "s.mode",
        "s.phase",
        "s.created_at",
        "s.ended_at",
        eb
          .selectFrom("participants as p")
          .select(eb.fn.countAll().as("n"))
          .whereRef("p.session_id", "=", "s.id")
          .where("p.role", "=", "player")
          .as("participant_count"),
      ])
      .$if(!options.includeEnded, (qb) => qb.where("s.status", "<>", "completed"))
      .orderBy("s.created_at", "desc")
      .orderBy("s.id", "desc")
      .limit(Math.max(0, Math.floor(options.limit)))
      .execute();
    return rows.map((r) => ({
      id: r.id as SessionId,
      pin: r.pin,
      quizId: r.quiz_id as QuizId,
      title: r.title,
      mode: r.mode as SessionMode,
      phase: r.phase as Phase["kind"],
      participantCount: toCount(r.participant_count),
      createdAt: r.created_at,
      endedAt: r.ended_at,
    }));
  }

  async purgeEnded(cutoffs: PurgeCutoffs): Promise<PurgeResult> {
    return this.db.transaction().execute(async (trx) => {
      let answersDeleted = 0;
      let sessionsDeleted = 0;
      const endedBefore = (before: number) =>
        trx
          .selectFrom("sessions")
          .select("id")
          .where("status", "=", "completed")
          .where("ended_at", "<", before);
      if (cutoffs.sessionsEndedBefore !== null) {
        const before = cutoffs.sessionsEndedBefore;
        // Children first: SQLite enforces the cascades only with foreign_keys on.
        for (const table of ["answers", "served_questions", "bans", "participants"] as const) {
          await trx.deleteFrom(table).where("session_id", "in", endedBefore(before)).execute();
        }
        const r = await trx
          .deleteFrom("sessions")
          .where("status", "=", "completed")
          .where("ended_at", "<", before)
          .executeTakeFirst();
        sessionsDeleted = Number(r.numDeletedRows);
      }
      if (cutoffs.detailsEndedBefore !== null) {
        const before = cutoffs.detailsEndedBefore;
        const r = await trx
          .deleteFrom("answers")
          .where("session_id", "in", endedBefore(before))
          .executeTakeFirst();
        answersDeleted = Number(r.numDeletedRows);
        await trx
          .deleteFrom("served_questions")
          .where("session_id", "in", endedBefore(before))
          .execute();
        await trx.deleteFrom("bans").where("session_id", "in", endedBefore(before)).execute();
      }
      return { answersDeleted, sessionsDeleted };
    });
  }

  async userData(userId: UserId): Promise<UserSessionData[]> {
    return this.db
      .transaction()
      .setIsolationLevel("repeatable read")
      .execute(async (trx) => {
        const members = await trx
          .selectFrom("participants")
          .selectAll()
          .where("user_id", "=", userId)
          .execute();
        const hosted = await trx
          .selectFrom("sessions")
          .select("id")
          .where("host_user_id", "=", userId)
          .execute();
        const bans = await trx
          .selectFrom("bans")
          .selectAll()
          .where("user_id", "=", userId)
          .execute();
        const ids = [
          ...new Set([
            ...members.map((m) => m.session_id),
            ...hosted.map((h) => h.id),
            ...bans.map((b) => b.session_id),
          ]),
        ];
        if (ids.length === 0) return [];
        const sessions = await trx
          .selectFrom("sessions")
          .selectAll()
          .where("id", "in", ids)
          .orderBy("created_at")
          .orderBy("id")
          .execute();
        const participantIds = members.map((m) => m.id);
        const answers =
          participantIds.length === 0
            ? []
            : await trx
                .selectFrom("answers")
                .selectAll()
                .where("participant_id", "in", participantIds)
                .orderBy("seq")
                .orderBy("question_index")
                .execute();
        return sessions.map((row) => {
          const member = members.find((m) => m.session_id === row.id);
          return {
            sessionId: row.id as SessionId,
            quizId: row.quiz_id as QuizId,
            title: row.title,
            mode: row.mode as SessionMode,
            phase: row.phase as Phase["kind"],
            createdAt: row.created_at,
            startedAt: row.started_at,
            endedAt: row.ended_at,
            hosted: row.host_user_id === userId,
            participant: member ? rowToParticipant(member) : null,
            answers: answers.filter((a) => a.session_id === row.id).map(rowToAnswer),
            bans: bans.filter((b) => b.session_id === row.id).map(rowToBan),
          };
        });
      });
  }

  async eraseUser(userId: UserId): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const ended = trx.selectFrom("sessions").select("id").where("status", "=", "completed");
      const touched = new Set<string>();
      const members = await trx
        .selectFrom("participants")
        .select(["id", "session_id"])
        .where("user_id", "=", userId)
        .where("session_id", "in", ended)
        .execute();
      const ids = members.map((m) => m.id);
      for (const m of members) touched.add(m.session_id);
      if (ids.length > 0) {
        await trx.deleteFrom("answers").where("participant_id", "in", ids).execute();
        await trx.deleteFrom("served_questions").where("participant_id", "in", ids).execute();
        await trx.deleteFrom("participants").where("id", "in", ids).execute();
      }
      const bans = await trx
        .deleteFrom("bans")
        .where("user_id", "=", userId)
        .where("session_id", "in", ended)
        .returning("session_id")
        .execute();
      for (const b of bans) touched.add(b.session_id);
      const hosted = await trx
        .updateTable("sessions")
        .set({ host_user_id: "" })
        .where("host_user_id", "=", userId)
        .where("status", "=", "completed")
        .returning("id")
        .execute();
      for (const h of hosted) touched.add(h.id);
      return touched.size;
    });
  }
}

async function applyRun(trx: Trx, run: Run, writers: RunWriters): Promise<void> {
  switch (run.kind) {
    case "session_created":
      return insertSessions(trx, run.writes);
    case "session_state":
      for (const w of run.writes) await updateSessionState(trx, w);
      return;
    case "participant_put":
      return writers.participant_put(run.writes, trx);
    case "answer_put":
      return writers.answer_put(run.writes, trx);
    case "served_put":
      return writers.served_put(run.writes, trx);
    case "ban_put":
      return putBans(trx, run.writes);
    case "standings_put":
      return writers.standings_put(run.writes, trx);
    default:
      return exhaustiveRun(run);
  }
}

function exhaustiveRun(run: never): never {
  throw new Error(`unhandled session write: ${JSON.stringify(run)}`);
}

async function insertSessions(trx: Trx, writes: WriteOf<"session_created">[]): Promise<void> {
  // A duplicate id, or a PIN already used by an open session (P-3), fails the batch.
  for (const chunk of chunks(writes, 19)) {
    await trx
      .insertInto("sessions")
      .values(chunk.map((w) => sessionToRow(w.session)))
      .execute();
  }
}

async function updateSessionState(trx: Trx, w: WriteOf<"session_state">): Promise<void> {
  const result = await trx
    .updateTable("sessions")
    .set(stateToColumns(w.state))
    .where("id", "=", w.sessionId)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) {
    throw new Error(`session_state: no session ${w.sessionId}`);
  }
}

/** The portable `served_put` (Postgres's): multi-row upserts; the last serving of a question stays. */
export async function putServed(writes: readonly WriteOf<"served_put">[], trx: Trx): Promise<void> {
  const rows = lastByKey(writes, (w) =>
    key(w.served.sessionId, w.served.participantId, w.served.questionIndex),
  ).map((w) => servedToRow(w.served));
  for (const chunk of chunks(rows, 4)) {
    await trx
      .insertInto("served_questions")
      .values(chunk)
      .onConflict((oc) =>
        oc
          .columns(["session_id", "participant_id", "question_index"])
          .doUpdateSet((eb) => ({ served_at: eb.ref("excluded.served_at") })),
      )
      .execute();
  }
}

async function putBans(trx: Trx, writes: WriteOf<"ban_put">[]): Promise<void> {
  const rows = lastByKey(writes, (w) => key(w.ban.sessionId, w.ban.userId)).map((w) =>
    banToRow(w.ban),
  );
  for (const chunk of chunks(rows, 4)) {
    await trx
      .insertInto("bans")
      .values(chunk)
      .onConflict((oc) =>
        oc.columns(["session_id", "user_id"]).doUpdateSet((eb) => ({
          until: eb.ref("excluded.until"),
          reason: eb.ref("excluded.reason"),
        })),
      )
      .execute();
  }
}

// ---------------------------------------------------------------------------------------------

/** Options for `createSqlStorage`. */
export interface SqlStorageOptions {
  /** Runs after Kysely is destroyed, e.g. to release what the adapter opened besides it. */
  onClose?: () => void | Promise<void>;
  /** How the dialect stores the writes that grow with the room (answers, joins, …). */
  writers: RunWriters;
  /** The dialect's own way to store the batches it has one for. */
  batchWriter?: BatchWriter;
}

/**
 * A dialect's own way to store a whole session batch, for the batches it has one for: the same
 * rows, fences, commit mark and refusals as the portable transaction, at less cost. True when it
 * stored the batch; false when it has no way of its own for this one, and the portable
 * transaction stores it. The group committer waits for every batch, and during a game nearly
 * every batch is answers (with, self-paced, the questions served next): Postgres stores answers
 * alone as one statement (`postgres-run-writers.ts`), SQLite stores rows of every growing kind
 * with statements prepared once in one synchronous transaction (`sqlite-batch-writer.ts`).
 */
export type BatchWriter = (
  db: Db,
  batch: readonly SessionWrite[],
  fences: ReadonlyMap<SessionId, number> | undefined,
  mark: CommitMark | undefined,
) => boolean | Promise<boolean>;

/**
 * A `Storage` over an already-migrated database. `close()` destroys `db` (which closes the
 * connection or pool the dialect holds); calling it again does nothing.
 */
export function createSqlStorage(db: Db, options: SqlStorageOptions): Storage {
  let closing: Promise<void> | undefined;
  return {
    quizzes: new SqlQuizStore(db),
    bank: new SqlQuestionBankStore(db),
    sessions: new SqlSessionStore(db, options.writers, options.batchWriter),
    meta: new SqlMetaStore(db),
    images: new SqlImageStore(db),
    async ping() {
      await sql`select 1`.execute(db);
    },
    close() {
      closing ??= (async () => {
        await db.destroy();
        await options.onClose?.();
      })();
      return closing;
    },
  };
}
