import { exhaustive } from "./phase.js";
import type { Multiplier } from "./quiz.js";
import type { ScoringSettings } from "./session-settings.js";

/** Everything a scoring policy needs to score one answer (docs/rules.md S-1..S-6). */
export interface ScoreInput {
  correct: boolean;
  /** Server-measured answer time `t` (S-5). */
  elapsedMs: number;
  /** The question's effective time limit `T` (T-1). */
  limitMs: number;
  multiplier: Multiplier;
  /** The question's `points`, used by the vocab policy (S-4). */
  basePoints: number;
  /** Consecutive correct answers before this one (S-2). */
  streakBefore: number;
}

export interface ScoreOutcome {
  /** Whole points awarded for this answer, streak bonus included (S-6). */
  points: number;
  /** The part of `points` that is streak bonus (S-2); 0 unless kahoot with `streakBonus`. */
  bonus: number;
  /** The streak to carry into the next question. */
  streakAfter: number;
}

/** Kahoot's full-points window (S-1). */
const KAHOOT_FULL_MS = 500;
const KAHOOT_MAX = 1000;
const STREAK_STEP = 100;
const STREAK_CAP = 500;
const VOCAB_BONUS_MAX = 5;
const VOCAB_BONUS_STEP_MS = 2000;
const LATENCY_ALPHA_DEFAULT = 1;
const LATENCY_ALPHA_MIN = 0.8;
const LATENCY_ALPHA_MAX = 1.5;

/**
 * Scores one answer under the session's policy.
 *
 * - kahoot (S-1, S-2): `round((1 − (t/T)/2) × 1000 × m)`, full `1000 × m` when `t < 500`, plus
 *   `min(100 × k, 500)` for the k-th consecutive correct answer when `streakBonus` is on.
 * - latency (S-3): `round(P_base × m × max(0, 1 − (t/T)^α))`.
 * - vocab (S-4): `(p + max(0, 5 − floor(t / 2000))) × m`.
 *
 * The streak is tracked for every policy: a correct answer increments it, a wrong one resets
 * it, and a 0× question leaves it as it was. Defensive on bad numbers: a NaN time counts as the
 * slowest possible answer, negative or NaN amounts count as 0, so points are never negative or NaN.
 */
export function scoreAnswer(settings: ScoringSettings, input: ScoreInput): ScoreOutcome {
  const m = sanitiseMultiplier(input.multiplier);
  const streakBefore = nonNegativeInt(input.streakBefore);
  if (m === 0) return { points: 0, bonus: 0, streakAfter: streakBefore };
  if (!input.correct) return { points: 0, bonus: 0, streakAfter: 0 };

  const streakAfter = streakBefore + 1;
  switch (settings.policy) {
    case "kahoot": {
      const base = kahootPoints(input.elapsedMs, input.limitMs, m);
      const bonus = settings.streakBonus ? Math.min(STREAK_STEP * streakBefore, STREAK_CAP) : 0;
      return { points: base + bonus, bonus, streakAfter };
    }
    case "latency":
      return {
        points: latencyPoints(settings.basePoints, settings.alpha, input, m),
        bonus: 0,
        streakAfter,
      };
    case "vocab":
      return { points: vocabPoints(input.basePoints, input.elapsedMs, m), bonus: 0, streakAfter };
    default:
      return exhaustive(settings);
  }
}

/**
 * The streak after a question the player did not answer: reset to 0 (S-2), except that a 0×
 * question leaves it unchanged.
 */
export function missedAnswerStreak(streakBefore: number, multiplier: Multiplier): number {
  return sanitiseMultiplier(multiplier) === 0 ? nonNegativeInt(streakBefore) : 0;
}

function kahootPoints(elapsedMs: number, limitMs: number, m: number): number {
  const { t, fraction } = clampTime(elapsedMs, limitMs);
  if (t < KAHOOT_FULL_MS) return KAHOOT_MAX * m;
  return Math.round((1 - fraction / 2) * KAHOOT_MAX * m);
}

function latencyPoints(basePoints: number, alpha: number, input: ScoreInput, m: number): number {
  const base = nonNegative(basePoints);
  const a = Number.isNaN(alpha)
    ? LATENCY_ALPHA_DEFAULT
    : Math.min(Math.max(alpha, LATENCY_ALPHA_MIN), LATENCY_ALPHA_MAX);
  const { fraction } = clampTime(input.elapsedMs, input.limitMs);
  return Math.round(base * m * Math.max(0, 1 - fraction ** a));
}

function vocabPoints(questionPoints: number, elapsedMs: number, m: number): number {
  const p = nonNegative(questionPoints);
  // A NaN time earns no speed bonus; a negative one counts as 0 (the fastest).
  const speedBonus = Number.isNaN(elapsedMs)
    ? 0
    : Math.max(0, VOCAB_BONUS_MAX - Math.floor(Math.max(0, elapsedMs) / VOCAB_BONUS_STEP_MS));
  return Math.round((p + speedBonus) * m);
}

/**
 * `t` clamped to `[0, T]` and `t / T` in `[0, 1]`. A NaN time counts as `T`; a limit that is not
 * a positive number leaves no time to measure, so every answer is at `t = 0`.
 */
function clampTime(elapsedMs: number, limitMs: number): { t: number; fraction: number } {
  const limit = limitMs > 0 && Number.isFinite(limitMs) ? limitMs : 0;
  if (limit === 0) return { t: 0, fraction: 0 };
  const raw = Number.isNaN(elapsedMs) ? limit : elapsedMs;
  const t = Math.min(Math.max(raw, 0), limit);
  return { t, fraction: t / limit };
}

function sanitiseMultiplier(m: number): number {
  return m > 0 && Number.isFinite(m) ? m : 0;
}

function nonNegative(n: number): number {
  return n > 0 && Number.isFinite(n) ? n : 0;
}

function nonNegativeInt(n: number): number {
  return n > 0 && Number.isFinite(n) ? Math.floor(n) : 0;
}
