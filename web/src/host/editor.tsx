import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "../lib/api.js";
import { errorText } from "../lib/error-text.js";
import { optionLetter } from "../lib/format.js";
import { pictureIssues } from "../lib/question-image.js";
import {
  addAccepted,
  addOption,
  adoptSaved,
  clearIssues,
  duplicate,
  type EditorQuestion,
  type EditorQuiz,
  emptyQuiz,
  fromDocument,
  type GroupedIssues,
  groupIssues,
  issuesAt,
  issuesUnder,
  KIND_LABELS,
  LIMITS,
  move,
  newQuestion,
  parseTags,
  type QuizDocument,
  removeAccepted,
  removeOption,
  setAccepted,
  setKind,
  setOption,
  summaryLine,
  toDocument,
  toggleCorrect,
} from "../lib/quiz-model.js";
import { routePath } from "../lib/routes.js";
import type { QuestionKind } from "../lib/types.js";
import { ErrorBox, Loading } from "../ui/misc.js";
import { OptionShape, optionClass } from "../ui/shapes.js";
import { AdminTokenForm } from "./admin-token.js";
import { PictureField } from "./picture-field.js";
import { navigate } from "./router.js";
import { adminApi } from "./services.js";

let keyCounter = 0;
const nextKey = () => `k${++keyCounter}`;

const KINDS: QuestionKind[] = ["single", "multiple", "true_false", "typed"];

/** The save error that stands for "the server listed issues": its words follow the issues left. */
const ISSUES_NOT_SAVED = "issues";

/** Messages under a field, referenced by the field's aria-describedby. */
function FieldIssues({ id, messages }: { id: string; messages: string[] }) {
  if (messages.length === 0) return null;
  return (
    <p id={id} class="field-issue" data-testid="field-issue">
      {messages.join("; ")}
    </p>
  );
}

function invalid(messages: string[], id: string) {
  return messages.length > 0 ? { "aria-invalid": "true" as const, "aria-describedby": id } : {};
}

