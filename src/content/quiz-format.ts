/**
 * The quiz document: quizwire's JSON import/export format and the REST body for
 * quizzes. One TypeBox schema describes it; `parseQuizDocument` turns a document
 * into a domain `Quiz` (schema first, then the invariants of quiz-check.ts) and
 * `quizToDocument` turns a `Quiz` back into one.
 *
 * The wire format is snake_case and forgiving: unknown properties are ignored,
 * most fields have defaults, `kind` is inferred, and seed 001's question shape
 * `{ id, text, options, correct_answer, points }` imports as it is.
 */
import Type from "typebox";
import { Compile } from "typebox/compile";
import { asQuestionId, asQuizId } from "../domain/ids.js";
import {
  DIFFICULTIES,
  QUESTION_KINDS,
  QUIZ_LIMITS,
  type Question,
  type QuestionKind,
  type Quiz,
  TRUE_FALSE_OPTIONS,
} from "../domain/quiz.js";
import { IMAGE_ID_PATTERN_SOURCE, IMAGE_MAX_BYTES } from "./image-ref.js";
import {
  checkDuplicateQuestionIds,
  checkQuestion,
  checkQuizFields,
  ID_PATTERN_SOURCE,
  ID_RULE_MSG,
  joinPath,
  type QuizIssue,
} from "./quiz-check.js";

export type { QuizIssue } from "./quiz-check.js";

/** The value of a document's optional `format` field. */
export const QUIZ_FORMAT = "quizwire/quiz@1";

/** Defaults applied to absent question fields. */
export const QUESTION_DEFAULTS = {
  timeLimitMs: 20_000,
  multiplier: 1,
  difficulty: "medium",
  points: 10,
} as const;

const Id = Type.String({ pattern: ID_PATTERN_SOURCE });

/** One question of a quiz document (also one entry of a question-bank file). */
export const QuestionDocument = Type.Object({
  id: Type.Optional(Id),
  kind: Type.Optional(Type.Enum([...QUESTION_KINDS])),
  text: Type.String({ minLength: 1, maxLength: QUIZ_LIMITS.questionTextMax }),
  options: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: QUIZ_LIMITS.optionTextMax }), {
      maxItems: QUIZ_LIMITS.optionsMax,
    }),
  ),
  /** 0-based indices into `options`. */
  correct: Type.Optional(
    Type.Array(Type.Integer({ minimum: 0 }), { maxItems: QUIZ_LIMITS.optionsMax }),
  ),
  accepted: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: QUIZ_LIMITS.acceptedTextMax }), {
      maxItems: QUIZ_LIMITS.acceptedMax,
    }),
  ),
  /** Seed 001's answer field: the correct option's text, or the canonical typed answer. */
  correct_answer: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: Math.max(QUIZ_LIMITS.optionTextMax, QUIZ_LIMITS.acceptedTextMax),
    }),
  ),
  time_limit_ms: Type.Optional(
    Type.Integer({ minimum: QUIZ_LIMITS.timeLimitMinMs, maximum: QUIZ_LIMITS.timeLimitMaxMs }),
  ),
  multiplier: Type.Optional(Type.Enum([0, 1, 2])),
  difficulty: Type.Optional(Type.Enum([...DIFFICULTIES])),
  tags: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: QUIZ_LIMITS.tagMax }), {
      maxItems: QUIZ_LIMITS.tagsMax,
    }),
  ),
  points: Type.Optional(Type.Integer({ minimum: 0, maximum: QUIZ_LIMITS.pointsMax })),
  /** A picture: an http(s) URL, or `/api/v1/images/<id>` of an image uploaded to this server. */
  image: Type.Optional(Type.String({ maxLength: QUIZ_LIMITS.imageRefMax })),
});
export type QuestionDocument = Type.Static<typeof QuestionDocument>;

/** An uploaded picture carried inside an exported quiz, so importing it elsewhere brings it along. */
export const EmbeddedImage = Type.Object({
  content_type: Type.String({
    maxLength: 64,
    description: "informative: the type is read from the bytes",
  }),
  data_base64: Type.String({ maxLength: Math.ceil(IMAGE_MAX_BYTES / 3) * 4 + 4 }),
});
export type EmbeddedImage = Type.Static<typeof EmbeddedImage>;

