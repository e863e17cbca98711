/**
 * What the room's big screen shows in each phase. The host console and the
 * read-only big screen both draw these; the console adds its controls.
 */
import type { ComponentChildren } from "preact";
import { countdown } from "../lib/countdown.js";
import { endReasonText, optionLetter, plural } from "../lib/format.js";
import { formatPin } from "../lib/join.js";
import type { RoomView } from "../lib/room-view.js";
import { activePlayers } from "../lib/room-view.js";
import type { TypedTally } from "../lib/typed-tally.js";
import { AnswerBars } from "../ui/bar-chart.js";
import { Countdown } from "../ui/countdown.js";
import { QuestionPicture } from "../ui/question-picture.js";
import { OptionShape, optionClass } from "../ui/shapes.js";
import { Leaderboard, Podium } from "../ui/standings.js";
import { QrCode } from "./qr-code.js";

export function JoinInfo({
  view,
  url,
  localOnly,
}: {
  view: RoomView;
  url: string | null;
  localOnly: boolean;
}) {
  const host = url ? url.replace(/^https?:\/\//, "").replace(/\/play\?pin=.*$/, "") : "";
  return (
    <div class="join-info">
      <div class="join-text">
        <p class="join-how">
          Join at <strong>{host}/play</strong> with Game PIN:
        </p>
        <p class="big-pin" data-testid="room-pin">
          <span aria-hidden="true">{formatPin(view.pin)}</span>
          <span class="visually-hidden">{view.pin.split("").join(" ")}</span>
        </p>
        {url ? (
          <p class="join-url">
            or open{" "}
            <a href={url} target="_blank" rel="noopener" data-testid="join-url">
              {url}
            </a>
          </p>
        ) : null}
        {localOnly ? (
          <p class="warn-note" role="note">
            Phones cannot open “localhost”. Open quizwire at this computer's network address (for
            example http://192.168.1.20:8080), or start the server with PUBLIC_URL set.
          </p>
        ) : null}
      </div>
      {url ? <QrCode text={url} label={`QR code to join: ${url}`} /> : null}
    </div>
  );
}

/** The players in the lobby, as they arrive; `action` adds a control per player (kick). */
export function Roster({
  view,
  action,
}: {
  view: RoomView;
  action?: (p: { participant_id: string; name: string }) => ComponentChildren;
}) {
  const players = activePlayers(view);
  return (
    <section class="roster" aria-labelledby="roster-title">
      <h2 id="roster-title" class="roster-title" aria-live="polite" data-testid="player-count">
        {plural(view.playerCount, "player")}
      </h2>
      {players.length === 0 ? (
        <p class="muted">Waiting for players to join…</p>
      ) : (
        <ul class="roster-list" data-testid="roster">
          {players.map((p) => (
            <li key={p.participant_id} class={`roster-name${p.connected ? "" : " roster-away"}`}>
              <span>{p.name}</span>
              {p.connected ? null : <span class="muted small"> (away)</span>}
              {action ? action(p) : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The open question, its options and the countdown to the server's deadline. */
export function QuestionStage({ view, now }: { view: RoomView; now: number }) {
  const q = view.question;
  if (!q || view.index === null) return null;
  const c = countdown(view.deadline, now, q.time_limit_ms);
  return (
    <section class="big-question" aria-labelledby="big-q-title" data-testid="host-question">
      <div class="q-meta">
        <span class="q-counter">
          Question {view.index + 1} of {view.questionCount}
          {q.multiplier === 2 ? " · Double points" : q.multiplier === 0 ? " · No points" : ""}
        </span>
        {view.closed || c?.expired ? (
          <span class="closed-note" role="status">
            Time's up!
          </span>
        ) : (
          <Countdown deadline={view.deadline} now={now} totalMs={q.time_limit_ms} large />
        )}
      </div>
      <h1 id="big-q-title" class="big-q-text">
        {q.text}
      </h1>
      <QuestionPicture src={q.image} alt={q.text} />
      {q.kind === "typed" ? (
        <p class="muted big-note">Type your answer on your device.</p>
      ) : (
        <ul class={`big-options answers-${q.options.length}`} aria-label="Answers">
          {q.options.map((text, i) => (
            <li key={`${q.id}-${i}`} class={`big-option ${optionClass(i)}`}>
              <OptionShape index={i} />
              <span class="answer-letter" aria-hidden="true">
                {optionLetter(i)}
              </span>
              <span>{text}</span>
            </li>
          ))}
        </ul>
      )}
      {view.answered ? (
        <p class="answered-count" aria-live="polite" data-testid="answered-count">
          {view.answered.answered} of {view.answered.players} answered
        </p>
      ) : null}
    </section>
  );
}

/**
 * The correct answer and how many chose each option; for a typed question, how many got it
 * right and the most common answers when `typed` is known (the host console reads them).
 */
export function RevealStage({
  view,
  now,
  typed = null,
}: {
  view: RoomView;
  now: number;
  typed?: TypedTally | null;
}) {
  const q = view.question;
  const r = view.reveal;
  if (!q || !r) return null;
  const auto = countdown(view.until, now, null);
  return (
    <section class="big-reveal" aria-labelledby="reveal-q" data-testid="host-reveal">
      <p class="q-counter">
        Question {(view.index ?? 0) + 1} of {view.questionCount}
      </p>
      <h1 id="reveal-q" class="big-q-text">
        {q.text}
      </h1>
      <p class="correct-line" data-testid="correct-answer">
        Correct answer: <strong>{r.correct.texts.join(" / ")}</strong>
      </p>
      {q.kind === "typed" ? (
        typed ? (
          <TypedReveal tally={typed} />
        ) : (
          <p class="muted">{plural(r.answeredCount, "player")} answered.</p>
        )
      ) : (
        <AnswerBars options={q.options} counts={r.optionCounts} correct={r.correct.indices} large />
      )}
      {auto && !auto.expired ? <p class="muted">Moving on in {auto.seconds} s…</p> : null}
    </section>
  );
}

/** A typed question's reveal: right out of answered, then the answers given most often. */
function TypedReveal({ tally }: { tally: TypedTally }) {
  return (
    <div class="typed-reveal" data-testid="typed-reveal">
      <p class="typed-right">
        <strong>{tally.right}</strong> of {plural(tally.answered, "player")} got it right
      </p>
      {tally.top.length > 0 ? (
        <ol class="typed-top" aria-label="Most common answers">
          {tally.top.map((t) => (
            <li key={t.text} class={t.correct ? "typed-ok" : "typed-no"}>
              <span class="typed-text">{t.text}</span>
              <span class="typed-count">
                {t.count}
                <span class="visually-hidden">{t.count === 1 ? " answer" : " answers"}</span>
              </span>
              <span class="typed-mark" aria-hidden="true">
                {t.correct ? "✓" : "✗"}
              </span>
              <span class="visually-hidden">{t.correct ? ", right" : ", wrong"}</span>
            </li>
          ))}
        </ol>
      ) : null}
    </div>
  );
}

/** The leaderboard between questions. */
export function ScoreboardStage({
  view,
  now,
  title = "Scoreboard",
}: {
  view: RoomView;
  now: number;
  title?: string;
}) {
  const auto = countdown(view.until, now, null);
  return (
    <section class="big-scoreboard" aria-labelledby="scoreboard-title" data-testid="scoreboard">
      <h1 id="scoreboard-title">{title}</h1>
      <Leaderboard standings={view.leaderboard} limit={10} large />
      {view.phase === "intermission" && auto && !auto.expired ? (
        <p class="muted">Next question in {auto.seconds} s…</p>
      ) : null}
    </section>
  );
}

/** The end: podium and the final standings. */
export function EndStage({ view, children }: { view: RoomView; children?: ComponentChildren }) {
  const end = view.end;
  return (
    <section class="big-end" aria-labelledby="end-title" data-testid="host-end">
      <h1 id="end-title">Podium</h1>
      <p class="muted">{endReasonText(end?.reason ?? null)}</p>
      <Podium podium={end?.podium ?? view.leaderboard.slice(0, 3)} />
      {children}
    </section>
  );
}
