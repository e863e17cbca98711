import { describe, expect, it } from "vitest";
import { parseQuizDocument } from "../../src/content/quiz-format.js";
import {
  addOption,
  adoptSaved,
  clearIssues,
  describeIssue,
  duplicate,
  emptyQuiz,
  fromDocument,
  groupIssues,
  issuesAt,
  issuesUnder,
  issueTarget,
  move,
  newQuestion,
  parseTags,
  type QuizDocument,
  removeAccepted,
  removeOption,
  setKind,
  summaryLine,
  toDocument,
  toggleCorrect,
} from "../../web/src/lib/quiz-model.js";

function keys(): () => string {
  let n = 0;
  return () => `k${++n}`;
}

const DOC: QuizDocument = {
  id: "mixed",
  title: "Mixed",
  description: "All kinds",
  questions: [
    {
      id: "a",
      kind: "single",
      text: "One?",
      options: ["x", "y", "z"],
      correct: [2],
      time_limit_ms: 15_000,
      multiplier: 2,
      difficulty: "easy",
      tags: ["t"],
      points: 10,
    },
    { id: "b", kind: "multiple", text: "Two?", options: ["p", "q", "r"], correct: [0, 2] },
    { id: "c", kind: "true_false", text: "Three?", correct_answer: "false" },
    { id: "d", kind: "typed", text: "Four?", correct_answer: "colour", accepted: ["color"] },
  ],
};

