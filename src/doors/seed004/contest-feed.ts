import { asUserId, type ParticipantId, type SessionId } from "../../domain/ids.js";
import type { PhaseKind } from "../../domain/phase.js";
import type { RoomHandle } from "../../engine/room-handle.js";
import type {
  Actor,
  Audience,
  FinalResult,
  PublicParticipant,
  RoomEvent,
  Snapshot,
  Standing,
  StandingsPage,
} from "../../engine/types.js";
import type { SessionBundle } from "../../ports/storage.js";
import {
  contestStartedFrame,
  type EncodedFrame,
  type FinalLine,
  frame,
  gameOverFrame,
  openQuestionFrame,
  type PlayerLine,
  playerJoinedFrame,
  playerStates,
  scoreUpdateFrame,
  secondsLeft,
} from "./encode.js";
import type { PlayerState, ServerType } from "./protocol.js";

/** Reads the contest as nobody in particular: never a member, never the host. */
export const BYSTANDER: Actor = {
  userId: asUserId("seed004:bystander"),
  roles: [],
  anonymous: true,
};

/** Where the feed's frames go: the gateway's connections of this contest. */
export interface FeedSink {
  /**
   * A frame for the contest's connections (or one participant's). `seq` places it
   * in the room's event order, so a connection still catching up keeps only what
   * its own snapshot did not already show.
   */
  broadcast(frame: EncodedFrame, seq: number, audience: Audience): void;
  /** The room removed this player: their connections are told and closed. */
  kicked(participantId: ParticipantId): void;
  /** The contest ended at `at`; its sockets close a fixed time later. */
  ended(at: number): void;
}

export interface FeedDeps {
  /** The stored session: the end time and final standings once the room can no longer answer. */
  load(id: SessionId): Promise<SessionBundle | undefined>;
  now(): number;
  onError(err: unknown, context: string): void;
}

/** One player as the feed keeps them. */
interface RosterEntry extends PlayerLine {
  participantId: ParticipantId;
  connected: boolean;
}

type Stage = "lobby" | "running" | "ended";

/** A point in the room's event order. */
interface Mark {
  epoch: number;
  seq: number;
}

type Job = { kind: "event"; event: RoomEvent } | { kind: "sync"; initial: boolean };

const ALL: Audience = { kind: "all" };

/**
 * What seed 004's door knows about one contest, kept from the room's events:
 * the roster (join order, names, scores, presence), how far the contest has
 * got, and its GAME_OVER once it ends. It is seeded from a spectator snapshot
 * when the door first subscribes, and brought up to date from a fresh one on
 * resync (events may have been missed between instances), telling clients what
 * they missed in the seed's own messages.
 *
 * Frames leave in event order: events and resyncs are queued, and while an
 * asynchronous fetch (a snapshot, the final standings) is pending, later ones wait.
 */
export class ContestFeed {
  private roster = new Map<ParticipantId, RosterEntry>();
  private stage: Stage = "lobby";
  private questionIndex: number | null = null;
  /** Events at or before this are already reflected in the roster. */
  private seen: Mark | null = null;
  /** Events at or before this were summed up to clients by a resync: not sent again. */
  private covered: Mark | null = null;
  private endedAtValue: number | null = null;
  private final: string | null = null;
  private finalPending: Promise<string> | null = null;
  private lastResults: {
    results: ReadonlyMap<ParticipantId, FinalResult>;
    named: Standing[];
  } | null = null;
  private readonly queue: Job[] = [];
  private busy = false;
  private pumping = false;
  private disposed = false;

  constructor(
    private readonly handle: RoomHandle,
    private readonly sink: FeedSink,
    private readonly deps: FeedDeps,
  ) {}

  /** Seeds the feed from a spectator snapshot; events that arrive meanwhile wait for it. */
  start(): void {
    this.enqueue({ kind: "sync", initial: true });
  }

  /** When the contest ended, once the feed has seen it end (or been told by storage). */
  get endedAt(): number | null {
    return this.endedAtValue;
  }

  /** A room event, in the order the room emitted it. */
  event(e: RoomEvent): void {
    this.enqueue({ kind: "event", event: e });
  }

  /** Events may have been missed: re-read the contest and tell clients what changed. */
  resync(): void {
    this.enqueue({ kind: "sync", initial: false });
  }

  /** The contest has no connections here any more: drop whatever is queued. */
  dispose(): void {
    this.disposed = true;
    this.queue.length = 0;
  }

  /** The contest's GAME_OVER (for a connection arriving after the end), fetched if not yet known. */
  finalFrame(): Promise<string> {
    if (this.final !== null) return Promise.resolve(this.final);
    if (!this.finalPending) {
      this.finalPending = this.fetchFinal().then(
        (f) => {
          this.final = f;
          this.finalPending = null;
          return f;
        },
        (err: unknown) => {
          this.finalPending = null;
          throw err;
        },
      );
    }
    return this.finalPending;
  }

  // ------------------------------------------------------------------ ordering

  private enqueue(job: Job): void {
    if (this.disposed) return;
    this.queue.push(job);
    this.pump();
  }

