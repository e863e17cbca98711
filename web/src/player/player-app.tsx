import { useEffect, useState } from "preact/hooks";
import { api } from "../lib/api.js";
import { errorText, isRoomProblem } from "../lib/error-text.js";
import { isValidPin, normalisePin } from "../lib/join.js";
import {
  browserStore,
  clearLastSeat,
  clearSeat,
  currentSeat,
  lastSeatFor,
  playerIdentity,
  type Seat,
  saveLastSeat,
  savePlayerIdentity,
  saveSeat,
} from "../lib/saved.js";
import { createClient, type QuizwireClient } from "../net/client.js";
import { Loading } from "../ui/misc.js";
import { PlayerGame } from "./game.js";
import { NameForm, PinForm, type RoomInfo } from "./join-forms.js";

type Stage =
  | { kind: "start" }
  | { kind: "pin"; pin: string; error: string | null; busy: boolean }
  | { kind: "name"; pin: string; room: RoomInfo; error: string | null; busy: boolean }
  | { kind: "game"; client: QuizwireClient; seat: Seat };

const session = browserStore("session");
const local = browserStore("local");

function pinFromUrl(): string {
  const p = new URLSearchParams(location.search).get("pin");
  return p ? normalisePin(p) : "";
}

function showPinInUrl(pin: string | null): void {
  const url = pin ? `/play?pin=${encodeURIComponent(pin)}` : "/play";
  if (location.pathname + location.search !== url) history.replaceState(null, "", url);
}

/**
 * The player's page (/play): PIN, nickname, then the game. A seat kept in
 * session storage brings a refreshed tab straight back into its game.
 */
export function PlayerApp() {
  const [stage, setStage] = useState<Stage>({ kind: "start" });

  async function lookUp(pin: string): Promise<void> {
    setStage({ kind: "pin", pin, error: null, busy: true });
    try {
      const room = await api<RoomInfo>(`/api/v1/rooms/${encodeURIComponent(pin)}`);
      if (room.status === "completed") {
        setStage({ kind: "pin", pin, error: errorText({ reason: "room_ended" }), busy: false });
        return;
      }
      if (room.locked && !lastSeatFor(local, room.room_id, Date.now())) {
        setStage({ kind: "pin", pin, error: errorText({ reason: "room_locked" }), busy: false });
        return;
      }
      showPinInUrl(pin);
      setStage({ kind: "name", pin, room, error: null, busy: false });
    } catch (e) {
      setStage({ kind: "pin", pin, error: errorText(e, { pin }), busy: false });
    }
  }

  /** Opens a client and gets a seat: a new player by PIN and name, or an old seat back. */
  async function enter(
    pin: string,
    room: RoomInfo | null,
    how: { name: string } | { seat: Seat },
  ): Promise<void> {
    if (room) setStage({ kind: "name", pin, room, error: null, busy: true });
    const client = createClient({
      identityToken: ("seat" in how ? how.seat.identityToken : null) ?? playerIdentity(local),
    });
    client.on("connected", () => {
      if (client.identityToken) savePlayerIdentity(local, client.identityToken);
    });
    try {
      await client.connect();
      const r =
        "seat" in how
          ? await client.resume({ roomId: how.seat.roomId, resumeToken: how.seat.resumeToken })
          : await client.join({ pin, displayName: how.name });
      const seat: Seat = {
        roomId: r.joined.room_id,
        pin,
        name: r.joined.name,
        resumeToken: r.joined.resume_token,
        identityToken: client.identityToken,
        savedAt: Date.now(),
      };
      saveSeat(session, seat);
      saveLastSeat(local, seat);
      showPinInUrl(pin);
      setStage({ kind: "game", client, seat });
    } catch (e) {
      client.close();
      if ("seat" in how) {
        clearSeat(session);
        clearLastSeat(local);
      }
      const context = "name" in how ? { pin, name: how.name } : { pin };
      const message = errorText(e, context);
      if (!room || isRoomProblem(e) || "seat" in how) {
        setStage({ kind: "pin", pin: room ? pin : "", error: message, busy: false });
      } else {
        setStage({ kind: "name", pin, room, error: message, busy: false });
      }
    }
  }

  // On load: back into this tab's game, or straight to the nickname for a QR-code link.
  useEffect(() => {
    const seat = currentSeat(session);
    const urlPin = pinFromUrl();
    if (seat && (urlPin === "" || urlPin === seat.pin)) {
      void enter(seat.pin, null, { seat });
    } else if (isValidPin(urlPin)) {
      void lookUp(urlPin);
    } else {
      setStage({ kind: "pin", pin: urlPin, error: null, busy: false });
    }
  }, []);

  // Every join (including the SDK's own resumes after a lost connection) issues a new token: keep it.
  useEffect(() => {
    if (stage.kind !== "game") return;
    const { client } = stage;
    return client.on("joined", (j) => {
      const seat: Seat = {
        ...stage.seat,
        roomId: j.room_id,
        name: j.name,
        resumeToken: j.resume_token,
        identityToken: client.identityToken,
        savedAt: Date.now(),
      };
      saveSeat(session, seat);
      saveLastSeat(local, seat);
    });
  }, [stage]);

  useEffect(() => {
    document.title =
      stage.kind === "game" ? `quizwire · ${stage.seat.name}` : "quizwire · Join a game";
  }, [stage]);

  switch (stage.kind) {
    case "start":
      return (
        <main class="player-main">
          <Loading text="Getting back into your game…" />
        </main>
      );
    case "pin":
      return (
        <main class="player-main join-main" id="main">
          <PinForm
            initialPin={stage.pin}
            error={stage.error}
            busy={stage.busy}
            onSubmit={(pin) => void lookUp(pin)}
          />
        </main>
      );
    case "name":
      return (
        <main class="player-main join-main" id="main">
          <NameForm
            pin={stage.pin}
            room={stage.room}
            error={stage.error}
            busy={stage.busy}
            previous={lastSeatFor(local, stage.room.room_id, Date.now())}
            onSubmit={(name) => void enter(stage.pin, stage.room, { name })}
            onContinue={(seat) => void enter(stage.pin, stage.room, { seat })}
            onBack={() => {
              showPinInUrl(null);
              setStage({ kind: "pin", pin: "", error: null, busy: false });
            }}
          />
        </main>
      );
    case "game":
      return (
        <PlayerGame
          key={stage.seat.roomId}
          client={stage.client}
          name={stage.seat.name}
          onLeave={(message) => {
            stage.client.close();
            clearSeat(session);
            clearLastSeat(local);
            showPinInUrl(null);
            setStage({ kind: "pin", pin: "", error: message, busy: false });
          }}
        />
      );
  }
}
