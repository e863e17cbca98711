import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { drawQuestions } from "../../content/question-bank.js";
import type { QuizIssue } from "../../content/quiz-check.js";
import { parseQuestionDocument, questionToDocument } from "../../content/quiz-format.js";
import type { Question } from "../../domain/quiz.js";
import { SECURITY } from "./auth.js";
import { errorResponses, invalid, RestError } from "./errors.js";
import type { RestContext } from "./index.js";
import {
  BankAddBody,
  BankAddReply,
  BankCountsReply,
  BankListQuery,
  BankQuestionsReply,
  DrawQuery,
} from "./schemas.js";

const TAG = ["bank"];
const WITH_ANSWERS = { includeAnswers: true } as const;

/** The question bank over REST: counts for anyone, contents and draws for admins. */
export function registerBankRoutes(app: FastifyInstance, ctx: RestContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { storage, auth } = ctx;

  r.get(
    "/api/v1/bank",
    {
      schema: {
        tags: TAG,
        summary: "How many bank questions there are per difficulty",
        security: [...SECURITY.anyone],
        response: { 200: BankCountsReply, ...errorResponses() },
      },
    },
    async () => ({ counts: await storage.bank.countByDifficulty() }),
  );

  r.get(
    "/api/v1/bank/questions",
    {
      schema: {
        tags: TAG,
        summary: "List bank questions (answers included)",
        security: [...SECURITY.admin],
        querystring: BankListQuery,
        response: {
          200: BankQuestionsReply,
          ...errorResponses("VALIDATION", "UNAUTHORIZED", "FORBIDDEN"),
        },
      },
    },
    async (req) => {
      await auth.requireAdmin(req);
      const { difficulty } = req.query;
      const list = await storage.bank.list(difficulty === undefined ? {} : { difficulty });
      return { questions: list.map((q) => questionToDocument(q, WITH_ANSWERS)) };
    },
  );

  r.post(
    "/api/v1/bank/questions",
    {
      schema: {
        tags: TAG,
        summary: "Add questions to the bank",
        description:
          "Each question needs a `difficulty`; a question whose id is already in the bank " +
          "replaces it, one without an id gets a new one. Nothing is added unless every " +
          "question is valid; the 400 lists every issue.",
        security: [...SECURITY.admin],
        body: BankAddBody,
        response: {
          201: BankAddReply,
          ...errorResponses("VALIDATION", "UNAUTHORIZED", "FORBIDDEN"),
        },
      },
    },
    async (req, reply) => {
      await auth.requireAdmin(req);
      const issues: QuizIssue[] = [];
      const questions: Question[] = [];
      req.body.questions.forEach((doc, i) => {
        const at = `questions[${i}]`;
        if (doc.difficulty === undefined) {
          issues.push({ path: `${at}.difficulty`, msg: "is required (easy, medium or hard)" });
        }
        const parsed = parseQuestionDocument(doc, { newId: ctx.newId });
        if (parsed.ok) questions.push(parsed.question);
        else
          for (const issue of parsed.issues)
            issues.push({ path: issue.path ? `${at}.${issue.path}` : at, msg: issue.msg });
      });
      if (issues.length > 0) throw invalid("invalid questions", issues, "invalid_question");
      await storage.bank.put(questions);
      return reply.code(201).send({ added: questions.length });
    },
  );

  r.get(
    "/api/v1/bank/draw",
    {
      schema: {
        tags: TAG,
        summary: "Draw random distinct questions from the bank",
        description:
          "409 STATE `bank_short` when the bank holds fewer than `count` (the message says how many).",
        security: [...SECURITY.admin],
        querystring: DrawQuery,
        response: {
          200: BankQuestionsReply,
          ...errorResponses("VALIDATION", "UNAUTHORIZED", "FORBIDDEN", "STATE"),
        },
      },
    },
    async (req) => {
      await auth.requireAdmin(req);
      const { difficulty, count } = req.query;
      const pool = await storage.bank.list(difficulty === undefined ? {} : { difficulty });
      const drawn = drawQuestions(pool, count, ctx.random);
      if (!drawn.ok) {
        const which = difficulty === undefined ? "" : `${difficulty} `;
        throw new RestError(
          "STATE",
          `the bank has only ${drawn.available} ${which}questions; ${count} were asked for`,
          "bank_short",
        );
      }
      return { questions: drawn.questions.map((q) => questionToDocument(q, WITH_ANSWERS)) };
    },
  );
}
