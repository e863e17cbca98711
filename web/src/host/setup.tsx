import { useEffect, useState } from "preact/hooks";
import { api } from "../lib/api.js";
import { errorText } from "../lib/error-text.js";
import { plural } from "../lib/format.js";
import { routePath } from "../lib/routes.js";
import { saveHostedRoom } from "../lib/saved.js";
import {
  type FormField,
  type FormProblems,
  fieldsFor,
  formDefaults,
  formProblems,
  type SessionForm,
  settingsOf,
} from "../lib/session-form.js";
import type { Mode } from "../lib/types.js";
import { ErrorBox, Loading } from "../ui/misc.js";
import { navigate } from "./router.js";
import { hostClient, local } from "./services.js";

interface QuizInfo {
  id: string;
  title: string;
  description?: string;
  questions: unknown[];
}

const MODES: Array<{ mode: Mode; name: string; text: string }> = [
  {
    mode: "live",
    name: "Live",
    text: "You set the pace from the big screen: question, answers, scoreboard, next.",
  },
  {
    mode: "quick_fire",
    name: "Quick fire",
    text: "The first correct answer wins each question; the game moves on by itself.",
  },
  {
    mode: "self_paced",
    name: "Self-paced",
    text: "Everyone works through the questions on their own phone, at their own speed.",
  },
];

