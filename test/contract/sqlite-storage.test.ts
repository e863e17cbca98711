import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../src/adapters/sql/migrations.js";
import { openSqliteStorage } from "../../src/adapters/sqlite/sqlite-storage.js";
import {
  asParticipantId,
  asQuestionId,
  asQuizId,
  asSessionId,
  asUserId,
} from "../../src/domain/ids.js";
import type { Question, Quiz } from "../../src/domain/quiz.js";
import type { SessionWrite, Storage } from "../../src/ports/storage.js";
import {
  PLAYED_PARTICIPANT_ROW,
  PLAYED_SESSION_ROW,
  playedSession as played,
  STORAGE_TABLES,
  storedSession,
  T0,
} from "../support/stored-session.js";
import { runStorageContract } from "./storage-contract.js";

const dirs: string[] = [];
const pathOf = new Map<Storage, string>();

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A database path in a fresh temp dir, one directory level below it (which does not exist yet). */
function tempDbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "quizwire-sqlite-"));
  dirs.push(dir);
  return join(dir, "data", "quizwire.db");
}

async function openAt(path: string, synchronous?: "FULL" | "NORMAL"): Promise<Storage> {
  const storage = await openSqliteStorage(synchronous ? { path, synchronous } : { path });
  pathOf.set(storage, path);
  return storage;
}

runStorageContract(
  "sqlite file",
  () => openAt(tempDbPath()),
  (closed) => openAt(pathOf.get(closed) ?? ""),
);
runStorageContract("sqlite :memory:", () => openSqliteStorage({ path: ":memory:" }));
runStorageContract("sqlite file, synchronous=NORMAL", () => openAt(tempDbPath(), "NORMAL"));

// ---------------------------------------------------------------------------------------------

function question(id: string): Question {
  return {
    id: asQuestionId(id),
    kind: "multiple",
    text: `Question ${id}?`,
    options: ["A", "B", "C"],
    correct: [0, 2],
    accepted: [],
    timeLimitMs: 20_000,
    multiplier: 2,
    difficulty: "hard",
    tags: ["x"],
    points: 10,
  };
}

function quiz(questions: Question[]): Quiz {
  return {
    id: asQuizId("quiz"),
    title: "Quiz",
    description: "",
    questions,
    createdAt: T0,
    updatedAt: T0,
  };
}

/** A session with one player who answered question 1 while it was open. */
function playedSession(id: string): SessionWrite[] {
  return played(id, "482913", [question("q1"), question("q2")]);
}

