/**
 * `npm run bench -- --scenario seed001` (one big session) and `--scenario seed001-many` (many
 * sessions): learners on raw sockets through the vocabulary door (`/ws`, seed 001), in self-paced
 * sessions created over REST, answering at `--answers-per-min` each. See bench/README.md.
 */
import { type ChildProcess, fork } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { renderSvg } from "./plot.js";
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
import type { FromSeed001, Seed001Results, ToSeed001 } from "./seed001-worker.js";
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
const WORKER_PATH = fileURLToPath(new URL("./seed001-worker.ts", import.meta.url));
const OPTIONS = ["Option A", "Option B", "Option C", "Option D"];

interface Handle {
  index: number;
  child: ChildProcess;
  ready: boolean;
  joined: number;
  failed: number;
  joinStartAt: number;
  joinEndAt: number;
  progressJoined: number;
  acks: number;
  answersDone: boolean;
  ended: boolean;
  results: Seed001Results | null;
}

let stopping = false;

function adminHeaders(): Record<string, string> {
  const t = process.env.ADMIN_TOKEN?.trim();
  return t ? { authorization: `Bearer ${t}` } : {};
}

async function post(base: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...adminHeaders(),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

export interface Seed001Report {
  tool: "quizwire bench (seed001)";
  date: string;
  node: string;
  cpu: string;
  cores: number;
  command: string;
  options: BenchOptions;
  sessions: number;
  perSession: number;
  learners: { requested: number; joined: number; failed: number };
  joinS: number;
  answerS: number;
  latency: {
    connect: Summary;
    join: Summary;
    answerAck: Summary;
    boardDelivery: Summary;
    staleness: Summary;
    boardGap: Summary;
  };
  boards: number;
  boardBytes: number;
  server: {
    cpuJoinS: number;
    cpuAnswerS: number;
    /** The main thread's (the event loop's) part of `cpuAnswerS`. */
    mainCpuAnswerS: number;
    cpuPerJoinMs: number;
    cpuPerAnswerMs: number;
    rssIdleBytes: number;
    rssAfterJoinBytes: number;
    rssPeakBytes: number;
  } | null;
  generator: {
    cpuJoinS: number[];
    cpuAnswerS: number[];
    cpuTotalS: number[];
    loopP99Ms: number;
    loopMaxMs: number;
    offsetMs: number[];
  };
  acked: number;
  unacked: number;
  lost: number;
  pointsDiffer: number;
  integrityError: string | null;
  errors: Record<string, number>;
  notes: string[];
}

const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);

