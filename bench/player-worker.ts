/**
 * One load-generator worker: a child process (forked by bench/run.ts) that
 * plays many players through the SDK's QuizwireClient, answers every question
 * after a seeded random delay, and sends its raw samples back over IPC.
 *
 * Nothing here logs per message: handlers push numbers into arrays and bump
 * counters, so the worker's own CPU stays small next to the server's.
 */
import type { IncomingMessage } from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import WebSocket from "ws";
import { SeededRandom } from "../src/domain/seeded-random.js";
import type { SnapshotView } from "../src/doors/schemas/views.js";
import {
  QuizwireClient,
  type QuizwireClientOptions,
  QuizwireError,
  type WebSocketConstructorLike,
} from "../src/sdk/index.js";
import { BACKEND_HEADER } from "./cluster.js";

/** What the orchestrator tells a worker to do. */
export interface WorkerInit {
  type: "init";
  workerIndex: number;
  url: string;
  pin: string;
  /** This worker's players are numbered firstPlayer … firstPlayer + players − 1 (their names). */
  firstPlayer: number;
  players: number;
  seed: number;
  questionCount: number;
  optionCount: number;
  answerSpreadMs: number;
  joinConcurrency: number;
  requestTimeoutMs: number;
  /**
   * SDK reconnect on (the failover run): players reconnect and resume, and an answer refused
   * with a retryable error is sent again. Off: every drop and refusal is an error, not hidden.
   */
  reconnect: boolean;
  /** Report `half` once half of this worker's players have an acknowledged answer to this question (0-based). */
  halfAt: number | null;
  /** The worker exits by itself after this long, whatever happens. */
  hardTimeoutMs: number;
}

export type ToWorker = WorkerInit | { type: "collect" } | { type: "close" };

/** One acknowledged answer. Times are epoch ms (high resolution). */
export interface AnswerRecord {
  /** The player's number (its name is `p<number>`). */
  player: number;
  index: number;
  /** Points the `score` reply acknowledged. */
  points: number;
  /** The first attempt was sent. */
  firstAt: number;
  /** The attempt that was acknowledged was sent (later than firstAt only after a retry). */
  attemptAt: number;
  ackAt: number;
  /** From the first attempt to the ack, ms. */
  ackMs: number;
  attempts: number;
  /** Port of the instance the player was connected to when the ack came; 0 when unknown. */
  backend: number;
}

/** One drop of a player's connection (with SDK reconnect on). Epoch ms; resumedAt 0 = never. */
export interface ReconnectRecord {
  player: number;
  disconnectedAt: number;
  resumedAt: number;
  backendBefore: number;
  backendAfter: number;
  /** Connection attempts the SDK made until it resumed (1 = the first one worked). */
  attempts: number;
}

/** Every sample and counter one worker measured. Times are ms. */
export interface WorkerResults {
  workerIndex: number;
  joined: number;
  joinFailed: number;
  connectMs: number[];
  joinMs: number[];
  /** One entry per question event received; the four arrays are parallel. */
  questionFanoutMs: number[];
  questionIndex: number[];
  /** The room epoch the question frame carried (−1 if none): which owner emitted it. */
  questionEpoch: number[];
  /** Port of the instance the player was connected to (0 = unknown, e.g. no balancer). */
  questionBackend: number[];
  /** Epoch ms the question event was handled. */
  questionAt: number[];
  answers: AnswerRecord[];
  /** Answers sent and never acknowledged (refused, or failed locally), per question; the errors say why. */
  unackedByQuestion: number[];
  reconnects: ReconnectRecord[];
  revealFanoutMs: number[];
  /** Each joined client's final clock offset estimate (server − local). */
  offsetMs: number[];
  /** Frames and bytes each player received from its `started` to its `end`, inclusive. */
  gameFrames: number;
  gameBytes: number;
  /** Frames and bytes over the whole run. */
  totalFrames: number;
  totalBytes: number;
  /** Error replies, local request failures and unexpected disconnects, by code. */
  errors: Record<string, number>;
  /** Frames a joined player should have had and got neither as an event nor in a `state` snapshot. */
  missing: { question: number; reveal: number; end: number };
  /** Events a joined player did not get but learnt from a `state` snapshot (after a resume or a resync). */
  viaState: { question: number; reveal: number; end: number };
  /** Joined players still connected at the end, per instance port: [port, players]. */
  finalBackends: [number, number][];
  /** CPU seconds of this process, during the game (first `started` → last `end`) and in all. */
  cpuGameS: number;
  cpuTotalS: number;
  /** Frames received per RATE_BUCKET_MS bucket: [floor(epoch ms / RATE_BUCKET_MS), frames]. */
  rateBuckets: [number, number][];
  /** Event-loop delay of this process during the game (a busy generator shows here first). */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Epoch ms (high resolution) of the last `end` any player of this worker received; 0 if none. */
  lastEndAt: number;
}

