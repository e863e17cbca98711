/**
 * One raw load-generator worker: a child process (forked by bench/raw-run.ts) that plays many
 * players of a live game on `RawSocket`s (bench/raw-socket.ts) through the canonical door
 * (/ws/v1), and later, with --reference, connects the same number of raw sockets to the bare
 * `ws` broadcast server (bench/reference-server.ts).
 *
 * A frame costs a type sniff and at most two number reads; nothing is JSON-parsed. The clock
 * offset is estimated once per worker (eight `ping`s on one player's connection after the joins),
 * not per player.
 */

import { monitorEventLoopDelay } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { SeededRandom } from "../src/domain/seeded-random.js";
import {
  frameType,
  numberField,
  numberKey,
  RawSocket,
  stringField,
  stringKey,
} from "./raw-socket.js";
import { serveWorkerProcess } from "./worker-process.js";

/** What the orchestrator tells a raw worker to do. */
export interface RawWorkerInit {
  type: "init";
  workerIndex: number;
  host: string;
  port: number;
  /** Every instance's port (a cluster run): player n connects to ports[n mod length]. */
  ports?: number[];
  /** Path of the canonical door, "/ws/v1". */
  path: string;
  pin: string;
  /** Players are numbered firstPlayer … firstPlayer + players − 1; the name of n is `p<n>`. */
  firstPlayer: number;
  players: number;
  seed: number;
  questionCount: number;
  optionCount: number;
  answerSpreadMs: number;
  joinConcurrency: number;
  /** The worker exits by itself after this long, whatever happens. */
  hardTimeoutMs: number;
  /** The nice value for the worker's threads (`--generator-nice`, bench/priority.ts). */
  nice?: number;
}

export type ToRawWorker =
  | RawWorkerInit
  | { type: "collect" }
  /** Close the quizwire connections (the game is over). */
  | { type: "close-game" }
  /** Connect `players` raw sockets to the reference server on 127.0.0.1:port. */
  | { type: "reference"; port: number; concurrency: number }
  | { type: "reference-collect" }
  | { type: "exit" };

/** Every sample one worker measured in the game. Times are ms; epoch times are epoch ms. */
export interface RawWorkerResults {
  workerIndex: number;
  joined: number;
  joinFailed: number;
  connectMs: number[];
  joinMs: number[];
  /** Epoch ms at which each join's `joined` arrived (the join-rate curve). */
  joinedAt: number[];
  /** One entry per question event received; parallel arrays. */
  questionFanoutMs: number[];
  questionIndex: number[];
  /** The player's number, so a plot can draw each player at its own place. */
  questionPlayer: number[];
  revealFanoutMs: number[];
  revealIndex: number[];
  /** Acknowledged answers: parallel arrays. */
  ackMs: number[];
  ackPlayer: number[];
  ackIndex: number[];
  ackPoints: number[];
  /** Answers sent and not acknowledged, per question. */
  unackedByQuestion: number[];
  /** The worker's clock offset estimate (server − local, ms) and the round trip it came from. */
  offsetMs: number;
  offsetRttMs: number;
  /** Frames and payload bytes received over the whole run, and between the first `started` and the last `end`. */
  totalFrames: number;
  totalBytes: number;
  gameFrames: number;
  gameBytes: number;
  errors: Record<string, number>;
  missing: { question: number; reveal: number; end: number };
  /** CPU seconds of this worker: the joins, the game (first `started` → last `end`), the whole run. */
  cpuJoinS: number;
  cpuGameS: number;
  cpuTotalS: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Epoch ms of the first `started` and the last `end` of this worker's players. */
  firstStartedAt: number;
  lastEndAt: number;
}

/** Samples of the reference broadcast. */
export interface ReferenceResults {
  workerIndex: number;
  connected: number;
  failed: number;
  /** One per frame received: receive time − the server's `at` (both this machine's clock). */
  fanoutMs: number[];
  round: number[];
  cpuS: number;
}

