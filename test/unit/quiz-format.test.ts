import { describe, expect, it } from "vitest";
import { checkQuiz } from "../../src/content/quiz-check.js";
import {
  parseQuestionDocument,
  parseQuizDocument,
  QUIZ_FORMAT,
  type QuizIssue,
  quizToDocument,
} from "../../src/content/quiz-format.js";
import type { Quiz } from "../../src/domain/quiz.js";

function ctx(now = 1_700_000_000_000) {
  let n = 0;
  return { now, newId: () => `gen-${++n}` };
}

function parseOk(input: unknown): Quiz {
  const r = parseQuizDocument(input, ctx());
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.issues)}`);
  return r.quiz;
}

function parseIssues(input: unknown): QuizIssue[] {
  const r = parseQuizDocument(input, ctx());
  if (r.ok) throw new Error("expected issues, got ok");
  return r.issues;
}

function issueAt(issues: readonly QuizIssue[], path: string): QuizIssue | undefined {
  return issues.find((i) => i.path === path);
}

const single = (extra: Record<string, unknown> = {}) => ({
  text: "Capital of France?",
  options: ["Lyon", "Paris", "Nice"],
  correct: [1],
  ...extra,
});

describe("parseQuizDocument: seed 001 shape", () => {
  it("imports { id, text, options, correct_answer, points } as it is", () => {
    const quiz = parseOk({
      id: "vocab-101",
      title: "Vocab 101",
      questions: [
        {
          id: "q1",
          text: "Opposite of 'ancient'?",
          options: ["old", "modern", "antique", "aged"],
          correct_answer: "modern",
          points: 10,
        },
      ],
    });
    expect(quiz.id).toBe("vocab-101");
    expect(quiz.description).toBe("");
    expect(quiz.questions[0]).toEqual({
      id: "q1",
      kind: "single",
      text: "Opposite of 'ancient'?",
      options: ["old", "modern", "antique", "aged"],
      correct: [1],
      accepted: [],
      timeLimitMs: 20_000,
      multiplier: 1,
      difficulty: "medium",
      tags: [],
      points: 10,
    });
  });

  it("matches correct_answer case-insensitively after trimming when no option matches exactly", () => {
    const quiz = parseOk({
      title: "t",
      questions: [{ text: "x", options: ["Alpha", "Beta"], correct_answer: "  beta " }],
    });
    expect(quiz.questions[0]?.correct).toEqual([1]);
  });

  it("reports a correct_answer that names no option", () => {
    const issues = parseIssues({
      title: "t",
      questions: [single(), { text: "x", options: ["Alpha", "Beta"], correct_answer: "Gamma" }],
    });
    expect(issueAt(issues, "questions[1].correct_answer")?.msg).toMatch(
      /does not match any option/,
    );
    // The unusable answer is reported once, not again as "correct must name one option".
    expect(issueAt(issues, "questions[1].correct")).toBeUndefined();
  });

  it("rejects correct_answer that contradicts correct", () => {
    const issues = parseIssues({
      title: "t",
      questions: [single({ correct_answer: "Lyon" })],
    });
    expect(issueAt(issues, "questions[0].correct_answer")?.msg).toMatch(/correct does not/);
  });
});

describe("parseQuizDocument: kinds, inference and defaults", () => {
  it("infers typed when there are no options, putting correct_answer first in accepted", () => {
    const quiz = parseOk({
      title: "t",
      questions: [
        { text: "Spell the colour", correct_answer: "colour", accepted: ["color", "colour"] },
        { text: "Empty options are typed too", options: [], accepted: ["yes"] },
      ],
    });
    expect(quiz.questions[0]?.kind).toBe("typed");
    expect(quiz.questions[0]?.accepted).toEqual(["colour", "color"]);
    expect(quiz.questions[0]?.options).toEqual([]);
    expect(quiz.questions[0]?.correct).toEqual([]);
    expect(quiz.questions[1]?.kind).toBe("typed");
  });

  it("forces true/false options and reads correct_answer true/false in any case", () => {
    const quiz = parseOk({
      title: "t",
      questions: [
        {
          kind: "true_false",
          text: "Water boils at 50 °C",
          options: ["Yes", "No"],
          correct_answer: "FALSE",
        },
        { kind: "true_false", text: "The Sun is a star", correct: [0] },
      ],
    });
    expect(quiz.questions[0]?.options).toEqual(["True", "False"]);
    expect(quiz.questions[0]?.correct).toEqual([1]);
    expect(quiz.questions[1]?.correct).toEqual([0]);
  });

  it("accepts multiple-choice questions with several correct options", () => {
    const quiz = parseOk({
      title: "t",
      questions: [
        { kind: "multiple", text: "Primes?", options: ["2", "4", "5", "9"], correct: [0, 2] },
      ],
    });
    expect(quiz.questions[0]?.correct).toEqual([0, 2]);
  });

  it("applies every default and keeps given values", () => {
    const quiz = parseOk({
      title: "  Padded title  ",
      questions: [
        single(),
        single({
          time_limit_ms: 5000,
          multiplier: 2,
          difficulty: "hard",
          tags: ["geo", "geo"],
          points: 3,
        }),
      ],
    });
    expect(quiz.title).toBe("Padded title");
    expect(quiz.createdAt).toBe(1_700_000_000_000);
    expect(quiz.updatedAt).toBe(1_700_000_000_000);
    const [a, b] = quiz.questions;
    expect([a?.timeLimitMs, a?.multiplier, a?.difficulty, a?.tags, a?.points]).toEqual([
      20_000,
      1,
      "medium",
      [],
      10,
    ]);
    expect([b?.timeLimitMs, b?.multiplier, b?.difficulty, b?.tags, b?.points]).toEqual([
      5000,
      2,
      "hard",
      ["geo"],
      3,
    ]);
  });

  it("generates question ids q1, q2, … skipping ids the document uses, and the quiz id from ctx", () => {
    const quiz = parseOk({
      title: "t",
      questions: [single(), single({ id: "q1" }), single(), single({ id: "q3" }), single()],
    });
    expect(quiz.id).toBe("gen-1");
    expect(quiz.questions.map((q) => q.id)).toEqual(["q2", "q1", "q4", "q3", "q5"]);
  });

  it("ignores unknown properties", () => {
    const quiz = parseOk({
      title: "t",
      created_by: "someone",
      questions: [single({ explanation: "Paris is the capital", time_taken_ms: 1 })],
    });
    expect(quiz.questions).toHaveLength(1);
    expect(Object.keys(quiz.questions[0] ?? {})).not.toContain("explanation");
  });

  it("accepts the format marker and rejects another one", () => {
    expect(parseOk({ format: QUIZ_FORMAT, title: "t", questions: [single()] }).title).toBe("t");
    const issues = parseIssues({ format: "quizwire/quiz@2", title: "t", questions: [single()] });
    expect(issueAt(issues, "format")?.msg).toContain(QUIZ_FORMAT);
  });
});

describe("parseQuizDocument: issues", () => {
  it("names a non-object input", () => {
    expect(parseIssues([1, 2])).toEqual([{ path: "", msg: "must be a JSON object" }]);
  });

  it("reports missing required fields", () => {
    const issues = parseIssues({ questions: [{ options: ["a", "b"] }] });
    expect(issueAt(issues, "title")?.msg).toBe("is required");
    expect(issueAt(issues, "questions[0].text")?.msg).toBe("is required");
  });

  it("reports schema violations with readable paths", () => {
    const issues = parseIssues({
      id: "has spaces",
      title: "t",
      questions: [
        single({ correct: [1.5] }),
        single({ multiplier: 3, difficulty: "extreme", time_limit_ms: 999, kind: "essay" }),
        single({ options: ["1", "2", "3", "4", "5", "6", "7"] }),
      ],
    });
    expect(issueAt(issues, "id")?.msg).toMatch(/A–Z/);
    expect(issueAt(issues, "questions[0].correct[0]")?.msg).toBe("must be a whole number");
    expect(issueAt(issues, "questions[1].multiplier")?.msg).toBe("must be one of: 0, 1, 2");
    expect(issueAt(issues, "questions[1].difficulty")?.msg).toBe(
      "must be one of: easy, medium, hard",
    );
    expect(issueAt(issues, "questions[1].time_limit_ms")?.msg).toBe("must be at least 1000");
    expect(issueAt(issues, "questions[1].kind")?.msg).toMatch(
      /single, multiple, true_false, typed/,
    );
    expect(issueAt(issues, "questions[2].options")?.msg).toBe("must have at most 6 entries");
  });

  it("reports a title over the limit and an empty question list", () => {
    const issues = parseIssues({ title: "x".repeat(201), questions: [] });
    expect(issueAt(issues, "title")?.msg).toBe("must be at most 200 characters");
    expect(issueAt(issues, "questions")?.msg).toBe("must have at least 1 entry");
  });

  it("reports correct indices out of range or repeated", () => {
    const issues = parseIssues({
      title: "t",
      questions: [single(), single(), single(), single({ kind: "multiple", correct: [3, 0, 0] })],
    });
    expect(issueAt(issues, "questions[3].correct[0]")?.msg).toBe(
      "must be an option index from 0 to 2",
    );
    expect(issueAt(issues, "questions[3].correct[2]")?.msg).toBe("repeats option index 0");
  });

  it("requires exactly one correct option for single and true/false, at least one for multiple", () => {
    const issues = parseIssues({
      title: "t",
      questions: [
        single({ correct: [0, 1] }),
        { kind: "true_false", text: "x", correct: [] },
        single({ kind: "multiple", correct: [] }),
        { text: "no answer at all", options: ["a", "b"] },
      ],
    });
    expect(issueAt(issues, "questions[0].correct")?.msg).toMatch(/exactly one.*"multiple"/);
    expect(issueAt(issues, "questions[1].correct")?.msg).toMatch(
      /exactly one option for a true\/false/,
    );
    expect(issueAt(issues, "questions[2].correct")?.msg).toMatch(/at least one/);
    expect(issueAt(issues, "questions[3].correct")?.msg).toMatch(/is required/);
  });

  it("enforces option counts and distinct, non-blank options", () => {
    const issues = parseIssues({
      title: "t",
      questions: [
        { text: "one option", options: ["only"], correct: [0] },
        { text: "dup", options: ["Paris", "paris ", "Rome"], correct: [0] },
        { text: "blank", options: ["a", "   "], correct: [0] },
      ],
    });
    expect(issueAt(issues, "questions[0].options")?.msg).toMatch(/must have 2–6 options/);
    expect(issueAt(issues, "questions[1].options[1]")?.msg).toMatch(/repeats another option/);
    expect(issueAt(issues, "questions[2].options[1]")?.msg).toBe("must not be empty");
  });

  it("requires an accepted answer for typed questions and keeps answers in their own fields", () => {
    const issues = parseIssues({
      title: "t",
      questions: [
        { kind: "typed", text: "no answers" },
        { kind: "typed", text: "has options", options: ["a", "b"], accepted: ["a"] },
        single({ accepted: ["Paris"] }),
        { kind: "typed", text: "blank answer", accepted: ["  "] },
      ],
    });
    expect(issueAt(issues, "questions[0].accepted")?.msg).toMatch(/at least one accepted answer/);
    expect(issueAt(issues, "questions[1].options")?.msg).toMatch(/must be empty/);
    expect(issueAt(issues, "questions[2].accepted")?.msg).toMatch(/only for typed/);
    expect(issueAt(issues, "questions[3].accepted[0]")?.msg).toBe("must not be empty");
  });

  it("rejects texts that are empty after trimming", () => {
    const issues = parseIssues({ title: "   ", questions: [single({ text: " \n\t " })] });
    expect(issueAt(issues, "title")?.msg).toBe("must not be empty");
    expect(issueAt(issues, "questions[0].text")?.msg).toBe("must not be empty");
  });

  it("rejects duplicate question ids", () => {
    const issues = parseIssues({
      title: "t",
      questions: [single({ id: "a" }), single({ id: "b" }), single({ id: "a" })],
    });
    expect(issues).toEqual([
      { path: "questions[2].id", msg: 'repeats the id "a" of questions[0]' },
    ]);
  });

  it("reports schema and domain issues of different questions in one pass, in document order", () => {
    const issues = parseIssues({
      title: "t",
      questions: [single({ correct: [7] }), single({ points: -1 }), single({ text: " " })],
    });
    expect(issues).toEqual([
      { path: "questions[0].correct[0]", msg: "must be an option index from 0 to 2" },
      { path: "questions[1].points", msg: "must be at least 0" },
      { path: "questions[2].text", msg: "must not be empty" },
    ]);
  });

  it("caps the number of issues it returns", () => {
    const questions = Array.from({ length: 120 }, () => single({ text: " " }));
    const issues = parseIssues({ title: "t", questions });
    expect(issues).toHaveLength(50);
    expect(issues[49]?.msg).toBe("71 more issues not shown");
  });
});

const fullQuiz = (): Quiz =>
  parseOk({
    id: "round-trip",
    title: "Round trip",
    description: "Every kind",
    questions: [
      single({ tags: ["geo"], difficulty: "easy", multiplier: 2, time_limit_ms: 15000 }),
      { kind: "multiple", text: "Primes?", options: ["2", "4", "5"], correct: [2, 0] },
      { kind: "true_false", text: "The Moon orbits Earth", correct_answer: "true", multiplier: 0 },
      {
        kind: "typed",
        text: "Spell the British word for hue",
        accepted: ["colour", "color"],
        points: 20,
      },
    ],
  });

describe("quizToDocument", () => {
  it("round-trips through parseQuizDocument with answers, via JSON too", () => {
    const quiz = fullQuiz();
    const doc = JSON.parse(JSON.stringify(quizToDocument(quiz, { includeAnswers: true })));
    const r = parseQuizDocument(doc, { now: 42, newId: () => "unused" });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.quiz).toEqual({ ...quiz, createdAt: 42, updatedAt: 42 });
  });

  it("emits correct_answer for single, true/false and typed questions", () => {
    const doc = quizToDocument(fullQuiz(), { includeAnswers: true });
    expect(doc.format).toBe(QUIZ_FORMAT);
    expect(doc.questions.map((q) => q.correct_answer)).toEqual([
      "Paris",
      undefined,
      "True",
      "colour",
    ]);
  });

  it("leaves out every answer without includeAnswers", () => {
    const doc = quizToDocument(fullQuiz(), { includeAnswers: false });
    for (const q of doc.questions) {
      expect(q).not.toHaveProperty("correct");
      expect(q).not.toHaveProperty("accepted");
      expect(q).not.toHaveProperty("correct_answer");
    }
    expect(JSON.stringify(doc)).not.toContain("colour");
    expect(doc.questions[0]?.options).toEqual(["Lyon", "Paris", "Nice"]);
  });

  it("produces quizzes that pass checkQuiz", () => {
    expect(checkQuiz(fullQuiz())).toEqual([]);
  });
});

describe("parseQuestionDocument", () => {
  it("parses one question with paths relative to it and an id from ctx", () => {
    const ok = parseQuestionDocument(
      { text: "x", options: ["a", "b"], correct_answer: "b" },
      {
        newId: () => "bank-1",
      },
    );
    expect(ok).toMatchObject({
      ok: true,
      question: { id: "bank-1", kind: "single", correct: [1] },
    });

    const bad = parseQuestionDocument(
      { text: "x", options: ["a", "b"], correct: [5] },
      {
        newId: () => "bank-2",
      },
    );
    expect(bad).toEqual({
      ok: false,
      issues: [{ path: "correct[0]", msg: "must be an option index from 0 to 1" }],
    });
    expect(parseQuestionDocument("nope", { newId: () => "x" })).toEqual({
      ok: false,
      issues: [{ path: "", msg: "must be a JSON object" }],
    });
  });
});
