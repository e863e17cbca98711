import { checkAnswerShape, isCorrect } from "../domain/answer-check.js";
import { type DomainError, type ErrorCode, fail, ok } from "../domain/errors.js";
import { asParticipantId, type ParticipantId, type UserId } from "../domain/ids.js";
import { Leaderboard } from "../domain/leaderboard.js";
import { cleanDisplayName, nameKey } from "../domain/names.js";
import {
  type EndReason,
  exhaustive,
  type PauseReason,
  type Phase,
  statusOf,
} from "../domain/phase.js";
import {
  type AnswerValue,
  correctAnswerOf,
  publicQuestion,
  type Question,
} from "../domain/quiz.js";
import { missedAnswerStreak, scoreAnswer } from "../domain/scoring.js";
import { withSettingDefaults } from "../domain/session-settings.js";
import type { Random } from "../ports/clock.js";
import type {
  AnswerRecord,
  ParticipantRecord,
  ParticipantRole,
  RecentRequest,
  SessionBundle,
  SessionRecord,
  SessionStateRecord,
  SessionWrite,
  StandingRecord,
} from "../ports/storage.js";
import {
  answerTieBreak,
  isPlayer,
  isPresent,
  type Member,
  type MemberAnswer,
  memberInfo,
  memberRecord,
  newMember,
  optionIndicesOf,
  publicMember,
  ranked,
  replayStreak,
  resolveOptionText,
  tieBreakOf,
} from "./room-member.js";
import type {
  Actor,
  AnswerAck,
  AnswerTarget,
  Audience,
  Command,
  CommandResult,
  Done,
  EventBody,
  FinalResult,
  JoinResult,
  MemberInfo,
  NextResult,
  PhaseView,
  PlayerResult,
  PublicParticipant,
  Reply,
  RoomEvent,
  ServedQuestion,
  Snapshot,
  Standing,
  StandingsPage,
  ViewerRole,
} from "./types.js";

/** What a room needs from outside that is not time. */
export interface RoomDeps {
  random: Random;
  /** One-way hash of a resume token; only hashes are stored. */
  hashToken(token: string): string;
  /**
   * The longest a session runs (seed 001 §12.3: 2 hours): it completes by
   * itself (reason `expired`) this long after it started, or, still waiting,
   * after it was created or its scheduled start. Null or absent: no limit.
   */
  maxDurationMs?: number | null;
}

/**
 * Coalescing windows for updates that would otherwise go out once per join or
 * per answer. The player count reaches every player, so it is pushed at most
 * once a second (longer in big rooms: `playerCountEveryMs`); the host's answer
 * counter and self_paced leaderboards (seed 001 batches them per 100 ms) every 100 ms.
 */
export const COALESCE_MS = { players: 1_000, answers: 100, leaderboard: 100 } as const;
type Coalesced = keyof typeof COALESCE_MS;

/** The state of a session nobody has started: in its lobby, open, at the first epoch. */
export function lobbyState(): SessionStateRecord {
  return {
    phase: { kind: "lobby" },
    locked: false,
    epoch: 1,
    seq: 0,
    startedAt: null,
    endedAt: null,
  };
}

/** The longest a big room's player count waits (a lobby that still moves). */
export const PLAYER_COUNT_MAX_MS = 5_000;

/**
 * How long the player count waits before it goes out: a second up to 1,000
 * players, then a millisecond per player up to 5 s. Every push reaches every
 * player, so a join storm into a room of N costs N frames per push: at 10,000
 * players a push a second was a fifth of the server's work during the joins,
 * while the host's screen still counts every join (`player_joined`).
 */
export function playerCountEveryMs(players: number): number {
  return Math.min(PLAYER_COUNT_MAX_MS, Math.max(COALESCE_MS.players, players));
}
/**
 * After a restart or takeover nobody is connected yet: the all-answered early
 * close (T-3) waits this long for players to come back, so a question is not
 * closed on the few who reconnected first.
 */
export const RESUME_GRACE_MS = 5_000;
/** How many players a host or spectator snapshot lists. */
const SNAPSHOT_PLAYERS_MAX = 500;
/** The batched self_paced leaderboard's size (seed 001: top 100), and the largest a snapshot shows. */
export const BATCHED_BOARD_SIZE = 100;
/**
 * How many host/player command replies a session keeps in its stored state, so a
 * retry of the same request after a takeover replays the reply instead of
 * running again: a second `next` would otherwise skip a question.
 */
const RECENT_REQUESTS_MAX = 32;
/** Commands that change the session and are not answers (those keep their key on the answer row). */
const REMEMBERED_COMMANDS = new Set<Command["type"]>([
  "leave",
  "start",
  "next",
  "end",
  "close",
  "lock",
  "kick",
  "transfer_host",
]);

interface PendingAnswer {
  member: Member;
  index: number;
  answer: MemberAnswer;
}

/** The live question's running tallies; reset when a question opens. */
interface QuestionTally {
  optionCounts: number[];
  answered: number;
  connectedAnswered: number;
}

export type Outcome =
  | { kind: "reply"; reply: Reply<CommandResult> }
  | { kind: "pending"; ticket: number };

export interface QueuedWrite {
  write: SessionWrite;
  /** Set on answer writes: the runtime reports back with stored()/storeFailed(). */
  ticket?: number;
}

/**
 * One quiz session: its state and every rule that changes it. A Room does no
 * I/O and reads no clock: each call gets `now`, and what it wants done (events
 * to send, records to store) is queued and drained by the RoomRuntime after
 * the call returns. That keeps a single writer simple (STYLE.md §6).
 */
export class Room {
  readonly record: SessionRecord;
  private phase: Phase;
  private locked: boolean;
  private epoch: number;
  private seq: number;
  private startedAt: number | null;
  private endedAt: number | null;
  /** Replies to recent keyed commands, oldest first; stored with the session state. */
  private recent: RecentRequest[];
  /** Who holds host rights now: the creator, or whom they were handed to (H-2, H-3). */
  private hostUserId: UserId;
  /** H-1: when the absent host's grace period ends and `host_disconnect` applies; null: not waiting. */
  private hostGraceUntil: number | null = null;
  /** H-1 "continue": the host is gone, so reveals advance by themselves until they return. */
  private hostAway = false;

  private readonly members = new Map<ParticipantId, Member>();
  private readonly byUser = new Map<UserId, Member>();
  private readonly byName = new Map<string, Member>();
  private readonly byToken = new Map<string, Member>();
  private readonly bans = new Map<UserId, { until: number; reason: string }>();
  private readonly board = new Leaderboard<ParticipantId>();
  private readonly questionIndexById = new Map<string, number>();

  private playerCount = 0;
  /** Players taking part now: joined, not left, and connected or not yet connected (`isPresent`). */
  private presentCount = 0;
  private connectedPlayers = 0;
  private joinCounter = 0;
  private answerSeq = 0;
  private ticketCounter = 0;
  private readonly pending = new Map<number, PendingAnswer>();
  /** How many of `pending` answer each question: asked on every answer, so kept, not counted. */
  private readonly pendingPerQuestion = new Map<number, number>();
  private tally: QuestionTally = { optionCounts: [], answered: 0, connectedAnswered: 0 };

  /** T-3 early closes are held until this time after a restore (0: no hold). */
  private earlyCloseFrom = 0;
  /** When each coalesced update is due; null when nothing is waiting. */
  private readonly due: Record<Coalesced, number | null> = {
    players: null,
    answers: null,
    leaderboard: null,
  };

  private events: RoomEvent[] = [];
  private writes: QueuedWrite[] = [];

  private constructor(
    record: SessionRecord,
    private readonly deps: RoomDeps,
  ) {
    // Sessions stored before the host-disconnect settings existed get their defaults.
    this.record = { ...record, settings: withSettingDefaults(record.settings) };
    this.hostUserId = record.state.hostUserId ?? record.hostUserId;
    this.phase = record.state.phase;
    this.locked = record.state.locked;
    this.epoch = record.state.epoch;
    this.seq = record.state.seq;
    this.startedAt = record.state.startedAt;
    this.endedAt = record.state.endedAt;
    this.recent = [...(record.state.recentRequests ?? [])];
    for (const [i, q] of record.questions.entries()) this.questionIndexById.set(q.id, i);
  }

  /** A brand-new session. Queues its creation; the registry waits for that write before exposing it. */
  static create(record: SessionRecord, deps: RoomDeps): Room {
    const room = new Room(record, deps);
    room.writes.push({ write: { kind: "session_created", session: record } });
    return room;
  }

