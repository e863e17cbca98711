import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { errorText } from "../lib/error-text.js";
import { modeName, plural } from "../lib/format.js";
import { isLastQuestion } from "../lib/room-view.js";
import { routePath } from "../lib/routes.js";
import { hostedRoom, markHostedRoomEnded, updateHostToken } from "../lib/saved.js";
import type { StandingView } from "../lib/types.js";
import type { QuizwireClient } from "../net/client.js";
import { useRoomConnection, useServerNow } from "../net/room-hook.js";
import { ConnectionBanner } from "../ui/banner.js";
import { ErrorBox, Loading } from "../ui/misc.js";
import { Leaderboard, Podium } from "../ui/standings.js";
import { useJoinLink } from "./join-link.js";
import { ResultsTable, useResults, useTypedTally } from "./results.js";
import { Link } from "./router.js";
import { hostClient, local } from "./services.js";
import {
  EndStage,
  JoinInfo,
  QuestionStage,
  RevealStage,
  Roster,
  ScoreboardStage,
} from "./stage.js";

type Opening =
  | { kind: "opening" }
  | { kind: "ready"; client: QuizwireClient }
  | { kind: "not-host" }
  | { kind: "gone"; message: string }
  | { kind: "failed"; message: string };

const GONE_REASONS = new Set(["no_room", "room_ended", "room_closed", "bad_token"]);

/**
 * The host console at /host/{roomId}. A refresh lands here again: the room
 * is taken back with the host token this browser kept.
 */
export function HostConsole({ roomId }: { roomId: string }) {
  const [opening, setOpening] = useState<Opening>({ kind: "opening" });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    const client = hostClient();
    const offJoined = client.on("joined", (j) => {
      if (j.room_id === roomId && j.role === "host") {
        updateHostToken(local, roomId, j.resume_token, Date.now());
      }
    });
    void (async () => {
      setOpening({ kind: "opening" });
      try {
        await client.connect();
      } catch (e) {
        if (live) setOpening({ kind: "failed", message: errorText(e) });
        return;
      }
      if (client.roomId === roomId && client.role === "host") {
        if (live) setOpening({ kind: "ready", client });
        return;
      }
      const saved = hostedRoom(local, roomId, Date.now());
      if (!saved) {
        if (live) setOpening({ kind: "not-host" });
        return;
      }
      try {
        await client.resume({ roomId, resumeToken: saved.hostToken });
        if (live) setOpening({ kind: "ready", client });
      } catch (e) {
        if (!live) return;
        const reason = (e as { reason?: string }).reason;
        if (reason && GONE_REASONS.has(reason)) setOpening({ kind: "gone", message: errorText(e) });
        else setOpening({ kind: "failed", message: errorText(e) });
      }
    })();
    return () => {
      live = false;
      offJoined();
    };
  }, [roomId, attempt]);

  switch (opening.kind) {
    case "opening":
      return <Loading text="Opening your game…" />;
    case "not-host":
      return (
        <div class="page">
          <h1>This browser is not the host of this game</h1>
          <p>Only the browser that created a game can run it. You can still watch it.</p>
          <Link href={routePath({ name: "screen", roomId, pin: null })} class="btn btn-primary">
            Watch on the big screen
          </Link>
        </div>
      );
    case "gone":
      return <EndedElsewhere roomId={roomId} message={opening.message} />;
    case "failed":
      return (
        <div class="page">
          <ErrorBox>Could not open the game. {opening.message}</ErrorBox>
          <button type="button" class="btn btn-primary" onClick={() => setAttempt((n) => n + 1)}>
            Try again
          </button>
        </div>
      );
    case "ready":
      return <HostRoom client={opening.client} roomId={roomId} />;
  }
}

/** The room has ended and left memory: its results are still in the database. */
function EndedElsewhere({ roomId, message }: { roomId: string; message: string }) {
  const { results, error } = useResults(roomId, true);
  useEffect(() => markHostedRoomEnded(local, roomId, Date.now(), Date.now()), [roomId]);
  const podium: StandingView[] = (results?.players ?? [])
    .filter((p) => p.rank !== null && p.rank <= 3)
    .map((p) => ({
      participant_id: p.participant_id,
      user_id: p.user_id,
      name: p.name,
      score: p.score,
      rank: p.rank ?? 0,
    }));
  return (
    <div class="page">
      <h1>{results ? results.session.title : "This game"}</h1>
      <p class="muted">{message}</p>
      {error ? <ErrorBox>{error}</ErrorBox> : null}
      {results ? (
        <>
          <Podium podium={podium} />
          <ResultsTable sessionId={roomId} ready />
        </>
      ) : null}
      <Link href="/" class="btn btn-secondary">
        Back to the library
      </Link>
    </div>
  );
}

