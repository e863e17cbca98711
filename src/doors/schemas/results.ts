import { stringify } from "csv-stringify/sync";
import Type from "typebox";
import { QUESTION_KINDS } from "../../domain/quiz.js";
import type { SessionResults } from "../../services/results.js";
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
      answers: Type.Array(ResultsAnswerView),
    }),
  ),
});
export type ResultsView = Type.Static<typeof ResultsView>;

export function toResultsView(r: SessionResults): ResultsView {
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
    players: r.players.map((p) => ({
      participant_id: p.participantId,
      user_id: p.userId,
      name: p.name,
      status: p.status,
      score: p.score,
      rank: p.rank,
      answers: p.answers.map((a) => ({
        question_index: a.questionIndex,
        answered: a.answered,
        answer: a.answer,
        correct: a.correct,
        points: a.points,
        elapsed_ms: a.elapsedMs,
      })),
    })),
  };
}

/** The CSV columns, in order; also the header row. */
export const RESULTS_CSV_COLUMNS = [
  "rank",
  "participant_id",
  "name",
  "status",
  "score",
  "question_index",
  "question_id",
  "question_text",
  "answer",
  "correct",
  "points",
  "time_ms",
] as const;

/**
 * A session's results as CSV (RFC 4180 quoting, `\n` line ends, header row first): one row per
 * (player, question), players in rank order (kicked players last), questions in order within a
 * player. A player who skipped a question still has its row.
 *
 * | column          | value                                                                    |
 * |-----------------|--------------------------------------------------------------------------|
 * | rank            | the player's final rank (1 = first); empty for a kicked player            |
 * | participant_id  | the player's participant id in this session                               |
 * | name            | the player's display name                                                  |
 * | status          | `active`, `left` or `kicked`                                               |
 * | score           | the player's total: the sum of the points column over their rows (S-6)    |
 * | question_index  | 0-based position of the question in the session                           |
 * | question_id     | the question's id                                                          |
 * | question_text   | the question as asked                                                      |
 * | answer          | the chosen option texts joined with " \| ", or the typed text; empty when unanswered |
 * | correct         | `true` or `false`; empty when unanswered                                   |
 * | points          | points this answer earned, streak bonus included; `0` when unanswered     |
 * | time_ms         | server-measured answer time in ms (S-5); empty when unanswered             |
 *
 * Cells are written as they are: a name or answer beginning with `=`, `+`, `-` or `@` is not
 * escaped, so spreadsheet users should import the file rather than open it with formulas on.
 */
export function toResultsCsv(r: SessionResults): string {
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
        String(q.index),
        q.id,
        q.text,
        answered ? (a.answer ?? "") : "",
        answered ? String(a.correct) : "",
        String(a?.points ?? 0),
        answered && a.elapsedMs !== null ? String(a.elapsedMs) : "",
      ]);
    }
  }
  return stringify(rows, { header: true, columns: [...RESULTS_CSV_COLUMNS] });
}
