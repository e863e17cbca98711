import { describe, expect, it } from "vitest";
import { parseQuizCsv } from "../../src/content/quiz-csv.js";
import type { QuizIssue } from "../../src/content/quiz-format.js";
import type { Quiz } from "../../src/domain/quiz.js";

const ctx = { now: 1000, newId: () => "csv-quiz" };
const meta = { title: "From CSV" };

function csvOk(csv: string, m: { title: string; description?: string } = meta): Quiz {
  const r = parseQuizCsv(csv, m, ctx);
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.issues)}`);
  return r.quiz;
}

function csvIssues(csv: string, m: { title: string; description?: string } = meta): QuizIssue[] {
  const r = parseQuizCsv(csv, m, ctx);
  if (r.ok) throw new Error("expected issues, got ok");
  return r.issues;
}

const HEADER = "question,answer_1,answer_2,answer_3,answer_4,correct";

describe("parseQuizCsv", () => {
  it("imports single-choice and typed questions with every optional column", () => {
    const quiz = csvOk(
      [
        "question,answer_1,answer_2,answer_3,answer_4,correct,kind,time_limit,points,difficulty,tags",
        "Capital of France?,Lyon,Paris,Nice,Lille,2,,15,20,Easy,geography|europe",
        '"Spell the colour of grass, British style",,,,,colour | color,,7.5,,hard,spelling',
        "Largest planet?,Mars,Jupiter,,,2,single,,,,",
      ].join("\n"),
      { title: "Mixed", description: "from a spreadsheet" },
    );
    expect(quiz.id).toBe("csv-quiz");
    expect(quiz.title).toBe("Mixed");
    expect(quiz.description).toBe("from a spreadsheet");
    expect(quiz.questions).toEqual([
      {
        id: "q1",
        kind: "single",
        text: "Capital of France?",
        options: ["Lyon", "Paris", "Nice", "Lille"],
        correct: [1],
        accepted: [],
        timeLimitMs: 15_000,
        multiplier: 1,
        difficulty: "easy",
        tags: ["geography", "europe"],
        points: 20,
      },
      {
        id: "q2",
        kind: "typed",
        text: "Spell the colour of grass, British style",
        options: [],
        correct: [],
        accepted: ["colour", "color"],
        timeLimitMs: 7_500,
        multiplier: 1,
        difficulty: "hard",
        tags: ["spelling"],
        points: 10,
      },
      {
        id: "q3",
        kind: "single",
        text: "Largest planet?",
        options: ["Mars", "Jupiter"],
        correct: [1],
        accepted: [],
        timeLimitMs: 20_000,
        multiplier: 1,
        difficulty: "medium",
        tags: [],
        points: 10,
      },
    ]);
  });

  it("tolerates a BOM, CRLF line ends, blank lines, header case and spacing", () => {
    const quiz = csvOk(
      "\uFEFFQuestion, Answer 1 ,ANSWER-2,Correct\r\n\r\nTwo plus two?,3,4,2\r\n,,,\r\n",
    );
    expect(quiz.questions).toHaveLength(1);
    expect(quiz.questions[0]?.options).toEqual(["3", "4"]);
    expect(quiz.questions[0]?.correct).toEqual([1]);
  });

  it("reads semicolon-separated files", () => {
    const quiz = csvOk("question;answer_1;answer_2;correct\nTwo plus two?;3;4,0;1\n");
    expect(quiz.questions[0]?.options).toEqual(["3", "4,0"]);
  });

  it("maps the correct column number to the option index when answer cells are skipped", () => {
    const quiz = csvOk(`${HEADER}\nPick C,A,,C,D,3\n`);
    expect(quiz.questions[0]?.options).toEqual(["A", "C", "D"]);
    expect(quiz.questions[0]?.correct).toEqual([1]);
  });

  it("names the CSV line of a bad correct number, counting line breaks inside quotes", () => {
    const issues = csvIssues(
      `${HEADER}\n"Multi\nline question",a,b,c,d,1\nFine?,a,b,c,d,5\nGaps?,a,,c,,2\n`,
    );
    expect(issues).toEqual([
      { path: "line 4", msg: "correct must be 1–4" },
      { path: "line 5", msg: "correct must be one of 1, 3" },
    ]);
  });

  it("reports domain issues against the line and column they came from", () => {
    const issues = csvIssues(
      `${HEADER},tags\nOnly one answer?,a,,,,1,\nDuplicate answers?,Yes,no,YES,,1,\n   ,a,b,,,1,\nTagged?,a,b,,,1,${"x".repeat(41)}\n`,
    );
    expect(issues).toEqual([
      { path: "line 2", msg: expect.stringMatching(/^the answer cells must have 2–6 options/) },
      { path: "line 3", msg: 'answer_3 repeats another option ("YES")' },
      { path: "line 4", msg: "question must not be empty" },
      { path: "line 5", msg: "tags must be at most 40 characters" },
    ]);
  });

  it("rejects kinds other than single and typed", () => {
    const issues = csvIssues(`question,answer_1,answer_2,correct,kind\nPrimes?,2,3,1|2,multiple\n`);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe("line 2");
    expect(issues[0]?.msg).toMatch(/kind must be "single" or "typed".*JSON format/);
  });

  it("validates typed answers, time limits, points and difficulty", () => {
    const issues = csvIssues(
      [
        "question,answer_1,correct,kind,time_limit,points,difficulty",
        "No answers,,|,typed,,,",
        "Typed with options,a,a,typed,,,",
        "Too slow,,yes,,601,,",
        "Bad points,,yes,,,2.5,",
        "Bad level,,yes,,,,extreme",
      ].join("\n"),
    );
    expect(issues).toEqual([
      { path: "line 2", msg: 'correct must list the accepted answers, separated by "|"' },
      { path: "line 3", msg: "answer_1 must be empty for a typed question" },
      { path: "line 4", msg: "time_limit must be a number of seconds from 1 to 600" },
      { path: "line 5", msg: "points must be a whole number from 0 to 10000" },
      { path: "line 6", msg: 'difficulty must be easy, medium or hard, not "extreme"' },
    ]);
  });

  it("requires the header's required columns and rejects unknown or repeated ones", () => {
    expect(csvIssues("question,answer_1,answr_2\nx,a,b\n")).toEqual([
      { path: "line 1", msg: expect.stringContaining('unknown column "answr_2"') },
      { path: "line 1", msg: 'the "correct" column is required' },
    ]);
    expect(csvIssues("question,correct,Question\nx,y,z\n")).toEqual([
      { path: "line 1", msg: 'column "question" appears more than once' },
    ]);
  });

  it("rejects empty input, a header without rows, extra cells and broken quoting", () => {
    expect(csvIssues("")[0]?.msg).toMatch(/header row is required/);
    expect(csvIssues(`${HEADER}\n\n`)[0]?.msg).toMatch(/no question rows/);
    expect(csvIssues("question,correct\nx,y,surprise\n")).toEqual([
      { path: "line 2", msg: "has 3 cells but the header has 2 columns" },
    ]);
    const broken = csvIssues('question,correct\n"unterminated,y\n');
    expect(broken[0]?.msg).toMatch(/^is not valid CSV/);
  });

  it("passes title problems through from the quiz document rules", () => {
    expect(csvIssues("question,correct\nx,y\n", { title: "  " })).toEqual([
      { path: "title", msg: "must not be empty" },
    ]);
  });
});
