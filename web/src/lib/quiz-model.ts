/**
 * The quiz editor's model and its rules: a quiz document (the JSON the REST
 * API reads and writes, src/content/quiz-format.ts) turned into something a
 * form edits, and back. The server checks the result; its `issues` come back
 * with paths into the document ("questions[2].options[1]") that
 * {@link groupIssues} pins to the fields of the form.
 */
import type { QuizDocument } from "../../../src/content/quiz-format.js";
import { optionLetter } from "./format.js";
import type { QuestionKind } from "./types.js";

export type { QuizDocument };
export type Difficulty = "easy" | "medium" | "hard";
export type Multiplier = 0 | 1 | 2;

export interface EditorQuestion {
  /** A local key, stable while editing (React keys, issue mapping). */
  key: string;
  /** The question's id in the stored quiz; null for a new question (the server numbers it). */
  id: string | null;
  kind: QuestionKind;
  text: string;
  /** single / multiple: 2–6 texts; true_false: ["True", "False"]; typed: empty. */
  options: string[];
  /** Indices of the correct options (choice kinds). */
  correct: number[];
  /** typed: the accepted answers, the first one canonical. */
  accepted: string[];
  timeLimitS: number;
  multiplier: Multiplier;
  difficulty: Difficulty;
  /** Base points under vocabulary scoring (S-4). */
  points: number;
  tags: string[];
  /** The picture: an http(s) URL or an uploaded image's path; "" for none. */
  image: string;
}

export interface EditorQuiz {
  id: string | null;
  title: string;
  description: string;
  questions: EditorQuestion[];
}

export const LIMITS = {
  optionsMin: 2,
  optionsMax: 6,
  acceptedMax: 20,
  questionsMax: 200,
  timeLimitMinS: 1,
  timeLimitMaxS: 600,
  pointsMax: 10_000,
} as const;

export const KIND_LABELS: Record<QuestionKind, string> = {
  single: "Single choice",
  multiple: "Multiple choice",
  true_false: "True or false",
  typed: "Typed answer",
};

const TRUE_FALSE = ["True", "False"];

export function newQuestion(kind: QuestionKind, key: string): EditorQuestion {
  const base: EditorQuestion = {
    key,
    id: null,
    kind,
    text: "",
    options: [],
    correct: [],
    accepted: [],
    timeLimitS: 20,
    multiplier: 1,
    difficulty: "medium",
    points: 10,
    tags: [],
    image: "",
  };
  switch (kind) {
    case "single":
    case "multiple":
      return { ...base, options: ["", "", "", ""], correct: [0] };
    case "true_false":
      return { ...base, options: [...TRUE_FALSE], correct: [0] };
    case "typed":
      return { ...base, accepted: [""] };
  }
}

export function emptyQuiz(key: () => string): EditorQuiz {
  return { id: null, title: "", description: "", questions: [newQuestion("single", key())] };
}

/** A stored quiz document (answers included) as the editor's model. */
export function fromDocument(doc: QuizDocument, key: () => string): EditorQuiz {
  return {
    id: doc.id ?? null,
    title: doc.title,
    description: doc.description ?? "",
    questions: doc.questions.map((q) => {
      const kind: QuestionKind = q.kind ?? ((q.options ?? []).length > 0 ? "single" : "typed");
      const options =
        kind === "true_false" ? [...TRUE_FALSE] : kind === "typed" ? [] : [...(q.options ?? [])];
      let correct = [...(q.correct ?? [])];
      if (correct.length === 0 && q.correct_answer !== undefined && kind !== "typed") {
        const i = options.findIndex((o) => o.toLowerCase() === q.correct_answer?.toLowerCase());
        if (i >= 0) correct = [i];
      }
      const accepted =
        kind === "typed"
          ? unique([
              ...(q.correct_answer !== undefined ? [q.correct_answer] : []),
              ...(q.accepted ?? []),
            ])
          : [];
      return {
        key: key(),
        id: q.id ?? null,
        kind,
        text: q.text,
        options,
        correct,
        accepted: kind === "typed" && accepted.length === 0 ? [""] : accepted,
        timeLimitS: Math.round((q.time_limit_ms ?? 20_000) / 1000),
        multiplier: q.multiplier ?? 1,
        difficulty: q.difficulty ?? "medium",
        points: q.points ?? 10,
        tags: [...(q.tags ?? [])],
        image: q.image ?? "",
      };
    }),
  };
}

