import { afterEach, describe, expect, it, vi } from "vitest";
import { WebSocket as NodeWebSocket } from "ws";
import type { ServerData, ServerType } from "../../src/doors/canonical/protocol.js";
import * as protocol from "../../src/doors/canonical/protocol.js";
import type { SnapshotView } from "../../src/doors/schemas/views.js";
import {
  CANONICAL_PATH,
  CLIENT_RECONNECT_CODE,
  CLOSE_CODES,
  type LifecycleEvents,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  QuizwireClient,
  type QuizwireClientOptions,
  QuizwireError,
  type WebSocketConstructorLike,
  type WebSocketLike,
} from "../../src/sdk/index.js";
import { lobbySnapshot, scoreData } from "../support/server-data.js";

const ROOM = "room-1";
const URL_BASE = "ws://quiz.test/ws/v1";

interface SentFrame {
  v: number;
  type: string;
  msg_id: string;
  room_id?: string;
  data: Record<string, unknown>;
}

/**
 * The server end of one connection, delivered by hand: tests open it, push
 * frames into the client and read what the client sent. Pings are answered
 * automatically unless `network.autoPong` is off.
 */
class FakeSocket implements WebSocketLike {
  readyState = 0;
  onopen: WebSocketLike["onopen"] = null;
  onmessage: WebSocketLike["onmessage"] = null;
  onclose: WebSocketLike["onclose"] = null;
  onerror: WebSocketLike["onerror"] = null;
  readonly sent: SentFrame[] = [];
  closedWith: { code: number | undefined; reason: string | undefined } | null = null;
  private readonly taken = new Set<SentFrame>();
  private readonly waiters: Array<() => void> = [];

  constructor(
    readonly url: string,
    private readonly network: FakeNetwork,
  ) {}

  send(text: string): void {
    if (this.readyState !== 1) throw new Error("send on a socket that is not open");
    const f = JSON.parse(text) as SentFrame;
    this.sent.push(f);
    if (f.type === "ping" && this.network.autoPong) {
      // After send returns, as a real network would.
      void Promise.resolve().then(() =>
        this.reply(f, "pong", {
          server_time: this.network.serverTime(),
          client_time: (f.data.client_time as number | undefined) ?? null,
        }),
      );
    }
    for (const w of this.waiters.splice(0)) w();
  }

  close(code?: number, reason?: string): void {
    this.readyState = 3;
    this.closedWith = { code, reason };
  }

  /** Sent frames of `type`, in order. */
  sentOf(type: string): SentFrame[] {
    return this.sent.filter((f) => f.type === type);
  }

