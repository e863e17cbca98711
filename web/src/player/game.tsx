import { useCallback, useEffect, useReducer, useRef, useState } from "preact/hooks";
import { type AnswerState, isFinalRefusal, NO_ANSWER, reduceAnswer } from "../lib/answer-state.js";
import { countdown } from "../lib/countdown.js";
import { asErrorLike, errorText } from "../lib/error-text.js";
import { endReasonText, ordinal, plural, points } from "../lib/format.js";
import type { RoomView } from "../lib/room-view.js";
import { standingLine } from "../lib/standing.js";
import type { AnswerInput, QuestionView } from "../lib/types.js";
import type { QuizwireClient } from "../net/client.js";
import { useRoomConnection, useServerNow } from "../net/room-hook.js";
import { ConnectionBanner } from "../ui/banner.js";
import { Countdown } from "../ui/countdown.js";
import { ErrorBox, Loading } from "../ui/misc.js";
import { QuestionPicture } from "../ui/question-picture.js";
import { Leaderboard, Podium } from "../ui/standings.js";
import { AnswerPanel } from "./answer-panel.js";

interface Props {
  client: QuizwireClient;
  name: string;
  /** The host removed this player, or the seat could not be restored: back to the join form. */
  onLeave: (message: string | null) => void;
}

/** A player's game, live or self-paced, from the lobby to the final rank. */
export function PlayerGame({ client, name, onLeave }: Props) {
  const { view, connection, dispatch, kicked } = useRoomConnection(client);
  const [answer, dispatchAnswer] = useReducer(reduceAnswer, NO_ANSWER);
  const [nextError, setNextError] = useState<string | null>(null);
  const [fetchingNext, setFetchingNext] = useState(false);

  const open =
    view !== null &&
    view.question !== null &&
    view.index !== null &&
    ((view.phase === "question" && !view.closed) ||
      (view.phase === "active" && !view.you?.finished));
  const now = useServerNow(client, open);

  // A new question on screen resets the answer; a snapshot after a reconnect says whether it was answered.
  const index = open ? view.index : null;
  const answeredCurrent = view?.you?.answered_current ?? false;
  useEffect(() => {
    if (index === null) return;
    dispatchAnswer({ type: "question", index, alreadyAnswered: answeredCurrent });
  }, [index, answeredCurrent]);

  // Closed questions stop taking input: by the server (question_closed) or by the clock.
  const expired =
    open && view.deadline !== null && countdown(view.deadline, now, null)?.expired === true;
  useEffect(() => {
    if (view?.index === null || view?.index === undefined) return;
    if (expired) dispatchAnswer({ type: "time_up", index: view.index });
    else if (view.closed || view.phase === "reveal")
      dispatchAnswer({ type: "closed", index: view.index });
  }, [expired, view?.closed, view?.phase, view?.index]);

  const submit = useCallback(
    async (input: AnswerInput) => {
      if (index === null) return;
      dispatchAnswer({ type: "submit", answer: input });
      try {
        const score = await client.answer(index, input);
        dispatchAnswer({ type: "acked", score });
      } catch (e) {
        const err = asErrorLike(e);
        const retryable = (e as { retryable?: boolean }).retryable === true;
        dispatchAnswer({
          type: "refused",
          index,
          reason: err.reason ?? null,
          message: errorText(e),
          final: isFinalRefusal(err.reason, retryable),
        });
      }
    },
    [client, index],
  );

  const next = useCallback(async () => {
    setFetchingNext(true);
    setNextError(null);
    try {
      const q = await client.nextQuestion();
      if (q === null) dispatch({ type: "finished" });
    } catch (e) {
      setNextError(errorText(e));
    } finally {
      setFetchingNext(false);
    }
  }, [client, dispatch]);

  if (kicked || (connection.kind === "gone" && connection.reason === "kicked")) {
    return (
      <Gone
        title="You were removed from the game"
        text={
          kicked?.reason
            ? `The host says: ${kicked.reason}`
            : "The host removed you from this game."
        }
        onLeave={() => onLeave(null)}
      />
    );
  }
  if (connection.kind === "gone") {
    return (
      <Gone
        title="You are no longer in this game"
        text={
          connection.reason === "resume_failed"
            ? errorText({ reason: connection.detail ?? undefined })
            : "The connection was closed."
        }
        onLeave={() => onLeave(null)}
      />
    );
  }
  if (!view) return <Loading text="Getting into the game…" />;

  return (
    <div class="player-shell">
      <ConnectionBanner state={connection} />
      <header class="player-bar">
        <span class="player-name" data-testid="player-name">
          {view.you?.name ?? name}
        </span>
        <span class="player-score">
          <span class="visually-hidden">Score: </span>
          <span data-testid="player-score">{points(view.you?.score ?? 0)}</span>
        </span>
      </header>
      <main class="player-main" id="main">
        <PlayerScreen
          view={view}
          answer={answer}
          now={now}
          onSubmit={submit}
          onToggle={(choice) => dispatchAnswer({ type: "toggle", choice })}
          onText={(text) => dispatchAnswer({ type: "text", text })}
          onEdit={() => dispatchAnswer({ type: "edit" })}
          onNext={next}
          nextError={nextError}
          fetchingNext={fetchingNext}
          onLeave={() => onLeave(null)}
        />
      </main>
    </div>
  );
}

