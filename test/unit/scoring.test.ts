import { describe, expect, it } from "vitest";
import type { Multiplier } from "../../src/domain/quiz.js";
import { missedAnswerStreak, type ScoreInput, scoreAnswer } from "../../src/domain/scoring.js";
import { SeededRandom } from "../../src/domain/seeded-random.js";
import type { ScoringSettings } from "../../src/domain/session-settings.js";

const KAHOOT: ScoringSettings = { policy: "kahoot", streakBonus: false };
const KAHOOT_STREAK: ScoringSettings = { policy: "kahoot", streakBonus: true };
const VOCAB: ScoringSettings = { policy: "vocab" };
const latency = (alpha: number, basePoints = 1000): ScoringSettings => ({
  policy: "latency",
  basePoints,
  alpha,
});

function input(over: Partial<ScoreInput> = {}): ScoreInput {
  return {
    correct: true,
    elapsedMs: 0,
    limitMs: 10_000,
    multiplier: 1,
    basePoints: 10,
    streakBefore: 0,
    ...over,
  };
}

const points = (s: ScoringSettings, over: Partial<ScoreInput>) =>
  scoreAnswer(s, input(over)).points;

describe("kahoot", () => {
  it("S-1: full 1000 under 500 ms, then linear down to 500 at the deadline", () => {
    expect(points(KAHOOT, { elapsedMs: 0 })).toBe(1000);
    expect(points(KAHOOT, { elapsedMs: 499 })).toBe(1000);
    expect(points(KAHOOT, { elapsedMs: 500 })).toBe(975);
    expect(points(KAHOOT, { elapsedMs: 5_000 })).toBe(750);
    expect(points(KAHOOT, { elapsedMs: 10_000 })).toBe(500);
  });

  it("S-1: rounds to the nearest whole point", () => {
    // (1 − 0.025/2) × 1000 = 987.5 → 988
    expect(points(KAHOOT, { elapsedMs: 500, limitMs: 20_000 })).toBe(988);
  });

  it("S-1: t is clamped to [0, T]", () => {
    expect(points(KAHOOT, { elapsedMs: -3_000 })).toBe(1000);
    expect(points(KAHOOT, { elapsedMs: 25_000 })).toBe(500);
  });

  it("S-1: the multiplier scales the score; 0× scores nothing", () => {
    expect(points(KAHOOT, { elapsedMs: 0, multiplier: 2 })).toBe(2000);
    expect(points(KAHOOT, { elapsedMs: 7_000, multiplier: 2 })).toBe(1300);
    expect(points(KAHOOT, { elapsedMs: 0, multiplier: 0 })).toBe(0);
  });

  it("S-1: a wrong answer scores 0", () => {
    expect(points(KAHOOT, { correct: false, elapsedMs: 0 })).toBe(0);
    expect(points(KAHOOT_STREAK, { correct: false, elapsedMs: 0, streakBefore: 4 })).toBe(0);
  });

  it("S-2: the streak bonus grows by 100 per consecutive correct answer, capped at 500", () => {
    let streak = 0;
    const bonuses: number[] = [];
    const totals: number[] = [];
    for (let i = 0; i < 8; i++) {
      const out = scoreAnswer(KAHOOT_STREAK, input({ elapsedMs: 10_000, streakBefore: streak }));
      bonuses.push(out.bonus);
      totals.push(out.points);
      streak = out.streakAfter;
    }
    expect(bonuses).toEqual([0, 100, 200, 300, 400, 500, 500, 500]);
    expect(totals).toEqual([500, 600, 700, 800, 900, 1000, 1000, 1000]);
    expect(streak).toBe(8);
  });

  it("S-2: a wrong answer resets the streak and the next correct one starts again at 0", () => {
    const wrong = scoreAnswer(KAHOOT_STREAK, input({ correct: false, streakBefore: 5 }));
    expect(wrong).toEqual({ points: 0, bonus: 0, streakAfter: 0 });
    const next = scoreAnswer(KAHOOT_STREAK, input({ elapsedMs: 10_000, streakBefore: 0 }));
    expect(next).toEqual({ points: 500, bonus: 0, streakAfter: 1 });
  });

  it("S-2: a missing answer resets the streak", () => {
    expect(missedAnswerStreak(4, 1)).toBe(0);
    expect(missedAnswerStreak(4, 2)).toBe(0);
  });

  it("S-2: a 0× question scores 0 and leaves the streak as it was", () => {
    const right = scoreAnswer(KAHOOT_STREAK, input({ multiplier: 0, streakBefore: 3 }));
    expect(right).toEqual({ points: 0, bonus: 0, streakAfter: 3 });
    const wrong = scoreAnswer(
      KAHOOT_STREAK,
      input({ correct: false, multiplier: 0, streakBefore: 3 }),
    );
    expect(wrong).toEqual({ points: 0, bonus: 0, streakAfter: 3 });
    expect(missedAnswerStreak(3, 0)).toBe(3);
  });

  it("S-2: the bonus is added on top of S-1 and is not multiplied", () => {
    const out = scoreAnswer(
      KAHOOT_STREAK,
      input({ elapsedMs: 10_000, multiplier: 2, streakBefore: 3 }),
    );
    expect(out).toEqual({ points: 1300, bonus: 300, streakAfter: 4 });
  });

  it("S-2: without streak_bonus the streak is still counted but earns nothing", () => {
    const out = scoreAnswer(KAHOOT, input({ elapsedMs: 10_000, streakBefore: 4 }));
    expect(out).toEqual({ points: 500, bonus: 0, streakAfter: 5 });
  });
});

