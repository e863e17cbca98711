import { describe, expect, it } from "vitest";
import { runsOf } from "../../src/adapters/sql/sql-storage.js";
import type { SessionWrite } from "../../src/ports/storage.js";
import { playedSession, T0 } from "../support/stored-session.js";

const [created, joined, state, answered] = playedSession("s1") as [
  SessionWrite,
  SessionWrite,
  SessionWrite,
  Extract<SessionWrite, { kind: "answer_put" }>,
];

/** Ann's answer to question `q`, and the question served to her after it. */
function answer(q: number): SessionWrite {
  return { ...answered, answer: { ...answered.answer, questionIndex: q } };
}
function served(q: number): SessionWrite {
  return {
    kind: "served_put",
    served: {
      sessionId: answered.answer.sessionId,
      participantId: answered.answer.participantId,
      questionIndex: q,
      servedAt: T0 + q,
    },
  };
}

const shape = (batch: SessionWrite[]) => runsOf(batch).map((r) => [r.kind, r.writes]);

describe("runsOf", () => {
  it("cuts consecutive writes of one kind into one run, in order", () => {
    expect(shape([created, joined, joined, state])).toEqual([
      ["session_created", [created]],
      ["participant_put", [joined, joined]],
      ["session_state", [state]],
    ]);
  });

  it("makes one run per kind of a stretch of answers and served questions, each in order", () => {
    const batch = [answer(0), served(1), answer(1), served(2), answer(2)];
    expect(shape(batch)).toEqual([
      ["answer_put", [answer(0), answer(1), answer(2)]],
      ["served_put", [served(1), served(2)]],
    ]);
  });

  it("does not carry an answer across a write of another kind (a participant's row, which its score also writes)", () => {
    const batch = [answer(0), served(1), joined, answer(1), served(2)];
    expect(shape(batch)).toEqual([
      ["answer_put", [answer(0)]],
      ["served_put", [served(1)]],
      ["participant_put", [joined]],
      ["answer_put", [answer(1)]],
      ["served_put", [served(2)]],
    ]);
  });
});
