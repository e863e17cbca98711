import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { errorText } from "../lib/error-text.js";
import { modeName, plural } from "../lib/format.js";
import { formatPin, isValidPin, malformedPinText, normalisePin } from "../lib/join.js";
import { routePath } from "../lib/routes.js";
import type { QuizwireClient } from "../net/client.js";
import { useRoomConnection, useServerNow } from "../net/room-hook.js";
import { ConnectionBanner } from "../ui/banner.js";
import { ErrorBox, Loading } from "../ui/misc.js";
import { Leaderboard } from "../ui/standings.js";
import { useJoinLink } from "./join-link.js";
import { navigate } from "./router.js";
import { screenClient } from "./services.js";
import {
  EndStage,
  JoinInfo,
  QuestionStage,
  RevealStage,
  Roster,
  ScoreboardStage,
} from "./stage.js";

/**
 * The big screen (/screen/{roomId} or /screen?pin=…): a read-only view of
 * any game for a projector, with the leaderboard updating live. It watches
 * as a spectator on its own connection.
 */
export function BigScreen({ roomId, pin }: { roomId: string | null; pin: string | null }) {
  const [client, setClient] = useState<QuizwireClient | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    document.title = "quizwire · Big screen";
    if (!roomId && !pin) return;
    // A PIN that cannot be one is said in words before any connection, like a wrong PIN.
    if (!roomId && pin !== null && !isValidPin(normalisePin(pin))) {
      setError(malformedPinText(pin));
      return;
    }
    const c = screenClient();
    let live = true;
    setError(null);
    void (async () => {
      try {
        await c.connect();
        const state = await c.spectate(roomId ? { roomId } : { pin: normalisePin(pin ?? "") });
        if (!live) return;
        if (state.room_id) setClient(c);
      } catch (e) {
        if (live) setError(errorText(e, pin ? { pin } : {}));
        c.close();
      }
    })();
    return () => {
      live = false;
      c.close();
    };
  }, [roomId, pin]);

  if (!roomId && !pin) return <ScreenPinForm error={null} />;
  if (error) return <ScreenPinForm error={error} />;
  if (!client) return <Loading text="Connecting the big screen…" />;
  return <ScreenRoom client={client} />;
}

function ScreenPinForm({ error }: { error: string | null }) {
  const [value, setValue] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <div class="page">
      <form
        class="card inline-form"
        aria-labelledby="screen-form-title"
        onSubmit={(e) => {
          e.preventDefault();
          const p = normalisePin(value);
          if (!isValidPin(p)) {
            setProblem(malformedPinText(value));
            return;
          }
          navigate(routePath({ name: "screen", roomId: null, pin: p }));
        }}
      >
        <h1 id="screen-form-title">Big screen</h1>
        <p class="muted">Show a running game on a projector: enter its PIN.</p>
        <label for="big-pin">Game PIN</label>
        <input
          id="big-pin"
          inputMode="numeric"
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
        />
        <button type="submit" class="btn btn-primary">
          Show
        </button>
        <ErrorBox>{problem ?? error}</ErrorBox>
      </form>
    </div>
  );
}

function ScreenRoom({ client }: { client: QuizwireClient }) {
  const { view, connection } = useRoomConnection(client);
  const { url, localOnly } = useJoinLink(view?.pin ?? null);
  const ticking =
    view !== null &&
    (view.phase === "question" || view.phase === "reveal" || view.phase === "intermission");
  const now = useServerNow(client, ticking);
  useEffect(() => {
    if (view) document.title = `quizwire · ${view.title} · big screen`;
  }, [view?.title]);
  if (!view) return <Loading text="Connecting the big screen…" />;

  let main: ComponentChildren;
  let side = true;
  switch (view.phase) {
    case "lobby":
      main = (
        <div class="lobby">
          <JoinInfo view={view} url={url} localOnly={localOnly} />
          <Roster view={view} />
        </div>
      );
      side = false;
      break;
    case "question":
      main = <QuestionStage view={view} now={now} />;
      break;
    case "reveal":
      main = <RevealStage view={view} now={now} />;
      break;
    case "intermission":
      main = <ScoreboardStage view={view} now={now} />;
      side = false;
      break;
    case "active":
      main = (
        <section class="big-scoreboard" aria-labelledby="screen-lb">
          <h1 id="screen-lb">Live leaderboard</h1>
          <p class="muted">
            Join with PIN <strong>{formatPin(view.pin)}</strong> ·{" "}
            {plural(view.playerCount, "player")}
          </p>
          <Leaderboard standings={view.leaderboard} limit={20} large />
        </section>
      );
      side = false;
      break;
    case "ended":
      main = (
        <EndStage view={view}>
          <Leaderboard standings={view.leaderboard} limit={20} large caption="Final standings" />
        </EndStage>
      );
      side = false;
      break;
  }

  return (
    <div class="screen-room" data-phase={view.phase} data-testid="big-screen">
      <ConnectionBanner state={connection} />
      <header class="room-bar">
        <span class="room-title">{view.title}</span>
        <span class="muted">
          {modeName(view.mode)} · PIN {formatPin(view.pin)}
        </span>
      </header>
      <div class={side ? "screen-grid" : "screen-single"}>
        <main class="room-main" id="main" tabIndex={-1}>
          {main}
        </main>
        {side ? (
          <aside class="screen-side" aria-labelledby="side-lb">
            <h2 id="side-lb">Leaderboard</h2>
            <Leaderboard standings={view.leaderboard} limit={10} />
          </aside>
        ) : null}
      </div>
    </div>
  );
}