export type FromRawWorker =
  | {
      type: "ready";
      workerIndex: number;
      joined: number;
      failed: number;
      joinStartAt: number;
      joinEndAt: number;
      offsetMs: number;
    }
  | { type: "progress"; workerIndex: number; joined: number; acks: number; sockets: number }
  | { type: "revealed"; workerIndex: number; index: number }
  | { type: "ended"; workerIndex: number }
  | { type: "results"; results: RawWorkerResults }
  | { type: "game-closed"; workerIndex: number }
  | { type: "reference-ready"; workerIndex: number; connected: number; failed: number }
  | { type: "reference-got"; workerIndex: number; round: number; received: number }
  | { type: "reference-results"; results: ReferenceResults }
  | { type: "fatal"; workerIndex: number; message: string };

/** Epoch ms with sub-millisecond resolution. */
export const epochNow = (): number => performance.timeOrigin + performance.now();

const K_INDEX = numberKey("index");
const K_OPENED_AT = numberKey("opened_at");
const K_AT = numberKey("at");
const K_POINTS = numberKey("points");
const K_SERVER_TIME = numberKey("server_time");
const K_CLIENT_TIME = numberKey("client_time");
const K_ROUND = numberKey("round");
const K_MSG_ID = stringKey("msg_id");
const K_CODE = stringKey("code");
const K_REASON = stringKey("reason");
const K_DATA = Buffer.from('"data":');
/** A `score` reply for question k has msg_id `q<k>`; the join `j`; clock pings `t<k>`. */
const CLOCK_PINGS = 8;
const PROGRESS_MS = 500;
const LOOP_RESOLUTION_MS = 10;

interface Player {
  readonly n: number;
  socket: RawSocket | null;
  connectStart: number;
  joinSentAt: number;
  joined: boolean;
  /** Settled: joined, refused or dropped before joining (frees a join slot once). */
  settled: boolean;
  gone: boolean;
  /** performance.now() at which the answer to question k was sent; 0 = not sent. */
  readonly sentAt: Float64Array;
  /** 1 once the question event arrived / the reveal arrived. */
  readonly questions: Uint8Array;
  readonly reveals: Uint8Array;
  ended: boolean;
}

class RawWorker {
  private readonly players: Player[] = [];
  private readonly random: SeededRandom;
  private readonly errors: Record<string, number> = {};
  private readonly connectMs: number[] = [];
  private readonly joinMs: number[] = [];
  private readonly joinedAt: number[] = [];
  private readonly questionFanoutMs: number[] = [];
  private readonly questionIndex: number[] = [];
  private readonly questionPlayer: number[] = [];
  private readonly revealFanoutMs: number[] = [];
  private readonly revealIndex: number[] = [];
  private readonly ackMs: number[] = [];
  private readonly ackPlayer: number[] = [];
  private readonly ackIndex: number[] = [];
  private readonly ackPoints: number[] = [];
  private readonly unackedByQuestion: number[];
  private readonly revealsByIndex: number[];
  private readonly revealedSent = new Set<number>();
  private readonly loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  private readonly cpuAtStart = process.cpuUsage();
  private cpuAtJoinEnd: NodeJS.CpuUsage | null = null;
  private cpuAtGameStart: NodeJS.CpuUsage | null = null;
  private cpuAtGameEnd: NodeJS.CpuUsage | null = null;
  private framesAtGameStart = 0;
  private bytesAtGameStart = 0;
  private framesAtGameEnd = 0;
  private bytesAtGameEnd = 0;
  private firstStartedAt = 0;
  private lastEndAt = 0;
  private endedCount = 0;
  private endedSent = false;
  private joinedCount = 0;
  /** Players joined and still connected. */
  private live = 0;
  private joinFailed = 0;
  private acks = 0;
  private closing = false;
  private totalFrames = 0;
  private totalBytes = 0;
  private offsetMs = 0;
  private offsetRttMs = Number.POSITIVE_INFINITY;
  private readonly joinFrame: (n: number) => string;
  private readonly progressTimer: ReturnType<typeof setInterval>;
  private clockDone: (() => void) | null = null;
  private clockSentAt = 0;
  private clockCount = 0;
  private onSettled: (() => void) | null = null;

