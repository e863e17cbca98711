import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifyReply } from "fastify";
import Type from "typebox";
import { parseQuizCsv } from "../../content/quiz-csv.js";
import {
  type ParseContext,
  parseQuizDocument,
  QuizDocument,
  quizToDocument,
} from "../../content/quiz-format.js";
import { asQuizId } from "../../domain/ids.js";
import type { Quiz } from "../../domain/quiz.js";
import { SECURITY } from "./auth.js";
import { errorResponses, invalid, RestError } from "./errors.js";
import { documentedBodyOnly, type RestContext } from "./index.js";
import { checkQuizImages, imagesForExport, storeImages } from "./quiz-images.js";
import { IdParams, ImportQuery, QuizGetQuery, QuizListReply } from "./schemas.js";

const TAG = ["quizzes"];
const WITH_ANSWERS = { includeAnswers: true } as const;
const WITHOUT_ANSWERS = { includeAnswers: false } as const;
/**
 * Quiz bodies may carry their pictures (an export does): room for a dozen or so full-size ones.
 * Admin routes only; a body past it is refused with reason `body_too_large`.
 */
const QUIZ_BODY_LIMIT = 32 * 1024 * 1024;

/** Quiz documents over REST (content/quiz-format.ts is the one definition of their shape). */
export function registerQuizRoutes(app: FastifyInstance, ctx: RestContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { storage, auth } = ctx;
  const parseCtx = (): ParseContext => ({ now: ctx.clock.now(), newId: ctx.newId });

  // CSV arrives as text; parseQuizCsv checks it.
  app.addContentTypeParser("text/csv", { parseAs: "string" }, (_req, body, done) => {
    done(null, body);
  });

  /**
   * Stores a parsed quiz. When the document named its id and that quiz exists,
   * identical content is an idempotent retry (200); different content is a
   * 409 unless `replace` (POST /api/v1/quizzes replaces, so a seed 001 client
   * that posts its own `vocab-101` works against a server shipping the demo one).
   */
  /**
   * The quiz's pictures must exist (or come with the document, as an export carries them):
   * checked before anything is stored, and the carried ones stored before the quiz.
   */
  async function withImages(quiz: Quiz, body: unknown): Promise<void> {
    const carried = isObject(body) && isObject(body.images) ? body.images : undefined;
    const { toStore, issues } = await checkQuizImages(
      storage,
      quiz,
      carried as QuizDocument["images"],
    );
    if (issues.length > 0) throw invalid("invalid quiz", issues, "invalid_quiz");
    await storeImages(storage, toStore, ctx.clock.now());
  }

  async function create(quiz: Quiz, idGiven: boolean, reply: FastifyReply, replace: boolean) {
    if (idGiven) {
      const existing = await storage.quizzes.get(quiz.id);
      if (existing) {
        if (sameContent(existing, quiz))
          return reply.code(200).send(quizToDocument(existing, WITH_ANSWERS));
        if (!replace) {
          throw new RestError(
            "CONFLICT",
            `a different quiz with id "${quiz.id}" exists`,
            "quiz_exists",
          );
        }
        // Sessions keep their own copy of the questions, so replacing never changes a running game.
        const replaced = { ...quiz, createdAt: existing.createdAt };
        await storage.quizzes.put(replaced);
        return reply.code(200).send(quizToDocument(replaced, WITH_ANSWERS));
      }
    }
    await storage.quizzes.put(quiz);
    return reply.code(201).send(quizToDocument(quiz, WITH_ANSWERS));
  }

  r.get(
    "/api/v1/quizzes",
    {
      schema: {
        tags: TAG,
        summary: "List quizzes",
        security: [...SECURITY.anyone],
        response: { 200: QuizListReply, ...errorResponses() },
      },
    },
    async () => {
      const list = await storage.quizzes.list();
      return {
        quizzes: list.map((q) => ({
          id: q.id,
          title: q.title,
          description: q.description,
          question_count: q.questionCount,
          updated_at: q.updatedAt,
        })),
      };
    },
  );

  r.post(
    "/api/v1/quizzes",
    {
      validatorCompiler: documentedBodyOnly,
      bodyLimit: QUIZ_BODY_LIMIT,
      schema: {
        tags: TAG,
        summary: "Create a quiz",
        description:
          "Body: a quiz document (seed 001's `{id, title, questions:[{id, text, options, " +
          "correct_answer, points}]}` works as it is). Replies with the stored quiz, answers " +
          "included: 201 when created, 200 when a quiz with the document's id existed and was " +
          "replaced (or was identical). Running sessions keep their own copy of the questions. " +
          "Every problem with the document is listed in `issues` of a 400.",
        security: [...SECURITY.admin],
        body: QuizDocument,
        response: {
          200: QuizDocument,
          201: QuizDocument,
          ...errorResponses("VALIDATION", "UNAUTHORIZED", "FORBIDDEN", "CONFLICT"),
        },
      },
    },
    async (req, reply) => {
      await auth.requireAdmin(req);
      const body: unknown = req.body;
      const parsed = parseQuizDocument(body, parseCtx());
      if (!parsed.ok) throw invalid("invalid quiz", parsed.issues, "invalid_quiz");
      await withImages(parsed.quiz, body);
      return create(parsed.quiz, hasId(body), reply, true);
    },
  );

  r.post(
    "/api/v1/quizzes/import",
    {
      validatorCompiler: documentedBodyOnly,
      bodyLimit: QUIZ_BODY_LIMIT,
      schema: {
        tags: TAG,
        summary: "Import a quiz from JSON or CSV",
        description:
          "`Content-Type: application/json`: a quiz document (as POST /api/v1/quizzes, and what " +
          "GET …/export writes). `Content-Type: text/csv`: one question per row (columns " +
          "question, answer_1..answer_6, correct, kind, time_limit, points, difficulty, tags); " +
          "the title and description come from the query. CSV issues name their line.",
        security: [...SECURITY.admin],
        querystring: ImportQuery,
        body: {
          content: {
            "application/json": { schema: QuizDocument },
            "text/csv": { schema: Type.String({ description: "CSV with a header row" }) },
          },
        },
        response: {
          200: QuizDocument,
          201: QuizDocument,
          ...errorResponses("VALIDATION", "UNAUTHORIZED", "FORBIDDEN", "CONFLICT"),
        },
      },
    },
    async (req, reply) => {
      await auth.requireAdmin(req);
      const body: unknown = req.body;
      if (typeof body === "string") {
        const { title, description } = req.query;
        if (title === undefined) {
          const issue = { path: "title", msg: "is required for text/csv (query parameter)" };
          throw invalid("invalid import", [issue], "missing_title");
        }
        const meta = description === undefined ? { title } : { title, description };
        const parsed = parseQuizCsv(body, meta, parseCtx());
        if (!parsed.ok) throw invalid("invalid CSV", parsed.issues, "invalid_quiz");
        await withImages(parsed.quiz, undefined);
        return create(parsed.quiz, false, reply, false);
      }
      const parsed = parseQuizDocument(body, parseCtx());
      if (!parsed.ok) throw invalid("invalid quiz", parsed.issues, "invalid_quiz");
      await withImages(parsed.quiz, body);
      return create(parsed.quiz, hasId(body), reply, false);
    },
  );

  r.get(
    "/api/v1/quizzes/:id",
    {
      schema: {
        tags: TAG,
        summary: "Get a quiz (without answers unless ?answers=true, admin)",
        security: [...SECURITY.anyone, ...SECURITY.admin],
        params: IdParams,
        querystring: QuizGetQuery,
        response: {
          200: QuizDocument,
          ...errorResponses("VALIDATION", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"),
        },
      },
    },
    async (req) => {
      const answers = req.query.answers === true;
      if (answers) await auth.requireAdmin(req);
      const quiz = await getQuiz(req.params.id);
      return quizToDocument(quiz, answers ? WITH_ANSWERS : WITHOUT_ANSWERS);
    },
  );

  r.put(
    "/api/v1/quizzes/:id",
    {
      validatorCompiler: documentedBodyOnly,
      bodyLimit: QUIZ_BODY_LIMIT,
      schema: {
        tags: TAG,
        summary: "Replace a quiz",
        description:
          "The body's id must be absent or equal to the path's. Sessions already created keep their copy.",
        security: [...SECURITY.admin],
        params: IdParams,
        body: QuizDocument,
        response: {
          200: QuizDocument,
          ...errorResponses("VALIDATION", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"),
        },
      },
    },
    async (req) => {
      await auth.requireAdmin(req);
      const id = req.params.id;
      const body: unknown = req.body;
      if (isObject(body) && body.id !== undefined && body.id !== id) {
        throw invalid(
          "invalid quiz",
          [{ path: "id", msg: `must be absent or "${id}" (the id in the path)` }],
          "id_mismatch",
        );
      }
      const existing = await getQuiz(id);
      const doc = isObject(body) ? { ...body, id } : body;
      const parsed = parseQuizDocument(doc, parseCtx());
      if (!parsed.ok) throw invalid("invalid quiz", parsed.issues, "invalid_quiz");
      const quiz: Quiz = { ...parsed.quiz, createdAt: existing.createdAt };
      await withImages(quiz, body);
      await storage.quizzes.put(quiz);
      return quizToDocument(quiz, WITH_ANSWERS);
    },
  );

  r.delete(
    "/api/v1/quizzes/:id",
    {
      schema: {
        tags: TAG,
        summary: "Delete a quiz",
        description: "Sessions created from it keep their own copy of the questions.",
        security: [...SECURITY.admin],
        params: IdParams,
        response: {
          204: Type.Null({ description: "deleted" }),
          ...errorResponses("UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"),
        },
      },
    },
    async (req, reply) => {
      await auth.requireAdmin(req);
      const deleted = await storage.quizzes.delete(asQuizId(req.params.id));
      if (!deleted) throw noQuiz(req.params.id);
      return reply.code(204).send(null);
    },
  );

  r.get(
    "/api/v1/quizzes/:id/export",
    {
      schema: {
        tags: TAG,
        summary: "Export a quiz as a JSON file (answers included)",
        description:
          'Served with `Content-Disposition: attachment; filename="<id>.json"`; POST it to …/import to restore.',
        security: [...SECURITY.admin],
        params: IdParams,
        response: {
          200: QuizDocument,
          ...errorResponses("UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"),
        },
      },
    },
    async (req, reply) => {
      await auth.requireAdmin(req);
      const quiz = await getQuiz(req.params.id);
      const doc = quizToDocument(quiz, WITH_ANSWERS);
      const images = await imagesForExport(storage, quiz);
      if (images !== undefined) doc.images = images;
      // A file people open and edit: indented, keys in the document's own order.
      return reply
        .type("application/json; charset=utf-8")
        .header("content-disposition", `attachment; filename="${quiz.id}.json"`)
        .serializer((d) => `${JSON.stringify(d, null, 2)}\n`)
        .send(doc);
    },
  );

  async function getQuiz(id: string): Promise<Quiz> {
    const quiz = await storage.quizzes.get(asQuizId(id));
    if (!quiz) throw noQuiz(id);
    return quiz;
  }
}

function noQuiz(id: string): RestError {
  return new RestError("NOT_FOUND", `no quiz with id ${JSON.stringify(id)}`, "no_quiz");
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function hasId(body: unknown): boolean {
  return isObject(body) && typeof body.id === "string";
}

/** Same questions, title and description (timestamps aside). */
function sameContent(a: Quiz, b: Quiz): boolean {
  return (
    JSON.stringify(quizToDocument(a, WITH_ANSWERS)) ===
    JSON.stringify(quizToDocument(b, WITH_ANSWERS))
  );
}
