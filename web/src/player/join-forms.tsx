import type { RefObject } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import {
  formatPin,
  isValidPin,
  nicknameProblem,
  normalisePin,
  randomNickname,
} from "../lib/join.js";
import type { Seat } from "../lib/saved.js";
import { ErrorBox } from "../ui/misc.js";

/** What GET /api/v1/rooms/{pin} says about a room. */
export interface RoomInfo {
  room_id: string;
  title: string;
  mode: "live" | "quick_fire" | "self_paced";
  status: "waiting" | "active" | "completed";
  locked: boolean;
  player_count: number;
}

interface PinFormProps {
  initialPin: string;
  error: string | null;
  busy: boolean;
  onSubmit: (pin: string) => void;
}

/** Step 1: the game PIN (six digits, as the host's screen shows it). */
export function PinForm({ initialPin, error, busy, onSubmit }: PinFormProps) {
  const [pin, setPin] = useState(initialPin);
  const [problem, setProblem] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const shown = problem ?? error;
  return (
    <form
      class="join-card"
      aria-labelledby="pin-title"
      onSubmit={(e) => {
        e.preventDefault();
        const p = normalisePin(pin);
        if (!isValidPin(p)) {
          setProblem("A game PIN is six digits, shown on the host's screen.");
          input.current?.focus();
          return;
        }
        setProblem(null);
        onSubmit(p);
      }}
    >
      <h1 id="pin-title" class="brand">
        quizwire
      </h1>
      <label for="pin" class="join-label">
        Game PIN
      </label>
      <input
        id="pin"
        ref={input}
        class="join-input pin-input"
        inputMode="numeric"
        autoComplete="off"
        pattern="[0-9 ]*"
        maxLength={9}
        placeholder="123 456"
        value={pin}
        aria-invalid={shown ? "true" : undefined}
        aria-describedby={shown ? "pin-error" : undefined}
        onInput={(e) => setPin(e.currentTarget.value)}
      />
      <div id="pin-error">
        <ErrorBox testId="join-error">{shown}</ErrorBox>
      </div>
      <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
        {busy ? "Checking…" : "Enter"}
      </button>
    </form>
  );
}

interface NameFormProps {
  pin: string;
  room: RoomInfo;
  error: string | null;
  busy: boolean;
  /** This browser's earlier seat in the same game, offered as "continue as …". */
  previous: Seat | null;
  onSubmit: (name: string) => void;
  onContinue: (seat: Seat) => void;
  onBack: () => void;
}

/** Step 2: a nickname, typed or generated. */
export function NameForm({
  pin,
  room,
  error,
  busy,
  previous,
  onSubmit,
  onContinue,
  onBack,
}: NameFormProps) {
  const [name, setName] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  useEffect(() => {
    if (error) input.current?.focus();
  }, [error]);
  const shown = problem ?? error;
  return (
    <form
      class="join-card"
      aria-labelledby="name-title"
      onSubmit={(e) => {
        e.preventDefault();
        const p = nicknameProblem(name);
        if (p) {
          setProblem(p);
          input.current?.focus();
          return;
        }
        setProblem(null);
        onSubmit(name.replace(/\s+/g, " ").trim());
      }}
    >
      <p class="join-game">
        <span class="muted">Game {formatPin(pin)}</span>
        <strong class="join-title">{room.title}</strong>
      </p>
      <h1 id="name-title" class="join-label">
        Your nickname
      </h1>
      {previous ? (
        <div class="continue-box">
          <p>
            This device is already in this game as <strong>{previous.name}</strong>.
          </p>
          <button
            type="button"
            class="btn btn-primary btn-block"
            onClick={() => onContinue(previous)}
            disabled={busy}
          >
            Continue as {previous.name}
          </button>
          <ErrorBox testId="join-error">{error}</ErrorBox>
          <button type="button" class="btn btn-link" onClick={onBack}>
            Use another PIN
          </button>
        </div>
      ) : (
        <NameFields
          name={name}
          setName={setName}
          setProblem={setProblem}
          shown={shown}
          busy={busy}
          input={input}
          onBack={onBack}
        />
      )}
    </form>
  );
}

interface NameFieldsProps {
  name: string;
  setName: (name: string) => void;
  setProblem: (problem: string | null) => void;
  shown: string | null;
  busy: boolean;
  input: RefObject<HTMLInputElement | null>;
  onBack: () => void;
}

function NameFields({ name, setName, setProblem, shown, busy, input, onBack }: NameFieldsProps) {
  return (
    <>
      <label for="nickname" class="visually-hidden">
        Nickname
      </label>
      <input
        id="nickname"
        ref={input}
        class="join-input"
        autoComplete="nickname"
        maxLength={40}
        placeholder="Nickname"
        value={name}
        aria-invalid={shown ? "true" : undefined}
        aria-describedby={shown ? "name-error" : undefined}
        onInput={(e) => setName(e.currentTarget.value)}
      />
      <button
        type="button"
        class="btn btn-link"
        onClick={() => {
          setName(randomNickname(Math.random));
          setProblem(null);
          input.current?.focus();
        }}
      >
        Pick a name for me
      </button>
      <div id="name-error">
        <ErrorBox testId="join-error">{shown}</ErrorBox>
      </div>
      <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
        {busy ? "Joining…" : "OK, go!"}
      </button>
      <button type="button" class="btn btn-link" onClick={onBack}>
        Use another PIN
      </button>
    </>
  );
}