  constructor(readonly init: RawWorkerInit) {
    this.random = new SeededRandom(init.seed * 1_000 + init.workerIndex + 1);
    this.unackedByQuestion = new Array<number>(init.questionCount).fill(0);
    this.revealsByIndex = new Array<number>(init.questionCount).fill(0);
    const pin = JSON.stringify(init.pin);
    this.joinFrame = (n) =>
      `{"v":1,"type":"join","msg_id":"j","data":{"pin":${pin},"display_name":"p${n}"}}`;
    this.loop.enable();
    this.progressTimer = setInterval(() => this.sendProgress(), PROGRESS_MS);
    this.progressTimer.unref();
  }

  private sendProgress(): void {
    let sockets = 0;
    for (const p of this.players) if (p.socket !== null && !p.gone) sockets++;
    send({
      type: "progress",
      workerIndex: this.init.workerIndex,
      joined: this.joinedCount,
      acks: this.acks,
      sockets,
    });
  }

  async run(): Promise<void> {
    const { players, joinConcurrency, firstPlayer, questionCount } = this.init;
    const joinStartAt = epochNow();
    // Connect-and-join, `joinConcurrency` in flight: each settled join starts the next.
    await new Promise<void>((resolve) => {
      let next = 0;
      let settled = 0;
      const startNext = () => {
        if (next >= players) return;
        const n = firstPlayer + next++;
        const p: Player = {
          n,
          socket: null,
          connectStart: 0,
          joinSentAt: 0,
          joined: false,
          settled: false,
          gone: false,
          sentAt: new Float64Array(questionCount),
          questions: new Uint8Array(questionCount),
          reveals: new Uint8Array(questionCount),
          ended: false,
        };
        this.players.push(p);
        this.connect(p);
      };
      this.onSettled = () => {
        settled++;
        if (settled >= players) resolve();
        else startNext();
      };
      for (let i = 0; i < Math.min(joinConcurrency, players); i++) startNext();
    });
    this.onSettled = null;
    const joinEndAt = epochNow();
    this.cpuAtJoinEnd = process.cpuUsage();
    await this.estimateClock();
    this.sendProgress();
    send({
      type: "ready",
      workerIndex: this.init.workerIndex,
      joined: this.joinedCount,
      failed: this.joinFailed,
      joinStartAt,
      joinEndAt,
      offsetMs: this.offsetMs,
    });
  }

  private settle(p: Player): void {
    if (p.settled) return;
    p.settled = true;
    this.onSettled?.();
  }

  /** The instance player n plays on: spread round-robin over a cluster's, else the one server. */
  private portOf(n: number): number {
    const ports = this.init.ports;
    return ports && ports.length > 0 ? (ports[n % ports.length] ?? this.init.port) : this.init.port;
  }

  private connect(p: Player): void {
    p.connectStart = performance.now();
    p.socket = new RawSocket(
      { host: this.init.host, port: this.portOf(p.n), path: this.init.path },
      {
        onMessage: (_s, payload) => this.onMessage(p, payload),
        onClose: (_s, code, reason, error) => {
          if (p.joined && !p.gone) this.live--;
          p.gone = true;
          if (!this.closing) {
            this.count(
              error
                ? `socket error: ${error.message}`
                : `disconnect ${code}${reason ? ` (${reason})` : ""}`,
            );
            if (!p.settled) this.joinFailed++;
          }
          this.settle(p);
          this.checkProgress();
        },
      },
    );
  }

