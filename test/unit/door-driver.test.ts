import pino from "pino";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import { MemoryRateLimiter } from "../../src/adapters/memory/memory-rate-limiter.js";
import { MemoryReplayCache } from "../../src/adapters/memory/memory-replay-cache.js";
import { asParticipantId, asUserId, type ParticipantId } from "../../src/domain/ids.js";
import type { Connection } from "../../src/doors/ws-kit/connection.js";
import {
  type Decoded,
  type Dialect,
  type EventFrame,
  eventFrame,
  type Handlers,
  type Outbound,
  type Reply,
  replyOf,
  sharedFrame,
} from "../../src/doors/ws-kit/dialect.js";
import {
  type ConnectionLimits,
  DEFAULT_CONNECTION_LIMITS,
  DoorDriver,
} from "../../src/doors/ws-kit/driver.js";
import type { RoomHandle } from "../../src/engine/room-handle.js";
import type { Actor, Command, RoomEvent, ViewerRole } from "../../src/engine/types.js";
import { Metrics } from "../../src/observability/metrics.js";
import { FakeSocket } from "../support/fake-socket.js";
import { sessionRecord, threeQuestions } from "../support/fixtures.js";

/**
 * The door driver with a dialect written for the test ("echo") and a room
 * whose replies and events the test hands out: every stage of the pipeline
 * every door shares, seen from a FakeSocket.
 */

type Msg =
  | { type: "hello"; id?: string }
  | { type: "join"; id?: string; role?: ViewerRole }
  | { type: "refuse"; id?: string; retryable: boolean }
  | { type: "boom"; id?: string }
  | { type: "slow"; id?: string };

const TYPES = new Set(["hello", "join", "refuse", "boom", "slow"]);
const CODES = {
  goingAway: 1001,
  rateLimited: 4008,
  protocolViolations: 4002,
  heartbeatTimeout: 4010,
  kicked: 4003,
};

class Refusal extends Error {
  constructor(readonly retryable: boolean) {
    super("refused");
  }
}

const out = (type: string, body: object = {}): Outbound => ({
  type,
  text: JSON.stringify({ type, ...body }),
});

const STAFF = new Set<ViewerRole>(["host", "spectator"]);

/** A room the test drives: commands are recorded, joins answered when the test says. */
class ScriptedRoom {
  readonly info = (({ state: _s, ...info }) => info)(sessionRecord("live", threeQuestions()));
  readonly commands: Array<{ actor: Actor; command: Command }> = [];
  private listener: ((e: RoomEvent, more?: boolean) => void) | null = null;
  private resync: (() => void) | undefined;
  private joins: Array<() => void> = [];
  seq = 0;
  readonly handle: RoomHandle = {
    id: this.info.id,
    info: this.info,
    execute: (actor, command) => {
      this.commands.push({ actor, command });
      if (command.type === "join") {
        return new Promise((resolve) =>
          this.joins.push(() =>
            resolve({
              ok: true,
              value: {
                participantId: asParticipantId(`p-${actor.userId}`),
                userId: actor.userId,
                role: "player",
                name: command.name,
                resumeToken: "t".repeat(24),
                resumed: false,
                snapshot: { epoch: 1, seq: this.seq } as never,
              },
            } as never),
          ),
        );
      }
      return Promise.resolve({ ok: true, value: { done: true, phase: "lobby" } } as never);
    },
    subscribe: (listener, onResync) => {
      this.listener = listener;
      this.resync = onResync;
      return () => {
        this.listener = null;
      };
    },
  };

  /** Answers the oldest pending join. */
  answerJoin(): void {
    this.joins.shift()?.();
  }

  emit(body: RoomEvent["body"], audience: RoomEvent["audience"] = { kind: "all" }): RoomEvent {
    const e = this.event(body, audience);
    this.listener?.(e);
    return e;
  }

  /** The events of one room step, as a runtime hands them out: each but the last with `more`. */
  emitStep(...steps: Array<[RoomEvent["body"], RoomEvent["audience"]?]>): void {
    const events = steps.map(([body, audience]) => this.event(body, audience ?? { kind: "all" }));
    for (const [i, e] of events.entries()) this.listener?.(e, i < events.length - 1);
  }