export type FromWorker =
  | {
      type: "ready";
      workerIndex: number;
      joined: number;
      failed: number;
      /** Epoch ms: the first connect began, the last join settled. */
      joinStartAt: number;
      joinEndAt: number;
      /** Joined players per instance port: [port, players]. */
      backends: [number, number][];
    }
  | { type: "half"; workerIndex: number; index: number }
  | { type: "revealed"; workerIndex: number; index: number }
  | { type: "ended"; workerIndex: number }
  | { type: "results"; results: WorkerResults }
  | { type: "fatal"; workerIndex: number; message: string };

/** Epoch ms with sub-millisecond resolution (the server stamps whole ms). */
export const epochNow = (): number => performance.timeOrigin + performance.now();

/** Frames and bytes one client received, and where its current connection went. */
export interface Counters {
  frames: number;
  bytes: number;
  lastBytes: number;
  /** Instance port the balancer named for the latest connection (`x-bench-backend`); 0 = unknown. */
  backend: number;
}

/** Fresh counters. */
export function newCounters(): Counters {
  return { frames: 0, bytes: 0, lastBytes: 0, backend: 0 };
}

/** Width of the buckets frames are counted in, for the peak rate. */
export const RATE_BUCKET_MS = 100;

/**
 * A `ws` WebSocket that counts every frame and byte it receives, before the SDK
 * parses it; with `buckets`, also frames per RATE_BUCKET_MS of epoch time. It
 * also notes the instance the balancer relayed it to, from the upgrade response.
 */
export function countingWebSocket(
  c: Counters,
  buckets?: Map<number, number>,
): WebSocketConstructorLike {
  class CountingWebSocket extends WebSocket {
    constructor(url: string) {
      super(url);
      this.on("upgrade", (res: IncomingMessage) => {
        const port = Number(res.headers[BACKEND_HEADER]);
        c.backend = Number.isInteger(port) && port > 0 ? port : 0;
      });
      this.on("message", (data: WebSocket.RawData) => {
        const n = Array.isArray(data)
          ? data.reduce((s, b) => s + b.length, 0)
          : data instanceof ArrayBuffer
            ? data.byteLength
            : data.length;
        c.frames++;
        c.bytes += n;
        c.lastBytes = n;
        if (buckets) {
          const key = Math.floor(epochNow() / RATE_BUCKET_MS);
          buckets.set(key, (buckets.get(key) ?? 0) + 1);
        }
      });
    }
  }
  return CountingWebSocket as unknown as WebSocketConstructorLike;
}

/**
 * How many reveals a room in phase `phase` has passed: a reveal or intermission at index i
 * means reveals 0…i, a question at i means 0…i−1, the end means all of them.
 */
export function revealsPassed(phase: SnapshotView["phase"], questionCount: number): number {
  switch (phase.kind) {
    case "ended":
      return questionCount;
    case "reveal":
    case "intermission":
      return (phase.index ?? -1) + 1;
    case "question":
      return phase.index ?? 0;
    case "lobby":
    case "active":
      return 0;
  }
}

/** An answer refused with a retryable error is sent again after this long (failover run only). */
const ANSWER_RETRY_MS = 100;
const ANSWER_MAX_ATTEMPTS = 100;