  private onMessage(p: Player, payload: Buffer): void {
    this.totalFrames++;
    this.totalBytes += payload.length;
    switch (frameType(payload)) {
      case "welcome":
        this.connectMs.push(performance.now() - p.connectStart);
        p.joinSentAt = performance.now();
        p.socket?.sendText(this.joinFrame(p.n));
        return;
      case "joined": {
        const now = performance.now();
        this.joinMs.push(now - p.joinSentAt);
        this.joinedAt.push(performance.timeOrigin + now);
        p.joined = true;
        this.joinedCount++;
        this.live++;
        this.settle(p);
        return;
      }
      case "question":
        this.onQuestion(p, payload);
        return;
      case "score":
        this.onScore(p, payload);
        return;
      case "reveal": {
        const recv = epochNow();
        const at = numberField(payload, K_AT);
        const data = payload.indexOf(K_DATA);
        const index = numberField(payload, K_INDEX, data);
        if (Number.isInteger(index) && index >= 0 && index < this.init.questionCount) {
          this.revealFanoutMs.push(recv + this.offsetMs - at);
          this.revealIndex.push(index);
          if (p.reveals[index] === 0) {
            p.reveals[index] = 1;
            this.revealsByIndex[index] = (this.revealsByIndex[index] ?? 0) + 1;
            this.checkProgress();
          }
        }
        return;
      }
      case "started":
        if (this.cpuAtGameStart === null) {
          this.cpuAtGameStart = process.cpuUsage();
          this.framesAtGameStart = this.totalFrames - 1;
          this.bytesAtGameStart = this.totalBytes - payload.length;
          this.firstStartedAt = epochNow();
          this.loop.reset();
        }
        return;
      case "end":
        if (!p.ended) {
          p.ended = true;
          this.endedCount++;
          this.lastEndAt = epochNow();
          this.checkProgress();
        }
        return;
      case "pong":
        this.onPong(payload);
        return;
      case "error":
        this.onError(p, payload);
        return;
      default:
        // state, player_count, question_closed, …: counted, not read.
        return;
    }
  }

  private onQuestion(p: Player, payload: Buffer): void {
    const recv = epochNow();
    const data = payload.indexOf(K_DATA);
    const index = numberField(payload, K_INDEX, data);
    const openedAt = numberField(payload, K_OPENED_AT, data);
    if (!Number.isInteger(index) || index < 0 || index >= this.init.questionCount) {
      this.count("question with a bad index");
      return;
    }
    this.questionFanoutMs.push(recv + this.offsetMs - openedAt);
    this.questionIndex.push(index);
    this.questionPlayer.push(p.n);
    if (p.questions[index] === 1) return;
    p.questions[index] = 1;
    const { answerSpreadMs, optionCount } = this.init;
    const delay = 200 + this.random.float() * Math.max(0, answerSpreadMs - 200);
    const choice = this.random.int(optionCount);
    setTimeout(() => {
      if (p.gone || this.closing || p.socket === null) return;
      p.sentAt[index] = performance.now();
      p.socket.sendText(
        `{"v":1,"type":"answer","msg_id":"q${index}","data":{"index":${index},"choice":${choice}}}`,
      );
    }, delay);
  }

  private onScore(p: Player, payload: Buffer): void {
    const now = performance.now();
    const id = stringField(payload, K_MSG_ID);
    const index = id !== null && id.charCodeAt(0) === 0x71 ? Number(id.slice(1)) : Number.NaN;
    const sentAt = Number.isInteger(index) ? (p.sentAt[index] ?? 0) : 0;
    if (sentAt <= 0) {
      this.count("score for no answer in flight");
      return;
    }
    this.ackMs.push(now - sentAt);
    this.ackPlayer.push(p.n);
    this.ackIndex.push(index);
    this.ackPoints.push(numberField(payload, K_POINTS));
    p.sentAt[index] = -1;
    this.acks++;
  }

  private onError(p: Player, payload: Buffer): void {
    const code = stringField(payload, K_CODE) ?? "?";
    const reason = stringField(payload, K_REASON);
    this.count(reason ? `${code}/${reason}` : code);
    const id = stringField(payload, K_MSG_ID);
    if (id === "j" && !p.joined) {
      this.joinFailed++;
      this.settle(p);
    } else if (id !== null && id.charCodeAt(0) === 0x71) {
      const index = Number(id.slice(1));
      if (Number.isInteger(index) && index >= 0 && index < this.init.questionCount) {
        this.unackedByQuestion[index] = (this.unackedByQuestion[index] ?? 0) + 1;
        p.sentAt[index] = -1;
      }
    }
  }

