import {
  CANONICAL_PATH,
  CLOSE_CODES,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
} from "../doors/canonical/constants.js";
import type {
  AnyServerFrame,
  ClientData,
  ClientType,
  ServerData,
  ServerFrame,
  ServerType,
} from "../doors/canonical/protocol.js";
import type { SnapshotView } from "../doors/schemas/views.js";
import { Backoff, type BackoffOptions } from "./backoff.js";
import { ClockOffsetEstimator } from "./clock-offset.js";
import { QuizwireError } from "./errors.js";

export { CANONICAL_PATH, CLOSE_CODES, MAX_FRAME_BYTES, PROTOCOL_VERSION };
/** Code the client closes a connection with when it gives up on it to reconnect. */
export const CLIENT_RECONNECT_CODE = 4000;

const DEFAULT_HEARTBEAT_MS = 15_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const INITIAL_PINGS = 3;
/** A request refused over the rate limit is sent again this many times at most, after the hint. */
const RATE_LIMIT_RETRIES = 5;
const MIN_RATE_RETRY_MS = 50;
const OPEN = 1;

// Method syntax makes the handler parameter bivariant, so the DOM's and `ws`'s
// richer event types are accepted where only these fields are read.
type Listener<E> = { bivarianceHack(event: E): void }["bivarianceHack"];

/** The part of a WebSocket the client uses; the DOM's and `ws`'s both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: Listener<unknown> | null;
  onmessage: Listener<{ data: unknown }> | null;
  onclose: Listener<{ code: number; reason: string }> | null;
  onerror: Listener<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** `globalThis.WebSocket` in browsers; `WebSocket` from `ws` in Node. */
export type WebSocketConstructorLike = new (url: string) => WebSocketLike;

export type WelcomeData = ServerData<"welcome">;
export type JoinedData = ServerData<"joined">;
export type ScoreData = ServerData<"score">;
export type QuestionData = ServerData<"question">;
export type AckData = ServerData<"ack">;
export type Role = "host" | "player" | "spectator";
/** Exactly one of: a single choice, a set of choices, or typed text. */
export type AnswerInput = { choice: number } | { choices: number[] } | { text: string };

export interface QuizwireClientOptions {
  /** Absolute WebSocket URL, e.g. "ws://127.0.0.1:8080/ws/v1". */
  url: string;
  /** JWT, sent as `?token=`. */
  token?: string;
  /** Anonymous identity from an earlier session, sent as `?identity=`. */
  identityToken?: string;
  /** Defaults to `globalThis.WebSocket`; in Node pass `WebSocket` from `ws`. */
  WebSocket?: WebSocketConstructorLike;
  /** `false` disables reconnecting; otherwise the backoff schedule. */
  reconnect?: false | BackoffOptions;
  /** Per-request timeout, and how long to wait for a welcome. Default 10 000 ms. */
  requestTimeoutMs?: number;
  /** Local clock. Default `Date.now`. */
  now?: () => number;
  /** Random source in [0, 1) for backoff jitter. Default `Math.random`. */
  random?: () => number;
  /** Receives errors thrown by event handlers and malformed frames. Default `console.error`. */
  onError?: (error: unknown) => void;
}

export interface CreateRoomInput {
  quizId: string;
  mode?: ClientData<"create_room">["mode"];
  settings?: ClientData<"create_room">["settings"];
  hostName?: string;
}

export interface RoomCreated {
  roomId: string;
  pin: string;
  joinUrl: string;
  participantId: string;
  hostToken: string;
  state: SnapshotView;
}

export interface JoinResult {
  joined: JoinedData;
  state: SnapshotView;
}

/** A point in a room's event order. */
export interface SeqPosition {
  epoch: number;
  seq: number;
}

/** Events about the connection itself, beside the server's frames. */
export interface LifecycleEvents {
  /** A welcome arrived (first connect and every reconnect). */
  connected: WelcomeData;
  /** A welcomed connection closed. */
  disconnected: { code: number; reason: string; willReconnect: boolean };
  /** The next connection attempt starts after `delayMs`. */
  reconnecting: { attempt: number; delayMs: number };
  /** After a reconnect the client got back into its room (or re-spectated). */
  resumed: { state: SnapshotView };
  /** After a reconnect the server refused to let the client back into its room. */
  resume_failed: { error: QuizwireError };
  /** The room's epoch changed without a state frame; a sync is on its way. */
  gap: { expected: SeqPosition; got: SeqPosition };
  /** The client is finished: closed by `close()`, kicked, or reconnect disabled. */
  closed: { code: number; reason: string };
}

