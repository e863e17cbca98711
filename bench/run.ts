/**
 * The load generator: `npm run bench` (see bench/README.md). Not a test: it
 * prints numbers. Starts a quizwire server as its own process (so its CPU and
 * RSS are its own), creates a quiz over REST, hosts a live room with the SDK,
 * forks worker processes that play N players, and prints latency percentiles,
 * message rates and resource use. Everything talks to 127.0.0.1 only, and the
 * whole run is bounded by --timeout-s.
 *
 *   npm run bench -- --players 200
 *   npm run bench -- --micro
 */
import { type ChildProcess, execFileSync, fork, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { SeededRandom } from "../src/domain/seeded-random.js";
import { QuizwireClient } from "../src/sdk/index.js";
import { runLeaderboardBench } from "./leaderboard.js";
import {
  type Counters,
  countingWebSocket,
  epochNow,
  type FromWorker,
  RATE_BUCKET_MS,
  type ToWorker,
  type WorkerResults,
} from "./player-worker.js";
import {
  addCounts,
  formatInt,
  formatMB,
  formatMs,
  formatTable,
  parseProcStatTicks,
  parseVmRssBytes,
  peakWindow,
  type Summary,
  splitEvenly,
  summarize,
  summaryRow,
} from "./stats.js";
import { runStorageBench } from "./storage.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const WORKER_PATH = fileURLToPath(new URL("./player-worker.ts", import.meta.url));
const OPTION_COUNT = 4;
const JOIN_CONCURRENCY = 50;
const REQUEST_TIMEOUT_MS = 30_000;
const RSS_SAMPLE_MS = 250;
const ALLOWED_HOSTS = new Set(["127.0.0.1", "localhost"]);

// ---------------------------------------------------------------- flags

/** Everything a run is told by its flags. */
export interface BenchOptions {
  players: number;
  questions: number;
  workers: number;
  questionMs: number;
  answerSpreadMs: number;
  joinConcurrency: number;
  timeoutS: number;
  url: string | null;
  serverPid: number | null;
  seed: number;
  seedGiven: boolean;
  micro: boolean;
  json: boolean;
  help: boolean;
}

export class UsageError extends Error {
  override name = "UsageError";
}

const USAGE = `npm run bench -- [flags]

  --players N            simulated players (default 1000)
  --questions Q          questions in the generated quiz (default 5)
  --workers W            worker processes (default min(4, ceil(N / 250)))
  --question-ms MS       question time limit, settings.question_time_ms (default 10000)
  --answer-spread-ms MS  each answer waits uniform [200, MS] ms after its question (default 2000)
  --join-concurrency C   joins in flight per worker (default 50)
  --timeout-s S          hard bound for the whole run; on expiry everything is killed (default 180)
  --url ws://127.0.0.1:PORT/ws/v1   use a running server instead of starting one
  --server-pid PID       with --url: the server's pid, to report its CPU and RSS
  --seed S               seed for correct options, answer delays and choices (default: random)
  --micro                run only the leaderboard and storage micro-benches
  --json                 also write the report to .bench/report-<timestamp>.json
  --help                 this text`;

function intFlag(
  name: string,
  raw: string | undefined,
  def: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return def;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max)
    throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** Parses and checks the command line; throws UsageError with a message for a person. */
export function parseFlags(argv: readonly string[], randomSeed: () => number): BenchOptions {
  let values: ReturnType<typeof parse>["values"];
  function parse() {
    return parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        players: { type: "string" },
        questions: { type: "string" },
        workers: { type: "string" },
        "question-ms": { type: "string" },
        "answer-spread-ms": { type: "string" },
        "join-concurrency": { type: "string" },
        "timeout-s": { type: "string" },
        url: { type: "string" },
        "server-pid": { type: "string" },
        seed: { type: "string" },
        micro: { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean" },
      },
    });
  }
  try {
    values = parse().values;
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const players = intFlag("players", values.players, 1000, 1, 99_990);
  const questions = intFlag("questions", values.questions, 5, 1, 200);
  const workers = intFlag("workers", values.workers, Math.min(4, Math.ceil(players / 250)), 1, 64);
  const questionMs = intFlag("question-ms", values["question-ms"], 10_000, 100, 600_000);
  const answerSpreadMs = intFlag(
    "answer-spread-ms",
    values["answer-spread-ms"],
    2_000,
    200,
    600_000,
  );
  const joinConcurrency = intFlag(
    "join-concurrency",
    values["join-concurrency"],
    JOIN_CONCURRENCY,
    1,
    10_000,
  );
  const timeoutS = intFlag("timeout-s", values["timeout-s"], 180, 1, 24 * 3600);
  const seedGiven = values.seed !== undefined;
  const seed = intFlag("seed", values.seed, 0, 0, 2 ** 31 - 1) || (seedGiven ? 0 : randomSeed());
  let url: string | null = null;
  if (values.url !== undefined) url = checkUrl(values.url);
  const serverPid =
    values["server-pid"] === undefined
      ? null
      : intFlag("server-pid", values["server-pid"], 0, 1, 2 ** 22);
  if (serverPid !== null && url === null) throw new UsageError("--server-pid goes with --url");
  if (workers > players)
    throw new UsageError(`--workers (${workers}) cannot exceed --players (${players})`);
  return {
    players,
    questions,
    workers,
    questionMs,
    answerSpreadMs,
    joinConcurrency,
    timeoutS,
    url,
    serverPid,
    seed,
    seedGiven,
    micro: values.micro ?? false,
    json: values.json ?? false,
    help: values.help ?? false,
  };
}

