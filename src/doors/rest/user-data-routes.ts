import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import type Type from "typebox";
import { asUserId } from "../../domain/ids.js";
import type { AnswerValue } from "../../domain/quiz.js";
import type { UserSessionData } from "../../ports/storage.js";
import { SECURITY } from "./auth.js";
import { errorResponses, RestError } from "./errors.js";
import type { RestContext } from "./index.js";
import { type UserAnswerView, UserDataReply, UserEraseReply, UserParams } from "./schemas.js";

const TAG = ["admin"];

const USER_ID_HELP =
  "The user id as the server stores it: a JWT's subject, or for seed 001's unverified " +
  "`/ws?user_id=alice` the namespaced `seed001:alice`.";

/**
 * One user's data for an administrator: export (seed 003 §12.6 "Right to Access", "Data
 * Portability: JSON export") and erasure ("Right to Erasure"). Admin only.
 */
export function registerUserDataRoutes(app: FastifyInstance, ctx: RestContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { storage, auth } = ctx;

  r.get(
    "/api/v1/admin/users/:user_id/data",
    {
      schema: {
        tags: TAG,
        summary: "Export everything stored about one user (JSON)",
        description: `Every session the user took part in or hosted, with their membership, answers and bans. ${USER_ID_HELP}`,
        security: [...SECURITY.admin],
        params: UserParams,
        response: {
          200: UserDataReply,
          ...errorResponses("VALIDATION", "UNAUTHORIZED", "FORBIDDEN", "UNAVAILABLE"),
        },
      },
    },
    async (req) => {
      await auth.requireAdmin(req);
      const userId = req.params.user_id;
      const data = await storage.sessions.userData(asUserId(userId));
      return { user_id: userId, sessions: data.map(sessionView) };
    },
  );

  r.delete(
    "/api/v1/admin/users/:user_id/data",
    {
      schema: {
        tags: TAG,
        summary: "Erase one user from every ended session",
        description:
          "Deletes the user's memberships, answers, served questions and bans, and the host id " +
          "of sessions they hosted. Refused (409 STATE, user_in_open_session) while a session " +
          `that concerns them has not ended; nothing is erased then. ${USER_ID_HELP}`,
        security: [...SECURITY.admin],
        params: UserParams,
        response: {
          200: UserEraseReply,
          ...errorResponses("VALIDATION", "UNAUTHORIZED", "FORBIDDEN", "STATE", "UNAVAILABLE"),
        },
      },
    },
    async (req) => {
      await auth.requireAdmin(req);
      const userId = asUserId(req.params.user_id);
      const open = (await storage.sessions.userData(userId)).filter((s) => s.phase !== "ended");
      if (open.length > 0) {
        // A running room would write the user back; end those sessions (or wait) first.
        throw new RestError(
          "STATE",
          `the user is in sessions that have not ended: ${open.map((s) => s.sessionId).join(", ")}`,
          "user_in_open_session",
        );
      }
      const erased = await storage.sessions.eraseUser(userId);
      return { user_id: userId, sessions_erased: erased };
    },
  );
}

function sessionView(s: UserSessionData) {
  const p = s.participant;
  return {
    session_id: s.sessionId,
    quiz_id: s.quizId,
    title: s.title,
    mode: s.mode,
    phase: s.phase,
    created_at: s.createdAt,
    started_at: s.startedAt,
    ended_at: s.endedAt,
    hosted: s.hosted,
    participant:
      p === null
        ? null
        : {
            participant_id: p.id,
            name: p.name,
            role: p.role,
            status: p.status,
            score: p.score,
            joined_at: p.joinedAt,
            kick_reason: p.kickReason,
          },
    answers: s.answers.map((a) => ({
      question_index: a.questionIndex,
      question_id: a.questionId,
      answer: answerView(a.answer),
      correct: a.correct,
      points: a.points,
      elapsed_ms: a.elapsedMs,
      received_at: a.receivedAt,
    })),
    bans: s.bans.map((b) => ({ until: b.until, reason: b.reason })),
  };
}

function answerView(a: AnswerValue): Type.Static<typeof UserAnswerView> {
  switch (a.kind) {
    case "choice":
      return { choice: a.index };
    case "choices":
      return { choices: [...a.indices] };
    case "text":
      return { text: a.text };
  }
}