  private event(body: RoomEvent["body"], audience: RoomEvent["audience"]): RoomEvent {
    this.seq += 1;
    return {
      sessionId: this.info.id,
      epoch: 1,
      seq: this.seq,
      at: 0,
      audience,
      body,
      encoded: new Map(),
    };
  }

  lostEvents(): void {
    this.resync?.();
  }

  commandTypes(): string[] {
    return this.commands.map((c) => c.command.type);
  }
}

interface EchoState {
  userId: string;
}

class EchoDialect implements Dialect<EchoState, Msg> {
  readonly name = "echo";
  readonly closeCodes = CODES;
  readonly kickedReason = "removed";
  readonly binding = new Set<Msg["type"]>(["join", "refuse"]);
  handled = 0;
  refreshed: number[] = [];
  readonly metrics = new Metrics({ sessions: () => 0, storageQueue: () => 0 });
  /** Connections an event was delivered to (the driver's `delivered` hook), in order. */
  readonly visited: number[] = [];
  private slowGate: (() => void) | null = null;
  readonly driver: DoorDriver<EchoState, Msg>;

  constructor(
    readonly ordered: boolean,
    readonly room: ScriptedRoom,
    limits: Partial<ConnectionLimits> = {},
  ) {
    const clock = new FakeClock();
    this.driver = new DoorDriver(this, {
      metrics: this.metrics,
      limiter: new MemoryRateLimiter(clock),
      replay: new MemoryReplayCache(clock),
      replayTtlMs: 60_000,
      limits: {
        ...DEFAULT_CONNECTION_LIMITS,
        coalesceAboveBytes: 1_000,
        slowConsumerBytes: 10_000,
        ...limits,
      },
      log: pino({ level: "silent" }),
      sessions: { find: async () => room.handle },
    });
  }

  decode(data: Buffer): Decoded<Msg> {
    try {
      const m = JSON.parse(data.toString("utf8")) as Msg;
      if (TYPES.has(m.type)) return { ok: true, message: m };
    } catch {
      // answered below
    }
    return { ok: false, error: out("error", { reason: "bad" }) };
  }

  readonly handlers: Handlers<EchoState, Msg> = {
    hello: async (_c, m) => {
      this.handled += 1;
      return replyOf(out("hi", { id: m.id, n: this.handled }));
    },
    join: async (conn, m) => {
      const role = m.role ?? "player";
      this.driver.attach(conn, this.room.handle, role);
      const reply = await this.room.handle.execute(this.actor(conn), { type: "join", name: "x" });
      if (!reply.ok) throw new Refusal(false);
      const j = reply.value;
      await this.driver.settle(conn, role === "player" ? j.participantId : null, role, j.snapshot);
      return {
        frames: [out("joined", { id: m.id }), out("state", { seq: j.snapshot.seq })],
        retryable: false,
        binding: { sessionId: this.room.handle.id, participantId: j.participantId, role },
      };
    },
    refuse: async (conn, m) => {
      if (m.id === "after-attach") this.driver.attach(conn, this.room.handle, "player");
      throw new Refusal(m.retryable);
    },
    boom: async () => {
      throw new Error("a bug");
    },
    slow: async (_c, m) => {
      await new Promise<void>((resolve) => {
        this.slowGate = resolve;
      });
      return replyOf(out("slow-done", { id: m.id }));
    },
  };

  finishSlow(): void {
    this.slowGate?.();
  }

  replayKey(conn: Connection<EchoState>, m: Msg): string | null {
    return m.id === undefined ? null : `${conn.state.userId}:${m.id}`;
  }

  refusal(err: unknown): Reply | null {
    if (!(err instanceof Refusal)) return null;
    return { frames: [out("error", { reason: "refused" })], retryable: err.retryable };
  }

  internalError(): Reply {
    return replyOf(out("error", { reason: "internal" }));
  }

  rateLimited(retryAfterMs: number): Outbound {
    return out("error", { reason: "rate_limited", retryAfterMs });
  }

  actor(conn: Connection<EchoState>): Actor {
    const a: Actor = { userId: asUserId(conn.state.userId), roles: [], anonymous: false };
    if (conn.participantId) a.participantId = conn.participantId;
    return a;
  }