interface ScreenProps {
  view: RoomView;
  answer: AnswerState;
  now: number;
  onSubmit: (a: AnswerInput) => void;
  onToggle: (choice: number) => void;
  onText: (text: string) => void;
  onEdit: () => void;
  onNext: () => void;
  nextError: string | null;
  fetchingNext: boolean;
  onLeave: () => void;
}

function PlayerScreen(p: ScreenProps) {
  const { view } = p;
  const you = view.you;
  switch (view.phase) {
    case "lobby":
      return (
        <section class="stage center" aria-labelledby="lobby-title" data-testid="player-lobby">
          <h1 id="lobby-title" class="stage-title">
            You're in!
          </h1>
          <p class="lead">See your nickname on the host's screen?</p>
          <p class="muted">
            Waiting for the host to start <strong>{view.title}</strong>…
          </p>
          <p class="muted small" aria-live="polite">
            {plural(view.playerCount, "player")} joined
          </p>
        </section>
      );
    case "question":
      if (!view.question || view.index === null) return <Loading text="Next question…" />;
      return view.closed ? (
        <Waiting
          title={closedTitle(view, p.answer.kind === "sent" || p.answer.kind === "sending")}
          text="Let's see the answer…"
        />
      ) : (
        <QuestionStage {...p} question={view.question} index={view.index} />
      );
    case "active":
      if (you?.finished || !view.question || view.index === null) {
        return <FinishedSelfPaced view={view} />;
      }
      return (
        <>
          <QuestionStage {...p} question={view.question} index={view.index} selfPaced />
          <LiveBoard view={view} />
        </>
      );
    case "reveal":
      return <RevealStage view={view} />;
    case "intermission":
      return (
        <section class="stage center" aria-labelledby="inter-title">
          <h1 id="inter-title" class="stage-title">
            {you?.rank ? `You're ${ordinal(you.rank)}` : "Scoreboard"}
          </h1>
          <p class="lead">{points(you?.score ?? 0)} points</p>
          <Leaderboard standings={view.leaderboard} you={you?.participant_id ?? null} limit={5} />
        </section>
      );
    case "ended":
      return <EndStage view={view} onLeave={p.onLeave} />;
  }
}

interface QuestionStageProps extends ScreenProps {
  question: QuestionView;
  index: number;
  selfPaced?: boolean;
}

function QuestionStage(p: QuestionStageProps) {
  const { view, question, index, answer, now } = p;
  const heading = useRef<HTMLHeadingElement>(null);
  // Screen readers start at the new question (typed questions focus their text box instead,
  // which the question describes).
  useEffect(() => {
    if (question.kind !== "typed") heading.current?.focus();
  }, [index, question.kind]);
  const timeLeft = countdown(view.deadline, now, question.time_limit_ms);
  return (
    <section class="stage stage-question" aria-labelledby="q-title" data-testid="player-question">
      <div class="q-meta">
        <span class="muted">
          Question {index + 1} of {view.questionCount}
          {question.multiplier === 2
            ? " · Double points"
            : question.multiplier === 0
              ? " · No points"
              : ""}
        </span>
        <Countdown deadline={view.deadline} now={now} totalMs={question.time_limit_ms} />
      </div>
      <h1 id="q-title" class="q-text" tabIndex={-1} ref={heading}>
        {question.text}
      </h1>
      <QuestionPicture src={question.image} alt={question.text} />
      {answer.kind === "closed" ? (
        <ClosedNote answer={answer} />
      ) : (
        <AnswerPanel
          question={question}
          state={answer}
          allowChange={view.settings.allow_answer_change && !timeLeft?.expired}
          onToggle={p.onToggle}
          onText={p.onText}
          onSubmit={p.onSubmit}
          onEdit={p.onEdit}
        />
      )}
      <AnswerStatus {...p} />
    </section>
  );
}

