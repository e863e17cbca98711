import { describe, expect, it } from "vitest";
import { drawQuestions } from "../../src/content/question-bank.js";
import { asQuestionId } from "../../src/domain/ids.js";
import type { Question } from "../../src/domain/quiz.js";
import type { Random } from "../../src/ports/clock.js";

/** mulberry32: a small deterministic generator, so these tests cannot flake. */
function seeded(seed: number): Random {
  let s = seed >>> 0;
  const float = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { float, int: (max) => Math.floor(float() * max), token: () => "t" };
}

const pool: Question[] = Array.from({ length: 10 }, (_, i) => ({
  id: asQuestionId(`bank-${i}`),
  kind: "single",
  text: `Question ${i}`,
  options: ["a", "b"],
  correct: [0],
  accepted: [],
  timeLimitMs: 20_000,
  multiplier: 1,
  difficulty: "easy",
  tags: [],
  points: 10,
}));

function drawIds(count: number, random: Random): string[] {
  const r = drawQuestions(pool, count, random);
  if (!r.ok) throw new Error(`expected ok, available ${r.available}`);
  return r.questions.map((q) => q.id);
}

describe("drawQuestions", () => {
  it("draws the requested number of distinct questions from the pool", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const ids = drawIds(7, seeded(seed));
      expect(ids).toHaveLength(7);
      expect(new Set(ids).size).toBe(7);
      for (const id of ids) expect(pool.some((q) => q.id === id)).toBe(true);
    }
  });

  it("eventually draws every question", () => {
    const random = seeded(7);
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) for (const id of drawIds(2, random)) seen.add(id);
    expect(seen.size).toBe(pool.length);
  });

  it("draws each question about equally often, in random positions", () => {
    const random = seeded(2024);
    const first = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      const id = drawIds(3, random)[0]!;
      first.set(id, (first.get(id) ?? 0) + 1);
    }
    expect(first.size).toBe(pool.length);
    for (const n of first.values()) {
      expect(n).toBeGreaterThan(400);
      expect(n).toBeLessThan(600);
    }
  });

  it("returns a shuffled copy when asked for the whole pool and leaves the pool alone", () => {
    const before = pool.map((q) => q.id);
    const orders = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      const ids = drawIds(pool.length, seeded(seed));
      expect([...ids].sort()).toEqual([...before].sort());
      orders.add(ids.join(","));
    }
    expect(orders.size).toBeGreaterThan(1);
    expect(pool.map((q) => q.id)).toEqual(before);
  });

  it("asks the random source for a shrinking range, once per drawn question", () => {
    const bounds: number[] = [];
    const spy: Random = {
      int: (max) => {
        bounds.push(max);
        return 0;
      },
      float: () => 0,
      token: () => "",
    };
    expect(drawIds(3, spy)).toEqual(["bank-0", "bank-1", "bank-2"]);
    expect(bounds).toEqual([10, 9, 8]);
  });

  it("reports how many questions are available when the pool is too small", () => {
    expect(drawQuestions(pool, 11, seeded(1))).toEqual({ ok: false, available: 10 });
    expect(drawQuestions([], 1, seeded(1))).toEqual({ ok: false, available: 0 });
    expect(drawQuestions(pool, 0, seeded(1))).toEqual({ ok: true, questions: [] });
  });

  it("rejects a count that is not a whole number", () => {
    expect(() => drawQuestions(pool, -1, seeded(1))).toThrow(RangeError);
    expect(() => drawQuestions(pool, 1.5, seeded(1))).toThrow(RangeError);
  });
});
