import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import Type, { type Static } from "typebox";
import { hashToken } from "../../auth/token-hash.js";
import { asParticipantId, asUserId } from "../../domain/ids.js";
import { type PhaseKind, type SessionStatus, statusOf } from "../../domain/phase.js";
import type { AnswerValue } from "../../domain/quiz.js";
import { buildResults } from "../../domain/results.js";
import type { RoomRuntime } from "../../engine/room-runtime.js";
import type {
  Actor,
  AnswerAck,
  AnswerTarget,
  Command,
  JoinResult,
  Snapshot,
} from "../../engine/types.js";
import type { SessionBundle } from "../../ports/storage.js";
import {
  RESULTS_CSV_COLUMNS,
  ResultsView,
  toResultsCsv,
  toResultsView,
} from "../schemas/results.js";
import { settingsFromInput, settingsView } from "../schemas/session-settings.js";
import { snapshotView, standingView } from "../schemas/views.js";
import { ADMIN_ACTOR, type HostTarget, roomTarget, SECURITY } from "./auth.js";
import { errorResponses, RestError, unwrap } from "./errors.js";
import type { RestContext } from "./index.js";
import {
  AnswerBody,
  AnswerReply,
  ControlReply,
  CreateSessionBody,
  CreateSessionReply,
  IdParams,
  JoinBody,
  JoinReply,
  KickBody,
  LeaderboardQuery,
  LeaderboardReply,
  LockBody,
  PinParams,
  RoomByPinReply,
  SessionDetailReply,
  SessionListQuery,
  SessionListReply,
} from "./schemas.js";

const TAG = ["sessions"];
const DOOR = "rest";
/** Unknown-PIN lookups allowed per IP (shared with the WebSocket door's bucket) and their window. */
export const PIN_GUESSES = { limit: 30, windowMs: 10 * 60_000 } as const;

const RESULTS_ACCESS =
  "Anyone may read the results of an ended session. While it runs, only its host (host token " +
  "or the host's JWT) or an admin may: the report shows every question's correct answer.";

/** Reads views as a bystander: never a member, never the host. */
const BYSTANDER: Actor = { userId: asUserId("rest:bystander"), roles: [], anonymous: true };

type Control = Static<typeof ControlReply>;

/** Where a session is: loaded in this process, or only in storage. */
type Located = { kind: "loaded"; runtime: RoomRuntime } | { kind: "stored"; bundle: SessionBundle };