interface Player {
  readonly n: number;
  readonly client: QuizwireClient;
  readonly counters: Counters;
  joined: boolean;
  gone: boolean;
  /** Questions whose answer is scheduled or sent (from the event or a snapshot). */
  readonly scheduled: Set<number>;
  /** Question events received, and questions learnt from a snapshot only. */
  readonly questions: Set<number>;
  readonly questionsViaState: Set<number>;
  /** Reveal events received, and reveals learnt from a snapshot only. */
  readonly reveals: Set<number>;
  readonly revealsViaState: Set<number>;
  /** Reveals 0 … revealsCounted − 1 are counted in the worker's per-reveal tally. */
  revealsCounted: number;
  ended: boolean;
  endedViaState: boolean;
  startFrames: number;
  startBytes: number;
  endFrames: number;
  endBytes: number;
  /** The drop waiting for its `resumed`. */
  drop: ReconnectRecord | null;
}

class Worker {
  private readonly players: Player[] = [];
  private readonly random: SeededRandom;
  private readonly errors: Record<string, number> = {};
  private readonly connectMs: number[] = [];
  private readonly joinMs: number[] = [];
  private readonly questionFanoutMs: number[] = [];
  private readonly questionIndex: number[] = [];
  private readonly questionEpoch: number[] = [];
  private readonly questionBackend: number[] = [];
  private readonly questionAt: number[] = [];
  private readonly answers: AnswerRecord[] = [];
  private readonly reconnects: ReconnectRecord[] = [];
  private readonly revealFanoutMs: number[] = [];
  private readonly revealsByIndex: number[] = [];
  private readonly revealedSent = new Set<number>();
  private readonly buckets = new Map<number, number>();
  private readonly loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  private readonly cpuAtStart = process.cpuUsage();
  private cpuAtGameStart: NodeJS.CpuUsage | null = null;
  private cpuAtGameEnd: NodeJS.CpuUsage | null = null;
  private endedCount = 0;
  private endedSent = false;
  private lastEndAt = 0;
  private closing = false;
  private joinFailed = 0;
  private ackedAtHalf = 0;
  private readonly unackedByQuestion: number[] = [];
  private halfSent = false;

  constructor(private readonly init: WorkerInit) {
    // Each worker its own stream, the same for the same seed.
    this.random = new SeededRandom(init.seed * 1_000 + init.workerIndex + 1);
    this.loop.enable();
  }

  async run(): Promise<void> {
    const { players, joinConcurrency } = this.init;
    const joinStartAt = epochNow();
    await pool(players, joinConcurrency, (i) => this.joinOne(this.init.firstPlayer + i));
    const joinEndAt = epochNow();
    // A quiet ping or two per client, after the join storm, so the clock offset
    // estimate comes from a short round trip.
    const joined = this.players.filter((p) => p.joined);
    await pool(joined.length, joinConcurrency, async (i) => {
      const p = joined[i]!;
      for (let k = 0; k < 2; k++) {
        try {
          await p.client.ping();
        } catch (e) {
          this.fail(p, e);
          return;
        }
      }
    });
    send({
      type: "ready",
      workerIndex: this.init.workerIndex,
      joined: joined.length,
      failed: this.joinFailed,
      joinStartAt,
      joinEndAt,
      backends: this.backendSpread(),
    });
  }

  private backendSpread(): [number, number][] {
    const spread = new Map<number, number>();
    for (const p of this.players) {
      if (!p.joined || p.gone) continue;
      spread.set(p.counters.backend, (spread.get(p.counters.backend) ?? 0) + 1);
    }
    return [...spread];
  }

  private async joinOne(n: number): Promise<void> {
    const counters = newCounters();
    const options: QuizwireClientOptions = {
      url: this.init.url,
      WebSocket: countingWebSocket(counters, this.buckets),
      // Without the failover run every drop counts as an error: a reconnect would hide it.
      // With it, the SDK's own default backoff, as a real client has.
      reconnect: this.init.reconnect ? {} : false,
      requestTimeoutMs: this.init.requestTimeoutMs,
      now: epochNow,
      onError: () => this.count("client_error"),
    };
    const client = new QuizwireClient(options);
    const p: Player = {
      n,
      client,
      counters,
      joined: false,
      gone: false,
      scheduled: new Set(),
      questions: new Set(),
      questionsViaState: new Set(),
      reveals: new Set(),
      revealsViaState: new Set(),
      revealsCounted: 0,
      ended: false,
      endedViaState: false,
      startFrames: 0,
      startBytes: 0,
      endFrames: 0,
      endBytes: 0,
      drop: null,
    };
    this.players.push(p);
    this.listen(p);
    try {
      const t0 = performance.now();
      await client.connect();
      this.connectMs.push(performance.now() - t0);
      const t1 = performance.now();
      let joinedAt = 0;
      const off = client.on("joined", () => {
        joinedAt = performance.now();
      });
      await client.join({ pin: this.init.pin, displayName: `p${n}` });
      off();
      this.joinMs.push((joinedAt || performance.now()) - t1);
      p.joined = true;
    } catch (e) {
      this.joinFailed++;
      this.fail(p, e);
      p.gone = true;
      client.close();
    }
  }

