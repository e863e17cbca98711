import type { Question } from "../domain/quiz.js";
import type { Random } from "../ports/clock.js";

export type DrawResult = { ok: true; questions: Question[] } | { ok: false; available: number };

/**
 * Draws `count` distinct questions from `pool`, uniformly at random and in a
 * random order (a partial Fisher–Yates shuffle of a copy; `pool` is not
 * changed). When the pool holds fewer than `count` questions the result says
 * how many there are. `count` must be a whole number ≥ 0.
 */
export function drawQuestions(
  pool: readonly Question[],
  count: number,
  random: Random,
): DrawResult {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`count must be a whole number >= 0, got ${count}`);
  }
  if (count > pool.length) return { ok: false, available: pool.length };
  const copy = pool.slice();
  for (let i = 0; i < count; i++) {
    const j = i + random.int(copy.length - i);
    const picked = copy[j]!;
    copy[j] = copy[i]!;
    copy[i] = picked;
  }
  copy.length = count;
  return { ok: true, questions: copy };
}
