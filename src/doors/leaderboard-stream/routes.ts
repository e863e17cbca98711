import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import Type from "typebox";
import { v7 as uuidv7 } from "uuid";
import type { Identity } from "../../auth/identity.js";
import { asParticipantId } from "../../domain/ids.js";
import type { RoomHandle } from "../../engine/room-handle.js";
import type { Actor, Reply } from "../../engine/types.js";
import type { CreateInput } from "../../services/session-service.js";
import type { DoorDeps } from "../door.js";
import { RestAuth, SECURITY } from "../rest/auth.js";
import { errorResponses, invalid, RestError, unwrap } from "../rest/errors.js";
import { documentedBodyOnly } from "../rest/index.js";
import { answeringActor, joiningIdentity } from "./answerer.js";
import { boardMessage, readBoard, storedBoard } from "./board.js";
import {
  AnswerBody,
  AnswerReply,
  CreateQuizBody,
  CreateQuizReply,
  ENDPOINTS,
  JoinBody,
  JoinReply,
  LEADERBOARD_CAP,
  LeaderboardMessage,
  QUIZ_TTL_MS,
  QuizParams,
  SEED002_DOOR,
} from "./protocol.js";
import { memberOf } from "./queries.js";
import { decodeCreateBody } from "./quiz-input.js";

/** The OpenAPI tag of the dialect's routes. */
export const SEED002_TAG = "seed 002";
const TAG = [SEED002_TAG];

const actorOf = (identity: Identity): Actor => ({
  userId: identity.userId,
  roles: identity.roles,
  anonymous: identity.anonymous,
});

function quizNotFound(): RestError {
  return new RestError("NOT_FOUND", "quiz not found", "no_session");
}

function quizEnded(): RestError {
  return new RestError("STATE", "this quiz has ended", "room_ended");
}

/** The server running the quiz cannot be reached (several instances): nothing is known, retry. */
function quizUnreachable(): RestError {
  return new RestError(
    "UNAVAILABLE",
    "the server running this quiz cannot be reached right now; please retry",
    "owner_unreachable",
  );
}

/**
 * A command's result, with the two failures a handle adds put in the dialect's
 * words: the quiz closed since it was found, or its server is out of reach.
 */
function settle<T>(reply: Reply<T>): T {
  if (!reply.ok && reply.error.reason === "room_closed") throw quizEnded();
  if (!reply.ok && reply.error.reason === "owner_unreachable") throw quizUnreachable();
  return unwrap(reply);
}

/**
 * Seed 002's REST family: create a running quiz, join it, answer, read the
 * leaderboard. Errors use the server's one REST error body (rest/errors.ts).
 * Scores, timing and ranking are the engine's; these routes only translate.
 */