  /**
   * Rebuilds a session from storage after a restart or a takeover. Scores are
   * the sums of the stored answers (S-6); a question whose deadline passed
   * while nobody owned the session is revealed at once (T-6).
   */
  static restore(bundle: SessionBundle, deps: RoomDeps, now: number, epoch?: number): Room {
    const state = bundle.session.state;
    // The caller has claimed `epoch` in storage (fencing out the previous owner); by default one up.
    const room = new Room(
      { ...bundle.session, state: { ...state, epoch: epoch ?? state.epoch + 1 } },
      deps,
    );
    for (const p of bundle.participants) {
      const m = room.addMember(p);
      room.joinCounter = Math.max(room.joinCounter, p.joinOrder);
      if (p.status === "kicked") room.byName.delete(m.key);
    }
    for (const b of bundle.bans) room.bans.set(b.userId, { until: b.until, reason: b.reason });
    for (const s of bundle.served) {
      const m = room.members.get(s.participantId);
      if (m) m.served.set(s.questionIndex, s.servedAt);
    }
    for (const a of bundle.answers) {
      room.answerSeq = Math.max(room.answerSeq, a.seq);
      const m = room.members.get(a.participantId);
      if (!m) continue;
      const q = room.record.questions[a.questionIndex];
      const entry: MemberAnswer = {
        record: a,
        optionIndices: q ? optionIndicesOf(q, a.answer) : [],
        pending: false,
        undo: { score: 0, streak: 0, tieBreak: 0, previous: undefined },
        streakAfter: 0,
        scoreAfter: 0,
        countedConnected: false,
      };
      m.answers[a.questionIndex] = entry;
      m.score += a.points;
      entry.scoreAfter = m.score;
      if (a.points > 0) m.tieBreak = answerTieBreak(a.seq);
      m.lastAnswerAt = Math.max(m.lastAnswerAt ?? 0, a.receivedAt);
    }
    for (const m of room.members.values()) {
      m.streak = room.replayStreak(m);
      if (room.record.settings.mode === "self_paced") m.current = room.unansweredServed(m, now);
      if (ranked(m)) room.board.set(m.id, m.score, m.tieBreak);
    }
    const phase = room.phase;
    if (phase.kind === "question") {
      room.rebuildTally(phase.index);
      room.earlyCloseFrom = now + RESUME_GRACE_MS;
    }
    room.queueState();
    // A paused question stays paused (H-1): its clock stood still while the server was down too.
    if (phase.kind === "question" && !phase.paused) {
      if (phase.closedAt === null && phase.deadline <= now) room.closeQuestion(now, "deadline");
      else if (phase.closedAt !== null) room.revealIfSettled(now);
    }
    return room;
  }

  get id() {
    return this.record.id;
  }
  get pin() {
    return this.record.pin;
  }
  get currentPhase(): Phase {
    return this.phase;
  }
  get ended(): boolean {
    return this.phase.kind === "ended";
  }
  get currentSeq(): number {
    return this.seq;
  }
  get currentEpoch(): number {
    return this.epoch;
  }
  get players(): number {
    return this.playerCount;
  }
  /** When the session started (epoch ms); null before its start. */
  get sessionStartedAt(): number | null {
    return this.startedAt;
  }
  /** Who holds host rights now (H-2, H-3). */
  get currentHostUserId(): UserId {
    return this.hostUserId;
  }

  /** Everything the room asked for since the last drain, in order. */
  drain(): { events: RoomEvent[]; writes: QueuedWrite[] } {
    const out = { events: this.events, writes: this.writes };
    this.events = [];
    this.writes = [];
    return out;
  }

  /** The next moment the room needs `tick`, or null. */
  nextWakeAt(): number | null {
    let at: number | null = null;
    const consider = (t: number | null) => {
      if (t !== null && (at === null || t < at)) at = t;
    };
    for (const t of Object.values(this.due)) consider(t);
    if (this.earlyCloseFrom > 0) consider(this.earlyCloseFrom);
    consider(this.hostGraceUntil);
    const p = this.phase;
    if (p.kind !== "ended") consider(this.expiresAt());
    if (p.kind === "lobby") consider(this.record.settings.startsAt ?? null);
    switch (p.kind) {
      case "question":
        if (p.closedAt === null && !p.paused) consider(p.deadline);
        break;
      case "reveal":
      case "intermission":
        if (!p.paused) consider(p.until);
        break;
      case "active":
      case "lobby":
        if (this.record.settings.mode === "self_paced") consider(this.record.settings.closesAt);
        break;
      case "ended":
        break;
      default:
        exhaustive(p);
    }
    return at;
  }

  /** Applies whatever time has made due: deadlines, timed phases, coalesced updates. */
  tick(now: number): void {
    if (this.earlyCloseFrom > 0 && now >= this.earlyCloseFrom) {
      this.earlyCloseFrom = 0;
      this.closeIfAllAnswered(now);
    }
    const startsAt = this.record.settings.startsAt ?? null;
    if (this.phase.kind === "lobby" && startsAt !== null && now >= startsAt) this.begin(now);
    const expiresAt = this.expiresAt();
    if (this.phase.kind !== "ended" && expiresAt !== null && now >= expiresAt) {
      this.finish(now, "expired");
    }
    if (this.hostGraceUntil !== null && now >= this.hostGraceUntil) {
      this.hostGraceUntil = null;
      this.hostGone(now);
    }
    const p = this.phase;
    if (p.kind === "question" && p.closedAt === null && !p.paused && now >= p.deadline) {
      this.closeQuestion(now, "deadline");
    } else if (
      (p.kind === "reveal" || p.kind === "intermission") &&
      !p.paused &&
      p.until !== null &&
      now >= p.until
    ) {
      this.advance(now);
    } else if (
      (p.kind === "active" || p.kind === "lobby") &&
      this.record.settings.mode === "self_paced" &&
      this.record.settings.closesAt !== null &&
      now >= this.record.settings.closesAt
    ) {
      this.finish(now, "expired");
    }
    this.flush(now);
  }

  /**
   * Applies one command. `requestKey` names a client's request: a state-changing
   * command seen before under the same key returns its first reply unchanged.
   */
  execute(actor: Actor, command: Command, now: number, requestKey?: string): Outcome {
    if (requestKey === undefined || !REMEMBERED_COMMANDS.has(command.type)) {
      return this.dispatch(actor, command, now, requestKey);
    }
    const seen = this.recent.find((r) => r.key === requestKey);
    if (seen) return { kind: "reply", reply: JSON.parse(seen.reply) as Reply<CommandResult> };
    const outcome = this.dispatch(actor, command, now, requestKey);
    // A refusal changed nothing, so a retry runs again.
    if (outcome.kind === "reply" && outcome.reply.ok) {
      this.recent.push({ key: requestKey, reply: JSON.stringify(outcome.reply) });
      if (this.recent.length > RECENT_REQUESTS_MAX) this.recent.shift();
      this.queueState();
    }
    return outcome;
  }

  /** `requestKey`: the caller's key for the request; an answer stores it (A-6 after a takeover). */
  private dispatch(
    actor: Actor,
    command: Command,
    now: number,
    requestKey: string | undefined,
  ): Outcome {
    const reply = (r: Reply<CommandResult>): Outcome => ({ kind: "reply", reply: r });
    switch (command.type) {
      case "join":
        // a room id is no key without an invitation; the refusal is the one for no room.
        if (command.byInvitation && !this.record.settings.invited.includes(actor.userId)) {
          return reply(fail("NOT_FOUND", "no such open room", "no_room"));
        }
        return reply(this.join(actor, command.name, now, command.serveQuestions ?? true));
      case "resume":
        return reply(this.resume(actor, command.token, now));
      case "leave":
        return reply(this.leave(actor, now));
      case "start":
        return reply(this.start(actor, now));
      case "next":
        return reply(this.next(actor, now));
      case "end":
        return reply(this.endByHost(actor, now));
      case "close": {
        const denied = this.requireHost(actor);
        if (denied) return reply(denied);
        if (this.phase.kind === "ended")
          return reply(fail("STATE", "this room has already ended", "room_ended"));
        this.finish(now, "closed");
        return reply(ok({ done: true, phase: this.phase.kind }));
      }
      case "lock":
        return reply(this.lock(actor, command.locked, now));
      case "kick": {
        const target =
          "participantId" in command
            ? this.members.get(command.participantId)
            : this.byUser.get(command.userId);
        return reply(this.kick(actor, target, command.reason, now));
      }
      case "transfer_host":
        return reply(this.transferHost(actor, command.userId, now));
      case "answer":
        return this.answer(
          actor,
          command.target,
          command.answer,
          now,
          requestKey,
          command.unmatchedText ?? "refuse",
        );
      case "presence":
        return reply(this.presence(actor, command.connected, now));
      case "snapshot":
        return reply(ok(this.snapshot(actor, command.role, now, command.top)));
      case "standings":
        return reply(ok(this.standingsPage(command.fromRank, command.count)));
      case "authenticate": {
        const m = this.byToken.get(this.deps.hashToken(command.token));
        return reply(ok({ member: m && m.status !== "kicked" ? this.infoOf(m) : null }));
      }
      case "lookup": {
        const m = command.participantId
          ? this.members.get(command.participantId)
          : command.userId
            ? this.byUser.get(command.userId)
            : undefined;
        return reply(ok({ member: m && m.status !== "kicked" ? this.infoOf(m) : null }));
      }
      default:
        return exhaustive(command);
    }
  }

