import { useEffect, useRef } from "preact/hooks";
import {
  type AnswerState,
  answerForClick,
  answerForSubmit,
  canAnswer,
  canEdit,
  chosenOptions,
  typedText,
} from "../lib/answer-state.js";
import { optionLetter } from "../lib/format.js";
import type { AnswerInput, QuestionView } from "../lib/types.js";
import { ErrorBox } from "../ui/misc.js";
import { OptionShape, optionClass } from "../ui/shapes.js";

interface Props {
  question: QuestionView;
  state: AnswerState;
  allowChange: boolean;
  onToggle: (choice: number) => void;
  onText: (text: string) => void;
  onSubmit: (answer: AnswerInput) => void;
  onEdit: () => void;
}

/**
 * The answer buttons: big, each with colour, shape, letter and text. Single
 * and true/false answers go at a tap; multiple-select toggles then submits;
 * typed answers have a text box. Keys 1–6 choose options too.
 */
export function AnswerPanel({
  question,
  state,
  allowChange,
  onToggle,
  onText,
  onSubmit,
  onEdit,
}: Props) {
  const kind = question.kind;
  const enabled = canAnswer(state, allowChange, kind);
  const editable = canEdit(state, allowChange, kind);
  const chosen = chosenOptions(state);
  const textInput = useRef<HTMLInputElement>(null);

  const click = (i: number) => {
    if (!enabled) return;
    const now = answerForClick(kind, i);
    if (now) onSubmit(now);
    else onToggle(i);
  };

  useEffect(() => {
    if (kind === "typed" && state.kind === "choosing") textInput.current?.focus();
  }, [kind, state.kind]);

  useEffect(() => {
    if (!enabled || kind === "typed") return;
    const onKey = (e: KeyboardEvent) => {
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      const target = e.target as HTMLElement | null;
      if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA")) return;
      const n = Number(e.key);
      if (Number.isInteger(n) && n >= 1 && n <= question.options.length) {
        e.preventDefault();
        click(n - 1);
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  });

  if (kind === "typed") {
    const text = typedText(state);
    return (
      <form
        class="typed-answer"
        onSubmit={(e) => {
          e.preventDefault();
          const a = answerForSubmit(kind, state);
          if (a) onSubmit(a);
        }}
      >
        <label for="typed" class="join-label">
          Your answer
        </label>
        <input
          id="typed"
          ref={textInput}
          class="join-input"
          autoComplete="off"
          autoCapitalize="off"
          spellcheck={false}
          maxLength={200}
          aria-describedby="q-title"
          value={text}
          disabled={state.kind !== "choosing"}
          onInput={(e) => onText(e.currentTarget.value)}
        />
        {state.kind === "choosing" ? <ErrorBox>{state.error}</ErrorBox> : null}
        {state.kind === "choosing" || state.kind === "sending" ? (
          <button
            type="submit"
            class="btn btn-primary btn-block"
            disabled={state.kind !== "choosing" || text.trim() === ""}
          >
            Submit answer
          </button>
        ) : null}
        {editable ? (
          <button type="button" class="btn btn-secondary btn-block" onClick={onEdit}>
            Change answer
          </button>
        ) : null}
      </form>
    );
  }

  const multiple = kind === "multiple";
  return (
    <div class="answer-area">
      {multiple ? (
        <p class="muted" id="multi-hint">
          Choose every correct answer, then submit.
        </p>
      ) : null}
      <fieldset
        class={`answers answers-${question.options.length}`}
        aria-describedby={multiple ? "multi-hint" : undefined}
      >
        <legend class="visually-hidden">Answers</legend>
        {question.options.map((text, i) => {
          const picked = chosen.includes(i);
          return (
            <button
              key={`${question.id}-${i}`}
              type="button"
              class={`answer ${optionClass(i)}${picked ? " answer-picked" : ""}${!enabled && !picked ? " answer-dim" : ""}`}
              disabled={!enabled}
              aria-pressed={multiple || picked ? picked : undefined}
              onClick={() => click(i)}
              data-testid={`answer-${i}`}
            >
              <OptionShape index={i} />
              <span class="answer-letter" aria-hidden="true">
                {optionLetter(i)}
              </span>
              <span class="answer-text">{text}</span>
              <span class="visually-hidden">{` (key ${i + 1})`}</span>
            </button>
          );
        })}
      </fieldset>
      {state.kind === "choosing" ? <ErrorBox>{state.error}</ErrorBox> : null}
      {multiple && (state.kind === "choosing" || state.kind === "sending") ? (
        <button
          type="button"
          class="btn btn-primary btn-block"
          disabled={state.kind !== "choosing" || state.selected.length === 0}
          onClick={() => {
            const a = answerForSubmit(kind, state);
            if (a) onSubmit(a);
          }}
        >
          Submit answer
        </button>
      ) : null}
      {editable ? (
        <button type="button" class="btn btn-secondary btn-block" onClick={onEdit}>
          Change answer
        </button>
      ) : null}
    </div>
  );
}
