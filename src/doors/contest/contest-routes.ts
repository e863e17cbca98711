import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { AuthError, type Identity } from "../../auth/identity.js";
import { loginUserId } from "../../auth/login-ids.js";
import { drawQuestions } from "../../content/question-bank.js";
import { asQuizId } from "../../domain/ids.js";
import type { Difficulty, Question, Quiz } from "../../domain/quiz.js";
import type { DoorDeps } from "../door.js";
import { bearerOf, looksLikeJwt } from "../rest/auth.js";
import { errorResponses, invalid, RestError } from "../rest/errors.js";
import {
  CONTEST_PATH_PREFIX,
  CreateContestBody,
  CreateContestReply,
  LOGIN_TOKEN_TTL_SECONDS,
  LoginBody,
  LoginReply,
} from "./protocol.js";

const TAG = ["contests (seed 004)"];
const UNPRINTABLE = /[\p{Cc}\p{Cf}\u2028\u2029]/u;
/** What a seed 004 client can answer with one option's text. */
const CONTEST_KINDS: ReadonlySet<Question["kind"]> = new Set(["single", "true_false"]);
/**
 * `POST /login` per client address, across instances (docs/limits.md). Generous: the seed's front
 * end calls it server-side for each of its players, all from one address.
 */
export const LOGIN_LIMIT = { limit: 60, windowMs: 60_000 } as const;

/**
 * Seed 004's REST side: the development login and contest creation. Errors
 * use the server's one REST error body (docs/errors.md); the seed shows none.
 */
export function registerContestRoutes(app: FastifyInstance, deps: DoorDeps): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { identity, clock } = deps;

  if (deps.config.loginEnabled) {
    r.post(
      "/login",
      {
        // Validated with TypeBox whatever compiler the root instance has.
        validatorCompiler: TypeBoxValidatorCompiler,
        schema: {
          tags: TAG,
          summary: "Development login: a 2-hour JWT for any username (password not checked)",
          description:
            "Seed 004's login. It checks no password: anyone who can reach it gets a token for " +
            "any name. Turn it off with LOGIN_ENABLED=false where another application issues " +
            "the tokens (same JWT_SECRET, claims user_id and username).",
          body: LoginBody,
          response: {
            200: LoginReply,
            ...errorResponses("VALIDATION", "RATE_LIMIT", "UNAVAILABLE"),
          },
        },
      },
      async (req) => {
        // Tokens for any name must not be minted in bulk: a limit per address, on every instance.
        const take = await deps.sharedLimiter.take(
          `login:${req.ip}`,
          LOGIN_LIMIT.limit,
          LOGIN_LIMIT.windowMs,
        );
        if (!take.allowed) {
          throw new RestError(
            "RATE_LIMIT",
            "too many logins from this address; wait a minute",
            "rate_limited",
            undefined,
            take.retryAfterMs,
          );
        }
        const username = req.body.username.trim();
        if (username === "" || UNPRINTABLE.test(username)) {
          throw invalid(
            "invalid body",
            [{ path: "username", msg: "must be printable text and not blank" }],
            "bad_request",
          );
        }
        // The seed's user id: user_<username>_<unix seconds>.
        const userId = loginUserId(username, Math.floor(clock.now() / 1000));
        let token: string;
        try {
          token = await identity.issueToken({ userId, username }, LOGIN_TOKEN_TTL_SECONDS);
        } catch (err) {
          if (err instanceof AuthError)
            throw new RestError("UNAVAILABLE", err.message, "no_secret");
          throw err;
        }
        return { token, user_id: userId, username };
      },
    );
  }

  r.post(
    "/api/contests",
    {
      validatorCompiler: TypeBoxValidatorCompiler,
      schema: {
        tags: TAG,
        summary: "Create a quick-fire contest from random bank questions",
        description:
          "Needs `Authorization: Bearer <jwt>`; the caller becomes the contest's host and plays " +
          "too. 409 STATE `bank_short` when the bank has too few questions of that difficulty " +
          "(the message says how many it has).",
        security: [{ jwt: [] }],
        body: CreateContestBody,
        response: {
          200: CreateContestReply,
          ...errorResponses("VALIDATION", "UNAUTHORIZED", "STATE", "UNAVAILABLE"),
        },
      },
    },
    async (req) => {
      const caller = await callerOf(req, deps);
      const { difficulty, question_count: count } = req.body;
      const questions = await draw(deps, difficulty, count);
      const now = clock.now();
      const quiz: Quiz = {
        id: asQuizId(`contest:${difficulty}`),
        title: `Quick fire (${difficulty})`,
        description: "",
        questions,
        createdAt: now,
        updatedAt: now,
      };
      // The creator hosts AND plays: no separate host membership; the room knows the host by user id.
      const created = await deps.sessions.createFromQuiz(caller, quiz, {
        mode: "quick_fire",
        settings: {},
        hostName: null,
      });
      if (!created.ok) throw RestError.fromDomain(created.error);
      const id = created.value.handle.id;
      return { contest_id: id, websocket_url: `${CONTEST_PATH_PREFIX}${id}` };
    },
  );
}

async function callerOf(req: FastifyRequest, deps: DoorDeps): Promise<Identity> {
  const bearer = bearerOf(req);
  if (bearer === null) {
    throw new RestError(
      "UNAUTHORIZED",
      "creating a contest needs Authorization: Bearer <token>",
      "token_required",
    );
  }
  if (!looksLikeJwt(bearer)) throw new RestError("UNAUTHORIZED", "invalid token", "invalid_token");
  try {
    return await deps.identity.fromJwt(bearer);
  } catch (err) {
    if (err instanceof AuthError) throw new RestError("UNAUTHORIZED", err.message, "invalid_token");
    throw err;
  }
}

async function draw(deps: DoorDeps, difficulty: Difficulty, count: number): Promise<Question[]> {
  const pool = (await deps.storage.bank.list({ difficulty })).filter((q) =>
    CONTEST_KINDS.has(q.kind),
  );
  const drawn = drawQuestions(pool, count, deps.random);
  if (!drawn.ok) {
    throw new RestError(
      "STATE",
      `the bank has only ${drawn.available} ${difficulty} choice questions; ${count} were asked for`,
      "bank_short",
    );
  }
  return drawn.questions;
}