function ClosedNote({ answer }: { answer: Extract<AnswerState, { kind: "closed" }> }) {
  return (
    <div class="result-card result-neutral" role="status">
      <p class="result-title">{answer.why === "refused" ? "Answer not counted" : "Time's up!"}</p>
      {answer.error ? <p>{answer.error}</p> : <p>No answer this time.</p>}
    </div>
  );
}

/** Under the buttons: sending, sent (live: wait for the reveal), or self-paced feedback and Next. */
function AnswerStatus(p: QuestionStageProps) {
  const { answer, selfPaced, view } = p;
  if (answer.kind === "sending") {
    return (
      <p class="answer-status" role="status">
        Sending your answer…
      </p>
    );
  }
  if (!selfPaced) {
    if (answer.kind === "sent") {
      return (
        <p class="answer-status" role="status" data-testid="answer-sent">
          {view.settings.allow_answer_change
            ? "Answer saved. You can still change it until time is up."
            : "Answer locked in! Waiting for the others…"}
        </p>
      );
    }
    return null;
  }
  if (answer.kind !== "sent" && answer.kind !== "closed") return null;
  const ack = answer.kind === "sent" ? answer.ack : null;
  const correctTexts = ack?.correct_answer?.texts ?? [];
  return (
    <div class="self-feedback">
      {ack ? (
        <div
          class={`result-card ${ack.correct ? "result-right" : "result-wrong"}`}
          role="status"
          data-testid="self-feedback"
        >
          <p class="result-title">{ack.correct ? "Correct!" : "Not quite"}</p>
          <p>
            {ack.correct ? `+${points(ack.points)} points` : "No points this time."}
            {ack.streak > 1 ? ` Streak: ${ack.streak} in a row.` : ""}
          </p>
          {!ack.correct && correctTexts.length > 0 ? (
            <p>
              Correct answer: <strong>{correctTexts.join(" / ")}</strong>
            </p>
          ) : null}
        </div>
      ) : answer.kind === "sent" ? (
        <p class="answer-status" role="status">
          Answer saved.
        </p>
      ) : null}
      <ErrorBox>{p.nextError}</ErrorBox>
      <button
        type="button"
        class="btn btn-primary btn-block"
        onClick={p.onNext}
        disabled={p.fetchingNext}
        data-testid="next-question"
        // biome-ignore lint/a11y/noAutofocus: the next step after an answer; keyboard users press Enter
        autoFocus
      >
        {view.index !== null && view.index >= view.questionCount - 1 ? "Finish" : "Next question"}
      </button>
    </div>
  );
}

/** Why the question stopped, from this player's side. */
function closedTitle(view: RoomView, answered: boolean): string {
  if (view.closedReason === "first_correct" && !answered) return "Too slow! Someone got it first.";
  if (answered) return "Answer locked in!";
  if (view.closedReason === "host") return "The host closed the question.";
  return "Time's up!";
}

/** self_paced: the leaderboard under the question, updating as others answer. */
function LiveBoard({ view }: { view: RoomView }) {
  const you = view.you;
  return (
    <section class="stage live-board" aria-labelledby="live-board-title" data-testid="live-board">
      <h2 id="live-board-title" class="live-board-title">
        Live leaderboard
        {you?.rank ? <span class="muted small"> · you are {ordinal(you.rank)}</span> : null}
      </h2>
      <Leaderboard
        standings={view.leaderboard}
        you={you?.participant_id ?? null}
        limit={5}
        caption="Live leaderboard"
      />
    </section>
  );
}

/**
 * After each question the phone fills with the result, as in Kahoot: green for right, red for
 * wrong, grey for time's up; the points, the streak, and where the player stands.
 */