/**
 * The document to send (POST /api/v1/quizzes or PUT …/{id}). Questions keep
 * their order; the document's question i is the editor's question i, which is
 * what lets the server's issue paths find their fields.
 */
export function toDocument(quiz: EditorQuiz): QuizDocument {
  const doc: QuizDocument = {
    title: quiz.title,
    description: quiz.description,
    questions: quiz.questions.map((q) => {
      const out: QuizDocument["questions"][number] = {
        kind: q.kind,
        text: q.text,
        time_limit_ms: Math.round(q.timeLimitS * 1000),
        multiplier: q.multiplier,
        difficulty: q.difficulty,
        points: q.points,
        tags: q.tags,
      };
      if (q.id !== null) out.id = q.id;
      if (q.image.trim() !== "") out.image = q.image.trim();
      if (q.kind === "typed") {
        out.options = [];
        out.accepted = q.accepted.map((a) => a.trim());
      } else {
        out.options = q.kind === "true_false" ? [...TRUE_FALSE] : [...q.options];
        out.correct = [...q.correct];
      }
      return out;
    }),
  };
  if (quiz.id !== null) doc.id = quiz.id;
  return doc;
}

/** Changes a question's kind, carrying over what still makes sense. */
export function setKind(q: EditorQuestion, kind: QuestionKind): EditorQuestion {
  if (q.kind === kind) return q;
  const correctTexts = q.correct.map((i) => q.options[i] ?? "").filter((t) => t.trim() !== "");
  switch (kind) {
    case "typed": {
      const accepted =
        q.kind === "typed" ? q.accepted : q.kind === "true_false" ? [] : correctTexts;
      return {
        ...q,
        kind,
        options: [],
        correct: [],
        accepted: accepted.length > 0 ? accepted : [""],
      };
    }
    case "true_false":
      return {
        ...q,
        kind,
        options: [...TRUE_FALSE],
        correct: [q.kind === "true_false" && q.correct[0] === 1 ? 1 : 0],
        accepted: [],
      };
    case "single":
    case "multiple": {
      let options: string[];
      let correct: number[];
      if (q.kind === "single" || q.kind === "multiple") {
        options = q.options;
        correct = kind === "single" ? q.correct.slice(0, 1) : q.correct;
      } else if (q.kind === "typed") {
        const first = q.accepted.find((a) => a.trim() !== "");
        options = [first ?? "", "", "", ""];
        correct = [0];
      } else {
        options = [...TRUE_FALSE];
        correct = q.correct.slice(0, 1);
      }
      return { ...q, kind, options, correct, accepted: [] };
    }
  }
}

export function setOption(q: EditorQuestion, index: number, text: string): EditorQuestion {
  return { ...q, options: q.options.map((o, i) => (i === index ? text : o)) };
}

export function addOption(q: EditorQuestion): EditorQuestion {
  if (q.options.length >= LIMITS.optionsMax || (q.kind !== "single" && q.kind !== "multiple")) {
    return q;
  }
  return { ...q, options: [...q.options, ""] };
}

/** Removes an option; the correct indices after it move down with it. */
export function removeOption(q: EditorQuestion, index: number): EditorQuestion {
  if (q.options.length <= LIMITS.optionsMin) return q;
  const options = q.options.filter((_, i) => i !== index);
  const correct = q.correct.filter((i) => i !== index).map((i) => (i > index ? i - 1 : i));
  return { ...q, options, correct };
}

/** Marks option `index` correct: the only one (single, true/false) or toggled (multiple). */
export function toggleCorrect(q: EditorQuestion, index: number): EditorQuestion {
  if (q.kind === "multiple") {
    const correct = q.correct.includes(index)
      ? q.correct.filter((i) => i !== index)
      : [...q.correct, index].sort((a, b) => a - b);
    return { ...q, correct };
  }
  return { ...q, correct: [index] };
}

export function setAccepted(q: EditorQuestion, index: number, text: string): EditorQuestion {
  return { ...q, accepted: q.accepted.map((a, i) => (i === index ? text : a)) };
}

export function addAccepted(q: EditorQuestion): EditorQuestion {
  return q.accepted.length >= LIMITS.acceptedMax ? q : { ...q, accepted: [...q.accepted, ""] };
}

export function removeAccepted(q: EditorQuestion, index: number): EditorQuestion {
  return q.accepted.length <= 1 ? q : { ...q, accepted: q.accepted.filter((_, i) => i !== index) };
}

/** "a, b , c" → ["a", "b", "c"]. */
export function parseTags(text: string): string[] {
  return unique(
    text
      .split(",")
      .map((t) => t.trim())
      .filter((t) => t !== ""),
  );
}

