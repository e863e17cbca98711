/**
 * The raw load run (`npm run bench`, single server): players on `RawSocket`s in a few worker
 * processes (bench/raw-worker.ts), the host on the SDK, one live game; then, with --reference,
 * the same clients against a bare `ws` broadcast server (bench/reference-server.ts) in the same
 * run; with --plot FILE, a self-contained SVG of the distributions (bench/plot.ts).
 *
 * bench/run.ts parses the flags and owns the exit paths (children SIGKILLed on every way out,
 * --timeout-s); this module is called from it.
 */
import { type ChildProcess, fork } from "node:child_process";
import { EventEmitter } from "node:events";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { SeededRandom } from "../src/domain/seeded-random.js";
import { QuizwireClient } from "../src/sdk/index.js";
import { WARM_UP_QUESTIONS } from "../src/server/warm-up.js";
import { renderSvg } from "./plot.js";
import type {
  FromRawWorker,
  RawWorkerResults,
  ReferenceResults,
  ToRawWorker,
} from "./raw-worker.js";
import { epochNow } from "./raw-worker.js";
import type { FromReference, ToReference } from "./reference-server.js";
import {
  alive,
  type BenchOptions,
  commandLine,
  createQuiz,
  fetchResults,
  owned,
  ProcSampler,
  processCpuS,
  readClockTicks,
  type ServerHandle,
  setPhase,
  sleep,
  startClusterInstances,
  startServer,
  stopChild,
  UsageError,
  waitHealthy,
} from "./run.js";
import { type BucketSummary, fetchMetricsText, histogramBetween } from "./server-histogram.js";
import {
  addCounts,
  checkAcknowledged,
  firstAndLater,
  formatInt,
  formatMB,
  formatMs,
  formatTable,
  type Summary,
  splitEvenly,
  summarize,
  summaryRow,
} from "./stats.js";
import { type WarmUpResult, warmUp } from "./warmup.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const WORKER_PATH = fileURLToPath(new URL("./raw-worker.ts", import.meta.url));
const REFERENCE_PATH = fileURLToPath(new URL("./reference-server.ts", import.meta.url));
const OPTION_COUNT = 4;
/** Sockets one process may hold, under the 20,000 open files per process of this machine. */
export const MAX_SOCKETS_PER_PROCESS = 19_000;
/** Broadcast rounds of the reference run, and the pause between them. */
const REFERENCE_ROUNDS = 5;
const REFERENCE_GAP_MS = 500;

/** The 1-minute load average from /proc/loadavg (others' work on a shared machine shows here); NaN when unreadable. */
export function loadAverage(): number {
  try {
    return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  } catch {
    return Number.NaN;
  }
}

/** The per-process open-file limit (soft), from /proc/self/limits; null when unreadable. */
export function openFileLimit(limits: string): number | null {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
  if (!m) return null;
  return m[1] === "unlimited" ? Number.POSITIVE_INFINITY : Number(m[1]);
}

/**
 * Why a run of `players` over `workers` cannot work under an open-file limit of `limit` per
 * process (a worker holds one socket per player, the server one per player and the host); null
 * when it fits.
 */
export function fileLimitProblem(
  players: number,
  workers: number,
  limit: number,
  startsServer: boolean,
  instances = 1,
): string | null {
  const perWorker = Math.ceil(players / workers);
  const cap = Math.min(MAX_SOCKETS_PER_PROCESS, limit - 500);
  if (perWorker > cap) {
    return `${formatInt(perWorker)} players per worker need ${formatInt(perWorker)} sockets in one process, over the ${formatInt(limit)} open files a process may have here (ulimit -n); use --workers ${Math.ceil(players / cap)} or more`;
  }
  if (startsServer && Math.ceil(players / instances) + 200 > limit) {
    return `the server would hold ${formatInt(players)} player sockets (plus the host, its database and listeners), over the ${formatInt(limit)} open files a process may have here (ulimit -n); raise the limit (ulimit -n; the hard limit is in /proc/self/limits) or use --cluster`;
  }
  return null;
}

/** What the run reads of the server's processes: one instance's, or the sum over a cluster's. */
interface ServerSampler {
  readonly cpuS: number;
  /** The main threads' part of `cpuS` (each instance's event loop), read at the same samples. */
  readonly mainCpuS: number;
  readonly peak: number;
  sample(): number;
  cpu(): number;
  stop(): void;
}

function samplerOf(instances: readonly ServerHandle[]): ServerSampler | null {
  const all = instances.flatMap((i) => (i.sampler ? [i.sampler] : []));
  if (all.length === 0) return null;
  if (all.length === 1) return all[0] as ProcSampler;
  const total = (f: (s: ProcSampler) => number) => sum(all.map(f));
  return {
    get cpuS() {
      return total((s) => s.cpuS);
    },
    get mainCpuS() {
      return total((s) => s.mainCpuS);
    },
    // Each instance's own peak, summed: an upper bound on the cluster's peak at any one moment.
    get peak() {
      return total((s) => s.peak);
    },
    sample: () => total((s) => s.sample()),
    cpu: () => total((s) => s.cpu()),
    stop: () => {
      for (const s of all) s.stop();
    },
  };
}

interface RawWorkerHandle {
  index: number;
  child: ChildProcess;
  players: number;
  ready: boolean;
  joined: number;
  failed: number;
  joinStartAt: number;
  joinEndAt: number;
  offsetMs: number;
  progressJoined: number;
  progressAcks: number;
  revealed: Set<number>;
  ended: boolean;
  results: RawWorkerResults | null;
  gameClosed: boolean;
  refReady: boolean;
  refConnected: number;
  refFailed: number;
  refGot: Set<number>;
  refResults: ReferenceResults | null;
}

