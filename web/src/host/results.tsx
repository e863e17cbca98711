import { useEffect, useState } from "preact/hooks";
import type { ResultsView } from "../../../src/doors/schemas/results.js";
import { api } from "../lib/api.js";
import { errorText } from "../lib/error-text.js";
import { ordinal, points } from "../lib/format.js";
import { type TypedTally, typedTally } from "../lib/typed-tally.js";
import { ErrorBox, Loading } from "../ui/misc.js";

export type { ResultsView };

/** GET /api/v1/sessions/{id}/results once `ready` (the game has ended). */
export function useResults(
  sessionId: string,
  ready: boolean,
): { results: ResultsView | null; error: string | null } {
  const [results, setResults] = useState<ResultsView | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!ready) return;
    let live = true;
    api<ResultsView>(`/api/v1/sessions/${encodeURIComponent(sessionId)}/results`)
      .then((r) => live && setResults(r))
      .catch((e: unknown) => live && setError(errorText(e)));
    return () => {
      live = false;
    };
  }, [sessionId, ready]);
  return { results, error };
}

/**
 * The host's tally of a typed question at its reveal: read from the results (which the host may
 * read while the game runs, with its host token), since the reveal itself counts options only.
 * Null until loaded, and when it cannot be read (the reveal then says how many answered).
 */
export function useTypedTally(
  sessionId: string,
  questionIndex: number | null,
  token: string | null,
): TypedTally | null {
  const [tally, setTally] = useState<TypedTally | null>(null);
  useEffect(() => {
    setTally(null);
    if (questionIndex === null) return;
    let live = true;
    api<ResultsView>(`/api/v1/sessions/${encodeURIComponent(sessionId)}/results`, {
      ...(token ? { token } : {}),
    })
      .then((r) => live && setTally(typedTally(r, questionIndex)))
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [sessionId, questionIndex, token]);
  return tally;
}

export function csvUrl(sessionId: string): string {
  return `/api/v1/sessions/${encodeURIComponent(sessionId)}/results.csv`;
}

export function xlsxUrl(sessionId: string): string {
  return `/api/v1/sessions/${encodeURIComponent(sessionId)}/results.xlsx`;
}

/** "2.4 s": an average answer time as people read it. */
function seconds(ms: number | null): string {
  return ms === null ? "—" : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Every player's every answer: rank, name, score, correct count, average time, then a mark per
 * question. Wide games scroll inside the table (names stay in view), never the page.
 */
export function ResultsTable({ sessionId, ready }: { sessionId: string; ready: boolean }) {
  const { results, error } = useResults(sessionId, ready);
  if (error) return <ErrorBox>Could not load the full results. {error}</ErrorBox>;
  if (!results) return <Loading text="Loading the full results…" />;
  const qs = results.questions;
  return (
    <section class="results" aria-labelledby="results-title">
      <div class="results-head">
        <h2 id="results-title">Full results</h2>
        <span class="actions">
          <a class="btn btn-secondary" href={csvUrl(sessionId)} download data-testid="results-csv">
            Download results (CSV)
          </a>
          <a
            class="btn btn-secondary"
            href={xlsxUrl(sessionId)}
            download
            data-testid="results-xlsx"
          >
            Excel (.xlsx)
          </a>
        </span>
      </div>
      {results.players.length === 0 ? (
        <p class="muted">Nobody played.</p>
      ) : (
        <div class="table-scroll" data-testid="results-scroll">
          <table class="results-table" data-testid="results-table">
            <thead>
              <tr>
                <th scope="col">Rank</th>
                <th scope="col">Player</th>
                <th scope="col">Score</th>
                <th scope="col">Correct</th>
                <th scope="col">Avg. time</th>
                {qs.map((q) => (
                  <th scope="col" key={q.id} title={q.text} class="q-col">
                    Q{q.index + 1}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {results.players.map((p) => {
                return (
                  <tr key={p.participant_id}>
                    <td>{p.rank === null ? "—" : ordinal(p.rank)}</td>
                    <th scope="row">
                      {p.name}
                      {p.status === "kicked" ? <span class="muted small"> (removed)</span> : null}
                    </th>
                    <td>{points(p.score)}</td>
                    <td>
                      {p.correct_count}/{qs.length}
                    </td>
                    <td>{seconds(p.average_time_ms)}</td>
                    {qs.map((q) => {
                      const a = p.answers.find((x) => x.question_index === q.index);
                      const mark = !a?.answered ? "–" : a.correct ? "✓" : "✗";
                      const words = !a?.answered
                        ? "no answer"
                        : a.correct
                          ? `right, ${a.points} points`
                          : `wrong: ${a.answer ?? ""}`;
                      return (
                        <td
                          key={q.id}
                          class={`q-col ${
                            !a?.answered ? "cell-none" : a.correct ? "cell-right" : "cell-wrong"
                          }`}
                          title={words}
                        >
                          <span aria-hidden="true">{mark}</span>
                          <span class="visually-hidden">{words}</span>
                        </td>
                      );
                    })}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
