/**
 * The load generator: `npm run bench` (see bench/README.md). Not a test: it
 * prints numbers. Starts a quizwire server as its own process (so its CPU and
 * RSS are its own) — or, with --cluster N, N of them sharing one Postgres and
 * one Redis behind a round-robin balancer — creates a quiz over REST, hosts a
 * live room with the SDK, forks worker processes that play N players, and
 * prints latency percentiles, message rates and resource use; with
 * --kill-owner-at it SIGKILLs the session's owner mid-question and measures the
 * failover. Everything talks to 127.0.0.1 only, and the whole run is bounded by
 * --timeout-s.
 *
 *   npm run bench -- --players 200
 *   npm run bench -- --cluster 2 --players 500 --kill-owner-at 2
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
import { WAL_AUTOCHECKPOINT_PAGES } from "../src/adapters/sqlite/sqlite-storage.js";
import { SeededRandom } from "../src/domain/seeded-random.js";
import { QuizwireClient, QuizwireError } from "../src/sdk/index.js";
import {
  checkPostgres,
  checkRedis,
  countKeys,
  deleteKeys,
  describeUrl,
  type FromBalancer,
  freshSchema,
  type RunSchema,
  randomKeyPrefix,
  sessionsOwned,
  type ToBalancer,
} from "./cluster.js";
import { runLeaderboardBench } from "./leaderboard.js";
import {
  type AnswerRecord,
  type Counters,
  countingWebSocket,
  epochNow,
  type FromWorker,
  newCounters,
  RATE_BUCKET_MS,
  revealsPassed,
  type ToWorker,
  type WorkerResults,
} from "./player-worker.js";
import { formatRevealRows, runRevealBench } from "./reveal.js";
import {
  addCounts,
  checkAcknowledged,
  firstAtOrAfter,
  formatInt,
  formatMB,
  formatMs,
  formatTable,
  parseProcStatTicks,
  parseVmRssBytes,
  peakWindow,
  type StoredPlayer,
  type Summary,
  splitEvenly,
  summarize,
  summaryRow,
} from "./stats.js";
import {
  formatCommitTailRows,
  formatPostgresRows,
  formatStandingsRows,
  formatStorageRows,
  runCommitTailBench,
  runPostgresStorageBench,
  runStandingsBench,
  runStorageBench,
} from "./storage.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const WORKER_PATH = fileURLToPath(new URL("./player-worker.ts", import.meta.url));
const BALANCER_PATH = fileURLToPath(new URL("./cluster.ts", import.meta.url));
const OPTION_COUNT = 4;
const JOIN_CONCURRENCY = 50;
const REQUEST_TIMEOUT_MS = 30_000;
const RSS_SAMPLE_MS = 250;
const ALLOWED_HOSTS = new Set(["127.0.0.1", "localhost"]);
const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";
const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
const MAX_INSTANCES = 16;
/** How long removing the run's schema and keys may take on the way out. */
const CLEANUP_BOUND_MS = 15_000;

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
  /** Instances of the cluster; null = one server with its own SQLite database, as before. */
  cluster: number | null;
  /** 1-based question at which the session's owner is SIGKILLed; null = never. */
  killOwnerAt: number | null;
  /** With --cluster: the Postgres database the run's own schema goes in. */
  databaseUrl: string;
  /** With --cluster: the Redis server the run's own key prefix goes in. */
  redisUrl: string;
  seed: number;
  seedGiven: boolean;
  micro: boolean;
  json: boolean;
  help: boolean;
  /** Players on the SDK client (the old generator) instead of raw sockets; always so with --cluster. */
  sdk: boolean;
  /** Raw runs: also measure a bare `ws` broadcast server with the same clients (bench/reference-server.ts). */
  reference: boolean;
  /** Raw runs: write an SVG of the distributions here. */
  plot: string | null;
  /** Raw runs: what the players do. */
  scenario: Scenario;
  /** seed001 scenarios: sessions (learners are split evenly over them). */
  sessions: number;
  /** seed001 scenarios: answers each learner sends per minute. */
  answersPerMin: number;
  /** Node flags for the servers the bench starts itself (`--cpu-prof …`: profile the instances). */
  serverNodeArgs: string[];
  /** Raw live runs: how long the host waits after the last join before starting the game. */
  startAfterMs: number;
  /** Raw runs: the nice value of the player workers' threads (0: as started). */
  generatorNice: number;
  /** Raw live runs: players of a warm-up game played on each server before the measured one (0: none). */
  warmupPlayers: number;
}

/** What raw players do: a live game on /ws/v1, or seed 001 learners on /ws. */
export type Scenario = "live" | "seed001" | "seed001-many" | "quick-fire";
const SCENARIOS: readonly Scenario[] = ["live", "seed001", "seed001-many", "quick-fire"];

export class UsageError extends Error {
  override name = "UsageError";
}