  encodeEvent(event: RoomEvent): readonly EventFrame[] {
    const b = event.body;
    const text = (extra: object = {}) => JSON.stringify({ type: b.type, seq: event.seq, ...extra });
    switch (b.type) {
      case "answer_count":
        return [
          sharedFrame("answer_count", text(), { roles: STAFF, coalescible: true, mayWait: true }),
        ];
      case "player_count":
        return [sharedFrame("player_count", text(), { coalescible: true })];
      case "reveal": {
        // Spliced as the canonical door's: the same bytes around each player's own part.
        const own = text({ you: "" });
        const cut = own.length - 2;
        return [
          eventFrame("reveal", {
            shared: Buffer.from(text({ you: null })),
            personal: {
              before: Buffer.from(own.slice(0, cut)),
              part: (id: ParticipantId) => id,
              after: Buffer.from(own.slice(cut)),
            },
          }),
        ];
      }
      case "ended":
        return [
          eventFrame("ended", {
            shared: Buffer.from(text({ you: null })),
            personal: (id: ParticipantId) => text({ you: id }),
          }),
        ];
      case "kicked":
        return [sharedFrame("kick", text())];
      default:
        return [sharedFrame(b.type, text())];
    }
  }

  delivered(conn: Connection<EchoState>): void {
    this.visited.push(conn.id);
  }

  async refresh(conn: Connection<EchoState>): Promise<void> {
    this.refreshed.push(conn.id);
    this.driver.sendState(conn, out("state", { seq: this.room.seq }), {
      epoch: 1,
      seq: this.room.seq,
    });
  }

  /** A connected client: its socket, and the frames it got (parsed). */
  client(userId: string): FakeSocket {
    const socket = new FakeSocket();
    const conn = this.driver.connect(socket, { userId });
    return socket.attach(this.driver.eventsOf(conn));
  }
}

const flush = () => new Promise((resolve) => setImmediate(resolve));
type Frame = { type: string; [k: string]: unknown };

function setup(ordered = false, limits: Partial<ConnectionLimits> = {}) {
  const room = new ScriptedRoom();
  const door = new EchoDialect(ordered, room, limits);
  return { room, door };
}

async function joined(door: EchoDialect, room: ScriptedRoom, userId: string, role?: ViewerRole) {
  const c = door.client(userId);
  c.receive({ type: "join", id: `join-${userId}`, ...(role ? { role } : {}) });
  await flush();
  room.answerJoin();
  await flush();
  await flush();
  return c;
}

describe("door driver: decoding, limits, replays", () => {
  it("a frame that does not decode is answered with the dialect's error and counts as a strike; more than the allowance close 4002", async () => {
    const { door } = setup(false, { strikesPerMinute: 3 });
    const c = door.client("u1");
    c.receive("not json");
    expect(c.frames<Frame>()).toEqual([{ type: "error", reason: "bad" }]);
    c.receive("{}");
    c.receive({ type: "teleport" });
    expect(c.isOpen).toBe(true);
    c.receive({ type: "teleport" });
    expect(c.closedWith).toEqual({ code: 4002, reason: "too many invalid messages" });
    expect(door.handled).toBe(0);
  });

  it("over the message rate a frame is answered, not read; a flood that goes on closes 4008", async () => {
    const { door } = setup(false, { messageBurst: 2, messagesPerSecond: 1, floodCloseAfter: 3 });
    const c = door.client("u1");
    for (let i = 0; i < 4; i++) c.receive({ type: "hello" });
    await flush();
    // The refusals go out at once; the two read messages are answered when handled.
    expect(c.types().sort()).toEqual(["error", "error", "hi", "hi"]);
    expect(c.frames<Frame>().filter((f) => f.type === "error")[0]?.reason).toBe("rate_limited");
    expect(door.handled).toBe(2);
    c.receive({ type: "hello" });
    expect(c.closedWith?.code).toBe(4008);
  });

  it("A-6: a retried message id gets its first reply and is not handled again; a retryable refusal is not remembered", async () => {
    const { door } = setup();
    const c = door.client("u1");
    c.receive({ type: "hello", id: "m1" });
    c.receive({ type: "hello", id: "m1" });
    await flush();
    c.receive({ type: "hello", id: "m1" });
    await flush();
    expect(c.frames<Frame>().map((f) => f.n)).toEqual([1, 1, 1]);
    expect(door.handled).toBe(1);

    c.receive({ type: "refuse", id: "r1", retryable: true });
    await flush();
    c.receive({ type: "refuse", id: "r1", retryable: false });
    await flush();
    c.receive({ type: "refuse", id: "r1", retryable: true });
    await flush();
    // The first refusal was retryable: the retry ran again (and its refusal is remembered).
    expect(c.frames<Frame>().slice(3)).toEqual([
      { type: "error", reason: "refused" },
      { type: "error", reason: "refused" },
      { type: "error", reason: "refused" },
    ]);
  });

  it("a handler that throws something unexpected gets the dialect's internal error; the connection lives on", async () => {
    const { door } = setup();
    const c = door.client("u1");
    c.receive({ type: "boom" });
    await flush();
    c.receive({ type: "hello" });
    await flush();
    expect(c.frames<Frame>()).toEqual([
      { type: "error", reason: "internal" },
      { type: "hi", n: 1 },
    ]);
  });

  it("an ordered dialect handles a connection's messages one at a time, replies in request order", async () => {
    const { door } = setup(true);
    const c = door.client("u1");
    c.receive({ type: "slow", id: "s" });
    c.receive({ type: "hello", id: "h" });
    await flush();
    expect(c.types()).toEqual([]);
    door.finishSlow();
    await flush();
    await flush();
    expect(c.types()).toEqual(["slow-done", "hi"]);
  });

  it("an unordered dialect answers what is ready first", async () => {
    const { door } = setup(false);
    const c = door.client("u1");
    c.receive({ type: "slow", id: "s" });
    c.receive({ type: "hello", id: "h" });
    await flush();
    expect(c.types()).toEqual(["hi"]);
    door.finishSlow();
    await flush();
    expect(c.types()).toEqual(["hi", "slow-done"]);
  });
});

