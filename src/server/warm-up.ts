import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import WebSocket from "ws";
import { withConnection } from "../adapters/redis/redis-connection.js";
import type { Config } from "../config.js";
import { QuizwireClient, type QuizwireClientOptions } from "../sdk/index.js";
import { type App, createApp } from "./app.js";

/**
 * A small live game played before the server opens, so that its first real
 * game does not run on cold code.
 *
 * V8 compiles a function for speed only after it has run many times. A server
 * that has just started meets its first 10,000-player question with an answer
 * path that has never run, and the answers back up: on the bench's machine
 * (issue 10, 2026-12-06) question 1's answer → ack p99 was 191 / 127 / 36 ms on
 * a fresh server against 25 / 38 / 28 ms after a 300-player warm-up game, and
 * a bigger warm-up did no better, so it is the code that was cold, not the
 * heap or the database.
 *
 * The game runs against a private instance of the server in this process (a
 * SQLite database in a temporary directory, no Redis, 127.0.0.1 on a port of
 * its own), through the real path: sockets, `ws`, the canonical door, the
 * room, the group commit, the fan-out. The code it warms is the code the real
 * instance runs (V8 keeps a function's optimised code with the function, and
 * both instances share their modules). Nothing of it reaches the real
 * database, metrics or logs, and it starts none of prom-client's process
 * metrics (which nothing could stop); its directory is removed afterwards. A
 * warm-up that fails or takes longer than `WARM_UP_TIMEOUT_MS` is logged and
 * skipped: the server then starts cold, as it did before.
 *
 * An instance of a cluster (REDIS_URL set) plays it on two private instances
 * instead, joined through the same Redis under a key prefix of their own (the
 * deployment's, then `warm-up:<random>:`; its keys are deleted afterwards) and
 * sharing their temporary database: the host and half of the players on the
 * first, the other half on the second, so that half of the answers take the
 * path a cluster's answers from other instances take (to the session's owner
 * over the bus and back). That path was cold too: in two-instance bench runs
 * (issue 10, 2026-12-07, 10,000 players) question 1's answer → ack p99 was
 * 131–953 ms against 68–131 for the later questions, and a warm-up game whose
 * players were on the other instance took it to 85–99 ms, where one whose
 * players were all on the session's owner left it at 145–510.
 */
export interface WarmUpReport {
  /** Private instances it was played on: two for a cluster's instance, one otherwise. */
  instances: number;
  players: number;
  questions: number;
  /** Answers acknowledged in the game. */
  answers: number;
  /** Of those, the answers of the players on each instance (the host's is the first). */
  answersByInstance: number[];
  ms: number;
  /** Where its database was (removed). */
  dataDir: string;
}

export const WARM_UP_QUESTIONS = 5;
export const WARM_UP_TIMEOUT_MS = 20_000;
/** Joins in flight at once: a few hundred players join in well under a second. */
const JOINS_IN_FLIGHT = 50;