/** Every event `on` accepts: each server frame type (its `data`) and the lifecycle events. */
export type ClientEvents = { [T in ServerType]: ServerData<T> } & LifecycleEvents;
export type ClientEventName = keyof ClientEvents;
export type ClientEventHandler<K extends ClientEventName> = (
  data: ClientEvents[K],
  frame: K extends ServerType ? ServerFrame<K> : undefined,
) => void;

/** Where the connection is: never opened, opening, welcomed, waiting to reconnect, or done. */
export type ClientStatus = "idle" | "connecting" | "open" | "waiting" | "closed";

type Got = { [T in ServerType]?: ServerData<T> };

interface Pending {
  readonly msgId: string;
  readonly text: string;
  /** Sent on the welcome, before any resume; dropped (not re-sent) with its connection. */
  readonly internal: boolean;
  /** Safe to send again with the same msg_id after a reconnect. */
  readonly resendable: boolean;
  /** Times it was sent again after a RATE_LIMIT refusal. */
  rateRetries: number;
  /** Connection it was last sent on; 0 = not sent yet. */
  sentOn: number;
  sentAt: number;
  readonly got: Got;
  readonly timer: ReturnType<typeof setTimeout>;
  /** Resolves the caller when `got` holds the whole reply; true once done. */
  tryComplete(): boolean;
  fail(error: QuizwireError): void;
}

interface RequestOptions {
  roomId?: string;
  internal?: boolean;
  resendable?: boolean;
  timeoutMs?: number;
}

type AnyHandler = (data: unknown, frame: unknown) => void;

/**
 * Client for quizwire's canonical WebSocket protocol, for browsers and Node.
 * Matches replies to requests by msg_id, reconnects with backoff and resumes
 * its room, re-sending unanswered requests with their original msg_id (the
 * server applies a msg_id once), and estimates the server clock.
 */
export class QuizwireClient {
  private readonly url: string;
  private readonly token: string | undefined;
  private readonly WS: WebSocketConstructorLike;
  private readonly reconnectEnabled: boolean;
  private readonly requestTimeoutMs: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly onError: (error: unknown) => void;
  private readonly backoff: Backoff;
  private readonly clock = new ClockOffsetEstimator();
  private readonly handlers = new Map<string, Set<AnyHandler>>();
  private readonly pending = new Map<string, Pending>();
  private welcomeWaiters: Array<{ resolve(w: WelcomeData): void; reject(e: QuizwireError): void }> =
    [];

  private phase: ClientStatus = "idle";
  private socket: WebSocketLike | null = null;
  private connId = 0;
  private welcomed = false;
  private ready = false;
  private everConnected = false;
  private openedAt = 0;
  private lastFrameAt = 0;
  private welcome: WelcomeData | null = null;
  private maxFrameBytes = MAX_FRAME_BYTES;
  private heartbeatMs = DEFAULT_HEARTBEAT_MS;
  private connectTimer: ReturnType<typeof setTimeout> | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private msgCounter = 0;
  private syncInFlight = false;

  private _userId: string | null = null;
  private _identityToken: string | null;
  private _roomId: string | null = null;
  private _participantId: string | null = null;
  private _resumeToken: string | null = null;
  private _role: Role | null = null;
  private _lastState: SnapshotView | null = null;
  private _lastEpoch: number | null = null;
  private _lastSeq: number | null = null;

  constructor(options: QuizwireClientOptions) {
    this.url = options.url;
    this.token = options.token;
    this._identityToken = options.identityToken ?? null;
    const WS =
      options.WebSocket ??
      (globalThis as { WebSocket?: WebSocketConstructorLike }).WebSocket ??
      undefined;
    if (!WS) throw new TypeError("no WebSocket implementation: pass options.WebSocket");
    this.WS = WS;
    this.reconnectEnabled = options.reconnect !== false;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.onError = options.onError ?? ((e) => console.error("quizwire client:", e));
    this.backoff = new Backoff(options.reconnect === false ? {} : options.reconnect, this.random);
  }