const USAGE = `npm run bench -- [flags]

  --players N            simulated players (default 1000)
  --questions Q          questions in the generated quiz (default 5)
  --workers W            worker processes (default: raw ceil(N / 10000); --sdk min(4, ceil(N / 250)))
  --scenario S           what the raw players do: live (default: one live game on /ws/v1),
                         seed001 (one self-paced session on /ws), seed001-many (--sessions of them),
                         quick-fire (seed-004 contests of 6 on /ws/contests/…)
  --sessions S           seed001: sessions (default 1; seed001-many 100)
  --answers-per-min R    seed001: answers per learner per minute (default 10)
  --reference            raw: also time a bare ws broadcast server with the same clients, as a ratio
  --plot FILE            raw: write an SVG of the latency CDFs and per-question receipt times
  --sdk                  players on the SDK client instead of raw sockets (always so with --kill-owner-at)
  --question-ms MS       question time limit, settings.question_time_ms (default 10000)
  --answer-spread-ms MS  each answer waits uniform [200, MS] ms after its question (default 2000)
  --join-concurrency C   joins in flight per worker (default 50)
  --timeout-s S          hard bound for the whole run; on expiry everything is killed (default 180)
  --start-after-ms MS    raw live: wait MS after the last join before the host starts (default 0:
                         at once, while the server may still be busy with the join storm)
  --generator-nice N     raw: the player workers run at nice N (0–19, default 0), so that on a
                         machine they share with the server they do not take its core when it
                         wakes them (the reference server, forked by the bench, stays at 0)
  --warmup-players N     raw live: first play a 5-question game of N SDK players on each server
                         (default 0: none), so the measured game runs on warm code, as on a
                         server that has played before
  --server-node-args="A B"  node flags for each server the bench starts (with "=": the value
                         starts with -), e.g. --server-node-args="--cpu-prof --cpu-prof-dir=.bench/prof"
  --url ws://127.0.0.1:PORT/ws/v1   use a running server instead of starting one
  --server-pid PID       with --url: the server's pid, to report its CPU and RSS
  --cluster N            start N instances sharing Postgres and Redis behind a round-robin balancer
  --kill-owner-at Q      with --cluster ≥ 2: SIGKILL the session's owner at question Q (1-based,
                         below --questions) once about half the players answered; measure the failover
  --database-url URL     with --cluster: Postgres on this machine (default ${DEFAULT_DATABASE_URL})
  --redis-url URL        with --cluster: Redis on this machine (default ${DEFAULT_REDIS_URL})
  --seed S               seed for correct options, answer delays and choices (default: random)
  --micro                run only the leaderboard, storage and reveal micro-benches
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
        cluster: { type: "string" },
        "kill-owner-at": { type: "string" },
        "database-url": { type: "string" },
        "redis-url": { type: "string" },
        seed: { type: "string" },
        micro: { type: "boolean" },
        json: { type: "boolean" },
        sdk: { type: "boolean" },
        reference: { type: "boolean" },
        plot: { type: "string" },
        scenario: { type: "string" },
        sessions: { type: "string" },
        "answers-per-min": { type: "string" },
        "server-node-args": { type: "string" },
        "start-after-ms": { type: "string" },
        "warmup-players": { type: "string" },
        "generator-nice": { type: "string" },
        help: { type: "boolean" },
      },
    });
  }
  try {
    values = parse().values;
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const scenarioRaw = values.scenario ?? "live";
  const scenario = SCENARIOS.find((x) => x === scenarioRaw);
  if (scenario === undefined) {
    throw new UsageError(`--scenario must be one of ${SCENARIOS.join(", ")}, got "${scenarioRaw}"`);
  }
  const sessions = intFlag(
    "sessions",
    values.sessions,
    scenario === "seed001-many" ? 100 : 1,
    1,
    10_000,
  );
  const answersPerMin = intFlag("answers-per-min", values["answers-per-min"], 10, 1, 600);
  const players = intFlag(
    "players",
    values.players,
    scenario === "seed001-many" ? sessions * 100 : 1000,
    1,
    99_990,
  );
  const questions = intFlag("questions", values.questions, 5, 1, 200);
  // Failover needs the SDK's reconnect and resume; a plain cluster run plays raw players.
  const sdk = (values.sdk ?? false) || values["kill-owner-at"] !== undefined;
  const workers = intFlag(
    "workers",
    values.workers,
    sdk ? Math.min(4, Math.ceil(players / 250)) : Math.ceil(players / 10_000),
    1,
    64,
  );
  if (scenario !== "live" && values.reference) {
    throw new UsageError("--reference goes with --scenario live");
  }
  if (sdk && (values.reference || values.plot !== undefined || values.scenario !== undefined)) {
    throw new UsageError(
      "--reference, --plot and --scenario go with raw players (not --sdk or --kill-owner-at)",
    );
  }
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
  const cluster =
    values.cluster === undefined ? null : intFlag("cluster", values.cluster, 0, 1, MAX_INSTANCES);
  if (cluster !== null && url !== null)
    throw new UsageError("--cluster starts its own instances; it does not go with --url");
  const killOwnerAt =
    values["kill-owner-at"] === undefined
      ? null
      : intFlag("kill-owner-at", values["kill-owner-at"], 0, 1, 200);
  if (killOwnerAt !== null) {
    if (cluster === null || cluster < 2)
      throw new UsageError("--kill-owner-at needs --cluster 2 or more (someone must take over)");
    if (killOwnerAt >= questions)
      throw new UsageError(
        `--kill-owner-at must be below --questions (${questions}), so that a question follows the kill`,
      );
  }
  const serverNodeArgs = (values["server-node-args"] ?? "").split(/\s+/).filter((a) => a !== "");
  if (serverNodeArgs.some((a) => !a.startsWith("-")))
    throw new UsageError(
      `--server-node-args takes node flags (each starting with -), got "${values["server-node-args"]}"`,
    );
  if (serverNodeArgs.length > 0 && url !== null)
    throw new UsageError("--server-node-args is for servers the bench starts; not with --url");
  const startAfterMs = intFlag("start-after-ms", values["start-after-ms"], 0, 0, 600_000);
  const generatorNice = intFlag("generator-nice", values["generator-nice"], 0, 0, 19);
  const warmupPlayers = intFlag("warmup-players", values["warmup-players"], 0, 0, 5_000);
  if (warmupPlayers > 0 && (sdk || scenario !== "live"))
    throw new UsageError("--warmup-players goes with raw players in the live scenario");
  if (generatorNice > 0 && sdk)
    throw new UsageError("--generator-nice goes with raw players (not --sdk or --kill-owner-at)");
  if (startAfterMs > 0 && (sdk || scenario !== "live"))
    throw new UsageError("--start-after-ms goes with raw players in the live scenario");
  if (startAfterMs >= timeoutS * 1000)
    throw new UsageError(`--start-after-ms must be well below --timeout-s (${timeoutS} s)`);
  if (values["database-url"] !== undefined && cluster === null && !values.micro)
    throw new UsageError("--database-url goes with --cluster or --micro");
  if (values["redis-url"] !== undefined && cluster === null)
    throw new UsageError("--redis-url goes with --cluster");
  const databaseUrl = checkServiceUrl(
    "database-url",
    values["database-url"] ?? DEFAULT_DATABASE_URL,
    ["postgres:", "postgresql:"],
  );
  const redisUrl = checkServiceUrl("redis-url", values["redis-url"] ?? DEFAULT_REDIS_URL, [
    "redis:",
  ]);
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
    cluster,
    killOwnerAt,
    databaseUrl,
    redisUrl,
    serverNodeArgs,
    startAfterMs,
    generatorNice,
    warmupPlayers,
    seed,
    seedGiven,
    micro: values.micro ?? false,
    json: values.json ?? false,
    help: values.help ?? false,
    sdk,
    reference: values.reference ?? false,
    plot: values.plot ?? null,
    scenario,
    sessions,
    answersPerMin,
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

/** A Postgres or Redis URL, refused unless it points at this machine. */
export function checkServiceUrl(flag: string, raw: string, protocols: readonly string[]): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`--${flag} is not a URL: "${raw}"`);
  }
  if (!protocols.includes(u.protocol))
    throw new UsageError(
      `--${flag} must start with ${protocols.join(" or ")}// (got ${u.protocol})`,
    );
  if (!ALLOWED_HOSTS.has(u.hostname)) {
    throw new UsageError(
      `--${flag} must point at 127.0.0.1 or localhost; refusing "${u.hostname}"`,
    );
  }
  return u.toString();
}

// ---------------------------------------------------------------- processes

/**
 * Everything this run made, so every way out can clean up: child processes and temp dirs
 * (removed synchronously), and the cluster's Postgres schema and Redis keys (removed by
 * `cleanups`, which need the network and so run before the process exits, never in an exit hook).
 */
export const owned = {
  children: new Set<ChildProcess>(),
  tempDirs: new Set<string>(),
  /** What is left to remove → how; each deletes itself once done. */
  cleanups: new Map<string, () => Promise<void>>(),
};

export function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Synchronous, for process.on("exit"): SIGKILL whatever is left, remove temp dirs. */
export function killEverything(): void {
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
export async function stopChild(
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

/** Runs every pending cleanup (each bounded by what is left of `boundMs`); says what failed. */
async function runCleanups(boundMs: number): Promise<void> {
  const until = performance.now() + boundMs;
  for (const [what, clean] of [...owned.cleanups]) {
    const left = Math.max(1_000, until - performance.now());
    try {
      await Promise.race([
        clean(),
        sleep(left).then(() => {
          throw new Error(`no answer within ${Math.round(left)} ms`);
        }),
      ]);
      owned.cleanups.delete(what);
    } catch (e) {
      process.stderr.write(
        `bench: could not remove ${what}: ${e instanceof Error ? e.message : String(e)}\n`,
      );
    }
  }
}

let exiting = false;

/**
 * Every way out goes through here: children are SIGKILLed and awaited (so no instance writes to
 * the schema or the keys any more), then the schema and keys are removed, then the process exits.
 */
export async function shutdown(code: number): Promise<void> {
  if (exiting) return;
  exiting = true;
  const children = [...owned.children].filter(alive);
  killEverything();
  await Promise.all(children.map((c) => stopChild(c, null, 3_000)));
  await runCleanups(CLEANUP_BOUND_MS);
  process.exit(code);
}

let phase = "starting";
const t0 = performance.now();
export function setPhase(p: string): void {
  phase = p;
  process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${p}\n`);
}

/**
 * Flushes the machine's pending disk work (`sync`) before a run, and says how long it took. On
 * this project's test machine (ext4 mounted with `discard` on a virtual disk), deleting files
 * holds up the next journal commits: an `fdatasync` probe saw a 2.4 s sync right after 300 MB
 * were deleted, and a run that starts while the previous run's database (deleted at its end) is
 * still being discarded has its commits, and so its acknowledgements, wait for it (one commit of
 * 1-2.5 s put a 1,000-player game's answer → ack p99 at 1,004 ms). The server's own durability is
 * not the bench's to measure away: anything the disk does during the run still counts.
 */
function settleDisk(): void {
  const start = performance.now();
  try {
    execFileSync("sync", { timeout: 120_000, stdio: "ignore" });
    setPhase(
      `disk: pending writes flushed before the run (sync, ${Math.round(performance.now() - start)} ms)`,
    );
  } catch (e) {
    setPhase(`disk: sync failed (${e instanceof Error ? e.message : String(e)}); running anyway`);
  }
}

export function installExitHandlers(timeoutS: number): void {
  process.on("exit", () => {
    killEverything();
    // Only reached with cleanups pending when they failed or a second signal cut them short.
    for (const what of owned.cleanups.keys()) {
      process.stderr.write(`bench: left behind: ${what}\n`);
    }
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (exiting) {
        process.stderr.write(`\nbench: ${signal} again; exiting without finishing the cleanup\n`);
        process.exit(130);
      }
      process.stderr.write(`\nbench: ${signal} during "${phase}"; stopping everything\n`);
      void shutdown(130);
    });
  }
  process.on("uncaughtException", (e) => {
    if (exiting) return;
    process.stderr.write(`bench: failed during "${phase}": ${e.stack ?? e.message}\n`);
    void shutdown(1);
  });
  process.on("unhandledRejection", (e) => {
    if (exiting) return;
    process.stderr.write(
      `bench: failed during "${phase}": ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    void shutdown(1);
  });
  setTimeout(() => {
    process.stderr.write(
      `bench: --timeout-s ${timeoutS} expired during "${phase}"; killing everything\n`,
    );
    void shutdown(124);
  }, timeoutS * 1000).unref();
}