  private listen(p: Player): void {
    const c = p.client;
    c.on("error", (d) => this.count(d.reason ? `${d.code}/${d.reason}` : d.code));
    c.on("disconnected", (d) => {
      if (this.closing) return;
      this.count(`disconnect ${d.code}${d.reason ? ` (${d.reason})` : ""}`);
      if (d.willReconnect && p.joined && p.drop === null) {
        p.drop = {
          player: p.n,
          disconnectedAt: epochNow(),
          resumedAt: 0,
          backendBefore: p.counters.backend,
          backendAfter: 0,
          attempts: 0,
        };
        this.reconnects.push(p.drop);
      }
    });
    c.on("reconnecting", () => {
      if (p.drop !== null) p.drop.attempts++;
    });
    c.on("resumed", () => {
      if (p.drop === null) return;
      p.drop.resumedAt = epochNow();
      p.drop.backendAfter = p.counters.backend;
      p.drop = null;
    });
    c.on("resume_failed", (d) => {
      this.count(`resume_failed ${d.error.code}${d.error.reason ? `/${d.error.reason}` : ""}`);
      p.drop = null;
    });
    c.on("closed", () => {
      if (this.closing || p.gone) return;
      p.gone = true;
      this.checkProgress();
    });
    c.on("started", () => {
      // The started frame itself is the first frame of the game.
      p.startFrames = p.counters.frames - 1;
      p.startBytes = p.counters.bytes - p.counters.lastBytes;
      if (this.cpuAtGameStart === null) {
        this.cpuAtGameStart = process.cpuUsage();
        this.loop.reset();
      }
    });
    c.on("question", (d, frame) => {
      const at = epochNow();
      this.questionFanoutMs.push(c.serverNow() - d.opened_at);
      this.questionIndex.push(d.index);
      this.questionEpoch.push(frame.epoch ?? -1);
      this.questionBackend.push(p.counters.backend);
      this.questionAt.push(at);
      p.questions.add(d.index);
      p.questionsViaState.delete(d.index);
      this.schedule(p, d.index, d.deadline_ms);
    });
    c.on("reveal", (_d, frame) => {
      if (frame.at !== undefined) this.revealFanoutMs.push(c.serverNow() - frame.at);
      else this.count("reveal_without_at");
      const i = frame.data.index;
      p.reveals.add(i);
      p.revealsViaState.delete(i);
      this.reachReveals(p, i + 1);
    });
    c.on("end", () => this.reachEnd(p));
    // A state snapshot (after a resume, or a resync the server sends when events were lost)
    // stands in for events the player missed: it still answers an open question.
    c.on("state", (s) => {
      const ph = s.phase;
      const { questionCount } = this.init;
      if (ph.kind === "question" && ph.index !== null && !ph.closed) {
        if (!p.questions.has(ph.index)) p.questionsViaState.add(ph.index);
        if (!s.you?.answered_current) this.schedule(p, ph.index, ph.deadline_ms);
      }
      const passed = revealsPassed(ph, questionCount);
      for (let i = 0; i < passed; i++) {
        if (!p.reveals.has(i)) p.revealsViaState.add(i);
      }
      this.reachReveals(p, passed);
      if (ph.kind === "ended" && !p.ended) {
        p.endedViaState = true;
        this.reachEnd(p);
      }
    });
  }

