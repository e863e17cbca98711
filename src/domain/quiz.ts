import type { QuestionId, QuizId } from "./ids.js";

/** The kinds of question the engine can ask. */
export type QuestionKind = "single" | "multiple" | "true_false" | "typed";
export const QUESTION_KINDS: readonly QuestionKind[] = [
  "single",
  "multiple",
  "true_false",
  "typed",
];

export type Difficulty = "easy" | "medium" | "hard";
export const DIFFICULTIES: readonly Difficulty[] = ["easy", "medium", "hard"];

/** Kahoot's "standard / double / no points" question setting. */
export type Multiplier = 0 | 1 | 2;

/** Limits every quiz obeys; the REST schemas and the importers use the same numbers. */
export const QUIZ_LIMITS = {
  titleMax: 200,
  descriptionMax: 2000,
  questionsMax: 200,
  questionTextMax: 1000,
  optionsMin: 2,
  optionsMax: 6,
  optionTextMax: 200,
  acceptedMax: 20,
  acceptedTextMax: 200,
  tagsMax: 10,
  tagMax: 40,
  timeLimitMinMs: 1_000,
  timeLimitMaxMs: 600_000,
  pointsMax: 10_000,
  idMax: 64,
  /** A question's picture: a URL (http or https) or the path of an uploaded image. */
  imageRefMax: 2048,
} as const;

export const TRUE_FALSE_OPTIONS = ["True", "False"] as const;

export interface Question {
  id: QuestionId;
  kind: QuestionKind;
  text: string;
  /** Choices shown to players, in display order. Empty for `typed`; ["True","False"] for `true_false`. */
  options: string[];
  /** Indices into `options` that are correct: one for single/true_false, one or more for multiple, none for typed. */
  correct: number[];
  /** Accepted typed answers (the first is the canonical one shown at reveal). Empty for choice kinds. */
  accepted: string[];
  timeLimitMs: number;
  multiplier: Multiplier;
  difficulty: Difficulty;
  tags: string[];
  /** Base points for the `vocab` policy (seed 001's `points`); 10 unless set. */
  points: number;
  /**
   * A picture shown with the question: an http(s) URL, or `/api/v1/images/<sha-256>` for one
   * uploaded to this server (content/image-ref.ts). Absent when the question has none.
   */
  image?: string;
}

export interface Quiz {
  id: QuizId;
  title: string;
  description: string;
  questions: Question[];
  createdAt: number;
  updatedAt: number;
}

export interface QuizSummary {
  id: QuizId;
  title: string;
  description: string;
  questionCount: number;
  updatedAt: number;
}

/** What players may see of a question: never the correct answer. */
export interface PublicQuestion {
  id: QuestionId;
  kind: QuestionKind;
  text: string;
  options: string[];
  timeLimitMs: number;
  multiplier: Multiplier;
  image?: string;
}

export function publicQuestion(q: Question, timeLimitMs = q.timeLimitMs): PublicQuestion {
  const pq: PublicQuestion = {
    id: q.id,
    kind: q.kind,
    text: q.text,
    options: q.options,
    timeLimitMs,
    multiplier: q.multiplier,
  };
  if (q.image !== undefined) pq.image = q.image;
  return pq;
}

/** The value a player submits, already decoded from whichever door it came through. */
export type AnswerValue =
  | { kind: "choice"; index: number }
  | { kind: "choices"; indices: number[] }
  | { kind: "text"; text: string };

/** The correct answer as shown at reveal time. */
export interface CorrectAnswer {
  indices: number[];
  texts: string[];
}

export function correctAnswerOf(q: Question): CorrectAnswer {
  return q.kind === "typed"
    ? { indices: [], texts: q.accepted.slice(0, 1) }
    : { indices: [...q.correct], texts: q.correct.map((i) => q.options[i] ?? "") };
}
