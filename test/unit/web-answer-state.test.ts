import { describe, expect, it } from "vitest";
import {
  type AnswerAction,
  type AnswerState,
  answerForClick,
  answerForSubmit,
  canAnswer,
  canEdit,
  chosenOptions,
  isFinalRefusal,
  NO_ANSWER,
  reduceAnswer,
  typedText,
} from "../../web/src/lib/answer-state.js";
import type { ScoreData } from "../../web/src/lib/types.js";

function run(actions: AnswerAction[], from: AnswerState = NO_ANSWER): AnswerState {
  return actions.reduce(reduceAnswer, from);
}

function score(index: number, overrides: Partial<ScoreData> = {}): ScoreData {
  return {
    index,
    question_id: `q${index}`,
    accepted: true,
    correct: true,
    points: 900,
    score: 900,
    streak: 1,
    changed: false,
    elapsed_ms: 1_200,
    correct_answer: null,
    ...overrides,
  };
}

describe("web answer state", () => {
  it("a single-choice tap answers at once; the score reply marks it stored (A-5)", () => {
    expect(answerForClick("single", 2)).toEqual({ choice: 2 });
    expect(answerForClick("true_false", 1)).toEqual({ choice: 1 });
    const sending = run([
      { type: "question", index: 0 },
      { type: "submit", answer: { choice: 2 } },
    ]);
    expect(sending.kind).toBe("sending");
    expect(canAnswer(sending, false, "single")).toBe(false);
    expect(chosenOptions(sending)).toEqual([2]);
    const sent = reduceAnswer(sending, { type: "acked", score: score(0) });
    expect(sent).toMatchObject({ kind: "sent", index: 0, answer: { choice: 2 } });
    expect(chosenOptions(sent)).toEqual([2]);
  });

  it("A-4: multiple-select toggles options and submits the set, in order", () => {
    expect(answerForClick("multiple", 1)).toBeNull();
    const s = run([
      { type: "question", index: 3 },
      { type: "toggle", choice: 2 },
      { type: "toggle", choice: 0 },
      { type: "toggle", choice: 1 },
      { type: "toggle", choice: 2 },
    ]);
    expect(chosenOptions(s)).toEqual([0, 1]);
    expect(answerForSubmit("multiple", s)).toEqual({ choices: [0, 1] });
    expect(answerForSubmit("multiple", run([{ type: "question", index: 3 }]))).toBeNull();
  });

  it("typed answers are trimmed and never empty", () => {
    const s = run([
      { type: "question", index: 1 },
      { type: "text", text: "  the apple " },
    ]);
    expect(answerForSubmit("typed", s)).toEqual({ text: "the apple" });
    expect(
      answerForSubmit(
        "typed",
        run([
          { type: "question", index: 1 },
          { type: "text", text: "   " },
        ]),
      ),
    ).toBeNull();
    const sent = reduceAnswer(s, { type: "submit", answer: { text: "the apple" } });
    expect(typedText(sent)).toBe("the apple");
  });

  it("A-1: without answer changes a stored answer is final; with them a new tap replaces it", () => {
    const sent = run([
      { type: "question", index: 0 },
      { type: "submit", answer: { choice: 1 } },
      { type: "acked", score: score(0) },
    ]);
    expect(canAnswer(sent, false, "single")).toBe(false);
    expect(canAnswer(sent, true, "single")).toBe(true);
    const again = reduceAnswer(sent, { type: "submit", answer: { choice: 3 } });
    expect(again).toMatchObject({ kind: "sending", answer: { choice: 3 } });
    // Multiple-select and typed answers go back to choosing, starting from what was sent.
    const multi = run([
      { type: "question", index: 2 },
      { type: "toggle", choice: 0 },
      { type: "submit", answer: { choices: [0] } },
      { type: "acked", score: score(2) },
    ]);
    expect(canEdit(multi, true, "multiple")).toBe(true);
    expect(canEdit(multi, false, "multiple")).toBe(false);
    expect(reduceAnswer(multi, { type: "edit" })).toMatchObject({
      kind: "choosing",
      selected: [0],
    });
  });

  it("T-2: time running out closes an unanswered question but not one already on its way", () => {
    const open = run([{ type: "question", index: 4 }]);
    expect(reduceAnswer(open, { type: "time_up", index: 4 })).toMatchObject({
      kind: "closed",
      why: "time_up",
    });
    const sending = reduceAnswer(open, { type: "submit", answer: { choice: 0 } });
    expect(reduceAnswer(sending, { type: "time_up", index: 4 })).toBe(sending);
    // Events about another question change nothing.
    expect(reduceAnswer(open, { type: "closed", index: 3 })).toBe(open);
  });

  it("a refusal that ends the question closes it; a retryable one lets the player try again", () => {
    const sending = run([
      { type: "question", index: 0 },
      { type: "submit", answer: { choice: 1 } },
    ]);
    const late = reduceAnswer(sending, {
      type: "refused",
      index: 0,
      reason: "too_late",
      message: "Time is up for this question.",
      final: isFinalRefusal("too_late", false),
    });
    expect(late).toMatchObject({
      kind: "closed",
      why: "refused",
      error: "Time is up for this question.",
    });
    const retry = reduceAnswer(sending, {
      type: "refused",
      index: 0,
      reason: "storage_unavailable",
      message: "Your answer could not be saved. Try again.",
      final: isFinalRefusal("storage_unavailable", true),
    });
    expect(retry).toMatchObject({
      kind: "choosing",
      selected: [1],
      error: "Your answer could not be saved. Try again.",
    });
    // "already answered" means the server has it: shown as sent.
    expect(
      reduceAnswer(sending, {
        type: "refused",
        index: 0,
        reason: "already_answered",
        message: "",
        final: false,
      }),
    ).toMatchObject({ kind: "sent" });
  });

  it("a snapshot after a reconnect keeps what is in progress, or marks it answered", () => {
    const choosing = run([
      { type: "question", index: 5 },
      { type: "toggle", choice: 1 },
    ]);
    expect(reduceAnswer(choosing, { type: "question", index: 5 })).toBe(choosing);
    expect(
      reduceAnswer(choosing, { type: "question", index: 5, alreadyAnswered: true }),
    ).toMatchObject({
      kind: "sent",
      ack: null,
    });
    // A fresh page on an answered question shows it as answered, not the buttons.
    expect(run([{ type: "question", index: 5, alreadyAnswered: true }])).toMatchObject({
      kind: "sent",
    });
    // The next question starts clean.
    expect(reduceAnswer(choosing, { type: "question", index: 6 })).toMatchObject({
      kind: "choosing",
      index: 6,
      selected: [],
    });
  });

  it("classifies refusals", () => {
    expect(isFinalRefusal("too_late", false)).toBe(true);
    expect(isFinalRefusal("not_open", false)).toBe(true);
    expect(isFinalRefusal("bad_answer", false)).toBe(false);
    expect(isFinalRefusal(undefined, true)).toBe(false);
    expect(isFinalRefusal("storage_unavailable", true)).toBe(false);
  });
});