  // ---------------------------------------------------------------- membership

  private join(
    actor: Actor,
    rawName: string,
    now: number,
    serveQuestions: boolean,
  ): Reply<JoinResult> {
    if (this.phase.kind === "ended") return fail("STATE", "this room has ended", "room_ended");
    const ban = this.bans.get(actor.userId);
    if (ban && ban.until > now) {
      return fail("FORBIDDEN", `you were removed from this room: ${ban.reason}`, "banned");
    }
    const existing = this.byUser.get(actor.userId);
    if (existing && existing.status !== "kicked") {
      if (existing.role === "host") {
        return fail(
          "CONFLICT",
          "you are this room's host; join as a player from another identity",
          "is_host",
        );
      }
      // The same user joining again is a reconnect, not a second player (seed 001 §7.1).
      existing.pushQuestions = serveQuestions;
      return ok(this.rebind(existing, now, true));
    }
    if (this.locked) return fail("FORBIDDEN", "this room is locked", "room_locked");
    const cleaned = cleanDisplayName(rawName);
    if (!cleaned.ok) return cleaned;
    const name = cleaned.value;
    const key = nameKey(name);
    if (this.byName.has(key)) return fail("CONFLICT", `the name "${name}" is taken`, "name_taken");
    if (this.playerCount >= this.record.settings.maxParticipants) {
      return fail("STATE", "this room is full", "room_full");
    }
    // Seed 001 has no start call: the first participant's arrival starts such a session, which
    // they then join as it runs.
    const starts = this.phase.kind === "lobby" && this.record.settings.startOnJoin === true;
    if (starts) this.begin(now);
    const token = this.deps.random.token(24);
    const record: ParticipantRecord = {
      id: this.newParticipantId(),
      sessionId: this.record.id,
      userId: actor.userId,
      name,
      role: "player",
      joinOrder: ++this.joinCounter,
      joinedAt: now,
      status: "active",
      resumeTokenHash: this.deps.hashToken(token),
      score: 0,
      kickReason: null,
    };
    const m = this.addMember(record);
    m.pushQuestions = serveQuestions;
    this.board.set(m.id, 0, m.tieBreak);
    this.writes.push({ write: { kind: "participant_put", participant: record } });
    this.emit(
      { kind: "all" },
      {
        type: "participant_joined",
        participant: this.publicOf(m),
        playerCount: this.playerCount,
        presentCount: this.presentCount,
        roster: this.rosterForEvents(),
      },
      now,
    );
    this.markDirty(now, "players");
    this.serveOnArrival(m, now);
    return ok(this.joinResult(m, token, false, now, starts));
  }

  /** Creates the host's own membership (not a player) when a session is created with one. */
  addHost(
    userId: UserId,
    name: string,
    now: number,
  ): { participantId: ParticipantId; token: string } {
    const token = this.deps.random.token(24);
    const record: ParticipantRecord = {
      id: this.newParticipantId(),
      sessionId: this.record.id,
      userId,
      name,
      role: "host",
      joinOrder: ++this.joinCounter,
      joinedAt: now,
      status: "active",
      resumeTokenHash: this.deps.hashToken(token),
      score: 0,
      kickReason: null,
    };
    this.addMember(record);
    this.writes.push({ write: { kind: "participant_put", participant: record } });
    return { participantId: record.id, token };
  }

  private resume(actor: Actor, token: string, now: number): Reply<JoinResult> {
    const m = this.byToken.get(this.deps.hashToken(token));
    if (!m) return fail("NOT_FOUND", "unknown resume token for this room", "bad_token");
    if (m.status === "kicked") {
      return fail("FORBIDDEN", `you were removed from this room: ${m.kickReason ?? ""}`, "kicked");
    }
    if (!actor.anonymous && actor.userId !== m.userId) {
      return fail("FORBIDDEN", "this resume token belongs to another user", "wrong_user");
    }
    return ok(this.rebind(m, now, true));
  }

  /** A returning member gets a fresh token (only hashes are stored, so the old one cannot be echoed). */
  private rebind(m: Member, now: number, resumed: boolean): JoinResult {
    const token = this.deps.random.token(24);
    this.byToken.delete(m.tokenHash);
    m.tokenHash = this.deps.hashToken(token);
    this.byToken.set(m.tokenHash, m);
    this.changePresence(m, () => {
      if (m.status === "left") m.status = "active";
      // Back without a connection yet (REST, or the join before its connection counts): here.
      if (m.connections === 0) m.awaited = true;
    });
    this.writes.push({ write: { kind: "participant_put", participant: this.recordOf(m) } });
    if (m.role === "player") this.serveOnArrival(m, now);
    return this.joinResult(m, token, resumed, now);
  }

  private joinResult(
    m: Member,
    token: string,
    resumed: boolean,
    now: number,
    started = false,
  ): JoinResult {
    return {
      participantId: m.id,
      userId: m.userId,
      role: m.role,
      name: m.name,
      resumeToken: token,
      resumed,
      started,
      snapshot: this.snapshotFor(m, m.role === "host" ? "host" : "player", now),
    };
  }

  private leave(actor: Actor, now: number): Reply<Done> {
    const m = this.memberOf(actor);
    if (!m) return fail("STATE", "you have not joined this room", "not_joined");
    // T-8: leaving an ended session changes nothing, not even storage (a user erased from it
    // after its end must not be written back by a late leave).
    if (m.role === "player" && m.status === "active" && this.phase.kind !== "ended") {
      this.changePresence(m, () => {
        m.status = "left";
      });
      this.writes.push({ write: { kind: "participant_put", participant: this.recordOf(m) } });
      this.emit(
        { kind: "all" },
        {
          type: "participant_left",
          participantId: m.id,
          userId: m.userId,
          name: m.name,
          reason: "left",
          playerCount: this.playerCount,
          presentCount: this.presentCount,
          present: m.connections > 0 || !m.everConnected,
        },
        now,
      );
    }
    return ok({ done: true, phase: this.phase.kind });
  }

  private presence(actor: Actor, connected: boolean, now: number): Reply<Done> {
    const m = this.memberOf(actor);
    if (!m) return ok({ done: true, phase: this.phase.kind });
    const wasConnected = m.connections > 0;
    const firstConnection = connected && !m.everConnected;
    this.changePresence(m, () => {
      m.connections = Math.max(0, m.connections + (connected ? 1 : -1));
      m.awaited = false;
    });
    if (connected) m.everConnected = true;
    const isConnected = m.connections > 0;
    if (wasConnected !== isConnected && isPlayer(m) && m.status !== "kicked") {
      this.connectedPlayers += isConnected ? 1 : -1;
      const p = this.phase;
      if (p.kind === "question" && m.answers[p.index] !== undefined) {
        this.tally.connectedAnswered += isConnected ? 1 : -1;
      }
      this.emit(
        { kind: "all" },
        {
          type: "presence",
          participantId: m.id,
          userId: m.userId,
          name: m.name,
          connected: isConnected,
          firstConnection,
          active: m.status === "active",
          playerCount: this.playerCount,
          presentCount: this.presentCount,
        },
        now,
      );
      if (!isConnected) this.closeIfAllAnswered(now);
    }
    // After the player's own counts: a cohost arriving may become the host (H-2) and leave them.
    if (wasConnected !== isConnected) this.hostPresence(m, isConnected, now);
    return ok({ done: true, phase: this.phase.kind });
  }