/** The quiz editor: every question kind, answers, timing, points; validation from the server. */
export function Editor({ quizId }: { quizId: string | null }) {
  const [quiz, setQuiz] = useState<EditorQuiz | null>(() => (quizId ? null : emptyQuiz(nextKey)));
  const [loadError, setLoadError] = useState<unknown>(null);
  const [issues, setIssues] = useState<GroupedIssues | null>(null);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const [dirty, setDirty] = useState(false);
  const [needsToken, setNeedsToken] = useState(false);
  const summary = useRef<HTMLDivElement>(null);

  async function load(id: string) {
    setLoadError(null);
    try {
      const doc = await adminApi<QuizDocument>(
        `/api/v1/quizzes/${encodeURIComponent(id)}?answers=true`,
      );
      setQuiz(fromDocument(doc, nextKey));
    } catch (e) {
      if (e instanceof ApiError && e.needsAdmin) setNeedsToken(true);
      setLoadError(e);
    }
  }

  // The quiz on screen; after the first save of a new quiz the URL gains its id without a reload.
  const shownId = useRef<string | null>(null);
  useEffect(() => {
    if (quizId !== null && quizId === shownId.current) return;
    shownId.current = quizId;
    setIssues(null);
    setSaveError(null);
    setSaved(null);
    setDirty(false);
    if (quizId) void load(quizId);
    else setQuiz(emptyQuiz(nextKey));
  }, [quizId]);

  useEffect(() => {
    document.title = `quizwire · ${quizId ? "Edit quiz" : "New quiz"}`;
  }, [quizId]);

  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => {
      e.preventDefault();
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  const update = (f: (q: EditorQuiz) => EditorQuiz) => {
    setQuiz((q) => (q ? f(q) : q));
    setDirty(true);
    setSaved(null);
  };
  /** A field was edited: its issues go at once (the next save checks everything again). */
  const clear = (questionKey: string | null, field: string) =>
    setIssues((g) => clearIssues(g, questionKey, field));
  const updateQuestion = (key: string, f: (q: EditorQuestion) => EditorQuestion, field: string) => {
    update((quiz) => ({
      ...quiz,
      questions: quiz.questions.map((q) => (q.key === key ? f(q) : q)),
    }));
    clear(key, field);
  };

  async function save(thenHost: boolean) {
    if (!quiz) return;
    setSaving(true);
    setSaveError(null);
    setSaved(null);
    const sentKeys = quiz.questions.map((q) => q.key);
    try {
      // A picture address that is not http(s) never leaves the editor (its field says why).
      const local = pictureIssues(quiz.questions);
      if (local.length > 0)
        throw new ApiError(400, "VALIDATION", "pictures", undefined, local, undefined);
      const doc = toDocument(quiz);
      const stored =
        quiz.id === null
          ? await adminApi<QuizDocument>("/api/v1/quizzes", { method: "POST", body: doc })
          : await adminApi<QuizDocument>(`/api/v1/quizzes/${encodeURIComponent(quiz.id)}`, {
              method: "PUT",
              body: doc,
            });
      setIssues(null);
      setDirty(false);
      const next = adoptSaved(quiz, stored);
      setQuiz(next);
      setSaved(`Saved “${stored.title}”.`);
      const id = stored.id ?? next.id;
      shownId.current = id;
      if (id && thenHost) navigate(routePath({ name: "start-quiz", quizId: id }));
      else if (id && quiz.id === null) navigate(routePath({ name: "edit-quiz", quizId: id }), true);
    } catch (e) {
      if (e instanceof ApiError && e.issues.length > 0) {
        setIssues(groupIssues(e.issues, sentKeys));
        setSaveError(ISSUES_NOT_SAVED);
      } else {
        if (e instanceof ApiError && e.needsAdmin) setNeedsToken(true);
        setSaveError(`The quiz was not saved. ${errorText(e)}`);
      }
      setTimeout(() => summary.current?.focus(), 0);
    } finally {
      setSaving(false);
    }
  }

  if (needsToken && !quiz) {
    return (
      <div class="page">
        <AdminTokenForm
          onSaved={() => {
            setNeedsToken(false);
            if (quizId) void load(quizId);
          }}
        />
      </div>
    );
  }
  if (loadError && !quiz) {
    return (
      <div class="page">
        <ErrorBox>Could not open this quiz. {errorText(loadError)}</ErrorBox>
        <a href="/" class="btn btn-secondary">
          Back to the library
        </a>
      </div>
    );
  }
  if (!quiz) return <Loading text="Opening the quiz…" />;

  const quizIssues = (field: string) => issuesAt(issues, null, field);
  const titleIssues = quizIssues("title");
  const descIssues = quizIssues("description");
  const listIssues = [...quizIssues("questions"), ...quizIssues("")];
  const keys = quiz.questions.map((q) => q.key);
  const open = issues?.list ?? [];
  const saveMessage =
    saveError !== ISSUES_NOT_SAVED
      ? saveError
      : open.length === 0
        ? "The quiz is not saved yet: save it again."
        : `The quiz was not saved: ${open.length === 1 ? "1 problem" : `${open.length} problems`} to fix.`;

  return (
    <form
      class="page editor"
      aria-labelledby="editor-title"
      onSubmit={(e) => {
        e.preventDefault();
        void save(false);
      }}
    >
      <section class="page-head">
        <h1 id="editor-title">{quiz.id ? "Edit quiz" : "New quiz"}</h1>
        <div class="actions">
          <a href="/" class="btn btn-ghost">
            Back to the library
          </a>
        </div>
      </section>

      {needsToken ? <AdminTokenForm onSaved={() => setNeedsToken(false)} /> : null}

      <div ref={summary} tabIndex={-1} class="issue-summary-anchor">
        {saveMessage ? (
          <ErrorBox testId="save-error">
            <p>{saveMessage}</p>
            {open.length > 0 ? (
              <ul data-testid="issue-summary">
                {open.map((p, i) => (
                  <li key={i}>{summaryLine(p, keys)}</li>
                ))}
              </ul>
            ) : null}
          </ErrorBox>
        ) : null}
      </div>

      <div class="card">
        <label for="quiz-title">Title</label>
        <input
          id="quiz-title"
          value={quiz.title}
          maxLength={200}
          onInput={(e) => {
            const title = e.currentTarget.value;
            update((q) => ({ ...q, title }));
            clear(null, "title");
          }}
          {...invalid(titleIssues, "quiz-title-issue")}
        />
        <FieldIssues id="quiz-title-issue" messages={titleIssues} />
        <label for="quiz-desc">Description (optional)</label>
        <textarea
          id="quiz-desc"
          rows={2}
          maxLength={2000}
          value={quiz.description}
          onInput={(e) => {
            const description = e.currentTarget.value;
            update((q) => ({ ...q, description }));
            clear(null, "description");
          }}
          {...invalid(descIssues, "quiz-desc-issue")}
        />
        <FieldIssues id="quiz-desc-issue" messages={descIssues} />
      </div>

      <FieldIssues id="questions-issue" messages={listIssues} />
      <ol class="question-list" aria-label="Questions">
        {quiz.questions.map((q, i) => (
          <QuestionEditor
            key={q.key}
            q={q}
            index={i}
            count={quiz.questions.length}
            issues={issues}
            onChange={(f, field) => updateQuestion(q.key, f, field)}
            onMove={(to) => update((z) => ({ ...z, questions: move(z.questions, i, to) }))}
            onDuplicate={() =>
              update((z) => ({ ...z, questions: duplicate(z.questions, i, nextKey()) }))
            }
            onDelete={() => {
              update((z) => ({ ...z, questions: z.questions.filter((x) => x.key !== q.key) }));
              clear(q.key, "*");
              clear(null, "questions");
            }}
          />
        ))}
      </ol>

      <AddQuestion
        disabled={quiz.questions.length >= LIMITS.questionsMax}
        onAdd={(kind) => {
          const q = newQuestion(kind, nextKey());
          update((z) => ({ ...z, questions: [...z.questions, q] }));
          clear(null, "questions");
          setTimeout(() => document.getElementById(`q-${q.key}-text`)?.focus(), 0);
        }}
      />

      <div class="sticky-actions">
        <p class={saved ? "notice" : "notice muted"} role="status" data-testid="save-status">
          {saved ?? (dirty ? "Unsaved changes" : "")}
        </p>
        <button type="submit" class="btn btn-primary" disabled={saving} data-testid="save-quiz">
          {saving ? "Saving…" : "Save"}
        </button>
        <button
          type="button"
          class="btn btn-secondary"
          disabled={saving}
          onClick={() => void save(true)}
        >
          Save and host
        </button>
      </div>
    </form>
  );
}

function AddQuestion({
  onAdd,
  disabled,
}: {
  onAdd: (kind: QuestionKind) => void;
  disabled: boolean;
}) {
  return (
    <fieldset class="card add-question">
      <legend>Add a question</legend>
      {KINDS.map((k) => (
        <button
          key={k}
          type="button"
          class="btn btn-secondary"
          disabled={disabled}
          onClick={() => onAdd(k)}
        >
          {KIND_LABELS[k]}
        </button>
      ))}
    </fieldset>
  );
}

interface QuestionEditorProps {
  q: EditorQuestion;
  index: number;
  count: number;
  issues: GroupedIssues | null;
  /** Applies an edit to this question; `field` is the field key it touches ("*" for all of it). */
  onChange: (f: (q: EditorQuestion) => EditorQuestion, field: string) => void;
  onMove: (to: number) => void;
  onDuplicate: () => void;
  onDelete: () => void;
}

function QuestionEditor({
  q,
  index,
  count,
  issues,
  onChange,
  onMove,
  onDuplicate,
  onDelete,
}: QuestionEditorProps) {
  const id = (f: string) => `q-${q.key}-${f}`;
  const at = (f: string) => issuesAt(issues, q.key, f);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const optionIssues = at("options");
  const label = `Question ${index + 1}`;
  const whole = at("");
  const correctIssues = issuesUnder(issues, q.key, "correct");
  const tagIssues = issuesUnder(issues, q.key, "tags");
  const acceptedIssues = at("accepted");
  const multiple = q.kind === "multiple";
  const choice = q.kind !== "typed";

  return (
    <li
      class={`card question-card${issues?.questions.has(q.key) ? " has-issues" : ""}`}
      data-testid="question-card"
    >
      <div class="question-head">
        <h2 class="question-number">{label}</h2>
        <label for={id("kind")} class="visually-hidden">
          {label}: kind
        </label>
        <select
          id={id("kind")}
          value={q.kind}
          onChange={(e) => {
            const kind = e.currentTarget.value as QuestionKind;
            onChange((x) => setKind(x, kind), "*");
          }}
        >
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {KIND_LABELS[k]}
            </option>
          ))}
        </select>
        <span class="actions">
          <button
            type="button"
            class="btn btn-small btn-ghost"
            disabled={index === 0}
            onClick={() => onMove(index - 1)}
            aria-label={`Move ${label} up`}
          >
            ↑ Up
          </button>
          <button
            type="button"
            class="btn btn-small btn-ghost"
            disabled={index === count - 1}
            onClick={() => onMove(index + 1)}
            aria-label={`Move ${label} down`}
          >
            ↓ Down
          </button>
          <button
            type="button"
            class="btn btn-small btn-ghost"
            onClick={onDuplicate}
            aria-label={`Duplicate ${label}`}
          >
            Duplicate
          </button>
          {confirmDelete ? (
            <>
              <button type="button" class="btn btn-small btn-danger" onClick={onDelete}>
                Delete {label}
              </button>
              <button
                type="button"
                class="btn btn-small btn-ghost"
                onClick={() => setConfirmDelete(false)}
              >
                Keep
              </button>
            </>
          ) : (
            <button
              type="button"
              class="btn btn-small btn-ghost"
              disabled={count <= 1}
              onClick={() => setConfirmDelete(true)}
              aria-label={`Delete ${label}`}
            >
              Delete
            </button>
          )}
        </span>
      </div>
      <FieldIssues id={id("issue")} messages={[...whole, ...at("kind"), ...at("id")]} />

      <label for={id("text")}>Question</label>
      <textarea
        id={id("text")}
        rows={2}
        maxLength={1000}
        value={q.text}
        onInput={(e) => {
          const text = e.currentTarget.value;
          onChange((x) => ({ ...x, text }), "text");
        }}
        {...invalid(at("text"), id("text-issue"))}
      />
      <FieldIssues id={id("text-issue")} messages={at("text")} />
      <PictureField
        qkey={q.key}
        label={label}
        image={q.image}
        serverIssues={at("image")}
        onImage={(image) => onChange((x) => ({ ...x, image }), "image")}
      />

      {choice ? (
        <fieldset class="options-fieldset">
          <legend>
            Answers{" "}
            <span class="muted small">
              {multiple ? "(tick every correct one)" : "(choose the correct one)"}
            </span>
          </legend>
          <ul class="option-editors">
            {q.options.map((text, i) => {
              const issueId = id(`opt-${i}-issue`);
              const msgs = at(`options.${i}`);
              const inputId = id(`opt-${i}`);
              return (
                <li key={`${q.key}-${i}`} class={`option-editor ${optionClass(i)}`}>
                  <OptionShape index={i} />
                  <input
                    type={multiple ? "checkbox" : "radio"}
                    name={id("correct")}
                    id={id(`correct-${i}`)}
                    checked={q.correct.includes(i)}
                    onChange={() => onChange((x) => toggleCorrect(x, i), "correct")}
                    aria-label={`Answer ${optionLetter(i)} is correct`}
                  />
                  <label for={inputId} class="visually-hidden">
                    Answer {optionLetter(i)}
                  </label>
                  {q.kind === "true_false" ? (
                    <span id={inputId} class="option-fixed">
                      {text}
                    </span>
                  ) : (
                    <input
                      id={inputId}
                      class="option-input"
                      value={text}
                      maxLength={200}
                      placeholder={`Answer ${optionLetter(i)}`}
                      onInput={(e) => {
                        const v = e.currentTarget.value;
                        onChange((x) => setOption(x, i, v), `options.${i}`);
                      }}
                      {...invalid(msgs, issueId)}
                    />
                  )}
                  {q.kind !== "true_false" ? (
                    <button
                      type="button"
                      class="btn btn-small btn-ghost"
                      disabled={q.options.length <= LIMITS.optionsMin}
                      onClick={() => onChange((x) => removeOption(x, i), "options")}
                      aria-label={`Remove answer ${optionLetter(i)}`}
                    >
                      ✕
                    </button>
                  ) : null}
                  <FieldIssues id={issueId} messages={msgs} />
                </li>
              );
            })}
          </ul>
          {q.kind !== "true_false" ? (
            <button
              type="button"
              class="btn btn-small btn-secondary"
              disabled={q.options.length >= LIMITS.optionsMax}
              onClick={() => onChange(addOption, "options")}
            >
              Add an answer
            </button>
          ) : null}
          <FieldIssues id={id("options-issue")} messages={[...optionIssues, ...correctIssues]} />
        </fieldset>
      ) : (
        <fieldset class="options-fieldset">
          <legend>
            Accepted answers{" "}
            <span class="muted small">(case, accents and punctuation are forgiven)</span>
          </legend>
          <ul class="option-editors">
            {q.accepted.map((text, i) => {
              const issueId = id(`acc-${i}-issue`);
              const msgs = at(`accepted.${i}`);
              return (
                <li key={`${q.key}-acc-${i}`} class="option-editor">
                  <label for={id(`acc-${i}`)} class="visually-hidden">
                    Accepted answer {i + 1}
                  </label>
                  <input
                    id={id(`acc-${i}`)}
                    class="option-input"
                    value={text}
                    maxLength={200}
                    placeholder={i === 0 ? "The answer" : "Another accepted spelling"}
                    onInput={(e) => {
                      const v = e.currentTarget.value;
                      onChange((x) => setAccepted(x, i, v), `accepted.${i}`);
                    }}
                    {...invalid(msgs, issueId)}
                  />
                  <button
                    type="button"
                    class="btn btn-small btn-ghost"
                    disabled={q.accepted.length <= 1}
                    onClick={() => onChange((x) => removeAccepted(x, i), "accepted")}
                    aria-label={`Remove accepted answer ${i + 1}`}
                  >
                    ✕
                  </button>
                  <FieldIssues id={issueId} messages={msgs} />
                </li>
              );
            })}
          </ul>
          <button
            type="button"
            class="btn btn-small btn-secondary"
            disabled={q.accepted.length >= LIMITS.acceptedMax}
            onClick={() => onChange(addAccepted, "accepted")}
          >
            Add an alternative
          </button>
          <FieldIssues id={id("accepted-issue")} messages={acceptedIssues} />
        </fieldset>
      )}

      <div class="field-row">
        <div>
          <label for={id("time")}>Time limit (seconds)</label>
          <input
            id={id("time")}
            type="number"
            min={LIMITS.timeLimitMinS}
            max={LIMITS.timeLimitMaxS}
            step={1}
            value={q.timeLimitS}
            onInput={(e) => {
              const v = e.currentTarget.valueAsNumber;
              onChange((x) => ({ ...x, timeLimitS: Number.isFinite(v) ? v : 0 }), "time_limit_ms");
            }}
            {...invalid(at("time_limit_ms"), id("time-issue"))}
          />
          <FieldIssues id={id("time-issue")} messages={at("time_limit_ms")} />
        </div>
        <div>
          <label for={id("mult")}>Points</label>
          <select
            id={id("mult")}
            value={String(q.multiplier)}
            onChange={(e) => {
              const m = Number(e.currentTarget.value) as 0 | 1 | 2;
              onChange((x) => ({ ...x, multiplier: m }), "multiplier");
            }}
          >
            <option value="1">Standard</option>
            <option value="2">Double points</option>
            <option value="0">No points</option>
          </select>
          <FieldIssues id={id("mult-issue")} messages={at("multiplier")} />
        </div>
        <div>
          <label for={id("diff")}>Difficulty</label>
          <select
            id={id("diff")}
            value={q.difficulty}
            onChange={(e) => {
              const d = e.currentTarget.value as EditorQuestion["difficulty"];
              onChange((x) => ({ ...x, difficulty: d }), "difficulty");
            }}
          >
            <option value="easy">Easy</option>
            <option value="medium">Medium</option>
            <option value="hard">Hard</option>
          </select>
        </div>
      </div>
      <details class="advanced" open={at("points").length > 0 || tagIssues.length > 0}>
        <summary>More settings</summary>
        <div class="field-row">
          <div>
            <label for={id("points")}>Base points for vocabulary scoring</label>
            <input
              id={id("points")}
              type="number"
              min={0}
              max={LIMITS.pointsMax}
              step={1}
              value={q.points}
              onInput={(e) => {
                const v = e.currentTarget.valueAsNumber;
                onChange((x) => ({ ...x, points: Number.isFinite(v) ? v : 0 }), "points");
              }}
              {...invalid(at("points"), id("points-issue"))}
            />
            <FieldIssues id={id("points-issue")} messages={at("points")} />
          </div>
          <div>
            <label for={id("tags")}>Tags (comma-separated)</label>
            <input
              id={id("tags")}
              value={q.tags.join(", ")}
              onChange={(e) => {
                const tags = parseTags(e.currentTarget.value);
                onChange((x) => ({ ...x, tags }), "tags");
              }}
              {...invalid(tagIssues, id("tags-issue"))}
            />
            <FieldIssues id={id("tags-issue")} messages={tagIssues} />
          </div>
        </div>
      </details>
    </li>
  );
}