  /** The next frame of `type` the client sends that no earlier call returned. */
  async next(type: string): Promise<SentFrame> {
    for (;;) {
      const f = this.sent.find((s) => s.type === type && !this.taken.has(s));
      if (f) {
        this.taken.add(f);
        return f;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  deliver(frame: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify({ v: 1, ...frame }) });
  }

  welcome(over: Partial<ServerData<"welcome">> = {}): void {
    if (this.readyState === 0) this.open();
    this.deliver({
      type: "welcome",
      data: {
        user_id: "user-1",
        identity_token: "anon-identity-1",
        protocol: 1,
        server_time: this.network.serverTime(),
        heartbeat_ms: 60_000,
        max_frame_bytes: MAX_FRAME_BYTES,
        ...over,
      },
    });
  }

  reply<T extends ServerType>(
    to: SentFrame,
    type: T,
    data: ServerData<T>,
    extra: Record<string, unknown> = {},
  ): void {
    this.deliver({ type, msg_id: to.msg_id, data, ...extra });
  }

  drop(code = 1006, reason = ""): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

class FakeNetwork {
  readonly sockets: FakeSocket[] = [];
  autoPong = true;
  /** Local clock the client is given, and the server's lead over it. */
  t = 1_000_000;
  serverLeadMs = 0;
  private readonly waiters: Array<() => void> = [];
  readonly WebSocket: WebSocketConstructorLike;

  constructor() {
    const network = this;
    this.WebSocket = class extends FakeSocket {
      constructor(url: string) {
        super(url, network);
        network.sockets.push(this);
        for (const w of network.waiters.splice(0)) w();
      }
    };
  }

  serverTime(): number {
    return this.t + this.serverLeadMs;
  }

  /** The i-th socket the client opened, once it has. */
  async socket(i: number): Promise<FakeSocket> {
    for (;;) {
      const s = this.sockets[i];
      if (s) return s;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

const clients: QuizwireClient[] = [];

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  vi.useRealTimers();
});

function setup(over: Partial<QuizwireClientOptions> = {}) {
  const net = new FakeNetwork();
  const errors: unknown[] = [];
  const client = new QuizwireClient({
    url: URL_BASE,
    WebSocket: net.WebSocket,
    reconnect: { initialDelayMs: 1, maxDelayMs: 1, jitter: 0 },
    now: () => net.t,
    onError: (e) => errors.push(e),
    ...over,
  });
  clients.push(client);
  const events = record(client);
  return { net, client, errors, events };
}

async function connected(over: Partial<QuizwireClientOptions> = {}) {
  const h = setup(over);
  const welcome = h.client.connect();
  const ws = await h.net.socket(0);
  ws.welcome();
  await welcome;
  return { ...h, ws };
}

/** Every lifecycle event the client emits, in order. */
function record(client: QuizwireClient) {
  const log: Array<
    { [K in keyof LifecycleEvents]: { name: K; data: LifecycleEvents[K] } }[keyof LifecycleEvents]
  > = [];
  const names: Array<keyof LifecycleEvents> = [
    "connected",
    "disconnected",
    "reconnecting",
    "resumed",
    "resume_failed",
    "gap",
    "closed",
  ];
  for (const name of names) {
    client.on(name, (data: LifecycleEvents[typeof name]) => {
      log.push({ name, data } as (typeof log)[number]);
    });
  }
  return {
    log,
    of<K extends keyof LifecycleEvents>(name: K): LifecycleEvents[K][] {
      return log.filter((e) => e.name === name).map((e) => e.data as LifecycleEvents[K]);
    },
  };
}

function snapshot(over: Partial<SnapshotView> = {}): SnapshotView {
  return lobbySnapshot({ room_id: ROOM, ...over });
}

function joinedData(over: Partial<ServerData<"joined">> = {}): ServerData<"joined"> {
  return {
    room_id: ROOM,
    participant_id: "p-1",
    user_id: "user-1",
    name: "Ada",
    role: "player",
    resume_token: "resume-token-1",
    resumed: false,
    ...over,
  };
}

async function joinRoom(client: QuizwireClient, ws: FakeSocket) {
  const joining = client.join({ pin: "482913", displayName: "Ada" });
  const req = await ws.next("join");
  ws.reply(req, "joined", joinedData());
  ws.reply(req, "state", snapshot());
  return joining;
}

/** Tracks whether a promise has settled, without awaiting it. */
function watch<T>(p: Promise<T>) {
  const w = { settled: false };
  p.then(
    () => {
      w.settled = true;
    },
    () => {
      w.settled = true;
    },
  );
  return w;
}

describe("QuizwireClient: connecting", () => {
  it("resolves connect() on welcome and keeps the user id and anonymous identity", async () => {
    const h = setup({ token: "jwt-abc", identityToken: "anon-identity-0" });
    const welcome = h.client.connect();
    const ws = await h.net.socket(0);
    const url = new URL(ws.url);
    expect(url.pathname).toBe("/ws/v1");
    expect(url.searchParams.get("token")).toBe("jwt-abc");
    expect(url.searchParams.get("identity")).toBe("anon-identity-0");
    expect(h.client.connected).toBe(false);
    ws.welcome({ user_id: "user-9", identity_token: "anon-identity-9" });
    await expect(welcome).resolves.toMatchObject({ user_id: "user-9" });
    expect(h.client.connected).toBe(true);
    expect(h.client.userId).toBe("user-9");
    expect(h.client.identityToken).toBe("anon-identity-9");
    expect(h.events.of("connected")).toHaveLength(1);
  });

  it("presents the identity from the welcome on the next connection", async () => {
    const h = await connected();
    h.ws.drop(1006);
    const ws2 = await h.net.socket(1);
    expect(new URL(ws2.url).searchParams.get("identity")).toBe("anon-identity-1");
  });

  it("rejects connect() with DISCONNECTED when the first attempt closes before a welcome", async () => {
    const h = setup();
    const welcome = h.client.connect();
    (await h.net.socket(0)).drop(1006, "refused");
    await expect(welcome).rejects.toMatchObject({ code: "DISCONNECTED", retryable: true });
    expect(h.client.status).toBe("idle");
    expect(h.events.of("reconnecting")).toHaveLength(0);
  });

  it("mirrors the protocol module's constants", () => {
    expect(PROTOCOL_VERSION).toBe(protocol.PROTOCOL_VERSION);
    expect(CANONICAL_PATH).toBe(protocol.CANONICAL_PATH);
    expect(MAX_FRAME_BYTES).toBe(protocol.MAX_FRAME_BYTES);
    expect(CLOSE_CODES).toEqual(protocol.CLOSE_CODES);
  });

  it("accepts the WebSocket classes of `ws` and of browsers", () => {
    // Type-level: Node 20 has no global WebSocket to test at run time.
    const fromWs: WebSocketConstructorLike = NodeWebSocket;
    const domFits: typeof WebSocket extends WebSocketConstructorLike ? true : false = true;
    expect(typeof fromWs).toBe("function");
    expect(domFits).toBe(true);
  });
});

describe("QuizwireClient: requests", () => {
  it("matches replies to requests by msg_id, whatever order they come in", async () => {
    const { client, ws } = await connected();
    await joinRoom(client, ws);
    const a0 = client.answer(0, { choice: 1 });
    const a1 = client.answer(1, { text: "Paris" });
    const w0 = watch(a0);
    const [f0, f1] = [await ws.next("answer"), await ws.next("answer")];
    expect(f0.msg_id).not.toBe(f1.msg_id);
    expect(f0).toMatchObject({ v: 1, room_id: ROOM, data: { index: 0, choice: 1 } });
    expect(f1.data).toEqual({ index: 1, text: "Paris" });

    ws.deliver({ type: "score", data: scoreData({ index: 0, points: 1 }) }); // no msg_id: not a reply
    ws.reply(f1, "score", scoreData({ index: 1, points: 700 }));
    await expect(a1).resolves.toMatchObject({ index: 1, points: 700 });
    expect(w0.settled).toBe(false);
    ws.reply(f0, "score", scoreData({ index: 0, points: 950 }));
    await expect(a0).resolves.toMatchObject({ index: 0, points: 950 });
  });

  it("join resolves with joined and the state that follows, and remembers the room", async () => {
    const { client, ws } = await connected();
    const joining = client.join({ pin: "482913", displayName: "Ada" });
    const w = watch(joining);
    const req = await ws.next("join");
    expect(req.data).toEqual({ pin: "482913", display_name: "Ada" });
    expect(req.room_id).toBeUndefined();
    ws.reply(req, "joined", joinedData());
    await Promise.resolve();
    expect(w.settled).toBe(false);
    ws.reply(req, "state", snapshot({ player_count: 4 }));
    const r = await joining;
    expect(r.joined.participant_id).toBe("p-1");
    expect(r.state.player_count).toBe(4);
    expect(client.roomId).toBe(ROOM);
    expect(client.participantId).toBe("p-1");
    expect(client.resumeToken).toBe("resume-token-1");
    expect(client.role).toBe("player");
    expect(client.lastState?.player_count).toBe(4);
  });

  it("createRoom sends snake_case data and makes the client the room's host", async () => {
    const { client, ws } = await connected();
    const creating = client.createRoom({ quizId: "quiz-1", mode: "quick_fire", hostName: "Host" });
    const req = await ws.next("create_room");
    expect(req.data).toEqual({ quiz_id: "quiz-1", mode: "quick_fire", host_name: "Host" });
    ws.reply(req, "room_created", {
      room_id: ROOM,
      pin: "482913",
      join_url: "http://quiz.test/j/482913",
      participant_id: "host-p",
      host_token: "host-token-1",
    });
    ws.reply(req, "state", snapshot());
    await expect(creating).resolves.toMatchObject({
      roomId: ROOM,
      pin: "482913",
      participantId: "host-p",
      hostToken: "host-token-1",
    });
    expect(client.role).toBe("host");
    expect(client.resumeToken).toBe("host-token-1");

    const starting = client.start();
    const start = await ws.next("start");
    expect(start).toMatchObject({ room_id: ROOM, data: {} });
    ws.reply(start, "ack", { type: "start", phase: "question" });
    await expect(starting).resolves.toEqual({ type: "start", phase: "question" });
  });

  it("an error frame with the request's msg_id rejects it with a QuizwireError", async () => {
    const { client, ws } = await connected();
    await joinRoom(client, ws);
    const answering = client.answer(0, { choice: 0 });
    const req = await ws.next("answer");
    ws.reply(req, "error", {
      code: "UNAVAILABLE",
      msg: "storage is down",
      reason: "storage",
      retryable: true,
      retry_after_ms: 500,
    });
    const err = await answering.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QuizwireError);
    expect(err).toMatchObject({
      code: "UNAVAILABLE",
      msg: "storage is down",
      reason: "storage",
      retryable: true,
      retryAfterMs: 500,
    });
  });

  it("a request refused over the rate limit is sent again, same msg_id, after the server's hint", async () => {
    const { client, ws } = await connected();
    await joinRoom(client, ws);
    const answering = client.answer(0, { choice: 0 });
    const first = await ws.next("answer");
    const limited = {
      code: "RATE_LIMIT" as const,
      msg: "too many messages; slow down",
      reason: "rate_limited",
      retryable: true,
      retry_after_ms: 60,
    };
    ws.reply(first, "error", limited);
    const again = await ws.next("answer");
    expect(again.msg_id).toBe(first.msg_id);
    ws.reply(again, "score", scoreData());
    await expect(answering).resolves.toMatchObject({ index: 0 });
  });

  it("gives up on a request refused over the rate limit again and again, with RATE_LIMIT", async () => {
    const { client, ws } = await connected();
    await joinRoom(client, ws);
    const answering = client.answer(0, { choice: 0 });
    const limited = {
      code: "RATE_LIMIT" as const,
      msg: "too many messages; slow down",
      reason: "rate_limited",
      retryable: true,
      retry_after_ms: 1,
    };
    for (let i = 0; i <= 5; i++) ws.reply(await ws.next("answer"), "error", limited);
    await expect(answering).rejects.toMatchObject({ code: "RATE_LIMIT" });
  });

  it("times out with TIMEOUT and ignores a reply that comes later", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    const { client, ws } = await connected({ requestTimeoutMs: 5_000 });
    await joinRoom(client, ws);
    const answering = client.answer(0, { choice: 0 });
    const req = await ws.next("answer");
    const rejected = expect(answering).rejects.toMatchObject({ code: "TIMEOUT", retryable: true });
    vi.advanceTimersByTime(4_999);
    expect(watch(answering).settled).toBe(false);
    vi.advanceTimersByTime(1);
    await rejected;
    ws.reply(req, "score", scoreData()); // late: nobody waits for it any more
    expect(client.connected).toBe(true);
  });

  it("rejects a frame larger than max_frame_bytes locally with VALIDATION", async () => {
    const { client, ws } = await connected();
    await joinRoom(client, ws);
    const sentBefore = ws.sent.length;
    await expect(client.answer(0, { text: "x".repeat(MAX_FRAME_BYTES) })).rejects.toMatchObject({
      code: "VALIDATION",
      reason: "frame_too_big",
    });
    expect(ws.sent.length).toBe(sentBefore);
  });

  it("uses the limit the welcome announces", async () => {
    const h = setup();
    const welcome = h.client.connect();
    const ws = await h.net.socket(0);
    ws.welcome({ max_frame_bytes: 300 });
    await welcome;
    await joinRoom(h.client, ws);
    await expect(h.client.answer(0, { text: "é".repeat(150) })).rejects.toMatchObject({
      code: "VALIDATION",
    });
  });

  it("refuses room commands before joining a room", async () => {
    const { client, ws } = await connected();
    await expect(client.answer(0, { choice: 0 })).rejects.toMatchObject({
      code: "STATE",
      reason: "no_room",
    });
    await expect(client.sync()).rejects.toMatchObject({ code: "STATE" });
    expect(ws.sentOf("answer")).toHaveLength(0);
  });

  it("nextQuestion returns the question served to a self_paced player, null once finished", async () => {
    const { client, ws } = await connected();
    await joinRoom(client, ws);
    const questions: number[] = [];
    client.on("question", (q) => questions.push(q.index));
    const asking = client.nextQuestion();
    const req = await ws.next("next");
    const q: ServerData<"question"> = {
      index: 2,
      total: 3,
      body: "?",
      options: ["a", "b"],
      question: {
        id: "q3",
        kind: "single",
        text: "?",
        options: ["a", "b"],
        time_limit_ms: 10_000,
        multiplier: 1,
      },
      opened_at: 1,
      deadline_ms: 10_001,
    };
    ws.reply(req, "question", q);
    await expect(asking).resolves.toEqual(q);
    expect(questions).toEqual([2]);

    const last = client.nextQuestion();
    ws.reply(await ws.next("next"), "ack", { type: "next", phase: "active" });
    await expect(last).resolves.toBeNull();
  });

  it("H-3: transferHost sends transfer_host with the user id and resolves with its ack", async () => {
    const { client, ws } = await connected();
    await joinRoom(client, ws);
    const handing = client.transferHost("teacher-22");
    const req = await ws.next("transfer_host");
    expect(req.data).toEqual({ user_id: "teacher-22" });
    ws.reply(req, "ack", { type: "transfer_host", phase: "lobby" });
    await expect(handing).resolves.toMatchObject({ type: "transfer_host" });
  });

  it("leave forgets the room", async () => {
    const { client, ws } = await connected();
    await joinRoom(client, ws);
    const leaving = client.leave();
    ws.reply(await ws.next("leave"), "ack", { type: "leave", phase: "lobby" });
    await leaving;
    expect(client.roomId).toBeNull();
    expect(client.resumeToken).toBeNull();
    expect(client.lastState).toBeNull();
  });
});

describe("QuizwireClient: events", () => {
  it("delivers typed events and survives a handler that throws", async () => {
    const { client, ws, errors } = await connected();
    await joinRoom(client, ws);
    const counts: number[] = [];
    const boom = new Error("handler bug");
    client.on("player_count", () => {
      throw boom;
    });
    const off = client.on("player_count", (d) => counts.push(d.player_count));
    ws.deliver({
      type: "player_count",
      room_id: ROOM,
      epoch: 1,
      seq: 3,
      data: { player_count: 5 },
    });
    expect(counts).toEqual([5]);
    expect(errors).toEqual([boom]);
    off();
    ws.deliver({
      type: "player_count",
      room_id: ROOM,
      epoch: 1,
      seq: 4,
      data: { player_count: 6 },
    });
    expect(counts).toEqual([5]);

    const answering = client.answer(0, { choice: 0 });
    ws.reply(await ws.next("answer"), "score", scoreData());
    await expect(answering).resolves.toMatchObject({ points: 900 });
  });

  it("reports malformed frames to onError instead of throwing", async () => {
    const { ws, errors, client } = await connected();
    ws.onmessage?.({ data: "{not json" });
    ws.onmessage?.({ data: JSON.stringify({ type: 7 }) });
    expect(errors).toHaveLength(2);
    expect(client.connected).toBe(true);
  });

  it("seq gaps within an epoch are normal; an epoch change emits gap and syncs", async () => {
    const { client, ws, events } = await connected();
    await joinRoom(client, ws);
    ws.deliver({
      type: "player_count",
      room_id: ROOM,
      epoch: 1,
      seq: 5,
      data: { player_count: 2 },
    });
    ws.deliver({
      type: "player_count",
      room_id: ROOM,
      epoch: 1,
      seq: 9,
      data: { player_count: 3 },
    });
    expect(events.of("gap")).toHaveLength(0);
    expect(client.lastSeq).toBe(9);

    ws.deliver({
      type: "player_count",
      room_id: ROOM,
      epoch: 2,
      seq: 1,
      data: { player_count: 3 },
    });
    expect(events.of("gap")).toEqual([
      { expected: { epoch: 1, seq: 9 }, got: { epoch: 2, seq: 1 } },
    ]);
    const sync = await ws.next("sync");
    expect(sync.room_id).toBe(ROOM);
    ws.reply(sync, "state", snapshot({ epoch: 2, seq: 3, player_count: 3 }), { epoch: 2, seq: 3 });
    await Promise.resolve();
    expect(client.lastEpoch).toBe(2);
    expect(client.lastSeq).toBe(3);

    ws.deliver({
      type: "player_count",
      room_id: ROOM,
      epoch: 2,
      seq: 7,
      data: { player_count: 4 },
    });
    // an unrequested state frame also resets tracking, with no gap
    ws.deliver({
      type: "state",
      room_id: ROOM,
      epoch: 3,
      seq: 1,
      data: snapshot({ epoch: 3, seq: 1 }),
    });
    ws.deliver({
      type: "player_count",
      room_id: ROOM,
      epoch: 3,
      seq: 2,
      data: { player_count: 4 },
    });
    expect(events.of("gap")).toHaveLength(1);
    expect(ws.sentOf("sync")).toHaveLength(1);
    expect(client.lastEpoch).toBe(3);
  });
});

describe("QuizwireClient: reconnecting", () => {
  it("after a 1006 close resumes with join{resume_token} and re-sends the in-flight answer with the same msg_id", async () => {
    const { client, ws, net, events } = await connected();
    await joinRoom(client, ws);
    const answering = client.answer(0, { choice: 2 });
    const first = await ws.next("answer");

    ws.drop(1006);
    expect(events.of("disconnected")).toEqual([{ code: 1006, reason: "", willReconnect: true }]);
    expect(events.of("reconnecting")).toEqual([{ attempt: 1, delayMs: 1 }]);
    const queued = client.sync(); // asked while disconnected: waits for the resume

    const ws2 = await net.socket(1);
    ws2.welcome();
    const resume = await ws2.next("join");
    expect(resume.room_id).toBe(ROOM);
    expect(resume.data).toEqual({ resume_token: "resume-token-1" });
    const during = client.answer(1, { choice: 0 }); // welcomed, still resuming
    expect(ws2.sentOf("answer")).toHaveLength(0); // nothing goes out before the room is back
    expect(ws2.sentOf("sync")).toHaveLength(0);

    ws2.reply(resume, "joined", joinedData({ resume_token: "resume-token-2", resumed: true }));
    ws2.reply(resume, "state", snapshot({ seq: 20, player_count: 7 }), { epoch: 1, seq: 20 });
    const again = await ws2.next("answer");
    expect(again.msg_id).toBe(first.msg_id);
    expect(again.data).toEqual(first.data);
    expect(again.room_id).toBe(ROOM);
    ws2.reply(again, "score", scoreData({ points: 640 }));
    await expect(answering).resolves.toMatchObject({ points: 640 });

    const sync = await ws2.next("sync");
    ws2.reply(sync, "state", snapshot({ seq: 21 }), { epoch: 1, seq: 21 });
    await expect(queued).resolves.toMatchObject({ seq: 21 });
    const later = await ws2.next("answer");
    expect(later.data).toEqual({ index: 1, choice: 0 });
    ws2.reply(later, "score", scoreData({ index: 1 }));
    await during;

    expect(client.resumeToken).toBe("resume-token-2");
    expect(events.of("resumed").map((r) => r.state.player_count)).toEqual([7]);
    expect(events.of("connected")).toHaveLength(2);
  });

  it("a host resumes with its host token", async () => {
    const { client, ws, net } = await connected();
    const creating = client.createRoom({ quizId: "quiz-1" });
    const req = await ws.next("create_room");
    ws.reply(req, "room_created", {
      room_id: ROOM,
      pin: "482913",
      join_url: "http://quiz.test/j/482913",
      participant_id: "host-p",
      host_token: "host-token-1",
    });
    ws.reply(req, "state", snapshot());
    await creating;
    ws.drop(CLOSE_CODES.goingAway);
    const ws2 = await net.socket(1);
    ws2.welcome();
    const resume = await ws2.next("join");
    expect(resume).toMatchObject({ room_id: ROOM, data: { resume_token: "host-token-1" } });
  });

  it("a spectator re-spectates by room id", async () => {
    const { client, ws, net, events } = await connected();
    const watching = client.spectate({ pin: "482913" });
    ws.reply(await ws.next("spectate"), "state", snapshot());
    await watching;
    expect(client.role).toBe("spectator");
    expect(client.roomId).toBe(ROOM);

    ws.drop(CLOSE_CODES.heartbeatTimeout);
    const ws2 = await net.socket(1);
    ws2.welcome();
    const again = await ws2.next("spectate");
    expect(again).toMatchObject({ room_id: ROOM, data: {} });
    ws2.reply(again, "state", snapshot({ player_count: 9 }));
    await client.once("resumed");
    expect(events.of("resumed")[0]?.state.player_count).toBe(9);
    expect(ws2.sentOf("join")).toHaveLength(0);
  });

  it("reconnects after 4008 (rate limited)", async () => {
    const { ws, net, events } = await connected();
    ws.drop(CLOSE_CODES.rateLimited, "slow consumer");
    expect(events.of("disconnected")).toEqual([
      { code: CLOSE_CODES.rateLimited, reason: "slow consumer", willReconnect: true },
    ]);
    const ws2 = await net.socket(1);
    ws2.welcome();
    expect(events.of("connected")).toHaveLength(2);
  });

  it("when the server refuses the resume, emits resume_failed and forgets the room", async () => {
    const { client, ws, net, events } = await connected();
    await joinRoom(client, ws);
    ws.drop(1006);
    const ws2 = await net.socket(1);
    ws2.welcome();
    const resume = await ws2.next("join");
    ws2.reply(resume, "error", { code: "NOT_FOUND", msg: "room is gone", retryable: false });
    const failed = await client.once("resume_failed");
    expect(failed.error.code).toBe("NOT_FOUND");
    expect(client.roomId).toBeNull();
    expect(events.of("resumed")).toHaveLength(0);
    // and the connection is usable
    const joining = client.join({ pin: "482913", displayName: "Ada" });
    const req = await ws2.next("join");
    ws2.reply(req, "joined", joinedData({ resume_token: "resume-token-9" }));
    ws2.reply(req, "state", snapshot());
    await joining;
    expect(client.resumeToken).toBe("resume-token-9");
  });

  it("a retryable refusal of the resume drops the connection and tries again", async () => {
    const { client, ws, net } = await connected();
    await joinRoom(client, ws);
    ws.drop(1006);
    const ws2 = await net.socket(1);
    ws2.welcome();
    ws2.reply(await ws2.next("join"), "error", {
      code: "UNAVAILABLE",
      msg: "storage down",
      retryable: true,
    });
    const ws3 = await net.socket(2);
    expect(ws2.closedWith?.code).toBe(CLIENT_RECONNECT_CODE);
    ws3.welcome();
    expect((await ws3.next("join")).data).toEqual({ resume_token: "resume-token-1" });
  });

  it("a ping in flight is not re-sent: it rejects with DISCONNECTED", async () => {
    const { client, ws, net } = await connected();
    net.autoPong = false;
    const pinging = client.ping();
    ws.drop(1006);
    await expect(pinging).rejects.toMatchObject({ code: "DISCONNECTED" });
  });

  it("does not re-send a request whose timeout passed while disconnected", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    const { client, ws, net } = await connected({ requestTimeoutMs: 1_000 });
    await joinRoom(client, ws);
    const answering = client.answer(0, { choice: 0 });
    await ws.next("answer");
    ws.drop(1006);
    const rejected = expect(answering).rejects.toMatchObject({ code: "TIMEOUT" });
    vi.advanceTimersByTime(1_000);
    await rejected;
    const ws2 = await net.socket(1);
    ws2.welcome();
    const resume = await ws2.next("join");
    ws2.reply(resume, "joined", joinedData());
    ws2.reply(resume, "state", snapshot());
    await client.once("resumed");
    expect(ws2.sentOf("answer")).toHaveLength(0);
  });

  it("R-3: no reconnect after 4003 (kicked); pending requests reject with CLOSED", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    const { client, ws, net, events } = await connected();
    await joinRoom(client, ws);
    const answering = client.answer(0, { choice: 0 });
    await ws.next("answer");
    const kicks: string[] = [];
    client.on("kick", (k) => kicks.push(k.reason));
    ws.deliver({ type: "kick", room_id: ROOM, data: { reason: "be nice", banned_until: 99 } });
    ws.drop(CLOSE_CODES.kicked, "kicked");
    await expect(answering).rejects.toMatchObject({ code: "CLOSED", reason: "kicked" });
    expect(kicks).toEqual(["be nice"]);
    expect(events.of("disconnected")).toEqual([
      { code: CLOSE_CODES.kicked, reason: "kicked", willReconnect: false },
    ]);
    expect(events.of("closed")).toEqual([{ code: CLOSE_CODES.kicked, reason: "kicked" }]);
    vi.advanceTimersByTime(60_000);
    expect(net.sockets).toHaveLength(1);
    expect(events.of("reconnecting")).toHaveLength(0);
    expect(client.status).toBe("closed");
  });