  private kick(actor: Actor, m: Member | undefined, reason: string, now: number): Reply<Done> {
    const denied = this.requireHost(actor);
    if (denied) return denied;
    if (m?.role !== "player") return fail("NOT_FOUND", "no such player in this room", "no_player");
    if (m.status === "kicked")
      return fail("STATE", "that player was already removed", "already_kicked");
    const wasConnected = m.connections > 0;
    this.changePresence(m, () => {
      m.status = "kicked";
    });
    m.kickReason = reason;
    this.playerCount -= 1;
    if (wasConnected) this.connectedPlayers -= 1;
    const p = this.phase;
    if (p.kind === "question" && m.answers[p.index] !== undefined && wasConnected) {
      this.tally.connectedAnswered -= 1;
    }
    this.board.delete(m.id);
    this.byName.delete(m.key);
    this.byToken.delete(m.tokenHash);
    const until = now + this.record.settings.banMs;
    this.bans.set(m.userId, { until, reason });
    this.writes.push({ write: { kind: "participant_put", participant: this.recordOf(m) } });
    this.writes.push({
      write: {
        kind: "ban_put",
        ban: { sessionId: this.record.id, userId: m.userId, until, reason },
      },
    });
    this.emit(
      { kind: "participant", participantId: m.id },
      { type: "kicked", participantId: m.id, reason, until },
      now,
    );
    this.emit(
      { kind: "all" },
      {
        type: "participant_left",
        participantId: m.id,
        userId: m.userId,
        name: m.name,
        reason: "kicked",
        playerCount: this.playerCount,
        presentCount: this.presentCount,
        present: wasConnected || !m.everConnected,
      },
      now,
    );
    this.markDirty(now, "players");
    this.closeIfAllAnswered(now);
    return ok({ done: true, phase: this.phase.kind });
  }

  private lock(actor: Actor, locked: boolean, now: number): Reply<Done> {
    const denied = this.requireHost(actor);
    if (denied) return denied;
    if (this.phase.kind === "ended") return fail("STATE", "this room has ended", "room_ended");
    if (this.locked !== locked) {
      this.locked = locked;
      this.queueState();
      this.emit({ kind: "all" }, { type: "locked", locked }, now);
    }
    return ok({ done: true, phase: this.phase.kind });
  }

  // ---------------------------------------------------------------- the host's absence

  /** The host's own non-playing seat, when the host has one (seed 004's host plays: none). */
  private hostSeat(): Member | undefined {
    const m = this.byUser.get(this.hostUserId);
    return m && m.role === "host" && m.status !== "kicked" ? m : undefined;
  }

  /** A member's first connection opened or their last one closed: what it means for hosting (H-1, H-2). */
  private hostPresence(m: Member, connected: boolean, now: number): void {
    if (this.phase.kind === "ended" || this.record.settings.mode === "self_paced") return;
    if (m === this.hostSeat()) {
      if (connected) {
        this.hostGraceUntil = null;
        this.hostAway = false;
        this.resumePlay(now);
      } else {
        this.hostGraceUntil = now + this.record.settings.hostGraceMs;
        if (this.record.settings.hostGraceMs === 0) {
          this.hostGraceUntil = null;
          this.hostGone(now);
        }
      }
      return;
    }
    // H-2: a cohost arriving while the room waits for someone to host it takes over.
    if (
      connected &&
      this.record.settings.hostDisconnect === "transfer" &&
      this.pausedFor() === "host_disconnected" &&
      m.status !== "kicked" &&
      this.record.settings.cohosts.includes(m.userId)
    ) {
      this.makeHost(m, "host_disconnected", now);
    }
  }

  /** H-1: the grace period ran out and the host is still gone. */
  private hostGone(now: number): void {
    const seat = this.hostSeat();
    if (!seat || seat.connections > 0 || this.phase.kind === "ended") return;
    const policy = this.record.settings.hostDisconnect;
    if (policy === "transfer") {
      const next = this.firstConnectedCohost();
      if (next) {
        this.makeHost(next, "host_disconnected", now);
        return;
      }
      // No cohost is here: pause, and hand over to the first cohost who connects.
    }
    if (policy === "continue") {
      this.hostAway = true;
      const p = this.phase;
      // A reveal that was waiting for the host's `next` now ends by itself.
      if (p.kind === "reveal" && p.until === null && !p.paused) {
        this.setPhase({ ...p, until: now + this.record.settings.revealMs });
      }
      return;
    }
    this.pause(now, "host_disconnected");
  }

  private firstConnectedCohost(): Member | undefined {
    for (const userId of this.record.settings.cohosts) {
      const m = this.byUser.get(userId as UserId);
      if (m && m.userId !== this.hostUserId && m.status !== "kicked" && m.connections > 0) return m;
    }
    return undefined;
  }

  /** Why the running game is paused, or null. */
  private pausedFor(): PauseReason | null {
    const p = this.phase;
    if (p.kind === "question" || p.kind === "reveal" || p.kind === "intermission") {
      return p.paused?.reason ?? null;
    }
    return null;
  }

  /** Live rounds move on by timer: `auto_advance`, or the host is gone and the room goes on (H-1). */
  private advancesByItself(): boolean {
    return this.record.settings.autoAdvance || this.hostAway;
  }

  /** H-1: stops the game's clock. Only a game in progress has one (not the lobby). */
  private pause(now: number, reason: PauseReason): void {
    const p = this.phase;
    if (p.kind !== "question" && p.kind !== "reveal" && p.kind !== "intermission") return;
    if (p.paused) return;
    this.setPhase({ ...p, paused: { at: now, reason } });
    this.emit({ kind: "all" }, { type: "paused", reason, phase: p.kind, index: p.index }, now);
  }

  /** H-1: starts the clock again; every time in the phase moves on by the pause, keeping the time left. */
  private resumePlay(now: number): void {
    const p = this.phase;
    if (p.kind !== "question" && p.kind !== "reveal" && p.kind !== "intermission") return;
    if (!p.paused) return;
    const shift = Math.max(0, now - p.paused.at);
    let deadline: number | null = null;
    let until: number | null = null;
    if (p.kind === "question") {
      const { paused: _, ...rest } = p;
      const open = p.closedAt === null;
      deadline = open ? p.deadline + shift : null;
      this.setPhase({
        ...rest,
        openedAt: open ? p.openedAt + shift : p.openedAt,
        deadline: open ? p.deadline + shift : p.deadline,
      });
    } else {
      const { paused: _, ...rest } = p;
      until = p.until === null ? null : p.until + shift;
      this.setPhase({ ...rest, until });
    }
    this.emit(
      { kind: "all" },
      { type: "resumed", phase: p.kind, index: p.index, deadline, until },
      now,
    );
    // What waited for the clock: a closed question's reveal, an early close.
    this.revealIfSettled(now);
    this.closeIfAllAnswered(now);
  }

  private transferHost(actor: Actor, userId: UserId, now: number): Reply<Done> {
    const denied = this.requireHost(actor);
    if (denied) return denied;
    if (this.phase.kind === "ended") return fail("STATE", "this room has ended", "room_ended");
    const m = this.byUser.get(userId);
    if (!m || m.status === "kicked") {
      return fail("NOT_FOUND", "no member with that user id in this room", "no_member");
    }
    if (m.userId === this.hostUserId) {
      return fail("STATE", "that user is already the host", "already_host");
    }
    this.makeHost(m, "transferred", now);
    return ok({ done: true, phase: this.phase.kind });
  }

  /**
   * H-2, H-3: host rights move to `m`. A player becomes a non-playing host seat (hosts are not
   * ranked, L-3); the previous host keeps their seat without the rights (R-1 refuses them).
   */
  private makeHost(m: Member, reason: "transferred" | "host_disconnected", now: number): void {
    const previousUserId = this.hostUserId;
    if (m.role === "player") {
      const wasConnected = m.connections > 0;
      m.role = "host";
      if (m.status !== "kicked") {
        this.playerCount -= 1;
        if (wasConnected) this.connectedPlayers -= 1;
        const p = this.phase;
        if (p.kind === "question" && m.answers[p.index] !== undefined && wasConnected) {
          this.tally.connectedAnswered -= 1;
        }
        this.markDirty(now, "players");
      }
      this.board.delete(m.id);
      this.writes.push({ write: { kind: "participant_put", participant: this.recordOf(m) } });
    }
    this.hostUserId = m.userId;
    this.hostAway = false;
    this.hostGraceUntil = null;
    this.queueState();
    this.emit(
      { kind: "all" },
      { type: "host_changed", userId: m.userId, participantId: m.id, previousUserId, reason },
      now,
    );
    if (m.connections > 0) this.resumePlay(now);
    else this.hostPresence(m, false, now);
    this.closeIfAllAnswered(now);
  }