  /** Server-assigned user id (from the latest welcome). */
  get userId(): string | null {
    return this._userId;
  }
  /** Anonymous identity; keep it and pass it as `identityToken` next time to stay the same user. */
  get identityToken(): string | null {
    return this._identityToken;
  }
  get roomId(): string | null {
    return this._roomId;
  }
  get participantId(): string | null {
    return this._participantId;
  }
  /** The latest resume token (the server issues a fresh one on every join). */
  get resumeToken(): string | null {
    return this._resumeToken;
  }
  get role(): Role | null {
    return this._role;
  }
  /** The latest `state` snapshot of the room. */
  get lastState(): SnapshotView | null {
    return this._lastState;
  }
  get lastEpoch(): number | null {
    return this._lastEpoch;
  }
  get lastSeq(): number | null {
    return this._lastSeq;
  }
  /** True while a welcomed connection is up. */
  get connected(): boolean {
    return this.welcomed;
  }
  get status(): ClientStatus {
    return this.phase;
  }

  /**
   * Opens the connection; resolves on the server's welcome. While the client is
   * reconnecting it resolves on the next welcome. If the first attempt fails
   * it rejects with DISCONNECTED and may be called again.
   */
  connect(): Promise<WelcomeData> {
    if (this.phase === "closed") return Promise.reject(closedError("client is closed"));
    if (this.welcomed && this.welcome) return Promise.resolve(this.welcome);
    const p = new Promise<WelcomeData>((resolve, reject) => {
      this.welcomeWaiters.push({ resolve, reject });
    });
    if (this.phase === "idle") this.openSocket();
    return p;
  }

  /** Closes for good: no reconnect; pending requests reject with CLOSED. */
  close(): void {
    if (this.phase === "closed") return;
    const ws = this.socket;
    const wasWelcomed = this.welcomed;
    this.socket = null;
    this.welcomed = false;
    this.ready = false;
    if (ws) closeQuietly(ws, 1000, "client closed");
    if (wasWelcomed) {
      this.emit("disconnected", { code: 1000, reason: "client closed", willReconnect: false });
    }
    this.finish(1000, "client closed", closedError("client closed"));
  }

  /** Host: create a room from a quiz; the client becomes its host. */
  createRoom(input: CreateRoomInput): Promise<RoomCreated> {
    const data: ClientData<"create_room"> = {
      quiz_id: input.quizId,
      ...(input.mode !== undefined && { mode: input.mode }),
      ...(input.settings !== undefined && { settings: input.settings }),
      ...(input.hostName !== undefined && { host_name: input.hostName }),
    };
    return this.request("create_room", data, {}, (g) =>
      g.room_created && g.state
        ? {
            roomId: g.room_created.room_id,
            pin: g.room_created.pin,
            joinUrl: g.room_created.join_url,
            participantId: g.room_created.participant_id,
            hostToken: g.room_created.host_token,
            state: g.state,
          }
        : undefined,
    );
  }

  /** Join a room by PIN as a player. */
  join(input: { pin: string; displayName: string }): Promise<JoinResult> {
    return this.request("join", { pin: input.pin, display_name: input.displayName }, {}, joinReply);
  }

  /** Get back into a room with a resume token (a player's, or a host token). */
  resume(input: { roomId: string; resumeToken: string }): Promise<JoinResult> {
    return this.request(
      "join",
      { resume_token: input.resumeToken },
      { roomId: input.roomId },
      joinReply,
    );
  }

  /** Watch a room read-only, by PIN or room id. */
  spectate(target: { pin: string } | { roomId: string }): Promise<SnapshotView> {
    const complete = (g: Got): SnapshotView | undefined => {
      if (!g.state) return undefined;
      this.setRoom(g.state.room_id, null, null, "spectator");
      return g.state;
    };
    return "pin" in target
      ? this.request("spectate", { pin: target.pin }, {}, complete)
      : this.request("spectate", {}, { roomId: target.roomId }, complete);
  }

  /** Host: start the game. */
  start(): Promise<AckData> {
    return this.roomRequest("start", {}, (g) => g.ack);
  }

  /**
   * Host: advance (resolves null; the question arrives as an event).
   * self_paced player: the next question, or null once finished.
   */
  nextQuestion(): Promise<QuestionData | null> {
    return this.roomRequest("next", {}, (g) => g.question ?? (g.ack ? null : undefined));
  }

