import {
  DIFFICULTIES,
  type Difficulty,
  QUIZ_LIMITS,
  type Question,
  type Quiz,
  TRUE_FALSE_OPTIONS,
} from "../domain/quiz.js";
import { imageRefProblem } from "./image-ref.js";

/**
 * One problem found in a quiz or question. `path` names the offending field in
 * the wire format ("questions[3].correct[0]", "title"; "" for the whole
 * value); `msg` reads as a predicate after it ("must not be empty").
 */
export interface QuizIssue {
  path: string;
  msg: string;
}

/** Quiz and question ids: 1–64 letters, digits, `_` or `-`. */
export const ID_PATTERN_SOURCE = `^[A-Za-z0-9_-]{1,${QUIZ_LIMITS.idMax}}$`;
const ID_PATTERN = new RegExp(ID_PATTERN_SOURCE);
export const ID_RULE_MSG = `must be 1–${QUIZ_LIMITS.idMax} characters of A–Z, a–z, 0–9, "_" or "-"`;

/** Appends `key` ("text", "[2]") to a path prefix ("questions[3]" or ""). */
export function joinPath(prefix: string, key: string): string {
  if (prefix === "") return key;
  return key.startsWith("[") ? prefix + key : `${prefix}.${key}`;
}

/** Options for {@link checkQuestion}. */
export interface CheckQuestionOptions {
  /**
   * Whether to check `correct` and `accepted`. The importer turns this off for a
   * question whose answer it already reported as unusable, so the same problem
   * is not reported twice.
   */
  answers?: boolean;
}

const KIND_LABEL = {
  single: "a single-choice question",
  multiple: "a multiple-choice question",
  true_false: "a true/false question",
  typed: "a typed-answer question",
} as const;

/**
 * Checks the invariants every stored question keeps: non-empty texts, option
 * counts for its kind, correct indices in range and distinct, the right number
 * of correct options, at least one accepted answer for typed questions, and
 * the numeric limits of QUIZ_LIMITS. Issues are appended to `into` (and it is
 * returned); paths are prefixed with `path`.
 */
export function checkQuestion(
  q: Question,
  path = "",
  into: QuizIssue[] = [],
  options: CheckQuestionOptions = {},
): QuizIssue[] {
  const at = (key: string, msg: string) => into.push({ path: joinPath(path, key), msg });

  if (!ID_PATTERN.test(q.id)) at("id", ID_RULE_MSG);
  checkText(q.text, QUIZ_LIMITS.questionTextMax, joinPath(path, "text"), into);

  switch (q.kind) {
    case "single":
    case "multiple": {
      const n = q.options.length;
      if (n < QUIZ_LIMITS.optionsMin || n > QUIZ_LIMITS.optionsMax) {
        at(
          "options",
          `must have ${QUIZ_LIMITS.optionsMin}–${QUIZ_LIMITS.optionsMax} options for ${KIND_LABEL[q.kind]} (has ${n})`,
        );
      }
      checkOptionTexts(q.options, path, into);
      break;
    }
    case "true_false":
      if (
        q.options.length !== TRUE_FALSE_OPTIONS.length ||
        q.options[0] !== TRUE_FALSE_OPTIONS[0] ||
        q.options[1] !== TRUE_FALSE_OPTIONS[1]
      ) {
        at("options", `must be ["True", "False"] for a true/false question`);
      }
      break;
    case "typed":
      if (q.options.length > 0) at("options", "must be empty for a typed-answer question");
      break;
    default:
      at("kind", "must be one of: single, multiple, true_false, typed");
  }

  if (options.answers !== false) checkAnswers(q, path, into);

  if (
    !Number.isInteger(q.timeLimitMs) ||
    q.timeLimitMs < QUIZ_LIMITS.timeLimitMinMs ||
    q.timeLimitMs > QUIZ_LIMITS.timeLimitMaxMs
  ) {
    at(
      "time_limit_ms",
      `must be a whole number from ${QUIZ_LIMITS.timeLimitMinMs} to ${QUIZ_LIMITS.timeLimitMaxMs}`,
    );
  }
  if (q.multiplier !== 0 && q.multiplier !== 1 && q.multiplier !== 2) {
    at("multiplier", "must be 0, 1 or 2");
  }
  if (!DIFFICULTIES.includes(q.difficulty as Difficulty)) {
    at("difficulty", `must be one of: ${DIFFICULTIES.join(", ")}`);
  }
  if (q.tags.length > QUIZ_LIMITS.tagsMax) {
    at("tags", `must have at most ${QUIZ_LIMITS.tagsMax} tags`);
  }
  q.tags.forEach((tag, i) => {
    checkText(tag, QUIZ_LIMITS.tagMax, joinPath(path, `tags[${i}]`), into);
  });
  if (!Number.isInteger(q.points) || q.points < 0 || q.points > QUIZ_LIMITS.pointsMax) {
    at("points", `must be a whole number from 0 to ${QUIZ_LIMITS.pointsMax}`);
  }
  if (q.image !== undefined) {
    const problem = imageRefProblem(q.image);
    if (problem !== null) at("image", problem);
  }
  return into;
}