  // ---------------------------------------------------------------- game flow

  private start(actor: Actor, now: number): Reply<Done> {
    const denied = this.requireHost(actor);
    if (denied) return denied;
    if (this.phase.kind !== "lobby")
      return fail("STATE", "the game has already started", "already_started");
    this.begin(now);
    return ok({ done: true, phase: this.phase.kind });
  }

  /**
   * The session leaves its lobby: by the host's `start`, at its scheduled
   * `startsAt`, or with its first participant (`startOnJoin`). Every way
   * emits `started`.
   */
  private begin(now: number): void {
    if (this.phase.kind !== "lobby") return;
    this.startedAt = now;
    this.emit(
      { kind: "all" },
      {
        type: "started",
        startedAt: now,
        questionCount: this.record.questions.length,
        roster: this.rosterForEvents(),
      },
      now,
    );
    if (this.record.settings.mode === "self_paced") {
      this.setPhase({ kind: "active" });
      for (const m of this.members.values()) {
        if (isPlayer(m) && m.status !== "kicked" && m.connections > 0 && m.pushQuestions) {
          this.serveNext(m, now, true);
        }
      }
    } else {
      this.openQuestion(0, now);
    }
  }

  /**
   * When the session completes by itself for running too long (`maxDurationMs`),
   * counted from its start, or while it waits, from its creation or its scheduled
   * start, whichever is later; null without a limit.
   */
  private expiresAt(): number | null {
    const max = this.deps.maxDurationMs ?? null;
    if (max === null) return null;
    if (this.startedAt !== null) return this.startedAt + max;
    return Math.max(this.record.createdAt, this.record.settings.startsAt ?? 0) + max;
  }

  private next(actor: Actor, now: number): Reply<NextResult | Done> {
    if (this.record.settings.mode === "self_paced" && !this.isHost(actor)) {
      const m = this.memberOf(actor);
      if (m?.role !== "player") return fail("STATE", "you have not joined this room", "not_joined");
      if (this.phase.kind === "lobby")
        return fail("STATE", "the session has not started yet", "not_started");
      if (this.phase.kind === "ended") return fail("STATE", "this session has ended", "room_ended");
      const served = this.serveNext(m, now, false);
      const result: NextResult = { served, phase: this.phase.kind };
      return ok(result);
    }
    const denied = this.requireHost(actor);
    if (denied) return denied;
    const p = this.phase;
    if ((p.kind === "question" || p.kind === "reveal" || p.kind === "intermission") && p.paused) {
      return fail("STATE", "the game is paused until the host is back", "paused");
    }
    switch (p.kind) {
      case "lobby":
        return fail("STATE", "start the game first", "not_started");
      case "question":
        if (p.closedAt !== null) return fail("STATE", "the question is closing", "closing");
        this.closeQuestion(now, "host");
        break;
      case "reveal":
      case "intermission":
        this.advance(now);
        break;
      case "active":
        return fail("STATE", "self-paced sessions have no host pacing; use end", "self_paced");
      case "ended":
        return fail("STATE", "this room has ended", "room_ended");
      default:
        return exhaustive(p);
    }
    return ok({ done: true, phase: this.phase.kind });
  }

  private endByHost(actor: Actor, now: number): Reply<Done> {
    const denied = this.requireHost(actor);
    if (denied) return denied;
    if (this.phase.kind === "ended")
      return fail("STATE", "this room has already ended", "room_ended");
    this.finish(now, "host_ended");
    return ok({ done: true, phase: this.phase.kind });
  }

  /** Ends the session from outside (admin close, REST close). */
  close(now: number, reason: EndReason): void {
    if (this.phase.kind !== "ended") this.finish(now, reason);
  }

  private openQuestion(index: number, now: number): void {
    const q = this.question(index);
    const limit = this.limitOf(q);
    this.setPhase({
      kind: "question",
      index,
      openedAt: now,
      deadline: now + limit,
      closedAt: null,
    });
    this.tally = { optionCounts: q.options.map(() => 0), answered: 0, connectedAnswered: 0 };
    this.emit(
      { kind: "all" },
      {
        type: "question",
        index,
        total: this.record.questions.length,
        question: publicQuestion(q, limit),
        openedAt: now,
        deadline: now + limit,
      },
      now,
    );
  }

  private closeQuestion(
    now: number,
    reason: "deadline" | "all_answered" | "host" | "first_correct",
  ): void {
    const p = this.phase;
    if (p.kind !== "question" || p.closedAt !== null) return;
    this.phase = { ...p, closedAt: now };
    this.emit({ kind: "all" }, { type: "question_closed", index: p.index, reason }, now);
    this.revealIfSettled(now);
  }

  /** T-5: the reveal goes out once every answer received before the close is stored. */
  private revealIfSettled(now: number): void {
    const p = this.phase;
    if (p.kind !== "question" || p.closedAt === null || p.paused) return;
    if (this.pendingFor(p.index) > 0) return;
    this.reveal(p.index, now);
  }

  private reveal(index: number, now: number): void {
    const q = this.question(index);
    // In rank order (the board holds exactly the ranked players): a door that lists everyone
    // needs no sort, and each rank is the walk's position rather than a lookup.
    const results = new Map<ParticipantId, PlayerResult>();
    for (const e of this.board) {
      const m = this.members.get(e.id);
      if (m === undefined) continue;
      const a = m.answers[index];
      if (!a) m.streak = missedAnswerStreak(m.streak, q.multiplier);
      results.set(m.id, {
        userId: m.userId,
        answered: a !== undefined,
        correct: a?.record.correct ?? false,
        points: a?.record.points ?? 0,
        score: m.score,
        rank: e.rank,
        streak: m.streak,
      });
    }
    const until = this.advancesByItself() ? now + this.record.settings.revealMs : null;
    this.setPhase({ kind: "reveal", index, until });
    this.emit(
      { kind: "all" },
      {
        type: "reveal",
        index,
        questionId: q.id,
        correct: correctAnswerOf(q),
        optionCounts: [...this.tally.optionCounts],
        answeredCount: this.tally.answered,
        leaderboard: this.standings(this.record.settings.leaderboardSize),
        totalPlayers: this.board.size,
        results,
        until,
        ...nextImageOf(this.record.questions[index + 1]),
      },
      now,
    );
  }

  /** Leaves a reveal or intermission: to the intermission, the next question, or the end. */
  private advance(now: number): void {
    const p = this.phase;
    if (p.kind !== "reveal" && p.kind !== "intermission") return;
    const last = p.index >= this.record.questions.length - 1;
    if (last) {
      this.finish(now, "finished");
      return;
    }
    const intermission = this.record.settings.intermissionMs;
    if (p.kind === "reveal" && intermission > 0) {
      const until = now + intermission;
      this.setPhase({ kind: "intermission", index: p.index, until });
      this.emit(
        { kind: "all" },
        {
          type: "intermission",
          index: p.index,
          until,
          leaderboard: this.standings(this.record.settings.leaderboardSize),
        },
        now,
      );
      return;
    }
    this.openQuestion(p.index + 1, now);
  }

  private finish(now: number, reason: EndReason): void {
    const p = this.phase;
    if (p.kind === "ended") return;
    // Answers still being stored are settled by stored()/storeFailed(); the standings use what is applied now.
    this.endedAt = now;
    this.setPhase({ kind: "ended", reason, at: now });
    const standings: StandingRecord[] = [];
    const results = new Map<ParticipantId, FinalResult>();
    const total = this.board.size;
    for (const entry of this.board.entries()) {
      const id = entry.id as ParticipantId;
      standings.push({ participantId: id, score: entry.score, rank: entry.rank });
      results.set(id, { score: entry.score, rank: entry.rank, total });
    }
    this.writes.push({ write: { kind: "standings_put", sessionId: this.record.id, standings } });
    this.due.players = this.due.answers = this.due.leaderboard = null;
    this.emit(
      { kind: "all" },
      {
        type: "ended",
        reason,
        leaderboard: this.standings(this.record.settings.leaderboardSize),
        totalPlayers: total,
        results,
        standings: this.standings(total),
      },
      now,
    );
  }

  // ---------------------------------------------------------------- answers