function HostRoom({ client, roomId }: { client: QuizwireClient; roomId: string }) {
  const { view, connection } = useRoomConnection(client);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [showBoard, setShowBoard] = useState(false);
  const [confirmEnd, setConfirmEnd] = useState(false);
  const { url, localOnly } = useJoinLink(view?.pin ?? null);
  const ticking =
    view !== null &&
    (view.phase === "question" || view.phase === "reveal" || view.phase === "intermission");
  const now = useServerNow(client, ticking);
  const typedIndex =
    view?.phase === "reveal" && view.question?.kind === "typed" ? view.index : null;
  const typed = useTypedTally(
    roomId,
    typedIndex,
    // Read only at a typed reveal: the countdown re-renders this several times a second.
    typedIndex === null ? null : (hostedRoom(local, roomId, Date.now())?.hostToken ?? null),
  );

  useEffect(() => setShowBoard(false), [view?.index, view?.phase]);
  useEffect(() => {
    if (view) document.title = `quizwire · ${view.title} · PIN ${view.pin}`;
  }, [view?.title, view?.pin]);
  // The library lists this game as finished from now on, not as one to open and run.
  useEffect(() => {
    if (view?.phase === "ended") markHostedRoomEnded(local, roomId, Date.now(), Date.now());
  }, [view?.phase, roomId]);

  if (!view) return <Loading text="Opening your game…" />;

  async function run(what: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    try {
      await what();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }
  const next = () => run(() => client.nextQuestion());
  const last = isLastQuestion(view);
  const live = view.mode !== "self_paced";

  const endControls = confirmEnd ? (
    <fieldset class="confirm">
      <legend class="visually-hidden">End the game now?</legend>
      <button
        type="button"
        class="btn btn-danger"
        onClick={() => {
          setConfirmEnd(false);
          void run(() => client.end());
        }}
      >
        End now
      </button>
      <button type="button" class="btn btn-ghost" onClick={() => setConfirmEnd(false)}>
        Keep playing
      </button>
    </fieldset>
  ) : (
    <button
      type="button"
      class="btn btn-ghost"
      onClick={() => setConfirmEnd(true)}
      data-testid="end-game"
    >
      End game
    </button>
  );

  let body: ComponentChildren;
  let controls: ComponentChildren = null;
  switch (view.phase) {
    case "lobby":
      body = (
        <div class="lobby">
          <JoinInfo view={view} url={url} localOnly={localOnly} />
          <Roster
            view={view}
            action={(p) => (
              <button
                type="button"
                class="btn btn-small btn-ghost kick"
                aria-label={`Remove ${p.name}`}
                onClick={() => void run(() => client.kick(p.participant_id))}
              >
                ✕
              </button>
            )}
          />
        </div>
      );
      controls = (
        <>
          <button
            type="button"
            class="btn btn-secondary"
            aria-pressed={view.locked}
            onClick={() => void run(() => client.lock(!view.locked))}
            data-testid="lock-room"
          >
            {view.locked ? "Unlock (let players in)" : "Lock (no new players)"}
          </button>
          <button
            type="button"
            class="btn btn-primary btn-large"
            disabled={busy || (live && view.playerCount === 0)}
            onClick={() => void run(() => client.start())}
            data-testid="start-game"
          >
            Start
          </button>
        </>
      );
      break;
    case "question":
      body = <QuestionStage view={view} now={now} />;
      controls = (
        <>
          {endControls}
          <button
            type="button"
            class="btn btn-primary btn-large"
            disabled={busy || view.closed}
            onClick={() => void next()}
            data-testid="skip-question"
          >
            {view.closed ? "Revealing…" : "Skip (show answers now)"}
          </button>
        </>
      );
      break;
    case "reveal":
      body = showBoard ? (
        <ScoreboardStage view={view} now={now} />
      ) : (
        <RevealStage view={view} now={now} typed={typed} />
      );
      controls = (
        <>
          {endControls}
          {!showBoard && !last ? (
            <button
              type="button"
              class="btn btn-secondary"
              onClick={() => setShowBoard(true)}
              data-testid="show-scoreboard"
            >
              Scoreboard
            </button>
          ) : null}
          <button
            type="button"
            class="btn btn-primary btn-large"
            disabled={busy}
            onClick={() => void next()}
            data-testid="next-question"
          >
            {last ? "Finish: show the podium" : "Next question"}
          </button>
        </>
      );
      break;
    case "intermission":
      body = <ScoreboardStage view={view} now={now} />;
      controls = (
        <>
          {endControls}
          <button
            type="button"
            class="btn btn-primary btn-large"
            disabled={busy}
            onClick={() => void next()}
            data-testid="next-question"
          >
            Next question
          </button>
        </>
      );
      break;
    case "active":
      body = (
        <section class="big-scoreboard" aria-labelledby="sp-title" data-testid="self-paced-board">
          <h1 id="sp-title">Live leaderboard</h1>
          <p class="muted">
            Everyone is playing at their own pace. {plural(view.playerCount, "player")} joined;
            latecomers can still join with PIN {view.pin}.
          </p>
          <Leaderboard standings={view.leaderboard} limit={20} large />
        </section>
      );
      controls = endControls;
      break;
    case "ended":
      body = (
        <EndStage view={view}>
          <ResultsTable sessionId={roomId} ready />
        </EndStage>
      );
      controls = (
        <Link href="/" class="btn btn-secondary">
          Back to the library
        </Link>
      );
      break;
  }

  return (
    <div class="host-room" data-phase={view.phase}>
      <ConnectionBanner state={connection} />
      <header class="room-bar">
        <span class="room-title">{view.title}</span>
        <span class="muted">
          {modeName(view.mode)} · PIN {view.pin} · {plural(view.playerCount, "player")}
          {view.locked ? " · locked" : ""}
        </span>
        <a
          href={routePath({ name: "screen", roomId, pin: null })}
          target="_blank"
          rel="noopener"
          class="btn btn-small btn-ghost"
        >
          Open big screen
        </a>
      </header>
      <main class="room-main" id="main" tabIndex={-1}>
        {body}
      </main>
      <div class="room-controls" role="toolbar" aria-label="Game controls">
        <div class="control-error">
          <ErrorBox testId="host-error">{error}</ErrorBox>
        </div>
        {controls}
      </div>
    </div>
  );
}
