/*
 * CSV quiz import
 * ===============
 *
 * One question per row, for single-choice and typed-answer quizzes. The title
 * and description come from the request, not from the file.
 *
 * - The first row is the header. Header names are case-insensitive; spaces
 *   and dashes in them count as "_" ("Answer 1" is answer_1). A UTF-8 byte
 *   order mark is ignored, and so are blank lines. Fields follow RFC 4180:
 *   separate with ",", quote with '"' (a quoted field may hold commas, line
 *   breaks and doubled quotes ""). Files separated by ";" or tabs (as some
 *   spreadsheet programs write them) work too: the header row decides.
 * - Columns (any order; unknown columns are an error, so typos are caught):
 *
 *   | column              | required | meaning                                                  |
 *   |---------------------|----------|----------------------------------------------------------|
 *   | question            | yes      | the question text                                        |
 *   | answer_1..answer_6  | no       | the options shown to players; empty cells are skipped    |
 *   | correct             | yes      | choice question: the number of the correct answer column |
 *   |                     |          | ("2" means answer_2); typed question: the accepted       |
 *   |                     |          | answers separated by "|" ("colour|color")               |
 *   | kind                | no       | "single" or "typed"; when empty: typed if no answer_N    |
 *   |                     |          | cell is filled, single otherwise                         |
 *   | time_limit          | no       | seconds, 1–600 (decimals allowed); default 20            |
 *   | points              | no       | whole number, 0–10000; default 10                        |
 *   | difficulty          | no       | easy, medium or hard; default medium                     |
 *   | tags                | no       | separated by "|" ("vocabulary|synonym")                  |
 *
 * - Other kinds (multiple, true_false) need the JSON format.
 * - Every error names the CSV line it comes from: "line 4: correct must be 1–4".
 *
 * Example:
 *
 *   question,answer_1,answer_2,answer_3,answer_4,correct,time_limit,difficulty,tags
 *   Capital of France?,Lyon,Paris,Nice,Lille,2,15,easy,geography
 *   "Spell the colour of the sky, British style",,,,,colour|color,20,,spelling
 */
import { parse } from "csv-parse/sync";
import { QUIZ_LIMITS } from "../domain/quiz.js";
import type { QuizIssue } from "./quiz-check.js";
import {
  type ParseContext,
  parseQuizDocument,
  type QuestionDocument,
  type QuizDocument,
  type QuizParseResult,
} from "./quiz-format.js";

/** Title and description of the imported quiz (CSV files carry only questions). */
export interface QuizCsvMeta {
  title: string;
  description?: string;
}

const ANSWER_COLUMNS = Array.from({ length: QUIZ_LIMITS.optionsMax }, (_, i) => `answer_${i + 1}`);
const KNOWN_COLUMNS = new Set([
  "question",
  ...ANSWER_COLUMNS,
  "correct",
  "kind",
  "time_limit",
  "points",
  "difficulty",
  "tags",
]);
const REQUIRED_COLUMNS = ["question", "correct"] as const;
const COLUMN_LIST = `question, answer_1..answer_${QUIZ_LIMITS.optionsMax}, correct, kind, time_limit, points, difficulty, tags`;

/** Where each question of the built document came from, for error messages. */
interface RowSource {
  line: number;
  /** For each option index, the 1-based answer column it came from. */
  answerColumns: number[];
}

/**
 * Imports a quiz from CSV (single-choice and typed-answer questions).
 *
 * Header row required; names case-insensitive; BOM and blank lines ignored.
 * Columns: `question` (required), `answer_1`..`answer_6` (options; empty cells
 * ignored), `correct` (required: the 1-based number of the correct answer
 * column for a choice question, e.g. "2"; the accepted answers separated by "|"
 * for a typed one), `kind` (optional: "single" or "typed"; when empty, typed if
 * no answer_N cell is filled, else single), `time_limit` (optional, seconds,
 * default 20), `points` (optional), `difficulty` (optional), `tags` (optional,
 * separated by "|"). Each row becomes a question of a quiz document that
 * {@link parseQuizDocument} then checks, so the rules live in one place; every
 * issue about a row has the path "line N" and a message naming the CSV column.
 */
