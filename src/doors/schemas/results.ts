import { stringify } from "csv-stringify/sync";
import Type from "typebox";
import { QUESTION_KINDS } from "../../domain/quiz.js";
import {
  type ResultsPlayer,
  type SessionResults,
  summarizePlayer,
} from "../../services/results.js";
import { ModeInput } from "./session-settings.js";
import { PhaseKindView, StatusView } from "./views.js";

const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** One player's answer to one question, in a results report. */
export const ResultsAnswerView = Type.Object({
  question_index: Type.Integer(),
  answered: Type.Boolean(),
  /** Chosen option texts joined with " | ", or the typed text; null when unanswered. */
  answer: Nullable(Type.String()),
  correct: Type.Boolean(),
  points: Type.Integer(),
  /** Server-measured answer time (rule S-5); null when unanswered. */
  elapsed_ms: Nullable(Type.Integer()),
});

/** A session's results as REST reports them (snake_case mirror of the domain `SessionResults`). */
export const ResultsView = Type.Object({
  session: Type.Object({
    id: Type.String(),
    pin: Type.String(),
    title: Type.String(),
    quiz_id: Type.String(),
    mode: ModeInput,
    phase: PhaseKindView,
    status: StatusView,
    created_at: Type.Integer(),
    started_at: Nullable(Type.Integer()),
    ended_at: Nullable(Type.Integer()),
    question_count: Type.Integer(),
  }),
  questions: Type.Array(
    Type.Object({
      index: Type.Integer(),
      id: Type.String(),
      kind: Type.Enum([...QUESTION_KINDS]),
      text: Type.String(),
      options: Type.Array(Type.String()),
      /** The correct options' texts, or the canonical typed answer. */
      correct_answers: Type.Array(Type.String()),
    }),
  ),
  /** Ordered by rank; kicked players (rank null) last. */
  players: Type.Array(
    Type.Object({
      participant_id: Type.String(),
      user_id: Type.String(),
      name: Type.String(),
      status: Type.Enum(["active", "left", "kicked"]),
      score: Type.Integer(),
      rank: Nullable(Type.Integer()),
      /** Questions answered correctly. */
      correct_count: Type.Integer(),
      /** Questions answered at all. */
      answered_count: Type.Integer(),
      /** Mean answer time over the answered questions (S-5); null when none were answered. */
      average_time_ms: Nullable(Type.Integer()),
      answers: Type.Array(ResultsAnswerView),
    }),
  ),
});
export type ResultsView = Type.Static<typeof ResultsView>;

export function toResultsView(r: SessionResults): ResultsView {
  return { ...headOf(r), players: r.players.map(playerView) };
}

type PlayerView = ResultsView["players"][number];

function headOf(r: SessionResults): Omit<ResultsView, "players"> {
  const s = r.session;
  return {
    session: {
      id: s.id,
      pin: s.pin,
      title: s.title,
      quiz_id: s.quizId,
      mode: s.mode,
      phase: s.phase,
      status: s.status,
      created_at: s.createdAt,
      started_at: s.startedAt,
      ended_at: s.endedAt,
      question_count: s.questionCount,
    },
    questions: r.questions.map((q) => ({
      index: q.index,
      id: q.id,
      kind: q.kind,
      text: q.text,
      options: [...q.options],
      correct_answers: [...q.correctAnswers],
    })),
  };
}

function playerView(p: ResultsPlayer): PlayerView {
  const sum = summarizePlayer(p);
  return {
    participant_id: p.participantId,
    user_id: p.userId,
    name: p.name,
    status: p.status,
    score: p.score,
    rank: p.rank,
    correct_count: sum.correct,
    answered_count: sum.answered,
    average_time_ms: sum.averageElapsedMs,
    answers: p.answers.map((a) => ({
      question_index: a.questionIndex,
      answered: a.answered,
      answer: a.answer,
      correct: a.correct,
      points: a.points,
      elapsed_ms: a.elapsedMs,
    })),
  };
}

/**
 * `toResultsView` as JSON text in pieces of at most `playersPerPiece` players: joined, the
 * pieces are `JSON.stringify(toResultsView(r))`. A 10,000-player game's report is about 5 MB;
 * made and written in one go it held the event loop for about 200 ms (GC included), and every
 * room on the instance with it, each time anyone read it (an ended session's report is open to
 * anyone). A caller that waits a turn of the loop between pieces lets the rooms in between.
 */
export function* resultsJsonPieces(r: SessionResults, playersPerPiece: number): Generator<string> {
  const head = JSON.stringify(headOf(r));
  yield `${head.slice(0, -1)},"players":[`;
  for (const [i, players] of playerSlices(r.players, playersPerPiece).entries()) {
    if (players.length === 0) continue;
    yield `${i === 0 ? "" : ","}${players.map((p) => JSON.stringify(playerView(p))).join(",")}`;
  }
  yield "]}";
}

/** The players in slices of at most `perSlice` (at least 1), in order; one empty slice when there are none. */
function playerSlices(players: readonly ResultsPlayer[], perSlice: number): ResultsPlayer[][] {
  const step = Math.max(1, Math.floor(perSlice));
  const slices: ResultsPlayer[][] = [];
  let from = 0;
  do {
    slices.push(players.slice(from, from + step));
    from += step;
  } while (from < players.length);
  return slices;
}

/** The summary table's columns, in order; also its header row. One row per player. */
export const RESULTS_SUMMARY_COLUMNS = [
  "rank",
  "name",
  "score",
  "correct",
  "answered",
  "questions",
  "average_time_s",
  "status",
  "participant_id",
] as const;