  /** Answers question `index` after the player's random delay, once. */
  private schedule(p: Player, index: number, deadlineMs: number | null): void {
    if (p.scheduled.has(index)) return;
    p.scheduled.add(index);
    const { answerSpreadMs, optionCount } = this.init;
    const delay = 200 + this.random.float() * Math.max(0, answerSpreadMs - 200);
    const choice = this.random.int(optionCount);
    setTimeout(() => this.answer(p, index, choice, deadlineMs), delay);
  }

  private answer(p: Player, index: number, choice: number, deadlineMs: number | null): void {
    if (p.gone || this.closing) return;
    const firstAt = epochNow();
    const t0 = performance.now();
    let attempts = 0;
    const attempt = () => {
      if (p.gone || this.closing) return;
      attempts++;
      const attemptAt = epochNow();
      p.client.answer(index, { choice }).then(
        (score) => {
          this.answers.push({
            player: p.n,
            index,
            points: score.points,
            firstAt,
            attemptAt,
            ackAt: epochNow(),
            ackMs: performance.now() - t0,
            attempts,
            backend: p.counters.backend,
          });
          if (index === this.init.halfAt) this.countHalf();
        },
        (e: unknown) => {
          const retry =
            this.init.reconnect &&
            e instanceof QuizwireError &&
            e.retryable &&
            attempts < ANSWER_MAX_ATTEMPTS &&
            (deadlineMs === null || p.client.serverNow() < deadlineMs);
          if (retry && !this.closing) {
            this.count(`answer sent again after ${e.code}`);
            setTimeout(attempt, ANSWER_RETRY_MS);
            return;
          }
          this.unackedByQuestion[index] = (this.unackedByQuestion[index] ?? 0) + 1;
          this.fail(p, e);
        },
      );
    };
    attempt();
  }

  private countHalf(): void {
    this.ackedAtHalf++;
    if (this.halfSent || this.init.halfAt === null) return;
    let live = 0;
    for (const p of this.players) if (p.joined && !p.gone) live++;
    if (this.ackedAtHalf * 2 >= live) {
      this.halfSent = true;
      send({ type: "half", workerIndex: this.init.workerIndex, index: this.init.halfAt });
    }
  }

  /** Marks reveals 0 … passed − 1 as reached by the player. */
  private reachReveals(p: Player, passed: number): void {
    if (passed <= p.revealsCounted) return;
    for (let i = p.revealsCounted; i < passed; i++) {
      this.revealsByIndex[i] = (this.revealsByIndex[i] ?? 0) + 1;
    }
    p.revealsCounted = passed;
    this.checkProgress();
  }

  private reachEnd(p: Player): void {
    if (p.ended) return;
    p.ended = true;
    p.endFrames = p.counters.frames;
    p.endBytes = p.counters.bytes;
    this.lastEndAt = Math.max(this.lastEndAt, epochNow());
    this.endedCount++;
    this.checkProgress();
  }

  /** Tells the orchestrator once every player still here has had reveal k, and once all have ended. */
  private checkProgress(): void {
    let live = 0;
    for (const p of this.players) if (p.joined && !p.gone) live++;
    for (let i = 0; i < this.revealsByIndex.length; i++) {
      if (this.revealedSent.has(i)) continue;
      if ((this.revealsByIndex[i] ?? 0) >= live) {
        this.revealedSent.add(i);
        send({ type: "revealed", workerIndex: this.init.workerIndex, index: i });
      }
    }
    if (!this.endedSent && this.endedCount >= live && this.endedCount > 0) {
      this.endedSent = true;
      this.cpuAtGameEnd = process.cpuUsage();
      send({ type: "ended", workerIndex: this.init.workerIndex });
    }
  }

  /** Counts a failed request; server error replies were already counted as `error` frames. */
  private fail(_p: Player, e: unknown): void {
    if (this.closing) return;
    if (e instanceof QuizwireError) {
      if (e.code === "TIMEOUT" || e.code === "DISCONNECTED" || e.code === "CLOSED") {
        this.count(`${e.code} (local)`);
      }
      return;
    }
    this.count("exception");
  }

