/**
 * Where a player stands, in one line for the phone's result screen:
 * "2nd place, 120 points behind Ana". Pure, so it is unit-tested in node.
 */
import { ordinal, points } from "./format.js";
import type { StandingView } from "./types.js";

/** The player's place in words, measured against the player just above (or just below, when first). */
export function standingLine(
  leaderboard: readonly StandingView[],
  you: { participant_id: string; rank: number | null; score: number },
  totalPlayers: number | null,
): string {
  const rank = you.rank;
  if (rank === null) return "";
  const place = `${ordinal(rank)} place`;
  const alone = totalPlayers === 1 || leaderboard.length === 1;
  if (alone) return `${place} — the only player`;
  const above = leaderboard.find((s) => s.rank === rank - 1);
  if (rank > 1 && above) {
    const gap = above.score - you.score;
    return gap === 0
      ? `${place}, level on points with ${above.name} (who got there first)`
      : `${place}, ${points(gap)} ${gap === 1 ? "point" : "points"} behind ${above.name}`;
  }
  const below = leaderboard.find((s) => s.rank === rank + 1);
  if (rank === 1 && below) {
    const lead = you.score - below.score;
    return lead === 0
      ? `${place}, level on points with ${below.name}`
      : `${place}, ${points(lead)} ${lead === 1 ? "point" : "points"} ahead of ${below.name}`;
  }
  return totalPlayers ? `${place} of ${totalPlayers}` : place;
}