export interface ServerHandle {
  /** 1-based instance number (1 for the single server). */
  index: number;
  child: ChildProcess | null;
  pid: number | null;
  port: number;
  wsUrl: string;
  httpBase: string;
  /** Server stdout/stderr (warn and above), last lines kept. */
  output: string[];
  /** CPU and RSS, sampled every 250 ms while it lives; null when its pid is unknown. */
  sampler: ProcSampler | null;
  /** Set just before this run SIGKILLs it on purpose. */
  killedAt: number;
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

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function waitHealthy(
  base: string,
  child: ChildProcess | null,
  output: string[],
  timeoutMs: number,
  path = "/health/live",
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
      const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
      last = `HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await sleep(100);
  }
  throw new Error(
    `server at ${base} not healthy within ${timeoutMs} ms (${last}):\n${output.join("")}`,
  );
}

/** `--server-node-args`: node flags for every server `startServer` spawns in this run. */
let serverNodeArgs: readonly string[] = [];

/**
 * `node --import tsx src/main.ts` on a free port, with a temp DATA_DIR and `env` on top of the
 * bench's environment; resolves once it answers `readyPath`.
 */

export async function startServer(
  index: number,
  env: Record<string, string>,
  readyPath: string,
): Promise<ServerHandle> {
  const dataDir = mkdtempSync(join(tmpdir(), "quizwire-bench-"));
  owned.tempDirs.add(dataDir);
  const port = await freePort();
  const child = spawn(process.execPath, [...serverNodeArgs, "--import", "tsx", "src/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
      DEMO_CONTENT: "true",
      ...env,
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
  await waitHealthy(httpBase, child, output, 30_000, readyPath);
  const pid = child.pid ?? null;
  return {
    index,
    child,
    pid,
    port,
    wsUrl: `ws://127.0.0.1:${port}/ws/v1`,
    httpBase,
    output,
    sampler: pid !== null ? new ProcSampler(pid) : null,
    killedAt: 0,
  };
}

// ---------------------------------------------------------------- server resources

let clkTck = 100;
export function readClockTicks(): void {
  try {
    const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    if (Number.isInteger(n) && n > 0) clkTck = n;
  } catch {
    // getconf missing: Linux's USER_HZ is 100 almost everywhere
  }
}

/** CPU seconds (user + system) the process has used so far; null when unreadable. */
export function processCpuS(pid: number): number | null {
  return cpuSecondsOf(`/proc/${pid}/stat`);
}

/**
 * CPU seconds the process's main thread (its thread id is the process id) has used so far; null
 * when unreadable. For a Node server it is the event loop's thread: its share of the process's CPU
 * says whether the loop is what saturates, while the SQLite thread and V8's collector threads
 * share the rest.
 */
export function mainThreadCpuS(pid: number): number | null {
  return cpuSecondsOf(`/proc/${pid}/task/${pid}/stat`);
}

