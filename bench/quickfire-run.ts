/**
 * `npm run bench -- --scenario quick-fire`: many seed-004 contests of up to 6 players each, on raw
 * sockets to `/ws/contests/{id}` (bench/quickfire-worker.ts). The server is started with a
 * JWT_SECRET of this run's own so the bench mints the players' tokens itself (with --url, export
 * the server's JWT_SECRET). See bench/README.md.
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { SignJWT } from "jose";
import { renderSvg } from "./plot.js";
import type {
  FromQuickfire,
  QuickfireContest,
  QuickfireResults,
  ToQuickfire,
} from "./quickfire-worker.js";
import {
  failWith,
  fileLimitProblem,
  openFileLimit,
  ProgressLine,
  tick,
  waitFor,
} from "./raw-run.js";
import {
  alive,
  type BenchOptions,
  commandLine,
  fetchResults,
  owned,
  ProcSampler,
  readClockTicks,
  type ServerHandle,
  setPhase,
  sleep,
  startServer,
  stopChild,
  UsageError,
  waitHealthy,
} from "./run.js";
import {
  addCounts,
  checkAcknowledged,
  formatInt,
  formatMB,
  formatMs,
  formatTable,
  type Summary,
  splitEvenly,
  summarize,
  summaryRow,
} from "./stats.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const WORKER_PATH = fileURLToPath(new URL("./quickfire-worker.ts", import.meta.url));
/** Seed 004's room size (R-6). */
export const CONTEST_SIZE = 6;
/** Contests created over REST at once. */
const CREATE_CONCURRENCY = 8;

interface Handle {
  child: ChildProcess;
  ready: boolean;
  joined: number;
  failed: number;
  joinStartAt: number;
  joinEndAt: number;
  progressJoined: number;
  acks: number;
  over: boolean;
  contestsOver: number;
  results: QuickfireResults | null;
}

export interface QuickfireReport {
  tool: "quizwire bench (quick-fire)";
  date: string;
  node: string;
  cpu: string;
  cores: number;
  command: string;
  options: BenchOptions;
  contests: number;
  players: { requested: number; joined: number; failed: number };
  createS: number;
  joinS: number;
  gameS: number;
  latency: {
    join: Summary;
    start: Summary;
    answerAck: Summary;
    questionSpread: Summary;
    scoreSpread: Summary;
    contest: Summary;
  };
  tooLate: number;
  contestsOver: number;
  server: {
    cpuJoinS: number;
    cpuGameS: number;
    /** The main thread's (the event loop's) part of `cpuGameS`. */
    mainCpuGameS: number;
    cpuPerJoinMs: number;
    cpuPerAnswerMs: number;
    rssIdleBytes: number;
    rssAfterJoinBytes: number;
    rssPeakBytes: number;
  } | null;
  generator: {
    cpuJoinS: number[];
    cpuGameS: number[];
    cpuTotalS: number[];
    loopP99Ms: number;
    loopMaxMs: number;
  };
  frames: number;
  bytes: number;
  acked: number;
  lost: number;
  pointsDiffer: number;
  integrityError: string | null;
  errors: Record<string, number>;
  notes: string[];
}

const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);

/** Runs `task(0 … count − 1)`, `concurrency` at a time. */
async function pool(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const runner = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, runner));
}