/** The answers table's columns, in order; also its header row. One row per player and question. */
export const RESULTS_CSV_COLUMNS = [
  "rank",
  "participant_id",
  "name",
  "status",
  "score",
  "question",
  "question_id",
  "question_text",
  "answer",
  "correct",
  "points",
  "time_ms",
] as const;

/** Which tables a results CSV holds: both (the download), or one for a script to parse. */
export type ResultsCsvPart = "all" | "summary" | "answers";

/**
 * Spreadsheet programs (Excel above all) read a CSV without a byte-order mark in the system's
 * legacy code page, which turns "Zoë" into "ZoÃ«"; the BOM tells them it is UTF-8.
 */
export const UTF8_BOM = "\uFEFF";

/** Seconds with one decimal, as people read an answer time; empty when there is none. */
function seconds(ms: number | null): string {
  return ms === null ? "" : (ms / 1000).toFixed(1);
}

/**
 * The summary table: one row per player in rank order (kicked players last).
 *
 * | column          | value                                                                 |
 * |-----------------|-----------------------------------------------------------------------|
 * | rank            | final rank (1 = first); empty for a kicked player                     |
 * | name            | the player's display name                                             |
 * | score           | total points (S-6)                                                    |
 * | correct         | questions answered correctly                                          |
 * | answered        | questions answered at all                                             |
 * | questions       | questions in the session                                              |
 * | average_time_s  | mean answer time over the answered questions, in seconds with one decimal (S-5); empty when none were answered |
 * | status          | `active`, `left` or `kicked`                                          |
 * | participant_id  | the player's participant id in this session                          |
 */
export function resultsSummaryRows(r: SessionResults): string[][] {
  return r.players.map((p) => {
    const sum = summarizePlayer(p);
    return [
      p.rank === null ? "" : String(p.rank),
      p.name,
      String(p.score),
      String(sum.correct),
      String(sum.answered),
      String(r.questions.length),
      seconds(sum.averageElapsedMs),
      p.status,
      p.participantId,
    ];
  });
}

/**
 * The answers table: one row per (player, question), players in rank order (kicked players
 * last), questions in order within a player. A player who skipped a question still has its row.
 *
 * | column          | value                                                                    |
 * |-----------------|--------------------------------------------------------------------------|
 * | rank            | the player's final rank (1 = first); empty for a kicked player            |
 * | participant_id  | the player's participant id in this session                               |
 * | name            | the player's display name                                                  |
 * | status          | `active`, `left` or `kicked`                                               |
 * | score           | the player's total: the sum of the points column over their rows (S-6)    |
 * | question        | the question's number as the app shows it: 1 for the first                 |
 * | question_id     | the question's id                                                          |
 * | question_text   | the question as asked                                                      |
 * | answer          | the chosen option texts joined with " \| ", or the typed text; empty when unanswered |
 * | correct         | `true` or `false`; empty when unanswered                                   |
 * | points          | points this answer earned, streak bonus included; `0` when unanswered     |
 * | time_ms         | server-measured answer time in ms (S-5); empty when unanswered             |
 */
export function resultsAnswerRows(r: SessionResults): string[][] {
  const rows: string[][] = [];
  for (const p of r.players) {
    for (const q of r.questions) {
      const a = p.answers[q.index];
      const answered = a?.answered === true;
      rows.push([
        p.rank === null ? "" : String(p.rank),
        p.participantId,
        p.name,
        p.status,
        String(p.score),
        String(q.index + 1),
        q.id,
        q.text,
        answered ? (a.answer ?? "") : "",
        answered ? String(a.correct) : "",
        String(a?.points ?? 0),
        answered && a.elapsedMs !== null ? String(a.elapsedMs) : "",
      ]);
    }
  }
  return rows;
}

/**
 * A session's results as CSV: UTF-8 with a byte-order mark, RFC 4180 quoting, `\n` line ends.
 * `all` (the download) holds the summary table, an empty line, then the answers table, each
 * with its header row; `summary` or `answers` holds that table alone, for scripts.
 *
 * Cells are written as they are: a name or answer beginning with `=`, `+`, `-` or `@` is not
 * escaped, so spreadsheet users should import the file rather than open it with formulas on.
 */
export function toResultsCsv(r: SessionResults, part: ResultsCsvPart = "all"): string {
  return [...resultsCsvPieces(r, part, Number.POSITIVE_INFINITY)].join("");
}

/**
 * `toResultsCsv` in pieces of at most `playersPerPiece` players' rows (see `resultsJsonPieces`):
 * each table's header goes with its first piece, and every piece ends its last row, so joined
 * they are the whole file.
 */
export function* resultsCsvPieces(
  r: SessionResults,
  part: ResultsCsvPart,
  playersPerPiece: number,
): Generator<string> {
  yield UTF8_BOM;
  if (part !== "answers")
    yield* tablePieces(r, playersPerPiece, resultsSummaryRows, RESULTS_SUMMARY_COLUMNS);
  if (part === "all") yield "\n";
  if (part !== "summary")
    yield* tablePieces(r, playersPerPiece, resultsAnswerRows, RESULTS_CSV_COLUMNS);
}

/** One table of the CSV, its header with the first piece (alone when there are no players). */
function* tablePieces(
  r: SessionResults,
  playersPerPiece: number,
  rowsOf: (r: SessionResults) => string[][],
  columns: readonly string[],
): Generator<string> {
  for (const [i, players] of playerSlices(r.players, playersPerPiece).entries()) {
    yield stringify(rowsOf({ ...r, players }), { header: i === 0, columns: [...columns] });
  }
}