  private count(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  results(): WorkerResults {
    this.loop.disable();
    let gameFrames = 0;
    let gameBytes = 0;
    let totalFrames = 0;
    let totalBytes = 0;
    const missing = { question: 0, reveal: 0, end: 0 };
    const viaState = { question: 0, reveal: 0, end: 0 };
    const offsetMs: number[] = [];
    const now = epochNow();
    const { questionCount } = this.init;
    let joined = 0;
    for (const p of this.players) {
      totalFrames += p.counters.frames;
      totalBytes += p.counters.bytes;
      if (!p.joined) continue;
      joined++;
      offsetMs.push(p.client.serverNow() - now);
      if (p.ended && !p.endedViaState) {
        gameFrames += p.endFrames - p.startFrames;
        gameBytes += p.endBytes - p.startBytes;
      }
      missing.question += Math.max(0, questionCount - p.questions.size - p.questionsViaState.size);
      missing.reveal += Math.max(0, questionCount - p.reveals.size - p.revealsViaState.size);
      if (!p.ended) missing.end++;
      viaState.question += p.questionsViaState.size;
      viaState.reveal += p.revealsViaState.size;
      if (p.endedViaState) viaState.end++;
    }
    const cpuNow = process.cpuUsage();
    const cpuS = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) =>
      (b.user - a.user + b.system - a.system) / 1e6;
    const gameStart = this.cpuAtGameStart ?? cpuNow;
    return {
      workerIndex: this.init.workerIndex,
      joined,
      joinFailed: this.joinFailed,
      connectMs: this.connectMs,
      joinMs: this.joinMs,
      questionFanoutMs: this.questionFanoutMs,
      questionIndex: this.questionIndex,
      questionEpoch: this.questionEpoch,
      questionBackend: this.questionBackend,
      questionAt: this.questionAt,
      answers: this.answers,
      unackedByQuestion: Array.from(this.unackedByQuestion, (n) => n ?? 0),
      reconnects: this.reconnects,
      revealFanoutMs: this.revealFanoutMs,
      offsetMs,
      rateBuckets: [...this.buckets],
      gameFrames,
      gameBytes,
      totalFrames,
      totalBytes,
      errors: this.errors,
      missing,
      viaState,
      finalBackends: this.backendSpread(),
      cpuGameS: cpuS(gameStart, this.cpuAtGameEnd ?? cpuNow),
      cpuTotalS: cpuS(this.cpuAtStart, cpuNow),
      loopDelayP99Ms: loopDelayMs(this.loop.percentile(99)),
      loopDelayMaxMs: loopDelayMs(this.loop.max),
      lastEndAt: this.lastEndAt,
    };
  }

  close(): void {
    this.closing = true;
    for (const p of this.players) p.client.close();
  }
}

const LOOP_RESOLUTION_MS = 10;

/** The histogram records the whole interval between its timer's runs; the delay is what exceeds it. */
function loopDelayMs(ns: number): number {
  return Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
}

/** Runs task(0 … count − 1) with at most `concurrency` running at once. */
async function pool(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const runner = async () => {
    while (next < count) {
      const i = next++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, runner));
}

function send(msg: FromWorker): void {
  process.send?.(msg);
}

function main(): void {
  if (!process.send) {
    process.stderr.write("bench/player-worker.ts is started by bench/run.ts (npm run bench)\n");
    process.exit(2);
  }
  let worker: Worker | null = null;
  // The orchestrator gone means nobody will read the results: stop at once.
  process.on("disconnect", () => process.exit(0));
  process.on("message", (message: unknown) => {
    const raw = message as ToWorker;
    switch (raw.type) {
      case "init": {
        if (worker) return;
        const w = new Worker(raw);
        worker = w;
        setTimeout(() => {
          process.stderr.write(`worker ${raw.workerIndex}: hard timeout, exiting\n`);
          process.exit(1);
        }, raw.hardTimeoutMs).unref();
        w.run().catch((e: unknown) => {
          send({
            type: "fatal",
            workerIndex: raw.workerIndex,
            message: e instanceof Error ? (e.stack ?? e.message) : String(e),
          });
        });
        break;
      }
      case "collect":
        if (worker) send({ type: "results", results: worker.results() });
        break;
      case "close":
        worker?.close();
        // Let the close frames go out, then leave.
        setTimeout(() => process.exit(0), 200);
        break;
    }
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main();
}