export async function runQuickfire(
  opts: BenchOptions,
  argv: readonly string[],
): Promise<QuickfireReport> {
  readClockTicks();
  const notes: string[] = [];
  const contests = Math.ceil(opts.players / CONTEST_SIZE);
  if (opts.questions > 40)
    throw new UsageError("--questions for quick-fire is at most 40 (the bank's medium questions)");
  try {
    const limit = openFileLimit(readFileSync("/proc/self/limits", "utf8"));
    const problem =
      limit === null
        ? null
        : fileLimitProblem(opts.players, opts.workers, limit, opts.url === null);
    if (problem) throw new UsageError(problem);
  } catch (e) {
    if (e instanceof UsageError) throw e;
  }
  let secret = process.env.JWT_SECRET ?? "";
  let server: ServerHandle;
  if (opts.url) {
    if (secret.length < 16)
      throw new UsageError(
        "--scenario quick-fire with --url needs the server's JWT_SECRET exported",
      );
    const u = new URL(opts.url);
    const httpBase = `http://${u.host}`;
    await waitHealthy(httpBase, null, [], 5_000);
    server = {
      index: 1,
      child: null,
      pid: opts.serverPid,
      port: Number(u.port),
      wsUrl: opts.url,
      httpBase,
      output: [],
      sampler: opts.serverPid !== null ? new ProcSampler(opts.serverPid) : null,
      killedAt: 0,
    };
  } else {
    secret = randomBytes(24).toString("base64url");
    setPhase("starting the server (node --import tsx src/main.ts) with this run's JWT_SECRET");
    server = await startServer(1, { JWT_SECRET: secret }, "/health/live");
  }
  const key = new TextEncoder().encode(secret);
  const token = (n: number) =>
    new SignJWT({ user_id: `bench-u${n}`, username: `p${n}` })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(`bench-u${n}`)
      .setIssuedAt()
      .setExpirationTime("2h")
      .sign(key);

  setPhase(
    `creating ${formatInt(contests)} contests of ${opts.questions} questions over REST (POST /api/contests)`,
  );
  const c0 = performance.now();
  const sizes = splitEvenly(opts.players, contests);
  const made: QuickfireContest[] = new Array(contests);
  let first = 0;
  const firsts = sizes.map((s) => {
    const f = first;
    first += s;
    return f;
  });
  await pool(contests, CREATE_CONCURRENCY, async (i) => {
    const f = firsts[i] ?? 0;
    const tokens = await Promise.all(Array.from({ length: sizes[i] ?? 0 }, (_, k) => token(f + k)));
    const res = await fetch(`${server.httpBase}/api/contests`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${tokens[0]}` },
      body: JSON.stringify({ difficulty: "medium", question_count: opts.questions }),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    if (!res.ok)
      throw new Error(`POST /api/contests answered ${res.status}: ${text.slice(0, 300)}`);
    const id = (JSON.parse(text) as { contest_id?: unknown }).contest_id;
    if (typeof id !== "string")
      throw new Error(`POST /api/contests gave no contest_id: ${text.slice(0, 300)}`);
    made[i] = { id, tokens, first: f };
  });
  const createS = (performance.now() - c0) / 1000;

  const sampler = server.sampler;
  await sleep(300);
  const rssIdle = sampler?.sample() ?? 0;
  const cpu0 = sampler?.cpu() ?? 0;
  const workers: Handle[] = [];
  const line = new ProgressLine(
    () =>
      `  joined ${formatInt(sum(workers.map((w) => w.progressJoined)))}/${formatInt(opts.players)}, acks ${formatInt(sum(workers.map((w) => w.acks)))}, contests over ${formatInt(sum(workers.map((w) => w.contestsOver)))}/${formatInt(contests)}${sampler ? `, server ${sampler.cpuS.toFixed(1)} CPU s` : ""}`,
  );
  setPhase(
    `forking ${opts.workers} worker(s); ${formatInt(opts.players)} players join their contests on /ws/contests/…`,
  );
  line.start();
  const u = new URL(server.wsUrl);
  let at = 0;
  splitEvenly(contests, opts.workers).forEach((count, index) => {
    const mine = made.slice(at, at + count);
    at += count;
    const child = fork(WORKER_PATH, [], {
      cwd: ROOT,
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    owned.children.add(child);
    const h: Handle = {
      child,
      ready: false,
      joined: 0,
      failed: 0,
      joinStartAt: 0,
      joinEndAt: 0,
      progressJoined: 0,
      acks: 0,
      over: false,
      contestsOver: 0,
      results: null,
    };
    workers.push(h);
    child.on("message", (raw: unknown) => {
      const m = raw as FromQuickfire;
      switch (m.type) {
        case "ready":
          Object.assign(h, {
            ready: true,
            joined: m.joined,
            failed: m.failed,
            joinStartAt: m.joinStartAt,
            joinEndAt: m.joinEndAt,
          });
          break;
        case "progress":
          h.progressJoined = m.joined;
          h.acks = m.acks;
          h.contestsOver = m.over;
          break;
        case "over":
          h.over = true;
          break;
        case "results":
          h.results = m.results;
          break;
        case "fatal":
          failWith(new Error(`quick-fire worker ${m.workerIndex} failed: ${m.message}`));
          break;
      }
      tick();
    });
    child.on("exit", (code, signal) => {
      if (h.results === null)
        failWith(new Error(`quick-fire worker ${index} exited early (${code ?? signal})`));
    });
    const msg: ToQuickfire = {
      type: "init",
      workerIndex: index,
      host: u.hostname,
      port: Number(u.port),
      contests: mine,
      answerSpreadMs: opts.answerSpreadMs,
      joinConcurrency: opts.joinConcurrency,
      seed: opts.seed,
      hardTimeoutMs: opts.timeoutS * 1000 + 10_000,
      nice: opts.generatorNice,
    };
    child.send(msg);
  });
  await waitFor(() => workers.every((w) => w.ready), opts.timeoutS * 1000);
  const joinS =
    (Math.max(...workers.map((w) => w.joinEndAt)) -
      Math.min(...workers.map((w) => w.joinStartAt))) /
    1000;
  const joined = sum(workers.map((w) => w.joined));
  const rssAfterJoin = sampler?.sample() ?? 0;
  const cpu1 = sampler?.cpu() ?? 0;
  const main1 = sampler?.mainCpuS ?? 0;
  line.clear();
  setPhase(`${formatInt(joined)} joined in ${joinS.toFixed(2)} s; every host sends START_GAME`);
  const g0 = performance.now();
  for (const w of workers)
    if (alive(w.child)) w.child.send({ type: "start" } satisfies ToQuickfire);
  // Each question: up to 15 s, then 2 s to the next.
  const over = await waitFor(() => workers.every((w) => w.over), opts.questions * 17_000 + 30_000);
  if (!over) notes.push("not every contest reached GAME_OVER in time");
  const gameS = (performance.now() - g0) / 1000;
  const cpu2 = sampler?.cpu() ?? 0;
  const main2 = sampler?.mainCpuS ?? 0;
  line.stop();
  for (const w of workers)
    if (alive(w.child)) w.child.send({ type: "collect" } satisfies ToQuickfire);
  await waitFor(() => workers.every((w) => w.results !== null), 15_000);
  const results = workers.flatMap((w) => (w.results ? [w.results] : []));

  setPhase(`checking acknowledged answers against the results of ${formatInt(contests)} contests`);
  let lost = 0;
  let pointsDiffer = 0;
  let integrityError: string | null = null;
  const acked = results.flatMap((r) =>
    r.ackPlayer.map((n, i) => ({
      n,
      index: r.ackIndex[i] ?? -1,
      points: r.ackPoints[i] ?? Number.NaN,
    })),
  );
  const contestOf = (n: number) => {
    let lo = 0;
    let hi = firsts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((firsts[mid] ?? 0) <= n) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const byContest = new Map<number, { name: string; index: number; points: number }[]>();
  for (const a of acked) {
    const c = contestOf(a.n);
    let list = byContest.get(c);
    if (!list) {
      list = [];
      byContest.set(c, list);
    }
    list.push({ name: `p${a.n}`, index: a.index, points: a.points });
  }
  try {
    await pool(contests, CREATE_CONCURRENCY, async (c) => {
      const list = byContest.get(c);
      if (!list) return;
      const check = checkAcknowledged(list, await fetchResults(server.httpBase, made[c]?.id ?? ""));
      lost += check.lost;
      pointsDiffer += check.pointsDiffer;
    });
  } catch (e) {
    integrityError = e instanceof Error ? e.message : String(e);
  }

  for (const w of workers) if (alive(w.child)) w.child.send({ type: "exit" } satisfies ToQuickfire);
  await Promise.all(workers.map((w) => stopChild(w.child, null, 3_000)));
  sampler?.stop();
  if (server.child) await stopChild(server.child, "SIGTERM", 5_000);

  const errors: Record<string, number> = {};
  for (const r of results) addCounts(errors, r.errors);
  const answers = acked.length;
  if (opts.plot) {
    writeFileSync(
      opts.plot,
      renderSvg({
        title: `quizwire bench (quick-fire) — ${formatInt(joined)} players in ${formatInt(contests)} contests`,
        subtitle: `${new Date().toISOString()}; seed ${opts.seed}; ${commandLine(argv)}`,
        cdfs: [
          { name: "connect → own PLAYER_JOINED", samples: results.flatMap((r) => r.joinMs) },
          { name: "SUBMIT_ANSWER → ANSWER_RESULT", samples: results.flatMap((r) => r.ackMs) },
          {
            name: "NEW_QUESTION spread in a contest",
            samples: results.flatMap((r) => r.questionSpreadMs),
          },
          {
            name: "SCORE_UPDATE spread in a contest",
            samples: results.flatMap((r) => r.scoreSpreadMs),
          },
        ],
        strips: [],
        playerCount: opts.players,
      }),
    );
    notes.push(`plot written to ${opts.plot}`);
  }
  return {
    tool: "quizwire bench (quick-fire)",
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model.trim() ?? "unknown CPU",
    cores: cpus().length,
    command: commandLine(argv),
    options: opts,
    contests,
    players: { requested: opts.players, joined, failed: sum(workers.map((w) => w.failed)) },
    createS,
    joinS,
    gameS,
    latency: {
      join: summarize(results.flatMap((r) => r.joinMs)),
      start: summarize(results.flatMap((r) => r.startMs)),
      answerAck: summarize(results.flatMap((r) => r.ackMs)),
      questionSpread: summarize(results.flatMap((r) => r.questionSpreadMs)),
      scoreSpread: summarize(results.flatMap((r) => r.scoreSpreadMs)),
      contest: summarize(results.flatMap((r) => r.gameMs)),
    },
    tooLate: sum(results.map((r) => r.tooLate)),
    contestsOver: sum(results.map((r) => r.contestsOver)),
    server: sampler
      ? {
          cpuJoinS: cpu1 - cpu0,
          cpuGameS: cpu2 - cpu1,
          mainCpuGameS: main2 - main1,
          cpuPerJoinMs: joined > 0 ? ((cpu1 - cpu0) * 1000) / joined : Number.NaN,
          cpuPerAnswerMs: answers > 0 ? ((cpu2 - cpu1) * 1000) / answers : Number.NaN,
          rssIdleBytes: rssIdle,
          rssAfterJoinBytes: rssAfterJoin,
          rssPeakBytes: sampler.peak,
        }
      : null,
    generator: {
      cpuJoinS: results.map((r) => r.cpuJoinS),
      cpuGameS: results.map((r) => r.cpuGameS),
      cpuTotalS: results.map((r) => r.cpuTotalS),
      loopP99Ms: Math.max(0, ...results.map((r) => r.loopDelayP99Ms)),
      loopMaxMs: Math.max(0, ...results.map((r) => r.loopDelayMaxMs)),
    },
    frames: sum(results.map((r) => r.totalFrames)),
    bytes: sum(results.map((r) => r.totalBytes)),
    acked: answers,
    lost,
    pointsDiffer,
    integrityError,
    errors,
    notes,
  };
}

export function formatQuickfireReport(r: QuickfireReport): string {
  const o = r.options;
  const lines: string[] = [];
  lines.push(
    `quizwire bench (quick-fire, raw sockets on /ws/contests) — ${formatInt(r.players.requested)} players in ${formatInt(r.contests)} contests of up to ${CONTEST_SIZE}, ${o.questions} questions, ${r.generator.cpuTotalS.length} worker(s), node ${r.node}, ${r.date}`,
  );
  lines.push(
    `${r.cpu} × ${r.cores}; answer-spread-ms ${o.answerSpreadMs}; seed ${o.seed}; contests created in ${r.createS.toFixed(1)} s`,
  );
  lines.push("");
  const L = r.latency;
  lines.push(
    formatTable([
      ["metric", "count", "p50", "p95", "p99", "max", "(ms)"],
      summaryRow("connect → own PLAYER_JOINED", L.join),
      summaryRow("START_GAME → CONTEST_STARTED", L.start),
      summaryRow("SUBMIT_ANSWER → ANSWER_RESULT", L.answerAck),
      summaryRow("NEW_QUESTION spread in a contest", L.questionSpread),
      summaryRow("SCORE_UPDATE spread in a contest", L.scoreSpread),
      summaryRow("contest (START_GAME → GAME_OVER)", L.contest),
    ]),
  );
  lines.push("");
  lines.push(
    `joins                  ${formatInt(r.players.joined)} of ${formatInt(r.players.requested)} in ${r.joinS.toFixed(2)} s (${formatInt(r.players.joined / r.joinS)}/s)${r.players.failed ? `; ${r.players.failed} failed` : ""}`,
  );
  lines.push(
    `game                   ${formatInt(r.contestsOver)} of ${formatInt(r.contests)} contests reached GAME_OVER in ${r.gameS.toFixed(1)} s; ${formatInt(r.acked)} answers acknowledged (${formatInt(r.acked / r.gameS)}/s), ${formatInt(r.tooLate)} refused because the question had closed (too_late / not_open: after the first correct answer, T-4; expected)`,
  );
  const s = r.server;
  if (s) {
    lines.push(
      `server CPU             joins ${s.cpuJoinS.toFixed(2)} s = ${s.cpuPerJoinMs.toFixed(3)} ms per join; game ${s.cpuGameS.toFixed(2)} s (${(s.cpuGameS / r.gameS).toFixed(2)} cores avg, main thread ${(s.mainCpuGameS / r.gameS).toFixed(2)}) = ${s.cpuPerAnswerMs.toFixed(3)} ms per acknowledged answer (timers, questions and fan-out included)`,
    );
    lines.push(
      `server RSS             idle ${formatMB(s.rssIdleBytes)} MB (contests created), after joins ${formatMB(s.rssAfterJoinBytes)} MB (${((s.rssAfterJoinBytes - s.rssIdleBytes) / 1024 / Math.max(1, r.players.joined)).toFixed(1)} KiB per player), peak ${formatMB(s.rssPeakBytes)} MB`,
    );
  }
  const g = r.generator;
  lines.push(
    `generator CPU          joins ${sum(g.cpuJoinS).toFixed(2)} s, game ${sum(g.cpuGameS).toFixed(2)} s (${(sum(g.cpuGameS) / r.gameS).toFixed(2)} cores avg), whole run ${sum(g.cpuTotalS).toFixed(2)} s; event loop p99 ≤ ${formatMs(g.loopP99Ms)} ms, max ${formatMs(g.loopMaxMs)} ms; ${formatInt(r.frames)} frames, ${formatMB(r.bytes)} MB received`,
  );
  lines.push(
    r.integrityError === null
      ? `acknowledged answers lost: ${formatInt(r.lost)}   (${formatInt(r.acked)} compared with GET /api/v1/sessions/{id}/results${r.pointsDiffer ? `; ${formatInt(r.pointsDiffer)} with other points` : "; points as acknowledged"})`
      : `acknowledged answers lost: not checked (${r.integrityError})`,
  );
  const errs = Object.entries(r.errors).sort((a, b) => b[1] - a[1]);
  lines.push(
    `errors                 ${errs.length === 0 ? "none" : errs.map(([k, v]) => `${k}: ${v}`).join(", ")}`,
  );
  for (const n of r.notes) lines.push(`note: ${n}`);
  lines.push("");
  lines.push(`command: ${r.command}${o.seedGiven ? "" : `   (repeat with --seed ${o.seed})`}`);
  return lines.join("\n");
}
