/**
 * Several quizwire processes sharing one Postgres and one Redis behind a
 * round-robin balancer with no stickiness (issue 5): a session whose players
 * are spread over every instance plays to the end with the same leaderboards
 * everywhere; its owner is SIGKILLed mid-question and another instance
 * finishes it with no acknowledged answer lost; Redis restarts mid-game.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerData } from "../../src/doors/canonical/protocol.js";
import type { QuizwireClient, ScoreData } from "../../src/sdk/index.js";
import { connectClient, EventLog } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { deleteKeys, randomKeyPrefix } from "../support/redis.js";
import { type RoundRobinProxy, startRoundRobinProxy } from "../support/round-robin-proxy.js";
import { ServerProcess } from "../support/server-process.js";
import {
  freshPgSchema,
  type PgSchema,
  postgresAvailable,
  redisAvailable,
  requireOrSkip,
  TEST_REDIS_URL,
} from "../support/services.js";

const services = requireOrSkip(await postgresAvailable(), await redisAvailable());

const QUIZ = {
  id: "cluster-quiz",
  title: "Cluster quiz",
  questions: [1, 2, 3, 4].map((n) => ({
    id: `c${n}`,
    text: `Question ${n}?`,
    options: ["A", "B", "C", "D"],
    correct: [n % 4],
    time_limit_ms: 60_000,
  })),
};

interface Cluster {
  servers: ServerProcess[];
  lb: RoundRobinProxy;
  clients: QuizwireClient[];
  stop(): Promise<void>;
}

async function startCluster(
  n: number,
  schema: PgSchema,
  redisUrl: string,
  prefix: string,
): Promise<Cluster> {
  const env = {
    DATABASE_URL: schema.url,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: prefix,
    PORT: "0",
    LOG_LEVEL: "info",
  };
  // One at a time, so migrations and demo content are in place before the others start.
  const servers: ServerProcess[] = [];
  for (let i = 0; i < n; i++) servers.push(await ServerProcess.start(env));
  const lb = await startRoundRobinProxy(servers.map((s) => s.port));
  const clients: QuizwireClient[] = [];
  return {
    servers,
    lb,
    clients,
    async stop() {
      for (const c of clients) c.close();
      for (const s of servers) await s.kill();
      await lb.close();
    },
  };
}

async function client(c: Cluster): Promise<QuizwireClient> {
  const q = await connectClient(`ws://127.0.0.1:${c.lb.port}/ws/v1`, {
    reconnect: { initialDelayMs: 50, maxDelayMs: 300 },
    requestTimeoutMs: 8_000,
  });
  c.clients.push(q);
  return q;
}

async function postQuiz(port: number): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/quizzes`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(QUIZ),
  });
  expect([200, 201]).toContain(res.status);
}

/** Which instance runs the session: its readiness says how many sessions it owns. */
async function ownerOf(servers: ServerProcess[]): Promise<ServerProcess | undefined> {
  for (const s of servers) {
    if (s.child.exitCode !== null || s.child.signalCode !== null) continue;
    const body = (await (await fetch(`http://127.0.0.1:${s.port}/health/ready`)).json()) as {
      checks: { redis?: { detail?: string } };
    };
    if (/owns [1-9]/.test(body.checks.redis?.detail ?? "")) return s;
  }
  return undefined;
}

interface Player {
  c: QuizwireClient;
  log: EventLog;
  name: string;
}

/**
 * A question reached the player: as its `question` event, or — when events were lost between
 * instances — inside the fresh `state` the server sends to repair the gap.
 */
function questionReached(p: Player, index: number): Promise<unknown> {
  return Promise.race([
    p.log.wait<ServerData<"question">>("question", (q) => q.index === index),
    p.log.wait<ServerData<"state">>(
      "state",
      (s) => s.phase.kind === "question" && s.phase.index === index,
    ),
  ]);
}

/** The host saw question `index` revealed: as its `reveal`, or in a repairing `state`. */
function revealReached(log: EventLog, index: number): Promise<unknown> {
  return Promise.race([
    log.wait<ServerData<"reveal">>("reveal", (r) => r.index === index),
    log.wait<ServerData<"state">>(
      "state",
      (s) => s.phase.kind === "reveal" && s.phase.index === index,
    ),
  ]);
}

/** The final leaderboard: from `end`, or from a repairing `state` of the ended room. */
function endReached(log: EventLog): Promise<ServerData<"end">["leaderboard"]> {
  return Promise.race([
    log.wait<ServerData<"end">>("end").then((e) => e.leaderboard),
    log
      .wait<ServerData<"state">>("state", (s) => s.phase.kind === "ended")
      .then((s) => s.leaderboard),
  ]);
}