/** Session setup: a mode and its settings, then the game is created and its lobby opens. */
export function Setup({ quizId }: { quizId: string }) {
  const [quiz, setQuiz] = useState<QuizInfo | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [form, setForm] = useState<SessionForm>(() => formDefaults("live"));
  const [problems, setProblems] = useState<FormProblems>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = "quizwire · Host a game";
    api<QuizInfo>(`/api/v1/quizzes/${encodeURIComponent(quizId)}`)
      .then(setQuiz)
      .catch((e: unknown) => setLoadError(errorText(e)));
  }, [quizId]);

  const set = <K extends keyof SessionForm>(key: K, value: SessionForm[K]) =>
    setForm((f) => ({ ...f, [key]: value }));
  const num = (key: FormField) => (e: { currentTarget: HTMLInputElement }) =>
    set(key, e.currentTarget.valueAsNumber as never);

  async function create() {
    const p = formProblems(form);
    setProblems(p);
    if (Object.keys(p).length > 0) {
      setError("Some settings are out of range; see the marked fields.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const client = hostClient();
      await client.connect();
      const room = await client.createRoom({
        quizId,
        mode: form.mode,
        settings: settingsOf(form, client.serverNow()),
        hostName: form.hostName.trim(),
      });
      saveHostedRoom(
        local,
        {
          roomId: room.roomId,
          pin: room.pin,
          title: room.state.title,
          mode: form.mode,
          hostToken: room.hostToken,
          createdAt: Date.now(),
        },
        Date.now(),
      );
      navigate(routePath({ name: "host", roomId: room.roomId }));
    } catch (e) {
      setError(`The game could not be created. ${errorText(e)}`);
      setBusy(false);
    }
  }

  if (loadError) {
    return (
      <div class="page">
        <ErrorBox>Could not open this quiz. {loadError}</ErrorBox>
        <a href="/" class="btn btn-secondary">
          Back to the library
        </a>
      </div>
    );
  }
  if (!quiz) return <Loading text="Opening the quiz…" />;

  const fields = fieldsFor(form.mode);
  const field = (key: FormField) =>
    problems[key]
      ? { "aria-invalid": "true" as const, "aria-describedby": `setup-${key}-issue` }
      : {};
  const issue = (key: FormField) =>
    problems[key] ? (
      <p id={`setup-${key}-issue`} class="field-issue">
        {problems[key]}
      </p>
    ) : null;

  return (
    <form
      class="page setup"
      aria-labelledby="setup-title"
      onSubmit={(e) => {
        e.preventDefault();
        void create();
      }}
    >
      <section class="page-head">
        <div>
          <h1 id="setup-title">Host “{quiz.title}”</h1>
          <p class="muted">{plural(quiz.questions.length, "question")}</p>
        </div>
      </section>

      <fieldset class="card mode-picker">
        <legend>Game mode</legend>
        {MODES.map((m) => (
          <label key={m.mode} class={`mode-option${form.mode === m.mode ? " mode-selected" : ""}`}>
            <input
              type="radio"
              name="mode"
              value={m.mode}
              checked={form.mode === m.mode}
              onChange={() => setForm((f) => ({ ...formDefaults(m.mode, f.hostName) }))}
            />
            <span class="mode-name">{m.name}</span>
            <span class="muted small">{m.text}</span>
          </label>
        ))}
      </fieldset>

      <fieldset class="card">
        <legend>Scoring</legend>
        <label for="scoring">How points are given</label>
        <select
          id="scoring"
          value={form.scoring}
          onChange={(e) => set("scoring", e.currentTarget.value as SessionForm["scoring"])}
        >
          <option value="kahoot">Fast and right (up to 1,000 points a question)</option>
          <option value="latency">Speed curve (base points, steepness)</option>
          <option value="vocab">Vocabulary (question points + speed bonus)</option>
        </select>
        {form.scoring === "kahoot" ? (
          <label class="check">
            <input
              type="checkbox"
              checked={form.streakBonus}
              onChange={(e) => set("streakBonus", e.currentTarget.checked)}
            />
            Answer streak bonus
          </label>
        ) : null}
        {form.scoring === "latency" ? (
          <div class="field-row">
            <div>
              <label for="base-points">Base points</label>
              <input
                id="base-points"
                type="number"
                min={1}
                max={100000}
                value={form.basePoints}
                onInput={num("basePoints")}
                {...field("basePoints")}
              />
              {issue("basePoints")}
            </div>
            <div>
              <label for="alpha">Steepness (0.8–1.5)</label>
              <input
                id="alpha"
                type="number"
                min={0.8}
                max={1.5}
                step={0.05}
                value={form.alpha}
                onInput={num("alpha")}
                {...field("alpha")}
              />
              {issue("alpha")}
            </div>
          </div>
        ) : null}
      </fieldset>

      <fieldset class="card">
        <legend>Timing and answers</legend>
        <label class="check">
          <input
            type="radio"
            name="times"
            checked={form.useQuizTimes}
            onChange={() => set("useQuizTimes", true)}
          />
          Each question's own time limit
        </label>
        <label class="check">
          <input
            type="radio"
            name="times"
            checked={!form.useQuizTimes}
            onChange={() => set("useQuizTimes", false)}
          />
          The same time for every question
        </label>
        {!form.useQuizTimes ? (
          <div>
            <label for="question-time">Seconds per question</label>
            <input
              id="question-time"
              type="number"
              min={0.1}
              max={600}
              step="any"
              value={form.questionTimeS}
              onInput={num("questionTimeS")}
              {...field("questionTimeS")}
            />
            {issue("questionTimeS")}
          </div>
        ) : null}
        <label class="check">
          <input
            type="checkbox"
            checked={form.allowAnswerChange}
            onChange={(e) => set("allowAnswerChange", e.currentTarget.checked)}
          />
          Players may change their answer until time is up
        </label>
        {fields.pacing ? (
          <>
            <label class="check">
              <input
                type="checkbox"
                checked={form.autoAdvance}
                onChange={(e) => set("autoAdvance", e.currentTarget.checked)}
              />
              Move on by itself after each answer reveal
            </label>
            <div class="field-row">
              {form.autoAdvance ? (
                <div>
                  <label for="reveal">Reveal shown for (seconds)</label>
                  <input
                    id="reveal"
                    type="number"
                    min={0}
                    max={600}
                    step="any"
                    value={form.revealS}
                    onInput={num("revealS")}
                    {...field("revealS")}
                  />
                  {issue("revealS")}
                </div>
              ) : null}
              {fields.intermission ? (
                <div>
                  <label for="intermission">Scoreboard between questions (seconds, 0 = none)</label>
                  <input
                    id="intermission"
                    type="number"
                    min={0}
                    max={600}
                    step="any"
                    value={form.intermissionS}
                    onInput={num("intermissionS")}
                    {...field("intermissionS")}
                  />
                  {issue("intermissionS")}
                </div>
              ) : null}
            </div>
          </>
        ) : null}
        {fields.closes ? (
          <>
            <label class="check">
              <input
                type="checkbox"
                checked={form.closesAfterMin !== null}
                onChange={(e) => set("closesAfterMin", e.currentTarget.checked ? 60 : null)}
              />
              Close the game automatically
            </label>
            {form.closesAfterMin !== null ? (
              <div>
                <label for="closes">Minutes from now</label>
                <input
                  id="closes"
                  type="number"
                  min={1}
                  step={1}
                  value={form.closesAfterMin}
                  onInput={num("closesAfterMin")}
                  {...field("closesAfterMin")}
                />
                {issue("closesAfterMin")}
              </div>
            ) : null}
          </>
        ) : null}
      </fieldset>

      <fieldset class="card">
        <legend>Players</legend>
        <div class="field-row">
          <div>
            <label for="capacity">Most players</label>
            <input
              id="capacity"
              type="number"
              min={1}
              max={100000}
              step={1}
              value={form.maxParticipants}
              onInput={num("maxParticipants")}
              {...field("maxParticipants")}
            />
            {issue("maxParticipants")}
          </div>
          <div>
            <label for="lb-size">Leaderboard length</label>
            <input
              id="lb-size"
              type="number"
              min={1}
              max={100}
              step={1}
              value={form.leaderboardSize}
              onInput={num("leaderboardSize")}
              {...field("leaderboardSize")}
            />
            {issue("leaderboardSize")}
          </div>
          <div>
            <label for="host-name">Your name</label>
            <input
              id="host-name"
              maxLength={24}
              value={form.hostName}
              onInput={(e) => set("hostName", e.currentTarget.value)}
              {...field("hostName")}
            />
            {issue("hostName")}
          </div>
        </div>
      </fieldset>

      <ErrorBox>{error}</ErrorBox>
      <div class="sticky-actions">
        <a href="/" class="btn btn-ghost">
          Cancel
        </a>
        <button
          type="submit"
          class="btn btn-primary btn-large"
          disabled={busy}
          data-testid="create-game"
        >
          {busy ? "Creating…" : "Create game"}
        </button>
      </div>
    </form>
  );
}
