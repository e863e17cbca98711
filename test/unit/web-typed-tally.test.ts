import { describe, expect, it } from "vitest";
import type { ResultsView } from "../../src/doors/schemas/results.js";
import { typedTally } from "../../web/src/lib/typed-tally.js";

function results(answers: Array<[answer: string | null, correct: boolean]>): ResultsView {
  return {
    session: {
      id: "s",
      pin: "123456",
      title: "t",
      quiz_id: "q",
      mode: "live",
      phase: "reveal",
      status: "active",
      created_at: 0,
      started_at: 0,
      ended_at: null,
      question_count: 2,
    },
    questions: [],
    players: answers.map(([answer, correct], i) => ({
      participant_id: `p${i}`,
      user_id: `u${i}`,
      name: `P${i}`,
      status: "active",
      score: 0,
      rank: i + 1,
      correct_count: 0,
      answered_count: 0,
      average_time_ms: null,
      answers: [
        {
          question_index: 0,
          answered: true,
          answer: "x",
          correct: false,
          points: 0,
          elapsed_ms: 1,
        },
        {
          question_index: 1,
          answered: answer !== null,
          answer,
          correct,
          points: 0,
          elapsed_ms: answer === null ? null : 1,
        },
      ],
    })),
  };
}

describe("web typed-answer reveal: how many were right, the most common answers", () => {
  it("counts right answers and groups spellings that differ only in case and spacing", () => {
    const r = results([
      ["Paris", true],
      ["paris ", true],
      ["Lyon", false],
      ["  PARIS", true],
      [null, false],
      ["Marseille", false],
      ["lyon", false],
    ]);
    expect(typedTally(r, 1)).toEqual({
      answered: 6,
      right: 3,
      top: [
        { text: "Paris", count: 3, correct: true },
        { text: "Lyon", count: 2, correct: false },
        { text: "Marseille", count: 1, correct: false },
      ],
    });
  });

  it("keeps the most common answers only", () => {
    const r = results([
      ["a", false],
      ["b", false],
      ["b", false],
      ["c", true],
    ]);
    expect(typedTally(r, 1, 2).top.map((t) => t.text)).toEqual(["b", "a"]);
    expect(typedTally(results([]), 1)).toEqual({ answered: 0, right: 0, top: [] });
  });
});