  private answer(
    actor: Actor,
    target: AnswerTarget,
    raw: AnswerValue,
    now: number,
    requestKey: string | undefined,
    unmatchedText: "refuse" | "wrong",
  ): Outcome {
    const reply = (code: ErrorCode, msg: string, reason?: string): Outcome => ({
      kind: "reply",
      reply: fail(code, msg, reason),
    });
    const m = this.memberOf(actor);
    if (m?.role !== "player") return reply("STATE", "join the room before answering", "not_joined");
    if (m.status === "kicked")
      return reply("FORBIDDEN", "you were removed from this room", "kicked");
    const index = this.resolveTarget(target);
    if (index === undefined)
      return reply("NOT_FOUND", "no such question in this quiz", "no_question");
    const q = this.question(index);

    const value = resolveOptionText(q, raw);
    // a text naming none of the options is a wrong answer where the door says so (seed 001).
    const offOptions = value.kind === "text" && q.kind !== "typed";
    if (!(offOptions && unmatchedText === "wrong")) {
      const shape = checkAnswerShape(q, value);
      if (!shape.ok) return reply("VALIDATION", shape.msg, "bad_answer");
    }

    // a retry of the very message that stored this answer (its acknowledgement was lost,
    // perhaps with the instance that stored it) gets the original acknowledgement, whatever the
    // phase is now. The key is stored with the answer, so this holds after a takeover too.
    const stored = m.answers[index];
    if (
      stored &&
      !stored.pending &&
      requestKey !== undefined &&
      stored.record.requestKey === requestKey
    ) {
      return { kind: "reply", reply: ok(this.ackOf(index, stored)) };
    }

    const timing = this.answerWindow(m, index, now);
    if (!timing.ok) return { kind: "reply", reply: timing };
    const { openedAt } = timing.value;

    const previous = m.answers[index];
    if (previous && !this.record.settings.allowAnswerChange) {
      return reply("STATE", "you have already answered this question", "already_answered");
    }
    if (previous?.pending) {
      return reply("STATE", "your previous answer is still being stored", "answer_pending");
    }

    const correct = isCorrect(q, value);
    const elapsedMs = Math.max(0, now - openedAt);
    const streakBefore = previous ? previous.undo.streak : m.streak;
    const outcome = scoreAnswer(this.record.settings.scoring, {
      correct,
      elapsedMs,
      limitMs: this.limitOf(q),
      multiplier: q.multiplier,
      basePoints: q.points,
      streakBefore,
    });
    const seq = ++this.answerSeq;
    const record: AnswerRecord = {
      sessionId: this.record.id,
      participantId: m.id,
      questionIndex: index,
      questionId: q.id,
      answer: value,
      correct,
      points: outcome.points,
      elapsedMs,
      receivedAt: now,
      seq,
    };
    if (requestKey !== undefined) record.requestKey = requestKey;
    const entry: MemberAnswer = {
      record,
      optionIndices: optionIndicesOf(q, value),
      pending: true,
      undo: { score: m.score, streak: m.streak, tieBreak: m.tieBreak, previous },
      streakAfter: outcome.streakAfter,
      scoreAfter: 0,
      countedConnected: m.connections > 0,
    };
    this.applyAnswer(m, index, entry);
    entry.scoreAfter = m.score;

    const ticket = ++this.ticketCounter;
    this.pending.set(ticket, { member: m, index, answer: entry });
    this.pendingPerQuestion.set(index, this.pendingFor(index) + 1);
    this.writes.push({
      write: { kind: "answer_put", answer: record, participantScore: m.score },
      ticket,
    });

    // Decisions that depend on arrival order are taken now, at receipt (T-3, T-4).
    if (this.isLiveQuestion(index)) {
      this.markDirty(now, "answers");
      if (this.record.settings.mode === "quick_fire" && correct) {
        this.closeQuestion(now, "first_correct");
      } else {
        this.closeIfAllAnswered(now);
      }
    }
    return { kind: "pending", ticket };
  }

  /** The answers' storage succeeded: acknowledge them (A-5). */
  stored(
    tickets: readonly number[],
    now: number,
  ): Array<{ ticket: number; reply: Reply<AnswerAck> }> {
    const replies: Array<{ ticket: number; reply: Reply<AnswerAck> }> = [];
    for (const ticket of tickets) {
      const p = this.settlePending(ticket);
      if (!p) continue;
      p.answer.pending = false;
      const { member: m, index, answer } = p;
      const r = answer.record;
      replies.push({ ticket, reply: ok(this.ackOf(index, answer)) });
      this.emit(
        { kind: "all" },
        {
          type: "scored",
          participantId: m.id,
          userId: m.userId,
          name: m.name,
          index,
          questionId: r.questionId,
          correct: r.correct,
          points: r.points,
          score: answer.scoreAfter,
        },
        now,
      );
      // An answer that scored nothing moves nobody on the board: no batch for it (unless it
      // replaced an earlier answer, whose points it took away).
      const moved = r.points !== 0 || answer.undo.previous !== undefined;
      if (this.record.settings.mode === "self_paced" && moved) {
        this.markDirty(now, "leaderboard");
      }
    }
    this.closeIfAllAnswered(now);
    this.revealIfSettled(now);
    return replies;
  }

  /** The acknowledgement of a stored answer, as first sent or as sent again for a retry. */
  private ackOf(index: number, answer: MemberAnswer): AnswerAck {
    const r = answer.record;
    return {
      index,
      questionId: r.questionId,
      correct: r.correct,
      points: r.points,
      score: answer.scoreAfter,
      streak: answer.streakAfter,
      changed: answer.undo.previous !== undefined,
      elapsedMs: r.elapsedMs,
      correctAnswer:
        this.record.settings.mode === "self_paced" ? correctAnswerOf(this.question(index)) : null,
    };
  }

  /** Storing failed: undo the answers, newest first, and refuse them with a retryable error. */
  storeFailed(
    tickets: readonly number[],
    now: number,
    error: DomainError,
  ): Array<{ ticket: number; reply: Reply<AnswerAck> }> {
    const replies: Array<{ ticket: number; reply: Reply<AnswerAck> }> = [];
    const sorted = [...tickets].sort((a, b) => b - a);
    for (const ticket of sorted) {
      const p = this.settlePending(ticket);
      if (!p) continue;
      this.undoAnswer(p.member, p.index, p.answer);
      replies.push({ ticket, reply: { ok: false, error } });
    }
    this.revealIfSettled(now);
    return replies.reverse();
  }

  private applyAnswer(m: Member, index: number, entry: MemberAnswer): void {
    const previous = entry.undo.previous;
    m.answers[index] = entry;
    m.score += entry.record.points - (previous?.record.points ?? 0);
    m.streak = entry.streakAfter;
    m.tieBreak = tieBreakOf(m);
    m.lastAnswerAt = entry.record.receivedAt;
    if (ranked(m)) this.board.set(m.id, m.score, m.tieBreak);
    if (m.current === index) m.current = null;
    if (this.isLiveQuestion(index)) {
      for (const i of previous?.optionIndices ?? []) this.tally.optionCounts[i]! -= 1;
      for (const i of entry.optionIndices) this.tally.optionCounts[i]! += 1;
      if (!previous) {
        this.tally.answered += 1;
        if (entry.countedConnected) this.tally.connectedAnswered += 1;
      }
    }
  }

  private undoAnswer(m: Member, index: number, entry: MemberAnswer): void {
    const previous = entry.undo.previous;
    m.answers[index] = previous;
    m.score = entry.undo.score;
    m.streak = entry.undo.streak;
    m.tieBreak = entry.undo.tieBreak;
    if (ranked(m)) this.board.set(m.id, m.score, m.tieBreak);
    if (this.isLiveQuestion(index)) {
      for (const i of entry.optionIndices) this.tally.optionCounts[i]! -= 1;
      for (const i of previous?.optionIndices ?? []) this.tally.optionCounts[i]! += 1;
      if (!previous) {
        this.tally.answered -= 1;
        if (entry.countedConnected && m.connections > 0) this.tally.connectedAnswered -= 1;
      }
    }
  }

  /** When may this member answer question `index`, and from when is their time measured? */
  private answerWindow(
    m: Member,
    index: number,
    now: number,
  ): Reply<{ openedAt: number; deadline: number | null }> {
    const p = this.phase;
    if (this.record.settings.mode === "self_paced") {
      if (p.kind === "lobby")
        return fail("STATE", "the session has not started yet", "not_started");
      if (p.kind !== "active") return fail("STATE", "this session has ended", "room_ended");
      const servedAt = m.served.get(index);
      if (servedAt !== undefined) {
        const deadline = servedAt + this.limitOf(this.question(index));
        if (now > deadline) return fail("STATE", "time is up for this question", "too_late");
        return ok({ openedAt: servedAt, deadline });
      }
      // S-5: never served (the client read the quiz over REST): time runs from the participant's last step.
      const from = Math.max(this.startedAt ?? 0, m.joinedAt, m.lastAnswerAt ?? 0);
      return ok({ openedAt: from, deadline: null });
    }
    if (p.kind !== "question") return fail("STATE", "no question is open", "not_open");
    if (p.index !== index) return fail("STATE", "that question is not the open one", "not_open");
    if (p.paused) return fail("STATE", "the game is paused until the host is back", "paused");
    if (p.closedAt !== null || now > p.deadline) {
      return fail("STATE", "time is up for this question", "too_late");
    }
    return ok({ openedAt: p.openedAt, deadline: p.deadline });
  }

