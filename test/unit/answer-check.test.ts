import { describe, expect, it } from "vitest";
import {
  checkAnswerShape,
  isCorrect,
  matchOptionText,
  normaliseText,
} from "../../src/domain/answer-check.js";
import { asQuestionId } from "../../src/domain/ids.js";
import type { AnswerValue, Question } from "../../src/domain/quiz.js";
import { QUIZ_LIMITS } from "../../src/domain/quiz.js";

function question(over: Partial<Question>): Question {
  return {
    id: asQuestionId("q1"),
    kind: "single",
    text: "?",
    options: [],
    correct: [],
    accepted: [],
    timeLimitMs: 20_000,
    multiplier: 1,
    difficulty: "easy",
    tags: [],
    points: 10,
    ...over,
  };
}

const single = question({
  kind: "single",
  options: ["Paris", "London", "Berlin", "Madrid"],
  correct: [0],
});
const trueFalse = question({ kind: "true_false", options: ["True", "False"], correct: [1] });
const multiple = question({
  kind: "multiple",
  options: ["2", "3", "4", "5", "6"],
  correct: [0, 1, 3],
});
const typed = question({ kind: "typed", accepted: ["São Paulo", "Sao Paulo City", "SP"] });

const choice = (index: number): AnswerValue => ({ kind: "choice", index });
const choices = (...indices: number[]): AnswerValue => ({ kind: "choices", indices });
const text = (t: string): AnswerValue => ({ kind: "text", text: t });

describe("normaliseText", () => {
  it.each([
    ["  Café  ", "cafe"],
    ["naïve", "naive"],
    ["São   Paulo!", "sao paulo"],
    ["ÉCOLE", "ecole"],
    ["Crème Brûlée", "creme brulee"],
    ["İstanbul", "istanbul"],
    ["Ångström", "angstrom"],
    ["Ｐａｒｉｓ", "paris"],
    ["ﬁnal", "final"],
    ["x²", "x2"],
  ])("A-3: diacritics, case and compatibility forms: %j → %j", (input, out) => {
    expect(normaliseText(input)).toBe(out);
  });

  it.each([
    ["\t new \n  york\u00a0 city\u3000", "new york city"],
    ["a\u2003\u2009b", "a b"],
    ["   ", ""],
  ])("A-3: whitespace runs collapse and are trimmed: %j → %j", (input, out) => {
    expect(normaliseText(input)).toBe(out);
  });

  it.each([
    ["rock-n-roll", "rocknroll"],
    ["don't", "dont"],
    ["«Hello», world…", "hello world"],
    ["U.S.A.", "usa"],
    ["C++ & C#", "c c"],
    ["$100 + €5 = ?", "100 5"],
    ["snake_case", "snakecase"],
    ["I ❤ NY", "i ny"],
  ])("A-3: punctuation and symbols are removed: %j → %j", (input, out) => {
    expect(normaliseText(input)).toBe(out);
  });

  it("A-3: ß is already lower case and is kept", () => {
    expect(normaliseText("STRAßE")).toBe("straße");
    expect(normaliseText("straße")).not.toBe(normaliseText("strasse"));
  });

  it("A-3: leaves letters and digits of other scripts alone", () => {
    expect(normaliseText("Москва")).toBe("москва");
    expect(normaliseText("東京 2020")).toBe("東京 2020");
  });
});

describe("isCorrect", () => {
  it("A-3: a typed answer matches any accepted answer after normalisation", () => {
    expect(isCorrect(typed, text("São Paulo"))).toBe(true);
    expect(isCorrect(typed, text("  sao   PAULO! "))).toBe(true);
    expect(isCorrect(typed, text("Sao Paulo city"))).toBe(true);
    expect(isCorrect(typed, text("s.p."))).toBe(true);
    expect(isCorrect(typed, text("Rio"))).toBe(false);
    expect(isCorrect(typed, text("SaoPaulo"))).toBe(false);
    expect(isCorrect(typed, text("São Paulo Brazil"))).toBe(false);
  });

  it("A-3: an answer that normalises to nothing never matches", () => {
    const q = question({ kind: "typed", accepted: ["?!"] });
    expect(isCorrect(q, text("..."))).toBe(false);
  });

  it("A-4: multiple-select is correct only for the exact set, in any order", () => {
    expect(isCorrect(multiple, choices(0, 1, 3))).toBe(true);
    expect(isCorrect(multiple, choices(3, 0, 1))).toBe(true);
    expect(isCorrect(multiple, choices(0, 1))).toBe(false);
    expect(isCorrect(multiple, choices(0, 1, 3, 4))).toBe(false);
    expect(isCorrect(multiple, choices(0, 1, 2))).toBe(false);
  });

  it("A-4: a single choice on a multiple question is a one-element set", () => {
    const q = question({ kind: "multiple", options: ["a", "b", "c"], correct: [2] });
    expect(isCorrect(q, choice(2))).toBe(true);
    expect(isCorrect(q, choices(2))).toBe(true);
    expect(isCorrect(multiple, choice(0))).toBe(false);
  });

  it("single and true_false compare the chosen index", () => {
    expect(isCorrect(single, choice(0))).toBe(true);
    expect(isCorrect(single, choice(1))).toBe(false);
    expect(isCorrect(trueFalse, choice(1))).toBe(true);
    expect(isCorrect(trueFalse, choice(0))).toBe(false);
  });

  it("an answer of the wrong kind is not correct", () => {
    expect(isCorrect(single, choices(0))).toBe(false);
    expect(isCorrect(single, text("Paris"))).toBe(false);
    expect(isCorrect(multiple, text("2"))).toBe(false);
    expect(isCorrect(typed, choice(0))).toBe(false);
  });
});

