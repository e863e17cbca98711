import type { QuizIssue } from "../../content/quiz-check.js";
import { type ParseContext, parseQuizDocument } from "../../content/quiz-format.js";
import type { Quiz } from "../../domain/quiz.js";
import { fromQuizValidator } from "./protocol.js";

/** What a POST /quizzes body asks for, or why it cannot be read. */
export type CreateRequest =
  | { kind: "from_quiz"; quizId: string }
  | { kind: "inline"; quiz: Quiz }
  | { kind: "invalid"; issues: QuizIssue[]; reason: "bad_request" | "invalid_quiz" };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Reads a POST /quizzes body: `{from_quiz}` names a stored quiz; `{title,
 * questions}` is a quiz of its own, parsed like any quiz document (seed 001's
 * question shape imports as it is, missing question ids become q1, q2, …).
 */
export function decodeCreateBody(input: unknown, ctx: ParseContext): CreateRequest {
  if (!isObject(input)) {
    return invalid([{ path: "", msg: "must be an object" }], "bad_request");
  }
  const inline = "title" in input || "questions" in input;
  if ("from_quiz" in input) {
    if (inline) {
      return invalid(
        [{ path: "", msg: "give either from_quiz or title and questions, not both" }],
        "bad_request",
      );
    }
    if (!fromQuizValidator.Check(input)) {
      return invalid(
        [{ path: "from_quiz", msg: "must be a quiz id of 1–64 characters" }],
        "bad_request",
      );
    }
    return { kind: "from_quiz", quizId: input.from_quiz };
  }
  if (!inline) {
    return invalid([{ path: "", msg: "needs from_quiz, or title and questions" }], "bad_request");
  }
  const parsed = parseQuizDocument(input, ctx);
  return parsed.ok ? { kind: "inline", quiz: parsed.quiz } : invalid(parsed.issues, "invalid_quiz");
}

function invalid(issues: QuizIssue[], reason: "bad_request" | "invalid_quiz"): CreateRequest {
  return { kind: "invalid", issues, reason };
}