async function setUpGame(cl: Cluster, players: number) {
  await postQuiz(cl.servers[0]!.port);
  const host = await client(cl);
  const room = await host.createRoom({
    quizId: QUIZ.id,
    mode: "live",
    settings: { question_time_ms: 60_000 },
  });
  const hostLog = new EventLog(host, ["reveal", "end", "resumed", "question", "state"]);
  const ps: Player[] = [];
  for (let i = 0; i < players; i++) {
    const c = await client(cl);
    const name = `P${i + 1}`;
    await c.join({ pin: room.pin, displayName: name });
    ps.push({ c, log: new EventLog(c, ["question", "reveal", "end", "resumed", "state"]), name });
  }
  return { host, hostLog, room, players: ps };
}

describe.skipIf(services.skip)(services.title("quizwire as a cluster of processes"), () => {
  let schema: PgSchema;
  let prefix: string;
  let cl: Cluster;

  beforeAll(async () => {
    schema = await freshPgSchema();
    prefix = randomKeyPrefix();
    cl = await startCluster(3, schema, TEST_REDIS_URL, prefix);
  }, 60_000);

  afterAll(async () => {
    await cl?.stop();
    await schema?.drop();
    if (prefix) await deleteKeys(TEST_REDIS_URL, prefix);
  });

  it("players spread over three instances play to the end and every client sees the same leaderboards", async () => {
    const { host, hostLog, players } = await setUpGame(cl, 6);
    // Round robin put connections on every instance.
    expect([...cl.lb.accepted.values()].filter((n) => n > 0)).toHaveLength(3);
    await host.start();
    for (let index = 0; index < QUIZ.questions.length; index++) {
      await players[0]!.log.wait<ServerData<"question">>("question", (q) => q.index === index);
      for (const [i, p] of players.entries()) await p.c.answer(index, { choice: (i + index) % 4 });
      await hostLog.wait<ServerData<"reveal">>("reveal", (r) => r.index === index);
      const boards = await Promise.all(
        players.map((p) => p.log.wait<ServerData<"reveal">>("reveal", (r) => r.index === index)),
      );
      for (const b of boards) expect(b.leaderboard).toEqual(boards[0]!.leaderboard);
      await host.nextQuestion();
    }
    const ends = await Promise.all(
      [hostLog, ...players.map((p) => p.log)].map((l) => l.wait<ServerData<"end">>("end")),
    );
    for (const e of ends) expect(e.leaderboard).toEqual(ends[0]!.leaderboard);
    expect(ends[0]!.leaderboard).toHaveLength(6);
  }, 60_000);

  it("the owner SIGKILLed mid-question: another instance takes over and no acknowledged answer is lost", async () => {
    const { host, hostLog, room, players } = await setUpGame(cl, 6);
    const acked: Array<{ name: string; ack: ScoreData }> = [];
    await host.start();
    await players[0]!.log.wait<ServerData<"question">>("question", (q) => q.index === 0);
    for (const p of players.slice(0, 4))
      acked.push({ name: p.name, ack: await p.c.answer(0, { choice: 1 }) });

    const owner = await ownerOf(cl.servers);
    expect(owner).toBeDefined();
    const killedAt = Date.now();
    await owner!.kill("SIGKILL");
    // The rest answer as soon as the session is back; their SDKs retry what is refused meanwhile.
    for (const p of players.slice(4)) {
      for (;;) {
        try {
          acked.push({ name: p.name, ack: await p.c.answer(0, { choice: 1 }) });
          break;
        } catch (err) {
          if ((err as { retryable?: boolean }).retryable !== true) throw err;
        }
      }
    }
    const failoverMs = Date.now() - killedAt;
    console.log(`[cluster] session answered again ${failoverMs} ms after its owner was killed`);
    await hostLog.wait<ServerData<"reveal">>("reveal", (r) => r.index === 0);
    for (let index = 1; index < QUIZ.questions.length; index++) {
      await host.nextQuestion();
      await players[0]!.log.wait<ServerData<"question">>("question", (q) => q.index === index);
      for (const p of players)
        acked.push({ name: p.name, ack: await p.c.answer(index, { choice: index % 4 }) });
      await hostLog.wait<ServerData<"reveal">>("reveal", (r) => r.index === index);
    }
    await host.nextQuestion();
    const end = await hostLog.wait<ServerData<"end">>("end");

    const alive = cl.servers.find((s) => s.child.exitCode === null && s.child.signalCode === null)!;
    const results = (await (
      await fetch(`http://127.0.0.1:${alive.port}/api/v1/sessions/${room.roomId}/results`)
    ).json()) as {
      players: Array<{
        name: string;
        score: number;
        answers: Array<{ question_index: number; answered: boolean; points: number }>;
      }>;
    };
    for (const { name, ack } of acked) {
      const row = results.players.find((p) => p.name === name)!;
      const stored = row.answers.find((a) => a.question_index === ack.index)!;
      expect(stored.answered).toBe(true);
      expect(stored.points).toBe(ack.points);
    }
    for (const row of results.players) {
      expect(row.score).toBe(row.answers.reduce((n, a) => n + a.points, 0));
      expect(end.leaderboard.find((s) => s.name === row.name)?.score).toBe(row.score);
    }
  }, 90_000);
});

