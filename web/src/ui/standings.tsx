import { ordinal, points } from "../lib/format.js";
import type { StandingView } from "../lib/types.js";

interface LeaderboardProps {
  standings: readonly StandingView[];
  /** The viewer's own participant id, highlighted. */
  you?: string | null;
  limit?: number;
  caption?: string;
  large?: boolean;
}

/** A ranked list: rank, name (always as text), score. */
export function Leaderboard({ standings, you, limit, caption, large }: LeaderboardProps) {
  const rows = limit === undefined ? standings : standings.slice(0, limit);
  if (rows.length === 0) {
    return <p class="muted">No scores yet.</p>;
  }
  return (
    <ol
      class={`leaderboard${large ? " leaderboard-large" : ""}`}
      aria-label={caption ?? "Leaderboard"}
      data-testid="leaderboard"
    >
      {rows.map((s) => (
        <li
          key={s.participant_id}
          class={s.participant_id === you ? "lb-row lb-you" : "lb-row"}
          aria-current={s.participant_id === you ? "true" : undefined}
        >
          <span class="lb-rank">{ordinal(s.rank)}</span>
          <span class="lb-name">{s.name}</span>
          <span class="lb-score">{points(s.score)}</span>
        </li>
      ))}
    </ol>
  );
}

/**
 * The top three on steps: 2nd, 1st, 3rd from left to right, read in rank order. The steps rise
 * third → second → first (CSS; not with prefers-reduced-motion). One or two players get their
 * steps at the same width, centred, with the same medals: a small game still has a podium.
 */
export function Podium({ podium }: { podium: readonly StandingView[] }) {
  if (podium.length === 0) return <p class="muted">Nobody scored in this game.</p>;
  const byRank = [...podium].sort((a, b) => a.rank - b.rank).slice(0, 3);
  return (
    <ol class={`podium podium-of-${byRank.length}`} aria-label="Podium" data-testid="podium">
      {byRank.map((s) => (
        <li key={s.participant_id} class={`podium-step podium-${s.rank}`}>
          <span class={`podium-medal medal-${s.rank}`} aria-hidden="true">
            ★
          </span>
          <span class="podium-name">{s.name}</span>
          <span class="podium-score">{points(s.score)} points</span>
          <span class="podium-block" aria-hidden="true">
            {s.rank}
          </span>
          <span class="visually-hidden">{ordinal(s.rank)} place</span>
        </li>
      ))}
    </ol>
  );
}