describe("latency", () => {
  it("S-3: α = 1 is linear from P_base to 0", () => {
    expect(points(latency(1), { elapsedMs: 0 })).toBe(1000);
    expect(points(latency(1), { elapsedMs: 2_500 })).toBe(750);
    expect(points(latency(1), { elapsedMs: 5_000 })).toBe(500);
    expect(points(latency(1), { elapsedMs: 10_000 })).toBe(0);
  });

  it("S-3: α = 0.8 and α = 1.5 bend the curve", () => {
    expect(points(latency(0.8), { elapsedMs: 5_000 })).toBe(426);
    expect(points(latency(0.8), { elapsedMs: 9_000 })).toBe(81);
    expect(points(latency(1.5), { elapsedMs: 5_000 })).toBe(646);
    expect(points(latency(1.5), { elapsedMs: 2_500 })).toBe(875);
  });

  it("S-3: has no full-points window and clamps t to [0, T]", () => {
    expect(points(latency(1), { elapsedMs: 400 })).toBe(960);
    expect(points(latency(1), { elapsedMs: -100 })).toBe(1000);
    expect(points(latency(1), { elapsedMs: 20_000 })).toBe(0);
  });

  it("S-3: P_base and the multiplier scale the score; wrong scores 0", () => {
    expect(points(latency(1, 250), { elapsedMs: 5_000 })).toBe(125);
    expect(points(latency(1), { elapsedMs: 2_500, multiplier: 2 })).toBe(1500);
    expect(points(latency(1), { elapsedMs: 0, multiplier: 0 })).toBe(0);
    expect(points(latency(1), { elapsedMs: 0, correct: false })).toBe(0);
  });

  it("S-3: an α outside [0.8, 1.5] is held to the range", () => {
    expect(points(latency(5), { elapsedMs: 5_000 })).toBe(646);
    expect(points(latency(0.1), { elapsedMs: 5_000 })).toBe(426);
    expect(points(latency(Number.NaN), { elapsedMs: 5_000 })).toBe(500);
  });

  it("S-2: the streak is tracked but never adds a bonus", () => {
    const out = scoreAnswer(latency(1), input({ elapsedMs: 5_000, streakBefore: 4 }));
    expect(out).toEqual({ points: 500, bonus: 0, streakAfter: 5 });
  });
});