  /**
   * T-3: closes once every connected player's answer is in and stored — stored,
   * so an answer refused by storage cannot have closed the question.
   */
  private closeIfAllAnswered(now: number): void {
    const p = this.phase;
    if (p.kind !== "question" || p.closedAt !== null || p.paused) return;
    if (this.earlyCloseFrom > 0) return; // players are still coming back after a restore
    if (this.pendingFor(p.index) > 0) return;
    if (this.connectedPlayers > 0 && this.tally.connectedAnswered >= this.connectedPlayers) {
      this.closeQuestion(now, "all_answered");
    }
  }

  // ---------------------------------------------------------------- self_paced

  /** A player arriving in a running self_paced session is served their question at once. */
  private serveOnArrival(m: Member, now: number): void {
    if (
      m.pushQuestions &&
      this.record.settings.mode === "self_paced" &&
      this.phase.kind === "active"
    ) {
      this.serveNext(m, now, true);
    }
  }

  /**
   * Serves the member their current question again (T-7: same timer) or the
   * next one they have not answered. Returns null when they are done.
   */
  private serveNext(m: Member, now: number, push: boolean): ServedQuestion | null {
    let index = this.unansweredServed(m, now);
    if (index === null) {
      index = null;
      for (let i = 0; i < this.record.questions.length; i++) {
        if (m.answers[i] === undefined && !m.served.has(i)) {
          index = i;
          break;
        }
      }
    }
    if (index === null) {
      m.current = null;
      return null;
    }
    const q = this.question(index);
    let servedAt = m.served.get(index);
    if (servedAt === undefined) {
      servedAt = now;
      m.served.set(index, now);
      this.writes.push({
        write: {
          kind: "served_put",
          served: {
            sessionId: this.record.id,
            participantId: m.id,
            questionIndex: index,
            servedAt: now,
          },
        },
      });
    }
    m.current = index;
    const limit = this.limitOf(q);
    const served: ServedQuestion = {
      index,
      total: this.record.questions.length,
      question: publicQuestion(q, limit),
      servedAt,
      deadline: servedAt + limit,
    };
    if (push) {
      this.emit(
        { kind: "participant", participantId: m.id },
        {
          type: "question",
          index,
          total: served.total,
          question: served.question,
          openedAt: servedAt,
          deadline: served.deadline,
        },
        now,
      );
    }
    return served;
  }

  /** The served, unanswered question whose time has not run out, if any. */
  private unansweredServed(m: Member, now: number): number | null {
    let best: number | null = null;
    for (const [index, servedAt] of m.served) {
      if (m.answers[index] !== undefined) continue;
      if (now > servedAt + this.limitOf(this.question(index))) continue;
      if (best === null || index < best) best = index;
    }
    return best;
  }

  // ---------------------------------------------------------------- views

  private snapshot(actor: Actor, role: ViewerRole, now: number, top?: number): Snapshot {
    const m = this.memberOf(actor);
    if (role === "host" && !this.isHost(actor)) role = "spectator";
    return this.snapshotFor(m, role, now, top);
  }

  private snapshotFor(
    m: Member | undefined,
    role: ViewerRole,
    now: number,
    top = this.record.settings.leaderboardSize,
  ): Snapshot {
    const s = this.record.settings;
    const p = this.phase;
    const view: PhaseView = {
      kind: p.kind,
      index: null,
      question: null,
      openedAt: null,
      deadline: null,
      closed: false,
      until: null,
      endReason: null,
      paused: this.pausedFor(),
      reveal: null,
    };
    switch (p.kind) {
      case "question": {
        const q = this.question(p.index);
        view.index = p.index;
        view.question = publicQuestion(q, this.limitOf(q));
        view.openedAt = p.openedAt;
        view.deadline = p.deadline;
        view.closed = p.closedAt !== null;
        break;
      }
      case "reveal":
      case "intermission": {
        const q = this.question(p.index);
        view.index = p.index;
        view.until = p.until;
        view.question = publicQuestion(q, this.limitOf(q));
        view.reveal = {
          correct: correctAnswerOf(q),
          optionCounts: this.countsFor(p.index),
          answeredCount: this.countsFor(p.index).length === 0 ? 0 : this.answeredFor(p.index),
        };
        break;
      }
      case "active": {
        if (m && m.role === "player") {
          const index = this.unansweredServed(m, now);
          if (index !== null) {
            const q = this.question(index);
            const servedAt = m.served.get(index) ?? now;
            view.index = index;
            view.question = publicQuestion(q, this.limitOf(q));
            view.openedAt = servedAt;
            view.deadline = servedAt + this.limitOf(q);
          }
        }
        break;
      }
      case "ended":
        view.endReason = p.reason;
        break;
      case "lobby":
        break;
      default:
        exhaustive(p);
    }
    const staff = role === "host" || role === "spectator";
    const players = staff ? this.roster() : null;
    const currentIndex = p.kind === "question" ? p.index : null;
    return {
      sessionId: this.record.id,
      pin: this.record.pin,
      title: this.record.title,
      mode: s.mode,
      status: statusOf(p),
      phase: view,
      questionCount: this.record.questions.length,
      locked: this.locked,
      hostUserId: this.hostUserId,
      settings: s,
      playerCount: this.playerCount,
      presentCount: this.presentCount,
      leaderboard: this.standings(Math.max(1, Math.min(top, BATCHED_BOARD_SIZE))),
      startedAt: this.startedAt,
      endedAt: this.endedAt,
      you: m
        ? {
            participantId: m.id,
            name: m.name,
            role: m.role,
            score: m.score,
            rank: ranked(m) ? (this.board.rank(m.id) ?? null) : null,
            streak: m.streak,
            answeredCurrent: currentIndex !== null && m.answers[currentIndex] !== undefined,
            answeredCount: m.answers.reduce((n, a) => n + (a ? 1 : 0), 0),
            finished:
              s.mode === "self_paced" &&
              this.record.questions.every(
                (_, i) => m.answers[i] !== undefined || m.served.has(i),
              ) &&
              this.unansweredServed(m, now) === null,
          }
        : null,
      players,
      epoch: this.epoch,
      seq: this.seq,
      serverTime: now,
    };
  }

  /** Every ranked player's rank, in rank order (for remote doors' per-recipient ranks). */
  rankList(): Array<[ParticipantId, number]> {
    const out: Array<[ParticipantId, number]> = [];
    for (const e of this.board.entries()) out.push([e.id as ParticipantId, e.rank]);
    return out;
  }

  /** Top `n` standings with names, for events and snapshots. */
  standings(n: number): Standing[] {
    return this.board.top(n).map((e) => {
      const m = this.members.get(e.id as ParticipantId)!;
      return { participantId: m.id, userId: m.userId, name: m.name, score: e.score, rank: e.rank };
    });
  }

  /** A page of the leaderboard (REST). */
  standingsPage(fromRank: number, count: number): StandingsPage {
    return {
      epoch: this.epoch,
      seq: this.seq,
      total: this.board.size,
      entries: this.board.range(fromRank, count).map((e) => {
        const m = this.members.get(e.id as ParticipantId)!;
        return {
          participantId: m.id,
          userId: m.userId,
          name: m.name,
          score: e.score,
          rank: e.rank,
        };
      }),
    };
  }

  rankOf(id: ParticipantId): number | null {
    return this.board.rank(id) ?? null;
  }

  /**
   * Who holds this resume token, without rotating it: REST callers present it
   * as a bearer credential on every request.
   */
  authenticate(
    token: string,
  ): { participantId: ParticipantId; userId: UserId; role: ParticipantRole } | undefined {
    const m = this.byToken.get(this.deps.hashToken(token));
    return m && m.status !== "kicked"
      ? { participantId: m.id, userId: m.userId, role: m.role }
      : undefined;
  }

  /** Looks a member up by user id (doors that identify players by user, like seed 001). */
  participantOfUser(userId: UserId): ParticipantId | undefined {
    const m = this.byUser.get(userId);
    return m && m.status !== "kicked" ? m.id : undefined;
  }