describe("door driver: joining and the events around the reply", () => {
  it("events during a join are held until its reply is out, minus those its snapshot already showed", async () => {
    const { room, door } = setup();
    const c = door.client("u1");
    c.receive({ type: "join", id: "j" });
    await flush();
    room.emit({ type: "locked", locked: true }); // seq 1: in the join's snapshot
    room.answerJoin();
    room.emit({ type: "locked", locked: false }); // seq 2: after it
    await flush();
    await flush();
    expect(c.frames<Frame>()).toEqual([
      { type: "joined", id: "j" },
      { type: "state", seq: 1 },
      { type: "locked", seq: 2 },
    ]);
    // Joined as a participant: presence was told the room.
    expect(room.commandTypes()).toEqual(["join", "presence"]);
  });

  it("a message answered while a join is in flight neither unbinds the join nor lets its held events out early", async () => {
    const { room, door } = setup();
    const c = door.client("u1");
    c.receive({ type: "join", id: "j" });
    await flush();
    c.receive({ type: "hello", id: "h" });
    await flush();
    room.emit({ type: "locked", locked: true }); // seq 1: in the join's snapshot
    room.emit({ type: "locked", locked: false }); // seq 2: held for the join's reply
    expect(c.types()).toEqual(["hi"]);
    room.seq = 1;
    room.answerJoin();
    room.seq = 2;
    await flush();
    await flush();
    expect(c.frames<Frame>()).toEqual([
      { type: "hi", id: "h", n: 1 },
      { type: "joined", id: "j" },
      { type: "state", seq: 1 },
      { type: "locked", seq: 2 },
    ]);
    // Still in the room afterwards: later events arrive.
    room.emit({ type: "locked", locked: true });
    expect(c.frames<Frame>().at(-1)).toEqual({ type: "locked", seq: 3 });
  });

  it("a handler that fails after binding leaves the connection unbound: no events reach it", async () => {
    const { room, door } = setup();
    const c = door.client("u1");
    c.receive({ type: "refuse", id: "after-attach", retryable: false });
    await flush();
    room.emit({ type: "locked", locked: true });
    expect(c.types()).toEqual(["error"]);
  });

  it("a retried join on a new connection binds that connection too, and brings it up to date", async () => {
    const { room, door } = setup();
    const first = await joined(door, room, "u1");
    first.hangUp();
    const again = door.client("u1");
    again.receive({ type: "join", id: "join-u1" });
    await flush();
    await flush();
    expect(again.types()).toEqual(["joined", "state"]);
    expect(door.refreshed.length).toBe(1);
    room.emit({ type: "locked", locked: true });
    expect(again.types()).toEqual(["joined", "state", "locked"]);
    // One join only; the retry re-bound the participant (presence) without joining again.
    expect(room.commandTypes().filter((t) => t === "join")).toEqual(["join"]);
  });

  it("a closed connection's participant is marked gone (presence)", async () => {
    const { room, door } = setup();
    const c = await joined(door, room, "u1");
    c.hangUp();
    await flush();
    expect(room.commands.at(-1)?.command).toEqual({ type: "presence", connected: false });
    expect(door.driver.connectionCount).toBe(0);
  });
});