/** A whole quiz: the JSON import/export format and the REST body for quizzes. */
export const QuizDocument = Type.Object({
  id: Type.Optional(Id),
  title: Type.String({ minLength: 1, maxLength: QUIZ_LIMITS.titleMax }),
  description: Type.Optional(Type.String({ maxLength: QUIZ_LIMITS.descriptionMax })),
  questions: Type.Array(QuestionDocument, { minItems: 1, maxItems: QUIZ_LIMITS.questionsMax }),
  format: Type.Optional(Type.Literal(QUIZ_FORMAT)),
  /**
   * The uploaded pictures its questions name (`/api/v1/images/<id>`), by id: what an export
   * writes and an import stores, so a quiz moves between servers with its pictures.
   */
  images: Type.Optional(
    Type.Record(Type.String({ pattern: IMAGE_ID_PATTERN_SOURCE }), EmbeddedImage),
  ),
});
export type QuizDocument = Type.Static<typeof QuizDocument>;

const quizValidator = Compile(QuizDocument);
const questionValidator = Compile(QuestionDocument);

/** What parsing needs from outside: the time to stamp and a source of quiz ids. */
export interface ParseContext {
  now: number;
  newId: () => string;
}

export type QuizParseResult = { ok: true; quiz: Quiz } | { ok: false; issues: QuizIssue[] };
export type QuestionParseResult =
  | { ok: true; question: Question }
  | { ok: false; issues: QuizIssue[] };

/** At most this many issues are returned; a last one says how many more there were. */
const MAX_ISSUES = 50;

/**
 * Validates a quiz document and builds the domain `Quiz`.
 *
 * Defaults: description "", time_limit_ms 20000, multiplier 1, difficulty
 * "medium", tags [], points 10. Without `kind`, a question with options is
 * "single", one without is "typed". `correct_answer` names the correct option
 * (single, true_false; for true_false "true"/"false" in any case also work) or
 * is prepended to `accepted` (typed). True/false options are always
 * ["True", "False"]. Missing question ids become "q1", "q2", … (skipping ids the
 * document already uses); a missing quiz id comes from `ctx.newId()`. Texts are
 * trimmed. `createdAt` and `updatedAt` are `ctx.now`.
 */
export function parseQuizDocument(input: unknown, ctx: ParseContext): QuizParseResult {
  if (!quizValidator.Check(input)) return fail(invalidQuizIssues(input));
  const doc = input;
  const issues: QuizIssue[] = [];

  const used = new Set<string>();
  for (const qd of doc.questions) if (qd.id !== undefined) used.add(qd.id);
  let counter = 0;
  const questions = doc.questions.map((qd, i) => {
    let id = qd.id;
    if (id === undefined) {
      do id = `q${++counter}`;
      while (used.has(id));
      used.add(id);
    }
    return convertAndCheck(qd, id, `questions[${i}]`, issues);
  });

  const quiz: Quiz = {
    id: asQuizId(doc.id ?? ctx.newId()),
    title: doc.title.trim(),
    description: (doc.description ?? "").trim(),
    questions,
    createdAt: ctx.now,
    updatedAt: ctx.now,
  };
  // Questions were checked above, each with its own answer-check flag; the quiz's fields go first.
  const all = checkQuizFields(quiz);
  for (const issue of issues) all.push(issue);
  checkDuplicateQuestionIds(questions, all);
  return all.length > 0 ? fail(all) : { ok: true, quiz };
}

/**
 * Validates one question document (e.g. an entry of a question-bank file) and
 * builds the domain `Question`. Same rules as {@link parseQuizDocument}; issue
 * paths are relative to the question ("correct[0]"). A missing id comes from
 * `ctx.newId()`.
 */
export function parseQuestionDocument(
  input: unknown,
  ctx: Pick<ParseContext, "newId">,
): QuestionParseResult {
  if (!questionValidator.Check(input)) return fail(schemaIssues(questionValidator.Errors(input)));
  const issues: QuizIssue[] = [];
  const question = convertAndCheck(input, input.id ?? ctx.newId(), "", issues);
  return issues.length > 0 ? fail(issues) : { ok: true, question };
}

/** Options for {@link quizToDocument} and {@link questionToDocument}. */
export interface ToDocumentOptions {
  /** Include `correct`, `accepted` and `correct_answer`; leave them out for players. */
  includeAnswers: boolean;
}

/**
 * Writes a quiz as a document. With answers, `parseQuizDocument` of the result
 * gives the same quiz back (apart from the timestamps) for any quiz that
 * parsing produced.
 */
