import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import {
  BANK_FILES,
  DEMO_CONTENT_META_KEY,
  DEMO_CONTENT_VERSION,
  DEMO_QUIZ_FILES,
  loadDemoContent,
  readDemoContent,
} from "../../src/content/demo-content.js";
import { parseQuestionDocument, parseQuizDocument } from "../../src/content/quiz-format.js";
import type { Difficulty, Question, Quiz, QuizSummary } from "../../src/domain/quiz.js";
import type { MetaStore, QuestionBankStore, QuizStore } from "../../src/ports/storage.js";

const CONTENT = new URL("../../content/", import.meta.url);
const ctx = { now: 1_000, newId: () => "generated" };

async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await readFile(new URL(file, CONTENT), "utf8"));
}

async function quiz(file: string): Promise<Quiz> {
  const r = parseQuizDocument(await readJson(file), ctx);
  if (!r.ok) throw new Error(`${file}: ${JSON.stringify(r.issues)}`);
  return r.quiz;
}

async function bank(file: string): Promise<Question[]> {
  const docs = await readJson(file);
  if (!Array.isArray(docs)) throw new Error(`${file} is not an array`);
  return docs.map((doc: unknown, i) => {
    const r = parseQuestionDocument(doc, ctx);
    if (!r.ok) throw new Error(`${file}[${i}]: ${JSON.stringify(r.issues)}`);
    return r.question;
  });
}

describe("demo quizzes", () => {
  it("english-vocabulary has 30+ questions mixing typed and choice kinds at every difficulty", async () => {
    const q = await quiz("demo/english-vocabulary.json");
    expect(q.id).toBe("english-vocabulary");
    expect(q.questions.length).toBeGreaterThanOrEqual(30);
    const kinds = new Set(q.questions.map((x) => x.kind));
    expect(kinds).toContain("typed");
    expect(kinds.has("single") || kinds.has("multiple")).toBe(true);
    expect(new Set(q.questions.map((x) => x.difficulty))).toEqual(
      new Set<Difficulty>(["easy", "medium", "hard"]),
    );
    for (const x of q.questions) {
      expect(x.tags).toContain("vocabulary");
      expect(x.timeLimitMs).toBeGreaterThanOrEqual(15_000);
      expect(x.timeLimitMs).toBeLessThanOrEqual(30_000);
    }
    // Both spellings are accepted where British and American English differ.
    const colourLike = q.questions.filter((x) => x.tags.includes("spelling-variant"));
    expect(colourLike.length).toBeGreaterThan(0);
    for (const x of colourLike) expect(x.accepted.length).toBeGreaterThanOrEqual(2);
  });

  it("general-knowledge covers every kind, has 2× questions and one 0× warm-up", async () => {
    const q = await quiz("demo/general-knowledge.json");
    expect(q.id).toBe("general-knowledge");
    expect(q.questions.length).toBeGreaterThanOrEqual(15);
    expect(new Set(q.questions.map((x) => x.kind))).toEqual(
      new Set(["single", "multiple", "true_false", "typed"]),
    );
    expect(q.questions.filter((x) => x.multiplier === 2).length).toBeGreaterThan(0);
    expect(q.questions.filter((x) => x.multiplier === 0)).toHaveLength(1);
    expect(q.questions[0]?.multiplier).toBe(0);
  });

  it("vocab-101 is exactly seed 001's shape and imports as it is", async () => {
    const raw = (await readJson("demo/vocab-101.json")) as {
      questions: Record<string, unknown>[];
    };
    expect(Object.keys(raw).sort()).toEqual(["id", "questions", "title"]);
    for (const q of raw.questions) {
      expect(Object.keys(q).sort()).toEqual(["correct_answer", "id", "options", "points", "text"]);
    }
    const q = await quiz("demo/vocab-101.json");
    expect(q.id).toBe("vocab-101");
    expect(q.questions.map((x) => x.id)).toEqual(Array.from({ length: 10 }, (_, i) => `q${i + 1}`));
    for (const x of q.questions) {
      expect(x.kind).toBe("single");
      expect(x.options).toHaveLength(4);
      expect(x.correct).toHaveLength(1);
      expect(x.points).toBe(10);
    }
  });
});