  /** Host: end the room. */
  end(): Promise<AckData> {
    return this.roomRequest("end", {}, (g) => g.ack);
  }

  /** Host: lock or unlock the room to new players. */
  lock(locked: boolean): Promise<AckData> {
    return this.roomRequest("lock", { locked }, (g) => g.ack);
  }

  /** Host: remove a player (banned for the room's ban_ms). */
  kick(participantId: string, reason?: string): Promise<AckData> {
    const data =
      reason === undefined
        ? { participant_id: participantId }
        : { participant_id: participantId, reason };
    return this.roomRequest("kick", data, (g) => g.ack);
  }

  /** Host: hand host rights to another member of the room, by user id (rule H-3). */
  transferHost(userId: string): Promise<AckData> {
    return this.roomRequest("transfer_host", { user_id: userId }, (g) => g.ack);
  }

  /** Leave the room; the client forgets it. */
  leave(): Promise<AckData> {
    return this.roomRequest("leave", {}, (g) => {
      if (!g.ack) return undefined;
      this.setRoom(null, null, null, null);
      return g.ack;
    });
  }

  /** A fresh snapshot of the room (also replaces `lastState`). */
  sync(): Promise<SnapshotView> {
    return this.roomRequest("sync", {}, (g) =>
      g.state ? (this._lastState ?? g.state) : undefined,
    );
  }

  /** Answer question `index`; resolves once the server has stored it. */
  answer(index: number, value: AnswerInput): Promise<ScoreData> {
    return this.roomRequest("answer", { index, ...value }, (g) => g.score);
  }

  /**
   * Measures the round trip and feeds the clock-offset estimator. Resolves with
   * this ping's round trip and the offset now estimated.
   */
  ping(): Promise<{ rttMs: number; offsetMs: number }> {
    return this.sendPing({});
  }

  /** The server's clock, estimated: local `now()` plus the measured offset. */
  serverNow(): number {
    return this.now() + this.clock.offsetMs;
  }

  /** Milliseconds until a server deadline (epoch ms), never negative. */
  timeLeftMs(deadlineMs: number): number {
    return Math.max(0, deadlineMs - this.serverNow());
  }

  /** Subscribes to a server frame type or a lifecycle event; returns an unsubscribe function. */
  on<K extends ClientEventName>(name: K, handler: ClientEventHandler<K>): () => void {
    let set = this.handlers.get(name);
    if (!set) {
      set = new Set();
      this.handlers.set(name, set);
    }
    set.add(handler as unknown as AnyHandler);
    return () => this.off(name, handler);
  }

  off<K extends ClientEventName>(name: K, handler: ClientEventHandler<K>): void {
    this.handlers.get(name)?.delete(handler as unknown as AnyHandler);
  }

  /** The next occurrence of an event; rejects with CLOSED if the client finishes first. */
  once<K extends ClientEventName>(name: K): Promise<ClientEvents[K]> {
    return new Promise((resolve, reject) => {
      let offClosed = () => {};
      const offEvent = this.on(name, ((data: ClientEvents[K]) => {
        offEvent();
        offClosed();
        resolve(data);
      }) as ClientEventHandler<K>);
      if (name !== "closed") {
        offClosed = this.on("closed", (c) => {
          offEvent();
          offClosed();
          reject(closedError(`client closed (${c.code})`));
        });
      }
    });
  }

  // ---- connection ----

  private socketUrl(): string {
    const u = new URL(this.url);
    if (this.token) u.searchParams.set("token", this.token);
    if (this._identityToken) u.searchParams.set("identity", this._identityToken);
    return u.toString();
  }

