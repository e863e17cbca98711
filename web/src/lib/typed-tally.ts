/**
 * What a typed-answer reveal shows: how many got it right, and the answers people gave most
 * often (spellings that differ only in case and spacing count as one). Pure, from the session's
 * results (GET /api/v1/sessions/{id}/results, which the host may read while the game runs).
 */
import type { ResultsView } from "../../../src/doors/schemas/results.js";

export interface TypedAnswerCount {
  /** The spelling most of its group used (the first seen on a tie). */
  text: string;
  count: number;
  correct: boolean;
}

export interface TypedTally {
  answered: number;
  right: number;
  /** Most common first; at most `limit`. */
  top: TypedAnswerCount[];
}

const key = (text: string) => text.trim().replace(/\s+/g, " ").toLocaleLowerCase();

export function typedTally(results: ResultsView, questionIndex: number, limit = 5): TypedTally {
  const groups = new Map<
    string,
    { spellings: Map<string, number>; count: number; correct: boolean }
  >();
  let answered = 0;
  let right = 0;
  for (const p of results.players) {
    const a = p.answers.find((x) => x.question_index === questionIndex);
    if (!a?.answered || a.answer === null) continue;
    answered++;
    if (a.correct) right++;
    const k = key(a.answer);
    if (k === "") continue;
    const g = groups.get(k) ?? { spellings: new Map<string, number>(), count: 0, correct: false };
    g.count++;
    g.correct ||= a.correct;
    const spelling = a.answer.trim();
    g.spellings.set(spelling, (g.spellings.get(spelling) ?? 0) + 1);
    groups.set(k, g);
  }
  const top = [...groups.values()]
    .map((g) => {
      let text = "";
      let most = 0;
      for (const [s, n] of g.spellings) {
        if (n > most) {
          text = s;
          most = n;
        }
      }
      return { text, count: g.count, correct: g.correct };
    })
    .sort((a, b) => b.count - a.count || a.text.localeCompare(b.text))
    .slice(0, limit);
  return { answered, right, top };
}