export function parseQuizCsv(csv: string, meta: QuizCsvMeta, ctx: ParseContext): QuizParseResult {
  // csv-parse miscounts lines for CRLF inside quoted fields; normalised input counts right.
  const text = csv.replace(/\r\n?/g, "\n");
  let rows: string[][];
  const endLines: number[] = [];
  try {
    rows = parse(text, {
      bom: true,
      delimiter: sniffDelimiter(text),
      skip_empty_lines: true,
      relax_column_count: true,
      on_record: (record: string[], info) => {
        endLines.push(info.lines);
        return record;
      },
    });
  } catch (err) {
    const e = err as { message?: string; lines?: number };
    const where = typeof e.lines === "number" ? `line ${e.lines}` : "";
    return { ok: false, issues: [{ path: where, msg: `is not valid CSV: ${e.message ?? err}` }] };
  }

  const issues: QuizIssue[] = [];
  const header = rows[0];
  if (header === undefined) {
    return { ok: false, issues: [{ path: "", msg: "the CSV is empty: a header row is required" }] };
  }
  const columns = header.map((h) =>
    h
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, "_"),
  );
  const columnIndex = new Map<string, number>();
  columns.forEach((name, i) => {
    if (name === "") return;
    if (!KNOWN_COLUMNS.has(name)) {
      issues.push({
        path: "line 1",
        msg: `unknown column "${header[i]}" (expected ${COLUMN_LIST})`,
      });
    } else if (columnIndex.has(name)) {
      issues.push({ path: "line 1", msg: `column "${name}" appears more than once` });
    } else {
      columnIndex.set(name, i);
    }
  });
  for (const name of REQUIRED_COLUMNS) {
    if (!columnIndex.has(name))
      issues.push({ path: "line 1", msg: `the "${name}" column is required` });
  }
  if (issues.length > 0) return { ok: false, issues };

  const questions: QuestionDocument[] = [];
  const sources: RowSource[] = [];
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r]!;
    if (row.every((cell) => cell.trim() === "")) continue;
    // A record's reported line is its last; count back over line breaks inside quoted cells.
    const line = endLines[r]! - row.reduce((n, cell) => n + countNewlines(cell), 0);
    const built = rowToQuestion(row, columns, columnIndex, line, issues);
    if (built !== undefined) {
      questions.push(built.question);
      sources.push({ line, answerColumns: built.answerColumns });
    }
  }
  const rowCount = questions.length + new Set(issues.map((i) => i.path)).size;
  if (rowCount === 0) {
    return {
      ok: false,
      issues: [{ path: "", msg: "the CSV has no question rows after the header" }],
    };
  }
  if (rowCount > QUIZ_LIMITS.questionsMax) {
    const msg = `the CSV has ${rowCount} question rows; at most ${QUIZ_LIMITS.questionsMax} are allowed`;
    return { ok: false, issues: [{ path: "", msg }] };
  }
  // Rows that converted still go through the document rules, so one pass reports every row's problems.
  if (questions.length > 0) {
    const doc: QuizDocument = { title: meta.title, questions };
    if (meta.description !== undefined) doc.description = meta.description;
    const result = parseQuizDocument(doc, ctx);
    if (result.ok && issues.length === 0) return result;
    if (!result.ok) for (const issue of result.issues) issues.push(toCsvIssue(issue, sources));
  }
  return { ok: false, issues: issues.sort((a, b) => lineOf(a) - lineOf(b)) };
}

/** Sort key: quiz-level issues first, then by CSV line (the sort is stable within a line). */
function lineOf(issue: QuizIssue): number {
  return issue.path.startsWith("line ") ? Number(issue.path.slice(5)) : 0;
}