export async function warmUp(config: Config, players: number, log: Logger): Promise<WarmUpReport> {
  const started = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), "quizwire-warm-up-"));
  const cluster =
    config.redisUrl === null
      ? null
      : {
          redisUrl: config.redisUrl,
          redisKeyPrefix: `${config.redisKeyPrefix}warm-up:${randomBytes(6).toString("hex")}:`,
        };
  const apps: App[] = [];
  try {
    // One after the other: the first makes the database's tables.
    for (let i = 0; i < (cluster === null ? 1 : 2); i++) {
      apps.push(await privateApp(config, dataDir, cluster, log));
    }
    const urls: Array<{ httpBase: string; wsUrl: string }> = [];
    for (const app of apps) {
      const port = await app.listen();
      urls.push({ httpBase: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/ws/v1` });
    }
    const game = playWarmUpGame(urls[0] as (typeof urls)[number], players, null, urls);
    // Closing the apps after a timeout fails the game too; nobody waits for it then.
    game.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the warm-up game took more than ${WARM_UP_TIMEOUT_MS} ms`)),
        WARM_UP_TIMEOUT_MS,
      );
    });
    try {
      const answersByInstance = await Promise.race([game, timeout]);
      const answers = answersByInstance.reduce((a, b) => a + b, 0);
      const ms = performance.now() - started;
      return {
        instances: apps.length,
        players,
        questions: WARM_UP_QUESTIONS,
        answers,
        answersByInstance,
        ms,
        dataDir,
      };
    } finally {
      clearTimeout(timer);
    }
  } finally {
    for (const app of apps.reverse()) await app.close();
    // No instance opened: nothing was written (and Redis may be out of reach, which the real
    // instance reports next).
    if (cluster !== null && apps.length > 0) {
      await deleteWarmUpKeys(cluster.redisUrl, cluster.redisKeyPrefix, log);
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * A private instance on `dataDir`, with Redis under the warm-up's own prefix when `cluster` is
 * given: only its code is the real instance's.
 */
function privateApp(
  config: Config,
  dataDir: string,
  cluster: { redisUrl: string; redisKeyPrefix: string } | null,
  log: Logger,
): Promise<App> {
  return createApp({
    config: {
      ...config,
      port: 0,
      host: "127.0.0.1",
      dataDir,
      databaseUrl: null,
      databaseVariable: null,
      redisUrl: cluster?.redisUrl ?? null,
      redisVariable: null,
      redisKeyPrefix: cluster?.redisKeyPrefix ?? config.redisKeyPrefix,
      demoContent: false,
      allowAnonymous: true,
      adminToken: null,
      maxConnectionsPerInstance: null,
      tracing: null,
      logLevel: "silent",
    },
    logger: log.child({ warmUp: true }, { level: "silent" }),
    processMetrics: false,
  });
}

/** Deletes what the warm-up's instances left in Redis (leases, limits, counters); a failure is logged. */
async function deleteWarmUpKeys(url: string, keyPrefix: string, log: Logger): Promise<void> {
  try {
    await withConnection({ url, keyPrefix, name: "warm-up-cleanup" }, (c) => c.deleteOwnKeys());
  } catch (err) {
    log.warn({ err, keyPrefix }, "could not delete the warm-up game's Redis keys");
  }
}

/**
 * The game, against any server (the bench plays it on the server it measures, `--warmup-players`):
 * a quiz made over REST (with `adminToken`, if the server wants one), a host and `players` SDK
 * clients that answer each question as it arrives. `playersOn`: where the players connect, in
 * turn (the target itself unless given); resolves with the answers acknowledged to the players
 * on each of them.
 */
export async function playWarmUpGame(
  target: { httpBase: string; wsUrl: string },
  players: number,
  adminToken: string | null = null,
  playersOn: ReadonlyArray<{ wsUrl: string }> = [target],
): Promise<number[]> {
  const clients: QuizwireClient[] = [];
  try {
    return await play(target, players, adminToken, playersOn, clients);
  } finally {
    for (const c of clients) c.close();
  }
}

async function play(
  target: { httpBase: string; wsUrl: string },
  players: number,
  adminToken: string | null,
  playersOn: ReadonlyArray<{ wsUrl: string }>,
  clients: QuizwireClient[],
): Promise<number[]> {
  const quizId = await createQuiz(target.httpBase, adminToken);
  const options: QuizwireClientOptions = {
    url: target.wsUrl,
    WebSocket: WebSocket as never,
    reconnect: false,
    requestTimeoutMs: WARM_UP_TIMEOUT_MS,
  };
  const host = new QuizwireClient(options);
  clients.push(host);
  await host.connect();
  const room = await host.createRoom({
    quizId,
    mode: "live",
    settings: { question_time_ms: WARM_UP_TIMEOUT_MS, max_participants: players + 10 },
    hostName: "warm-up host",
  });
  // Answers acknowledged to the players on each of `playersOn`.
  const answers = playersOn.map(() => 0);
  const refused: unknown[] = [];
  // Each answer's acknowledgement or refusal, awaited before the answers are counted: the game's end
  // can reach the host before a player on the other instance has its acknowledgement back (that
  // comes from the session's owner over the bus).
  const outcomes: Promise<void>[] = [];
  const revealed = new Set<number>();
  let ended = false;
  let wake: () => void = () => undefined;
  const until = (done: () => boolean): Promise<void> =>
    done()
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          wake = () => {
            if (done()) resolve();
          };
        });
  host.on("reveal", (d) => {
    revealed.add(d.index);
    wake();
  });
  host.on("end", () => {
    ended = true;
    wake();
  });
  const join = async (n: number): Promise<void> => {
    const at = n % playersOn.length;
    const on = playersOn[at] ?? target;
    const c = new QuizwireClient({ ...options, url: on.wsUrl });
    clients.push(c);
    c.on("question", (d) => {
      outcomes.push(
        c.answer(d.index, { choice: n % d.options.length }).then(
          () => {
            answers[at] = (answers[at] ?? 0) + 1;
          },
          (err: unknown) => {
            refused.push(err);
          },
        ),
      );
    });
    await c.connect();
    await c.join({ pin: room.pin, displayName: `warm-up ${n}` });
  };
  for (let n = 0; n < players; n += JOINS_IN_FLIGHT) {
    const group: Promise<void>[] = [];
    for (let k = n; k < Math.min(players, n + JOINS_IN_FLIGHT); k++) group.push(join(k));
    await Promise.all(group);
  }
  await host.start();
  // Every player answers at once, so each question closes as soon as its last answer is stored.
  for (let k = 0; k < WARM_UP_QUESTIONS; k++) {
    await until(() => revealed.has(k));
    await host.nextQuestion();
  }
  await until(() => ended);
  await Promise.all(outcomes);
  if (refused.length > 0) throw new Error(`${refused.length} warm-up answers were refused`);
  return answers;
}

async function createQuiz(base: string, adminToken: string | null): Promise<string> {
  const res = await fetch(`${base}/api/v1/quizzes`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(adminToken ? { authorization: `Bearer ${adminToken}` } : {}),
    },
    body: JSON.stringify({
      title: "warm-up",
      questions: Array.from({ length: WARM_UP_QUESTIONS }, (_, i) => ({
        text: `Warm-up question ${i + 1}`,
        options: ["A", "B", "C", "D"],
        correct: [i % 4],
      })),
    }),
  });
  const body = (await res.json()) as { id?: unknown };
  if (typeof body.id !== "string") throw new Error(`creating the warm-up quiz: ${res.status}`);
  return body.id;
}