describe("question bank", () => {
  it.each([
    ["bank/easy.json", "easy"],
    ["bank/medium.json", "medium"],
    ["bank/hard.json", "hard"],
  ] as const)("%s holds 20+ single-choice questions of its difficulty", async (file, level) => {
    const questions = await bank(file);
    expect(questions.length).toBeGreaterThanOrEqual(20);
    for (const q of questions) {
      expect(q.difficulty).toBe(level);
      expect(q.kind).toBe("single");
      expect(q.options).toHaveLength(4);
      expect(q.id).toMatch(new RegExp(`^bank-${level}-\\d{2}$`));
    }
  });
});

describe("readDemoContent", () => {
  it("parses every file, with bank ids unique across files", async () => {
    const content = await readDemoContent(ctx);
    expect(content.quizzes.map((q) => q.id)).toEqual([
      "english-vocabulary",
      "general-knowledge",
      "vocab-101",
    ]);
    expect(DEMO_QUIZ_FILES).toHaveLength(3);
    expect(BANK_FILES).toHaveLength(3);
    expect(content.bank.length).toBeGreaterThanOrEqual(60);
    expect(new Set(content.bank.map((q) => q.id)).size).toBe(content.bank.length);
  });

  it("names the file and the issue when a file is invalid", async () => {
    const dir = await mkdtemp(join(tmpdir(), "quizwire-demo-"));
    try {
      await mkdir(join(dir, "demo"));
      const bad = {
        title: "Broken",
        questions: [{ text: "x", options: ["a", "b"], correct: [2] }],
      };
      await writeFile(join(dir, "demo", "english-vocabulary.json"), JSON.stringify(bad));
      await expect(readDemoContent(ctx, pathToFileURL(`${dir}/`))).rejects.toThrow(
        "demo content demo/english-vocabulary.json is invalid: questions[0].correct[0] must be an option index from 0 to 1",
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Just enough of the stores to watch what loadDemoContent writes; the real adapters have their own tests. */
function fakeStores() {
  const quizzes = new Map<string, Quiz>();
  const bankById = new Map<string, Question>();
  const meta = new Map<string, string>();
  const quizStore: QuizStore = {
    list: async () => [] as QuizSummary[],
    get: async (id) => quizzes.get(id),
    put: async (q) => {
      quizzes.set(q.id, q);
    },
    delete: async (id) => quizzes.delete(id),
  };
  const bankStore: QuestionBankStore = {
    put: async (qs) => {
      for (const q of qs) bankById.set(q.id, q);
    },
    list: async () => [...bankById.values()],
    countByDifficulty: async () => ({ easy: 0, medium: 0, hard: 0 }),
  };
  const metaStore: MetaStore = {
    get: async (k) => meta.get(k),
    set: async (k, v) => {
      meta.set(k, v);
    },
    setIfAbsent: async (k, v) => {
      if (!meta.has(k)) meta.set(k, v);
      return meta.get(k) ?? v;
    },
  };
  return {
    stores: { quizzes: quizStore, bank: bankStore, meta: metaStore },
    quizzes,
    bankById,
    meta,
  };
}

describe("loadDemoContent", () => {
  it("loads everything once, records the version, and does nothing the second time", async () => {
    const f = fakeStores();
    expect(await loadDemoContent(f.stores, ctx)).toEqual({ loaded: true });
    expect([...f.quizzes.keys()].sort()).toEqual([
      "english-vocabulary",
      "general-knowledge",
      "vocab-101",
    ]);
    expect(f.bankById.size).toBe(75);
    expect(f.meta.get(DEMO_CONTENT_META_KEY)).toBe(String(DEMO_CONTENT_VERSION));

    f.quizzes.clear();
    expect(await loadDemoContent(f.stores, ctx)).toEqual({ loaded: false });
    expect(f.quizzes.size).toBe(0);
  });

  it("loads again when the stored version is older", async () => {
    const f = fakeStores();
    f.meta.set(DEMO_CONTENT_META_KEY, String(DEMO_CONTENT_VERSION - 1));
    expect(await loadDemoContent(f.stores, ctx)).toEqual({ loaded: true });
    expect(f.quizzes.size).toBe(3);
  });
});