/** A private redis-server this test may stop and start (the machine's own Redis is shared). */
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      const port = typeof a === "object" && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function startRedis(port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const timer = setTimeout(() => reject(new Error("redis-server did not start")), 10_000);
    child.stdout?.on("data", (d: Buffer) => {
      if (/Ready to accept connections/.test(String(d))) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

describe.skipIf(services.skip)(services.title("quizwire cluster across a Redis restart"), () => {
  let schema: PgSchema;
  let cl: Cluster;
  let redis: ChildProcess | null = null;
  let redisPort = 0;

  beforeAll(async () => {
    schema = await freshPgSchema();
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    cl = await startCluster(2, schema, `redis://127.0.0.1:${redisPort}`, "quizwire:");
  }, 60_000);

  afterAll(async () => {
    if (process.env.QW_DEBUG_CLUSTER)
      for (const s of cl?.servers ?? []) console.log(s.output.join("").slice(-6000));
    await cl?.stop();
    redis?.kill("SIGKILL");
    await schema?.drop();
  });

  it("Redis restarted mid-game: instances reconnect by themselves and the game finishes", async () => {
    const { host, hostLog, players } = await setUpGame(cl, 4);
    await host.start();
    await players[0]!.log.wait<ServerData<"question">>("question", (q) => q.index === 0);
    for (const p of players) await p.c.answer(0, { choice: 0 });
    await hostLog.wait<ServerData<"reveal">>("reveal", (r) => r.index === 0);

    // Redis goes away; readiness says so, and the owner keeps its session.
    const stopped = new Promise((r) => redis!.once("exit", r));
    redis!.kill("SIGKILL");
    await stopped;
    const owner = cl.servers[0]!;
    await eventually(
      "the owner's readiness to report Redis degraded",
      async () => {
        const body = (await (
          await fetch(`http://127.0.0.1:${owner.port}/health/ready`)
        ).json()) as {
          checks: { redis?: { status: string } };
        };
        if (process.env.QW_DEBUG_CLUSTER)
          console.log("ready says", JSON.stringify(body.checks.redis));
        return body.checks.redis;
      },
      { until: (redis) => redis?.status === "degraded", intervalMs: 100, timeoutMs: 30_000 },
    );
    redis = await startRedis(redisPort);
    if (process.env.QW_DEBUG_CLUSTER) console.log("redis restarted");

    // The game goes on to the end; commands refused while things reconnect are retried (for a
    // bounded time: a refusal that never ends is a failure that names itself).
    const retrying = async <T>(fn: () => Promise<T>): Promise<T> => {
      const until = Date.now() + 30_000;
      for (;;) {
        try {
          return await fn();
        } catch (err) {
          if ((err as { retryable?: boolean }).retryable !== true || Date.now() > until) throw err;
        }
      }
    };
    // Events sent while the instances reconnect may be lost between them; the server then repairs
    // each client with a fresh `state`, so waits accept either.
    for (let index = 1; index < QUIZ.questions.length; index++) {
      await retrying(() => host.nextQuestion());
      if (process.env.QW_DEBUG_CLUSTER) console.log("next sent", index);
      await questionReached(players[0]!, index);
      if (process.env.QW_DEBUG_CLUSTER) console.log("question seen", index);
      for (const p of players) await retrying(() => p.c.answer(index, { choice: 0 }));
      if (process.env.QW_DEBUG_CLUSTER) console.log("answered", index);
      await revealReached(hostLog, index);
    }
    await retrying(() => host.nextQuestion());
    expect(await endReached(hostLog)).toHaveLength(4);
  }, 90_000);
});