describe("checkAnswerShape", () => {
  const ok = { ok: true };
  const err = (q: Question, a: AnswerValue) => {
    const r = checkAnswerShape(q, a);
    return r.ok ? "ok" : r.msg;
  };

  it("single / true_false take one in-range integer choice", () => {
    expect(checkAnswerShape(single, choice(3))).toEqual(ok);
    expect(checkAnswerShape(trueFalse, choice(0))).toEqual(ok);
    expect(err(single, choice(7))).toBe("choice 7 is out of range (0–3)");
    expect(err(single, choice(-1))).toBe("choice -1 is out of range (0–3)");
    expect(err(trueFalse, choice(2))).toBe("choice 2 is out of range (0–1)");
    expect(err(single, choice(1.5))).toBe("choice must be a whole number");
    expect(err(single, choice(Number.NaN))).toBe("choice must be a whole number");
    expect(err(single, choices(1))).toBe("this question takes one choice");
    expect(err(trueFalse, text("True"))).toBe("this question takes one choice");
  });

  it("multiple takes 1..n distinct in-range choices, or one choice", () => {
    expect(checkAnswerShape(multiple, choices(4, 0))).toEqual(ok);
    expect(checkAnswerShape(multiple, choices(0, 1, 2, 3, 4))).toEqual(ok);
    expect(checkAnswerShape(multiple, choice(2))).toEqual(ok);
    expect(err(multiple, choices())).toBe("choose at least one");
    expect(err(multiple, choices(0, 1, 2, 3, 4, 0))).toBe("at most 5 choices");
    expect(err(multiple, choices(1, 1))).toBe("choices must be distinct");
    expect(err(multiple, choices(0, 5))).toBe("choice 5 is out of range (0–4)");
    expect(err(multiple, choices(0, 0.5))).toBe("choice must be a whole number");
    expect(err(multiple, choice(9))).toBe("choice 9 is out of range (0–4)");
    expect(err(multiple, text("2"))).toBe("this question takes a set of choices");
  });

  it("typed takes non-empty text of at most acceptedTextMax characters", () => {
    expect(checkAnswerShape(typed, text("Lisbon"))).toEqual(ok);
    expect(checkAnswerShape(typed, text("a".repeat(QUIZ_LIMITS.acceptedTextMax)))).toEqual(ok);
    expect(err(typed, text("a".repeat(QUIZ_LIMITS.acceptedTextMax + 1)))).toBe(
      `answer is longer than ${QUIZ_LIMITS.acceptedTextMax} characters`,
    );
    expect(err(typed, text(""))).toBe("answer is empty");
    expect(err(typed, text("  ?! "))).toBe("answer is empty");
    expect(err(typed, choice(0))).toBe("this question takes a text answer");
    expect(err(typed, choices(0))).toBe("this question takes a text answer");
  });

  it("a choice question with no options refuses every choice", () => {
    const broken = question({ kind: "single", options: [], correct: [] });
    expect(err(broken, choice(0))).toBe("this question has no choices");
  });
});

describe("matchOptionText", () => {
  it("A-3: finds the option whose normalised text equals the input", () => {
    expect(matchOptionText(single, "Paris")).toBe(0);
    expect(matchOptionText(single, "  madrid ")).toBe(3);
    expect(matchOptionText(single, "BERLIN!")).toBe(2);
    expect(matchOptionText(trueFalse, "false")).toBe(1);
  });

  it("returns undefined when nothing matches or the input is empty", () => {
    expect(matchOptionText(single, "Rome")).toBeUndefined();
    expect(matchOptionText(single, "Par")).toBeUndefined();
    expect(matchOptionText(single, "  ")).toBeUndefined();
    expect(matchOptionText(typed, "São Paulo")).toBeUndefined();
  });

  it("returns the first of options that normalise alike", () => {
    const q = question({ kind: "single", options: ["Café", "cafe", "Tea"], correct: [2] });
    expect(matchOptionText(q, "CAFE")).toBe(0);
  });
});