/** The canonical door's URL, refused unless it points at this machine. */
export function checkUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`--url is not a URL: "${raw}"`);
  }
  if (u.protocol !== "ws:") throw new UsageError(`--url must start with ws:// (got ${u.protocol})`);
  if (!ALLOWED_HOSTS.has(u.hostname)) {
    throw new UsageError(`--url must point at 127.0.0.1 or localhost; refusing "${u.hostname}"`);
  }
  return u.toString();
}

// ---------------------------------------------------------------- processes

/** Every child and temp dir this run made, so every way out can clean up. */
const owned = {
  children: new Set<ChildProcess>(),
  tempDirs: new Set<string>(),
};

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Synchronous, for process.on("exit"): SIGKILL whatever is left, remove temp dirs. */
function killEverything(): void {
  for (const child of owned.children) {
    if (alive(child)) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  for (const dir of owned.tempDirs) rmSync(dir, { recursive: true, force: true });
  owned.tempDirs.clear();
}

/** Waits up to `graceMs` for a child to exit (after sending `signal`, if given), then SIGKILLs it. */
async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals | null,
  graceMs: number,
): Promise<void> {
  if (!alive(child)) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
    }, graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    if (signal) child.kill(signal);
  });
}

let phase = "starting";
const t0 = performance.now();
function setPhase(p: string): void {
  phase = p;
  process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${p}\n`);
}

function installExitHandlers(timeoutS: number): void {
  process.on("exit", killEverything);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal} during "${phase}"; stopping everything\n`);
      process.exit(130);
    });
  }
  process.on("uncaughtException", (e) => {
    process.stderr.write(`bench: failed during "${phase}": ${e.stack ?? e.message}\n`);
    process.exit(1);
  });
  process.on("unhandledRejection", (e) => {
    process.stderr.write(
      `bench: failed during "${phase}": ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    process.exit(1);
  });
  setTimeout(() => {
    process.stderr.write(
      `bench: --timeout-s ${timeoutS} expired during "${phase}"; killing everything\n`,
    );
    process.exit(124);
  }, timeoutS * 1000).unref();
}

interface ServerHandle {
  child: ChildProcess | null;
  pid: number | null;
  wsUrl: string;
  httpBase: string;
  /** Server stdout/stderr (warn and above), last lines kept. */
  output: string[];
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => resolve());
  });
  const address = srv.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitHealthy(
  base: string,
  child: ChildProcess | null,
  output: string[],
  timeoutMs: number,
): Promise<void> {
  const until = performance.now() + timeoutMs;
  let last = "";
  while (performance.now() < until) {
    if (child && !alive(child)) {
      throw new Error(
        `server exited (${child.exitCode ?? child.signalCode}) before it was up:\n${output.join("")}`,
      );
    }
    try {
      const res = await fetch(`${base}/health/live`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await sleep(100);
  }
  throw new Error(
    `server at ${base} not healthy within ${timeoutMs} ms (${last}):\n${output.join("")}`,
  );
}

/** `node --import tsx src/main.ts` on a free port, with a temp DATA_DIR; resolves once it answers. */
async function startServer(): Promise<ServerHandle> {
  const dataDir = mkdtempSync(join(tmpdir(), "quizwire-bench-"));
  owned.tempDirs.add(dataDir);
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
      DEMO_CONTENT: "true",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  owned.children.add(child);
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 200) output.shift();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const httpBase = `http://127.0.0.1:${port}`;
  await waitHealthy(httpBase, child, output, 30_000);
  return { child, pid: child.pid ?? null, wsUrl: `ws://127.0.0.1:${port}/ws/v1`, httpBase, output };
}

// ---------------------------------------------------------------- server resources

let clkTck = 100;
function readClockTicks(): void {
  try {
    const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    if (Number.isInteger(n) && n > 0) clkTck = n;
  } catch {
    // getconf missing: Linux's USER_HZ is 100 almost everywhere
  }
}

/** CPU seconds (user + system) the process has used so far; null when unreadable. */
function processCpuS(pid: number): number | null {
  try {
    const ticks = parseProcStatTicks(readFileSync(`/proc/${pid}/stat`, "utf8"));
    return ticks === null ? null : ticks / clkTck;
  } catch {
    return null;
  }
}

function processRss(pid: number): number | null {
  try {
    return parseVmRssBytes(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return null;
  }
}

/** Samples the server's VmRSS every 250 ms; keeps the peak. */
class RssSampler {
  peak = 0;
  last = 0;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly pid: number) {
    this.sample();
    this.timer = setInterval(() => this.sample(), RSS_SAMPLE_MS);
  }

  sample(): number {
    const rss = processRss(this.pid);
    if (rss !== null) {
      this.last = rss;
      if (rss > this.peak) this.peak = rss;
    }
    return this.last;
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}

// ---------------------------------------------------------------- quiz

async function createQuiz(base: string, questions: number, random: SeededRandom): Promise<string> {
  const body = {
    title: `bench ${new Date().toISOString()}`,
    description: "Generated by npm run bench",
    questions: Array.from({ length: questions }, (_, i) => ({
      text: `Bench question ${i + 1}: which option is right?`,
      options: ["Option A", "Option B", "Option C", "Option D"],
      correct: [random.int(OPTION_COUNT)],
    })),
  };
  const headers: Record<string, string> = { "content-type": "application/json" };
  const adminToken = process.env.ADMIN_TOKEN?.trim();
  if (adminToken) headers.authorization = `Bearer ${adminToken}`;
  const res = await fetch(`${base}/api/v1/quizzes`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  if (res.status !== 201 && res.status !== 200) {
    throw new Error(`POST /api/v1/quizzes answered ${res.status}: ${text.slice(0, 500)}`);
  }
  const id = (JSON.parse(text) as { id?: unknown }).id;
  if (typeof id !== "string")
    throw new Error(`POST /api/v1/quizzes gave no id: ${text.slice(0, 500)}`);
  return id;
}

// ---------------------------------------------------------------- workers

interface WorkerHandle {
  index: number;
  child: ChildProcess;
  players: number;
  ready: boolean;
  joined: number;
  failed: number;
  joinStartAt: number;
  joinEndAt: number;
  revealed: Set<number>;
  ended: boolean;
  results: WorkerResults | null;
}

/** Wakes every `waitFor` when a worker or the host reports progress. */
const progress = new EventEmitter();
progress.setMaxListeners(0);
let fatal: Error | null = null;

function tick(): void {
  progress.emit("tick");
}

/** Resolves true once `cond()` holds, false after `timeoutMs`; rejects if a worker failed. */
function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
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

function forkWorker(index: number, players: number): WorkerHandle {
  const child = fork(WORKER_PATH, [], {
    cwd: ROOT,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  owned.children.add(child);
  const w: WorkerHandle = {
    index,
    child,
    players,
    ready: false,
    joined: 0,
    failed: 0,
    joinStartAt: 0,
    joinEndAt: 0,
    revealed: new Set(),
    ended: false,
    results: null,
  };
  child.on("message", (message: unknown) => {
    const m = message as FromWorker;
    switch (m.type) {
      case "ready":
        w.ready = true;
        w.joined = m.joined;
        w.failed = m.failed;
        w.joinStartAt = m.joinStartAt;
        w.joinEndAt = m.joinEndAt;
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
      case "fatal":
        fatal ??= new Error(`worker ${m.workerIndex} failed: ${m.message}`);
        break;
    }
    tick();
  });
  child.on("exit", (code, signal) => {
    if (!stopping && w.results === null) {
      fatal ??= new Error(`worker ${index} exited early (${code ?? signal})`);
    }
    tick();
  });
  return w;
}

function sendTo(w: WorkerHandle, msg: ToWorker): void {
  if (alive(w.child) && w.child.connected) w.child.send(msg);
}

let stopping = false;

// ---------------------------------------------------------------- the run

/** Everything a run measured; also the --json document. */
export interface BenchReport {
  tool: "quizwire bench";
  date: string;
  node: string;
  cpu: string;
  cores: number;
  command: string;
  options: BenchOptions;
  server: { url: string; started: boolean; pid: number | null; sqliteSynchronous: string };
  phases: { serverStartS: number | null; joinS: number; gameS: number };
  players: { requested: number; joined: number; failed: number };
  latency: {
    connect: Summary;
    join: Summary;
    questionFanout: Summary;
    answerAck: Summary;
    revealFanout: Summary;
  };
  /** |estimated server − local clock| per client, ms. */
  clockOffset: Summary;
  messages: {
    gameFrames: number;
    gameBytes: number;
    perSecond: number;
    /** Frames in the busiest 1 s window (ten 100 ms buckets) of the game. */
    peakPerSecond: number;
    totalFrames: number;
    totalBytes: number;
  };
  serverResources: {
    rssIdleBytes: number;
    rssAfterJoinBytes: number;
    rssPeakBytes: number;
    cpuJoinS: number;
    cpuGameS: number;
    coresAvgGame: number;
  } | null;
  generator: {
    workerCpuGameS: number[];
    workerCpuTotalS: number[];
    hostCpuGameS: number;
    loopDelayP99MaxMs: number;
    loopDelayMaxMs: number;
  };
  errors: Record<string, number>;
  missing: { question: number; reveal: number; end: number };
  notes: string[];
  serverLog: string[];
}

function commandLine(argv: readonly string[]): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`);
  const args = argv.map(quote).join(" ");
  if (process.env.npm_lifecycle_event === "bench")
    return `npm run bench${args ? ` -- ${args}` : ""}`;
  return `npx tsx bench/run.ts${args ? ` ${args}` : ""}`;
}

async function runLoad(opts: BenchOptions, argv: readonly string[]): Promise<BenchReport> {
  readClockTicks();
  const notes: string[] = [];
  const random = new SeededRandom(opts.seed);
  if (opts.answerSpreadMs >= opts.questionMs) {
    notes.push(
      `--answer-spread-ms ${opts.answerSpreadMs} ≥ --question-ms ${opts.questionMs}: some answers arrive after the question closed (STATE errors)`,
    );
  }

  let server: ServerHandle;
  let serverStartS: number | null = null;
  if (opts.url) {
    setPhase(`using the server at ${opts.url}`);
    const u = new URL(opts.url);
    const httpBase = `http://${u.host}`;
    await waitHealthy(httpBase, null, [], 5_000);
    server = { child: null, pid: opts.serverPid, wsUrl: opts.url, httpBase, output: [] };
  } else {
    setPhase("starting the server (node --import tsx src/main.ts)");
    const s0 = performance.now();
    server = await startServer();
    serverStartS = (performance.now() - s0) / 1000;
  }
  const pid = server.pid;
  if (pid !== null && processCpuS(pid) === null) {
    throw new UsageError(`cannot read /proc/${pid}/stat: is --server-pid right?`);
  }
  const rss = pid !== null ? new RssSampler(pid) : null;

  setPhase("creating the quiz over REST");
  const quizId = await createQuiz(server.httpBase, opts.questions, random);

  setPhase("connecting the host and creating a live room");
  const hostCounters: Counters = { frames: 0, bytes: 0, lastBytes: 0 };
  const buckets = new Map<number, number>();
  const hostErrors: Record<string, number> = {};
  const hostCount = (k: string) => {
    hostErrors[`host ${k}`] = (hostErrors[`host ${k}`] ?? 0) + 1;
  };
  const host = new QuizwireClient({
    url: server.wsUrl,
    WebSocket: countingWebSocket(hostCounters, buckets),
    reconnect: false,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    now: epochNow,
    onError: () => hostCount("client_error"),
  });
  host.on("error", (d) => hostCount(d.reason ? `${d.code}/${d.reason}` : d.code));
  host.on("disconnected", (d) => {
    if (!stopping) hostCount(`disconnect ${d.code}`);
  });
  const hostReveals = new Set<number>();
  let hostEndAt = 0;
  let hostEndFrames = 0;
  let hostEndBytes = 0;
  host.on("reveal", (d) => {
    hostReveals.add(d.index);
    tick();
  });
  host.on("end", () => {
    hostEndAt = epochNow();
    hostEndFrames = hostCounters.frames;
    hostEndBytes = hostCounters.bytes;
    tick();
  });
  await host.connect();
  const room = await host.createRoom({
    quizId,
    mode: "live",
    settings: { question_time_ms: opts.questionMs, max_participants: opts.players + 10 },
    hostName: "bench host",
  });

  const rssIdle = rss?.sample() ?? 0;
  const cpuBeforeJoin = pid !== null ? (processCpuS(pid) ?? 0) : 0;
  setPhase(
    `forking ${opts.workers} workers; joining ${opts.players} players (${opts.joinConcurrency} at a time per worker)`,
  );
  const shares = splitEvenly(opts.players, opts.workers);
  const workers: WorkerHandle[] = [];
  let first = 0;
  const joinStart = performance.now();
  shares.forEach((players, index) => {
    const w = forkWorker(index, players);
    workers.push(w);
    sendTo(w, {
      type: "init",
      workerIndex: index,
      url: server.wsUrl,
      pin: room.pin,
      firstPlayer: first,
      players,
      seed: opts.seed,
      questionCount: opts.questions,
      optionCount: OPTION_COUNT,
      answerSpreadMs: opts.answerSpreadMs,
      joinConcurrency: opts.joinConcurrency,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      hardTimeoutMs: opts.timeoutS * 1000 + 10_000,
    });
    first += players;
  });
  // The global --timeout-s bounds this wait.
  await waitFor(() => workers.every((w) => w.ready), opts.timeoutS * 1000);
  const readyS = (performance.now() - joinStart) / 1000;
  const joinS =
    (Math.max(...workers.map((w) => w.joinEndAt)) -
      Math.min(...workers.map((w) => w.joinStartAt))) /
    1000;
  const joined = workers.reduce((s, w) => s + w.joined, 0);
  const failed = workers.reduce((s, w) => s + w.failed, 0);
  process.stderr.write(
    `         ${joined} joined, ${failed} failed; joins took ${joinS.toFixed(1)} s, all ready (worker start-up, joins, clock pings) after ${readyS.toFixed(1)} s\n`,
  );
  if (joined === 0) throw new Error("no player could join; nothing to measure");
  const rssAfterJoin = rss?.sample() ?? 0;
  const cpuAfterJoin = pid !== null ? (processCpuS(pid) ?? 0) : 0;

  setPhase(`playing ${opts.questions} questions`);
  const hostCpu0 = process.cpuUsage();
  const hostStartFrames = hostCounters.frames;
  const hostStartBytes = hostCounters.bytes;
  const gameStartAt = epochNow();
  await host.start();
  for (let k = 0; k < opts.questions; k++) {
    const revealed = await waitFor(() => hostReveals.has(k), opts.questionMs + 30_000);
    if (!revealed)
      throw new Error(`the host got no reveal for question ${k} within question-ms + 30 s`);
    const delivered = await waitFor(
      () => workers.every((w) => w.revealed.has(k) || !alive(w.child)),
      10_000,
    );
    if (!delivered) {
      const late = workers.filter((w) => !w.revealed.has(k)).map((w) => w.index);
      notes.push(
        `question ${k}: workers ${late.join(", ")} had not delivered the reveal to every player 10 s after the host's`,
      );
    }
    await host.nextQuestion();
  }
  const allEnded = await waitFor(() => hostEndAt > 0 && workers.every((w) => w.ended), 30_000);
  if (!allEnded) notes.push("not every player received `end` within 30 s of the last next");
  const cpuAfterGame = pid !== null ? (processCpuS(pid) ?? 0) : 0;
  const hostCpu = process.cpuUsage(hostCpu0);

  setPhase("collecting samples");
  for (const w of workers) sendTo(w, { type: "collect" });
  const collected = await waitFor(() => workers.every((w) => w.results !== null), 15_000);
  if (!collected) notes.push("some workers sent no results within 15 s; their samples are missing");
  rss?.stop();

  setPhase("stopping");
  stopping = true;
  host.close();
  for (const w of workers) sendTo(w, { type: "close" });
  // Workers close their sockets and exit by themselves.
  await Promise.all(workers.map((w) => stopChild(w.child, null, 3_000)));
  const serverLog = server.output
    .join("")
    .split("\n")
    .filter((l) => l.trim() !== "");
  if (server.child) await stopChild(server.child, "SIGTERM", 5_000);
  killEverything();

  const results = workers.flatMap((w) => (w.results ? [w.results] : []));
  const lastEndAt = Math.max(hostEndAt, ...results.map((r) => r.lastEndAt));
  const gameS = (lastEndAt - gameStartAt) / 1000;
  const errors: Record<string, number> = { ...hostErrors };
  const missing = { question: 0, reveal: 0, end: 0 };
  let gameFrames = hostEndFrames > 0 ? hostEndFrames - hostStartFrames : 0;
  let gameBytes = hostEndBytes > 0 ? hostEndBytes - hostStartBytes : 0;
  let totalFrames = hostCounters.frames;
  let totalBytes = hostCounters.bytes;
  for (const r of results) {
    addCounts(errors, r.errors);
    missing.question += r.missing.question;
    missing.reveal += r.missing.reveal;
    missing.end += r.missing.end;
    gameFrames += r.gameFrames;
    gameBytes += r.gameBytes;
    totalFrames += r.totalFrames;
    totalBytes += r.totalBytes;
    for (const [k, v] of r.rateBuckets) buckets.set(k, (buckets.get(k) ?? 0) + v);
  }
  const peakPerSecond = peakWindow(
    buckets,
    Math.floor(gameStartAt / RATE_BUCKET_MS),
    Math.floor(lastEndAt / RATE_BUCKET_MS),
    1000 / RATE_BUCKET_MS,
  );
  const all = (pick: (r: WorkerResults) => number[]) => summarize(results.flatMap(pick));
  const cpuModel = cpus()[0]?.model.trim() ?? "unknown CPU";

  return {
    tool: "quizwire bench",
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpuModel,
    cores: cpus().length,
    command: commandLine(argv),
    options: opts,
    server: {
      url: server.wsUrl,
      started: server.child !== null,
      pid,
      sqliteSynchronous: server.child ? (process.env.SQLITE_SYNCHRONOUS ?? "FULL") : "unknown",
    },
    phases: { serverStartS, joinS, gameS },
    players: { requested: opts.players, joined, failed },
    latency: {
      connect: all((r) => r.connectMs),
      join: all((r) => r.joinMs),
      questionFanout: all((r) => r.questionFanoutMs),
      answerAck: all((r) => r.answerAckMs),
      revealFanout: all((r) => r.revealFanoutMs),
    },
    clockOffset: all((r) => r.offsetMs.map(Math.abs)),
    messages: {
      gameFrames,
      gameBytes,
      perSecond: gameS > 0 ? gameFrames / gameS : Number.NaN,
      peakPerSecond,
      totalFrames,
      totalBytes,
    },
    serverResources:
      pid !== null && rss
        ? {
            rssIdleBytes: rssIdle,
            rssAfterJoinBytes: rssAfterJoin,
            rssPeakBytes: rss.peak,
            cpuJoinS: cpuAfterJoin - cpuBeforeJoin,
            cpuGameS: cpuAfterGame - cpuAfterJoin,
            coresAvgGame: gameS > 0 ? (cpuAfterGame - cpuAfterJoin) / gameS : Number.NaN,
          }
        : null,
    generator: {
      workerCpuGameS: results.map((r) => r.cpuGameS),
      workerCpuTotalS: results.map((r) => r.cpuTotalS),
      hostCpuGameS: (hostCpu.user + hostCpu.system) / 1e6,
      loopDelayP99MaxMs: Math.max(0, ...results.map((r) => r.loopDelayP99Ms)),
      loopDelayMaxMs: Math.max(0, ...results.map((r) => r.loopDelayMaxMs)),
    },
    errors,
    missing,
    notes,
    serverLog: serverLog.slice(-20),
  };
}

// ---------------------------------------------------------------- output

const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);

/** The report as a person reads it. */
export function formatReport(r: BenchReport): string {
  const o = r.options;
  const lines: string[] = [];
  lines.push(
    `quizwire bench — ${formatInt(o.players)} players, ${o.questions} questions, ${o.workers} workers, node ${r.node}, ${r.date}`,
  );
  lines.push(
    `${r.cpu} × ${r.cores}; server ${r.server.started ? `started here (pid ${r.server.pid}, SQLITE_SYNCHRONOUS=${r.server.sqliteSynchronous})` : `at ${r.server.url}`}; question-ms ${o.questionMs}, answer-spread-ms ${o.answerSpreadMs}, seed ${o.seed}`,
  );
  lines.push("");
  const L = r.latency;
  lines.push(
    formatTable([
      ["metric", "count", "p50", "p95", "p99", "max", "(ms)"],
      summaryRow("connect (→ welcome)", L.connect),
      summaryRow("join (→ joined)", L.join),
      summaryRow("question fan-out", L.questionFanout),
      summaryRow("answer → ack", L.answerAck),
      summaryRow("reveal fan-out", L.revealFanout),
    ]),
  );
  lines.push("");
  const m = r.messages;
  lines.push(
    `messages delivered/s   ${formatInt(m.perSecond)} avg, ${formatInt(m.peakPerSecond)} in the busiest second   (game: ${formatInt(m.gameFrames)} frames, ${formatMB(m.gameBytes)} MB in ${r.phases.gameS.toFixed(2)} s; whole run: ${formatInt(m.totalFrames)} frames, ${formatMB(m.totalBytes)} MB)`,
  );
  lines.push(
    `joins                  ${formatInt(r.players.joined)} of ${formatInt(r.players.requested)} in ${r.phases.joinS.toFixed(2)} s (${formatInt(r.players.joined / r.phases.joinS)}/s; connect + join, ${Math.min(o.players, o.joinConcurrency * o.workers)} in flight)${r.players.failed ? `; ${r.players.failed} failed` : ""}`,
  );
  const s = r.serverResources;
  if (s) {
    lines.push(
      `server RSS             idle ${formatMB(s.rssIdleBytes)} MB, after joins ${formatMB(s.rssAfterJoinBytes)} MB, peak ${formatMB(s.rssPeakBytes)} MB`,
    );
    lines.push(
      `server CPU             game ${s.cpuGameS.toFixed(2)} s (${s.coresAvgGame.toFixed(2)} cores avg); joins ${s.cpuJoinS.toFixed(2)} s`,
    );
  } else {
    lines.push("server RSS / CPU       not measured (--url without --server-pid)");
  }
  const g = r.generator;
  lines.push(
    `workers CPU            game ${sum(g.workerCpuGameS).toFixed(2)} s (${r.phases.gameS > 0 ? (sum(g.workerCpuGameS) / r.phases.gameS).toFixed(2) : "—"} cores avg; per worker ${g.workerCpuGameS.map((x) => x.toFixed(2)).join(" / ")}); whole run ${sum(g.workerCpuTotalS).toFixed(2)} s; host ${g.hostCpuGameS.toFixed(2)} s`,
  );
  lines.push(
    `workers event loop     delay during the game: p99 ≤ ${formatMs(g.loopDelayP99MaxMs)} ms, max ${formatMs(g.loopDelayMaxMs)} ms`,
  );
  lines.push(
    `clock offset |est.|    p50 ${formatMs(r.clockOffset.p50)} ms, max ${formatMs(r.clockOffset.max)} ms (applied to both fan-outs)`,
  );
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
  for (const n of r.notes) lines.push(`note: ${n}`);
  if (r.serverLog.length > 0) {
    lines.push(`server log (warn and above), last ${r.serverLog.length} lines:`);
    for (const l of r.serverLog) lines.push(`  ${l.slice(0, 300)}`);
  }
  lines.push("");
  lines.push(`command: ${r.command}${o.seedGiven ? "" : `   (repeat with --seed ${o.seed})`}`);
  return lines.join("\n");
}

async function runMicro(): Promise<{ text: string; leaderboard: unknown; storage: unknown }> {
  setPhase("leaderboard micro-bench");
  const lb = runLeaderboardBench();
  setPhase("storage micro-bench");
  const st = await runStorageBench();
  const ops = (x: number) => formatInt(x);
  const text = [
    `quizwire micro-benches — node ${process.version}, ${new Date().toISOString()}`,
    "",
    "leaderboard (order-statistic tree), operations per second",
    formatTable([
      ["n", "height", "set/s", "rank/s", "top10/s", "top100/s"],
      ...lb.map((r) => [
        formatInt(r.n),
        String(r.height),
        ops(r.setOpsPerSec),
        ops(r.rankOpsPerSec),
        ops(r.top10OpsPerSec),
        ops(r.top100OpsPerSec),
      ]),
    ]),
    "",
    `SQLite answer writes (one SessionStore.write per batch, temp dir ${tmpdir()})`,
    formatTable([
      ["sync", "batch", "calls", "ms/write", "answers/s"],
      ...st.map((r) => [
        r.synchronous,
        formatInt(r.batchSize),
        formatInt(r.calls),
        r.msPerWrite.toFixed(3),
        ops(r.answersPerSec),
      ]),
    ]),
  ].join("\n");
  return { text, leaderboard: lb, storage: st };
}

function writeJson(report: unknown): string {
  const dir = join(ROOT, ".bench");
  mkdirSync(dir, { recursive: true });
  const file = join(
    dir,
    `report-${new Date()
      .toISOString()
      .replaceAll(":", "-")
      .replace(/\.\d+Z$/, "Z")}.json`,
  );
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let opts: BenchOptions;
  try {
    opts = parseFlags(argv, () => 1 + Math.floor(Math.random() * (2 ** 31 - 2)));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`bench: ${e.message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    throw e;
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  installExitHandlers(opts.timeoutS);
  if (opts.micro) {
    const micro = await runMicro();
    const command = commandLine(argv);
    process.stdout.write(`\n${micro.text}\n\ncommand: ${command}\n`);
    if (opts.json) {
      const { leaderboard, storage } = micro;
      const file = writeJson({
        tool: "quizwire micro-bench",
        date: new Date().toISOString(),
        node: process.version,
        command,
        leaderboard,
        storage,
      });
      process.stdout.write(`json: ${file}\n`);
    }
    process.exit(0);
  }
  const report = await runLoad(opts, argv);
  process.stdout.write(`\n${formatReport(report)}\n`);
  if (opts.json) process.stdout.write(`json: ${writeJson(report)}\n`);
  process.exit(0);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(
      `bench: failed during "${phase}": ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    process.exit(1);
  });
}
