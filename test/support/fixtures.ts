import { asQuestionId, asQuizId, asSessionId, asUserId } from "../../src/domain/ids.js";
import type { Question, Quiz } from "../../src/domain/quiz.js";
import {
  resolveSettings,
  type SessionMode,
  type SessionSettings,
} from "../../src/domain/session-settings.js";
import { lobbyState } from "../../src/engine/room.js";
import type { Actor } from "../../src/engine/types.js";
import type { SessionRecord } from "../../src/ports/storage.js";

/** A single-choice question whose correct option is `correct` (default 0). */
export function choiceQuestion(id: string, overrides: Partial<Question> = {}): Question {
  return {
    id: asQuestionId(id),
    kind: "single",
    text: `Question ${id}?`,
    options: ["A", "B", "C", "D"],
    correct: [0],
    accepted: [],
    timeLimitMs: 20_000,
    multiplier: 1,
    difficulty: "medium",
    tags: [],
    points: 10,
    ...overrides,
  };
}

export function typedQuestion(
  id: string,
  accepted: string[],
  overrides: Partial<Question> = {},
): Question {
  return choiceQuestion(id, { kind: "typed", options: [], correct: [], accepted, ...overrides });
}

export function quizOf(questions: Question[], id = "quiz-1"): Quiz {
  return {
    id: asQuizId(id),
    title: "Test quiz",
    description: "",
    questions,
    createdAt: 0,
    updatedAt: 0,
  };
}

export function threeQuestions(): Question[] {
  return [
    choiceQuestion("q1"),
    choiceQuestion("q2", { correct: [1] }),
    choiceQuestion("q3", { correct: [2] }),
  ];
}

export function sessionRecord(
  mode: SessionMode,
  questions: Question[],
  settings: Partial<Omit<SessionSettings, "mode">> = {},
  now = 0,
): SessionRecord {
  return {
    id: asSessionId("0190f5a8-0000-7000-8000-000000000001"),
    pin: "482913",
    quizId: asQuizId("quiz-1"),
    title: "Test quiz",
    settings: resolveSettings(mode, settings),
    questions,
    hostUserId: asUserId("host"),
    createdAt: now,
    state: lobbyState(),
  };
}

export const hostActor: Actor = { userId: asUserId("host"), roles: [], anonymous: false };

export function playerActor(name: string): Actor {
  return { userId: asUserId(`user-${name}`), roles: [], anonymous: false };
}