/** Moves the item at `from` to `to` (both clamped); a new array. */
export function move<T>(list: readonly T[], from: number, to: number): T[] {
  const out = [...list];
  if (from < 0 || from >= out.length) return out;
  const target = Math.max(0, Math.min(out.length - 1, to));
  const [item] = out.splice(from, 1);
  out.splice(target, 0, item as T);
  return out;
}

/** A copy of a question placed right after it, with a new key and no id. */
export function duplicate(
  list: readonly EditorQuestion[],
  index: number,
  key: string,
): EditorQuestion[] {
  const q = list[index];
  if (!q) return [...list];
  const copy: EditorQuestion = {
    ...q,
    key,
    id: null,
    options: [...q.options],
    correct: [...q.correct],
    accepted: [...q.accepted],
    tags: [...q.tags],
  };
  return [...list.slice(0, index + 1), copy, ...list.slice(index + 1)];
}

/** One issue from the server: `path` into the document, `msg` read after the field's name. */
export interface Issue {
  path: string;
  msg: string;
}

/** Where an issue path points: a quiz field, or a field (and item) of question `index`. */
export type IssueTarget =
  | { scope: "quiz"; field: string }
  | { scope: "question"; index: number; field: string; item: number | null };

const QUESTION_PATH = /^questions\[(\d+)\](?:\.([a-z_]+)(?:\[(\d+)\])?)?/;

export function issueTarget(path: string): IssueTarget {
  const m = QUESTION_PATH.exec(path);
  if (!m) return { scope: "quiz", field: path.replace(/\[\d+\].*$/, "").split(".")[0] ?? "" };
  const field = m[2] ?? "";
  return {
    scope: "question",
    index: Number(m[1]),
    // The correct option may be named by text (correct_answer) or by index (correct).
    field: field === "correct_answer" ? "correct" : field,
    item: m[3] === undefined ? null : Number(m[3]),
  };
}

/** Field key of an issue for a question: "text", "options", "options.1", "" (the whole question). */
export function fieldKey(field: string, item: number | null = null): string {
  return item === null ? field : `${field}.${item}`;
}

/** One server issue pinned to the form: the quiz (questionKey null) or a question, and a field key. */
export interface PinnedIssue {
  questionKey: string | null;
  /** Quiz fields: "title", "description", "questions", ""; question fields: a field key ("options.1"). */
  field: string;
  /** The summary line as it read when the quiz was sent (for a question the editor no longer has). */
  text: string;
  issue: Issue;
}

export interface GroupedIssues {
  /** Quiz fields: "title", "description", "questions", "" (the whole document). */
  quiz: Map<string, string[]>;
  /** By question key, then by field key ("options.1" and also "options" for any option issue). */
  questions: Map<string, Map<string, string[]>>;
  count: number;
  /** Every issue still open, in the server's order: the summary at the top of the form. */
  list: PinnedIssue[];
}

function push(map: Map<string, string[]>, key: string, msg: string): void {
  const list = map.get(key);
  if (list) list.push(msg);
  else map.set(key, [msg]);
}

function regroup(list: PinnedIssue[]): GroupedIssues {
  const out: GroupedIssues = { quiz: new Map(), questions: new Map(), count: list.length, list };
  for (const p of list) {
    if (p.questionKey === null) {
      push(out.quiz, p.field, p.issue.msg);
      continue;
    }
    let fields = out.questions.get(p.questionKey);
    if (!fields) {
      fields = new Map();
      out.questions.set(p.questionKey, fields);
    }
    push(fields, p.field, p.issue.msg);
  }
  return out;
}

/**
 * Pins the server's issues to the form: question `i` of the document is the
 * editor's question `i` when it was sent, so issues follow that question's key
 * even if the list is reordered afterwards.
 */
export function groupIssues(issues: readonly Issue[], sentKeys: readonly string[]): GroupedIssues {
  const list: PinnedIssue[] = issues.map((issue) => {
    const t = issueTarget(issue.path);
    const text = describeIssue(issue);
    if (t.scope === "quiz") return { questionKey: null, field: t.field, text, issue };
    const key = sentKeys[t.index];
    if (key === undefined) {
      return {
        questionKey: null,
        field: "questions",
        text,
        issue: { path: "questions", msg: `question ${t.index + 1}: ${issue.msg}` },
      };
    }
    return { questionKey: key, field: fieldKey(t.field, t.item), text, issue };
  });
  return regroup(list);
}