describe("door driver: delivery", () => {
  it("roles and personal parts: players get their own reveal, staff the shared one and staff-only frames", async () => {
    const { room, door } = setup();
    const player = await joined(door, room, "u1");
    const host = await joined(door, room, "h1", "host");
    room.emit({
      type: "reveal",
      index: 0,
      questionId: "q1",
      correct: { kind: "choice", indices: [0] } as never,
      optionCounts: [],
      answeredCount: 0,
      leaderboard: [],
      totalPlayers: 1,
      results: new Map(),
      until: null,
    });
    room.emit({ type: "answer_count", index: 0, answered: 1, players: 1 });
    expect(player.frames<Frame>().slice(2)).toEqual([
      { type: "reveal", seq: room.seq - 1, you: "p-u1" },
    ]);
    expect(host.frames<Frame>().slice(2)).toEqual([
      { type: "reveal", seq: room.seq - 1, you: null },
      { type: "answer_count", seq: room.seq },
    ]);
  });

  it("a frame the dialect says may wait reaches the socket as one that may; the others do not", async () => {
    const { room, door } = setup();
    const host = await joined(door, room, "h1", "host");
    const from = host.sent.length;
    room.emit({ type: "answer_count", index: 0, answered: 1, players: 1 });
    room.emit({ type: "locked", locked: true });
    const got = host.sent.slice(from).map((f, i) => [JSON.parse(f).type, host.mayWait[from + i]]);
    expect(got).toEqual([
      ["answer_count", true],
      ["locked", false],
    ]);
  });

  it("replies, and frames a dialect sends one participant as a reply, go out as replies; a room's events do not", async () => {
    const { room, door } = setup();
    const player = await joined(door, room, "u1");
    const from = player.sent.length;
    room.emit({ type: "locked", locked: true });
    player.receive({ type: "hello", id: "h1" });
    await flush();
    const group = door.driver.groupOf(room.handle.id);
    if (!group) throw new Error("no group");
    const board = [sharedFrame("board", JSON.stringify({ type: "board" }))];
    door.driver.broadcast(
      group,
      board,
      { epoch: 1, seq: room.seq + 1 },
      asParticipantId("p-u1"),
      true,
    );
    door.driver.broadcast(group, board, { epoch: 1, seq: room.seq + 2 });
    const got = player.sent
      .slice(from)
      .map((f, i) => [JSON.parse(f).type, player.asReply[from + i]]);
    expect(got).toEqual([
      ["locked", false],
      ["hi", true],
      ["board", true],
      ["board", false],
    ]);
  });

  it("a staff-only frame is delivered by visiting the room's hosts and spectators, not every player", async () => {
    const { room, door } = setup();
    for (let i = 0; i < 20; i++) await joined(door, room, `p${i}`);
    const host = await joined(door, room, "h1", "host");
    const spectator = await joined(door, room, "s1", "spectator");
    door.visited.length = 0;
    room.emit({ type: "answer_count", index: 0, answered: 1, players: 20 });
    expect(door.visited).toHaveLength(2);
    expect(host.types().at(-1)).toBe("answer_count");
    expect(spectator.types().at(-1)).toBe("answer_count");
    door.visited.length = 0;
    room.emit({ type: "locked", locked: true });
    expect(door.visited).toHaveLength(22);
  });

  it("backpressure: a client somewhat behind skips coalescible frames, one too far behind is closed 4008", async () => {
    const { room, door } = setup();
    const c = await joined(door, room, "u1");
    c.bufferedAmount = 5_000;
    room.emit({ type: "player_count", playerCount: 2 });
    room.emit({ type: "locked", locked: true });
    expect(c.types().slice(2)).toEqual(["locked"]);
    c.bufferedAmount = 20_000;
    room.emit({ type: "locked", locked: false });
    expect(c.closedWith).toEqual({ code: 4008, reason: "client too slow to keep up; reconnect" });
    room.emit({ type: "locked", locked: true }); // to a closed socket: not counted again
    const counted = await door.metrics.registry.getSingleMetricAsString(
      "quizwire_slow_consumer_total",
    );
    expect(counted).toContain('quizwire_slow_consumer_total{door="echo",action="skipped"} 1');
    expect(counted).toContain('quizwire_slow_consumer_total{door="echo",action="closed"} 1');
  });

  it("a kicked participant gets the event's frame, then the socket closes with the kick code and no presence is sent", async () => {
    const { room, door } = setup();
    const c = await joined(door, room, "u1");
    const other = await joined(door, room, "u2");
    const before = room.commands.length;
    const pid = asParticipantId("p-u1");
    room.emit(
      { type: "kicked", participantId: pid, reason: "bye", until: 0 },
      {
        kind: "participant",
        participantId: pid,
      },
    );
    expect(c.types().slice(2)).toEqual(["kicked"]);
    expect(c.closedWith).toEqual({ code: 4003, reason: "removed" });
    expect(other.types().slice(2)).toEqual([]);
    await flush();
    expect(room.commands.length).toBe(before);
  });

  it("a close asked for while a reply is out happens right after it", async () => {
    const { room, door } = setup();
    const c = door.client("u1");
    c.receive({ type: "join", id: "j" });
    await flush();
    const conn = [...door.driver.connections()][0];
    if (!conn) throw new Error("no connection");
    door.driver.close(conn, 1000, "done", true);
    expect(c.isOpen).toBe(true);
    room.answerJoin();
    await flush();
    await flush();
    expect(c.types()).toEqual(["joined", "state"]);
    expect(c.closedWith).toEqual({ code: 1000, reason: "done" });
  });

  it("a resync refreshes every connection that has its reply; later events older than the refresh are not sent", async () => {
    const { room, door } = setup();
    const c = await joined(door, room, "u1");
    room.seq = 5;
    room.lostEvents();
    await flush();
    expect(c.frames<Frame>().slice(2)).toEqual([{ type: "state", seq: 5 }]);
    // An event the refresh already showed, delivered late, is dropped; a newer one is sent.
    room.seq = 3;
    room.emit({ type: "locked", locked: true });
    room.seq = 6;
    room.emit({ type: "locked", locked: false });
    expect(c.frames<Frame>().slice(3)).toEqual([{ type: "locked", seq: 7 }]);
  });

  it("a broadcast is encoded once per event, whatever the number of recipients", async () => {
    const { room, door } = setup();
    const clients = [];
    for (let i = 0; i < 5; i++) clients.push(await joined(door, room, `u${i}`));
    let encoded = 0;
    const original = door.encodeEvent.bind(door);
    door.encodeEvent = (e) => {
      encoded += 1;
      return original(e);
    };
    room.emit({ type: "locked", locked: true });
    expect(encoded).toBe(1);
    for (const c of clients) expect(c.types().at(-1)).toBe("locked");
  });
});