function cpuSecondsOf(statPath: string): number | null {
  try {
    const ticks = parseProcStatTicks(readFileSync(statPath, "utf8"));
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

/**
 * Samples a process's VmRSS and CPU every 250 ms; keeps the peak RSS and the latest values, so a
 * process that was killed still reports what it had used until then.
 */
export class ProcSampler {
  peak = 0;
  last = 0;
  cpuS = 0;
  /** The main thread's part of `cpuS`, read at the same sample. */
  mainCpuS = 0;
  private timer: ReturnType<typeof setInterval> | null;

  constructor(readonly pid: number) {
    this.sample();
    this.timer = setInterval(() => this.sample(), RSS_SAMPLE_MS);
  }

  /** Samples now; returns the latest RSS. */
  sample(): number {
    const rss = processRss(this.pid);
    if (rss !== null) {
      this.last = rss;
      if (rss > this.peak) this.peak = rss;
    }
    const cpu = processCpuS(this.pid);
    if (cpu !== null) this.cpuS = cpu;
    const main = mainThreadCpuS(this.pid);
    if (main !== null) this.mainCpuS = main;
    return this.last;
  }

  /** Samples now; returns the CPU seconds used so far (`mainCpuS` then holds the main thread's). */
  cpu(): number {
    this.sample();
    return this.cpuS;
  }

  stop(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    this.sample();
  }
}

// ---------------------------------------------------------------- quiz

export async function createQuiz(
  base: string,
  questions: number,
  random: SeededRandom,
): Promise<string> {
  const body = {
    title: `bench ${new Date().toISOString()}`,
    description: "Generated by npm run bench",
    questions: Array.from({ length: questions }, (_, i) => ({
      text: `Bench question ${i + 1}: which option is right?`,
      options: ["Option A", "Option B", "Option C", "Option D"],
      correct: [random.int(OPTION_COUNT)],
    })),
  };
  const res = await fetch(`${base}/api/v1/quizzes`, {
    method: "POST",
    headers: { "content-type": "application/json", ...adminHeaders() },
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

function adminHeaders(): Record<string, string> {
  const adminToken = process.env.ADMIN_TOKEN?.trim();
  return adminToken ? { authorization: `Bearer ${adminToken}` } : {};
}

/** GET /api/v1/sessions/{id}/results: every player's stored answers. */
export async function fetchResults(base: string, roomId: string): Promise<StoredPlayer[]> {
  const res = await fetch(`${base}/api/v1/sessions/${encodeURIComponent(roomId)}/results`, {
    headers: adminHeaders(),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET …/results answered ${res.status}: ${text.slice(0, 300)}`);
  const players = (JSON.parse(text) as { players?: unknown }).players;
  if (!Array.isArray(players))
    throw new Error(`GET …/results has no players: ${text.slice(0, 300)}`);
  return players as StoredPlayer[];
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
  /** Joined players per instance port at the end of the joins. */
  backends: [number, number][];
  half: Set<number>;
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
    backends: [],
    half: new Set(),
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
        w.backends = m.backends;
        break;
      case "half":
        w.half.add(m.index);
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

// ---------------------------------------------------------------- the balancer

interface BalancerHandle {
  child: ChildProcess;
  port: number;
  sampler: ProcSampler | null;
  /** Connections relayed and refused per backend port, as the balancer counts them. */
  stats(): Promise<{ accepted: Map<number, number>; refused: Map<number, number> } | null>;
}

/**
 * Starts `opts.cluster` instances sharing one fresh Postgres schema and one Redis key prefix
 * (both removed when the run ends, whichever way it ends), one at a time: the first creates
 * the schema, the tables and the installation's token secret before the others start.
 */
export async function startClusterInstances(
  opts: Pick<BenchOptions, "cluster" | "databaseUrl" | "redisUrl">,
  onStarted: (instance: ServerHandle, index: number) => void = () => {},
): Promise<{ instances: ServerHandle[]; schema: RunSchema; keyPrefix: string }> {
  const count = opts.cluster ?? 1;
  setPhase(
    `checking Postgres (${describeUrl(opts.databaseUrl)}) and Redis (${describeUrl(opts.redisUrl)})`,
  );
  await checkPostgres(opts.databaseUrl);
  await checkRedis(opts.redisUrl);
  const s = await freshSchema(opts.databaseUrl, Date.now());
  owned.cleanups.set(`Postgres schema ${s.name} in ${describeUrl(opts.databaseUrl)}`, () =>
    s.drop(),
  );
  const prefix = randomKeyPrefix();
  owned.cleanups.set(`Redis keys ${prefix}* in ${describeUrl(opts.redisUrl)}`, async () => {
    await deleteKeys(opts.redisUrl, prefix);
  });
  const instances: ServerHandle[] = [];
  for (let i = 1; i <= count; i++) {
    setPhase(
      `starting instance ${i} of ${count} (node --import tsx src/main.ts; schema ${s.name}, Redis prefix ${prefix})`,
    );
    const instance = await startServer(
      i,
      {
        DATABASE_URL: s.url,
        REDIS_URL: opts.redisUrl,
        REDIS_KEY_PREFIX: prefix,
        DEMO_CONTENT: "false",
      },
      "/health/ready",
    );
    onStarted(instance, i);
    instances.push(instance);
  }
  return { instances, schema: s, keyPrefix: prefix };
}

/** Forks bench/cluster.ts as the round-robin balancer in front of `backends`. */
async function startBalancer(backends: number[]): Promise<BalancerHandle> {
  const child = fork(BALANCER_PATH, [], {
    cwd: ROOT,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  owned.children.add(child);
  const messages = new EventEmitter();
  child.on("message", (m: unknown) => messages.emit((m as FromBalancer).type, m));
  const next = <T extends FromBalancer["type"]>(type: T, timeoutMs: number) =>
    new Promise<Extract<FromBalancer, { type: T }> | null>((resolve) => {
      const timer = setTimeout(() => {
        messages.off(type, on);
        resolve(null);
      }, timeoutMs);
      const on = (m: Extract<FromBalancer, { type: T }>) => {
        clearTimeout(timer);
        resolve(m);
      };
      messages.once(type, on);
    });
  const send = (m: ToBalancer) => {
    if (alive(child) && child.connected) child.send(m);
  };
  const listening = next("listening", 15_000);
  send({ type: "start", backends });
  const l = await listening;
  if (!l) throw new Error("the balancer did not start listening within 15 s");
  const pid = child.pid ?? null;
  return {
    child,
    port: l.port,
    sampler: pid !== null ? new ProcSampler(pid) : null,
    async stats() {
      const reply = next("stats", 5_000);
      send({ type: "stats" });
      const s = await reply;
      return s ? { accepted: new Map(s.accepted), refused: new Map(s.refused) } : null;
    },
  };
}

/** The live instance whose /health/ready says it owns a running session; polls up to `timeoutMs`. */
async function findOwner(
  instances: readonly ServerHandle[],
  timeoutMs: number,
): Promise<ServerHandle | null> {
  const until = performance.now() + timeoutMs;
  do {
    for (const s of instances) {
      if (s.killedAt > 0 || (s.child && !alive(s.child))) continue;
      if (((await sessionsOwned(s.httpBase)) ?? 0) > 0) return s;
    }
    await sleep(50);
  } while (performance.now() < until);
  return null;
}

// ---------------------------------------------------------------- the run

/** One instance of a cluster run. */
export interface InstanceReport {
  /** 1-based, in start order (the balancer's round-robin order). */
  index: number;
  port: number;
  pid: number | null;
  /** Ran the session from the start / took it over after the kill / was SIGKILLed. */
  owner: boolean;
  newOwner: boolean;
  killed: boolean;
  hostHere: boolean;
  /** Joined players connected here when the joins were done, and still here at the end. */
  playersAtJoin: number;
  playersAtEnd: number;
  /** Connections the balancer relayed here over the whole run. */
  accepted: number;
  rssIdleBytes: number;
  rssAfterJoinBytes: number;
  rssPeakBytes: number;
  cpuJoinS: number;
  /** CPU during the game (a killed instance: until its last sample before the kill). */
  cpuGameS: number;
  coresAvgGame: number;
}

/** What --kill-owner-at measured. Times are ms from the SIGKILL; NaN when it never happened. */
export interface FailoverReport {
  /** 1-based question at which the owner was killed. */
  question: number;
  killedInstance: number;
  killedPid: number | null;
  /** Answers to that question acknowledged before the kill, and the players who joined. */
  ackedBeforeKill: number;
  players: number;
  /** (a) the first ack of an answer sent after the kill. */
  firstAckMs: number;
  /** (b) the last `resumed` of the players whose connection dropped after the kill. */
  allResumedMs: number;
  dropped: number;
  resumed: number;
  /** Per dropped player: its drop → its `resumed` (the SDK's backoff, reconnect and resume). */
  dropToResume: Summary;
  /** Dropped players who needed more than one connection attempt to resume. */
  retriedReconnects: number;
  /** The kill → the last drop a player noticed. */
  lastDropMs: number;
  hostResumedMs: number;
  /** (c) the first question event with an epoch above the killed owner's (the new owner's). */
  firstQuestionMs: number;
  firstQuestionIndex: number | null;
  /** A live instance's /health/ready first said it owns the session (polled every 25 ms). */
  takeoverSeenMs: number;
  newOwner: number | null;
  /** Answers sent before the kill and acknowledged after it (re-sent by the SDK or retried). */
  inFlightAcked: number;
}

/** Acknowledged answers compared with GET /api/v1/sessions/{id}/results after the game. */
export interface IntegrityReport {
  acknowledged: number;
  /** Answers sent and never acknowledged (refused, or failed locally), per question (0-based). */
  unacknowledged: number[];
  /** Acknowledged, but not in the results. */
  lost: number;
  /** In the results with other points than the ack said. */
  pointsDiffer: number;
  /** Why the comparison could not be made; null when it was. */
  error: string | null;
}

/** What a --cluster run adds to the report. */
export interface ClusterReport {
  instances: InstanceReport[];
  database: string;
  schema: string;
  redis: string;
  keyPrefix: string;
  balancer: {
    pid: number | null;
    port: number;
    cpuGameS: number;
    cpuTotalS: number;
    /** Connection attempts a backend refused (the balancer then tried the next one). */
    refused: number;
  };
  hostInstance: number | null;
  /** Split by whether the player's connection was on the instance that owned the session. */
  byInstance: {
    questionFanoutOwner: Summary;
    questionFanoutOther: Summary;
    answerAckOwner: Summary;
    answerAckOther: Summary;
    /** Samples whose connection's instance or whose owner is not known. */
    unclassified: number;
  };
  failover: FailoverReport | null;
  cleanup: {
    schemaDropped: boolean;
    keysDeleted: number;
    keysLeft: number;
    error: string | null;
  };
}

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
  cluster: ClusterReport | null;
  integrity: IntegrityReport;
  errors: Record<string, number>;
  missing: { question: number; reveal: number; end: number };
  /** Events players learnt from a `state` snapshot instead (after a resume or a resync). */
  viaState: { question: number; reveal: number; end: number };
  notes: string[];
  serverLog: string[];
}

export function commandLine(argv: readonly string[]): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`);
  const args = argv.map(quote).join(" ");
  if (process.env.npm_lifecycle_event === "bench")
    return `npm run bench${args ? ` -- ${args}` : ""}`;
  return `npx tsx bench/run.ts${args ? ` ${args}` : ""}`;
}

/** The largest of `xs` without spreading them as arguments (that overflows the stack at ~100k). */
const maxOf = (xs: readonly number[]) =>
  xs.reduce((m, x) => (x > m || Number.isNaN(m) ? x : m), Number.NaN);

async function runLoad(opts: BenchOptions, argv: readonly string[]): Promise<BenchReport> {
  readClockTicks();
  const notes: string[] = [];
  const random = new SeededRandom(opts.seed);
  if (opts.answerSpreadMs >= opts.questionMs) {
    notes.push(
      `--answer-spread-ms ${opts.answerSpreadMs} ≥ --question-ms ${opts.questionMs}: some answers arrive after the question closed (STATE errors)`,
    );
  }
  const failoverRun = opts.killOwnerAt !== null;
  const killIndex = opts.killOwnerAt === null ? null : opts.killOwnerAt - 1;

  // ---- servers: one, or a cluster behind the balancer
  const instances: ServerHandle[] = [];
  let balancer: BalancerHandle | null = null;
  let schema: RunSchema | null = null;
  let keyPrefix = "";
  let serverStartS: number | null = null;
  let entry: { wsUrl: string; httpBase: string };
  if (opts.cluster !== null) {
    const s0 = performance.now();
    const started = await startClusterInstances(opts, (instance, i) => {
      instance.child?.on("exit", (code, signal) => {
        if (instance.killedAt === 0 && !stopping) {
          notes.push(`instance ${i} exited by itself (${code ?? signal}) during "${phase}"`);
        }
        tick();
      });
    });
    instances.push(...started.instances);
    schema = started.schema;
    keyPrefix = started.keyPrefix;
    serverStartS = (performance.now() - s0) / 1000;
    setPhase("starting the round-robin balancer (bench/cluster.ts)");
    balancer = await startBalancer(instances.map((x) => x.port));
    entry = { wsUrl: `ws://127.0.0.1:${balancer.port}/ws/v1`, httpBase: instances[0]!.httpBase };
  } else if (opts.url) {
    setPhase(`using the server at ${opts.url}`);
    const u = new URL(opts.url);
    const httpBase = `http://${u.host}`;
    await waitHealthy(httpBase, null, [], 5_000);
    const pid = opts.serverPid;
    if (pid !== null && processCpuS(pid) === null) {
      throw new UsageError(`cannot read /proc/${pid}/stat: is --server-pid right?`);
    }
    instances.push({
      index: 1,
      child: null,
      pid,
      port: Number(u.port),
      wsUrl: opts.url,
      httpBase,
      output: [],
      sampler: pid !== null ? new ProcSampler(pid) : null,
      killedAt: 0,
    });
    entry = instances[0]!;
  } else {
    setPhase("starting the server (node --import tsx src/main.ts)");
    const s0 = performance.now();
    instances.push(await startServer(1, {}, "/health/live"));
    serverStartS = (performance.now() - s0) / 1000;
    entry = instances[0]!;
  }
  const clustered = opts.cluster !== null;
  const liveInstance = () =>
    instances.find((s) => s.killedAt === 0 && (s.child === null || alive(s.child))) ?? null;
  const sample = (f: (p: ProcSampler) => number) =>
    instances.map((s) => (s.sampler ? f(s.sampler) : 0));

  setPhase("creating the quiz over REST");
  const quizId = await createQuiz(entry.httpBase, opts.questions, random);

  setPhase(
    `connecting the host${clustered ? " through the balancer" : ""} and creating a live room`,
  );
  const hostCounters: Counters = newCounters();
  const buckets = new Map<number, number>();
  const hostErrors: Record<string, number> = {};
  const hostCount = (k: string) => {
    hostErrors[`host ${k}`] = (hostErrors[`host ${k}`] ?? 0) + 1;
  };
  const host = new QuizwireClient({
    url: entry.wsUrl,
    WebSocket: countingWebSocket(hostCounters, buckets),
    reconnect: failoverRun ? {} : false,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    now: epochNow,
    onError: () => hostCount("client_error"),
  });
  host.on("error", (d) => hostCount(d.reason ? `${d.code}/${d.reason}` : d.code));
  let hostDroppedAt = 0;
  let hostResumedAt = 0;
  host.on("disconnected", (d) => {
    if (stopping) return;
    hostCount(`disconnect ${d.code}`);
    if (d.willReconnect && hostDroppedAt === 0) hostDroppedAt = epochNow();
  });
  host.on("resumed", () => {
    if (hostDroppedAt > 0 && hostResumedAt === 0) hostResumedAt = epochNow();
    tick();
  });
  const hostReveals = new Set<number>();
  let hostEndAt = 0;
  let hostEndFrames = 0;
  let hostEndBytes = 0;
  const hostEnded = () => {
    if (hostEndAt > 0) return;
    hostEndAt = epochNow();
    hostEndFrames = hostCounters.frames;
    hostEndBytes = hostCounters.bytes;
  };
  host.on("reveal", (d) => {
    hostReveals.add(d.index);
    tick();
  });
  host.on("end", () => {
    hostEnded();
    tick();
  });
  // After a resume the host learns of a reveal (or the end) it missed from the snapshot.
  host.on("state", (s) => {
    const passed = revealsPassed(s.phase, opts.questions);
    for (let i = 0; i < passed; i++) hostReveals.add(i);
    if (s.phase.kind === "ended") hostEnded();
    tick();
  });
  /** A host command; in the failover run one refused with a retryable error is sent again. */
  const hostCommand = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (!(failoverRun && e instanceof QuizwireError && e.retryable && attempt < 100)) {
          throw new Error(
            `the host's ${what} failed: ${e instanceof Error ? e.message : String(e)}`,
          );
        }
        hostCount(`${what} sent again after ${e.code}`);
        await sleep(100);
      }
    }
  };
  await host.connect();
  const room = await host.createRoom({
    quizId,
    mode: "live",
    settings: { question_time_ms: opts.questionMs, max_participants: opts.players + 10 },
    hostName: "bench host",
  });
  const hostInstanceAtStart = hostCounters.backend;

  // The session runs where it was created; /health/ready says which instance that is.
  let owner: ServerHandle | null = null;
  if (clustered) {
    owner = await findOwner(instances, 5_000);
    if (!owner) notes.push("no instance said it owns the session after it was created");
  }

  const rssIdle = sample((p) => p.sample());
  const cpuBeforeJoin = sample((p) => p.cpu());
  setPhase(
    `forking ${opts.workers} workers; joining ${opts.players} players (${opts.joinConcurrency} at a time per worker${clustered ? ", through the balancer" : ""})`,
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
      url: entry.wsUrl,
      pin: room.pin,
      firstPlayer: first,
      players,
      seed: opts.seed,
      questionCount: opts.questions,
      optionCount: OPTION_COUNT,
      answerSpreadMs: opts.answerSpreadMs,
      joinConcurrency: opts.joinConcurrency,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      reconnect: failoverRun,
      halfAt: killIndex,
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
  const rssAfterJoin = sample((p) => p.sample());
  const cpuAfterJoin = sample((p) => p.cpu());
  const balancerCpuAtGame = balancer?.sampler?.cpu() ?? 0;

  // ---- the game, with the owner killed at question killIndex in the failover run
  let killed: ServerHandle | null = null;
  let killAt = 0;
  let epochAtKill = 0;
  let ackedBeforeKillHalf = 0;
  let takeover: Promise<{ at: number; instance: ServerHandle } | null> = Promise.resolve(null);
  const killOwner = async (k: number) => {
    setPhase(`question ${k + 1}: waiting until about half the players have an acknowledged answer`);
    const half = await waitFor(
      () => hostReveals.has(k) || workers.every((w) => w.half.has(k) || !alive(w.child)),
      opts.questionMs + 5_000,
    );
    if (!half || hostReveals.has(k)) {
      notes.push(
        `question ${k + 1} ${hostReveals.has(k) ? "closed" : "ran out of time"} before half the players had an acknowledged answer; the owner was killed anyway`,
      );
    }
    const target = await findOwner(instances, 5_000);
    if (!target?.child)
      throw new Error("no live instance says it owns the session; cannot kill it");
    target.sampler?.stop();
    epochAtKill = host.lastEpoch ?? 0;
    ackedBeforeKillHalf = workers.filter((w) => w.half.has(k)).length;
    killAt = epochNow();
    target.killedAt = killAt;
    target.child.kill("SIGKILL");
    killed = target;
    setPhase(
      `SIGKILLed instance ${target.index} (the owner, pid ${target.pid}); players resume through the balancer`,
    );
    // Polls readiness for the instance that took the session over.
    takeover = (async () => {
      const until = performance.now() + 60_000;
      while (performance.now() < until && !stopping) {
        for (const s of instances) {
          if (s.killedAt > 0 || (s.child && !alive(s.child))) continue;
          if (((await sessionsOwned(s.httpBase)) ?? 0) > 0) return { at: epochNow(), instance: s };
        }
        await sleep(25);
      }
      return null;
    })();
  };

  setPhase(`playing ${opts.questions} questions`);
  const hostCpu0 = process.cpuUsage();
  const hostStartFrames = hostCounters.frames;
  const hostStartBytes = hostCounters.bytes;
  const gameStartAt = epochNow();
  await hostCommand("start", () => host.start());
  for (let k = 0; k < opts.questions; k++) {
    if (k === killIndex) await killOwner(k);
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
    await hostCommand("next", () => host.nextQuestion());
  }
  const allEnded = await waitFor(() => hostEndAt > 0 && workers.every((w) => w.ended), 30_000);
  if (!allEnded) notes.push("not every player received `end` within 30 s of the last next");
  const cpuAfterGame = sample((p) => p.cpu());
  const balancerCpuAfterGame = balancer?.sampler?.cpu() ?? 0;
  const hostCpu = process.cpuUsage(hostCpu0);

  setPhase("collecting samples");
  for (const w of workers) sendTo(w, { type: "collect" });
  const collected = await waitFor(() => workers.every((w) => w.results !== null), 15_000);
  if (!collected) notes.push("some workers sent no results within 15 s; their samples are missing");
  for (const s of instances) s.sampler?.stop();
  const took = await takeover;

  setPhase("checking the acknowledged answers against GET /api/v1/sessions/{id}/results");
  const results = workers.flatMap((w) => (w.results ? [w.results] : []));
  const answers: AnswerRecord[] = results.flatMap((r) => r.answers);
  const integrity: IntegrityReport = {
    acknowledged: answers.length,
    unacknowledged: Array.from({ length: opts.questions }, (_, i) =>
      results.reduce((n, r) => n + (r.unackedByQuestion[i] ?? 0), 0),
    ),
    lost: 0,
    pointsDiffer: 0,
    error: null,
  };
  try {
    const base = liveInstance()?.httpBase;
    if (!base) throw new Error("no instance is left running");
    const stored = await fetchResults(base, room.roomId);
    const check = checkAcknowledged(
      answers.map((a) => ({ name: `p${a.player}`, index: a.index, points: a.points })),
      stored,
    );
    integrity.lost = check.lost;
    integrity.pointsDiffer = check.pointsDiffer;
  } catch (e) {
    integrity.error = e instanceof Error ? e.message : String(e);
  }

  setPhase("stopping");
  stopping = true;
  const balancerStats = balancer ? await balancer.stats() : null;
  const balancerCpuTotal = balancer?.sampler?.cpu() ?? 0;
  balancer?.sampler?.stop();
  host.close();
  for (const w of workers) sendTo(w, { type: "close" });
  // Workers close their sockets and exit by themselves.
  await Promise.all(workers.map((w) => stopChild(w.child, null, 3_000)));
  const serverLog = instances.flatMap((s) =>
    s.output
      .join("")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => (clustered ? `[instance ${s.index}] ${l}` : l)),
  );
  await Promise.all(
    instances.map((s) => (s.child ? stopChild(s.child, "SIGTERM", 5_000) : Promise.resolve())),
  );
  if (balancer) await stopChild(balancer.child, "SIGTERM", 2_000);
  killEverything();

  // ---- the cluster's schema and keys go now, so the report can say they are gone
  let cleanup: ClusterReport["cleanup"] | null = null;
  if (schema) {
    setPhase(`dropping schema ${schema.name} and deleting Redis keys ${keyPrefix}*`);
    cleanup = { schemaDropped: false, keysDeleted: 0, keysLeft: -1, error: null };
    const errors: string[] = [];
    try {
      cleanup.keysDeleted = await deleteKeys(opts.redisUrl, keyPrefix);
      cleanup.keysLeft = await countKeys(opts.redisUrl, keyPrefix);
      if (cleanup.keysLeft === 0) {
        owned.cleanups.delete(`Redis keys ${keyPrefix}* in ${describeUrl(opts.redisUrl)}`);
      }
    } catch (e) {
      errors.push(`Redis: ${e instanceof Error ? e.message : String(e)}`);
    }
    try {
      await schema.drop();
      cleanup.schemaDropped = !(await schema.exists());
      if (cleanup.schemaDropped) {
        owned.cleanups.delete(`Postgres schema ${schema.name} in ${describeUrl(opts.databaseUrl)}`);
      }
    } catch (e) {
      errors.push(`Postgres: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (errors.length > 0) cleanup.error = errors.join("; ");
  }

  // ---- merge the samples
  const lastEndAt = Math.max(hostEndAt, ...results.map((r) => r.lastEndAt));
  const gameS = (lastEndAt - gameStartAt) / 1000;
  const errors: Record<string, number> = { ...hostErrors };
  const missing = { question: 0, reveal: 0, end: 0 };
  const viaState = { question: 0, reveal: 0, end: 0 };
  let gameFrames = hostEndFrames > 0 ? hostEndFrames - hostStartFrames : 0;
  let gameBytes = hostEndBytes > 0 ? hostEndBytes - hostStartBytes : 0;
  let totalFrames = hostCounters.frames;
  let totalBytes = hostCounters.bytes;
  for (const r of results) {
    addCounts(errors, r.errors);
    for (const k of ["question", "reveal", "end"] as const) {
      missing[k] += r.missing[k];
      viaState[k] += r.viaState[k];
    }
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

  let clusterReport: ClusterReport | null = null;
  if (clustered && balancer && schema && cleanup) {
    const killedNow = killed as ServerHandle | null;
    const newOwner = took?.instance ?? null;
    // Which instance emitted a question: the killed owner up to its epoch, the new owner after.
    const ownerPortOfEpoch = (epoch: number): number => {
      if (epoch < 0) return 0;
      if (killedNow && epoch > epochAtKill) return newOwner?.port ?? 0;
      return owner?.port ?? 0;
    };
    const ownerPortAt = (at: number): number =>
      killedNow && at >= killAt ? (newOwner?.port ?? 0) : (owner?.port ?? 0);
    const qOwner: number[] = [];
    const qOther: number[] = [];
    const aOwner: number[] = [];
    const aOther: number[] = [];
    let unclassified = 0;
    for (const r of results) {
      r.questionFanoutMs.forEach((ms, i) => {
        const backend = r.questionBackend[i] ?? 0;
        const ownerPort = ownerPortOfEpoch(r.questionEpoch[i] ?? -1);
        if (backend === 0 || ownerPort === 0) unclassified++;
        else (backend === ownerPort ? qOwner : qOther).push(ms);
      });
    }
    for (const a of answers) {
      const ownerPort = ownerPortAt(a.ackAt);
      if (a.backend === 0 || ownerPort === 0) unclassified++;
      else (a.backend === ownerPort ? aOwner : aOther).push(a.ackMs);
    }
    const atJoin = new Map<number, number>();
    const atEnd = new Map<number, number>();
    for (const w of workers)
      for (const [port, n] of w.backends) atJoin.set(port, (atJoin.get(port) ?? 0) + n);
    for (const r of results)
      for (const [port, n] of r.finalBackends) atEnd.set(port, (atEnd.get(port) ?? 0) + n);

    let failover: FailoverReport | null = null;
    if (killedNow && killIndex !== null) {
      const since = (t: number) => (Number.isFinite(t) && t > 0 ? t - killAt : Number.NaN);
      const drops = results.flatMap((r) => r.reconnects).filter((d) => d.disconnectedAt >= killAt);
      const resumed = drops.filter((d) => d.resumedAt > 0);
      let firstQuestionAt = Number.NaN;
      let firstQuestionIndex: number | null = null;
      for (const r of results) {
        r.questionEpoch.forEach((epoch, i) => {
          const at = r.questionAt[i] ?? Number.NaN;
          if (epoch > epochAtKill && !(at >= firstQuestionAt)) {
            firstQuestionAt = at;
            firstQuestionIndex = r.questionIndex[i] ?? null;
          }
        });
      }
      failover = {
        question: killIndex + 1,
        killedInstance: killedNow.index,
        killedPid: killedNow.pid,
        ackedBeforeKill: answers.filter((a) => a.index === killIndex && a.ackAt < killAt).length,
        players: joined,
        firstAckMs: since(
          firstAtOrAfter(
            answers.filter((a) => a.attemptAt >= killAt).map((a) => a.ackAt),
            killAt,
          ),
        ),
        allResumedMs:
          drops.length > 0 && resumed.length === drops.length
            ? since(maxOf(resumed.map((d) => d.resumedAt)))
            : Number.NaN,
        dropped: drops.length,
        resumed: resumed.length,
        dropToResume: summarize(resumed.map((d) => d.resumedAt - d.disconnectedAt)),
        retriedReconnects: resumed.filter((d) => d.attempts > 1).length,
        lastDropMs: since(maxOf(drops.map((d) => d.disconnectedAt))),
        hostResumedMs: hostDroppedAt >= killAt ? since(hostResumedAt) : Number.NaN,
        firstQuestionMs: since(firstQuestionAt),
        firstQuestionIndex,
        takeoverSeenMs: took ? took.at - killAt : Number.NaN,
        newOwner: newOwner?.index ?? null,
        inFlightAcked: answers.filter((a) => a.attemptAt < killAt && a.ackAt >= killAt).length,
      };
      if (ackedBeforeKillHalf < workers.length) {
        notes.push(
          `${workers.length - ackedBeforeKillHalf} of ${workers.length} workers had not reached half their players' answers when the owner was killed`,
        );
      }
    }
    const refused = balancerStats
      ? [...balancerStats.refused.values()].reduce((s, n) => s + n, 0)
      : 0;
    clusterReport = {
      instances: instances.map((s, i) => {
        const cpuGameS = (cpuAfterGame[i] ?? 0) - (cpuAfterJoin[i] ?? 0);
        return {
          index: s.index,
          port: s.port,
          pid: s.pid,
          owner: owner === s,
          newOwner: newOwner === s,
          killed: s.killedAt > 0,
          hostHere: hostInstanceAtStart === s.port,
          playersAtJoin: atJoin.get(s.port) ?? 0,
          playersAtEnd: atEnd.get(s.port) ?? 0,
          accepted: balancerStats?.accepted.get(s.port) ?? 0,
          rssIdleBytes: rssIdle[i] ?? 0,
          rssAfterJoinBytes: rssAfterJoin[i] ?? 0,
          rssPeakBytes: s.sampler?.peak ?? 0,
          cpuJoinS: (cpuAfterJoin[i] ?? 0) - (cpuBeforeJoin[i] ?? 0),
          cpuGameS,
          coresAvgGame: gameS > 0 ? cpuGameS / gameS : Number.NaN,
        };
      }),
      database: describeUrl(opts.databaseUrl),
      schema: schema.name,
      redis: describeUrl(opts.redisUrl),
      keyPrefix,
      balancer: {
        pid: balancer.child.pid ?? null,
        port: balancer.port,
        cpuGameS: balancerCpuAfterGame - balancerCpuAtGame,
        cpuTotalS: balancerCpuTotal,
        refused,
      },
      hostInstance: instances.find((s) => s.port === hostInstanceAtStart)?.index ?? null,
      byInstance: {
        questionFanoutOwner: summarize(qOwner),
        questionFanoutOther: summarize(qOther),
        answerAckOwner: summarize(aOwner),
        answerAckOther: summarize(aOther),
        unclassified,
      },
      failover,
      cleanup,
    };
  }

  const single = clustered ? null : (instances[0] ?? null);
  return {
    tool: "quizwire bench",
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpuModel,
    cores: cpus().length,
    command: commandLine(argv),
    options: opts,
    server: {
      url: entry.wsUrl,
      started: single ? single.child !== null : true,
      pid: single?.pid ?? null,
      sqliteSynchronous: single?.child
        ? (process.env.SQLITE_SYNCHRONOUS ?? "FULL")
        : clustered
          ? "—"
          : "unknown",
    },
    phases: { serverStartS, joinS, gameS },
    players: { requested: opts.players, joined, failed },
    latency: {
      connect: all((r) => r.connectMs),
      join: all((r) => r.joinMs),
      questionFanout: all((r) => r.questionFanoutMs),
      answerAck: summarize(answers.map((a) => a.ackMs)),
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
    serverResources: single?.sampler
      ? {
          rssIdleBytes: rssIdle[0] ?? 0,
          rssAfterJoinBytes: rssAfterJoin[0] ?? 0,
          rssPeakBytes: single.sampler.peak,
          cpuJoinS: (cpuAfterJoin[0] ?? 0) - (cpuBeforeJoin[0] ?? 0),
          cpuGameS: (cpuAfterGame[0] ?? 0) - (cpuAfterJoin[0] ?? 0),
          coresAvgGame:
            gameS > 0 ? ((cpuAfterGame[0] ?? 0) - (cpuAfterJoin[0] ?? 0)) / gameS : Number.NaN,
        }
      : null,
    generator: {
      workerCpuGameS: results.map((r) => r.cpuGameS),
      workerCpuTotalS: results.map((r) => r.cpuTotalS),
      hostCpuGameS: (hostCpu.user + hostCpu.system) / 1e6,
      loopDelayP99MaxMs: Math.max(0, ...results.map((r) => r.loopDelayP99Ms)),
      loopDelayMaxMs: Math.max(0, ...results.map((r) => r.loopDelayMaxMs)),
    },
    cluster: clusterReport,
    integrity,
    errors,
    missing,
    viaState,
    notes,
    serverLog: serverLog.slice(-20),
  };
}

// ---------------------------------------------------------------- output

const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);

/** Whole milliseconds with separators, or "—" when it never happened. */
const msOrDash = (ms: number) => (Number.isFinite(ms) ? `${formatInt(ms)} ms` : "—");

function formatCluster(r: BenchReport, c: ClusterReport): string[] {
  const lines: string[] = [];
  const gameS = r.phases.gameS;
  const role = (i: InstanceReport) =>
    [i.owner ? "owner" : "", i.killed ? "killed" : "", i.newOwner ? "new owner" : ""]
      .filter((x) => x !== "")
      .join(", ");
  const name = (i: InstanceReport) => `instance ${i.index}${role(i) ? ` (${role(i)})` : ""}`;
  lines.push(
    `cluster                ${c.instances.length} instances (pids ${c.instances.map((i) => i.pid).join(", ")}); Postgres schema ${c.schema} in ${c.database}; Redis ${c.redis} prefix ${c.keyPrefix}; round-robin balancer on :${c.balancer.port}`,
  );
  const spread = (pick: (i: InstanceReport) => number, host: boolean) =>
    c.instances
      .map((i) => `${i.index}: ${formatInt(pick(i))}${host && i.hostHere ? " + host" : ""}`)
      .join(", ");
  lines.push(
    `spread (players)       after the joins ${spread((i) => i.playersAtJoin, true)}; at the end ${spread((i) => i.playersAtEnd, false)}`,
  );
  lines.push(
    `balancer               relayed ${c.instances.map((i) => formatInt(i.accepted)).join(" / ")} connections${c.balancer.refused ? `, ${formatInt(c.balancer.refused)} refused by a dead instance and sent on` : ""}; CPU game ${c.balancer.cpuGameS.toFixed(2)} s (${gameS > 0 ? (c.balancer.cpuGameS / gameS).toFixed(2) : "—"} cores avg), whole run ${c.balancer.cpuTotalS.toFixed(2)} s`,
  );
  const width = Math.max(...c.instances.map((i) => name(i).length), 22);
  for (const i of c.instances) {
    lines.push(
      `${name(i).padEnd(width)} CPU game ${i.cpuGameS.toFixed(2)} s (${i.coresAvgGame.toFixed(2)} cores avg), joins ${i.cpuJoinS.toFixed(2)} s; RSS idle ${formatMB(i.rssIdleBytes)} MB, after joins ${formatMB(i.rssAfterJoinBytes)} MB, peak ${formatMB(i.rssPeakBytes)} MB${i.killed ? " (until the kill)" : ""}`,
    );
  }
  const f = c.failover;
  if (f) {
    lines.push(
      `failover               instance ${f.killedInstance} (the owner, pid ${f.killedPid}) SIGKILLed during question ${f.question}, once ${formatInt(f.ackedBeforeKill)} of ${formatInt(f.players)} players had an acknowledged answer to it`,
    );
    lines.push(
      `  (a) first ack        ${msOrDash(f.firstAckMs)} after the kill: the first acknowledged answer sent after it`,
    );
    lines.push(
      `  (b) all resumed      ${msOrDash(f.allResumedMs)}: the last of the ${formatInt(f.dropped)} players whose connection dropped got "resumed" (${formatInt(f.resumed)} did); the host resumed after ${msOrDash(f.hostResumedMs)}`,
    );
    const d = f.dropToResume;
    lines.push(
      `                       each player: the kill → its drop ≤ ${msOrDash(f.lastDropMs)}; its drop → "resumed" p50 ${formatMs(d.p50)}, p95 ${formatMs(d.p95)}, max ${formatMs(d.max)} ms (SDK backoff + reconnect + resume; ${formatInt(f.retriedReconnects)} needed more than one attempt)`,
    );
    lines.push(
      `  (c) first question   ${msOrDash(f.firstQuestionMs)}: the first question event from the new owner${f.firstQuestionIndex !== null ? ` (question ${f.firstQuestionIndex + 1}; it waits for question ${f.question}'s reveal and the host's next)` : ""}`,
    );
    lines.push(
      `  takeover seen        ${msOrDash(f.takeoverSeenMs)}: ${f.newOwner !== null ? `instance ${f.newOwner}` : "no instance"}'s /health/ready said it owns the session (polled every 25 ms)`,
    );
    lines.push(
      `  in flight            ${formatInt(f.inFlightAcked)} answers sent before the kill were acknowledged after it (re-sent by the SDK on resume, or sent again after a retryable refusal)`,
    );
  }
  const cl = c.cleanup;
  lines.push(
    `cleanup                schema ${c.schema} ${cl.schemaDropped ? "dropped" : "NOT dropped"}; ${formatInt(cl.keysDeleted)} Redis keys deleted, ${cl.keysLeft < 0 ? "unknown" : formatInt(cl.keysLeft)} left${cl.error ? ` (${cl.error})` : ""}`,
  );
  return lines;
}

/** The report as a person reads it. */
export function formatReport(r: BenchReport): string {
  const o = r.options;
  const c = r.cluster;
  const lines: string[] = [];
  lines.push(
    `quizwire bench — ${formatInt(o.players)} players, ${o.questions} questions, ${o.workers} workers, node ${r.node}, ${r.date}`,
  );
  const where = c
    ? `cluster of ${c.instances.length} instances started here (Postgres + Redis, players and host through a round-robin balancer)${r.options.killOwnerAt !== null ? `, owner SIGKILLed at question ${r.options.killOwnerAt}, SDK reconnect on` : ""}`
    : `server ${r.server.started ? `started here (pid ${r.server.pid}, SQLITE_SYNCHRONOUS=${r.server.sqliteSynchronous})` : `at ${r.server.url}`}`;
  lines.push(
    `${r.cpu} × ${r.cores}; ${where}; question-ms ${o.questionMs}, answer-spread-ms ${o.answerSpreadMs}, seed ${o.seed}`,
  );
  lines.push("");
  const L = r.latency;
  const rows = [
    ["metric", "count", "p50", "p95", "p99", "max", "(ms)"],
    summaryRow("connect (→ welcome)", L.connect),
    summaryRow("join (→ joined)", L.join),
    summaryRow("question fan-out", L.questionFanout),
    summaryRow("answer → ack", L.answerAck),
    summaryRow("reveal fan-out", L.revealFanout),
  ];
  if (c) {
    const b = c.byInstance;
    rows.push(
      [],
      ["by the player's instance"],
      summaryRow("question fan-out, on the owner", b.questionFanoutOwner),
      summaryRow("question fan-out, elsewhere (+ Redis)", b.questionFanoutOther),
      summaryRow("answer → ack, on the owner", b.answerAckOwner),
      summaryRow("answer → ack, elsewhere (forwarded)", b.answerAckOther),
    );
  }
  lines.push(formatTable(rows));
  if (c && c.byInstance.unclassified > 0) {
    lines.push(
      `(${formatInt(c.byInstance.unclassified)} samples not split: their instance or the owner at the time is unknown)`,
    );
  }
  lines.push("");
  const m = r.messages;
  lines.push(
    `messages delivered/s   ${formatInt(m.perSecond)} avg, ${formatInt(m.peakPerSecond)} in the busiest second   (game: ${formatInt(m.gameFrames)} frames, ${formatMB(m.gameBytes)} MB in ${r.phases.gameS.toFixed(2)} s; whole run: ${formatInt(m.totalFrames)} frames, ${formatMB(m.totalBytes)} MB)`,
  );
  lines.push(
    `joins                  ${formatInt(r.players.joined)} of ${formatInt(r.players.requested)} in ${r.phases.joinS.toFixed(2)} s (${formatInt(r.players.joined / r.phases.joinS)}/s; connect + join, ${Math.min(o.players, o.joinConcurrency * o.workers)} in flight)${r.players.failed ? `; ${r.players.failed} failed` : ""}`,
  );
  const s = r.serverResources;
  if (c) {
    lines.push(...formatCluster(r, c));
  } else if (s) {
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
  const it = r.integrity;
  lines.push(
    it.error === null
      ? `acknowledged answers lost: ${formatInt(it.lost)}   (${formatInt(it.acknowledged)} acknowledged answers compared with GET /api/v1/sessions/{id}/results${it.pointsDiffer ? `; ${formatInt(it.pointsDiffer)} stored with other points than acknowledged` : "; points as acknowledged"})`
      : `acknowledged answers lost: not checked (${it.error})`,
  );
  const unacked = sum(it.unacknowledged);
  if (unacked > 0) {
    const per = it.unacknowledged
      .map((n, i) => (n > 0 ? `question ${i + 1}: ${formatInt(n)}` : ""))
      .filter((x) => x !== "")
      .join(", ");
    lines.push(
      `answers not acknowledged: ${formatInt(unacked)}   (${per}; refused or failed, never promised: the errors line says why)`,
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
  const vs = r.viaState;
  if (vs.question + vs.reveal + vs.end > 0) {
    lines.push(
      `from a state snapshot  question ${vs.question}, reveal ${vs.reveal}, end ${vs.end} (events players did not get but learnt from the state sent on a resume or resync)`,
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

async function runMicro(
  databaseUrl: string,
): Promise<{ text: string; leaderboard: unknown; storage: unknown; reveal: unknown }> {
  setPhase("leaderboard micro-bench");
  const lb = runLeaderboardBench();
  setPhase("storage micro-bench");
  const st = await runStorageBench();
  setPhase(`Postgres storage micro-bench (${describeUrl(databaseUrl)})`);
  let pgText: string;
  let pgRows: unknown = null;
  // Only an unreachable Postgres is a skip; a failure of the writes themselves stops the run.
  const unreachable = await checkPostgres(databaseUrl).then(
    () => null,
    (e: unknown) => (e instanceof Error ? e.message : String(e)),
  );
  if (unreachable === null) {
    const rows = await runPostgresStorageBench(databaseUrl);
    pgRows = rows;
    pgText = formatPostgresRows(rows);
  } else {
    pgText = `skipped: ${unreachable}`;
  }
  setPhase("a live room's commits micro-bench");
  const commits = await runCommitTailBench();
  setPhase("final standings micro-bench");
  const standings = await runStandingsBench(unreachable === null ? databaseUrl : null);
  setPhase("reveal micro-bench");
  const reveal = runRevealBench();
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
    "SQLite answer writes (one fenced SessionStore.write per batch; batch: the answers in it; shape",
    `answers+served: each answer followed by its player's next question, as self-paced; temp dir ${tmpdir()})`,
    formatStorageRows(st),
    "",
    "Postgres answer writes (one SessionStore.write per batch, fenced as a cluster instance's;",
    `node CPU: this process's, not Postgres's; a schema of its own in ${describeUrl(databaseUrl)})`,
    pgText,
    "",
    "A live room's commits: 10,000 players answer 6 questions, 24 answers a write (the group",
    "commit's start), SQLite thread, FULL; each write's time; wal pages: between checkpoints",
    `(${formatInt(WAL_AUTOCHECKPOINT_PAGES)} is the server's, 1,000 SQLite's default)`,
    formatCommitTailRows(commits),
    "",
    "Final standings: one standings_put naming every player (the write that ends a game; every",
    "room's answers on the instance wait behind it), the first of a session of its own",
    formatStandingsRows(standings),
    "",
    "A reveal's work before its first write (every player waits for it): a live room of 10,000",
    "players in one process, each answering 8 questions; the room's reveal, the canonical door's",
    "encoding, and each player's own part looked up as the driver does per connection",
    formatRevealRows(reveal),
  ].join("\n");
  return {
    text,
    leaderboard: lb,
    storage: { sqlite: st, postgres: pgRows, standings, commits },
    reveal,
  };
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
  serverNodeArgs = opts.serverNodeArgs;
  settleDisk();
  if (opts.micro) {
    const micro = await runMicro(opts.databaseUrl);
    const command = commandLine(argv);
    process.stdout.write(`\n${micro.text}\n\ncommand: ${command}\n`);
    if (opts.json) {
      const { leaderboard, storage, reveal } = micro;
      const file = writeJson({
        tool: "quizwire micro-bench",
        date: new Date().toISOString(),
        node: process.version,
        command,
        leaderboard,
        storage,
        reveal,
      });
      process.stdout.write(`json: ${file}\n`);
    }
    await shutdown(0);
    return;
  }
  if (!opts.sdk && opts.scenario === "quick-fire") {
    const { runQuickfire, formatQuickfireReport } = await import("./quickfire-run.js");
    const r = await runQuickfire(opts, argv);
    process.stdout.write(`\n${formatQuickfireReport(r)}\n`);
    if (opts.json) process.stdout.write(`json: ${writeJson(r)}\n`);
    await shutdown(0);
    return;
  }
  if (!opts.sdk && opts.scenario !== "live") {
    const { runSeed001, formatSeed001Report } = await import("./seed001-run.js");
    const r = await runSeed001(opts, argv);
    process.stdout.write(`\n${formatSeed001Report(r)}\n`);
    if (opts.json) process.stdout.write(`json: ${writeJson(r)}\n`);
    await shutdown(0);
    return;
  }
  if (!opts.sdk) {
    // Imported here, not at the top: raw-run imports this module's helpers.
    const { runRaw, formatRawReport } = await import("./raw-run.js");
    const raw = await runRaw(opts, argv);
    process.stdout.write(`\n${formatRawReport(raw)}\n`);
    if (opts.json) process.stdout.write(`json: ${writeJson(raw)}\n`);
    await shutdown(0);
    return;
  }
  const report = await runLoad(opts, argv);
  process.stdout.write(`\n${formatReport(report)}\n`);
  if (opts.json) process.stdout.write(`json: ${writeJson(report)}\n`);
  await shutdown(0);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    // Already on the way out (timeout, signal): this is the run failing because of it.
    if (exiting) return;
    if (e instanceof UsageError) {
      // A run that cannot work as asked (e.g. the open-file limit): the message says what to change.
      process.stderr.write(`bench: ${e.message}\n`);
      void shutdown(2);
      return;
    }
    process.stderr.write(
      `bench: failed during "${phase}": ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    void shutdown(1);
  });
}