/** Whether editing `edited` touches an issue at `at`: the same field, one of its items, or the list it is in. */
function touches(edited: string, at: string): boolean {
  return (
    edited === "*" || at === edited || at.startsWith(`${edited}.`) || edited.startsWith(`${at}.`)
  );
}

/**
 * The issues left once a field has been edited: the person has acted on what the server said,
 * so its message goes at once rather than at the next save (which checks everything again).
 * `field` is a field key ("title", "options.1", "correct"), or "*" for the whole question (its
 * kind changed, or it was deleted).
 */
export function clearIssues(
  grouped: GroupedIssues | null,
  questionKey: string | null,
  field: string,
): GroupedIssues | null {
  if (!grouped) return null;
  const left = grouped.list.filter(
    (p) => p.questionKey !== questionKey || !touches(field, p.field),
  );
  return left.length === grouped.list.length ? grouped : regroup(left);
}

/** The summary line of an issue, numbered by where its question now is in the form. */
export function summaryLine(p: PinnedIssue, questionKeys: readonly string[]): string {
  if (p.questionKey === null) return p.text;
  const index = questionKeys.indexOf(p.questionKey);
  if (index < 0) return p.text;
  return describeIssue({
    ...p.issue,
    path: p.issue.path.replace(/^questions\[\d+\]/, `questions[${index}]`),
  });
}

/** Issues for one field of a question, or of the quiz when `questionKey` is null. */
export function issuesAt(
  grouped: GroupedIssues | null,
  questionKey: string | null,
  key: string,
): string[] {
  if (!grouped) return [];
  if (questionKey === null) return grouped.quiz.get(key) ?? [];
  return grouped.questions.get(questionKey)?.get(key) ?? [];
}

/** Issues for a field and everything inside it ("correct" also gets "correct.0"). */
export function issuesUnder(
  grouped: GroupedIssues | null,
  questionKey: string,
  field: string,
): string[] {
  const fields = grouped?.questions.get(questionKey);
  if (!fields) return [];
  const out: string[] = [];
  for (const [key, msgs] of fields) {
    if (key === field || key.startsWith(`${field}.`)) out.push(...msgs);
  }
  return out;
}

/** Field names as the form labels them, for the issue summary. */
const FIELD_LABELS: Record<string, string> = {
  text: "Question",
  options: "Answers",
  correct: "Correct answer",
  accepted: "Accepted answers",
  time_limit_ms: "Time limit (seconds)",
  multiplier: "Points",
  difficulty: "Difficulty",
  points: "Base points for vocabulary scoring",
  tags: "Tags",
  image: "Picture",
  kind: "Kind",
  id: "Id",
  title: "Title",
  description: "Description",
  questions: "Questions",
};

/** An item of a list field, as the form labels it: "Answer B", "Accepted answer 2", "Tag 1". */
function itemLabel(field: string, item: number): string {
  switch (field) {
    case "options":
      return `Answer ${optionLetter(item)}`;
    case "correct":
      return `Correct answer ${item + 1}`;
    case "accepted":
      return `Accepted answer ${item + 1}`;
    case "tags":
      return `Tag ${item + 1}`;
    default:
      return `${FIELD_LABELS[field] ?? field} ${item + 1}`;
  }
}

/** "Question 3 · Answer B: must not be empty" — one line of the issue summary. */
export function describeIssue(issue: Issue): string {
  const t = issueTarget(issue.path);
  if (t.scope === "quiz") {
    const label = FIELD_LABELS[t.field] ?? (t.field === "" ? "Quiz" : t.field);
    return `${label}: ${issue.msg}`;
  }
  if (t.field === "") return `Question ${t.index + 1}: ${issue.msg}`;
  const label = t.item === null ? (FIELD_LABELS[t.field] ?? t.field) : itemLabel(t.field, t.item);
  return `Question ${t.index + 1} · ${label}: ${issue.msg}`;
}

function unique(list: readonly string[]): string[] {
  return [...new Set(list)];
}

/**
 * After a save: the stored document's ids (the quiz's, and the numbers the
 * server gave new questions) copied onto the model, keeping its local keys
 * so the form does not lose focus or scroll.
 */
export function adoptSaved(quiz: EditorQuiz, saved: QuizDocument): EditorQuiz {
  return {
    ...quiz,
    id: saved.id ?? quiz.id,
    questions: quiz.questions.map((q, i) => ({ ...q, id: saved.questions[i]?.id ?? q.id })),
  };
}
