import { useEffect, useState } from "preact/hooks";
import { ApiError, api } from "../lib/api.js";
import { errorText } from "../lib/error-text.js";
import { modeName, plural } from "../lib/format.js";
import { formatPin, isValidPin, normalisePin } from "../lib/join.js";
import { describeIssue, type Issue } from "../lib/quiz-model.js";
import { routePath } from "../lib/routes.js";
import {
  forgetHostedRoom,
  type HostedRoom,
  hostedRooms,
  markHostedRoomEnded,
  runningAndFinished,
} from "../lib/saved.js";
import { ErrorBox, Loading } from "../ui/misc.js";
import { AdminTokenForm } from "./admin-token.js";
import { Link, navigate } from "./router.js";
import { adminApi, local } from "./services.js";

interface QuizSummary {
  id: string;
  title: string;
  description: string;
  question_count: number;
  updated_at: number;
}

type Notice = { kind: "ok" | "error"; text: string; issues?: Issue[] } | null;

/** The home page: the quiz library, games this browser hosts, import, and the big screen. */
export function Library() {
  const [quizzes, setQuizzes] = useState<QuizSummary[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [notice, setNotice] = useState<Notice>(null);
  const [needsToken, setNeedsToken] = useState(false);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [hosted, setHosted] = useState<HostedRoom[]>(() => hostedRooms(local, Date.now()));

  async function load() {
    setLoadError(null);
    try {
      const r = await api<{ quizzes: QuizSummary[] }>("/api/v1/quizzes");
      setQuizzes(r.quizzes);
    } catch (e) {
      setLoadError(errorText(e));
    }
  }
  useEffect(() => {
    document.title = "quizwire · Library";
    void load();
  }, []);

  // A game may have ended while this page was closed (the host left, an admin closed it): ask the
  // server, so a finished game is not offered as running.
  useEffect(() => {
    let live = true;
    const { running } = runningAndFinished(hostedRooms(local, Date.now()));
    void Promise.all(
      running.map(async (r) => {
        try {
          const s = await api<{ status: string; ended_at: number | null }>(
            `/api/v1/sessions/${encodeURIComponent(r.roomId)}`,
          );
          if (s.status === "completed") {
            markHostedRoomEnded(local, r.roomId, s.ended_at ?? Date.now(), Date.now());
          }
        } catch (e) {
          // Unknown to the server: gone. Anything else (offline): leave it as it is.
          if (e instanceof ApiError && e.status === 404) {
            markHostedRoomEnded(local, r.roomId, Date.now(), Date.now());
          }
        }
      }),
    ).then(() => {
      if (live && running.length > 0) setHosted(hostedRooms(local, Date.now()));
    });
    return () => {
      live = false;
    };
  }, []);
  const { running, finished } = runningAndFinished(hosted);

  function failed(e: unknown, what: string) {
    if (e instanceof ApiError && e.needsAdmin) setNeedsToken(true);
    setNotice({
      kind: "error",
      text: `${what}: ${errorText(e)}`,
      ...(e instanceof ApiError && e.issues.length > 0 ? { issues: e.issues } : {}),
    });
  }

  async function importFile(file: File) {
    setNotice(null);
    const text = await file.text();
    const csv = /\.csv$/i.test(file.name) || file.type === "text/csv";
    const title =
      file.name
        .replace(/\.[^.]+$/, "")
        .replace(/[-_]+/g, " ")
        .trim() || "Imported quiz";
    try {
      const q = await adminApi<{ id: string; title: string }>(
        csv
          ? `/api/v1/quizzes/import?title=${encodeURIComponent(title)}`
          : "/api/v1/quizzes/import",
        { method: "POST", rawBody: { text, contentType: csv ? "text/csv" : "application/json" } },
      );
      setNotice({ kind: "ok", text: `Imported “${q.title}”.` });
      await load();
    } catch (e) {
      failed(e, `Could not import ${file.name}`);
    }
  }

  async function exportQuiz(q: QuizSummary) {
    try {
      const doc = await adminApi<unknown>(`/api/v1/quizzes/${encodeURIComponent(q.id)}/export`);
      const blob = new Blob([`${JSON.stringify(doc, null, 2)}\n`], { type: "application/json" });
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `${q.id}.json`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      failed(e, `Could not export “${q.title}”`);
    }
  }

  async function remove(q: QuizSummary) {
    setConfirming(null);
    try {
      await adminApi<null>(`/api/v1/quizzes/${encodeURIComponent(q.id)}`, { method: "DELETE" });
      setNotice({ kind: "ok", text: `Deleted “${q.title}”.` });
      await load();
    } catch (e) {
      failed(e, `Could not delete “${q.title}”`);
    }
  }

  return (
    <div class="page">
      <section class="page-head">
        <h1>Your quizzes</h1>
        <div class="actions">
          <Link
            href={routePath({ name: "new-quiz" })}
            class="btn btn-primary"
            data-testid="new-quiz"
          >
            New quiz
          </Link>
          <label class="btn btn-secondary file-button">
            Import JSON or CSV…
            <input
              type="file"
              class="visually-hidden"
              accept=".json,.csv,application/json,text/csv"
              data-testid="import-file"
              onChange={(e) => {
                const f = e.currentTarget.files?.[0];
                e.currentTarget.value = "";
                if (f) void importFile(f);
              }}
            />
          </label>
        </div>
      </section>

      {needsToken ? (
        <AdminTokenForm
          onSaved={() => {
            setNeedsToken(false);
            setNotice({ kind: "ok", text: "Token saved. Try again." });
          }}
        />
      ) : null}
      {notice ? (
        notice.kind === "ok" ? (
          <p class="notice" role="status">
            {notice.text}
          </p>
        ) : (
          <ErrorBox>
            <p>{notice.text}</p>
            {notice.issues ? (
              <ul>
                {notice.issues.map((i) => (
                  <li key={`${i.path}:${i.msg}`}>{describeIssue(i)}</li>
                ))}
              </ul>
            ) : null}
          </ErrorBox>
        )
      ) : null}

      {running.length > 0 ? (
        <section class="card" aria-labelledby="hosted-title" data-testid="hosted-games">
          <h2 id="hosted-title">Games you are hosting</h2>
          <HostedList
            rooms={running}
            open="Open"
            onForget={() => setHosted(hostedRooms(local, Date.now()))}
          />
        </section>
      ) : null}

      {finished.length > 0 ? (
        <section class="card" aria-labelledby="finished-title" data-testid="finished-games">
          <h2 id="finished-title">Finished games</h2>
          <HostedList
            rooms={finished}
            open="Results"
            onForget={() => setHosted(hostedRooms(local, Date.now()))}
          />
        </section>
      ) : null}

      {loadError ? (
        <ErrorBox>
          {loadError}{" "}
          <button type="button" class="btn btn-small" onClick={() => void load()}>
            Try again
          </button>
        </ErrorBox>
      ) : quizzes === null ? (
        <Loading text="Loading quizzes…" />
      ) : quizzes.length === 0 ? (
        <p class="muted">No quizzes yet. Create one or import a file.</p>
      ) : (
        <ul class="quiz-grid" aria-label="Quizzes">
          {quizzes.map((q) => (
            <li key={q.id} class="card quiz-card" data-testid="quiz-card">
              <h2 class="quiz-title">{q.title}</h2>
              <p class="muted small">{plural(q.question_count, "question")}</p>
              {q.description ? <p class="quiz-desc">{q.description}</p> : null}
              <div class="actions">
                <Link
                  href={routePath({ name: "start-quiz", quizId: q.id })}
                  class="btn btn-primary"
                  aria-label={`Host ${q.title}`}
                  data-testid="host-quiz"
                >
                  Host
                </Link>
                <Link
                  href={routePath({ name: "edit-quiz", quizId: q.id })}
                  class="btn btn-secondary"
                  aria-label={`Edit ${q.title}`}
                >
                  Edit
                </Link>
                <button
                  type="button"
                  class="btn btn-ghost"
                  aria-label={`Export ${q.title} as JSON`}
                  onClick={() => void exportQuiz(q)}
                >
                  Export
                </button>
                {confirming === q.id ? (
                  <fieldset class="confirm">
                    <legend class="visually-hidden">Delete {q.title}?</legend>
                    <button type="button" class="btn btn-danger" onClick={() => void remove(q)}>
                      Delete for good
                    </button>
                    <button type="button" class="btn btn-ghost" onClick={() => setConfirming(null)}>
                      Keep
                    </button>
                  </fieldset>
                ) : (
                  <button
                    type="button"
                    class="btn btn-ghost"
                    aria-label={`Delete ${q.title}`}
                    onClick={() => setConfirming(q.id)}
                  >
                    Delete
                  </button>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}

      <ScreenForm />
    </div>
  );
}

/** "Big screen": watch any running game by its PIN. */
function ScreenForm() {
  const [pin, setPin] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <form
      class="card inline-form"
      aria-labelledby="screen-title"
      onSubmit={(e) => {
        e.preventDefault();
        const p = normalisePin(pin);
        if (!isValidPin(p)) {
          setProblem("A game PIN is six digits.");
          return;
        }
        navigate(routePath({ name: "screen", roomId: null, pin: p }));
      }}
    >
      <h2 id="screen-title">Big screen</h2>
      <p class="muted">Show a running game's leaderboard on a projector.</p>
      <label for="screen-pin">Game PIN</label>
      <input
        id="screen-pin"
        inputMode="numeric"
        autoComplete="off"
        value={pin}
        aria-invalid={problem ? "true" : undefined}
        aria-describedby={problem ? "screen-pin-error" : undefined}
        onInput={(e) => setPin(e.currentTarget.value)}
      />
      <button type="submit" class="btn btn-secondary">
        Open big screen
      </button>
      <div id="screen-pin-error">
        <ErrorBox>{problem}</ErrorBox>
      </div>
    </form>
  );
}

/** Games this browser hosted: running ones open the console, finished ones their results. */
function HostedList({
  rooms,
  open,
  onForget,
}: {
  rooms: HostedRoom[];
  open: "Open" | "Results";
  onForget: () => void;
}) {
  return (
    <ul class="plain-list">
      {rooms.map((r) => (
        <li key={r.roomId} class="row">
          <span>
            <strong>{r.title}</strong>{" "}
            <span class="muted">
              {(r.endedAt ?? null) === null
                ? `${modeName(r.mode)} game · PIN ${formatPin(r.pin)}`
                : `Ended ${endedWhen(r.endedAt ?? 0)} · PIN ${formatPin(r.pin)}`}
            </span>
          </span>
          <span class="actions">
            <Link
              href={routePath({ name: "host", roomId: r.roomId })}
              class="btn btn-small"
              aria-label={`${open === "Open" ? "Open" : "Results of"} ${r.title} (PIN ${r.pin})`}
            >
              {open}
            </Link>
            <button
              type="button"
              class="btn btn-small btn-ghost"
              aria-label={`Forget ${r.title} (PIN ${r.pin})`}
              onClick={() => {
                forgetHostedRoom(local, r.roomId, Date.now());
                onForget();
              }}
            >
              Forget
            </button>
          </span>
        </li>
      ))}
    </ul>
  );
}

/** "at 14:05", the hour a game ended (the list only holds the last day). */
function endedWhen(at: number): string {
  return `at ${new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`;
}
