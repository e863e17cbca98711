/**
 * The storage contract: what every `Storage` adapter (SQLite, Postgres, memory) must do. An
 * adapter's test file calls `runStorageContract` with a function that opens a fresh, empty
 * storage for each test.
 *
 * Its clauses, one promise each. A test's name starts with the clauses it holds, so a failure
 * names the promise broken; test/unit/rule-ids.test.ts checks that every clause has a test and
 * that no test names a clause not listed here.
 *
 * Storage
 *   ST-1    `ping` resolves while the database is reachable.
 *   ST-2    Everything written survives closing and reopening the database.
 * QuizStore
 *   ST-Q1   `get` returns what `put` stored: every field, every question field, question order.
 *   ST-Q2   `get` of an unknown id is undefined.
 *   ST-Q3   `put` of an existing id replaces the quiz and all its questions.
 *   ST-Q4   `list` gives summaries sorted by title, with their question counts.
 *   ST-Q5   `delete` resolves whether a quiz went and takes its questions along.
 *   ST-Q6   A session keeps its own questions when its quiz is deleted.
 * QuestionBankStore
 *   ST-B1   An empty bank lists nothing and counts zero for every difficulty.
 *   ST-B2   `list` gives what `put` stored, by difficulty too; `countByDifficulty` counts it.
 *   ST-B3   `put` replaces questions by id and adds the others.
 *   ST-B4   `put` of nothing changes nothing.
 * MetaStore
 *   ST-M1   `get` gives what the last `set` of a key stored (the empty string too), else undefined.
 *   ST-M2   `setIfAbsent` stores a value only when the key has none and resolves with the stored
 *           one: callers racing on one key all get the first value.
 * ImageStore
 *   ST-I1   `images.get` gives the bytes, type and time `put` stored, else undefined.
 *   ST-I2   `put` of an id already stored keeps the first; `existing` names the stored ids asked for.
 * SessionStore
 *   ST-S1   `write` of an empty batch resolves.
 *   ST-S2   `load` of an unknown session is undefined.
 *   ST-S3   session_created round-trips the record, with the settings of every mode and policy.
 *   ST-S4   session_state replaces the state: every phase, flags, epoch, seq, recent replies.
 *   ST-S5   participant_put inserts and replaces; participants load in join order.
 *   ST-S6   A session has at most one participant per user.
 *   ST-S7   answer_put stores the answer, its message identity included, and sets the score.
 *   ST-S8   answer_put on the same participant and question replaces the answer.
 *   ST-S9   Answers load in seq order, whatever order they were written in.
 *   ST-S10  The writes of a batch apply in order.
 *   ST-S11  A batch is atomic: when one write fails, none of it is applied.
 *   ST-S12  A write naming an unknown session, or a participant outside its session, rejects.
 *   ST-S13  served_put stores when a question was served; a second put replaces it.
 *   ST-S14  ban_put stores a ban; a second ban of the same user replaces it.
 *   ST-S15  standings_put sets final scores and ranks; standings load in rank order.
 *   ST-S16  `listOpen` lists the sessions that have not ended, oldest first.
 *   ST-S17  `list` gives summaries newest first, counting players only, ended ones on request.
 *   ST-S18  A PIN is unique among open sessions; once its session ended it may be used again.
 *   ST-S19  `claim` moves a session's epoch only from the epoch it names (compare-and-set).
 *   ST-S20  A batch for a session stored at a higher epoch than its fence is refused whole
 *           (a batch of answers alone too: Postgres stores those in one statement).
 *   ST-S21  `load` returns a session's whole bundle, and only that session's.
 *   ST-S22  Large batches round-trip (2,000 answers across 1,000 participants).
 *   ST-S23  `purgeEnded` deletes the answers, served questions and bans of sessions ended before
 *           its details cutoff and whole sessions ended before its sessions cutoff; nothing else.
 *   ST-S24  `userData` gives every session that concerns a user: membership, answers, bans, hosting.
 *   ST-S25  `eraseUser` removes a user from ended sessions only and leaves everyone else's data.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  asParticipantId,
  asQuizId,
  asSessionId,
  asUserId,
  type ParticipantId,
} from "../../src/domain/ids.js";
import type { Phase } from "../../src/domain/phase.js";
import type { AnswerValue, Question, Quiz } from "../../src/domain/quiz.js";
import { resolveSettings, type SessionSettings } from "../../src/domain/session-settings.js";
import {
  type AnswerRecord,
  type BanRecord,
  FencedError,
  type ParticipantRecord,
  type ServedRecord,
  type SessionRecord,
  type SessionStateRecord,
  type SessionWrite,
  type StandingRecord,
  type Storage,
} from "../../src/ports/storage.js";
import { choiceQuestion as question } from "../support/fixtures.js";

/**
 * Opens the database behind `closed` (already closed by the suite) again, for the tests that
 * check that data survives a restart.
 */
export type ReopenStorage = (closed: Storage) => Promise<Storage>;

// ---------------------------------------------------------------------------------------------
// Fixtures

const T0 = 1_700_000_000_000; // epoch ms beyond 32 bits
const UNICODE = 'Ünïcödé e\u0301 東京 🚀 مرحبا — ‘quotes’ "dq" back\\slash\nnew line\ttab';

/** One question of every kind, with every field away from its usual value somewhere. */
function variedQuestions(): Question[] {
  return [
    question("q-single", {
      text: UNICODE,
      options: ["Ä", "🚀", "", " spaced "],
      tags: ["géo"],
      image: `/api/v1/images/${"a".repeat(64)}`,
    }),
    question("q-multiple", {
      kind: "multiple",
      correct: [0, 2, 3],
      multiplier: 2,
      difficulty: "hard",
      tags: ["a", "b", "c"],
      timeLimitMs: 600_000,
    }),
    question("q-tf", {
      kind: "true_false",
      options: ["True", "False"],
      correct: [1],
      multiplier: 0,
      difficulty: "easy",
      points: 0,
    }),
    question("q-typed", {
      kind: "typed",
      options: [],
      correct: [],
      accepted: ["Zürich", "Zurich", UNICODE],
      timeLimitMs: 1_000,
      points: 10_000,
      image: "https://example.org/zürich.png?w=800&h=600",
    }),
  ];
}

