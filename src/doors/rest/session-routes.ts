import { Readable } from "node:stream";
import { setImmediate } from "node:timers/promises";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import Type, { type Static } from "typebox";
import { hashToken } from "../../auth/token-hash.js";
import type { DomainError } from "../../domain/errors.js";
import { type PhaseKind, type SessionStatus, statusOf } from "../../domain/phase.js";
import type { AnswerValue } from "../../domain/quiz.js";
import type { ExecuteOptions, RoomHandle } from "../../engine/room-handle.js";
import type {
  Actor,
  AnswerTarget,
  Command,
  Reply,
  ResultOf,
  Snapshot,
  ViewerRole,
} from "../../engine/types.js";
import type { SessionBundle } from "../../ports/storage.js";
import { PIN_GUESS_LIMITS } from "../../services/pin-gate.js";
import { buildResults } from "../../services/results.js";
import { kickCommand } from "../schemas/kick.js";
import {
  RESULTS_CSV_COLUMNS,
  RESULTS_SUMMARY_COLUMNS,
  ResultsView,
  resultsCsvPieces,
  resultsJsonPieces,
} from "../schemas/results.js";
import { settingsFromInput, settingsView } from "../schemas/session-settings.js";
import { snapshotView, standingView } from "../schemas/views.js";
import {
  ADMIN_ACTOR,
  BYSTANDER,
  bearerOf,
  type HostTarget,
  looksLikeJwt,
  roomTarget,
  SECURITY,
} from "./auth.js";
import { errorResponses, RestError, unwrap } from "./errors.js";
import type { RestContext } from "./index.js";
import { toResultsXlsx, XLSX_TYPE } from "./results-xlsx.js";
import {
  AnswerBody,
  AnswerHeaders,
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

const RESULTS_ACCESS =
  "Anyone may read the results of an ended session. While it runs, only its host (host token " +
  "or the host's JWT) or an admin may: the report shows every question's correct answer.";

type Control = Static<typeof ControlReply>;

/** What the host (or an admin) controls over REST. */
type HostCommand = Extract<Command, { type: "start" | "next" | "end" | "lock" | "kick" | "close" }>;

/** Where a session is: open (on this instance or another), or only in storage. */
type Located = { kind: "open"; handle: RoomHandle } | { kind: "stored"; bundle: SessionBundle };

/** Sessions over REST: create, read, join, answer, host control, leaderboards and results. */
export function registerSessionRoutes(app: FastifyInstance, ctx: RestContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { sessions, auth } = ctx;

  async function locate(id: string): Promise<Located> {
    const handle = await sessions.find(id);
    if (handle) return { kind: "open", handle };
    return { kind: "stored", bundle: await stored(id) };
  }

  /** The session from storage: where a session that is no longer open is read. */
  async function stored(id: string): Promise<SessionBundle> {
    const bundle = await sessions.load(id);
    if (!bundle) throw noSession(id);
    return bundle;
  }

  /** The open session; a session only in storage has ended (409), an unknown one is 404. */
  async function openRoom(id: string): Promise<RoomHandle> {
    const at = await locate(id);
    if (at.kind === "open") return at.handle;
    throw sessionEnded();
  }

  /**
   * Runs a command on the session's owner; refusals are thrown. A session that
   * left memory since it was found has ended, like one only in storage (409).
   */
  async function run<C extends Command>(
    handle: RoomHandle,
    actor: Actor,
    command: C,
    opts?: ExecuteOptions,
  ): Promise<ResultOf<C>> {
    return unwrap(openReply(await handle.execute(actor, command, opts)));
  }

  /**
   * A read-only query to an open session; undefined when the session left
   * memory since it was found (read it from storage then).
   */
  async function query<C extends Command>(
    handle: RoomHandle,
    command: C,
  ): Promise<ResultOf<C> | undefined> {
    const reply = await handle.execute(BYSTANDER, command);
    if (isClosed(reply)) return undefined;
    return unwrap(reply);
  }

  async function snapshotOf(handle: RoomHandle, role: ViewerRole): Promise<Snapshot | undefined> {
    return query(handle, { type: "snapshot", role });
  }

  /** Host checks on an open session; its tokens are checked by its owner. */
  function hostTarget(handle: RoomHandle): HostTarget {
    return roomTarget(handle, (e) => RestError.fromDomain(openError(e)));
  }

  async function hostCommand(
    req: FastifyRequest,
    id: string,
    command: HostCommand,
  ): Promise<Control> {
    const handle = await openRoom(id);
    const actor = await auth.hostActor(req, hostTarget(handle));
    return control(handle, await run(handle, actor, command));
  }

  /**
   * Results are public once the session has ended. Before that only its host
   * or an admin may read them: the report shows every question's answer.
   */
  async function requireResultsAccess(req: FastifyRequest, at: Located): Promise<void> {
    let ended: boolean;
    if (at.kind === "open") {
      const snap = await snapshotOf(at.handle, "spectator");
      ended = snap === undefined || snap.phase.kind === "ended";
    } else {
      ended = at.bundle.session.state.phase.kind === "ended";
    }
    if (ended || (await auth.isAdmin(req))) return;
    await auth.hostActor(req, at.kind === "open" ? hostTarget(at.handle) : bundleTarget(at.bundle));
  }

  async function resultsOf(at: Located) {
    if (at.kind === "stored") return buildResults(at.bundle);
    // Read-your-writes: the end, and anything else the room queued here, is stored before the report.
    const bundle = await sessions.loadSettled(at.handle.id);
    if (!bundle) throw noSession(at.handle.id);
    return buildResults(bundle);
  }

  const byId = { params: IdParams };
  const ResultsCsvQuery = Type.Object({
    part: Type.Optional(Type.Enum(["all", "summary", "answers"], { default: "all" })),
  });

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
      // Seed 001 has no start call: its sessions start with their first participant, or at the
      // start_time given; null asks for a lobby the host starts (docs/protocols/seed-001.md).
      if (b.start_time === undefined) {
        if (mode === "self_paced") settings.startOnJoin = true;
      } else if (b.start_time !== null) {
        settings.startsAt = parseStartTime(b.start_time);
      }
      const created = unwrap(
        await sessions.create(identity, {
          quizId: b.quiz_id,
          mode,
          settings,
          hostName: b.host_name ?? identity.handle ?? "Host",
        }),
      );
      const { handle } = created;
      const info = handle.info;
      // A start_time already passed started the session as it was made.
      const snap = await snapshotOf(handle, "spectator");
      return reply.code(201).send({
        session_id: handle.id,
        quiz_id: info.quizId,
        status: snap?.status ?? "waiting",
        mode: info.settings.mode,
        pin: info.pin,
        join_url: sessions.joinUrl(info.pin),
        host_token: created.hostToken ?? "",
        host_participant_id: created.hostParticipantId ?? "",
        settings: settingsView(info.settings),
        start_time: isoOrNull(info.settings.startsAt ?? null),
        start_on_join: info.settings.startOnJoin ?? false,
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
        response: { 200: SessionDetailReply, ...errorResponses("NOT_FOUND", "UNAVAILABLE") },
      },
    },
    async (req) => {
      const at = await locate(req.params.id);
      if (at.kind === "open") {
        const { handle } = at;
        const snap = await snapshotOf(handle, "spectator");
        if (snap) {
          return {
            session_id: handle.id,
            quiz_id: handle.info.quizId,
            status: snap.status,
            mode: snap.mode,
            pin: snap.pin,
            title: snap.title,
            phase: snap.phase.kind,
            player_count: snap.playerCount,
            question_count: snap.questionCount,
            created_at: handle.info.createdAt,
            started_at: snap.startedAt,
            ended_at: snap.endedAt,
            state: snapshotView(snap),
          };
        }
      }
      return storedDetail(at.kind === "stored" ? at.bundle : await stored(req.params.id));
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
      ...errorResponses(
        "VALIDATION",
        "UNAUTHORIZED",
        "FORBIDDEN",
        "NOT_FOUND",
        "STATE",
        "UNAVAILABLE",
      ),
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
    async (req) => hostCommand(req, req.params.id, kickCommand(req.body, "removed by the host")),
  );

  const adminClose = async (id: string): Promise<Control> => {
    const handle = await openRoom(id);
    return control(handle, await run(handle, ADMIN_ACTOR, { type: "close" }));
  };
  const adminKick = async (id: string, body: Static<typeof KickBody>): Promise<Control> => {
    const handle = await openRoom(id);
    const kicked = await run(handle, ADMIN_ACTOR, kickCommand(body, "removed by an admin"));
    return control(handle, kicked);
  };
  const adminSchema = (summary: string, tags: string[]) => ({
    tags,
    summary,
    security: [...SECURITY.admin],
    ...byId,
    response: {
      200: ControlReply,
      ...errorResponses(
        "VALIDATION",
        "UNAUTHORIZED",
        "FORBIDDEN",
        "NOT_FOUND",
        "STATE",
        "UNAVAILABLE",
      ),
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
            "UNAVAILABLE",
          ),
        },
      },
    },
    async (req, reply) => {
      const handle = await openRoom(req.params.id);
      const identity = await auth.caller(req);
      const actor: Actor = {
        userId: identity.userId,
        roles: identity.roles,
        anonymous: identity.anonymous,
      };
      const joined = await run(handle, actor, { type: "join", name: req.body.display_name });
      return reply.code(joined.resumed ? 200 : 201).send({
        participant_id: joined.participantId,
        user_id: joined.userId,
        name: joined.name,
        resume_token: joined.resumeToken,
        session_id: handle.id,
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
          "comes only once the answer is stored (A-5); after a 503 UNAVAILABLE send the answer " +
          "again, with the same `Idempotency-Key` header so that it counts at most once (A-6). " +
          "409 STATE when the question is not open (A-2, T-2).",
        security: [...SECURITY.participant],
        ...byId,
        headers: AnswerHeaders,
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
      const handle = await openRoom(req.params.id);
      const actor = await auth.participantActor(req, hostTarget(handle));
      const { target, answer } = decodeAnswer(req.body);
      const key = req.headers["idempotency-key"];
      // Namespaced by participant: one player's key never answers for another.
      const opts =
        key === undefined ? undefined : { dedupeKey: `rest:${actor.participantId}:${key}` };
      const ack = await run(handle, actor, { type: "answer", target, answer }, opts);
      const seconds = (performance.now() - started) / 1000;
      ctx.metrics.answerAck.child(DOOR).observe(seconds);
      ctx.metrics.scoringLatency.child().observe(seconds);
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
        response: {
          200: LeaderboardReply,
          ...errorResponses("VALIDATION", "NOT_FOUND", "UNAVAILABLE"),
        },
      },
    },
    async (req) => {
      const limit = req.query.limit ?? 10;
      const offset = req.query.offset ?? 0;
      const at = await locate(req.params.id);
      if (at.kind === "open") {
        const page = await query(at.handle, {
          type: "standings",
          fromRank: offset + 1,
          count: limit,
        });
        if (page) {
          return {
            session_id: at.handle.id,
            total: page.total,
            leaderboard: page.entries.map(standingView),
          };
        }
      }
      const bundle = at.kind === "stored" ? at.bundle : await stored(req.params.id);
      const ranked = buildResults(bundle).players.filter((p) => p.rank !== null);
      return {
        session_id: bundle.session.id,
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
        response: {
          // Documented as the view; sent as its JSON text in pieces (a stream), which fastify pipes.
          200: Type.Unsafe<Readable>(ResultsView),
          ...errorResponses("UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "UNAVAILABLE"),
        },
      },
    },
    async (req, reply) => {
      const at = await locate(req.params.id);
      await requireResultsAccess(req, at);
      const results = await resultsOf(at);
      // Written in pieces with the rooms' work between them (`resultsJsonPieces`), not serialized at once.
      return reply
        .type("application/json; charset=utf-8")
        .send(Readable.from(piecesApart(resultsJsonPieces(results, RESULTS_PLAYERS_PER_PIECE))));
    },
  );

  r.get(
    "/api/v1/sessions/:id/results.csv",
    {
      schema: {
        tags: TAG,
        summary: "The session's results as CSV: a summary per player, then every answer",
        description: `${RESULTS_ACCESS} UTF-8 with a byte-order mark. \`part=all\` (the default) holds two tables, each with its header row, separated by an empty line: the summary (${RESULTS_SUMMARY_COLUMNS.join(", ")}), one row per player, then the answers (${RESULTS_CSV_COLUMNS.join(", ")}), one row per player and question; \`part=summary\` or \`part=answers\` holds that table alone.`,
        security: [...SECURITY.anyone, ...SECURITY.host],
        ...byId,
        querystring: ResultsCsvQuery,
        response: {
          200: {
            description: "CSV (see the description for its tables and columns)",
            // Sent in pieces (a stream, which fastify pipes).
            content: { "text/csv": { schema: Type.Unsafe<Readable>(Type.String()) } },
          },
          ...errorResponses("VALIDATION", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "UNAVAILABLE"),
        },
      },
    },
    async (req, reply) => {
      const at = await locate(req.params.id);
      await requireResultsAccess(req, at);
      const part = req.query.part ?? "all";
      const results = await resultsOf(at);
      const csv = Readable.from(
        piecesApart(resultsCsvPieces(results, part, RESULTS_PLAYERS_PER_PIECE)),
      );
      const suffix = part === "all" ? "" : `-${part}`;
      return reply
        .type("text/csv; charset=utf-8")
        .header(
          "content-disposition",
          `attachment; filename="results-${req.params.id}${suffix}.csv"`,
        )
        .send(csv);
    },
  );

  r.get(
    "/api/v1/sessions/:id/results.xlsx",
    {
      schema: {
        tags: TAG,
        summary: "The session's results as an Excel workbook",
        description: `${RESULTS_ACCESS} Two sheets with the CSV's tables: Summary (one row per player) and Answers (one row per player and question); numbers are numbers, and cells are never formulas.`,
        security: [...SECURITY.anyone, ...SECURITY.host],
        ...byId,
        response: {
          200: {
            description: "An .xlsx workbook",
            content: {
              [XLSX_TYPE]: { schema: Type.Unsafe<Buffer>({ type: "string", format: "binary" }) },
            },
          },
          ...errorResponses("UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "UNAVAILABLE"),
        },
      },
    },
    async (req, reply) => {
      const at = await locate(req.params.id);
      await requireResultsAccess(req, at);
      const book = await toResultsXlsx(await resultsOf(at));
      return reply
        .type(XLSX_TYPE)
        .header("content-disposition", `attachment; filename="results-${req.params.id}.xlsx"`)
        .send(book);
    },
  );

  r.get(
    "/api/v1/rooms/:pin",
    {
      schema: {
        tags: ["rooms"],
        summary: "Find an open room by PIN (what a join page needs)",
        description: `Unknown PINs are limited per address and per signed-in user across every server instance, shared with WebSocket joins and spectating by PIN (P-4): ${PIN_GUESS_LIMITS.guesses} per ${PIN_GUESS_LIMITS.windowMs / 60_000} minutes. Past that every lookup, right PIN or wrong, is 429 RATE_LIMIT until the allowance refills; ${PIN_GUESS_LIMITS.refusalsBeforeBan} lookups more while refused and the asker is shadow-banned for ${PIN_GUESS_LIMITS.banMs / 3_600_000} hours: every lookup is 404 bad_pin.`,
        security: [...SECURITY.anyone],
        params: PinParams,
        response: {
          200: RoomByPinReply,
          ...errorResponses("VALIDATION", "NOT_FOUND", "RATE_LIMIT", "UNAVAILABLE"),
        },
      },
    },
    async (req) => {
      // A signed-in caller's guesses count for them too; a lookup needs no identity at all.
      const bearer = bearerOf(req);
      const caller = bearer !== null && looksLikeJwt(bearer) ? await auth.caller(req) : null;
      const found = await ctx.pinGate.find(req.params.pin, {
        address: req.ip,
        userId: caller?.userId ?? null,
      });
      if (found.kind === "limited") throw tooManyGuesses(found.retryAfterMs);
      const badPin = new RestError(
        "NOT_FOUND",
        `no open room has PIN ${req.params.pin}`,
        "bad_pin",
      );
      if (found.kind === "unknown") throw badPin;
      const handle = found.handle;
      const snap = await snapshotOf(handle, "player");
      // The PIN was right a moment ago: the room has just closed, which is no guess.
      if (!snap) throw badPin;
      return {
        room_id: handle.id,
        title: snap.title,
        mode: snap.mode,
        status: snap.status,
        locked: snap.locked,
        player_count: snap.playerCount,
      };
    },
  );
}

/** A command's reply, with "the room left memory meanwhile" turned into "the session has ended". */
function openReply<T>(reply: Reply<T>): Reply<T> {
  return reply.ok ? reply : { ok: false, error: openError(reply.error) };
}

/** A session that left memory since it was found has ended: 409, as for one only in storage. */
function openError(e: DomainError): DomainError {
  return e.reason === "room_closed"
    ? { code: "STATE", msg: "this session has ended", reason: "room_ended" }
    : e;
}

function isClosed(reply: Reply<unknown>): boolean {
  return !reply.ok && reply.error.reason === "room_closed";
}

/** The control reply: every host command answers with the phase it left the session in. */
function control(handle: RoomHandle, result: ResultOf<HostCommand>): Control {
  return { session_id: handle.id, status: statusOfKind(result.phase), phase: result.phase };
}

function sessionEnded(): RestError {
  return new RestError("STATE", "this session has ended", "room_ended");
}

function noSession(id: string): RestError {
  return new RestError("NOT_FOUND", `no session with id ${JSON.stringify(id)}`, "no_session");
}

function tooManyGuesses(retryAfterMs: number): RestError {
  return new RestError(
    "RATE_LIMIT",
    "too many unknown PINs; wait and try again later",
    "rate_limited",
    undefined,
    retryAfterMs,
  );
}

/** GET /sessions/:id for a session only in storage. */
function storedDetail(bundle: SessionBundle): Static<typeof SessionDetailReply> {
  const s = bundle.session;
  return {
    session_id: s.id,
    quiz_id: s.quizId,
    status: statusOf(s.state.phase),
    mode: s.settings.mode,
    pin: s.pin,
    title: s.title,
    phase: s.state.phase.kind,
    player_count: bundle.participants.filter((p) => p.role === "player" && p.status !== "kicked")
      .length,
    question_count: s.questions.length,
    created_at: s.createdAt,
    started_at: s.state.startedAt,
    ended_at: s.state.endedAt,
    state: null,
  };
}

function statusOfKind(kind: PhaseKind): SessionStatus {
  return kind === "lobby" ? "waiting" : kind === "ended" ? "completed" : "active";
}

/** A stored session as a HostTarget: tokens are checked against the stored hashes. */
function bundleTarget(bundle: SessionBundle): HostTarget {
  return {
    hostUserId: bundle.session.hostUserId,
    authenticate: async (token) => {
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

/** RFC 3339 with a time zone: what Go's time.Time marshals to. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * Seed 001's `start_time` (Go's time.Time in JSON: RFC 3339) as server epoch
 * ms. A time zone is required, so "10:30" cannot mean the server's local time.
 */
function parseStartTime(text: string): number {
  const ms = RFC3339.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new RestError(
      "VALIDATION",
      "start_time must be an ISO 8601 date and time with a time zone, like 2025-11-16T10:30:00Z",
      "bad_settings",
      [{ path: "/start_time", msg: "not an ISO 8601 date-time with a time zone" }],
    );
  }
  return ms;
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** Players per piece of a results report: about 125 KB of JSON (or a CSV table's rows), a few ms of work each. */
const RESULTS_PLAYERS_PER_PIECE = 250;

/** A results report's pieces (JSON or CSV), a turn of the event loop apart. */
async function* piecesApart(pieces: Iterable<string>): AsyncGenerator<string> {
  for (const piece of pieces) {
    yield piece;
    await setImmediate();
  }
}
