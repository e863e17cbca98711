/**
 * Row types of the quizwire tables, as Kysely sees them. The columns are documented where they
 * are created, in `migrations.ts`.
 *
 * Booleans are `integer` 0/1 and epoch milliseconds are `bigint`, so one schema serves SQLite and
 * Postgres. Both come back as JS numbers: SQLite returns every integer as a number, and the
 * Postgres adapter must install a parser for int8 (`pg.types.setTypeParser(20, Number)`), since
 * node-postgres returns int8 as a string by default. Epoch milliseconds fit a double exactly.
 */

/** 0 or 1. */
export type IntBool = 0 | 1;

export interface QuizzesTable {
  id: string;
  title: string;
  description: string;
  created_at: number;
  updated_at: number;
}

/** The columns a question has wherever it is stored (a quiz or the bank). */
export interface QuestionColumns {
  id: string;
  kind: string;
  text: string;
  options_json: string;
  correct_json: string;
  accepted_json: string;
  time_limit_ms: number;
  multiplier: number;
  difficulty: string;
  tags_json: string;
  points: number;
  /** The question's picture (a URL or an uploaded image's path); null for none. */
  image: string | null;
}

export interface QuizQuestionsTable extends QuestionColumns {
  quiz_id: string;
  position: number;
}

export type BankQuestionsTable = QuestionColumns;

export interface SessionsTable {
  id: string;
  pin: string;
  quiz_id: string;
  title: string;
  mode: string;
  status: string;
  phase: string;
  phase_json: string;
  current_index: number | null;
  deadline_ms: number | null;
  locked: IntBool;
  epoch: number;
  seq: number;
  settings_json: string;
  questions_json: string;
  host_user_id: string;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  /** JSON array of { key, reply }: recent commands' replies, for retries after a takeover (A-6). */
  recent_requests_json: string;
}

export interface ParticipantsTable {
  id: string;
  session_id: string;
  user_id: string;
  name: string;
  role: string;
  join_order: number;
  joined_at: number;
  status: string;
  resume_token_hash: string;
  score: number;
  kick_reason: string | null;
  final_rank: number | null;
}

export interface AnswersTable {
  session_id: string;
  participant_id: string;
  question_index: number;
  question_id: string;
  answer_json: string;
  is_correct: IntBool;
  points: number;
  elapsed_ms: number;
  received_at: number;
  seq: number;
  /** The client message identity the answer arrived with; null when it had none. */
  request_key: string | null;
}

export interface ServedQuestionsTable {
  session_id: string;
  participant_id: string;
  question_index: number;
  served_at: number;
}

export interface BansTable {
  session_id: string;
  user_id: string;
  until: number;
  reason: string;
}

export interface ImagesTable {
  id: string;
  content_type: string;
  /** The image's bytes as base64: one portable text column for SQLite and Postgres alike. */
  data_base64: string;
  size: number;
  created_at: number;
}

export interface MetaTable {
  key: string;
  value: string;
}

/** Every table, for `Kysely<Database>`. */
export interface Database {
  quizzes: QuizzesTable;
  quiz_questions: QuizQuestionsTable;
  bank_questions: BankQuestionsTable;
  sessions: SessionsTable;
  participants: ParticipantsTable;
  answers: AnswersTable;
  served_questions: ServedQuestionsTable;
  bans: BansTable;
  meta: MetaTable;
  images: ImagesTable;
}