function quiz(id: string, overrides: Partial<Quiz> = {}): Quiz {
  return {
    id: asQuizId(id),
    title: `Quiz ${id}`,
    description: "",
    questions: [question(`${id}-1`), question(`${id}-2`)],
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

function state(phase: Phase, overrides: Partial<SessionStateRecord> = {}): SessionStateRecord {
  return { phase, locked: false, epoch: 1, seq: 0, startedAt: null, endedAt: null, ...overrides };
}

const ENDED: Phase = { kind: "ended", reason: "finished", at: T0 + 60_000 };

function endedState(): SessionStateRecord {
  return state(ENDED, { seq: 99, startedAt: T0 + 1_000, endedAt: T0 + 60_000 });
}

function session(id: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: asSessionId(id),
    pin: "482913",
    quizId: asQuizId("quiz-1"),
    title: `Session ${id}`,
    settings: resolveSettings("live"),
    questions: variedQuestions(),
    hostUserId: asUserId("host-user"),
    createdAt: T0,
    state: state({ kind: "lobby" }),
    ...overrides,
  };
}

function participant(
  sessionId: string,
  n: number,
  overrides: Partial<ParticipantRecord> = {},
): ParticipantRecord {
  return {
    id: asParticipantId(`${sessionId}/p${n}`),
    sessionId: asSessionId(sessionId),
    userId: asUserId(`user-${n}`),
    name: `Player ${n}`,
    role: "player",
    joinOrder: n,
    joinedAt: T0 + n,
    status: "active",
    resumeTokenHash: "ab".repeat(32),
    score: 0,
    kickReason: null,
    ...overrides,
  };
}

function answer(
  p: ParticipantRecord,
  questionIndex: number,
  seq: number,
  overrides: Partial<AnswerRecord> = {},
): AnswerRecord {
  return {
    sessionId: p.sessionId,
    participantId: p.id,
    questionIndex,
    questionId: `q${questionIndex}`,
    answer: { kind: "choice", index: 1 },
    correct: true,
    points: 500,
    elapsedMs: 1_234,
    receivedAt: T0 + 10_000 + seq,
    seq,
    ...overrides,
  };
}

const created = (s: SessionRecord): SessionWrite => ({ kind: "session_created", session: s });
const joined = (p: ParticipantRecord): SessionWrite => ({
  kind: "participant_put",
  participant: p,
});
const answered = (a: AnswerRecord, participantScore: number): SessionWrite => ({
  kind: "answer_put",
  answer: a,
  participantScore,
});
const stateOf = (id: string, s: SessionStateRecord): SessionWrite => ({
  kind: "session_state",
  sessionId: asSessionId(id),
  state: s,
});

function byKey<T>(key: (t: T) => string): (a: T, b: T) => number {
  return (a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------

/**
 * Registers the contract tests for one adapter. `open` must resolve to a new, empty storage
 * each time; the suite closes it after each test. With `reopen`, the suite also checks that
 * everything written survives closing and reopening the same database.
 */
export function runStorageContract(
  name: string,
  open: () => Promise<Storage>,
  reopen?: ReopenStorage,
): void {
  describe(`storage contract: ${name}`, () => {
    let storage: Storage;

    beforeEach(async () => {
      storage = await open();
    });

    afterEach(async () => {
      await storage.close();
    });

    async function load(id: string) {
      const bundle = await storage.sessions.load(asSessionId(id));
      if (bundle === undefined) throw new Error(`session ${id} did not load`);
      return bundle;
    }

    async function scoreOf(sessionId: string, id: ParticipantId): Promise<number | undefined> {
      return (await load(sessionId)).participants.find((p) => p.id === id)?.score;
    }

    /** Sessions s1 and s2 (a PIN of its own), `members` joined to s1: answers can then name the wrong session. */
    async function twoSessionsWith(...members: ParticipantRecord[]): Promise<void> {
      await storage.sessions.write([
        created(session("s1")),
        created(session("s2", { pin: "246801" })),
        ...members.map((m) => joined(m)),
      ]);
    }

    it("ST-1: ping resolves", async () => {
      await expect(storage.ping()).resolves.toBeUndefined();
    });

    describe("quizzes", () => {
      it("ST-Q1: get returns what put stored, every question field and their order", async () => {
        const q = quiz("quiz-a", {
          title: UNICODE,
          description: `${UNICODE}\n${"long ".repeat(400)}`,
          questions: variedQuestions(),
          createdAt: T0,
          updatedAt: T0 + 5,
        });
        await storage.quizzes.put(q);
        expect(await storage.quizzes.get(q.id)).toStrictEqual(q);
      });

      it("ST-Q1: keeps a quiz with no questions", async () => {
        const q = quiz("empty", { questions: [] });
        await storage.quizzes.put(q);
        expect(await storage.quizzes.get(q.id)).toStrictEqual(q);
      });

      it("ST-Q2: get of an unknown id is undefined", async () => {
        expect(await storage.quizzes.get(asQuizId("nope"))).toBeUndefined();
      });

      it("ST-Q3: put of an existing id replaces the quiz and all its questions", async () => {
        await storage.quizzes.put(quiz("quiz-a", { questions: variedQuestions() }));
        const replaced = quiz("quiz-a", {
          title: "Renamed",
          description: "new",
          questions: [
            question("new-2", { text: "second becomes first" }),
            question("q-single", { text: "same id, new text", difficulty: "hard" }),
          ],
          updatedAt: T0 + 1_000,
        });
        await storage.quizzes.put(replaced);
        expect(await storage.quizzes.get(replaced.id)).toStrictEqual(replaced);
        const [summary] = await storage.quizzes.list();
        expect(summary?.questionCount).toBe(2);
      });

      it("ST-Q4: list gives summaries sorted by title, with question counts", async () => {
        await storage.quizzes.put(quiz("c", { title: "Capitals", description: "d-c" }));
        await storage.quizzes.put(
          quiz("a", { title: "Animals", questions: variedQuestions(), updatedAt: T0 + 7 }),
        );
        await storage.quizzes.put(quiz("b", { title: "Birds", questions: [] }));
        expect(await storage.quizzes.list()).toStrictEqual([
          { id: "a", title: "Animals", description: "", questionCount: 4, updatedAt: T0 + 7 },
          { id: "b", title: "Birds", description: "", questionCount: 0, updatedAt: T0 },
          { id: "c", title: "Capitals", description: "d-c", questionCount: 2, updatedAt: T0 },
        ]);
      });

      it("ST-Q5: delete resolves whether a quiz went, and takes its questions along", async () => {
        await storage.quizzes.put(quiz("a"));
        await storage.quizzes.put(quiz("b"));
        expect(await storage.quizzes.delete(asQuizId("a"))).toBe(true);
        expect(await storage.quizzes.delete(asQuizId("a"))).toBe(false);
        expect(await storage.quizzes.delete(asQuizId("never"))).toBe(false);
        expect(await storage.quizzes.get(asQuizId("a"))).toBeUndefined();
        expect((await storage.quizzes.list()).map((s) => s.id)).toStrictEqual(["b"]);
        // A quiz put again under the deleted id starts from nothing.
        const again = quiz("a", { questions: [question("fresh")] });
        await storage.quizzes.put(again);
        expect(await storage.quizzes.get(again.id)).toStrictEqual(again);
      });

      it("ST-Q6: a session keeps its own questions when its quiz is deleted", async () => {
        const q = quiz("quiz-1", { questions: variedQuestions() });
        await storage.quizzes.put(q);
        const s = session("s1", { quizId: q.id, questions: q.questions });
        await storage.sessions.write([created(s)]);
        await storage.quizzes.delete(q.id);
        expect((await load("s1")).session).toStrictEqual(s);
      });
    });

    describe("question bank", () => {
      const sortById = byKey<Question>((q) => q.id);

      it("ST-B1: counts are zero for every difficulty when the bank is empty", async () => {
        expect(await storage.bank.countByDifficulty()).toStrictEqual({
          easy: 0,
          medium: 0,
          hard: 0,
        });
        expect(await storage.bank.list()).toStrictEqual([]);
      });

      it("ST-B2: put then list round-trips, filtered by difficulty and counted", async () => {
        const qs = [
          ...variedQuestions(),
          question("e2", { difficulty: "easy" }),
          question("m2", { difficulty: "medium", text: UNICODE }),
        ];
        await storage.bank.put(qs);
        expect((await storage.bank.list()).sort(sortById)).toStrictEqual([...qs].sort(sortById));
        expect((await storage.bank.list({})).length).toBe(qs.length);
        expect((await storage.bank.list({ difficulty: "easy" })).sort(sortById)).toStrictEqual(
          qs.filter((q) => q.difficulty === "easy").sort(sortById),
        );
        expect(await storage.bank.list({ difficulty: "hard" })).toStrictEqual(
          qs.filter((q) => q.difficulty === "hard"),
        );
        expect(await storage.bank.countByDifficulty()).toStrictEqual({
          easy: 2,
          medium: 3,
          hard: 1,
        });
      });

      it("ST-B3: put replaces questions by id and adds the others", async () => {
        await storage.bank.put([question("x", { difficulty: "easy" }), question("y")]);
        const moved = question("x", { difficulty: "hard", text: "changed", tags: ["t"] });
        await storage.bank.put([moved, question("z", { difficulty: "easy" })]);
        const all = (await storage.bank.list()).sort(sortById);
        expect(all.map((q) => q.id)).toStrictEqual(["x", "y", "z"]);
        expect(all[0]).toStrictEqual(moved);
        expect(await storage.bank.countByDifficulty()).toStrictEqual({
          easy: 1,
          medium: 1,
          hard: 1,
        });
      });

      it("ST-B4: put of nothing is a no-op", async () => {
        await storage.bank.put([]);
        expect(await storage.bank.list()).toStrictEqual([]);
      });
    });

    describe("meta", () => {
      it("ST-M1: get of an unset key is undefined; set then get; set again overwrites", async () => {
        expect(await storage.meta.get("secret")).toBeUndefined();
        await storage.meta.set("secret", "one");
        await storage.meta.set("other", UNICODE);
        expect(await storage.meta.get("secret")).toBe("one");
        await storage.meta.set("secret", "two");
        expect(await storage.meta.get("secret")).toBe("two");
        expect(await storage.meta.get("other")).toBe(UNICODE);
        await storage.meta.set("empty", "");
        expect(await storage.meta.get("empty")).toBe("");
      });

      it("ST-M2: setIfAbsent keeps the first value, even when callers race", async () => {
        expect(await storage.meta.setIfAbsent("token", "first")).toBe("first");
        expect(await storage.meta.setIfAbsent("token", "second")).toBe("first");
        const raced = await Promise.all(
          ["a", "b", "c"].map((v) => storage.meta.setIfAbsent("raced", v)),
        );
        expect(new Set(raced).size).toBe(1);
        expect(await storage.meta.get("raced")).toBe(raced[0]);
      });
    });

    describe("images", () => {
      const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) % 256);

      it("ST-I1: get gives the bytes, type and time put stored; an unknown id is undefined", async () => {
        const id = "b".repeat(64);
        expect(await storage.images.get(id)).toBeUndefined();
        const data = bytes(300_000);
        await storage.images.put({ id, contentType: "image/png", bytes: data, createdAt: T0 });
        const got = await storage.images.get(id);
        expect(got?.contentType).toBe("image/png");
        expect(got?.createdAt).toBe(T0);
        expect(Buffer.from(got?.bytes ?? []).equals(Buffer.from(data))).toBe(true);
      });

      it("ST-I2: put of a stored id keeps the first; existing names the stored ids asked for", async () => {
        const id = "c".repeat(64);
        await storage.images.put({ id, contentType: "image/gif", bytes: bytes(10), createdAt: T0 });
        await storage.images.put({
          id,
          contentType: "image/png",
          bytes: bytes(20),
          createdAt: T0 + 1,
        });
        const got = await storage.images.get(id);
        expect(got?.contentType).toBe("image/gif");
        expect(got?.bytes.byteLength).toBe(10);
        expect(await storage.images.existing([id, "d".repeat(64), id])).toStrictEqual(
          new Set([id]),
        );
        expect(await storage.images.existing([])).toStrictEqual(new Set());
      });
    });

    describe("sessions", () => {
      it("ST-S1: an empty batch resolves", async () => {
        await expect(storage.sessions.write([])).resolves.toBeUndefined();
      });

      it("ST-S2: load of an unknown id is undefined", async () => {
        expect(await storage.sessions.load(asSessionId("nope"))).toBeUndefined();
      });

      it("ST-S3: session_created round-trips the record, settings of every mode and policy", async () => {
        const settings: SessionSettings[] = [
          resolveSettings("live"),
          resolveSettings("live", {
            scoring: { policy: "latency", basePoints: 1000, alpha: 1.25 },
            questionTimeMs: 12_345,
            allowAnswerChange: true,
            autoAdvance: true,
            intermissionMs: 3_000,
          }),
          resolveSettings("quick_fire", { scoring: { policy: "kahoot", streakBonus: false } }),
          resolveSettings("self_paced", {
            closesAt: T0 + 86_400_000,
            scoring: { policy: "vocab" },
          }),
        ];
        const records = settings.map((s, i) =>
          session(`s${i}`, {
            pin: `${135790 + i}`,
            settings: s,
            title: i === 0 ? UNICODE : `t${i}`,
            createdAt: T0 + i,
          }),
        );
        await storage.sessions.write(records.map(created));
        for (const r of records) {
          expect(await storage.sessions.load(r.id)).toStrictEqual({
            session: r,
            participants: [],
            answers: [],
            served: [],
            bans: [],
            standings: [],
          });
        }
      });

      it("ST-S4: session_state replaces the state and round-trips every phase", async () => {
        const s = session("s1");
        await storage.sessions.write([created(s)]);
        const phases: Phase[] = [
          { kind: "lobby" },
          { kind: "question", index: 0, openedAt: T0 + 1, deadline: T0 + 20_001, closedAt: null },
          { kind: "question", index: 3, openedAt: T0 + 1, deadline: T0 + 20_001, closedAt: T0 + 9 },
          { kind: "reveal", index: 0, until: null },
          { kind: "reveal", index: 1, until: T0 + 5_000 },
          {
            kind: "question",
            index: 1,
            openedAt: T0 + 1,
            deadline: T0 + 20_001,
            closedAt: null,
            paused: { at: T0 + 4_000, reason: "host_disconnected" },
          },
          {
            kind: "reveal",
            index: 1,
            until: T0 + 5_000,
            paused: { at: T0 + 4_500, reason: "host_disconnected" },
          },
          { kind: "intermission", index: 2, until: T0 + 8_000 },
          { kind: "intermission", index: 2, until: null },
          { kind: "active" },
          { kind: "ended", reason: "host_ended", at: T0 + 99 },
          { kind: "ended", reason: "expired", at: T0 + 100 },
        ];
        for (const [i, phase] of phases.entries()) {
          const next = state(phase, {
            locked: i % 2 === 1,
            epoch: 1 + i,
            seq: 1_000 + i,
            startedAt: i === 0 ? null : T0 + 1,
            endedAt: phase.kind === "ended" ? phase.at : null,
          });
          await storage.sessions.write([stateOf("s1", next)]);
          const loaded = await load("s1");
          expect(loaded.session).toStrictEqual({ ...s, state: next });
          const [summary] = await storage.sessions.list({ limit: 10, includeEnded: true });
          expect(summary?.phase).toBe(phase.kind);
        }
      });

      it("ST-S4, H-3: a session_state naming a host moves the session's host; one without leaves it", async () => {
        const s = session("s1");
        await storage.sessions.write([created(s)]);
        await storage.sessions.write([
          stateOf("s1", { ...state({ kind: "lobby" }), hostUserId: asUserId("cohost-2") }),
        ]);
        expect((await load("s1")).session.hostUserId).toBe("cohost-2");
        await storage.sessions.write([stateOf("s1", state({ kind: "lobby" }))]);
        expect((await load("s1")).session.hostUserId).toBe("cohost-2");
      });

      it("ST-S4, A-6: session_state round-trips the recent request replies, in order", async () => {
        const s = session("s1");
        await storage.sessions.write([created(s)]);
        const recentRequests = [
          { key: "host:m1", reply: '{"ok":true,"value":{"phase":"question"}}' },
          { key: "host:m2", reply: '{"ok":true,"value":{"phase":"reveal"}}' },
        ];
        const next = { ...state({ kind: "lobby" }), recentRequests };
        await storage.sessions.write([stateOf("s1", next)]);
        expect((await load("s1")).session.state).toStrictEqual(next);
        // Cleared again, the field is absent rather than an empty list.
        const cleared = state({ kind: "lobby" });
        await storage.sessions.write([stateOf("s1", cleared)]);
        expect((await load("s1")).session.state).toStrictEqual(cleared);
      });

      it("ST-S12: session_state for an unknown session rejects", async () => {
        await expect(
          storage.sessions.write([stateOf("ghost", state({ kind: "active" }))]),
        ).rejects.toThrow();
      });

      it("ST-S5: participant_put inserts and replaces; participants load in join order", async () => {
        await storage.sessions.write([created(session("s1"))]);
        const host = participant("s1", 0, { role: "host", name: "Host", userId: asUserId("h") });
        const p2 = participant("s1", 2, { name: UNICODE });
        const p1 = participant("s1", 1);
        await storage.sessions.write([joined(p2), joined(host), joined(p1)]);
        expect((await load("s1")).participants).toStrictEqual([host, p1, p2]);

        const kicked = { ...p1, status: "kicked" as const, kickReason: "rude", score: 1_500 };
        const left = { ...p2, status: "left" as const, name: "Renamed" };
        await storage.sessions.write([joined(kicked), joined(left)]);
        expect((await load("s1")).participants).toStrictEqual([host, kicked, left]);
      });

      it("ST-S6: participant_put rejects a second participant for the same user in a session", async () => {
        await storage.sessions.write([created(session("s1")), joined(participant("s1", 1))]);
        const twin = participant("s1", 2, { userId: asUserId("user-1") });
        await expect(storage.sessions.write([joined(twin)])).rejects.toThrow();
        expect((await load("s1")).participants.map((p) => p.id)).toStrictEqual([
          participant("s1", 1).id,
        ]);
      });

      it("ST-S7: answer_put stores the answer and sets the participant's score (S-6)", async () => {
        const p = participant("s1", 1);
        await storage.sessions.write([created(session("s1")), joined(p)]);
        const values: AnswerValue[] = [
          { kind: "choice", index: 0 },
          { kind: "choices", indices: [0, 2, 3] },
          { kind: "choices", indices: [] },
          { kind: "text", text: UNICODE },
          { kind: "text", text: "" },
          // What an array literal would misread (Postgres sends a run's columns as arrays).
          { kind: "text", text: "NULL" },
          { kind: "text", text: '{"a",b}, c\\' },
        ];
        const answers = values.map((v, i) =>
          answer(p, i, i + 1, { answer: v, correct: i % 2 === 0, points: i * 100 }),
        );
        await storage.sessions.write(answers.map((a, i) => answered(a, 1_000 + i)));
        const bundle = await load("s1");
        expect(bundle.answers).toStrictEqual(answers);
        expect(bundle.participants[0]?.score).toBe(1_006);
      });

      it("ST-S7, A-6: an answer keeps the message identity it arrived with; a replacement takes its own", async () => {
        const p = participant("s1", 1);
        await storage.sessions.write([created(session("s1")), joined(p)]);
        const keyed = answer(p, 0, 1, { requestKey: "canonical:user-1:m-17" });
        const plain = answer(p, 1, 2);
        await storage.sessions.write([answered(keyed, 10), answered(plain, 10)]);
        expect((await load("s1")).answers).toStrictEqual([keyed, plain]);
        const replaced = answer(p, 0, 3, { requestKey: "canonical:user-1:m-18" });
        await storage.sessions.write([answered(replaced, 10)]);
        expect((await load("s1")).answers.find((a) => a.questionIndex === 0)?.requestKey).toBe(
          "canonical:user-1:m-18",
        );
      });

      it("ST-S8, A-1: answer_put on the same participant and question replaces the answer", async () => {
        const p = participant("s1", 1);
        const other = participant("s1", 2);
        await storage.sessions.write([created(session("s1")), joined(p), joined(other)]);
        await storage.sessions.write([
          answered(answer(p, 0, 1), 500),
          answered(answer(other, 0, 2, { correct: false, points: 0 }), 0),
        ]);
        const changed = answer(p, 0, 3, {
          answer: { kind: "choice", index: 3 },
          correct: false,
          points: 0,
          elapsedMs: 7_000,
        });
        await storage.sessions.write([answered(changed, 0)]);
        const bundle = await load("s1");
        expect(bundle.answers).toStrictEqual([
          answer(other, 0, 2, { correct: false, points: 0 }),
          changed,
        ]);
        expect(await scoreOf("s1", p.id)).toBe(0);
      });

      it("ST-S8: answer_put twice on the same key in one batch keeps the later one", async () => {
        const p = participant("s1", 1);
        await storage.sessions.write([created(session("s1")), joined(p)]);
        const first = answer(p, 0, 1);
        const second = answer(p, 0, 2, { answer: { kind: "text", text: "later" }, points: 7 });
        await storage.sessions.write([answered(first, 500), answered(second, 7)]);
        const bundle = await load("s1");
        expect(bundle.answers).toStrictEqual([second]);
        expect(bundle.participants[0]?.score).toBe(7);
      });

      it("ST-S9: answers load in seq order, whatever order they were written in", async () => {
        const ps = [1, 2, 3].map((n) => participant("s1", n));
        await storage.sessions.write([created(session("s1")), ...ps.map(joined)]);
        const a = [
          answer(ps[0]!, 0, 30),
          answer(ps[1]!, 0, 10),
          answer(ps[2]!, 0, 20),
          answer(ps[0]!, 1, 40),
        ];
        await storage.sessions.write([answered(a[0]!, 500), answered(a[1]!, 500)]);
        await storage.sessions.write([answered(a[3]!, 1_000), answered(a[2]!, 500)]);
        expect((await load("s1")).answers.map((x) => x.seq)).toStrictEqual([10, 20, 30, 40]);
      });

      it("ST-S10: writes in a batch apply in order: a participant joins before answering", async () => {
        const s = session("s1");
        const writes: SessionWrite[] = [created(s)];
        const expectedScores: number[] = [];
        for (let n = 0; n < 30; n++) {
          const p = participant("s1", n);
          writes.push(joined(p), answered(answer(p, 0, n + 1), 100 + n));
          // Every third participant is put again after answering: that later write wins.
          if (n % 3 === 0) writes.push(joined({ ...p, status: "left", score: 7 }));
          expectedScores.push(n % 3 === 0 ? 7 : 100 + n);
        }
        await storage.sessions.write(writes);
        const bundle = await load("s1");
        expect(bundle.participants.map((p) => p.score)).toStrictEqual(expectedScores);
        expect(bundle.participants.filter((p) => p.status === "left").length).toBe(10);
        expect(bundle.answers.length).toBe(30);
      });

      it("ST-S11, A-5: a failing batch applies nothing, not even its earlier valid writes", async () => {
        const p = participant("s1", 1);
        await storage.sessions.write([created(session("s1")), joined(p)]);
        await storage.sessions.write([answered(answer(p, 0, 1), 500)]);
        const before = await load("s1");

        const ghost = participant("s1", 99);
        await expect(
          storage.sessions.write([
            answered(answer(p, 1, 2), 1_500),
            joined({ ...p, name: "Renamed" }),
            stateOf("s1", state({ kind: "active" }, { startedAt: T0 })),
            answered(answer(ghost, 1, 3), 900), // never joined
          ]),
        ).rejects.toThrow();
        expect(await load("s1")).toStrictEqual(before);
      });

      it("ST-S12: answer_put for a participant of another session rejects", async () => {
        const p = participant("s1", 1);
        await twoSessionsWith(p);
        await expect(
          storage.sessions.write([
            answered({ ...answer(p, 0, 1), sessionId: asSessionId("s2") }, 1),
          ]),
        ).rejects.toThrow();
        expect((await load("s2")).answers).toStrictEqual([]);
        expect(await scoreOf("s1", p.id)).toBe(0);
      });

      it("ST-S13: served_put stores when a question was served; a second put replaces it", async () => {
        const p1 = participant("s1", 1);
        const p2 = participant("s1", 2);
        await storage.sessions.write([created(session("s1")), joined(p1), joined(p2)]);
        const served: ServedRecord[] = [
          { sessionId: p1.sessionId, participantId: p1.id, questionIndex: 0, servedAt: T0 + 1 },
          { sessionId: p1.sessionId, participantId: p1.id, questionIndex: 1, servedAt: T0 + 2 },
          { sessionId: p2.sessionId, participantId: p2.id, questionIndex: 0, servedAt: T0 + 3 },
        ];
        await storage.sessions.write(served.map((s) => ({ kind: "served_put", served: s })));
        const sort = byKey<ServedRecord>((s) => `${s.participantId}|${s.questionIndex}`);
        expect((await load("s1")).served.sort(sort)).toStrictEqual([...served].sort(sort));

        const again = { ...served[0]!, servedAt: T0 + 50 };
        await storage.sessions.write([{ kind: "served_put", served: again }]);
        expect((await load("s1")).served.sort(sort)).toStrictEqual(
          [again, served[1]!, served[2]!].sort(sort),
        );
      });

      it("ST-S14, R-3: ban_put stores a ban; a second ban of the same user replaces it", async () => {
        await storage.sessions.write([created(session("s1"))]);
        const bans: BanRecord[] = [
          { sessionId: asSessionId("s1"), userId: asUserId("u1"), until: T0 + 600_000, reason: "" },
          { sessionId: asSessionId("s1"), userId: asUserId("u2"), until: T0 + 1, reason: UNICODE },
        ];
        await storage.sessions.write(bans.map((ban) => ({ kind: "ban_put", ban })));
        const sort = byKey<BanRecord>((b) => b.userId);
        expect((await load("s1")).bans.sort(sort)).toStrictEqual([...bans].sort(sort));

        const longer = { ...bans[0]!, until: T0 + 9_999_999, reason: "again" };
        await storage.sessions.write([{ kind: "ban_put", ban: longer }]);
        expect((await load("s1")).bans.sort(sort)).toStrictEqual([longer, bans[1]!].sort(sort));
      });

      it("ST-S15, L-1: standings_put sets final scores and ranks; standings load in rank order", async () => {
        const host = participant("s1", 0, { role: "host", userId: asUserId("h") });
        const ps = [1, 2, 3].map((n) => participant("s1", n, { score: n * 100 }));
        await storage.sessions.write([created(session("s1")), joined(host), ...ps.map(joined)]);
        expect((await load("s1")).standings).toStrictEqual([]);

        const standings = [
          { participantId: ps[2]!.id, score: 300, rank: 1 },
          { participantId: ps[0]!.id, score: 250, rank: 2 },
          { participantId: ps[1]!.id, score: 200, rank: 3 },
        ];
        await storage.sessions.write([
          stateOf("s1", endedState()),
          {
            kind: "standings_put",
            sessionId: asSessionId("s1"),
            standings: [...standings].reverse(),
          },
        ]);
        const bundle = await load("s1");
        expect(bundle.standings).toStrictEqual(standings);
        expect(bundle.participants.map((p) => p.score)).toStrictEqual([0, 250, 200, 300]);
      });

      it("ST-S15: a later standings_put replaces the standings; a participant's last standing in it counts", async () => {
        const ps = [1, 2, 3].map((n) => participant("s1", n));
        const other = participant("s2", 1);
        await storage.sessions.write([
          created(session("s1")),
          created(session("s2", { pin: "111999" })),
          ...ps.map(joined),
          joined(other),
        ]);
        const put = (sessionId: string, standings: StandingRecord[]) =>
          storage.sessions.write([
            { kind: "standings_put", sessionId: asSessionId(sessionId), standings },
          ]);
        await put("s2", [{ participantId: other.id, score: 7, rank: 1 }]);
        await put("s1", [
          { participantId: ps[0]!.id, score: 30, rank: 1 },
          { participantId: ps[1]!.id, score: 20, rank: 2 },
          { participantId: ps[2]!.id, score: 10, rank: 3 },
        ]);
        await put("s1", [
          { participantId: ps[1]!.id, score: 50, rank: 1 },
          { participantId: ps[1]!.id, score: 60, rank: 1 },
          { participantId: ps[2]!.id, score: 40, rank: 2 },
        ]);
        const bundle = await load("s1");
        expect(bundle.standings).toStrictEqual([
          { participantId: ps[1]!.id, score: 60, rank: 1 },
          { participantId: ps[2]!.id, score: 40, rank: 2 },
        ]);
        expect((await load("s2")).standings).toStrictEqual([
          { participantId: other.id, score: 7, rank: 1 },
        ]);
      });

      it("ST-S12: standings_put naming a participant outside the session rejects", async () => {
        const p = participant("s1", 1);
        await storage.sessions.write([created(session("s1")), joined(p)]);
        await expect(
          storage.sessions.write([
            {
              kind: "standings_put",
              sessionId: asSessionId("s1"),
              standings: [
                { participantId: p.id, score: 5, rank: 1 },
                { participantId: asParticipantId("stranger"), score: 1, rank: 2 },
              ],
            },
          ]),
        ).rejects.toThrow();
        const bundle = await load("s1");
        expect(bundle.standings).toStrictEqual([]);
        expect(bundle.participants[0]?.score).toBe(0);
      });

      it("ST-S16: listOpen lists sessions that have not ended, oldest first", async () => {
        await storage.sessions.write([
          created(session("new", { pin: "111333", createdAt: T0 + 30 })),
          created(session("old", { pin: "111444", createdAt: T0 + 10 })),
          created(session("done", { pin: "111555", createdAt: T0 + 5 })),
          created(session("mid", { pin: "111666", createdAt: T0 + 20 })),
        ]);
        await storage.sessions.write([
          stateOf("done", endedState()),
          stateOf("mid", state({ kind: "active" }, { startedAt: T0 + 21 })),
        ]);
        expect(await storage.sessions.listOpen()).toStrictEqual(["old", "mid", "new"]);
        await storage.sessions.write([stateOf("old", endedState())]);
        expect(await storage.sessions.listOpen()).toStrictEqual(["mid", "new"]);
      });

      it("ST-S17: list gives summaries newest first, counting players only", async () => {
        const a = session("a", { pin: "222333", createdAt: T0 + 1 });
        const b = session("b", {
          pin: "222444",
          createdAt: T0 + 2,
          quizId: asQuizId("quiz-b"),
          settings: resolveSettings("self_paced"),
          title: UNICODE,
        });
        const c = session("c", { pin: "222555", createdAt: T0 + 3 });
        await storage.sessions.write([
          created(a),
          created(b),
          created(c),
          joined(participant("a", 0, { role: "host", userId: asUserId("h") })),
          joined(participant("a", 1)),
          joined(participant("a", 2, { status: "kicked", kickReason: "x" })),
          joined(participant("b", 1, { status: "left" })),
          stateOf("b", endedState()),
        ]);

        const all = await storage.sessions.list({ limit: 10, includeEnded: true });
        expect(all).toStrictEqual([
          {
            id: "c",
            pin: "222555",
            quizId: "quiz-1",
            title: "Session c",
            mode: "live",
            phase: "lobby",
            participantCount: 0,
            createdAt: T0 + 3,
            endedAt: null,
          },
          {
            id: "b",
            pin: "222444",
            quizId: "quiz-b",
            title: UNICODE,
            mode: "self_paced",
            phase: "ended",
            participantCount: 1,
            createdAt: T0 + 2,
            endedAt: T0 + 60_000,
          },
          {
            id: "a",
            pin: "222333",
            quizId: "quiz-1",
            title: "Session a",
            mode: "live",
            phase: "lobby",
            participantCount: 2,
            createdAt: T0 + 1,
            endedAt: null,
          },
        ]);
        const open = await storage.sessions.list({ limit: 10, includeEnded: false });
        expect(open.map((s) => s.id)).toStrictEqual(["c", "a"]);
        const limited = await storage.sessions.list({ limit: 2, includeEnded: true });
        expect(limited.map((s) => s.id)).toStrictEqual(["c", "b"]);
      });

      it("ST-S18, ST-S11, P-3: a PIN in use by an open session is refused, with nothing of the batch applied", async () => {
        const pin = "135792";
        await storage.sessions.write([created(session("first", { pin }))]);
        await expect(
          storage.sessions.write([
            joined(participant("first", 1)),
            created(session("second", { pin, createdAt: T0 + 1 })),
          ]),
        ).rejects.toThrow();
        expect(await storage.sessions.load(asSessionId("second"))).toBeUndefined();
        expect((await load("first")).participants).toStrictEqual([]);
        expect(await storage.sessions.listOpen()).toStrictEqual(["first"]);
      });

      it("ST-S19: claim moves a session's epoch only from the epoch it names (compare-and-set)", async () => {
        await storage.sessions.write([created(session("claimed"))]);
        const id = asSessionId("claimed");
        expect(await storage.sessions.epochOf(id)).toBe(1);
        expect(await storage.sessions.claim(id, 1, 2)).toBe(true);
        expect(await storage.sessions.epochOf(id)).toBe(2);
        expect(await storage.sessions.epochOf(asSessionId("nobody"))).toBeUndefined();
        expect((await load("claimed")).session.state.epoch).toBe(2);
        expect(await storage.sessions.claim(id, 1, 3)).toBe(false);
        expect(await storage.sessions.claim(asSessionId("nobody"), 1, 2)).toBe(false);
        expect((await load("claimed")).session.state.epoch).toBe(2);
      });

      it("ST-S20: a writer fenced out by a newer epoch has its whole batch refused (FencedError)", async () => {
        await storage.sessions.write([
          created(session("fenced")),
          created(session("other", { pin: "246813" })),
        ]);
        const id = asSessionId("fenced");
        await storage.sessions.claim(id, 1, 2);
        const stale = new Map([[id, 1]]);
        await expect(
          storage.sessions.write(
            [joined(participant("other", 1)), joined(participant("fenced", 1))],
            new Map([...stale, [asSessionId("other"), 1]]),
          ),
        ).rejects.toBeInstanceOf(FencedError);
        expect((await load("fenced")).participants).toStrictEqual([]);
        expect((await load("other")).participants).toStrictEqual([]);
        // The current owner's epoch, a lower stored one, and a session being created all pass.
        await storage.sessions.write([joined(participant("fenced", 1))], new Map([[id, 2]]));
        await storage.sessions.write(
          [created(session("fresh", { pin: "975313" }))],
          new Map([[asSessionId("fresh"), 1]]),
        );
        expect((await load("fenced")).participants).toHaveLength(1);
      });

      it("ST-S20: a fenced batch of answers alone is refused whole; at the current epoch it is stored", async () => {
        const p = participant("fenced", 1);
        const q = participant("other", 1);
        await storage.sessions.write([
          created(session("fenced")),
          created(session("other", { pin: "246813" })),
          joined(p),
          joined(q),
        ]);
        const id = asSessionId("fenced");
        await storage.sessions.claim(id, 1, 2);
        const batch = [answered(answer(q, 0, 1), 500), answered(answer(p, 0, 2), 500)];
        const err = await storage.sessions
          .write(
            batch,
            new Map([
              [asSessionId("other"), 1],
              [id, 1],
            ]),
          )
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(FencedError);
        expect(err).toMatchObject({ sessionId: id, writerEpoch: 1, storedEpoch: 2 });
        expect((await load("fenced")).answers).toStrictEqual([]);
        expect((await load("other")).answers).toStrictEqual([]);
        expect(await scoreOf("other", q.id)).toBe(0);
        await storage.sessions.write(
          batch,
          new Map([
            [asSessionId("other"), 1],
            [id, 2],
          ]),
        );
        expect((await load("fenced")).answers).toHaveLength(1);
        expect(await scoreOf("fenced", p.id)).toBe(500);
      });

      it("ST-S12: one answer outside its session rejects a batch of answers, and none is stored", async () => {
        const p = participant("s1", 1);
        const q = participant("s1", 2);
        await twoSessionsWith(p, q);
        await expect(
          storage.sessions.write([
            answered(answer(p, 0, 1), 100),
            answered({ ...answer(q, 0, 2), sessionId: asSessionId("s2") }, 200),
          ]),
        ).rejects.toThrow();
        expect((await load("s1")).answers).toStrictEqual([]);
        expect(await scoreOf("s1", p.id)).toBe(0);
      });

      it("ST-S12: an answer of an unknown participant rejects a batch of answers, and none is stored", async () => {
        const p = participant("s1", 1);
        await storage.sessions.write([created(session("s1")), joined(p)]);
        const ghost = participant("s1", 9);
        await expect(
          storage.sessions.write([
            answered(answer(p, 0, 1), 100),
            answered(answer(ghost, 0, 2), 200),
          ]),
        ).rejects.toThrow();
        expect((await load("s1")).answers).toStrictEqual([]);
        expect(await scoreOf("s1", p.id)).toBe(0);
      });

      it("ST-S11, ST-S12: a join and then an answer outside its session: the batch rejects whole", async () => {
        const p = participant("s1", 1);
        await twoSessionsWith(p);
        const q = participant("s1", 2);
        await expect(
          storage.sessions.write([
            joined(q),
            answered({ ...answer(p, 0, 1), sessionId: asSessionId("s2") }, 300),
          ]),
        ).rejects.toThrow();
        expect((await load("s1")).participants.map((x) => x.id)).toStrictEqual([p.id]);
        expect((await load("s2")).answers).toStrictEqual([]);
      });

      it("ST-S5: text an array literal would misread round-trips in a participant's columns", async () => {
        // Postgres sends a run of joins as one array per column.
        const p = participant("s1", 1, { name: "NULL", userId: asUserId('u{"1",2}\\') });
        const kicked = participant("s1", 2, { name: "", status: "kicked", kickReason: "NULL" });
        await storage.sessions.write([created(session("s1")), joined(p), joined(kicked)]);
        expect((await load("s1")).participants).toStrictEqual([p, kicked]);
      });

      it("ST-S18, P-3: once its session has ended, a PIN may be used again", async () => {
        const pin = "135792";
        await storage.sessions.write([
          created(session("first", { pin })),
          stateOf("first", state({ kind: "active" }, { startedAt: T0 })),
        ]);
        await storage.sessions.write([stateOf("first", endedState())]);
        const second = session("second", { pin, createdAt: T0 + 1 });
        await storage.sessions.write([created(second)]);
        expect((await load("second")).session).toStrictEqual(second);
        await expect(
          storage.sessions.write([created(session("third", { pin, createdAt: T0 + 2 }))]),
        ).rejects.toThrow();
        expect(await storage.sessions.listOpen()).toStrictEqual(["second"]);
      });

      it("ST-S22: a batch of 2,000 answers across 1,000 participants round-trips", async () => {
        const s = session("big", { settings: resolveSettings("live", { maxParticipants: 5_000 }) });
        const ps = Array.from({ length: 1_000 }, (_, n) => participant("big", n));
        await storage.sessions.write([created(s), ...ps.map(joined)]);

        const answers: AnswerRecord[] = [];
        const writes: SessionWrite[] = [];
        const scores = new Map<ParticipantId, number>();
        for (const questionIndex of [0, 1]) {
          for (const [n, p] of ps.entries()) {
            const seq = answers.length + 1;
            const a = answer(p, questionIndex, seq, {
              correct: n % 3 !== 0,
              points: n % 3 === 0 ? 0 : 100 + n,
              answer:
                n % 2 === 0 ? { kind: "choice", index: n % 4 } : { kind: "text", text: `t${n}` },
            });
            const score = (scores.get(p.id) ?? 0) + a.points;
            scores.set(p.id, score);
            answers.push(a);
            writes.push(answered(a, score));
          }
        }
        await storage.sessions.write(writes);

        const bundle = await load("big");
        expect(bundle.answers).toStrictEqual(answers);
        expect(bundle.participants).toStrictEqual(
          ps.map((p) => ({ ...p, score: scores.get(p.id) })),
        );
        const [summary] = await storage.sessions.list({ limit: 1, includeEnded: false });
        expect(summary?.participantCount).toBe(1_000);
      });

      it("ST-S23: purgeEnded deletes details, then whole sessions, by when they ended; open sessions stay", async () => {
        // Both ended at T0 + 60 s; "open" never ended.
        const old = await writeFullSession(storage, "old", "123789");
        const recent = await writeFullSession(storage, "recent", "987123");
        await storage.sessions.write([
          stateOf("recent", { ...endedState(), endedAt: T0 + 120_000 }),
        ]);
        const open = session("open", { pin: "456123" });
        const openPlayer = participant("open", 1);
        await storage.sessions.write([
          created(open),
          joined(openPlayer),
          answered(answer(openPlayer, 0, 1), 500),
        ]);
        const none = await storage.sessions.purgeEnded({
          detailsEndedBefore: null,
          sessionsEndedBefore: null,
        });
        expect(none).toStrictEqual({ answersDeleted: 0, sessionsDeleted: 0 });

        // Details of sessions ended before T0 + 90 s go; the session, its people and standings stay.
        const details = await storage.sessions.purgeEnded({
          detailsEndedBefore: T0 + 90_000,
          sessionsEndedBefore: null,
        });
        expect(details).toStrictEqual({ answersDeleted: 3, sessionsDeleted: 0 });
        expect(await storage.sessions.load(asSessionId("old"))).toStrictEqual({
          ...old,
          answers: [],
          served: [],
          bans: [],
        });
        expect((await storage.sessions.load(asSessionId("recent")))?.answers).toHaveLength(3);

        // Whole sessions ended before T0 + 200 s go; the open one is untouched, whatever its age.
        const whole = await storage.sessions.purgeEnded({
          detailsEndedBefore: T0 + 200_000,
          sessionsEndedBefore: T0 + 200_000,
        });
        expect(whole.sessionsDeleted).toBe(2);
        expect(await storage.sessions.load(asSessionId("old"))).toBeUndefined();
        expect(await storage.sessions.load(asSessionId("recent"))).toBeUndefined();
        expect(recent.session.id).toBe("recent");
        const kept = await storage.sessions.load(asSessionId("open"));
        expect(kept?.answers).toHaveLength(1);
        expect(kept?.participants).toHaveLength(1);
        expect(await storage.sessions.listOpen()).toStrictEqual([asSessionId("open")]);
      });

      it("ST-S24: userData gives every session that concerns a user: membership, answers, bans, hosting", async () => {
        const full = await writeFullSession(storage, "full", "123789");
        const p1 = full.participants.find((p) => p.userId === "user-1")!;
        const data = await storage.sessions.userData(asUserId("user-1"));
        expect(data).toStrictEqual([
          {
            sessionId: asSessionId("full"),
            quizId: full.session.quizId,
            title: full.session.title,
            mode: full.session.settings.mode,
            phase: "ended",
            createdAt: T0,
            startedAt: T0 + 1_000,
            endedAt: T0 + 60_000,
            hosted: false,
            participant: p1,
            answers: full.answers.filter((a) => a.participantId === p1.id),
            bans: [],
          },
        ]);
        const host = await storage.sessions.userData(asUserId("host-user"));
        expect(host).toHaveLength(1);
        expect(host[0]).toMatchObject({ hosted: true, answers: [], bans: [] });
        const banned = await storage.sessions.userData(asUserId("bad"));
        expect(banned[0]).toMatchObject({ participant: null, bans: full.bans });
        expect(await storage.sessions.userData(asUserId("nobody"))).toStrictEqual([]);
      });

      it("ST-S25: eraseUser removes a user from ended sessions only, leaving everyone else's data", async () => {
        const full = await writeFullSession(storage, "full", "123789");
        const open = session("open", { pin: "456123" });
        const stillPlaying = participant("open", 1); // user-1, in a session that has not ended
        await storage.sessions.write([
          created(open),
          joined(stillPlaying),
          answered(answer(stillPlaying, 0, 1), 500),
        ]);
        const p1 = full.participants.find((p) => p.userId === "user-1")!;

        expect(await storage.sessions.eraseUser(asUserId("user-1"))).toBe(1);
        const after = await storage.sessions.load(asSessionId("full"));
        expect(after).toStrictEqual({
          ...full,
          participants: full.participants.filter((p) => p.id !== p1.id),
          answers: full.answers.filter((a) => a.participantId !== p1.id),
          served: full.served.filter((x) => x.participantId !== p1.id),
          standings: full.standings.filter((x) => x.participantId !== p1.id),
        });
        expect((await storage.sessions.load(asSessionId("open")))?.participants).toStrictEqual([
          { ...stillPlaying, score: 500 },
        ]);
        expect(await storage.sessions.userData(asUserId("user-1"))).toHaveLength(1);

        // A host keeps no id on the sessions they hosted; a banned user's bans go.
        expect(await storage.sessions.eraseUser(asUserId("host-user"))).toBe(1);
        expect((await storage.sessions.load(asSessionId("full")))?.session.hostUserId).toBe("");
        expect(await storage.sessions.eraseUser(asUserId("bad"))).toBe(1);
        expect((await storage.sessions.load(asSessionId("full")))?.bans).toStrictEqual([]);
        expect(await storage.sessions.eraseUser(asUserId("nobody"))).toBe(0);
      });

      it("ST-S21: load returns the whole bundle of a session, and only that session's", async () => {
        const bundle = await writeFullSession(storage, "full", "123789");
        await writeFullSession(storage, "other", "987123");
        expect(await storage.sessions.load(asSessionId("full"))).toStrictEqual(bundle);
      });
    });

    const durability = reopen ? "durability" : "durability (skipped: the adapter gave no reopen)";
    describe.skipIf(reopen === undefined)(durability, () => {
      it("ST-2: everything written survives closing and reopening the database", async () => {
        const bundle = await writeFullSession(storage, "full", "123789");
        const q = quiz("quiz-a", { questions: variedQuestions(), title: UNICODE });
        await storage.quizzes.put(q);
        await storage.bank.put(variedQuestions());
        await storage.meta.set("secret", UNICODE);

        await storage.close();
        storage = await (reopen as ReopenStorage)(storage);

        expect(await storage.sessions.load(asSessionId("full"))).toStrictEqual(bundle);
        expect(await storage.quizzes.get(q.id)).toStrictEqual(q);
        expect((await storage.bank.list()).length).toBe(4);
        expect(await storage.meta.get("secret")).toBe(UNICODE);
        expect(await storage.sessions.listOpen()).toStrictEqual([]);
      });
    });
  });
}

/** Writes a session with something in every part of its bundle; resolves to what load must give. */
async function writeFullSession(storage: Storage, id: string, pin: string) {
  const s = session(id, {
    pin,
    settings: resolveSettings("self_paced", { closesAt: T0 + 3_600_000 }),
  });
  const host = participant(id, 0, { role: "host", userId: asUserId(`${id}-host`) });
  const p1 = participant(id, 1, { name: UNICODE });
  const p2 = participant(id, 2);
  const a1 = answer(p1, 0, 1, { answer: { kind: "choices", indices: [1, 2] } });
  const a2 = answer(p2, 0, 2, { correct: false, points: 0, answer: { kind: "text", text: "é" } });
  const a3 = answer(p1, 1, 3, { points: 250 });
  const served: ServedRecord = {
    sessionId: s.id,
    participantId: p1.id,
    questionIndex: 1,
    servedAt: T0 + 5,
  };
  const ban: BanRecord = { sessionId: s.id, userId: asUserId("bad"), until: T0 + 1, reason: "x" };
  const ended = endedState();
  await storage.sessions.write([created(s), joined(host), joined(p1), joined(p2)]);
  await storage.sessions.write([
    stateOf(id, state({ kind: "active" }, { startedAt: T0 + 1_000, seq: 3 })),
    { kind: "served_put", served },
    answered(a1, 500),
    answered(a2, 0),
    answered(a3, 750),
    { kind: "ban_put", ban },
  ]);
  await storage.sessions.write([
    stateOf(id, ended),
    {
      kind: "standings_put",
      sessionId: s.id,
      standings: [
        { participantId: p1.id, score: 750, rank: 1 },
        { participantId: p2.id, score: 0, rank: 2 },
      ],
    },
  ]);
  return {
    session: { ...s, state: ended },
    participants: [host, { ...p1, score: 750 }, p2],
    answers: [a1, a2, a3],
    served: [served],
    bans: [ban],
    standings: [
      { participantId: p1.id, score: 750, rank: 1 },
      { participantId: p2.id, score: 0, rank: 2 },
    ],
  };
}