  private openSocket(): void {
    this.phase = "connecting";
    this.openedAt = this.now();
    let ws: WebSocketLike;
    try {
      ws = new this.WS(this.socketUrl());
    } catch (e) {
      this.socket = null;
      this.onSocketClosed(1006, `cannot open: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.connId++;
    this.socket = ws;
    ws.onopen = () => {};
    ws.onerror = () => {}; // a close event follows
    ws.onmessage = (ev) => {
      if (this.socket === ws) this.onRaw(ev.data);
    };
    ws.onclose = (ev) => {
      if (this.socket === ws) this.onSocketClosed(ev.code, ev.reason);
    };
    this.connectTimer = setTimeout(() => {
      this.connectTimer = null;
      if (this.socket === ws && !this.welcomed) this.dropSocket("no welcome");
    }, this.requestTimeoutMs);
  }

  /** Gives up on the current socket and handles it as closed (reconnecting if allowed). */
  private dropSocket(reason: string): void {
    const ws = this.socket;
    if (!ws) return;
    closeQuietly(ws, CLIENT_RECONNECT_CODE, reason);
    this.onSocketClosed(CLIENT_RECONNECT_CODE, reason);
  }

  private onSocketClosed(code: number, reason: string): void {
    const wasWelcomed = this.welcomed;
    const wasReady = this.ready;
    this.socket = null;
    this.welcomed = false;
    this.ready = false;
    this.clearConnectionTimers();
    if (this.phase === "closed") return;

    const dropped = new QuizwireError({
      code: "DISCONNECTED",
      msg: `connection closed (${code}${reason ? `: ${reason}` : ""})`,
      retryable: true,
    });
    for (const p of [...this.pending.values()]) {
      if (p.internal || (!p.resendable && p.sentOn !== 0)) p.fail(dropped);
    }

    if (!this.everConnected) {
      this.phase = "idle";
      this.rejectWaiters(dropped);
      for (const p of [...this.pending.values()]) p.fail(dropped);
      return;
    }

    const willReconnect = this.reconnectEnabled && code !== CLOSE_CODES.kicked;
    if (wasWelcomed) this.emit("disconnected", { code, reason, willReconnect });
    if (!willReconnect) {
      const kicked = code === CLOSE_CODES.kicked;
      this.finish(
        code,
        reason,
        closedError(
          kicked ? "kicked from the room" : reason || "connection closed",
          kicked ? "kicked" : undefined,
        ),
      );
      return;
    }
    // A connection that worked resets the schedule; one the server shed for
    // flooding or bad frames keeps growing it.
    if (wasReady && code !== CLOSE_CODES.rateLimited && code !== CLOSE_CODES.protocolViolations) {
      this.backoff.reset();
    }
    const delayMs = this.backoff.next();
    this.phase = "waiting";
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.phase === "waiting") this.openSocket();
    }, delayMs);
    this.emit("reconnecting", { attempt: this.backoff.attempt, delayMs });
  }

  /** The client is done for good. */
  private finish(code: number, reason: string, error: QuizwireError): void {
    this.phase = "closed";
    this.clearConnectionTimers();
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    for (const p of [...this.pending.values()]) p.fail(error);
    this.rejectWaiters(error);
    this.emit("closed", { code, reason });
  }

  private clearConnectionTimers(): void {
    if (this.connectTimer !== null) clearTimeout(this.connectTimer);
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.connectTimer = null;
    this.heartbeatTimer = null;
  }

  private rejectWaiters(error: QuizwireError): void {
    const waiters = this.welcomeWaiters;
    this.welcomeWaiters = [];
    for (const w of waiters) w.reject(error);
  }

  private onWelcome(data: WelcomeData): void {
    if (this.welcomed) return;
    if (this.connectTimer !== null) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    const conn = this.connId;
    this.welcomed = true;
    this.everConnected = true;
    this.phase = "open";
    this.welcome = data;
    this._userId = data.user_id;
    if (data.identity_token) this._identityToken = data.identity_token;
    if (data.max_frame_bytes > 0) this.maxFrameBytes = data.max_frame_bytes;
    this.heartbeatMs = data.heartbeat_ms > 0 ? data.heartbeat_ms : DEFAULT_HEARTBEAT_MS;
    // Another server may have answered, so start the estimate over; the
    // handshake itself is a first, coarse sample.
    this.clock.reset();
    this.clock.add(this.openedAt, data.server_time, this.now());

    this.emit("connected", data);
    const waiters = this.welcomeWaiters;
    this.welcomeWaiters = [];
    for (const w of waiters) w.resolve(data);
    if (conn !== this.connId || !this.welcomed) return; // a handler closed it

    this.heartbeatTimer = setInterval(() => this.heartbeat(conn), this.heartbeatMs);
    this.initialPings(conn).catch((e) => this.report(e));
    if (this._roomId !== null) this.resumeRoom(conn, this._roomId).catch((e) => this.report(e));
    else this.markReady(conn);
  }

  private async resumeRoom(conn: number, roomId: string): Promise<void> {
    try {
      let state: SnapshotView;
      if (this._role === "spectator" || this._resumeToken === null) {
        state = await this.request("spectate", {}, { roomId, internal: true }, (g) => g.state);
        if (conn !== this.connId) return;
        this.setRoom(roomId, null, null, "spectator");
      } else {
        const r = await this.request(
          "join",
          { resume_token: this._resumeToken },
          { roomId, internal: true },
          joinReply,
        );
        state = r.state;
      }
      if (conn !== this.connId) return;
      this.emit("resumed", { state: this._lastState ?? state });
      this.markReady(conn);
    } catch (e) {
      if (conn !== this.connId || !this.welcomed) return;
      const error =
        e instanceof QuizwireError ? e : new QuizwireError({ code: "INTERNAL", msg: String(e) });
      if (error.retryable) {
        this.dropSocket(`resume failed: ${error.code}`);
        return;
      }
      this.setRoom(null, null, null, null);
      this.emit("resume_failed", { error });
      this.markReady(conn);
    }
  }

  /** Welcomed and back in the room: send what waited, in the order it was asked. */
  private markReady(conn: number): void {
    if (conn !== this.connId || !this.welcomed) return;
    this.ready = true;
    for (const p of [...this.pending.values()]) {
      if (!p.internal && p.sentOn !== conn) this.transmit(p);
    }
  }

  private async initialPings(conn: number): Promise<void> {
    for (let i = 0; i < INITIAL_PINGS; i++) {
      if (conn !== this.connId || !this.welcomed) return;
      try {
        await this.sendPing({ internal: true });
      } catch {
        return;
      }
    }
  }

  private heartbeat(conn: number): void {
    if (conn !== this.connId || !this.welcomed) return;
    const sentAt = this.now();
    this.sendPing({
      internal: true,
      timeoutMs: Math.min(this.requestTimeoutMs, this.heartbeatMs),
    }).catch((e: unknown) => {
      if (conn !== this.connId || !this.welcomed) return;
      // Nothing at all arrived since the ping: the connection is dead even if
      // the socket has not noticed yet.
      if (e instanceof QuizwireError && e.code === "TIMEOUT" && this.lastFrameAt <= sentAt) {
        this.dropSocket("pong timeout");
      }
    });
  }

  private sendPing(opts: RequestOptions): Promise<{ rttMs: number; offsetMs: number }> {
    return this.request(
      "ping",
      { client_time: this.now() },
      { ...opts, resendable: false },
      (g, p) => {
        if (!g.pong) return undefined;
        const t1 = this.now();
        const sample = this.clock.add(p.sentAt, g.pong.server_time, t1);
        return { rttMs: sample?.rttMs ?? t1 - p.sentAt, offsetMs: this.clock.offsetMs };
      },
    );
  }

  // ---- requests ----

  private roomRequest<C extends ClientType, R>(
    type: C,
    data: ClientData<C>,
    complete: (got: Got, p: Pending) => R | undefined,
  ): Promise<R> {
    if (this._roomId === null) {
      return Promise.reject(
        new QuizwireError({
          code: "STATE",
          msg: `${type} needs a room; join one first`,
          reason: "no_room",
        }),
      );
    }
    return this.request(type, data, { roomId: this._roomId }, complete);
  }

  private request<C extends ClientType, R>(
    type: C,
    data: ClientData<C>,
    opts: RequestOptions,
    complete: (got: Got, p: Pending) => R | undefined,
  ): Promise<R> {
    if (this.phase === "closed") return Promise.reject(closedError("client is closed"));
    const msgId = this.newMsgId();
    const text = JSON.stringify({
      v: PROTOCOL_VERSION,
      type,
      msg_id: msgId,
      ...(opts.roomId !== undefined && { room_id: opts.roomId }),
      data,
    });
    const bytes = utf8Bytes(text, this.maxFrameBytes);
    if (bytes > this.maxFrameBytes) {
      return Promise.reject(
        new QuizwireError({
          code: "VALIDATION",
          msg: `${type} frame is ${bytes} bytes; the limit is ${this.maxFrameBytes}`,
          reason: "frame_too_big",
        }),
      );
    }
    const timeoutMs = opts.timeoutMs ?? this.requestTimeoutMs;
    const internal = opts.internal ?? false;
    return new Promise<R>((resolve, reject) => {
      const p: Pending = {
        msgId,
        text,
        internal,
        resendable: opts.resendable ?? !internal,
        rateRetries: 0,
        sentOn: 0,
        sentAt: 0,
        got: {},
        timer: setTimeout(() => {
          p.fail(
            new QuizwireError({
              code: "TIMEOUT",
              msg: `no reply to ${type} within ${timeoutMs} ms`,
            }),
          );
        }, timeoutMs),
        tryComplete: () => {
          const value = complete(p.got, p);
          if (value === undefined) return false;
          this.settle(p);
          resolve(value);
          return true;
        },
        fail: (error) => {
          if (!this.pending.has(msgId)) return;
          this.settle(p);
          reject(error);
        },
      };
      this.pending.set(msgId, p);
      if (internal ? this.welcomed : this.ready) this.transmit(p);
    });
  }

  /**
   * A request the server refused. Over the rate limit (`RATE_LIMIT` names the request and says
   * when to retry), a request that may be sent again is, after the server's hint, a few times
   * within its timeout; any other refusal fails it.
   */
  private refused(p: Pending, error: QuizwireError): void {
    if (error.code !== "RATE_LIMIT" || !p.resendable || p.rateRetries >= RATE_LIMIT_RETRIES) {
      p.fail(error);
      return;
    }
    p.rateRetries += 1;
    setTimeout(
      () => {
        if (this.pending.get(p.msgId) === p && this.ready) this.transmit(p);
      },
      Math.max(MIN_RATE_RETRY_MS, error.retryAfterMs ?? MIN_RATE_RETRY_MS),
    );
  }

  private settle(p: Pending): void {
    clearTimeout(p.timer);
    this.pending.delete(p.msgId);
  }

  private transmit(p: Pending): void {
    const ws = this.socket;
    if (!ws || ws.readyState !== OPEN) return; // the close event will follow
    try {
      ws.send(p.text);
    } catch (e) {
      this.report(e);
      return;
    }
    p.sentOn = this.connId;
    p.sentAt = this.now();
  }

  private newMsgId(): string {
    const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
    if (typeof c?.randomUUID === "function") return c.randomUUID();
    this.msgCounter++;
    return `m${this.msgCounter.toString(36)}-${Math.floor(this.random() * 2 ** 48).toString(36)}`;
  }

  // ---- frames ----

  private onRaw(raw: unknown): void {
    this.lastFrameAt = this.now();
    try {
      const text = frameText(raw);
      if (text === null) throw new Error("non-text frame");
      const frame = parseFrame(text);
      if (!frame) throw new Error(`malformed frame: ${text.slice(0, 200)}`);
      this.onFrame(frame);
    } catch (e) {
      this.report(e);
    }
  }

  private onFrame(frame: AnyServerFrame): void {
    switch (frame.type) {
      case "welcome":
        this.onWelcome(frame.data);
        break;
      case "room_created":
        this.setRoom(frame.data.room_id, frame.data.participant_id, frame.data.host_token, "host");
        break;
      case "joined":
        this.setRoom(
          frame.data.room_id,
          frame.data.participant_id,
          frame.data.resume_token,
          frame.data.role,
        );
        break;
      case "state":
        this.applyState(frame);
        break;
      default:
        this.track(frame);
    }
    if (frame.msg_id !== undefined) {
      const p = this.pending.get(frame.msg_id);
      if (p) {
        if (frame.type === "error") this.refused(p, QuizwireError.fromFrame(frame.data));
        else {
          (p.got as Record<string, unknown>)[frame.type] = frame.data;
          p.tryComplete();
        }
      }
    }
    this.emit(frame.type, frame.data, frame);
  }

  private setRoom(
    roomId: string | null,
    participantId: string | null,
    resumeToken: string | null,
    role: Role | null,
  ): void {
    if (roomId !== this._roomId && this._lastState?.room_id !== roomId) {
      this._lastState = null;
      this._lastEpoch = null;
      this._lastSeq = null;
    }
    this._roomId = roomId;
    this._participantId = participantId;
    this._resumeToken = resumeToken;
    this._role = role;
  }

  /** A state frame replaces the picture and restarts sequence tracking. */
  private applyState(frame: ServerFrame<"state">): void {
    const s = frame.data;
    const epoch = frame.epoch ?? s.epoch;
    const seq = frame.seq ?? s.seq;
    // A replayed reply (a request re-sent after a reconnect) can carry an older
    // snapshot than one already applied; within an epoch, seq tells.
    const stale =
      this._lastState?.room_id === s.room_id &&
      this._lastEpoch === epoch &&
      this._lastSeq !== null &&
      seq < this._lastSeq;
    if (stale) return;
    this._lastState = s;
    this._lastEpoch = epoch;
    this._lastSeq = seq;
  }

  /**
   * Seq numbers count every event of the room, whoever it was for, so gaps are
   * normal; only an epoch change (the room moved to another server) means
   * events may be lost.
   */
  private track(frame: AnyServerFrame): void {
    if (frame.epoch === undefined || frame.seq === undefined) return;
    if (frame.room_id !== undefined && frame.room_id !== this._roomId) return;
    const got = { epoch: frame.epoch, seq: frame.seq };
    if (this._lastEpoch !== null && got.epoch !== this._lastEpoch) {
      const expected = { epoch: this._lastEpoch, seq: this._lastSeq ?? 0 };
      this._lastEpoch = got.epoch;
      this._lastSeq = got.seq;
      this.emit("gap", { expected, got });
      this.autoSync();
      return;
    }
    this._lastEpoch = got.epoch;
    this._lastSeq = Math.max(this._lastSeq ?? got.seq, got.seq);
  }

  private autoSync(): void {
    if (this.syncInFlight || this._roomId === null) return;
    this.syncInFlight = true;
    this.sync()
      .catch((e) => this.report(e))
      .finally(() => {
        this.syncInFlight = false;
      });
  }

  // ---- events ----

  private emit<K extends keyof LifecycleEvents>(name: K, data: LifecycleEvents[K]): void;
  private emit(name: ServerType, data: unknown, frame: AnyServerFrame): void;
  private emit(name: string, data: unknown, frame?: AnyServerFrame): void {
    const set = this.handlers.get(name);
    if (!set) return;
    for (const h of [...set]) {
      try {
        h(data, frame);
      } catch (e) {
        this.report(e);
      }
    }
  }

  private report(e: unknown): void {
    try {
      this.onError(e);
    } catch {
      // the error sink itself failed; nothing left to tell
    }
  }
}

function joinReply(g: Got): JoinResult | undefined {
  return g.joined && g.state ? { joined: g.joined, state: g.state } : undefined;
}

function closedError(msg: string, reason?: string): QuizwireError {
  return new QuizwireError({ code: "CLOSED", msg, ...(reason !== undefined && { reason }) });
}

function closeQuietly(ws: WebSocketLike, code: number, reason: string): void {
  ws.onopen = null;
  ws.onmessage = null;
  ws.onclose = null;
  // Not null: Node's `ws` emits an error when a socket still connecting is closed, and an error
  // event nobody listens to is thrown (an uncaught exception in the app that closed the client).
  ws.onerror = () => {};
  try {
    ws.close(code, reason);
  } catch {
    // already closing, or the code was refused; the socket is abandoned either way
  }
}

const decoder = typeof TextDecoder === "function" ? new TextDecoder() : null;
const encoder = typeof TextEncoder === "function" ? new TextEncoder() : null;

function frameText(raw: unknown): string | null {
  if (typeof raw === "string") return raw;
  if (!decoder) return null;
  if (raw instanceof ArrayBuffer) return decoder.decode(raw);
  if (ArrayBuffer.isView(raw)) return decoder.decode(raw);
  return null;
}

/** UTF-8 size of `s`, or a lower bound when even 3 bytes a unit stay within `limit`. */
function utf8Bytes(s: string, limit: number): number {
  if (s.length * 3 <= limit) return s.length;
  if (encoder) return encoder.encode(s).byteLength;
  return s.length * 3;
}

function parseFrame(text: string): AnyServerFrame | null {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== "object" || parsed === null) return null;
  const o = parsed as Record<string, unknown>;
  if (typeof o.type !== "string" || typeof o.data !== "object" || o.data === null) return null;
  if (o.msg_id !== undefined && typeof o.msg_id !== "string") return null;
  if (o.epoch !== undefined && typeof o.epoch !== "number") return null;
  if (o.seq !== undefined && typeof o.seq !== "number") return null;
  return o as unknown as AnyServerFrame;
}
