import { readFile } from "node:fs/promises";
import type { Question, Quiz } from "../domain/quiz.js";
import type { MetaStore, QuestionBankStore, QuizStore } from "../ports/storage.js";
import type { QuizIssue } from "./quiz-check.js";
import { type ParseContext, parseQuestionDocument, parseQuizDocument } from "./quiz-format.js";

/** Bump when the files under content/ change, so existing installations load them again. */
export const DEMO_CONTENT_VERSION = 1;
/** The MetaStore key holding the version of the demo content last loaded. */
export const DEMO_CONTENT_META_KEY = "demo_content_version";

/** Demo quizzes, relative to content/. */
export const DEMO_QUIZ_FILES = [
  "demo/english-vocabulary.json",
  "demo/general-knowledge.json",
  "demo/vocab-101.json",
] as const;
/** Question-bank files (JSON arrays of question documents), relative to content/. */
export const BANK_FILES = ["bank/easy.json", "bank/medium.json", "bank/hard.json"] as const;

// src/content/ under tsx and dist/content/ after the build are both two levels below the repo root.
const CONTENT_ROOT = new URL("../../content/", import.meta.url);

export interface DemoContent {
  quizzes: Quiz[];
  bank: Question[];
}

/**
 * Reads and parses every demo quiz and bank file. Throws, naming the file and
 * its issues, when one is invalid: the files ship with the server, so that is
 * a bug, not user input.
 */
export async function readDemoContent(
  ctx: ParseContext,
  root = CONTENT_ROOT,
): Promise<DemoContent> {
  const quizzes: Quiz[] = [];
  for (const file of DEMO_QUIZ_FILES) {
    const r = parseQuizDocument(await readJson(root, file), ctx);
    if (!r.ok) throw invalid(file, r.issues);
    quizzes.push(r.quiz);
  }

  const bank: Question[] = [];
  const fileOfId = new Map<string, string>();
  for (const file of BANK_FILES) {
    const docs = await readJson(root, file);
    if (!Array.isArray(docs)) throw invalid(file, [{ path: "", msg: "must be a JSON array" }]);
    const issues: QuizIssue[] = [];
    docs.forEach((doc: unknown, i) => {
      const r = parseQuestionDocument(doc, ctx);
      if (!r.ok) {
        for (const issue of r.issues) {
          issues.push({
            path: issue.path === "" ? `[${i}]` : `[${i}].${issue.path}`,
            msg: issue.msg,
          });
        }
        return;
      }
      const other = fileOfId.get(r.question.id);
      if (other !== undefined) {
        issues.push({
          path: `[${i}].id`,
          msg: `repeats the id "${r.question.id}" used in ${other}`,
        });
      }
      fileOfId.set(r.question.id, file);
      bank.push(r.question);
    });
    if (issues.length > 0) throw invalid(file, issues);
  }
  return { quizzes, bank };
}

/**
 * Loads the demo quizzes and the question bank into storage when they have not
 * been loaded yet (the meta key `demo_content_version` is absent or older than
 * {@link DEMO_CONTENT_VERSION}). Safe to call on every start: once loaded it
 * does nothing. Everything is parsed before anything is stored.
 */
export async function loadDemoContent(
  stores: { quizzes: QuizStore; bank: QuestionBankStore; meta: MetaStore },
  ctx: ParseContext,
): Promise<{ loaded: boolean }> {
  const stored = await stores.meta.get(DEMO_CONTENT_META_KEY);
  if (stored !== undefined && Number(stored) >= DEMO_CONTENT_VERSION) return { loaded: false };

  const content = await readDemoContent(ctx);
  await stores.bank.put(content.bank);
  for (const quiz of content.quizzes) await stores.quizzes.put(quiz);
  await stores.meta.set(DEMO_CONTENT_META_KEY, String(DEMO_CONTENT_VERSION));
  return { loaded: true };
}

async function readJson(root: URL, file: string): Promise<unknown> {
  const text = await readFile(new URL(file, root), "utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`demo content ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

function invalid(file: string, issues: readonly QuizIssue[]): Error {
  const list = issues.map((i) => (i.path === "" ? i.msg : `${i.path} ${i.msg}`)).join("; ");
  return new Error(`demo content ${file} is invalid: ${list}`);
}