/**
 * Checks a whole quiz: its own fields ({@link checkQuizFields}), every question
 * ({@link checkQuestion}) and that no two questions share an id.
 */
export function checkQuiz(quiz: Quiz, into: QuizIssue[] = []): QuizIssue[] {
  checkQuizFields(quiz, into);
  quiz.questions.forEach((q, i) => {
    checkQuestion(q, `questions[${i}]`, into);
  });
  checkDuplicateQuestionIds(quiz.questions, into);
  return into;
}

/** Checks the quiz's own fields and its question count, not the questions themselves. */
export function checkQuizFields(quiz: Quiz, into: QuizIssue[] = []): QuizIssue[] {
  if (!ID_PATTERN.test(quiz.id)) into.push({ path: "id", msg: ID_RULE_MSG });
  checkText(quiz.title, QUIZ_LIMITS.titleMax, "title", into);
  if (quiz.description.length > QUIZ_LIMITS.descriptionMax) {
    into.push({
      path: "description",
      msg: `must be at most ${QUIZ_LIMITS.descriptionMax} characters`,
    });
  }
  const n = quiz.questions.length;
  if (n < 1 || n > QUIZ_LIMITS.questionsMax) {
    into.push({
      path: "questions",
      msg: `must have 1–${QUIZ_LIMITS.questionsMax} questions (has ${n})`,
    });
  }
  return into;
}

/** Reports every question whose id an earlier question already has. */
export function checkDuplicateQuestionIds(
  questions: readonly Question[],
  into: QuizIssue[] = [],
): QuizIssue[] {
  const firstIndexOfId = new Map<string, number>();
  questions.forEach((q, i) => {
    const first = firstIndexOfId.get(q.id);
    if (first === undefined) firstIndexOfId.set(q.id, i);
    else
      into.push({
        path: `questions[${i}].id`,
        msg: `repeats the id "${q.id}" of questions[${first}]`,
      });
  });
  return into;
}

function checkAnswers(q: Question, path: string, into: QuizIssue[]): void {
  const at = (key: string, msg: string) => into.push({ path: joinPath(path, key), msg });
  if (q.kind === "typed") {
    if (q.correct.length > 0) {
      at("correct", "must be empty for a typed-answer question (use accepted)");
    }
    if (q.accepted.length === 0) {
      at("accepted", "must list at least one accepted answer for a typed-answer question");
    } else if (q.accepted.length > QUIZ_LIMITS.acceptedMax) {
      at("accepted", `must have at most ${QUIZ_LIMITS.acceptedMax} answers`);
    }
    q.accepted.forEach((a, i) => {
      checkText(a, QUIZ_LIMITS.acceptedTextMax, joinPath(path, `accepted[${i}]`), into);
    });
    return;
  }

  if (q.accepted.length > 0) at("accepted", "is only for typed-answer questions");
  const n = q.options.length;
  const seen = new Set<number>();
  q.correct.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0 || c >= n) {
      at(
        `correct[${i}]`,
        n > 0 ? `must be an option index from 0 to ${n - 1}` : "has no option to point to",
      );
    } else if (seen.has(c)) {
      at(`correct[${i}]`, `repeats option index ${c}`);
    } else {
      seen.add(c);
    }
  });
  if (q.kind === "multiple") {
    if (q.correct.length === 0) {
      at("correct", "must name at least one option for a multiple-choice question");
    }
  } else if (q.correct.length !== 1) {
    const hint = q.kind === "single" ? ' (use kind "multiple" for more than one)' : "";
    at("correct", `must name exactly one option for ${KIND_LABEL[q.kind]}${hint}`);
  }
}

function checkOptionTexts(options: readonly string[], path: string, into: QuizIssue[]): void {
  const seen = new Set<string>();
  options.forEach((option, i) => {
    const p = joinPath(path, `options[${i}]`);
    if (!checkText(option, QUIZ_LIMITS.optionTextMax, p, into)) return;
    // Players cannot tell identical options apart, and correct_answer could not pick one.
    const key = option.trim().toLowerCase();
    if (seen.has(key)) into.push({ path: p, msg: `repeats another option ("${option.trim()}")` });
    else seen.add(key);
  });
}

/** Pushes an issue and returns false when `s` is blank or too long. */
function checkText(s: string, max: number, path: string, into: QuizIssue[]): boolean {
  if (s.trim().length === 0) {
    into.push({ path, msg: "must not be empty" });
    return false;
  }
  if (s.length > max) {
    into.push({ path, msg: `must be at most ${max} characters` });
    return false;
  }
  return true;
}