export function quizToDocument(quiz: Quiz, opts: ToDocumentOptions): QuizDocument {
  return {
    format: QUIZ_FORMAT,
    id: quiz.id,
    title: quiz.title,
    description: quiz.description,
    questions: quiz.questions.map((q) => questionToDocument(q, opts)),
  };
}

/**
 * Writes one question as a document. With answers it carries `correct`
 * (choice kinds) or `accepted` (typed), and also `correct_answer`, the canonical
 * correct text, for single, true_false and typed questions (seed 001 clients
 * read that field).
 */
export function questionToDocument(q: Question, opts: ToDocumentOptions): QuestionDocument {
  const doc: QuestionDocument = {
    id: q.id,
    kind: q.kind,
    text: q.text,
    options: [...q.options],
  };
  if (opts.includeAnswers) {
    if (q.kind === "typed") {
      doc.accepted = [...q.accepted];
      if (q.accepted[0] !== undefined) doc.correct_answer = q.accepted[0];
    } else {
      doc.correct = [...q.correct];
      const first = q.correct[0];
      const text = first === undefined ? undefined : q.options[first];
      if (q.kind !== "multiple" && text !== undefined) doc.correct_answer = text;
    }
  }
  doc.time_limit_ms = q.timeLimitMs;
  doc.multiplier = q.multiplier;
  doc.difficulty = q.difficulty;
  doc.tags = [...q.tags];
  doc.points = q.points;
  if (q.image !== undefined) doc.image = q.image;
  return doc;
}

/** Builds the question and appends every issue it has. */
function convertAndCheck(
  qd: QuestionDocument,
  id: string,
  path: string,
  issues: QuizIssue[],
): Question {
  const before = issues.length;
  const question = toQuestion(qd, id, path, issues);
  checkQuestion(question, path, issues, { answers: issues.length === before });
  return question;
}

/**
 * Issues of a document that failed the schema: the schema's, plus the domain
 * issues of every question that passed it, so one pass reports everything.
 */
function invalidQuizIssues(input: unknown): QuizIssue[] {
  const issues = schemaIssues(quizValidator.Errors(input));
  const questions =
    typeof input === "object" && input !== null && "questions" in input
      ? input.questions
      : undefined;
  if (!Array.isArray(questions)) return issues;
  const before = issues.length;
  questions.forEach((qd: unknown, i) => {
    if (questionValidator.Check(qd)) convertAndCheck(qd, qd.id ?? "q", `questions[${i}]`, issues);
  });
  if (issues.length === before) return issues;
  // Stable sort: quiz fields first, then question by question.
  return issues.sort((a, b) => questionIndexOf(a.path) - questionIndexOf(b.path));
}

function questionIndexOf(path: string): number {
  const m = /^questions\[(\d+)\]/.exec(path);
  return m === null ? -1 : Number(m[1]);
}

/**
 * Builds the domain question from a schema-valid document, reporting problems
 * with its answer (correct_answer that names no option, answers in the wrong
 * field for the kind). Invariants are left to checkQuestion.
 */
function toQuestion(qd: QuestionDocument, id: string, path: string, issues: QuizIssue[]): Question {
  const givenOptions = qd.options === undefined ? [] : qd.options.map(trim);
  const kind: QuestionKind = qd.kind ?? (givenOptions.length > 0 ? "single" : "typed");
  const at = (key: string, msg: string) => issues.push({ path: joinPath(path, key), msg });

  let options: string[];
  let correct: number[] = [];
  let accepted: string[] = [];
  if (kind === "typed") {
    options = [];
    if (givenOptions.length > 0) at("options", "must be empty for a typed-answer question");
    if (qd.correct !== undefined && qd.correct.length > 0) {
      at("correct", "must be empty for a typed-answer question (use accepted)");
    }
    const all = qd.correct_answer === undefined ? [] : [qd.correct_answer.trim()];
    if (qd.accepted !== undefined) for (const a of qd.accepted) all.push(a.trim());
    accepted = [...new Set(all)];
    if (accepted.length > QUIZ_LIMITS.acceptedMax) {
      at("accepted", `must have at most ${QUIZ_LIMITS.acceptedMax} answers`);
    }
  } else {
    options = kind === "true_false" ? [...TRUE_FALSE_OPTIONS] : givenOptions;
    if (qd.accepted !== undefined && qd.accepted.length > 0) {
      at("accepted", "is only for typed-answer questions");
    }
    if (qd.correct !== undefined) correct = [...qd.correct];
    if (qd.correct_answer !== undefined) {
      const index = matchCorrectAnswer(kind, options, qd.correct_answer);
      if (index < 0) {
        at("correct_answer", `does not match any option (${quoteList(options)})`);
      } else if (qd.correct === undefined) {
        correct = [index];
      } else if (!correct.includes(index)) {
        at("correct_answer", `names option ${index} ("${options[index]}"), which correct does not`);
      }
    } else if (qd.correct === undefined) {
      at("correct", "is required (or give correct_answer, the correct option's text)");
    }
  }

  return {
    id: asQuestionId(id),
    kind,
    text: qd.text.trim(),
    options,
    correct,
    accepted,
    timeLimitMs: qd.time_limit_ms ?? QUESTION_DEFAULTS.timeLimitMs,
    multiplier: qd.multiplier ?? QUESTION_DEFAULTS.multiplier,
    difficulty: qd.difficulty ?? QUESTION_DEFAULTS.difficulty,
    tags: qd.tags === undefined ? [] : [...new Set(qd.tags.map(trim))],
    points: qd.points ?? QUESTION_DEFAULTS.points,
    // A blank image (an editor's empty field) is no picture.
    ...(qd.image !== undefined && qd.image.trim() !== "" ? { image: qd.image.trim() } : {}),
  };
}