export async function runSeed001(
  opts: BenchOptions,
  argv: readonly string[],
): Promise<Seed001Report> {
  readClockTicks();
  const notes: string[] = [];
  const sessions = opts.sessions;
  if (opts.players % sessions !== 0) {
    throw new UsageError(
      `--players (${opts.players}) must be a multiple of --sessions (${sessions})`,
    );
  }
  const perSession = opts.players / sessions;
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

  let server: ServerHandle;
  if (opts.url) {
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
    setPhase("starting the server (node --import tsx src/main.ts)");
    server = await startServer(1, {}, "/health/live");
  }

  setPhase(
    `creating a seed-001 quiz of ${opts.questions} questions and ${sessions} session(s) over REST`,
  );
  const quizId = `bench-${Date.now().toString(36)}-${process.pid}`;
  const questionIds = Array.from({ length: opts.questions }, (_, i) => `q${i + 1}`);
  await post(server.httpBase, "/api/v1/quizzes", {
    id: quizId,
    title: "bench seed 001",
    questions: questionIds.map((id, i) => ({
      id,
      text: `Bench question ${i + 1}`,
      options: OPTIONS,
      correct_answer: OPTIONS[(opts.seed + i) % OPTIONS.length],
      points: 10,
    })),
  });
  const sessionIds: string[] = [];
  for (let i = 0; i < sessions; i++) {
    const s = await post(server.httpBase, "/api/v1/sessions", {
      quiz_id: quizId,
      max_participants: perSession + 10,
      // A lobby, started over REST once every learner joined (else the first join starts it).
      start_time: null,
    });
    if (typeof s.session_id !== "string")
      throw new Error("POST /api/v1/sessions gave no session_id");
    sessionIds.push(s.session_id);
  }
  const sampler = server.sampler;
  await sleep(300);
  const rssIdle = sampler?.sample() ?? 0;
  const cpu0 = sampler?.cpu() ?? 0;

  const workers: Handle[] = [];
  const line = new ProgressLine(
    () =>
      `  joined ${formatInt(sum(workers.map((w) => w.progressJoined)))}/${formatInt(opts.players)}, acks ${formatInt(sum(workers.map((w) => w.acks)))}${sampler ? `, server ${sampler.cpuS.toFixed(1)} CPU s` : ""}`,
  );
  setPhase(
    `forking ${opts.workers} worker(s); ${formatInt(opts.players)} learners join ${sessions} session(s) of ${formatInt(perSession)} on /ws`,
  );
  line.start();
  const u = new URL(server.wsUrl);
  let first = 0;
  splitEvenly(opts.players, opts.workers).forEach((learners, index) => {
    const child = fork(WORKER_PATH, [], {
      cwd: ROOT,
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    owned.children.add(child);
    const h: Handle = {
      index,
      child,
      ready: false,
      joined: 0,
      failed: 0,
      joinStartAt: 0,
      joinEndAt: 0,
      progressJoined: 0,
      acks: 0,
      answersDone: false,
      ended: false,
      results: null,
    };
    workers.push(h);
    child.on("message", (raw: unknown) => {
      const m = raw as FromSeed001;
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
          h.answersDone = m.answersDone;
          break;
        case "ended":
          h.ended = true;
          break;
        case "results":
          h.results = m.results;
          break;
        case "fatal":
          failWith(new Error(`seed001 worker ${m.workerIndex} failed: ${m.message}`));
          break;
      }
      tick();
    });
    child.on("exit", (code, signal) => {
      if (!stopping)
        failWith(new Error(`seed001 worker ${index} exited early (${code ?? signal})`));
    });
    const msg: ToSeed001 = {
      type: "init",
      workerIndex: index,
      host: u.hostname,
      port: Number(u.port),
      sessions: sessionIds,
      perSession,
      firstLearner: first,
      learners,
      questionIds,
      options: OPTIONS,
      answersPerMinute: opts.answersPerMin,
      joinConcurrency: opts.joinConcurrency,
      seed: opts.seed,
      hardTimeoutMs: opts.timeoutS * 1000 + 10_000,
      nice: opts.generatorNice,
    };
    child.send(msg);
    first += learners;
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
  setPhase(
    `${formatInt(joined)} joined in ${joinS.toFixed(2)} s; starting the session(s) over REST`,
  );
  for (const id of sessionIds)
    await post(server.httpBase, `/api/v1/sessions/${id}/start`, undefined);
  await sleep(200);
  const periodS = 60 / opts.answersPerMin;
  setPhase(
    `answering: ${opts.questions} answers per learner, one every ${periodS.toFixed(1)} s (about ${(opts.questions * periodS).toFixed(0)} s)`,
  );
  const a0 = performance.now();
  for (const w of workers) {
    if (alive(w.child)) w.child.send({ type: "answer" } satisfies ToSeed001);
  }
  const done = await waitFor(
    () => workers.every((w) => w.answersDone),
    Math.max(30_000, opts.questions * periodS * 1000 * 2 + 30_000),
  );
  if (!done) notes.push("not every learner had a reply to every answer in time");
  const answerS = (performance.now() - a0) / 1000;
  // The last boards go out within a 100 ms window after the last answers.
  await sleep(500);
  const cpu2 = sampler?.cpu() ?? 0;
  const main2 = sampler?.mainCpuS ?? 0;
  line.clear();
  setPhase("ending the session(s) over REST");
  for (const id of sessionIds) await post(server.httpBase, `/api/v1/sessions/${id}/end`, undefined);
  const ended = await waitFor(() => workers.every((w) => w.ended), 30_000);
  if (!ended) notes.push("not every learner got SESSION_ENDED within 30 s");
  line.stop();
  for (const w of workers)
    if (alive(w.child)) w.child.send({ type: "collect" } satisfies ToSeed001);
  await waitFor(() => workers.every((w) => w.results !== null), 15_000);
  const results = workers.flatMap((w) => (w.results ? [w.results] : []));

  setPhase("checking acknowledged answers against GET /api/v1/sessions/{id}/results");
  let lost = 0;
  let pointsDiffer = 0;
  let integrityError: string | null = null;
  const acked = results.flatMap((r) =>
    r.ackLearner.map((n, i) => ({
      n,
      index: r.ackIndex[i] ?? -1,
      points: r.ackPoints[i] ?? Number.NaN,
    })),
  );
  try {
    for (let s = 0; s < sessions; s++) {
      const stored = await fetchResults(server.httpBase, sessionIds[s] ?? "");
      const mine = acked
        .filter((a) => Math.floor(a.n / perSession) === s)
        .map((a) => ({ name: `p${a.n}`, index: a.index, points: a.points }));
      const c = checkAcknowledged(mine, stored);
      lost += c.lost;
      pointsDiffer += c.pointsDiffer;
    }
  } catch (e) {
    integrityError = e instanceof Error ? e.message : String(e);
  }

  stopping = true;
  for (const w of workers) if (alive(w.child)) w.child.send({ type: "exit" } satisfies ToSeed001);
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
        title: `quizwire bench (${opts.scenario}) — ${formatInt(joined)} learners in ${sessions} session(s)`,
        subtitle: `${new Date().toISOString()}; seed ${opts.seed}; ${commandLine(argv)}`,
        cdfs: [
          { name: "JOIN_SESSION → SESSION_JOINED", samples: results.flatMap((r) => r.joinMs) },
          { name: "SUBMIT_ANSWER → SCORE_UPDATED", samples: results.flatMap((r) => r.ackMs) },
          {
            name: "LEADERBOARD_UPDATED delivery",
            samples: results.flatMap((r) => r.boardDeliveryMs),
          },
          { name: "leaderboard staleness", samples: results.flatMap((r) => r.stalenessMs) },
          { name: "board interval per learner", samples: results.flatMap((r) => r.boardGapMs) },
        ],
        strips: [],
        playerCount: opts.players,
      }),
    );
    notes.push(`plot written to ${opts.plot}`);
  }
  return {
    tool: "quizwire bench (seed001)",
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model.trim() ?? "unknown CPU",
    cores: cpus().length,
    command: commandLine(argv),
    options: opts,
    sessions,
    perSession,
    learners: { requested: opts.players, joined, failed: sum(workers.map((w) => w.failed)) },
    joinS,
    answerS,
    latency: {
      connect: summarize(results.flatMap((r) => r.connectMs)),
      join: summarize(results.flatMap((r) => r.joinMs)),
      answerAck: summarize(results.flatMap((r) => r.ackMs)),
      boardDelivery: summarize(results.flatMap((r) => r.boardDeliveryMs)),
      staleness: summarize(results.flatMap((r) => r.stalenessMs)),
      boardGap: summarize(results.flatMap((r) => r.boardGapMs)),
    },
    boards: sum(results.map((r) => r.boards)),
    boardBytes: sum(results.map((r) => r.boardBytes)),
    server: sampler
      ? {
          cpuJoinS: cpu1 - cpu0,
          cpuAnswerS: cpu2 - cpu1,
          mainCpuAnswerS: main2 - main1,
          cpuPerJoinMs: joined > 0 ? ((cpu1 - cpu0) * 1000) / joined : Number.NaN,
          cpuPerAnswerMs: answers > 0 ? ((cpu2 - cpu1) * 1000) / answers : Number.NaN,
          rssIdleBytes: rssIdle,
          rssAfterJoinBytes: rssAfterJoin,
          rssPeakBytes: sampler.peak,
        }
      : null,
    generator: {
      cpuJoinS: results.map((r) => r.cpuJoinS),
      cpuAnswerS: results.map((r) => r.cpuAnswerS),
      cpuTotalS: results.map((r) => r.cpuTotalS),
      loopP99Ms: Math.max(0, ...results.map((r) => r.loopDelayP99Ms)),
      loopMaxMs: Math.max(0, ...results.map((r) => r.loopDelayMaxMs)),
      offsetMs: results.map((r) => r.offsetMs),
    },
    acked: answers,
    unacked: sum(results.map((r) => r.unacked)),
    lost,
    pointsDiffer,
    integrityError,
    errors,
    notes,
  };
}