export function registerSeed002Routes(app: FastifyInstance, deps: DoorDeps): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const auth = new RestAuth({ identity: deps.identity, adminToken: deps.config.adminToken });

  /** The quiz's open session; one that is only in storage has ended (409), an unknown one is 404. */
  async function openQuiz(id: string): Promise<RoomHandle> {
    const handle = await deps.sessions.find(id);
    if (handle) return handle;
    if (await deps.sessions.load(id)) throw quizEnded();
    throw quizNotFound();
  }

  r.post(
    "/quizzes",
    {
      validatorCompiler: documentedBodyOnly,
      schema: {
        tags: TAG,
        summary: "Start a self-paced quiz that accepts answers at once",
        description:
          "Body: `{from_quiz}` (a stored quiz id, e.g. vocab-101) or `{title, questions}` with " +
          "seed 001's question shape `{id, text, options, correct_answer, points}` (missing ids " +
          "become q1, q2, …). The quiz runs in self_paced mode with vocab scoring, created by the " +
          "caller (a JWT's user, else anonymous), and completes by itself 24 hours later. " +
          "`quiz_id` is the running session's id (also valid under /api/v1/sessions/{id}).",
        security: [...SECURITY.anyone],
        body: CreateQuizBody,
        response: {
          201: CreateQuizReply,
          ...errorResponses(...ENDPOINTS.createQuiz.errors),
        },
      },
    },
    async (req, reply) => {
      const identity = await auth.caller(req);
      const request = decodeCreateBody(req.body, { now: deps.clock.now(), newId: () => uuidv7() });
      if (request.kind === "invalid") {
        const what = request.reason === "invalid_quiz" ? "invalid quiz" : "invalid body";
        throw invalid(what, request.issues, request.reason);
      }
      const input: Omit<CreateInput, "quizId"> = {
        mode: "self_paced",
        settings: { closesAt: deps.clock.now() + QUIZ_TTL_MS },
        hostName: null,
      };
      const created = unwrap(
        request.kind === "from_quiz"
          ? await deps.sessions.create(identity, { ...input, quizId: request.quizId })
          : await deps.sessions.createFromQuiz(identity, request.quiz, input),
      );
      const { handle } = created;
      unwrap(await handle.execute(actorOf(identity), { type: "start" }));
      return reply.code(201).send({ quiz_id: handle.id });
    },
  );

  r.post(
    "/quizzes/:quizId/participants",
    {
      schema: {
        tags: TAG,
        summary: "Join a quiz",
        description:
          "Adds a participant named `username` (trimmed, 1–24 characters, unique in the quiz " +
          "ignoring case). Each call is a new anonymous participant, unless a JWT is presented: " +
          "its user joins once, and joining again returns the same participant (200).",
        security: [...SECURITY.anyone],
        params: QuizParams,
        body: JoinBody,
        response: {
          200: JoinReply,
          201: JoinReply,
          ...errorResponses(...ENDPOINTS.join.errors),
        },
      },
    },
    async (req, reply) => {
      const identity = joiningIdentity(await auth.caller(req));
      const handle = await openQuiz(req.params.quizId);
      const joined = settle(
        await handle.execute(actorOf(identity), {
          type: "join",
          name: req.body.username,
          // Seed 002 clients read the questions themselves: nothing is pushed, no question timer starts.
          serveQuestions: false,
        }),
      );
      return reply
        .code(joined.resumed ? 200 : 201)
        .send({ participant_id: joined.participantId, username: joined.name });
    },
  );

  r.post(
    "/quizzes/:quizId/answers",
    {
      schema: {
        tags: TAG,
        summary: "Answer a question",
        description:
          "`answer` is the chosen option's text (compared after normalisation, A-3) or a typed " +
          "answer. Replies once the answer is stored (A-5); 503 UNAVAILABLE means nothing was " +
          "recorded and it may be sent again. The first answer to a question counts (A-1): a " +
          "second is 409 STATE `already_answered`. Points follow the quiz's scoring policy, with " +
          "the answer time measured by the server (S-5). The participant id alone is enough only for " +
          "a participant who joined this door without a JWT, in a self_paced quiz; anyone else " +
          "answers with their JWT or resume token as the bearer token (R-5; 401 token_required " +
          "otherwise, 403 not_player for someone else's credentials).",
        security: [{}, { jwt: [] }, { resumeToken: [] }],
        params: QuizParams,
        body: AnswerBody,
        response: {
          200: AnswerReply,
          ...errorResponses(...ENDPOINTS.answer.errors),
        },
      },
    },
    async (req) => {
      const started = performance.now();
      const handle = await openQuiz(req.params.quizId);
      const pid = asParticipantId(req.body.participant_id);
      const member = await memberOf(handle, pid);
      if (member.kind === "gone") throw quizEnded();
      if (member.kind === "unavailable") throw quizUnreachable();
      if (member.kind === "none") {
        throw new RestError("NOT_FOUND", "participant not in quiz", "no_player");
      }
      const actor = await answeringActor(req, auth, handle, pid, member);
      const ack = settle(
        await handle.execute(actor, {
          type: "answer",
          target: { questionId: req.body.question_id },
          answer: { kind: "text", text: req.body.answer },
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      deps.metrics.answerAck.child(SEED002_DOOR).observe(seconds);
      deps.metrics.scoringLatency.child().observe(seconds);
      return { correct: ack.correct, points: ack.points, score: ack.score };
    },
  );

  r.get(
    "/quizzes/:quizId/leaderboard",
    {
      schema: {
        tags: TAG,
        summary: "The quiz's leaderboard (the stream's message shape)",
        description: `The top ${LEADERBOARD_CAP} by rank (unique ranks, L-1/L-2); \`total_participants\` counts every ranked participant. Ended quizzes answer with their final board.`,
        security: [...SECURITY.anyone],
        params: QuizParams,
        response: { 200: LeaderboardMessage, ...errorResponses(...ENDPOINTS.leaderboard.errors) },
      },
    },
    async (req) => {
      const handle = await deps.sessions.find(req.params.quizId);
      const read = handle ? await readBoard(handle) : null;
      if (read?.kind === "board") return boardMessage(read.view, deps.clock.now());
      if (read?.kind === "unavailable") throw quizUnreachable();
      // Not open (any more): an ended quiz's final board is in storage.
      const bundle = await deps.sessions.load(req.params.quizId);
      if (!bundle) throw quizNotFound();
      return boardMessage(storedBoard(bundle), deps.clock.now());
    },
  );

  // Upgrades never reach Fastify (the server's upgrade handler takes them); this documents the stream.
  r.get(
    "/quizzes/:quizId/ws",
    {
      schema: {
        tags: TAG,
        summary: "The leaderboard stream (WebSocket; see docs/protocols/seed-002.md)",
        description:
          "Open a WebSocket with `?participant_id=`. Before the upgrade: 400 `missing " +
          "participant_id parameter`, 404 `quiz not found`, 403 `participant not in quiz` " +
          '(plain text, "WebSocket upgrade failed: …"). Then one leaderboard message on connect ' +
          "and one after each change. A plain GET without an upgrade is 426.",
        params: QuizParams,
        querystring: Type.Object({ participant_id: Type.Optional(Type.String()) }),
        response: {
          426: {
            description: "Not a WebSocket upgrade request",
            content: { "text/plain": { schema: Type.String() } },
          },
        },
      },
    },
    async (_req, reply) =>
      reply
        .code(426)
        .header("upgrade", "websocket")
        .type("text/plain; charset=utf-8")
        .send("WebSocket upgrade failed: expected a WebSocket upgrade request"),
  );
}