function RevealStage({ view }: { view: RoomView }) {
  const r = view.lastResult;
  const you = view.you;
  const correctTexts = view.reveal?.correct.texts ?? [];
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [view.index]);
  let title = "Results";
  let outcome: "right" | "wrong" | "none" = "none";
  let detail = "";
  if (r) {
    if (!r.answered) {
      title = view.closedReason === "first_correct" ? "Too slow!" : "Time's up!";
      detail =
        view.closedReason === "first_correct"
          ? "Someone else answered correctly first."
          : "You did not answer this one.";
    } else if (r.correct) {
      title = "Correct!";
      outcome = "right";
      detail = `+${points(r.points)} points`;
    } else {
      title = "Wrong";
      outcome = "wrong";
      detail = "No points this time.";
    }
  }
  const standing =
    you && you.rank !== null
      ? standingLine(
          view.leaderboard,
          { participant_id: you.participant_id, rank: you.rank, score: you.score },
          view.totalPlayers,
        )
      : "";
  return (
    <section
      class={`result-screen result-screen-${outcome}`}
      aria-labelledby="reveal-title"
      data-testid="player-reveal"
      data-outcome={outcome}
    >
      <div class="result-screen-body" role="status">
        {/* A clock drawn in CSS for time's up: emoji fonts are not everywhere (projectors, kiosks). */}
        <span class={`result-mark result-mark-${outcome}`} aria-hidden="true">
          {outcome === "right" ? "✓" : outcome === "wrong" ? "✗" : ""}
        </span>
        <h1 id="reveal-title" class="result-screen-title" tabIndex={-1} ref={heading}>
          {title}
        </h1>
        {detail ? (
          <p class="result-screen-points" data-testid="player-points">
            {detail}
          </p>
        ) : null}
        {r && r.streak > 1 ? (
          <p class="result-streak" data-testid="player-streak">
            Answer streak: {r.streak}
          </p>
        ) : null}
      </div>
      <div class="result-screen-foot">
        <p class="result-standing" data-testid="player-rank">
          {standing}
          {you ? (
            <>
              <br />
              <span class="result-total">{points(you.score)} points in total</span>
            </>
          ) : null}
        </p>
        {correctTexts.length > 0 && outcome !== "right" ? (
          <p>
            Correct answer: <strong>{correctTexts.join(" / ")}</strong>
          </p>
        ) : null}
        <p class="result-next">Waiting for the next question…</p>
      </div>
    </section>
  );
}

function FinishedSelfPaced({ view }: { view: RoomView }) {
  const you = view.you;
  return (
    <section class="stage" aria-labelledby="done-title" data-testid="self-finished">
      <h1 id="done-title" class="stage-title">
        All done!
      </h1>
      <p class="lead">
        {points(you?.score ?? 0)} points
        {you?.rank ? ` · ${ordinal(you.rank)} place so far` : ""}
      </p>
      <p class="muted">The leaderboard keeps updating while others play.</p>
      <Leaderboard
        standings={view.leaderboard}
        you={you?.participant_id ?? null}
        limit={10}
        caption="Live leaderboard"
      />
    </section>
  );
}

function EndStage({ view, onLeave }: { view: RoomView; onLeave: () => void }) {
  const end = view.end;
  const you = end?.you ?? null;
  return (
    <section class="stage center" aria-labelledby="end-title" data-testid="player-end">
      <h1 id="end-title" class="stage-title">
        Game over
      </h1>
      <p class="muted">{endReasonText(end?.reason ?? null)}</p>
      {you ? (
        <p class="final-rank" data-testid="final-rank">
          You finished <strong>{ordinal(you.rank)}</strong> of {you.total} with{" "}
          <strong>{points(you.score)}</strong> points
        </p>
      ) : (
        <p class="final-rank">Thanks for playing!</p>
      )}
      <Podium podium={end?.podium ?? view.leaderboard.slice(0, 3)} />
      <button type="button" class="btn btn-secondary" onClick={onLeave}>
        Play another game
      </button>
    </section>
  );
}

function Waiting({ title, text }: { title: string; text: string }) {
  return (
    <section class="stage center" aria-labelledby="wait-title">
      <h1 id="wait-title" class="stage-title">
        {title}
      </h1>
      <p class="muted">{text}</p>
    </section>
  );
}

function Gone({ title, text, onLeave }: { title: string; text: string; onLeave: () => void }) {
  return (
    <main class="player-main">
      <section class="stage center" aria-labelledby="gone-title" data-testid="player-gone">
        <h1 id="gone-title" class="stage-title">
          {title}
        </h1>
        <p role="alert">{text}</p>
        <button type="button" class="btn btn-primary" onClick={onLeave}>
          Join a game
        </button>
      </section>
    </main>
  );
}