  it("close() ends for good: no reconnect, pending requests reject with CLOSED", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    const { client, ws, net, events } = await connected();
    await joinRoom(client, ws);
    const answering = client.answer(0, { choice: 0 });
    client.close();
    await expect(answering).rejects.toMatchObject({ code: "CLOSED" });
    expect(ws.closedWith?.code).toBe(1000);
    expect(events.of("closed")).toHaveLength(1);
    vi.advanceTimersByTime(60_000);
    expect(net.sockets).toHaveLength(1);
    await expect(client.connect()).rejects.toMatchObject({ code: "CLOSED" });
    await expect(client.ping()).rejects.toBeInstanceOf(QuizwireError);
  });

  it("with reconnect: false any close is final", async () => {
    const { ws, client, events } = await connected({ reconnect: false });
    ws.drop(1006);
    expect(events.of("disconnected")[0]?.willReconnect).toBe(false);
    expect(events.of("closed")).toHaveLength(1);
    expect(client.status).toBe("closed");
  });
});

describe("QuizwireClient: clock and heartbeat", () => {
  it("T-1: estimates the server clock from pings, trusting the fastest round trip", async () => {
    const h = setup();
    h.net.autoPong = false;
    h.net.t = 1_000;
    const welcome = h.client.connect();
    const ws = await h.net.socket(0);
    h.net.t = 1_300;
    ws.welcome({ server_time: 6_200 }); // handshake sample: rtt 300, offset 5050
    await welcome;
    expect(h.client.serverNow()).toBe(1_300 + 5_050);

    const pong = async (sentAt: number, receivedAt: number, serverTime: number) => {
      const ping = await ws.next("ping");
      expect(h.net.t).toBe(sentAt);
      h.net.t = receivedAt;
      ws.reply(ping, "pong", {
        server_time: serverTime,
        client_time: ping.data.client_time as number,
      });
    };
    await pong(1_300, 1_400, 6_360); // rtt 100, offset 5010
    await pong(1_400, 1_420, 6_410); // rtt 20, offset 5000 ← best
    await pong(1_420, 1_620, 6_620); // rtt 200, offset 5100
    await Promise.resolve();
    expect(h.client.serverNow()).toBe(1_620 + 5_000);
    expect(h.client.timeLeftMs(7_000)).toBe(380);
    expect(h.client.timeLeftMs(6_000)).toBe(0);

    const pinging = h.client.ping();
    await pong(1_620, 1_650, 6_640); // rtt 30, offset 5005
    await expect(pinging).resolves.toEqual({ rttMs: 30, offsetMs: 5_000 });
    expect(ws.sentOf("ping")).toHaveLength(4);
  });

  it("pings every heartbeat_ms while connected", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    const h = setup();
    const welcome = h.client.connect();
    const ws = await h.net.socket(0);
    ws.welcome({ heartbeat_ms: 1_000 });
    await welcome;
    await vi.advanceTimersByTimeAsync(0);
    expect(ws.sentOf("ping")).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(ws.sentOf("ping")).toHaveLength(8);
    expect(h.net.sockets).toHaveLength(1);
  });

  it("drops a connection whose pong never comes, and reconnects", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    const h = setup();
    h.net.autoPong = false;
    const welcome = h.client.connect();
    const ws = await h.net.socket(0);
    ws.welcome({ heartbeat_ms: 1_000 });
    await welcome;
    await vi.advanceTimersByTimeAsync(1_000); // heartbeat ping sent
    expect(h.net.sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000); // its timeout: nothing has arrived since
    expect(ws.closedWith?.code).toBe(CLIENT_RECONNECT_CODE);
    expect(h.events.of("disconnected")[0]).toMatchObject({
      code: CLIENT_RECONNECT_CODE,
      willReconnect: true,
    });
    await vi.advanceTimersByTimeAsync(1);
    expect(h.net.sockets).toHaveLength(2);
  });
});