describe("SqliteStorage", () => {
  it("creates the database file and its missing parent directories", async () => {
    const path = tempDbPath();
    const storage = await openSqliteStorage({ path });
    try {
      expect(existsSync(path)).toBe(true);
    } finally {
      await storage.close();
    }
  });

  it("keeps the data in the file across close and reopen", async () => {
    const path = tempDbPath();
    const first = await openSqliteStorage({ path });
    await first.quizzes.put(quiz([question("a"), question("b")]));
    await first.sessions.write(playedSession("s1"));
    const bundle = await first.sessions.load(asSessionId("s1"));
    await first.close();

    const second = await openSqliteStorage({ path });
    try {
      expect(await second.sessions.load(asSessionId("s1"))).toStrictEqual(bundle);
      expect(await second.quizzes.get(asQuizId("quiz"))).toStrictEqual(
        quiz([question("a"), question("b")]),
      );
      expect(await second.sessions.listOpen()).toStrictEqual(["s1"]);
    } finally {
      await second.close();
    }
  });

  it("works in memory, and each :memory: storage is its own database", async () => {
    const a = await openSqliteStorage({ path: ":memory:" });
    const b = await openSqliteStorage({ path: ":memory:" });
    try {
      await a.sessions.write(playedSession("s1"));
      expect((await a.sessions.load(asSessionId("s1")))?.answers.length).toBe(1);
      expect(await b.sessions.load(asSessionId("s1"))).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("applies the migrations once: reopening an up-to-date file changes nothing", async () => {
    const path = tempDbPath();
    for (let i = 0; i < 3; i++) {
      const storage = await openSqliteStorage({ path });
      await storage.meta.set(`open-${i}`, "yes");
      await storage.close();
    }
    const raw = new BetterSqlite3(path, { readonly: true });
    try {
      const migrations = raw.prepare("select name from kysely_migration").pluck().all();
      expect(migrations).toStrictEqual(Object.keys(MIGRATIONS).sort());
      const tables = raw
        .prepare(
          "select name from sqlite_master where type = 'table' and name not like 'kysely%' and name not like 'sqlite%' order by name",
        )
        .pluck()
        .all();
      expect(tables).toStrictEqual(STORAGE_TABLES);
      expect(raw.prepare("select count(*) from meta").pluck().get()).toBe(3);
    } finally {
      raw.close();
    }
  });

  it("uses write-ahead logging", async () => {
    const path = tempDbPath();
    const storage = await openSqliteStorage({ path });
    await storage.close();
    const raw = new BetterSqlite3(path, { readonly: true });
    try {
      expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    } finally {
      raw.close();
    }
  });

  it("lets the write-ahead log grow past SQLite's default 1,000 pages between checkpoints", async () => {
    // 12 commits of 2,000 answers each, about 250 pages apiece: with SQLite's default a
    // checkpoint after every fourth commit starts the log over, and its file stays near 5 MB.
    const path = tempDbPath();
    const storage = await openSqliteStorage({ path });
    try {
      const session = storedSession("wal-session");
      const players = Array.from({ length: 2_000 }, (_, i) => asParticipantId(`wal/p${i}`));
      await storage.sessions.write([
        { kind: "session_created", session },
        ...players.map(
          (id, i): SessionWrite => ({
            kind: "participant_put",
            participant: {
              id,
              sessionId: session.id,
              userId: asUserId(`u${i}`),
              name: `Player ${i}`,
              role: "player",
              joinOrder: i,
              joinedAt: T0,
              status: "active",
              resumeTokenHash: "f".repeat(64),
              score: 0,
              kickReason: null,
            },
          }),
        ),
      ]);
      let seq = 0;
      for (let q = 0; q < 12; q++) {
        await storage.sessions.write(
          players.map(
            (id): SessionWrite => ({
              kind: "answer_put",
              answer: {
                sessionId: session.id,
                participantId: id,
                questionIndex: q,
                questionId: `q${q}`,
                answer: { kind: "choice", index: 1 },
                correct: true,
                points: 900,
                elapsedMs: 1_000,
                receivedAt: T0 + seq,
                seq: ++seq,
              },
              participantScore: 900 * (q + 1),
            }),
          ),
        );
      }
      // SQLite's default stops it at about 1,000 pages plus a commit (5 MB).
      expect(statSync(`${path}-wal`).size).toBeGreaterThan(2_000 * 4096);
    } finally {
      await storage.close();
    }
    const raw = new BetterSqlite3(path, { readonly: true });
    try {
      expect(raw.prepare("select count(*) as n from answers").get()).toEqual({ n: 24_000 });
    } finally {
      raw.close();
    }
  });

  it("writes plain columns another application can read", async () => {
    const path = tempDbPath();
    const storage = await openSqliteStorage({ path });
    try {
      await storage.sessions.write(playedSession("s1"));
      const raw = new BetterSqlite3(path, { readonly: true });
      try {
        expect(
          raw
            .prepare(
              "select status, phase, current_index, deadline_ms, locked, mode, started_at, ended_at from sessions",
            )
            .get(),
        ).toStrictEqual(PLAYED_SESSION_ROW);
        const a = raw
          .prepare("select answer_json, is_correct, points, question_id from answers")
          .get() as { answer_json: string; is_correct: number; points: number };
        expect(JSON.parse(a.answer_json)).toStrictEqual({ kind: "choices", indices: [0, 2] });
        expect(a.is_correct).toBe(1);
        expect(raw.prepare("select score, final_rank from participants").get()).toStrictEqual(
          PLAYED_PARTICIPANT_ROW,
        );
      } finally {
        raw.close();
      }
    } finally {
      await storage.close();
    }
  });

  it("a quiz put that fails leaves the previous version whole", async () => {
    const storage = await openSqliteStorage({ path: ":memory:" });
    try {
      const before = quiz([question("a"), question("b")]);
      await storage.quizzes.put(before);
      // Two questions with one id break unique(quiz_id, id) after the old ones were deleted.
      const broken = { ...quiz([question("c"), question("c")]), title: "Broken" };
      await expect(storage.quizzes.put(broken)).rejects.toThrow();
      expect(await storage.quizzes.get(before.id)).toStrictEqual(before);
    } finally {
      await storage.close();
    }
  });

  it("close is idempotent, and ping rejects once closed", async () => {
    const storage = await openSqliteStorage({ path: ":memory:" });
    await storage.ping();
    await storage.close();
    await storage.close();
    await expect(storage.ping()).rejects.toThrow();
  });

  it("refuses to open a path whose parent is a file", async () => {
    const path = tempDbPath();
    const storage = await openSqliteStorage({ path });
    await storage.close();
    await expect(openSqliteStorage({ path: join(path, "inner.db") })).rejects.toThrow();
  });
});