  private pump(): void {
    // A sink callback can cause another event (a presence change): it waits its turn.
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.busy && !this.disposed) {
        const job = this.queue.shift();
        if (!job) return;
        let pending: Promise<void> | null = null;
        try {
          pending = job.kind === "event" ? this.onEvent(job.event) : this.sync(job.initial);
        } catch (err) {
          this.deps.onError(err, `seed004 feed failed on ${this.jobName(job)}`);
        }
        if (pending) {
          this.busy = true;
          void pending
            .catch((err: unknown) =>
              this.deps.onError(err, `seed004 feed failed on ${this.jobName(job)}`),
            )
            .then(() => {
              this.busy = false;
              this.pump();
            });
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private jobName(job: Job): string {
    return job.kind === "event" ? job.event.body.type : "resync";
  }

  // ------------------------------------------------------------------ events

  /** Applies one event and sends its frame; a promise when the frame needs a fetch first. */
  private onEvent(e: RoomEvent): Promise<void> | null {
    const fresh = isAfter(e, this.seen);
    if (!fresh && this.covered && !isAfter(e, this.covered) && e.body.type !== "kicked")
      return null;
    const b = e.body;
    const host = this.handle.info.hostUserId;
    switch (b.type) {
      case "participant_joined": {
        const p = b.participant;
        if (p.role === "player" && !this.roster.has(p.participantId)) {
          this.roster.set(p.participantId, entryOf(p));
        }
        this.send(
          e,
          "PLAYER_JOINED",
          playerJoinedFrame(
            { userId: p.userId, name: p.name },
            b.playerCount,
            this.players(),
            host,
          ),
        );
        return null;
      }
      case "participant_left":
        // Players who leave stay on the roster (they may come back); removed ones do not.
        if (b.reason === "kicked") this.roster.delete(b.participantId);
        return null;
      case "presence": {
        const m = this.roster.get(b.participantId);
        if (m && fresh) m.connected = b.connected;
        return null;
      }
      case "scored": {
        const m = this.roster.get(b.participantId);
        if (m && fresh) m.score = b.score;
        // The seed tells everyone about correct answers only.
        if (!b.correct) return null;
        this.send(
          e,
          "SCORE_UPDATE",
          scoreUpdateFrame({ userId: b.userId, name: b.name, score: b.score }, b.points),
        );
        return null;
      }
      case "started":
        if (fresh) this.stage = "running";
        this.send(e, "CONTEST_STARTED", contestStartedFrame(b.questionCount, this.players()));
        return null;
      case "question":
        if (fresh) {
          this.stage = "running";
          this.questionIndex = b.index;
        }
        this.send(
          e,
          "NEW_QUESTION",
          frame("NEW_QUESTION", {
            question_number: b.index + 1,
            total_questions: b.total,
            question_id: b.question.id,
            question_text: b.question.text,
            options: [...b.question.options],
            timer: secondsLeft(b.deadline, b.openedAt),
          }),
        );
        return null;
      case "ended": {
        this.stage = "ended";
        this.endedAtValue = e.at;
        this.sink.ended(e.at);
        this.lastResults = { results: b.results, named: b.leaderboard };
        const lines = this.linesOf(b.results, b.leaderboard, false);
        if (lines) {
          this.final = gameOverFrame(this.handle.info, lines);
          this.send(e, "GAME_OVER", this.final);
          return null;
        }
        // Someone the roster does not know (it was seeded from a capped list): ask for the standings.
        return this.finalFrame().then((f) => this.send(e, "GAME_OVER", f));
      }
      case "kicked":
        this.sink.kicked(b.participantId);
        return null;
      case "player_count":
      case "answer_count":
      case "question_closed":
      case "reveal":
      case "intermission":
      case "leaderboard":
      case "locked":
        // The seed has no message for these.
        return null;
      default: {
        const never: never = b;
        return never;
      }
    }
  }

  private send(e: RoomEvent, type: ServerType, text: string): void {
    this.sink.broadcast({ type, frame: text }, e.seq, e.audience);
  }

  private players(): PlayerState[] {
    return playerStates(this.roster.values(), this.handle.info.hostUserId);
  }

  // ------------------------------------------------------------------ snapshots

  private async sync(initial: boolean): Promise<void> {
    const reply = await this.handle.execute(BYSTANDER, { type: "snapshot", role: "spectator" });
    if (this.disposed) return;
    // No snapshot (the room is gone, its owner unreachable): keep what we know; events carry on.
    if (!reply.ok) return;
    const snap = reply.value as Snapshot;
    if (initial) this.seed(snap);
    else await this.catchUp(snap);
    const mark = { epoch: snap.epoch, seq: snap.seq };
    this.seen = mark;
    if (!initial) this.covered = mark;
  }

  /** The first picture of the contest: nothing is sent (each connection has its own catch-up). */
  private seed(snap: Snapshot): void {
    this.roster = new Map((snap.players ?? []).map((p) => [p.participantId, entryOf(p)]));
    this.stage = stageOf(snap.phase.kind);
    this.questionIndex = questionIndexOf(snap);
  }

  /**
   * After a resync: the seed's messages for whatever changed since the feed
   * last knew — players who joined, the start, scores, the open question, the end.
   */
  private async catchUp(snap: Snapshot): Promise<void> {
    const seq = snap.seq;
    const host = this.handle.info.hostUserId;
    const listed = snap.players ?? [];
    // The snapshot lists the first players only; beyond that, keep what the feed knew.
    const complete = listed.length >= snap.playerCount;
    const before = this.roster;
    const next = new Map(listed.map((p) => [p.participantId, entryOf(p)]));
    if (!complete) for (const [id, m] of before) if (!next.has(id)) next.set(id, m);
    this.roster = next;
    if (complete) for (const id of before.keys()) if (!next.has(id)) this.sink.kicked(id);

    const out = (type: ServerType, text: string) =>
      this.sink.broadcast({ type, frame: text }, seq, ALL);
    const players = this.players();
    for (const p of listed) {
      if (before.has(p.participantId)) continue;
      out("PLAYER_JOINED", playerJoinedFrame(p, snap.playerCount, players, host));
    }
    const kind = snap.phase.kind;
    if (this.stage === "lobby" && kind !== "lobby") {
      out("CONTEST_STARTED", contestStartedFrame(snap.questionCount, players));
    }
    if (kind !== "lobby") {
      for (const p of listed) {
        const was = before.get(p.participantId)?.score ?? 0;
        if (p.score > was) out("SCORE_UPDATE", scoreUpdateFrame(p, p.score - was));
      }
    }
    const question = openQuestionFrame(snap);
    if (question && snap.phase.index !== this.questionIndex) out("NEW_QUESTION", question);
    const wasEnded = this.stage === "ended";
    this.stage = stageOf(kind);
    this.questionIndex = questionIndexOf(snap);
    if (kind === "ended" && !wasEnded) {
      const at = this.endedAtValue ?? (await this.storedEndedAt()) ?? this.deps.now();
      this.endedAtValue = at;
      this.sink.ended(at);
      out("GAME_OVER", await this.finalFrame());
    }
  }

  private async storedEndedAt(): Promise<number | null> {
    const stored = await this.deps.load(this.handle.id);
    return stored ? endedAtOf(stored) : null;
  }

  // ------------------------------------------------------------------ results

  /** Final lines from the end's results, named from the roster or the event's leaderboard. */
  private linesOf(
    results: ReadonlyMap<ParticipantId, FinalResult>,
    named: readonly Standing[],
    partial: boolean,
  ): FinalLine[] | null {
    const names = new Map(named.map((s) => [s.participantId, s]));
    const lines: FinalLine[] = [];
    for (const [id, r] of results) {
      const who = this.roster.get(id) ?? names.get(id);
      if (!who) {
        if (partial) continue;
        return null;
      }
      lines.push({ userId: who.userId, name: who.name, score: r.score, rank: r.rank });
    }
    return lines;
  }

  /** The final standings from the room, else from storage, else what the end's results name. */
  private async fetchFinal(): Promise<string> {
    const info = this.handle.info;
    const reply = await this.handle.execute(BYSTANDER, {
      type: "standings",
      fromRank: 1,
      count: info.settings.maxParticipants,
    });
    if (reply.ok) {
      const page = reply.value as StandingsPage;
      return gameOverFrame(
        info,
        page.entries.map((s) => ({ userId: s.userId, name: s.name, score: s.score, rank: s.rank })),
      );
    }
    const stored = await this.deps.load(this.handle.id);
    if (stored && stored.standings.length > 0) return storedGameOverFrame(stored);
    const last = this.lastResults;
    return gameOverFrame(info, last ? (this.linesOf(last.results, last.named, true) ?? []) : []);
  }
}

/** GAME_OVER from a stored session that has ended (its room no longer answers). */
export function storedGameOverFrame(bundle: SessionBundle): string {
  const people = new Map(bundle.participants.map((p) => [p.id, p]));
  const lines: FinalLine[] = [];
  for (const s of bundle.standings) {
    const p = people.get(s.participantId);
    if (p) lines.push({ userId: p.userId, name: p.name, score: s.score, rank: s.rank });
  }
  return gameOverFrame(bundle.session, lines);
}

/** When a stored session ended, or null while it has not (as far as storage knows). */
export function endedAtOf(bundle: SessionBundle): number | null {
  const state = bundle.session.state;
  return state.phase.kind === "ended" ? (state.endedAt ?? state.phase.at) : null;
}

function entryOf(p: PublicParticipant): RosterEntry {
  return {
    participantId: p.participantId,
    userId: p.userId,
    name: p.name,
    score: p.score,
    connected: p.connected,
  };
}

function stageOf(kind: PhaseKind): Stage {
  return kind === "lobby" ? "lobby" : kind === "ended" ? "ended" : "running";
}

function questionIndexOf(snap: Snapshot): number | null {
  const p = snap.phase;
  return p.kind === "question" || p.kind === "reveal" || p.kind === "intermission" ? p.index : null;
}

function isAfter(e: Mark, m: Mark | null): boolean {
  return m === null || e.epoch > m.epoch || (e.epoch === m.epoch && e.seq > m.seq);
}
