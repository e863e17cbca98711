/**
 * A player's answer to the question on screen, as a small state machine:
 * choosing → sending → sent, or closed when time runs out first. The screen
 * renders from it; the SDK call happens outside.
 */
import type { AnswerInput, QuestionKind, ScoreData } from "./types.js";

export type AnswerState =
  /** No question on screen. */
  | { kind: "none" }
  /** The question is open and the player is choosing. `error` is the last refusal, in words. */
  | { kind: "choosing"; index: number; selected: number[]; text: string; error: string | null }
  /** The answer is on its way; the server acknowledges it only once stored. */
  | { kind: "sending"; index: number; answer: AnswerInput }
  /** Stored. `ack` is the server's score reply (null when we only know it was stored earlier). */
  | { kind: "sent"; index: number; answer: AnswerInput | null; ack: ScoreData | null }
  /** The question closed before this player's answer got in. */
  | { kind: "closed"; index: number; why: "time_up" | "closed" | "refused"; error: string | null };

export type AnswerAction =
  | { type: "question"; index: number; alreadyAnswered?: boolean }
  | { type: "toggle"; choice: number }
  | { type: "text"; text: string }
  /** With answer changes allowed: back to choosing, starting from the stored answer. */
  | { type: "edit" }
  | { type: "submit"; answer: AnswerInput }
  | { type: "acked"; score: ScoreData }
  | { type: "refused"; index: number; reason: string | null; message: string; final: boolean }
  | { type: "time_up"; index: number }
  | { type: "closed"; index: number }
  | { type: "clear" };

export const NO_ANSWER: AnswerState = { kind: "none" };

/** Refusals after which answering again cannot succeed. */
const FINAL_REASONS = new Set(["too_late", "not_open", "room_ended", "kicked", "not_started"]);

/** Whether a refusal with this reason ends the player's chance on this question. */
export function isFinalRefusal(reason: string | null | undefined, retryable: boolean): boolean {
  if (reason && FINAL_REASONS.has(reason)) return true;
  return !retryable && reason !== "bad_answer" && reason !== "already_answered";
}

export function reduceAnswer(state: AnswerState, action: AnswerAction): AnswerState {
  switch (action.type) {
    case "question":
      // The same question again (a state snapshot after a reconnect) keeps what is in progress.
      if (state.kind !== "none" && state.index === action.index) {
        if (action.alreadyAnswered && state.kind === "choosing") {
          return { kind: "sent", index: action.index, answer: null, ack: null };
        }
        return state;
      }
      return action.alreadyAnswered
        ? { kind: "sent", index: action.index, answer: null, ack: null }
        : { kind: "choosing", index: action.index, selected: [], text: "", error: null };
    case "toggle": {
      if (state.kind !== "choosing") return state;
      const has = state.selected.includes(action.choice);
      const selected = has
        ? state.selected.filter((c) => c !== action.choice)
        : [...state.selected, action.choice].sort((a, b) => a - b);
      return { ...state, selected, error: null };
    }
    case "text":
      return state.kind === "choosing" ? { ...state, text: action.text, error: null } : state;
    case "edit":
      if (state.kind !== "sent") return state;
      return {
        kind: "choosing",
        index: state.index,
        selected: state.answer ? selectedOf(state.answer) : [],
        text: state.answer && "text" in state.answer ? state.answer.text : "",
        error: null,
      };
    case "submit":
      if (state.kind === "choosing") {
        return { kind: "sending", index: state.index, answer: action.answer };
      }
      // With answer changes allowed, a stored answer may be replaced.
      if (state.kind === "sent")
        return { kind: "sending", index: state.index, answer: action.answer };
      return state;
    case "acked":
      if (state.kind === "none" || state.index !== action.score.index) return state;
      return {
        kind: "sent",
        index: state.index,
        answer:
          state.kind === "sending" ? state.answer : state.kind === "sent" ? state.answer : null,
        ack: action.score,
      };
    case "refused":
      if (state.kind === "none" || state.index !== action.index) return state;
      if (action.reason === "already_answered") {
        return state.kind === "sent"
          ? state
          : { kind: "sent", index: state.index, answer: null, ack: null };
      }
      if (action.final) {
        return { kind: "closed", index: state.index, why: "refused", error: action.message };
      }
      return {
        kind: "choosing",
        index: state.index,
        selected: state.kind === "sending" ? selectedOf(state.answer) : [],
        text: state.kind === "sending" && "text" in state.answer ? state.answer.text : "",
        error: action.message,
      };
    case "time_up":
    case "closed":
      if (state.kind === "none" || state.index !== action.index) return state;
      // An answer already on its way may still have arrived in time; its reply decides.
      if (state.kind !== "choosing") return state;
      return {
        kind: "closed",
        index: state.index,
        why: action.type === "time_up" ? "time_up" : "closed",
        error: null,
      };
    case "clear":
      return NO_ANSWER;
  }
}

function selectedOf(answer: AnswerInput): number[] {
  if ("choice" in answer) return [answer.choice];
  if ("choices" in answer) return [...answer.choices];
  return [];
}

/**
 * The answer to send for a click on option `choice` (single and true/false
 * send at once), or null when the click only toggles a multiple-select box.
 */
export function answerForClick(kind: QuestionKind, choice: number): AnswerInput | null {
  return kind === "single" || kind === "true_false" ? { choice } : null;
}

/** The answer the Submit button sends, or null when there is nothing to send yet. */
export function answerForSubmit(kind: QuestionKind, state: AnswerState): AnswerInput | null {
  if (state.kind !== "choosing") return null;
  if (kind === "multiple")
    return state.selected.length > 0 ? { choices: [...state.selected] } : null;
  if (kind === "typed") {
    const text = state.text.trim();
    return text.length > 0 ? { text: text.slice(0, 200) } : null;
  }
  return state.selected.length === 1 ? { choice: state.selected[0] as number } : null;
}

/**
 * Whether the option buttons take input right now. With answer changes
 * allowed, a tap on another option replaces a stored single-choice answer;
 * multiple-select and typed answers go back to choosing with "edit" first.
 */
export function canAnswer(state: AnswerState, allowChange: boolean, kind: QuestionKind): boolean {
  if (state.kind === "choosing") return true;
  return allowChange && state.kind === "sent" && (kind === "single" || kind === "true_false");
}

/** Whether a "change answer" button applies (answer changes allowed, a stored answer to edit). */
export function canEdit(state: AnswerState, allowChange: boolean, kind: QuestionKind): boolean {
  return allowChange && state.kind === "sent" && (kind === "multiple" || kind === "typed");
}

/** The typed text to show: what is being typed, or the answer sent. */
export function typedText(state: AnswerState): string {
  if (state.kind === "choosing") return state.text;
  if (
    (state.kind === "sending" || state.kind === "sent") &&
    state.answer &&
    "text" in state.answer
  ) {
    return state.answer.text;
  }
  return "";
}

/** The options this answer chose (for highlighting), empty for typed or unknown answers. */
export function chosenOptions(state: AnswerState): number[] {
  switch (state.kind) {
    case "choosing":
      return state.selected;
    case "sending":
      return selectedOf(state.answer);
    case "sent":
      return state.answer ? selectedOf(state.answer) : [];
    default:
      return [];
  }
}