  /** Eight pings on one joined player's connection, one after the other; the shortest round trip wins. */
  private estimateClock(): Promise<void> {
    const p = this.players.find((x) => x.joined && !x.gone);
    if (!p?.socket) return Promise.resolve();
    const socket = p.socket;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.count("clock ping unanswered");
        this.clockDone = null;
        resolve();
      }, 10_000);
      this.clockDone = () => {
        clearTimeout(timer);
        this.clockDone = null;
        resolve();
      };
      const ping = () => {
        this.clockSentAt = epochNow();
        socket.sendText(
          `{"v":1,"type":"ping","msg_id":"t${this.clockCount}","data":{"client_time":${this.clockSentAt}}}`,
        );
      };
      this.clockPing = ping;
      ping();
    });
  }

  private clockPing: () => void = () => {};

  private onPong(payload: Buffer): void {
    const t1 = epochNow();
    const t0 = numberField(payload, K_CLIENT_TIME);
    const server = numberField(payload, K_SERVER_TIME);
    if (this.clockDone === null || !Number.isFinite(t0) || !Number.isFinite(server)) return;
    const rtt = t1 - t0;
    if (rtt < this.offsetRttMs) {
      this.offsetRttMs = rtt;
      this.offsetMs = server - (t0 + t1) / 2;
    }
    this.clockCount++;
    if (this.clockCount >= CLOCK_PINGS) this.clockDone();
    else this.clockPing();
  }

  /** Called per reveal and `end` frame: O(questions), never a walk over the players. */
  private checkProgress(): void {
    const live = this.live;
    for (let i = 0; i < this.revealsByIndex.length; i++) {
      if (this.revealedSent.has(i)) continue;
      if ((this.revealsByIndex[i] ?? 0) >= live && live > 0) {
        this.revealedSent.add(i);
        send({ type: "revealed", workerIndex: this.init.workerIndex, index: i });
      }
    }
    if (!this.endedSent && this.endedCount > 0 && this.endedCount >= live) {
      this.endedSent = true;
      this.cpuAtGameEnd = process.cpuUsage();
      this.framesAtGameEnd = this.totalFrames;
      this.bytesAtGameEnd = this.totalBytes;
      send({ type: "ended", workerIndex: this.init.workerIndex });
    }
  }

  private count(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  results(): RawWorkerResults {
    this.loop.disable();
    const missing = { question: 0, reveal: 0, end: 0 };
    for (const p of this.players) {
      if (!p.joined) continue;
      for (let i = 0; i < this.init.questionCount; i++) {
        if (p.questions[i] === 0) missing.question++;
        if (p.reveals[i] === 0) missing.reveal++;
        // An answer sent and never answered at all (neither score nor error).
        if ((p.sentAt[i] ?? 0) > 0) {
          this.unackedByQuestion[i] = (this.unackedByQuestion[i] ?? 0) + 1;
          this.count("answer never answered");
        }
      }
      if (!p.ended) missing.end++;
    }
    const now = process.cpuUsage();
    const cpuS = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) =>
      (b.user - a.user + b.system - a.system) / 1e6;
    const joinEnd = this.cpuAtJoinEnd ?? now;
    const gameStart = this.cpuAtGameStart ?? now;
    return {
      workerIndex: this.init.workerIndex,
      joined: this.joinedCount,
      joinFailed: this.joinFailed,
      connectMs: this.connectMs,
      joinMs: this.joinMs,
      joinedAt: this.joinedAt,
      questionFanoutMs: this.questionFanoutMs,
      questionIndex: this.questionIndex,
      questionPlayer: this.questionPlayer,
      revealFanoutMs: this.revealFanoutMs,
      revealIndex: this.revealIndex,
      ackMs: this.ackMs,
      ackPlayer: this.ackPlayer,
      ackIndex: this.ackIndex,
      ackPoints: this.ackPoints,
      unackedByQuestion: this.unackedByQuestion,
      offsetMs: this.offsetMs,
      offsetRttMs: this.offsetRttMs,
      totalFrames: this.totalFrames,
      totalBytes: this.totalBytes,
      gameFrames: this.framesAtGameEnd - this.framesAtGameStart,
      gameBytes: this.bytesAtGameEnd - this.bytesAtGameStart,
      errors: this.errors,
      missing,
      cpuJoinS: cpuS(this.cpuAtStart, joinEnd),
      cpuGameS: cpuS(gameStart, this.cpuAtGameEnd ?? now),
      cpuTotalS: cpuS(this.cpuAtStart, now),
      loopDelayP99Ms: Math.max(0, this.loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
      loopDelayMaxMs: Math.max(0, this.loop.max / 1e6 - LOOP_RESOLUTION_MS),
      firstStartedAt: this.firstStartedAt,
      lastEndAt: this.lastEndAt,
    };
  }

  /** Closes every game connection; resolves once they are all gone (at most 3 s). */
  async closeGame(): Promise<void> {
    this.closing = true;
    clearInterval(this.progressTimer);
    for (const p of this.players) p.socket?.close(1000);
    const until = performance.now() + 3_000;
    while (performance.now() < until && this.players.some((p) => p.socket?.state !== "closed")) {
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const p of this.players) p.socket?.destroy();
    this.players.length = 0;
  }

  // ---------------------------------------------------------------- the reference broadcast

  private readonly refSockets: RawSocket[] = [];
  private readonly refFanoutMs: number[] = [];
  private readonly refRound: number[] = [];
  private readonly refReceived: number[] = [];
  private refFailed = 0;
  private refCpuStart: NodeJS.CpuUsage | null = null;

  /** Connects the same number of raw sockets to the reference server, `concurrency` at a time. */
  async reference(port: number, concurrency: number): Promise<void> {
    this.refCpuStart = process.cpuUsage();
    const total = this.init.players;
    let next = 0;
    let settled = 0;
    await new Promise<void>((resolve) => {
      const done = () => {
        settled++;
        if (settled >= total) resolve();
        else start();
      };
      const start = () => {
        if (next >= total) return;
        next++;
        let opened = false;
        const s = new RawSocket(
          { host: "127.0.0.1", port, path: "/" },
          {
            onOpen: () => {
              opened = true;
              this.refSockets.push(s);
              done();
            },
            onMessage: (_s, payload) => this.onReference(payload),
            onClose: () => {
              if (!opened) {
                this.refFailed++;
                done();
              }
            },
          },
        );
      };
      for (let i = 0; i < Math.min(concurrency, total); i++) start();
    });
    send({
      type: "reference-ready",
      workerIndex: this.init.workerIndex,
      connected: this.refSockets.length,
      failed: this.refFailed,
    });
  }

  private onReference(payload: Buffer): void {
    const recv = epochNow();
    const round = numberField(payload, K_ROUND);
    this.refFanoutMs.push(recv - numberField(payload, K_AT));
    this.refRound.push(round);
    const r = Number.isInteger(round) ? round : 0;
    this.refReceived[r] = (this.refReceived[r] ?? 0) + 1;
    if (this.refReceived[r] === this.refSockets.length) {
      send({
        type: "reference-got",
        workerIndex: this.init.workerIndex,
        round: r,
        received: this.refReceived[r],
      });
    }
  }

  referenceResults(): ReferenceResults {
    const now = process.cpuUsage();
    const start = this.refCpuStart ?? now;
    for (const s of this.refSockets) s.destroy();
    return {
      workerIndex: this.init.workerIndex,
      connected: this.refSockets.length,
      failed: this.refFailed,
      fanoutMs: this.refFanoutMs,
      round: this.refRound,
      cpuS: (now.user - start.user + now.system - start.system) / 1e6,
    };
  }
}

function send(msg: FromRawWorker): void {
  process.send?.(msg);
}

function main(): void {
  serveWorkerProcess<RawWorkerInit, ToRawWorker, RawWorker>({
    script: "bench/raw-worker.ts",
    startedBy: "bench/raw-run.ts (npm run bench)",
    create: (init) => new RawWorker(init),
    handle: (w, m, fatal) => {
      switch (m.type) {
        case "close-game":
          w.closeGame().then(
            () => send({ type: "game-closed", workerIndex: w.init.workerIndex }),
            fatal,
          );
          break;
        case "reference":
          w.reference(m.port, m.concurrency).catch(fatal);
          break;
        case "reference-collect":
          send({ type: "reference-results", results: w.referenceResults() });
          break;
      }
    },
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main();
}