describe("vocab", () => {
  it("S-4: p + max(0, 5 − floor(t / 2000)) with p = 10", () => {
    const at = (elapsedMs: number) => points(VOCAB, { elapsedMs, limitMs: 60_000 });
    expect(at(0)).toBe(15);
    expect(at(1_999)).toBe(15);
    expect(at(2_000)).toBe(14);
    expect(at(9_999)).toBe(11);
    expect(at(10_000)).toBe(10);
    expect(at(60_000)).toBe(10);
  });

  it("S-4: uses the question's points and the multiplier", () => {
    expect(points(VOCAB, { basePoints: 20, elapsedMs: 0 })).toBe(25);
    expect(points(VOCAB, { basePoints: 20, elapsedMs: 4_000 })).toBe(23);
    expect(points(VOCAB, { basePoints: 10, elapsedMs: 0, multiplier: 2 })).toBe(30);
    expect(points(VOCAB, { basePoints: 10, elapsedMs: 0, multiplier: 0 })).toBe(0);
  });

  it("S-4: uses the raw time, not t clamped to T", () => {
    // Clamped to T = 4000 it would be 10 + 3; raw 9999 ms gives 10 + 1.
    expect(points(VOCAB, { elapsedMs: 9_999, limitMs: 4_000 })).toBe(11);
    expect(points(VOCAB, { elapsedMs: -5_000 })).toBe(15);
  });

  it("S-4: a wrong answer scores 0 and resets the streak", () => {
    expect(scoreAnswer(VOCAB, input({ correct: false, streakBefore: 2 }))).toEqual({
      points: 0,
      bonus: 0,
      streakAfter: 0,
    });
  });
});

describe("bad numbers", () => {
  it("S-6: a NaN time counts as the slowest answer", () => {
    expect(points(KAHOOT, { elapsedMs: Number.NaN })).toBe(500);
    expect(points(latency(1), { elapsedMs: Number.NaN })).toBe(0);
    expect(points(VOCAB, { elapsedMs: Number.NaN })).toBe(10);
  });

  it("S-6: negative or NaN amounts never give negative or NaN points", () => {
    expect(points(VOCAB, { basePoints: -50, elapsedMs: 0 })).toBe(5);
    expect(points(VOCAB, { basePoints: Number.NaN, elapsedMs: 0 })).toBe(5);
    expect(points(latency(1, -1000), { elapsedMs: 0 })).toBe(0);
    expect(points(KAHOOT, { limitMs: Number.NaN, elapsedMs: 3_000 })).toBe(1000);
    const out = scoreAnswer(KAHOOT_STREAK, input({ streakBefore: Number.NaN }));
    expect(out).toEqual({ points: 1000, bonus: 0, streakAfter: 1 });
    expect(scoreAnswer(KAHOOT_STREAK, input({ streakBefore: -7 })).bonus).toBe(0);
    expect(missedAnswerStreak(Number.NaN, 0)).toBe(0);
  });

  it("S-6: every policy gives whole, non-negative points for any input (seeded)", () => {
    const r = new SeededRandom(6);
    const pick = <T>(xs: readonly T[]): T => xs[r.int(xs.length)]!;
    const odd = [Number.NaN, -1, 0, Number.POSITIVE_INFINITY, -Number.MAX_VALUE];
    const num = (scale: number) => (r.int(10) === 0 ? pick(odd) : r.float() * scale);
    const policies: ScoringSettings[] = [
      KAHOOT,
      KAHOOT_STREAK,
      VOCAB,
      latency(0.8),
      latency(1.5),
      latency(num(2), num(5000)),
    ];
    for (let i = 0; i < 5_000; i++) {
      const s = pick(policies);
      const out = scoreAnswer(s, {
        correct: r.int(4) !== 0,
        elapsedMs: num(30_000),
        limitMs: num(30_000),
        multiplier: pick([0, 1, 2] as const) satisfies Multiplier,
        basePoints: num(100),
        streakBefore: num(10),
      });
      expect(Number.isInteger(out.points), JSON.stringify(out)).toBe(true);
      expect(out.points).toBeGreaterThanOrEqual(0);
      expect(out.bonus).toBeLessThanOrEqual(out.points);
      expect(Number.isInteger(out.streakAfter) && out.streakAfter >= 0).toBe(true);
    }
  });
});