/** Sessions over REST: create, read, join, answer, host control, leaderboards and results. */
export function registerSessionRoutes(app: FastifyInstance, ctx: RestContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { sessions, auth } = ctx;
  // started_at never changes once set; rooms created here do not carry it in their record.
  const startedAtCache = new Map<string, number>();
  const pinBlockedUntil = new Map<string, number>();

  async function locate(id: string): Promise<Located> {
    const runtime = sessions.find(id);
    if (runtime) return { kind: "loaded", runtime };
    const bundle = await sessions.load(id);
    if (bundle) return { kind: "stored", bundle };
    throw noSession(id);
  }

  /** The loaded room; a session only in storage has ended (409), an unknown one is 404. */
  async function openRoom(id: string): Promise<RoomRuntime> {
    const at = await locate(id);
    if (at.kind === "loaded") return at.runtime;
    throw new RestError("STATE", "this session has ended", "room_ended");
  }

  function control(runtime: RoomRuntime): Control {
    const phase = runtime.room.currentPhase;
    return { session_id: runtime.id, status: statusOf(phase), phase: phase.kind };
  }

  async function hostCommand(req: FastifyRequest, id: string, command: Command): Promise<Control> {
    const runtime = await openRoom(id);
    const actor = await auth.hostActor(req, roomTarget(runtime));
    unwrap(await runtime.execute(actor, command));
    return control(runtime);
  }

  async function startedAt(runtime: RoomRuntime, status: SessionStatus): Promise<number | null> {
    if (status === "waiting") return null;
    const known = runtime.room.record.state.startedAt ?? startedAtCache.get(runtime.id);
    if (known !== undefined && known !== null) return known;
    const stored = (await sessions.load(runtime.id))?.session.state.startedAt ?? null;
    if (stored !== null) startedAtCache.set(runtime.id, stored);
    return stored;
  }

  async function snapshotOf(runtime: RoomRuntime, role: "spectator" | "player"): Promise<Snapshot> {
    return unwrap(await runtime.execute(BYSTANDER, { type: "snapshot", role })) as Snapshot;
  }

  /**
   * Results are public once the session has ended. Before that only its host
   * or an admin may read them: the report shows every question's answer.
   */
  async function requireResultsAccess(req: FastifyRequest, at: Located): Promise<void> {
    const ended =
      at.kind === "loaded" ? at.runtime.room.ended : at.bundle.session.state.phase.kind === "ended";
    if (ended || (await auth.isAdmin(req))) return;
    await auth.hostActor(
      req,
      at.kind === "loaded" ? roomTarget(at.runtime) : bundleTarget(at.bundle),
    );
  }

  async function resultsOf(at: Located) {
    // Read-your-writes: the end, and anything else the room queued, is stored before the report.
    if (at.kind === "loaded") await ctx.committer.idle();
    const bundle = at.kind === "stored" ? at.bundle : await sessions.load(at.runtime.id);
    if (!bundle) throw noSession(at.kind === "loaded" ? at.runtime.id : at.bundle.session.id);
    return buildResults(bundle);
  }

  const byId = { params: IdParams };

  r.post(
    "/api/v1/sessions",
    {
      schema: {
        tags: TAG,
        summary: "Create a session from a stored quiz",
        description:
          "Open to anyone (like create_room over WebSocket); the caller's identity becomes the " +
          "host user. `mode` defaults to self_paced (seed 001). `max_participants` overrides " +
          "`settings.max_participants`. Keep `host_token`: it is the bearer credential for host control.",
        security: [...SECURITY.anyone],
        body: CreateSessionBody,
        response: {
          201: CreateSessionReply,
          ...errorResponses("VALIDATION", "UNAUTHORIZED", "NOT_FOUND", "UNAVAILABLE"),
        },
      },
    },
    async (req, reply) => {
      const identity = await auth.caller(req);
      const b = req.body;
      const settings = settingsFromInput(b.settings);
      if (b.max_participants !== undefined) settings.maxParticipants = b.max_participants;
      const mode = b.mode ?? "self_paced";
      const created = unwrap(
        await sessions.create(identity, {
          quizId: b.quiz_id,
          mode,
          settings,
          hostName: b.host_name ?? identity.handle ?? "Host",
        }),
      );
      const { runtime } = created;
      const record = runtime.room.record;
      return reply.code(201).send({
        session_id: runtime.id,
        quiz_id: record.quizId,
        status: "waiting" as const,
        mode: record.settings.mode,
        pin: record.pin,
        join_url: sessions.joinUrl(record.pin),
        host_token: created.hostToken ?? "",
        host_participant_id: created.hostParticipantId ?? "",
        settings: settingsView(record.settings),
      });
    },
  );

  r.get(
    "/api/v1/sessions",
    {
      schema: {
        tags: TAG,
        summary: "List sessions (newest first)",
        security: [...SECURITY.admin],
        querystring: SessionListQuery,
        response: {
          200: SessionListReply,
          ...errorResponses("VALIDATION", "UNAUTHORIZED", "FORBIDDEN"),
        },
      },
    },
    async (req) => {
      await auth.requireAdmin(req);
      const list = await ctx.storage.sessions.list({
        limit: req.query.limit ?? 50,
        includeEnded: req.query.include_ended ?? false,
      });
      return {
        sessions: list.map((s) => ({
          session_id: s.id,
          pin: s.pin,
          quiz_id: s.quizId,
          title: s.title,
          mode: s.mode,
          phase: s.phase,
          status: statusOfKind(s.phase),
          participant_count: s.participantCount,
          created_at: s.createdAt,
          ended_at: s.endedAt,
        })),
      };
    },
  );

  r.get(
    "/api/v1/sessions/:id",
    {
      schema: {
        tags: TAG,
        summary: "A session's status (and the spectator's view while it is loaded)",
        security: [...SECURITY.anyone],
        ...byId,
        response: { 200: SessionDetailReply, ...errorResponses("NOT_FOUND") },
      },
    },
    async (req) => {
      const at = await locate(req.params.id);
      if (at.kind === "stored") {
        const s = at.bundle.session;
        return {
          session_id: s.id,
          quiz_id: s.quizId,
          status: statusOf(s.state.phase),
          mode: s.settings.mode,
          pin: s.pin,
          title: s.title,
          phase: s.state.phase.kind,
          player_count: at.bundle.participants.filter(
            (p) => p.role === "player" && p.status !== "kicked",
          ).length,
          question_count: s.questions.length,
          created_at: s.createdAt,
          started_at: s.state.startedAt,
          ended_at: s.state.endedAt,
          state: null,
        };
      }
      const { runtime } = at;
      const snap = await snapshotOf(runtime, "spectator");
      const phase = runtime.room.currentPhase;
      const record = runtime.room.record;
      return {
        session_id: runtime.id,
        quiz_id: record.quizId,
        status: snap.status,
        mode: snap.mode,
        pin: snap.pin,
        title: snap.title,
        phase: phase.kind,
        player_count: snap.playerCount,
        question_count: snap.questionCount,
        created_at: record.createdAt,
        started_at: await startedAt(runtime, snap.status),
        ended_at: phase.kind === "ended" ? phase.at : null,
        state: snapshotView(snap),
      };
    },
  );

  const hostSchema = (summary: string, description?: string) => ({
    tags: TAG,
    summary,
    ...(description ? { description } : {}),
    security: [...SECURITY.host],
    ...byId,
    response: {
      200: ControlReply,
      ...errorResponses("VALIDATION", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "STATE"),
    },
  });

  r.post(
    "/api/v1/sessions/:id/start",
    { schema: hostSchema("Start the session (host)") },
    async (req) => hostCommand(req, req.params.id, { type: "start" }),
  );
  r.post(
    "/api/v1/sessions/:id/next",
    {
      schema: hostSchema(
        "Advance: close the open question, or leave the reveal (host)",
        "live and quick_fire only; self_paced participants move at their own pace (409 STATE).",
      ),
    },
    async (req) => hostCommand(req, req.params.id, { type: "next" }),
  );
  r.post(
    "/api/v1/sessions/:id/end",
    { schema: hostSchema("End the session now (host)") },
    async (req) => hostCommand(req, req.params.id, { type: "end" }),
  );
  r.post(
    "/api/v1/sessions/:id/lock",
    { schema: { ...hostSchema("Lock or unlock the room to new players (host)"), body: LockBody } },
    async (req) => hostCommand(req, req.params.id, { type: "lock", locked: req.body.locked }),
  );
  r.post(
    "/api/v1/sessions/:id/kick",
    {
      schema: {
        ...hostSchema("Remove a player, banning them for the session's ban_ms (host)"),
        body: KickBody,
      },
    },
    async (req) =>
      hostCommand(req, req.params.id, {
        type: "kick",
        participantId: asParticipantId(req.body.participant_id),
        reason: req.body.reason ?? "removed by the host",
      }),
  );

  const adminClose = async (id: string): Promise<Control> => {
    const runtime = await openRoom(id);
    if (runtime.room.ended)
      throw new RestError("STATE", "this session has already ended", "room_ended");
    runtime.close("closed");
    return control(runtime);
  };
  const adminKick = async (id: string, body: Static<typeof KickBody>): Promise<Control> => {
    const runtime = await openRoom(id);
    unwrap(
      await runtime.execute(ADMIN_ACTOR, {
        type: "kick",
        participantId: asParticipantId(body.participant_id),
        reason: body.reason ?? "removed by an admin",
      }),
    );
    return control(runtime);
  };
  const adminSchema = (summary: string, tags: string[]) => ({
    tags,
    summary,
    security: [...SECURITY.admin],
    ...byId,
    response: {
      200: ControlReply,
      ...errorResponses("VALIDATION", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "STATE"),
    },
  });

  r.post(
    "/api/v1/sessions/:id/close",
    { schema: adminSchema('End a session as an admin (reason "closed")', TAG) },
    async (req) => {
      await auth.requireAdmin(req);
      return adminClose(req.params.id);
    },
  );
  r.post(
    "/internal/rooms/:id/close",
    { schema: adminSchema("Seed 000 alias of POST /api/v1/sessions/{id}/close", ["admin"]) },
    async (req) => {
      await auth.requireAdmin(req);
      return adminClose(req.params.id);
    },
  );
  r.post(
    "/internal/rooms/:id/kick",
    {
      schema: {
        ...adminSchema("Seed 000 alias of kick, as an admin", ["admin"]),
        body: KickBody,
      },
    },
    async (req) => {
      await auth.requireAdmin(req);
      return adminKick(req.params.id, req.body);
    },
  );

  r.post(
    "/api/v1/sessions/:id/participants",
    {
      schema: {
        tags: TAG,
        summary: "Join a session as a player",
        description:
          "The caller's identity (JWT or anonymous) becomes the player's user. Keep " +
          "`resume_token`: it is the bearer credential for answering over REST and for resuming " +
          "over WebSocket (resuming over WebSocket issues a new one). A JWT user who already " +
          "joined gets their seat back (200).",
        security: [...SECURITY.anyone],
        ...byId,
        body: JoinBody,
        response: {
          200: JoinReply,
          201: JoinReply,
          ...errorResponses(
            "VALIDATION",
            "UNAUTHORIZED",
            "FORBIDDEN",
            "NOT_FOUND",
            "STATE",
            "CONFLICT",
          ),
        },
      },
    },
    async (req, reply) => {
      const runtime = await openRoom(req.params.id);
      const identity = await auth.caller(req);
      const actor: Actor = {
        userId: identity.userId,
        roles: identity.roles,
        anonymous: identity.anonymous,
      };
      const joined = unwrap(
        await runtime.execute(actor, { type: "join", name: req.body.display_name }),
      ) as JoinResult;
      return reply.code(joined.resumed ? 200 : 201).send({
        participant_id: joined.participantId,
        user_id: joined.userId,
        name: joined.name,
        resume_token: joined.resumeToken,
        session_id: runtime.id,
      });
    },
  );

  r.post(
    "/api/v1/sessions/:id/answers",
    {
      schema: {
        tags: TAG,
        summary: "Answer a question as a participant",
        description:
          "Exactly one of `question_index` / `question_id`, and exactly one of `choice` (single, " +
          "true_false), `choices` (multiple) or `text` (typed; also an option's text). The reply " +
          "comes only once the answer is stored (A-5); a 503 UNAVAILABLE means nothing was " +
          "recorded and the answer may be sent again. 409 STATE when the question is not open (A-2, T-2).",
        security: [...SECURITY.participant],
        ...byId,
        body: AnswerBody,
        response: {
          200: AnswerReply,
          ...errorResponses(
            "VALIDATION",
            "UNAUTHORIZED",
            "FORBIDDEN",
            "NOT_FOUND",
            "STATE",
            "UNAVAILABLE",
          ),
        },
      },
    },
    async (req) => {
      const started = performance.now();
      const runtime = await openRoom(req.params.id);
      const actor = auth.participantActor(req, runtime);
      const { target, answer } = decodeAnswer(req.body);
      const ack = unwrap(
        await runtime.execute(actor, { type: "answer", target, answer }),
      ) as AnswerAck;
      ctx.metrics.answerAck.observe({ door: DOOR }, (performance.now() - started) / 1000);
      return {
        index: ack.index,
        question_id: ack.questionId,
        accepted: true as const,
        correct: ack.correct,
        points: ack.points,
        score: ack.score,
        streak: ack.streak,
        changed: ack.changed,
        elapsed_ms: ack.elapsedMs,
        correct_answer: ack.correctAnswer,
      };
    },
  );

  r.get(
    "/api/v1/sessions/:id/leaderboard",
    {
      schema: {
        tags: TAG,
        summary: "A page of the leaderboard",
        description: "Ranks are unique (L-1); `offset` 0 starts at rank 1.",
        security: [...SECURITY.anyone],
        ...byId,
        querystring: LeaderboardQuery,
        response: { 200: LeaderboardReply, ...errorResponses("VALIDATION", "NOT_FOUND") },
      },
    },
    async (req) => {
      const limit = req.query.limit ?? 10;
      const offset = req.query.offset ?? 0;
      const at = await locate(req.params.id);
      if (at.kind === "loaded") {
        const page = at.runtime.read((room) => room.standingsPage(offset + 1, limit));
        return {
          session_id: at.runtime.id,
          total: page.total,
          leaderboard: page.entries.map(standingView),
        };
      }
      const ranked = buildResults(at.bundle).players.filter((p) => p.rank !== null);
      return {
        session_id: at.bundle.session.id,
        total: ranked.length,
        leaderboard: ranked.slice(offset, offset + limit).map((p) => ({
          participant_id: p.participantId,
          user_id: p.userId,
          name: p.name,
          score: p.score,
          rank: p.rank ?? 0,
        })),
      };
    },
  );

  r.get(
    "/api/v1/sessions/:id/results",
    {
      schema: {
        tags: TAG,
        summary: "The session's results: every player's every answer",
        description: RESULTS_ACCESS,
        security: [...SECURITY.anyone, ...SECURITY.host],
        ...byId,
        response: { 200: ResultsView, ...errorResponses("UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND") },
      },
    },
    async (req) => {
      const at = await locate(req.params.id);
      await requireResultsAccess(req, at);
      return toResultsView(await resultsOf(at));
    },
  );

  r.get(
    "/api/v1/sessions/:id/results.csv",
    {
      schema: {
        tags: TAG,
        summary: "The session's results as CSV, one row per player and question",
        description: RESULTS_ACCESS,
        security: [...SECURITY.anyone, ...SECURITY.host],
        ...byId,
        response: {
          200: {
            description: `CSV, header row first: ${RESULTS_CSV_COLUMNS.join(", ")}`,
            content: { "text/csv": { schema: Type.String() } },
          },
          ...errorResponses("UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"),
        },
      },
    },
    async (req, reply) => {
      const at = await locate(req.params.id);
      await requireResultsAccess(req, at);
      const csv = toResultsCsv(await resultsOf(at));
      return reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="results-${req.params.id}.csv"`)
        .send(csv);
    },
  );

  r.get(
    "/api/v1/rooms/:pin",
    {
      schema: {
        tags: ["rooms"],
        summary: "Find an open room by PIN (what a join page needs)",
        description: `Unknown PINs are rate-limited per IP: ${PIN_GUESSES.limit} per ${PIN_GUESSES.windowMs / 60_000} minutes (shared with WebSocket joins); past that every lookup is 429 RATE_LIMIT until the window refills.`,
        security: [...SECURITY.anyone],
        params: PinParams,
        response: {
          200: RoomByPinReply,
          ...errorResponses("VALIDATION", "NOT_FOUND", "RATE_LIMIT"),
        },
      },
    },
    async (req) => {
      const now = ctx.clock.now();
      const key = `pin:${req.ip}`;
      const blocked = pinBlockedUntil.get(key);
      if (blocked !== undefined) {
        if (blocked > now) throw tooManyGuesses(blocked - now);
        pinBlockedUntil.delete(key);
      }
      const runtime = sessions.findByPin(req.params.pin);
      if (!runtime) {
        const take = ctx.limiter.takeSync(key, PIN_GUESSES.limit, PIN_GUESSES.windowMs);
        if (!take.allowed) {
          pinBlockedUntil.set(key, now + take.retryAfterMs);
          throw tooManyGuesses(take.retryAfterMs);
        }
        throw new RestError("NOT_FOUND", `no open room has PIN ${req.params.pin}`, "bad_pin");
      }
      const snap = await snapshotOf(runtime, "player");
      return {
        room_id: runtime.id,
        title: snap.title,
        mode: snap.mode,
        status: snap.status,
        locked: snap.locked,
        player_count: snap.playerCount,
      };
    },
  );
}

function noSession(id: string): RestError {
  return new RestError("NOT_FOUND", `no session with id ${JSON.stringify(id)}`, "no_session");
}

function tooManyGuesses(retryAfterMs: number): RestError {
  return new RestError(
    "RATE_LIMIT",
    "too many unknown PINs; wait a few minutes",
    "rate_limited",
    undefined,
    retryAfterMs,
  );
}

function statusOfKind(kind: PhaseKind): SessionStatus {
  return kind === "lobby" ? "waiting" : kind === "ended" ? "completed" : "active";
}

/** A stored session as a HostTarget: tokens are checked against the stored hashes. */
function bundleTarget(bundle: SessionBundle): HostTarget {
  return {
    hostUserId: bundle.session.hostUserId,
    authenticate: (token) => {
      const hash = hashToken(token);
      const p = bundle.participants.find(
        (x) => x.resumeTokenHash === hash && x.status !== "kicked",
      );
      return p ? { participantId: p.id, userId: p.userId, role: p.role } : undefined;
    },
  };
}

/** The REST answer body as the room's target and value; anything ambiguous is a 400. */
function decodeAnswer(b: Static<typeof AnswerBody>): { target: AnswerTarget; answer: AnswerValue } {
  const targets = [b.question_index !== undefined, b.question_id !== undefined].filter(
    Boolean,
  ).length;
  if (targets !== 1) {
    throw new RestError(
      "VALIDATION",
      "give exactly one of question_index or question_id",
      "bad_answer",
      [{ path: "", msg: "needs exactly one of question_index or question_id" }],
    );
  }
  const forms = [b.choice !== undefined, b.choices !== undefined, b.text !== undefined].filter(
    Boolean,
  ).length;
  if (forms !== 1) {
    throw new RestError("VALIDATION", "give exactly one of choice, choices or text", "bad_answer", [
      { path: "", msg: "needs exactly one of choice, choices or text" },
    ]);
  }
  const target: AnswerTarget =
    b.question_index !== undefined
      ? { index: b.question_index }
      : { questionId: b.question_id ?? "" };
  const answer: AnswerValue =
    b.choice !== undefined
      ? { kind: "choice", index: b.choice }
      : b.choices !== undefined
        ? { kind: "choices", indices: b.choices }
        : { kind: "text", text: b.text ?? "" };
  return { target, answer };
}