describe("web quiz editor model", () => {
  it("reads a document and writes one the server parses to the same quiz", () => {
    const model = fromDocument(DOC, keys());
    expect(model.questions.map((q) => q.kind)).toEqual([
      "single",
      "multiple",
      "true_false",
      "typed",
    ]);
    expect(model.questions[0]).toMatchObject({
      timeLimitS: 15,
      multiplier: 2,
      difficulty: "easy",
      correct: [2],
    });
    expect(model.questions[2]).toMatchObject({ options: ["True", "False"], correct: [1] });
    expect(model.questions[3]?.accepted).toEqual(["colour", "color"]);
    const ctx = { now: 0, newId: () => "new" };
    const back = parseQuizDocument(toDocument(model), ctx);
    const original = parseQuizDocument(DOC, ctx);
    expect(back.ok && original.ok).toBe(true);
    if (back.ok && original.ok) expect(back.quiz).toEqual(original.quiz);
  });

  it("a new quiz starts with one single-choice question, and its document has no ids", () => {
    const quiz = emptyQuiz(keys());
    expect(quiz.questions).toHaveLength(1);
    const doc = toDocument(quiz);
    expect(doc.id).toBeUndefined();
    expect(doc.questions[0]?.id).toBeUndefined();
    expect(doc.questions[0]).toMatchObject({
      kind: "single",
      options: ["", "", "", ""],
      correct: [0],
      time_limit_ms: 20_000,
    });
  });

  it("changing the kind carries over what still fits", () => {
    const single = {
      ...newQuestion("single", "k"),
      options: ["Paris", "Rome", "", ""],
      correct: [0],
    };
    const typed = setKind(single, "typed");
    expect(typed).toMatchObject({ options: [], correct: [], accepted: ["Paris"] });
    const backToSingle = setKind(typed, "single");
    expect(backToSingle).toMatchObject({ options: ["Paris", "", "", ""], correct: [0] });
    const tf = setKind(single, "true_false");
    expect(tf).toMatchObject({ options: ["True", "False"], correct: [0] });
    const multi = setKind({ ...single, correct: [1] }, "multiple");
    expect(multi).toMatchObject({ options: ["Paris", "Rome", "", ""], correct: [1] });
    expect(setKind({ ...multi, correct: [0, 1] }, "single").correct).toEqual([0]);
  });

  it("removing an option shifts the correct answers after it; limits hold", () => {
    const q = { ...newQuestion("multiple", "k"), options: ["a", "b", "c", "d"], correct: [1, 3] };
    expect(removeOption(q, 0)).toMatchObject({ options: ["b", "c", "d"], correct: [0, 2] });
    expect(removeOption(q, 1)).toMatchObject({ options: ["a", "c", "d"], correct: [2] });
    const two = { ...q, options: ["a", "b"], correct: [0] };
    expect(removeOption(two, 0)).toBe(two);
    let six = q;
    for (let i = 0; i < 5; i++) six = addOption(six);
    expect(six.options).toHaveLength(6);
    expect(removeAccepted({ ...newQuestion("typed", "k"), accepted: ["x"] }, 0).accepted).toEqual([
      "x",
    ]);
  });

  it("A-4: multiple-choice ticks toggle; single choice has exactly one correct option", () => {
    const multi = { ...newQuestion("multiple", "k"), correct: [0] };
    expect(toggleCorrect(toggleCorrect(multi, 2), 0).correct).toEqual([2]);
    expect(toggleCorrect(newQuestion("single", "k"), 3).correct).toEqual([3]);
  });

  it("reorders and duplicates questions", () => {
    expect(move(["a", "b", "c"], 2, 0)).toEqual(["c", "a", "b"]);
    expect(move(["a", "b", "c"], 0, 9)).toEqual(["b", "c", "a"]);
    expect(move(["a", "b"], 5, 0)).toEqual(["a", "b"]);
    const quiz = fromDocument(DOC, keys());
    const copied = duplicate(quiz.questions, 0, "copy");
    expect(copied).toHaveLength(5);
    expect(copied[1]).toMatchObject({ key: "copy", id: null, text: "One?" });
  });

  it("pins the server's issue paths to fields, following questions by key after a reorder", () => {
    expect(issueTarget("title")).toEqual({ scope: "quiz", field: "title" });
    expect(issueTarget("questions")).toEqual({ scope: "quiz", field: "questions" });
    expect(issueTarget("questions[2].options[1]")).toEqual({
      scope: "question",
      index: 2,
      field: "options",
      item: 1,
    });
    expect(issueTarget("questions[0].correct_answer")).toEqual({
      scope: "question",
      index: 0,
      field: "correct",
      item: null,
    });
    expect(issueTarget("questions[4]")).toEqual({
      scope: "question",
      index: 4,
      field: "",
      item: null,
    });

    const grouped = groupIssues(
      [
        { path: "title", msg: "is required" },
        { path: "questions[1].options[3]", msg: "must not be empty" },
        { path: "questions[1].correct[0]", msg: "is out of range" },
        { path: "questions[7].text", msg: "must not be empty" },
      ],
      ["k1", "k2"],
    );
    expect(issuesAt(grouped, null, "title")).toEqual(["is required"]);
    expect(issuesAt(grouped, "k2", "options.3")).toEqual(["must not be empty"]);
    expect(issuesAt(grouped, "k1", "options.3")).toEqual([]);
    expect(issuesUnder(grouped, "k2", "correct")).toEqual(["is out of range"]);
    // An index the form no longer has still reaches the person, on the quiz.
    expect(issuesAt(grouped, null, "questions")).toEqual(["question 8: must not be empty"]);
    expect(grouped.count).toBe(4);
  });

  it("describes issues in words for the summary, naming fields as the form labels them", () => {
    expect(describeIssue({ path: "questions[0].options[3]", msg: "must not be empty" })).toBe(
      "Question 1 · Answer D: must not be empty",
    );
    expect(describeIssue({ path: "questions[1].accepted[1]", msg: "must not be empty" })).toBe(
      "Question 2 · Accepted answer 2: must not be empty",
    );
    expect(describeIssue({ path: "title", msg: "is required" })).toBe("Title: is required");
    expect(
      describeIssue({ path: "questions[2].time_limit_ms", msg: "must be at least 1000" }),
    ).toBe("Question 3 · Time limit (seconds): must be at least 1000");
    expect(describeIssue({ path: "questions[2].points", msg: "must be at most 10000" })).toBe(
      "Question 3 · Base points for vocabulary scoring: must be at most 10000",
    );
    expect(describeIssue({ path: "questions[2]", msg: "is not an object" })).toBe(
      "Question 3: is not an object",
    );
    expect(describeIssue({ path: "", msg: "must be a JSON object" })).toBe(
      "Quiz: must be a JSON object",
    );
  });

  it("clears a field's issues as soon as it is edited, and only that field's", () => {
    const grouped = groupIssues(
      [
        { path: "title", msg: "is required" },
        { path: "questions[0].text", msg: "must not be empty" },
        { path: "questions[0].options[1]", msg: "must not be empty" },
        { path: "questions[0].options", msg: "must be different" },
        { path: "questions[1].options[1]", msg: "must not be empty" },
        { path: "questions[1].correct[0]", msg: "is out of range" },
      ],
      ["k1", "k2"],
    );
    const noTitle = clearIssues(grouped, null, "title");
    expect(issuesAt(noTitle, null, "title")).toEqual([]);
    expect(noTitle?.list).toHaveLength(5);
    // Editing answer B of the first question clears it and the list-wide message, not the other
    // question's answer B.
    const noB = clearIssues(noTitle, "k1", "options.1");
    expect(issuesAt(noB, "k1", "options.1")).toEqual([]);
    expect(issuesAt(noB, "k1", "options")).toEqual([]);
    expect(issuesAt(noB, "k1", "text")).toEqual(["must not be empty"]);
    expect(issuesAt(noB, "k2", "options.1")).toEqual(["must not be empty"]);
    // Ticking another correct answer clears "correct" and its items.
    expect(issuesUnder(clearIssues(noB, "k2", "correct"), "k2", "correct")).toEqual([]);
    // A changed kind (or a deleted question) clears all of that question.
    const noK2 = clearIssues(noB, "k2", "*");
    expect(noK2?.questions.has("k2")).toBe(false);
    expect(noK2?.list.map((p) => p.issue.path)).toEqual(["questions[0].text"]);
    // Nothing to clear: the same object back.
    expect(clearIssues(noK2, "k1", "tags")).toBe(noK2);
    expect(clearIssues(null, null, "title")).toBeNull();
  });

  it("numbers a summary line by where its question is now", () => {
    const grouped = groupIssues(
      [{ path: "questions[0].text", msg: "must not be empty" }],
      ["k1", "k2"],
    );
    const [pinned] = grouped.list;
    expect(summaryLine(pinned!, ["k1", "k2"])).toBe("Question 1 · Question: must not be empty");
    expect(summaryLine(pinned!, ["k2", "k1"])).toBe("Question 2 · Question: must not be empty");
    expect(summaryLine(pinned!, ["k2"])).toBe("Question 1 · Question: must not be empty");
  });

  it("keeps local keys when the saved quiz comes back with ids", () => {
    const quiz = emptyQuiz(keys());
    const saved = adoptSaved(quiz, {
      ...toDocument(quiz),
      id: "0193-new",
      questions: [{ id: "q1", text: "x" }],
    });
    expect(saved.id).toBe("0193-new");
    expect(saved.questions[0]).toMatchObject({ key: "k1", id: "q1" });
  });

  it("splits tags on commas, trimmed and without repeats", () => {
    expect(parseTags(" geo, maps ,geo,, ")).toEqual(["geo", "maps"]);
  });
});