function rowToQuestion(
  row: readonly string[],
  columns: readonly string[],
  columnIndex: ReadonlyMap<string, number>,
  line: number,
  issues: QuizIssue[],
): { question: QuestionDocument; answerColumns: number[] } | undefined {
  const path = `line ${line}`;
  const before = issues.length;
  const at = (msg: string) => issues.push({ path, msg });
  const cell = (name: string): string => {
    const i = columnIndex.get(name);
    return i === undefined ? "" : (row[i] ?? "").trim();
  };

  for (let i = columns.length; i < row.length; i++) {
    if ((row[i] ?? "").trim() !== "") {
      at(`has ${row.length} cells but the header has ${columns.length} columns`);
      break;
    }
  }

  const options: string[] = [];
  const answerColumns: number[] = [];
  ANSWER_COLUMNS.forEach((name, i) => {
    const value = cell(name);
    if (value !== "") {
      options.push(value);
      answerColumns.push(i + 1);
    }
  });

  const kindCell = cell("kind").toLowerCase();
  let kind: "single" | "typed";
  if (kindCell === "") kind = options.length > 0 ? "single" : "typed";
  else if (kindCell === "single" || kindCell === "typed") kind = kindCell;
  else {
    at(
      `kind must be "single" or "typed", not "${cell("kind")}" (multiple-choice and true/false questions need the JSON format)`,
    );
    return undefined;
  }

  const question: QuestionDocument = { kind, text: cell("question") };

  const correct = cell("correct");
  if (kind === "single") {
    question.options = options;
    const n = Number(correct);
    const column = answerColumns.indexOf(n);
    if (correct === "") at("correct is required: the number of the correct answer column");
    else if (!/^\d+$/.test(correct) || column < 0)
      at(`correct must be ${columnRange(answerColumns)}`);
    else question.correct = [column];
  } else {
    if (options.length > 0) {
      at(`answer_${answerColumns[0]} must be empty for a typed question`);
    }
    const accepted = splitList(correct);
    if (accepted.length === 0) at('correct must list the accepted answers, separated by "|"');
    else question.accepted = accepted;
  }

  const timeLimit = cell("time_limit");
  if (timeLimit !== "") {
    const seconds = Number(timeLimit);
    const ms = Math.round(seconds * 1000);
    if (
      !Number.isFinite(seconds) ||
      ms < QUIZ_LIMITS.timeLimitMinMs ||
      ms > QUIZ_LIMITS.timeLimitMaxMs
    ) {
      at(
        `time_limit must be a number of seconds from ${QUIZ_LIMITS.timeLimitMinMs / 1000} to ${QUIZ_LIMITS.timeLimitMaxMs / 1000}`,
      );
    } else {
      question.time_limit_ms = ms;
    }
  }

  const points = cell("points");
  if (points !== "") {
    if (!/^\d+$/.test(points) || Number(points) > QUIZ_LIMITS.pointsMax) {
      at(`points must be a whole number from 0 to ${QUIZ_LIMITS.pointsMax}`);
    } else {
      question.points = Number(points);
    }
  }

  const difficulty = cell("difficulty").toLowerCase();
  if (difficulty !== "") {
    if (difficulty === "easy" || difficulty === "medium" || difficulty === "hard") {
      question.difficulty = difficulty;
    } else {
      at(`difficulty must be easy, medium or hard, not "${cell("difficulty")}"`);
    }
  }

  const tags = splitList(cell("tags"));
  if (tags.length > 0) question.tags = tags;

  return issues.length === before ? { question, answerColumns } : undefined;
}

/** Maps an issue of the built document ("questions[3].options[1]") back to its CSV line and column. */
function toCsvIssue(issue: QuizIssue, sources: readonly RowSource[]): QuizIssue {
  const m = /^questions\[(\d+)\](?:\.([a-z_]+)(?:\[(\d+)\])?)?$/.exec(issue.path);
  const source = m === null ? undefined : sources[Number(m[1])];
  if (m === null || source === undefined) return issue;
  const field = m[2];
  const index = m[3] === undefined ? undefined : Number(m[3]);
  let column: string;
  switch (field) {
    case "text":
      column = "question";
      break;
    case "options":
      column =
        index === undefined
          ? "the answer cells"
          : `answer_${source.answerColumns[index] ?? index + 1}`;
      break;
    case "correct":
    case "accepted":
    case "correct_answer":
      column = "correct";
      break;
    case "time_limit_ms":
      column = "time_limit";
      break;
    case undefined:
      column = "the row";
      break;
    default:
      column = field;
  }
  return { path: `line ${source.line}`, msg: `${column} ${issue.msg}` };
}

/** "1–4" for contiguous answer columns, "one of 1, 2, 4" otherwise. */
function columnRange(answerColumns: readonly number[]): string {
  const n = answerColumns.length;
  if (n === 0) return "the number of a filled answer column, but no answer_N cell is filled";
  const contiguous = answerColumns.every((c, i) => c === i + 1);
  return contiguous ? `1–${n}` : `one of ${answerColumns.join(", ")}`;
}

function splitList(value: string): string[] {
  return value
    .split("|")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** The separator the header row uses most: ",", ";" or a tab (header names contain none of them). */
function sniffDelimiter(text: string): string {
  const start = text.trimStart();
  const end = start.indexOf("\n");
  const header = end < 0 ? start : start.slice(0, end);
  let best = ",";
  let bestCount = 0;
  for (const d of [",", ";", "\t"]) {
    const count = header.split(d).length - 1;
    if (count > bestCount) {
      best = d;
      bestCount = count;
    }
  }
  return best;
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf("\n"); i >= 0; i = s.indexOf("\n", i + 1)) n++;
  return n;
}