export function formatSeed001Report(r: Seed001Report): string {
  const o = r.options;
  const lines: string[] = [];
  lines.push(
    `quizwire bench (${o.scenario}, raw sockets on /ws) — ${formatInt(r.learners.requested)} learners in ${formatInt(r.sessions)} session(s) of ${formatInt(r.perSession)}, ${o.questions} answers each at ${o.answersPerMin}/min, ${r.generator.cpuTotalS.length} worker(s), node ${r.node}, ${r.date}`,
  );
  lines.push(`${r.cpu} × ${r.cores}; seed ${o.seed}`);
  lines.push("");
  const L = r.latency;
  lines.push(
    formatTable([
      ["metric", "count", "p50", "p95", "p99", "max", "(ms)"],
      summaryRow("connect (upgrade)", L.connect),
      summaryRow("JOIN_SESSION → SESSION_JOINED", L.join),
      summaryRow("SUBMIT_ANSWER → SCORE_UPDATED", L.answerAck),
      summaryRow("LEADERBOARD_UPDATED delivery", L.boardDelivery),
      summaryRow("leaderboard staleness", L.staleness),
      summaryRow("board interval per learner", L.boardGap),
    ]),
  );
  lines.push("");
  lines.push(
    `joins                  ${formatInt(r.learners.joined)} of ${formatInt(r.learners.requested)} in ${r.joinS.toFixed(2)} s (${formatInt(r.learners.joined / r.joinS)}/s)${r.learners.failed ? `; ${r.learners.failed} failed` : ""}`,
  );
  lines.push(
    `answers                ${formatInt(r.acked)} acknowledged in ${r.answerS.toFixed(1)} s (${formatInt(r.acked / r.answerS)}/s)${r.unacked ? `; ${formatInt(r.unacked)} refused` : ""}`,
  );
  lines.push(
    `leaderboards           ${formatInt(r.boards)} LEADERBOARD_UPDATED received, ${formatMB(r.boardBytes)} MB (${formatInt(r.boards / r.answerS)}/s over the answering)`,
  );
  const s = r.server;
  if (s) {
    lines.push(
      `server CPU             joins ${s.cpuJoinS.toFixed(2)} s = ${s.cpuPerJoinMs.toFixed(3)} ms per join; answering ${s.cpuAnswerS.toFixed(2)} s (${(s.cpuAnswerS / r.answerS).toFixed(2)} cores avg, main thread ${(s.mainCpuAnswerS / r.answerS).toFixed(2)}) = ${s.cpuPerAnswerMs.toFixed(3)} ms per answer (leaderboard pushes included)`,
    );
    lines.push(
      `server RSS             idle ${formatMB(s.rssIdleBytes)} MB, after joins ${formatMB(s.rssAfterJoinBytes)} MB (${((s.rssAfterJoinBytes - s.rssIdleBytes) / 1024 / Math.max(1, r.learners.joined)).toFixed(1)} KiB per learner), peak ${formatMB(s.rssPeakBytes)} MB`,
    );
  }
  const g = r.generator;
  lines.push(
    `generator CPU          joins ${sum(g.cpuJoinS).toFixed(2)} s, answering ${sum(g.cpuAnswerS).toFixed(2)} s (${(sum(g.cpuAnswerS) / r.answerS).toFixed(2)} cores avg), whole run ${sum(g.cpuTotalS).toFixed(2)} s; event loop p99 ≤ ${formatMs(g.loopP99Ms)} ms, max ${formatMs(g.loopMaxMs)} ms; clock offset ${g.offsetMs.map((x) => `${formatMs(x)} ms`).join(", ")}`,
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