  /** Looks a member up by participant id (seed 002's REST answers carry only the participant id). */
  userOfParticipant(id: ParticipantId): UserId | undefined {
    const m = this.members.get(id);
    return m && m.status !== "kicked" ? m.userId : undefined;
  }

  // ---------------------------------------------------------------- helpers

  private emit(audience: Audience, body: EventBody, now: number): void {
    // T-8: `ended` is a room's last event. A leave, a closing connection or an answer stored
    // after the end changes nobody's view of a finished game (its sender still gets its reply).
    if (this.phase.kind === "ended" && body.type !== "ended") return;
    this.seq += 1;
    this.events.push({
      sessionId: this.record.id,
      epoch: this.epoch,
      seq: this.seq,
      at: now,
      audience,
      body,
      encoded: new Map(),
    });
    // A player count waiting for its window rides along with a phase broadcast: every player
    // gets both in one write, instead of a broadcast of its own later (mid-question, in a big room).
    if (
      audience.kind === "all" &&
      this.due.players !== null &&
      (body.type === "started" || body.type === "question" || body.type === "reveal")
    ) {
      this.due.players = null;
      this.emit(audience, { type: "player_count", playerCount: this.playerCount }, now);
    }
  }

  private setPhase(phase: Phase): void {
    this.phase = phase;
    this.queueState();
  }

  private queueState(): void {
    const state: SessionStateRecord = {
      phase: this.phase,
      locked: this.locked,
      epoch: this.epoch,
      seq: this.seq,
      startedAt: this.startedAt,
      endedAt: this.endedAt,
      hostUserId: this.hostUserId,
    };
    if (this.recent.length > 0) state.recentRequests = [...this.recent];
    this.writes.push({ write: { kind: "session_state", sessionId: this.record.id, state } });
  }

  private markDirty(now: number, what: Coalesced): void {
    if (this.due[what] !== null) return;
    const wait = what === "players" ? playerCountEveryMs(this.playerCount) : COALESCE_MS[what];
    this.due[what] = now + wait;
  }

  /** Emits the coalesced updates that are due. */
  private flush(now: number): void {
    const isDue = (what: Coalesced) => {
      const at = this.due[what];
      if (at === null || now < at) return false;
      this.due[what] = null;
      return this.phase.kind !== "ended";
    };
    if (isDue("players")) {
      this.emit({ kind: "all" }, { type: "player_count", playerCount: this.playerCount }, now);
    }
    const p = this.phase;
    if (isDue("answers") && p.kind === "question") {
      this.emit(
        { kind: "all" },
        {
          type: "answer_count",
          index: p.index,
          answered: this.tally.answered,
          players: this.playerCount,
        },
        now,
      );
    }
    if (isDue("leaderboard")) {
      this.emit(
        { kind: "all" },
        {
          type: "leaderboard",
          leaderboard: this.standings(BATCHED_BOARD_SIZE),
          totalPlayers: this.board.size,
          ranks: (id) => this.board.rank(id) ?? null,
        },
        now,
      );
    }
  }

  private addMember(p: ParticipantRecord): Member {
    const m = newMember(p);
    this.members.set(m.id, m);
    this.byUser.set(m.userId, m);
    if (m.status !== "kicked") {
      this.byName.set(m.key, m);
      this.byToken.set(m.tokenHash, m);
      if (m.role === "player") this.playerCount += 1;
    }
    if (isPresent(m)) this.presentCount += 1;
    return m;
  }

  /** Applies a change to a member, keeping the count of present players right. */
  private changePresence(m: Member, change: () => void): void {
    const was = isPresent(m);
    change();
    const is = isPresent(m);
    if (was !== is) this.presentCount += is ? 1 : -1;
  }

  private infoOf(m: Member): MemberInfo {
    return memberInfo(m, ranked(m) ? (this.board.rank(m.id) ?? null) : null);
  }

  private recordOf(m: Member): ParticipantRecord {
    return memberRecord(m, this.record.id);
  }

  /** The players in join order, as snapshots and quick_fire events list them (the first 500). */
  private roster(): PublicParticipant[] {
    const players: PublicParticipant[] = [];
    for (const x of this.members.values()) {
      if (x.role !== "player" || x.status === "kicked") continue;
      players.push(this.publicOf(x));
      if (players.length >= SNAPSHOT_PLAYERS_MAX) break;
    }
    return players;
  }

  /**
   * quick_fire rooms are small (M-2) and the contest dialect shows everyone with every
   * arrival and at the start, so those events carry the roster; other modes' rooms can
   * hold thousands, whose join events must stay O(1).
   */
  private rosterForEvents(): PublicParticipant[] | null {
    return this.record.settings.mode === "quick_fire" ? this.roster() : null;
  }

  private publicOf(m: Member): PublicParticipant {
    return publicMember(m);
  }

  private newParticipantId(): ParticipantId {
    for (;;) {
      const id = asParticipantId(`p_${this.deps.random.token(9)}`);
      if (!this.members.has(id)) return id;
    }
  }

  private memberOf(actor: Actor): Member | undefined {
    const m = actor.participantId
      ? this.members.get(actor.participantId)
      : this.byUser.get(actor.userId);
    return m && m.userId === actor.userId ? m : undefined;
  }

  private isHost(actor: Actor): boolean {
    return actor.userId === this.hostUserId || actor.roles.includes("admin");
  }

  private requireHost(actor: Actor): { ok: false; error: DomainError } | null {
    return this.isHost(actor) ? null : fail("FORBIDDEN", "only the host can do that", "not_host");
  }

  private question(index: number): Question {
    const q = this.record.questions[index];
    if (!q) throw new Error(`question ${index} out of range`);
    return q;
  }

  private limitOf(q: Question): number {
    return this.record.settings.questionTimeMs ?? q.timeLimitMs;
  }

  private resolveTarget(target: AnswerTarget): number | undefined {
    if ("index" in target) {
      return Number.isInteger(target.index) &&
        target.index >= 0 &&
        target.index < this.record.questions.length
        ? target.index
        : undefined;
    }
    return this.questionIndexById.get(target.questionId);
  }

  private isLiveQuestion(index: number): boolean {
    return this.phase.kind === "question" && this.phase.index === index;
  }

  private pendingFor(index: number): number {
    return this.pendingPerQuestion.get(index) ?? 0;
  }

  /** Takes a stored (or refused) answer out of `pending`; undefined when it is not there. */
  private settlePending(ticket: number): PendingAnswer | undefined {
    const p = this.pending.get(ticket);
    if (p === undefined) return undefined;
    this.pending.delete(ticket);
    const left = this.pendingFor(p.index) - 1;
    if (left > 0) this.pendingPerQuestion.set(p.index, left);
    else this.pendingPerQuestion.delete(p.index);
    return p;
  }

  private countsFor(index: number): number[] {
    const q = this.question(index);
    const counts = q.options.map(() => 0);
    for (const m of this.members.values()) {
      if (!ranked(m)) continue;
      for (const i of m.answers[index]?.optionIndices ?? []) counts[i]! += 1;
    }
    return counts;
  }

  private answeredFor(index: number): number {
    let n = 0;
    for (const m of this.members.values()) if (ranked(m) && m.answers[index]) n += 1;
    return n;
  }

  private rebuildTally(index: number): void {
    const q = this.question(index);
    this.tally = { optionCounts: q.options.map(() => 0), answered: 0, connectedAnswered: 0 };
    for (const m of this.members.values()) {
      const a = m.answers[index];
      if (!a || !ranked(m)) continue;
      this.tally.answered += 1;
      for (const i of a.optionIndices) this.tally.optionCounts[i]! += 1;
    }
  }

  /** The streak a member carries after the questions already closed, replayed from stored answers. */
  private replayStreak(m: Member): number {
    const mode = this.record.settings.mode;
    const p = this.phase;
    let upTo: number;
    if (mode === "self_paced") upTo = this.record.questions.length;
    else if (p.kind === "question") upTo = p.index;
    else if (p.kind === "reveal" || p.kind === "intermission") upTo = p.index + 1;
    else if (p.kind === "ended") upTo = this.record.questions.length;
    else upTo = 0;
    return replayStreak(m, this.record.questions, {
      upTo,
      missesReset: mode !== "self_paced",
      open: p.kind === "question" ? p.index : null,
    });
  }
}

/** The `nextImage` of a reveal: the picture of the question that follows, when it has one. */
function nextImageOf(next: Question | undefined): { nextImage?: string } {
  return next?.image === undefined ? {} : { nextImage: next.image };
}