const progress = new EventEmitter();
progress.setMaxListeners(0);
let fatal: Error | null = null;
let stopping = false;
/** Wakes every waitFor. */
export const tick = () => progress.emit("tick");
/** Makes every waitFor reject with `e` (the first failure wins). */
export function failWith(e: Error): void {
  fatal ??= e;
  tick();
}

/** Resolves true once `cond()` holds, false after `timeoutMs`; rejects if a worker failed. */
export function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (fatal) {
        done();
        reject(fatal);
        return true;
      }
      if (cond()) {
        done();
        resolve(true);
        return true;
      }
      return false;
    };
    const timer = setTimeout(() => {
      done();
      resolve(false);
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      progress.off("tick", check);
    };
    if (!check()) progress.on("tick", check);
  });
}

/** Extra node flags for the raw workers, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile one. */
const workerExecArgv = (process.env.BENCH_WORKER_NODE_ARGS ?? "")
  .split(" ")
  .filter((x) => x !== "");

function forkWorker(index: number, players: number): RawWorkerHandle {
  const child = fork(WORKER_PATH, [], {
    cwd: ROOT,
    execArgv: ["--import", "tsx", ...workerExecArgv],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  owned.children.add(child);
  const w: RawWorkerHandle = {
    index,
    child,
    players,
    ready: false,
    joined: 0,
    failed: 0,
    joinStartAt: 0,
    joinEndAt: 0,
    offsetMs: 0,
    progressJoined: 0,
    progressAcks: 0,
    revealed: new Set(),
    ended: false,
    results: null,
    gameClosed: false,
    refReady: false,
    refConnected: 0,
    refFailed: 0,
    refGot: new Set(),
    refResults: null,
  };
  child.on("message", (message: unknown) => {
    const m = message as FromRawWorker;
    switch (m.type) {
      case "ready":
        w.ready = true;
        w.joined = m.joined;
        w.failed = m.failed;
        w.joinStartAt = m.joinStartAt;
        w.joinEndAt = m.joinEndAt;
        w.offsetMs = m.offsetMs;
        break;
      case "progress":
        w.progressJoined = m.joined;
        w.progressAcks = m.acks;
        break;
      case "revealed":
        w.revealed.add(m.index);
        break;
      case "ended":
        w.ended = true;
        break;
      case "results":
        w.results = m.results;
        break;
      case "game-closed":
        w.gameClosed = true;
        break;
      case "reference-ready":
        w.refReady = true;
        w.refConnected = m.connected;
        w.refFailed = m.failed;
        break;
      case "reference-got":
        w.refGot.add(m.round);
        break;
      case "reference-results":
        w.refResults = m.results;
        break;
      case "fatal":
        fatal ??= new Error(`raw worker ${m.workerIndex} failed: ${m.message}`);
        break;
    }
    tick();
  });
  child.on("exit", (code, signal) => {
    if (!stopping) fatal ??= new Error(`raw worker ${index} exited early (${code ?? signal})`);
    tick();
  });
  return w;
}

function sendTo(w: RawWorkerHandle, msg: ToRawWorker): void {
  if (alive(w.child) && w.child.connected) w.child.send(msg);
}

/** The progress line on stderr: rewritten in place on a terminal, a line every 2 s otherwise. */
export class ProgressLine {
  private timer: ReturnType<typeof setInterval> | null = null;
  private shown = false;
  private readonly tty = process.stderr.isTTY === true;
  private last = 0;
  constructor(private readonly text: () => string) {}
  start(): void {
    this.timer = setInterval(() => this.draw(), this.tty ? 250 : 2_000);
    this.timer.unref();
  }
  private draw(): void {
    const line = this.text();
    if (this.tty) {
      process.stderr.write(`\r\x1b[K${line}`);
      this.shown = true;
    } else if (performance.now() - this.last >= 1_900) {
      this.last = performance.now();
      process.stderr.write(`${line}\n`);
    }
  }
  /** Clears the line so a phase message can be written. */
  clear(): void {
    if (this.tty && this.shown) process.stderr.write("\r\x1b[K");
    this.shown = false;
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.clear();
  }
}

/** What the reference broadcast measured. */
export interface ReferenceReport {
  clients: number;
  failed: number;
  rounds: number;
  frameBytes: number;
  fanout: Summary;
  /** The reference server's send loop per round (ms), and its CPU over the rounds. */
  sendLoopMs: number[];
  serverCpuS: number;
  /** The workers' CPU over the reference phase (connects and receipts), for comparing the client's cost. */
  clientCpuS: number;
  /** quizwire's fan-out p50 / p99 as a multiple of the reference's. */
  questionRatioP50: number;
  questionRatioP99: number;
  revealRatioP50: number;
  revealRatioP99: number;
  /**
   * The question p99 ratio split in two: question 1 against the reference's first broadcast, and
   * the later questions against its later broadcasts. Question 1 is usually quizwire's slowest
   * question and the reference's first round is often its slowest, while the reference's overall
   * p99 has four later rounds to a game's Q − 1.
   */
  firstQuestionRatioP99: number;
  laterQuestionsRatioP99: number;
}

/** Everything a raw run measured; also the --json document. */
export interface RawReport {
  tool: "quizwire bench (raw)";
  date: string;
  node: string;
  cpu: string;
  cores: number;
  command: string;
  options: BenchOptions;
  server: {
    url: string;
    /** 1, or N with --cluster N (Postgres + Redis; players spread round-robin over them). */
    instances: number;
    pid: number | null;
    started: boolean;
    sqliteSynchronous: string;
  };
  openFileLimit: number | null;
  /** 1-minute load average when the run started and when the game ended. */
  loadAvg: [number, number];
  players: { requested: number; joined: number; failed: number };
  phases: { joinS: number; gameS: number };
  joinRatePerS: number;
  latency: {
    connect: Summary;
    join: Summary;
    answerAck: Summary;
    /** Cluster runs: answer → ack of players on the session's owner and on the other instances. */
    answerAckByInstance: { owner: Summary; forwarded: Summary } | null;
    questionFanout: Summary;
    revealFanout: Summary;
  };
  /** Per question (0-based): question fan-out, answer → ack and reveal fan-out. */
  perQuestion: { question: Summary; ack: Summary; reveal: Summary }[];
  serverResources: {
    cpuJoinS: number;
    cpuGameS: number;
    cpuPerJoinMs: number;
    cpuPerAnswerMs: number;
    coresJoin: number;
    coresGame: number;
    /** The main threads' part of `coresJoin` and `coresGame` (one per instance, summed). */
    mainCoresJoin: number;
    mainCoresGame: number;
    rssIdleBytes: number;
    rssAfterJoinBytes: number;
    rssPeakBytes: number;
    rssPerPlayerBytes: number;
  } | null;
  generator: {
    workers: number;
    cpuJoinS: number[];
    cpuGameS: number[];
    cpuTotalS: number[];
    coresGame: number;
    loopDelayP99MaxMs: number;
    loopDelayMaxMs: number;
    offsetMs: number[];
    offsetRttMs: number[];
  };
  messages: { gameFrames: number; gameBytes: number; totalFrames: number; totalBytes: number };
  integrity: {
    acknowledged: number;
    unacknowledged: number[];
    lost: number;
    pointsDiffer: number;
    error: string | null;
  };
  errors: Record<string, number>;
  missing: { question: number; reveal: number; end: number };
  reference: ReferenceReport | null;
  /**
   * The servers' own quizwire_answer_ack_seconds over the game (the door's answer handler to the
   * acknowledgement built), summed over the instances; null when /metrics could not be read.
   */
  serverAnswerAck: BucketSummary | null;
  /**
   * The servers' own quizwire_broadcast_seconds for the game's questions and reveals (the room's
   * stamp to the last frame handed to the kernel), summed over the instances; null when /metrics
   * could not be read.
   */
  serverFanout: { question: BucketSummary | null; reveal: BucketSummary | null };
  /** `--warmup-players`: the warm-up game played on each server before the measured one. */
  warmUp: WarmUpResult[] | null;
  plot: string | null;
  notes: string[];
  serverLog: string[];
}

const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);

/** Plays the game on raw sockets; returns the report (the caller prints it). */
export async function runRaw(opts: BenchOptions, argv: readonly string[]): Promise<RawReport> {
  readClockTicks();
  const loadAtStart = loadAverage();
  const notes: string[] = [];
  const random = new SeededRandom(opts.seed);
  let limit: number | null = null;
  try {
    limit = openFileLimit(readFileSync("/proc/self/limits", "utf8"));
  } catch {
    // not Linux: no check
  }
  if (limit !== null) {
    const problem = fileLimitProblem(
      opts.players,
      opts.workers,
      limit,
      opts.url === null,
      opts.cluster ?? 1,
    );
    if (problem) throw new UsageError(problem);
  }
  if (opts.answerSpreadMs >= opts.questionMs) {
    notes.push(
      `--answer-spread-ms ${opts.answerSpreadMs} ≥ --question-ms ${opts.questionMs}: some answers arrive after the question closed (STATE errors)`,
    );
  }

  // ---- the server (or, with --cluster N, N instances on Postgres + Redis)
  let server: ServerHandle;
  let cluster: ServerHandle[] | null = null;
  if (opts.cluster !== null) {
    cluster = (await startClusterInstances(opts)).instances;
    server = cluster[0] as ServerHandle;
  } else if (opts.url) {
    setPhase(`using the server at ${opts.url}`);
    const u = new URL(opts.url);
    const httpBase = `http://${u.host}`;
    await waitHealthy(httpBase, null, [], 5_000);
    const pid = opts.serverPid;
    if (pid !== null && processCpuS(pid) === null) {
      throw new UsageError(`cannot read /proc/${pid}/stat: is --server-pid right?`);
    }
    server = {
      index: 1,
      child: null,
      pid,
      port: Number(u.port),
      wsUrl: opts.url,
      httpBase,
      output: [],
      sampler: pid !== null ? new ProcSampler(pid) : null,
      killedAt: 0,
    };
  } else {
    setPhase("starting the server (node --import tsx src/main.ts)");
    server = await startServer(1, {}, "/health/live");
  }
  const instances = cluster ?? [server];
  const wsUrl = new URL(server.wsUrl);
  // Player n connects to instance n mod N; the host (and so the session's owner) is on the first.
  const ports = instances.map((i) => Number(new URL(i.wsUrl).port));

  let warmedUp: WarmUpResult[] | null = null;
  if (opts.warmupPlayers > 0) {
    warmedUp = [];
    for (const instance of instances) {
      setPhase(
        `warming up ${instances.length > 1 ? `instance ${instance.index}` : "the server"}: a ${WARM_UP_QUESTIONS}-question game of ${formatInt(opts.warmupPlayers)} players (--warmup-players)`,
      );
      warmedUp.push(await warmUp(instance, opts.warmupPlayers));
    }
  }

  setPhase("creating the quiz over REST");
  const quizId = await createQuiz(server.httpBase, opts.questions, random);

  setPhase("connecting the host (SDK) and creating a live room");
  const host = new QuizwireClient({
    url: server.wsUrl,
    WebSocket: WebSocket as never,
    reconnect: false,
    requestTimeoutMs: 30_000,
    now: epochNow,
    onError: () => undefined,
  });
  const hostErrors: Record<string, number> = {};
  const hostCount = (k: string) => {
    hostErrors[`host ${k}`] = (hostErrors[`host ${k}`] ?? 0) + 1;
  };
  host.on("error", (d) => hostCount(d.reason ? `${d.code}/${d.reason}` : d.code));
  host.on("disconnected", (d) => {
    if (!stopping) hostCount(`disconnect ${d.code}`);
  });
  const hostReveals = new Set<number>();
  let hostQuestion = -1;
  let hostEndAt = 0;
  host.on("question", (d) => {
    hostQuestion = d.index;
    tick();
  });
  host.on("reveal", (d) => {
    hostReveals.add(d.index);
    tick();
  });
  host.on("end", () => {
    hostEndAt = epochNow();
    tick();
  });
  await host.connect();
  const room = await host.createRoom({
    quizId,
    mode: "live",
    settings: { question_time_ms: opts.questionMs, max_participants: opts.players + 10 },
    hostName: "bench host",
  });

  const sampler = samplerOf(instances);
  await sleep(300);
  const rssIdle = sampler?.sample() ?? 0;
  const cpuBeforeJoin = sampler?.cpu() ?? 0;
  const mainBeforeJoin = sampler?.mainCpuS ?? 0;

  // ---- the players
  const shares = splitEvenly(opts.players, opts.workers);
  const workers: RawWorkerHandle[] = [];
  let phaseText = "joining";
  const line = new ProgressLine(() => {
    const joined = sum(workers.map((w) => w.progressJoined));
    const acks = sum(workers.map((w) => w.progressAcks));
    const q = hostQuestion >= 0 ? `${hostQuestion + 1}/${opts.questions}` : `0/${opts.questions}`;
    const cpu = sampler ? `, server ${sampler.cpuS.toFixed(1)} CPU s` : "";
    return `  ${phaseText}: joined ${formatInt(joined)}/${formatInt(opts.players)}, question ${q}, reveals ${hostReveals.size}, acks ${formatInt(acks)}${cpu}`;
  });
  const phase = (p: string) => {
    line.clear();
    setPhase(p);
  };
  phase(
    `forking ${opts.workers} raw worker${opts.workers === 1 ? "" : "s"}; joining ${formatInt(opts.players)} players (${opts.joinConcurrency} at a time per worker)`,
  );
  line.start();
  let first = 0;
  shares.forEach((players, index) => {
    const w = forkWorker(index, players);
    workers.push(w);
    sendTo(w, {
      type: "init",
      workerIndex: index,
      host: wsUrl.hostname,
      port: Number(wsUrl.port),
      ports,
      path: `${wsUrl.pathname}${wsUrl.search}`,
      pin: room.pin,
      firstPlayer: first,
      players,
      seed: opts.seed,
      questionCount: opts.questions,
      optionCount: OPTION_COUNT,
      answerSpreadMs: opts.answerSpreadMs,
      joinConcurrency: opts.joinConcurrency,
      hardTimeoutMs: opts.timeoutS * 1000 + 10_000,
      nice: opts.generatorNice,
    });
    first += players;
  });
  await waitFor(() => workers.every((w) => w.ready), opts.timeoutS * 1000);
  const joinS =
    (Math.max(...workers.map((w) => w.joinEndAt)) -
      Math.min(...workers.map((w) => w.joinStartAt))) /
    1000;
  const joined = sum(workers.map((w) => w.joined));
  const failed = sum(workers.map((w) => w.failed));
  if (opts.startAfterMs > 0) {
    // What the server still does for the joins in this pause counts as the joins' CPU.
    phase(`waiting ${opts.startAfterMs} ms after the last join (--start-after-ms)`);
    await sleep(opts.startAfterMs);
  }
  const rssAfterJoin = sampler?.sample() ?? 0;
  const cpuAfterJoin = sampler?.cpu() ?? 0;
  const mainAfterJoin = sampler?.mainCpuS ?? 0;
  phase(
    `${formatInt(joined)} joined, ${formatInt(failed)} failed in ${joinS.toFixed(2)} s (${formatInt(joined / joinS)}/s)`,
  );
  if (joined === 0) throw new Error("no player could join; nothing to measure");

  // ---- the game
  phaseText = "game";
  phase(`playing ${opts.questions} questions`);
  const metricsText = () => fetchMetricsText(instances.map((i) => i.httpBase));
  const metricsBefore = await metricsText();
  const gameStartAt = epochNow();
  await host.start();
  for (let k = 0; k < opts.questions; k++) {
    const revealed = await waitFor(() => hostReveals.has(k), opts.questionMs + 30_000);
    if (!revealed)
      throw new Error(`the host got no reveal for question ${k + 1} within question-ms + 30 s`);
    const delivered = await waitFor(
      () => workers.every((w) => w.revealed.has(k) || !alive(w.child)),
      10_000,
    );
    if (!delivered) {
      const late = workers.filter((w) => !w.revealed.has(k)).map((w) => w.index);
      notes.push(
        `question ${k + 1}: workers ${late.join(", ")} had not delivered the reveal to every player 10 s after the host's`,
      );
    }
    await host.nextQuestion();
  }
  const allEnded = await waitFor(() => hostEndAt > 0 && workers.every((w) => w.ended), 30_000);
  if (!allEnded) notes.push("not every player received `end` within 30 s of the last next");
  const cpuAfterGame = sampler?.cpu() ?? 0;
  const mainAfterGame = sampler?.mainCpuS ?? 0;
  const loadAtEnd = loadAverage();
  const metricsAfter = await metricsText();
  const between = (name: string, labels: Record<string, string>) =>
    histogramBetween(metricsBefore, metricsAfter, name, labels);
  const serverAnswerAck = between("quizwire_answer_ack_seconds", { door: "canonical" });
  const serverFanout = {
    question: between("quizwire_broadcast_seconds", { door: "canonical", type: "question" }),
    reveal: between("quizwire_broadcast_seconds", { door: "canonical", type: "reveal" }),
  };
  line.stop();

  phase("collecting samples");
  for (const w of workers) sendTo(w, { type: "collect" });
  const collected = await waitFor(() => workers.every((w) => w.results !== null), 15_000);
  if (!collected) notes.push("some workers sent no results within 15 s; their samples are missing");
  const results = workers.flatMap((w) => (w.results ? [w.results] : []));
  const rssPeak = sampler?.peak ?? 0;

  phase("checking the acknowledged answers against GET /api/v1/sessions/{id}/results");
  const acked = results.flatMap((r) =>
    r.ackPlayer.map((n, i) => ({
      name: `p${n}`,
      index: r.ackIndex[i] ?? -1,
      points: r.ackPoints[i] ?? Number.NaN,
    })),
  );
  const integrity: RawReport["integrity"] = {
    acknowledged: acked.length,
    unacknowledged: Array.from({ length: opts.questions }, (_, i) =>
      sum(results.map((r) => r.unackedByQuestion[i] ?? 0)),
    ),
    lost: 0,
    pointsDiffer: 0,
    error: null,
  };
  try {
    const check = checkAcknowledged(acked, await fetchResults(server.httpBase, room.roomId));
    integrity.lost = check.lost;
    integrity.pointsDiffer = check.pointsDiffer;
  } catch (e) {
    integrity.error = e instanceof Error ? e.message : String(e);
  }

  phase("closing the players' connections");
  for (const w of workers) sendTo(w, { type: "close-game" });
  await waitFor(() => workers.every((w) => w.gameClosed || !alive(w.child)), 10_000);
  stopping = true;
  host.close();
  const serverLog = instances
    .flatMap((i) => i.output)
    .join("")
    .split("\n")
    .filter((l) => l.trim() !== "");
  sampler?.stop();
  if (instances.some((i) => i.child)) {
    phase(
      instances.length > 1 ? `stopping the ${instances.length} instances` : "stopping the server",
    );
    await Promise.all(
      instances.map((i) => (i.child ? stopChild(i.child, "SIGTERM", 5_000) : Promise.resolve())),
    );
  }

  // ---- the reference
  let reference: ReferenceReport | null = null;
  const questionSamples = results.flatMap((r) => r.questionFanoutMs);
  const qAll = summarize(questionSamples);
  const rAll = summarize(results.flatMap((r) => r.revealFanoutMs));
  if (opts.reference) {
    const byQuestion = firstAndLater(
      questionSamples,
      results.flatMap((r) => r.questionIndex),
      0,
    );
    reference = await runReference(workers, joined, opts, qAll, rAll, byQuestion, phase);
  }
  const referenceSamples = workers.flatMap((w) => w.refResults?.fanoutMs ?? []);

  for (const w of workers) sendTo(w, { type: "exit" });
  await Promise.all(workers.map((w) => stopChild(w.child, null, 3_000)));

  // ---- merge
  const lastEndAt = Math.max(hostEndAt, ...results.map((r) => r.lastEndAt));
  const gameS = (lastEndAt - gameStartAt) / 1000;
  const errors: Record<string, number> = { ...hostErrors };
  const missing = { question: 0, reveal: 0, end: 0 };
  for (const r of results) {
    addCounts(errors, r.errors);
    missing.question += r.missing.question;
    missing.reveal += r.missing.reveal;
    missing.end += r.missing.end;
  }
  const perQuestion = Array.from({ length: opts.questions }, (_, k) => ({
    question: summarize(
      results.flatMap((r) => r.questionFanoutMs.filter((_, i) => r.questionIndex[i] === k)),
    ),
    ack: summarize(results.flatMap((r) => r.ackMs.filter((_, i) => r.ackIndex[i] === k))),
    reveal: summarize(
      results.flatMap((r) => r.revealFanoutMs.filter((_, i) => r.revealIndex[i] === k)),
    ),
  }));
  const cpuJoinS = cpuAfterJoin - cpuBeforeJoin;
  const cpuGameS = cpuAfterGame - cpuAfterJoin;
  const joinWallS = joinS + opts.startAfterMs / 1000;
  const acks = acked.length;
  const workerCpuGame = results.map((r) => r.cpuGameS);
  const report: RawReport = {
    tool: "quizwire bench (raw)",
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model.trim() ?? "unknown CPU",
    cores: cpus().length,
    command: commandLine(argv),
    options: opts,
    server: {
      url: server.wsUrl,
      instances: instances.length,
      pid: server.pid,
      started: server.child !== null,
      sqliteSynchronous: server.child ? (process.env.SQLITE_SYNCHRONOUS ?? "FULL") : "unknown",
    },
    openFileLimit: limit,
    loadAvg: [loadAtStart, loadAtEnd],
    players: { requested: opts.players, joined, failed },
    phases: { joinS, gameS },
    joinRatePerS: joinS > 0 ? joined / joinS : Number.NaN,
    latency: {
      connect: summarize(results.flatMap((r) => r.connectMs)),
      join: summarize(results.flatMap((r) => r.joinMs)),
      answerAck: summarize(results.flatMap((r) => r.ackMs)),
      answerAckByInstance: instances.length > 1 ? ackByInstance(results, instances.length) : null,
      questionFanout: qAll,
      revealFanout: rAll,
    },
    perQuestion,
    serverResources: sampler
      ? {
          cpuJoinS,
          cpuGameS,
          cpuPerJoinMs: joined > 0 ? (cpuJoinS * 1000) / joined : Number.NaN,
          cpuPerAnswerMs: acks > 0 ? (cpuGameS * 1000) / acks : Number.NaN,
          // With --start-after-ms the pause's CPU counts as the joins', so does its time.
          coresJoin: joinS > 0 ? cpuJoinS / joinWallS : Number.NaN,
          coresGame: gameS > 0 ? cpuGameS / gameS : Number.NaN,
          mainCoresJoin: joinS > 0 ? (mainAfterJoin - mainBeforeJoin) / joinWallS : Number.NaN,
          mainCoresGame: gameS > 0 ? (mainAfterGame - mainAfterJoin) / gameS : Number.NaN,
          rssIdleBytes: rssIdle,
          rssAfterJoinBytes: rssAfterJoin,
          rssPeakBytes: rssPeak,
          rssPerPlayerBytes: joined > 0 ? (rssAfterJoin - rssIdle) / joined : Number.NaN,
        }
      : null,
    generator: {
      workers: workers.length,
      cpuJoinS: results.map((r) => r.cpuJoinS),
      cpuGameS: workerCpuGame,
      cpuTotalS: results.map((r) => r.cpuTotalS),
      coresGame: gameS > 0 ? sum(workerCpuGame) / gameS : Number.NaN,
      loopDelayP99MaxMs: Math.max(0, ...results.map((r) => r.loopDelayP99Ms)),
      loopDelayMaxMs: Math.max(0, ...results.map((r) => r.loopDelayMaxMs)),
      offsetMs: results.map((r) => r.offsetMs),
      offsetRttMs: results.map((r) => r.offsetRttMs),
    },
    messages: {
      gameFrames: sum(results.map((r) => r.gameFrames)),
      gameBytes: sum(results.map((r) => r.gameBytes)),
      totalFrames: sum(results.map((r) => r.totalFrames)),
      totalBytes: sum(results.map((r) => r.totalBytes)),
    },
    integrity,
    errors,
    missing,
    reference,
    serverAnswerAck,
    serverFanout,
    warmUp: warmedUp,
    plot: null,
    notes,
    serverLog: serverLog.slice(-20),
  };
  if (opts.plot) {
    phase(`writing the plot to ${opts.plot}`);
    writeFileSync(
      opts.plot,
      renderSvg({
        title: `quizwire bench (raw) — ${formatInt(joined)} players, ${opts.questions} questions`,
        subtitle: `${report.date}; seed ${opts.seed}; ${report.command}`,
        cdfs: [
          { name: "join (→ joined)", samples: results.flatMap((r) => r.joinMs) },
          { name: "answer → ack", samples: results.flatMap((r) => r.ackMs) },
          { name: "question fan-out", samples: results.flatMap((r) => r.questionFanoutMs) },
          { name: "reveal fan-out", samples: results.flatMap((r) => r.revealFanoutMs) },
          ...(reference
            ? [{ name: "reference fan-out (bare ws)", samples: referenceSamples }]
            : []),
        ],
        strips: Array.from({ length: opts.questions }, (_, k) => {
          const players: number[] = [];
          const fanoutMs: number[] = [];
          for (const r of results) {
            r.questionIndex.forEach((q, i) => {
              if (q !== k) return;
              players.push(r.questionPlayer[i] ?? 0);
              fanoutMs.push(r.questionFanoutMs[i] ?? 0);
            });
          }
          return { question: k, players, fanoutMs };
        }),
        playerCount: opts.players,
      }),
    );
    report.plot = opts.plot;
  }
  return report;
}

async function runReference(
  workers: RawWorkerHandle[],
  players: number,
  opts: BenchOptions,
  qAll: Summary,
  rAll: Summary,
  byQuestion: { first: Summary; later: Summary },
  phase: (p: string) => void,
): Promise<ReferenceReport> {
  phase("--reference: starting the bare ws broadcast server (bench/reference-server.ts)");
  const child = fork(REFERENCE_PATH, [], {
    cwd: ROOT,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  owned.children.add(child);
  let port = 0;
  const done = new Map<number, Extract<FromReference, { type: "broadcast-done" }>>();
  child.on("message", (m: unknown) => {
    const r = m as FromReference;
    if (r.type === "listening") port = r.port;
    if (r.type === "broadcast-done") done.set(r.round, r);
    tick();
  });
  let finished = false;
  child.on("exit", () => {
    if (!finished) fatal ??= new Error("the reference server exited early");
    tick();
  });
  const tell = (m: ToReference) => {
    if (alive(child) && child.connected) child.send(m);
  };
  tell({ type: "start" });
  if (!(await waitFor(() => port > 0, 15_000)))
    throw new Error("the reference server did not listen within 15 s");
  const refSampler = child.pid !== undefined ? new ProcSampler(child.pid) : null;
  phase(`--reference: connecting ${formatInt(players)} raw sockets to it (the same clients)`);
  for (const w of workers)
    sendTo(w, { type: "reference", port, concurrency: opts.joinConcurrency });
  await waitFor(() => workers.every((w) => w.refReady), 120_000);
  const clients = sum(workers.map((w) => w.refConnected));
  await sleep(500);
  phase(
    `--reference: ${REFERENCE_ROUNDS} broadcasts of one frame to ${formatInt(clients)} clients`,
  );
  const cpu0 = refSampler?.cpu() ?? 0;
  for (let round = 1; round <= REFERENCE_ROUNDS; round++) {
    tell({ type: "broadcast", round });
    const got = await waitFor(
      () => done.has(round) && workers.every((w) => w.refGot.has(round) || w.refConnected === 0),
      10_000,
    );
    if (!got) process.stderr.write(`  reference round ${round}: not every client got it in 10 s\n`);
    await sleep(REFERENCE_GAP_MS);
  }
  const serverCpuS = (refSampler?.cpu() ?? 0) - cpu0;
  refSampler?.stop();
  for (const w of workers) sendTo(w, { type: "reference-collect" });
  await waitFor(() => workers.every((w) => w.refResults !== null), 15_000);
  finished = true;
  await stopChild(child, "SIGTERM", 2_000);
  const samples = workers.flatMap((w) => w.refResults?.fanoutMs ?? []);
  const fanout = summarize(samples);
  const byRound = firstAndLater(
    samples,
    workers.flatMap((w) => w.refResults?.round ?? []),
    1,
  );
  const loops = [...done.values()].sort((a, b) => a.round - b.round);
  return {
    clients,
    failed: sum(workers.map((w) => w.refFailed)),
    rounds: REFERENCE_ROUNDS,
    frameBytes: loops[0]?.bytes ?? 0,
    fanout,
    sendLoopMs: loops.map((l) => l.loopMs),
    serverCpuS,
    clientCpuS: sum(workers.map((w) => w.refResults?.cpuS ?? 0)),
    questionRatioP50: qAll.p50 / fanout.p50,
    questionRatioP99: qAll.p99 / fanout.p99,
    revealRatioP50: rAll.p50 / fanout.p50,
    revealRatioP99: rAll.p99 / fanout.p99,
    firstQuestionRatioP99: byQuestion.first.p99 / byRound.first.p99,
    laterQuestionsRatioP99: byQuestion.later.p99 / byRound.later.p99,
  };
}

// ---------------------------------------------------------------- output

/** A bucket's upper bound as the report prints it. */
const bound = (ms: number | null) => (ms === null ? "—" : Number.isFinite(ms) ? formatMs(ms) : "∞");

const ratio = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)}×` : "—");

/** The raw report as a person reads it. */
/**
 * A cluster run's answer → ack split by where the player was connected: on the session's
 * owner (instance 1: answered in-process) or on another instance (forwarded over Redis).
 */
function ackByInstance(
  results: readonly RawWorkerResults[],
  instances: number,
): { owner: Summary; forwarded: Summary } {
  const owner: number[] = [];
  const forwarded: number[] = [];
  for (const r of results) {
    r.ackMs.forEach((ms, i) => {
      ((r.ackPlayer[i] ?? 0) % instances === 0 ? owner : forwarded).push(ms);
    });
  }
  return { owner: summarize(owner), forwarded: summarize(forwarded) };
}

function serverLine(r: RawReport): string {
  if (r.server.instances > 1) {
    return `${r.server.instances} instances started here on Postgres + Redis (player n on instance n mod ${r.server.instances}; the host and the session's owner on the first; CPU and RSS are the instances' sums)`;
  }
  return r.server.started
    ? `started here (pid ${r.server.pid}, SQLITE_SYNCHRONOUS=${r.server.sqliteSynchronous})`
    : `at ${r.server.url}`;
}

export function formatRawReport(r: RawReport): string {
  const o = r.options;
  const lines: string[] = [];
  lines.push(
    `quizwire bench (raw sockets) — ${formatInt(o.players)} players, ${o.questions} questions, ${r.generator.workers} worker${r.generator.workers === 1 ? "" : "s"}, node ${r.node}, ${r.date}`,
  );
  lines.push(
    `${r.cpu} × ${r.cores}; server ${serverLine(r)}; question-ms ${o.questionMs}, answer-spread-ms ${o.answerSpreadMs}, seed ${o.seed}${o.generatorNice > 0 ? `; players' workers at nice ${o.generatorNice}` : ""}; open files per process ${r.openFileLimit === null ? "unknown" : formatInt(r.openFileLimit)}; load average ${r.loadAvg[0].toFixed(1)} at the start, ${r.loadAvg[1].toFixed(1)} after the game (${r.cores} cores: above that, other work competes with this run)`,
  );
  const w = r.warmUp;
  lines.push(
    w === null
      ? "warm-up                none by the bench (the server plays its own before it opens unless WARMUP_PLAYERS=0: then this game runs on cold code)"
      : `warm-up                ${w.map((x) => `${formatInt(x.players)} players × ${x.questions} questions, ${formatInt(x.answers)} answers in ${x.seconds.toFixed(1)} s`).join("; ")} on ${w.length === 1 ? "the server" : "each instance"} before this game (--warmup-players)`,
  );
  lines.push("");
  const L = r.latency;
  const rows = [
    ["metric", "count", "p50", "p95", "p99", "max", "(ms)"],
    summaryRow("connect (→ welcome)", L.connect),
    summaryRow("join (→ joined)", L.join),
    summaryRow("answer → ack", L.answerAck),
    ...(L.answerAckByInstance
      ? [
          summaryRow("  on the owner", L.answerAckByInstance.owner),
          summaryRow("  forwarded", L.answerAckByInstance.forwarded),
        ]
      : []),
    summaryRow("question fan-out", L.questionFanout),
    summaryRow("reveal fan-out", L.revealFanout),
  ];
  if (r.reference) rows.push(summaryRow("reference fan-out (bare ws)", r.reference.fanout));
  rows.push([], ["per question"]);
  r.perQuestion.forEach((q, k) => {
    rows.push(summaryRow(`  question ${k + 1} fan-out`, q.question));
    rows.push(summaryRow(`  answer ${k + 1} → ack`, q.ack));
    rows.push(summaryRow(`  reveal ${k + 1} fan-out`, q.reveal));
  });
  lines.push(formatTable(rows));
  lines.push("");
  lines.push(
    `joins                  ${formatInt(r.players.joined)} of ${formatInt(r.players.requested)} in ${r.phases.joinS.toFixed(2)} s: ${formatInt(r.joinRatePerS)} joins/s (connect + join, ${Math.min(o.players, o.joinConcurrency * r.generator.workers)} in flight)${r.players.failed ? `; ${formatInt(r.players.failed)} failed` : ""}`,
  );
  const s = r.serverResources;
  if (s) {
    // The event loop's own thread: at 1.00 it is what saturates, whatever the process's total.
    const mainThreads = r.server.instances > 1 ? "main threads" : "main thread";
    lines.push(
      `server CPU             joins ${s.cpuJoinS.toFixed(2)} s (${s.coresJoin.toFixed(2)} cores avg, ${mainThreads} ${s.mainCoresJoin.toFixed(2)}) = ${s.cpuPerJoinMs.toFixed(3)} ms per join; game ${s.cpuGameS.toFixed(2)} s (${s.coresGame.toFixed(2)} cores avg, ${mainThreads} ${s.mainCoresGame.toFixed(2)}) = ${s.cpuPerAnswerMs.toFixed(3)} ms per acknowledged answer (the game's CPU, fan-out included, / answers)`,
    );
    lines.push(
      `server RSS             idle ${formatMB(s.rssIdleBytes)} MB, after joins ${formatMB(s.rssAfterJoinBytes)} MB, peak ${formatMB(s.rssPeakBytes)} MB: ${(s.rssPerPlayerBytes / 1024).toFixed(1)} KiB per player ((after joins − idle) / players)`,
    );
  } else {
    lines.push("server RSS / CPU       not measured (--url without --server-pid)");
  }
  const sa = r.serverAnswerAck;
  lines.push(
    sa === null
      ? "server's own ack       not read (/metrics unreachable)"
      : `server's own ack       ${formatInt(sa.count)} answers: p50 ≤ ${bound(sa.p50Ms)} ms, p99 ≤ ${bound(sa.p99Ms)} ms (quizwire_answer_ack_seconds' buckets: the answer handler's start to its acknowledgement built; the clients' answer → ack adds the wait to be read, the write, the kernel and the generator)`,
  );
  const { question: sq, reveal: sr } = r.serverFanout;
  const fanout = (what: string, b: BucketSummary) =>
    `${formatInt(b.count)} ${what}: p50 ≤ ${bound(b.p50Ms)} ms, p99 ≤ ${bound(b.p99Ms)} ms`;
  lines.push(
    sq === null || sr === null
      ? "server's own fan-out   not read (/metrics unreachable)"
      : `server's own fan-out   ${fanout("questions", sq)}; ${fanout("reveals", sr)} (quizwire_broadcast_seconds' buckets, one per broadcast and instance: the room's stamp to its last frame handed to the kernel; the clients' fan-out adds the kernel's delivery, the generator's reading and the clock offset)`,
  );
  const g = r.generator;
  const perFrameUs = (sum(g.cpuGameS) * 1e6) / Math.max(1, r.messages.gameFrames);
  lines.push(
    `generator CPU          ${perFrameUs.toFixed(1)} µs per game frame received (answers sent and timers included); joins ${sum(g.cpuJoinS).toFixed(2)} s, game ${sum(g.cpuGameS).toFixed(2)} s (${g.coresGame.toFixed(2)} cores avg; per worker ${g.cpuGameS.map((x) => x.toFixed(2)).join(" / ")}), whole run ${sum(g.cpuTotalS).toFixed(2)} s`,
  );
  lines.push(
    `generator event loop   delay during the game: p99 ≤ ${formatMs(g.loopDelayP99MaxMs)} ms, max ${formatMs(g.loopDelayMaxMs)} ms`,
  );
  lines.push(
    `clock offset           per worker (server − local, from 8 pings): ${g.offsetMs.map((x) => `${formatMs(x)} ms`).join(", ")}; best round trip ${g.offsetRttMs.map((x) => `${formatMs(x)} ms`).join(", ")} (applied to both fan-outs)`,
  );
  const m = r.messages;
  lines.push(
    `messages               game: ${formatInt(m.gameFrames)} frames, ${formatMB(m.gameBytes)} MB in ${r.phases.gameS.toFixed(2)} s (${formatInt(m.gameFrames / r.phases.gameS)}/s avg); whole run: ${formatInt(m.totalFrames)} frames, ${formatMB(m.totalBytes)} MB`,
  );
  const ref = r.reference;
  if (ref) {
    lines.push(
      `reference (bare ws)    ${formatInt(ref.clients)} clients${ref.failed ? ` (${ref.failed} failed to connect)` : ""}, ${ref.rounds} broadcasts of one pre-framed ${ref.frameBytes}-byte frame; send loop ${ref.sendLoopMs.map((x) => formatMs(x)).join(" / ")} ms; its CPU ${ref.serverCpuS.toFixed(2)} s; the clients' ${ref.clientCpuS.toFixed(2)} s (connects included)`,
    );
    lines.push(
      `fan-out vs reference   question p50 ${ratio(ref.questionRatioP50)}, p99 ${ratio(ref.questionRatioP99)}; reveal p50 ${ratio(ref.revealRatioP50)}, p99 ${ratio(ref.revealRatioP99)} (quizwire ÷ bare ws, same clients, same run)`,
    );
    lines.push(
      `  first and later      question p99: question 1 ÷ broadcast 1 ${ratio(ref.firstQuestionRatioP99)}; questions 2–${o.questions} ÷ broadcasts 2–${ref.rounds} ${ratio(ref.laterQuestionsRatioP99)}`,
    );
  }
  const it = r.integrity;
  lines.push(
    it.error === null
      ? `acknowledged answers lost: ${formatInt(it.lost)}   (${formatInt(it.acknowledged)} acknowledged answers compared with GET /api/v1/sessions/{id}/results${it.pointsDiffer ? `; ${formatInt(it.pointsDiffer)} stored with other points than acknowledged` : "; points as acknowledged"})`
      : `acknowledged answers lost: not checked (${it.error})`,
  );
  const unacked = sum(it.unacknowledged);
  if (unacked > 0) {
    lines.push(
      `answers not acknowledged: ${formatInt(unacked)}   (per question ${it.unacknowledged.join(" / ")}; the errors line says why)`,
    );
  }
  const errs = Object.entries(r.errors).sort((a, b) => b[1] - a[1]);
  lines.push(
    `errors                 ${errs.length === 0 ? "none" : errs.map(([k, v]) => `${k}: ${v}`).join(", ")}`,
  );
  const mi = r.missing;
  if (mi.question + mi.reveal + mi.end > 0) {
    lines.push(
      `missing frames         question ${mi.question}, reveal ${mi.reveal}, end ${mi.end}`,
    );
  }
  if (r.plot) lines.push(`plot                   ${r.plot}`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  if (r.serverLog.length > 0) {
    lines.push(`server log (warn and above), last ${r.serverLog.length} lines:`);
    for (const l of r.serverLog) lines.push(`  ${l.slice(0, 300)}`);
  }
  lines.push("");
  lines.push(`command: ${r.command}${o.seedGiven ? "" : `   (repeat with --seed ${o.seed})`}`);
  return lines.join("\n");
}
