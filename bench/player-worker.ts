/**
 * One load-generator worker: a child process (forked by bench/run.ts) that
 * plays many players through the SDK's QuizwireClient, answers every question
 * after a seeded random delay, and sends its raw samples back over IPC.
 *
 * Nothing here logs per message: handlers push numbers into arrays and bump
 * counters, so the worker's own CPU stays small next to the server's.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import WebSocket from "ws";
import { SeededRandom } from "../src/domain/seeded-random.js";
import {
  QuizwireClient,
  type QuizwireClientOptions,
  QuizwireError,
  type WebSocketConstructorLike,
} from "../src/sdk/index.js";

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
  /** The worker exits by itself after this long, whatever happens. */
  hardTimeoutMs: number;
}

export type ToWorker = WorkerInit | { type: "collect" } | { type: "close" };

/** Every sample and counter one worker measured. Times are ms. */
export interface WorkerResults {
  workerIndex: number;
  joined: number;
  joinFailed: number;
  connectMs: number[];
  joinMs: number[];
  questionFanoutMs: number[];
  answerAckMs: number[];
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
  /** Frames a joined player should have had and did not. */
  missing: { question: number; reveal: number; end: number };
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
    }
  | { type: "revealed"; workerIndex: number; index: number }
  | { type: "ended"; workerIndex: number }
  | { type: "results"; results: WorkerResults }
  | { type: "fatal"; workerIndex: number; message: string };

/** Epoch ms with sub-millisecond resolution (the server stamps whole ms). */
export const epochNow = (): number => performance.timeOrigin + performance.now();

/** Frames and bytes one client received. */
export interface Counters {
  frames: number;
  bytes: number;
  lastBytes: number;
}

/** Width of the buckets frames are counted in, for the peak rate. */
export const RATE_BUCKET_MS = 100;

/**
 * A `ws` WebSocket that counts every frame and byte it receives, before the SDK
 * parses it; with `buckets`, also frames per RATE_BUCKET_MS of epoch time.
 */
export function countingWebSocket(
  c: Counters,
  buckets?: Map<number, number>,
): WebSocketConstructorLike {
  class CountingWebSocket extends WebSocket {
    constructor(url: string) {
      super(url);
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

interface Player {
  readonly n: number;
  readonly client: QuizwireClient;
  readonly counters: Counters;
  joined: boolean;
  gone: boolean;
  questions: number;
  reveals: number;
  ended: boolean;
  startFrames: number;
  startBytes: number;
  endFrames: number;
  endBytes: number;
}

class Worker {
  private readonly players: Player[] = [];
  private readonly random: SeededRandom;
  private readonly errors: Record<string, number> = {};
  private readonly connectMs: number[] = [];
  private readonly joinMs: number[] = [];
  private readonly questionFanoutMs: number[] = [];
  private readonly answerAckMs: number[] = [];
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
    });
  }

  private async joinOne(n: number): Promise<void> {
    const counters: Counters = { frames: 0, bytes: 0, lastBytes: 0 };
    const options: QuizwireClientOptions = {
      url: this.init.url,
      WebSocket: countingWebSocket(counters, this.buckets),
      // Every drop counts as an error: a reconnect would hide it.
      reconnect: false,
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
      questions: 0,
      reveals: 0,
      ended: false,
      startFrames: 0,
      startBytes: 0,
      endFrames: 0,
      endBytes: 0,
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
    c.on("question", (d) => {
      this.questionFanoutMs.push(c.serverNow() - d.opened_at);
      p.questions++;
      const { answerSpreadMs, optionCount } = this.init;
      const delay = 200 + this.random.float() * Math.max(0, answerSpreadMs - 200);
      const choice = this.random.int(optionCount);
      const index = d.index;
      setTimeout(() => this.answer(p, index, choice), delay);
    });
    c.on("reveal", (_d, frame) => {
      if (frame.at !== undefined) this.revealFanoutMs.push(c.serverNow() - frame.at);
      else this.count("reveal_without_at");
      p.reveals++;
      const i = frame.data.index;
      this.revealsByIndex[i] = (this.revealsByIndex[i] ?? 0) + 1;
      this.checkProgress();
    });
    c.on("end", () => {
      if (p.ended) return;
      p.ended = true;
      p.endFrames = p.counters.frames;
      p.endBytes = p.counters.bytes;
      this.lastEndAt = Math.max(this.lastEndAt, epochNow());
      this.endedCount++;
      this.checkProgress();
    });
  }

  private answer(p: Player, index: number, choice: number): void {
    if (p.gone || this.closing) return;
    const t0 = performance.now();
    p.client.answer(index, { choice }).then(
      () => {
        this.answerAckMs.push(performance.now() - t0);
      },
      (e: unknown) => this.fail(p, e),
    );
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
    const offsetMs: number[] = [];
    const now = epochNow();
    let joined = 0;
    for (const p of this.players) {
      totalFrames += p.counters.frames;
      totalBytes += p.counters.bytes;
      if (!p.joined) continue;
      joined++;
      offsetMs.push(p.client.serverNow() - now);
      if (p.ended) {
        gameFrames += p.endFrames - p.startFrames;
        gameBytes += p.endBytes - p.startBytes;
      }
      missing.question += Math.max(0, this.init.questionCount - p.questions);
      missing.reveal += Math.max(0, this.init.questionCount - p.reveals);
      if (!p.ended) missing.end++;
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
      answerAckMs: this.answerAckMs,
      revealFanoutMs: this.revealFanoutMs,
      offsetMs,
      rateBuckets: [...this.buckets],
      gameFrames,
      gameBytes,
      totalFrames,
      totalBytes,
      errors: this.errors,
      missing,
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
