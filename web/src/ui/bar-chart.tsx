import { optionLetter } from "../lib/format.js";
import { maxCount } from "../lib/room-view.js";
import { OptionShape, optionClass } from "./shapes.js";

interface Props {
  options: readonly string[];
  counts: readonly number[];
  correct: readonly number[];
  large?: boolean;
}

/** How many chose each option, the correct ones marked in words and with a tick. */
export function AnswerBars({ options, counts, correct, large }: Props) {
  const max = maxCount(counts);
  return (
    <ul
      class={`bars${large ? " bars-large" : ""}`}
      aria-label="Answers per option"
      data-testid="answer-bars"
    >
      {options.map((text, i) => {
        const n = counts[i] ?? 0;
        const ok = correct.includes(i);
        return (
          <li
            key={`${i}-${text}`}
            class={`bar ${optionClass(i)}${ok ? " bar-correct" : " bar-wrong"}`}
          >
            <span class="bar-count" aria-hidden="true">
              {n}
            </span>
            <span class="bar-track" aria-hidden="true">
              <span class="bar-fill" style={{ height: `${Math.round((n / max) * 100)}%` }} />
            </span>
            <span class="bar-label">
              <OptionShape index={i} />
              <span class="bar-letter" aria-hidden="true">
                {optionLetter(i)}
              </span>
              <span class="bar-text">{text}</span>
              {ok ? (
                <span class="bar-tick" aria-hidden="true">
                  ✓
                </span>
              ) : null}
            </span>
            <span class="visually-hidden">
              {`${optionLetter(i)}: ${text}, ${n} ${n === 1 ? "answer" : "answers"}${ok ? ", correct" : ""}`}
            </span>
          </li>
        );
      })}
    </ul>
  );
}
