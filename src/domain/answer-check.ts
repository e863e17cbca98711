import { exhaustive } from "./phase.js";
import type { AnswerValue, Question } from "./quiz.js";
import { QUIZ_LIMITS } from "./quiz.js";

const MARKS = /\p{M}/gu;
const PUNCTUATION_AND_SYMBOLS = /[\p{P}\p{S}]/gu;
const SPACES = /[\s\p{Z}]+/gu;

/**
 * Normalises a typed answer for comparison (A-3):
 *
 * 1. Unicode compatibility decomposition (NFKD): "ﬁ" → "fi", full-width "Ａ" → "A", "²" → "2",
 *    no-break and other compatibility spaces → " ", and accented letters split into letter + mark.
 * 2. Case folded with `toLowerCase()` (locale-independent). "ß" stays "ß" (it is already lower
 *    case), so "strasse" does not match "straße".
 * 3. Combining marks (`\p{M}`) removed: "Café" → "cafe", "naïve" → "naive". Done after lower-casing
 *    so the dot that lower-casing may add to "İ" goes too.
 * 4. Punctuation (`\p{P}`: - _ ' " . , ; : ! ? ( ) [ ] { } / \ @ # % & * …) and symbols (`\p{S}`:
 *    + = < > | ~ ^ ` $ € © emoji …) removed without leaving a space: "rock-n-roll" →
 *    "rocknroll", "don't" → "dont", "C++" → "c".
 * 5. Runs of whitespace (`\s`, which covers every Unicode space separator, tabs and line breaks)
 *    collapsed to one space, then surrounding whitespace trimmed.
 *
 * Invisible format characters such as zero-width space (`\p{Cf}`) are kept: A-3 does not list them.
 */
export function normaliseText(s: string): string {
  return s
    .normalize("NFKD")
    .toLowerCase()
    .replace(MARKS, "")
    .replace(PUNCTUATION_AND_SYMBOLS, "")
    .replace(SPACES, " ")
    .trim();
}

/** Whether an answer has the right form for its question; `msg` is short and shown to the player. */
export type ShapeCheck = { ok: true } | { ok: false; msg: string };

const OK: ShapeCheck = { ok: true };
const fail = (msg: string): ShapeCheck => ({ ok: false, msg });

/**
 * Checks that an answer fits its question before it is stored or scored:
 * single / true_false take `{ kind: "choice" }` with an index in range; multiple takes
 * `{ kind: "choices" }` with 1..options.length distinct indices in range (or a single
 * `{ kind: "choice" }`, read as a one-element set); typed takes `{ kind: "text" }` of at most
 * `QUIZ_LIMITS.acceptedTextMax` characters whose normalised form is not empty.
 */
export function checkAnswerShape(q: Question, a: AnswerValue): ShapeCheck {
  switch (q.kind) {
    case "single":
    case "true_false":
      if (a.kind !== "choice") return fail("this question takes one choice");
      return checkIndex(q, a.index);
    case "multiple": {
      if (a.kind === "choice") return checkIndex(q, a.index);
      if (a.kind !== "choices") return fail("this question takes a set of choices");
      if (!Array.isArray(a.indices) || a.indices.length === 0) return fail("choose at least one");
      if (a.indices.length > q.options.length) {
        return fail(`at most ${q.options.length} choices`);
      }
      for (const i of a.indices) {
        const r = checkIndex(q, i);
        if (!r.ok) return r;
      }
      if (new Set(a.indices).size !== a.indices.length) return fail("choices must be distinct");
      return OK;
    }
    case "typed":
      if (a.kind !== "text") return fail("this question takes a text answer");
      if (typeof a.text !== "string") return fail("answer must be text");
      if (a.text.length > QUIZ_LIMITS.acceptedTextMax) {
        return fail(`answer is longer than ${QUIZ_LIMITS.acceptedTextMax} characters`);
      }
      if (normaliseText(a.text) === "") return fail("answer is empty");
      return OK;
    default:
      return exhaustive(q.kind);
  }
}

function checkIndex(q: Question, index: number): ShapeCheck {
  if (!Number.isInteger(index)) return fail("choice must be a whole number");
  const n = q.options.length;
  if (n === 0) return fail("this question has no choices");
  if (index < 0 || index >= n) return fail(`choice ${index} is out of range (0–${n - 1})`);
  return OK;
}

/**
 * Whether an answer is correct. Assumes `checkAnswerShape` passed; an answer of the
 * wrong kind is simply not correct.
 */
export function isCorrect(q: Question, a: AnswerValue): boolean {
  switch (q.kind) {
    case "single":
    case "true_false":
      return a.kind === "choice" && q.correct.includes(a.index);
    case "multiple": {
      const chosen = a.kind === "choice" ? [a.index] : a.kind === "choices" ? a.indices : null;
      if (chosen === null) return false;
      const want = new Set(q.correct);
      const got = new Set(chosen);
      if (want.size !== got.size) return false;
      for (const i of got) if (!want.has(i)) return false;
      return true;
    }
    case "typed": {
      if (a.kind !== "text") return false;
      const given = normaliseText(a.text);
      if (given === "") return false;
      return q.accepted.some((acc) => normaliseText(acc) === given);
    }
    default:
      return exhaustive(q.kind);
  }
}

/**
 * Index of the first option whose normalised text equals the normalised `text`, for doors whose
 * clients send the option's text ("Paris") instead of its index. Undefined when none matches.
 */
export function matchOptionText(q: Question, text: string): number | undefined {
  const wanted = normaliseText(text);
  if (wanted === "") return undefined;
  const i = q.options.findIndex((o) => normaliseText(o) === wanted);
  return i === -1 ? undefined : i;
}