/** Index of the option `answer` names: exact text first, then trimmed and case-insensitive. */
function matchCorrectAnswer(
  kind: QuestionKind,
  options: readonly string[],
  answer: string,
): number {
  const exact = options.indexOf(answer);
  if (exact >= 0) return exact;
  const wanted = answer.trim().toLowerCase();
  if (kind === "true_false") {
    if (wanted === "true") return 0;
    if (wanted === "false") return 1;
  }
  return options.findIndex((o) => o.trim().toLowerCase() === wanted);
}

interface SchemaError {
  keyword: string;
  instancePath: string;
  params: object;
  message: string;
}

/** Turns TypeBox's errors into one readable issue per field. */
function schemaIssues(errors: readonly SchemaError[]): QuizIssue[] {
  const issues: QuizIssue[] = [];
  const seen = new Set<string>();
  const add = (path: string, msg: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    issues.push({ path, msg });
  };
  for (const e of errors) {
    const path = pointerToPath(e.instancePath);
    const p = e.params as Record<string, unknown>;
    if (e.keyword === "required" && Array.isArray(p.requiredProperties)) {
      for (const prop of p.requiredProperties) add(joinPath(path, String(prop)), "is required");
    } else {
      add(path, schemaMessage(e, path));
    }
  }
  return issues;
}

function schemaMessage(e: SchemaError, path: string): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "type": {
      const t = String(p.type);
      if (path === "") return "must be a JSON object";
      return t === "integer" || t === "array" || t === "object"
        ? `must be ${t === "integer" ? "a whole number" : `an ${t}`}`
        : `must be a ${t}`;
    }
    case "enum":
      return `must be one of: ${(p.allowedValues as unknown[]).join(", ")}`;
    case "const":
      return `must be "${String(p.allowedValue)}"`;
    case "pattern":
      return ID_RULE_MSG;
    case "minLength":
      return p.limit === 1 ? "must not be empty" : `must be at least ${p.limit} characters`;
    case "maxLength":
      return `must be at most ${p.limit} characters`;
    case "minItems":
      return `must have at least ${p.limit} ${p.limit === 1 ? "entry" : "entries"}`;
    case "maxItems":
      return `must have at most ${p.limit} entries`;
    case "minimum":
      return `must be at least ${p.limit}`;
    case "maximum":
      return `must be at most ${p.limit}`;
    default:
      return e.message;
  }
}

/** "/questions/3/correct/0" → "questions[3].correct[0]". */
function pointerToPath(pointer: string): string {
  let path = "";
  for (const raw of pointer.split("/").slice(1)) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    path = joinPath(path, /^\d+$/.test(seg) ? `[${seg}]` : seg);
  }
  return path;
}

function fail(issues: QuizIssue[]): { ok: false; issues: QuizIssue[] } {
  if (issues.length <= MAX_ISSUES) return { ok: false, issues };
  const shown = issues.slice(0, MAX_ISSUES - 1);
  shown.push({ path: "", msg: `${issues.length - shown.length} more issues not shown` });
  return { ok: false, issues: shown };
}

function trim(s: string): string {
  return s.trim();
}

function quoteList(items: readonly string[]): string {
  return items.map((s) => `"${s}"`).join(", ");
}