describe("door driver: the events of one room step", () => {
  const started = { type: "started", startedAt: 0, questionCount: 3 } as never;
  const playerCount = { type: "player_count", playerCount: 2 } as never;
  const question = { type: "question", index: 0 } as never;
  const closed = { type: "question_closed", index: 0, reason: "deadline" } as never;
  const reveal = { type: "reveal", index: 0, results: new Map() } as never;

  async function sentOut(door: EchoDialect, type: string): Promise<string> {
    const text = await door.metrics.registry.getSingleMetricAsString("quizwire_messages_out_total");
    const line = text.split("\n").find((l) => l.includes(`type="${type}"`));
    return line?.split(" ").at(-1) ?? "0";
  }

  it("broadcasts of one step reach every connection in order, as one piece per socket, counted per frame type", async () => {
    const { room, door } = setup();
    const players = [await joined(door, room, "u1"), await joined(door, room, "u2")];
    const host = await joined(door, room, "h1", "host");
    const before = [...players, host].map((c) => c.pieces);
    door.visited.length = 0;
    room.emitStep([started], [playerCount], [question]);
    for (const c of [...players, host]) {
      expect(c.frames<Frame>().slice(2)).toEqual([
        { type: "started", seq: room.seq - 2 },
        { type: "player_count", seq: room.seq - 1 },
        { type: "question", seq: room.seq },
      ]);
    }
    expect([...players, host].map((c, i) => c.pieces - (before[i] ?? 0))).toEqual([1, 1, 1]);
    // The dialect hears of every event for every connection, as when they come one by one.
    expect(door.visited).toHaveLength(9);
    expect(await sentOut(door, "started")).toBe("3");
    expect(await sentOut(door, "question")).toBe("3");
  });

  it("a question's close and its reveal: a player gets both in one piece with their own part, a host the shared reveal", async () => {
    const { room, door } = setup();
    const player = await joined(door, room, "u1");
    const host = await joined(door, room, "h1", "host");
    const pieces = [player.pieces, host.pieces];
    room.emitStep([closed], [reveal]);
    expect(player.frames<Frame>().slice(2)).toEqual([
      { type: "question_closed", seq: room.seq - 1 },
      { type: "reveal", seq: room.seq, you: "p-u1" },
    ]);
    expect(host.frames<Frame>().slice(2)).toEqual([
      { type: "question_closed", seq: room.seq - 1 },
      { type: "reveal", seq: room.seq, you: null },
    ]);
    expect([player.pieces - (pieces[0] ?? 0), host.pieces - (pieces[1] ?? 0)]).toEqual([1, 1]);
    expect(await sentOut(door, "reveal")).toBe("2");
  });

  it("a client that is behind gets the step frame by frame: coalescible frames skipped, one too far behind closed", async () => {
    const { room, door } = setup();
    const behind = await joined(door, room, "u1");
    const farBehind = await joined(door, room, "u2");
    const current = await joined(door, room, "u3");
    behind.bufferedAmount = 5_000;
    farBehind.bufferedAmount = 20_000;
    room.emitStep([started], [playerCount], [question]);
    expect(behind.types().slice(2)).toEqual(["started", "question"]);
    expect(farBehind.closedWith?.code).toBe(4008);
    expect(current.types().slice(2)).toEqual(["started", "player_count", "question"]);
  });

  it("a step's other events go one by one, in their place among the broadcasts", async () => {
    const { room, door } = setup();
    const player = await joined(door, room, "u1");
    const host = await joined(door, room, "h1", "host");
    const before = player.pieces;
    room.emitStep(
      [{ type: "locked", locked: true } as never],
      [started],
      [question],
      [{ type: "answer_count", index: 0, answered: 0, players: 1 } as never],
      [{ type: "ended" } as never],
    );
    expect(player.frames<Frame>().slice(2)).toEqual([
      { type: "locked", seq: room.seq - 4 },
      { type: "started", seq: room.seq - 3 },
      { type: "question", seq: room.seq - 2 },
      { type: "ended", seq: room.seq, you: "p-u1" },
    ]);
    expect(player.pieces - before).toBe(3);
    expect(host.types().slice(2)).toEqual([
      "locked",
      "started",
      "question",
      "answer_count",
      "ended",
    ]);
  });

  it.each([
    ["one that goes one by one", { type: "locked", locked: true } as never],
    ["one of the broadcasts sent together", playerCount],
  ])(
    "an event whose encoding fails (%s) is left out; the step's others still reach everyone",
    async (_, failing) => {
      const { room, door } = setup();
      const c = await joined(door, room, "u1");
      const original = door.encodeEvent.bind(door);
      const failingType = (failing as RoomEvent["body"]).type;
      door.encodeEvent = (e) => {
        if (e.body.type === failingType) throw new Error("a bug in the encoder");
        return original(e);
      };
      room.emitStep([started], [failing], [question]);
      expect(c.types().slice(2)).toEqual(["started", "question"]);
    },
  );

  it("a connection whose reply is not out gets the step after it, as one event after another", async () => {
    const { room, door } = setup();
    const c = door.client("u1");
    c.receive({ type: "join", id: "j" });
    await flush();
    room.answerJoin();
    room.emitStep([started], [question]);
    await flush();
    await flush();
    expect(c.frames<Frame>()).toEqual([
      { type: "joined", id: "j" },
      { type: "state", seq: 0 },
      { type: "started", seq: 1 },
      { type: "question", seq: 2 },
    ]);
  });
});
