import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import WebSocket from "ws";
import type { Config } from "../config.js";
import { QuizwireClient, type QuizwireClientOptions } from "../sdk/index.js";
import { createApp } from "./app.js";

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
 */
export interface WarmUpReport {
  players: number;
  questions: number;
  /** Answers acknowledged in the game. */
  answers: number;
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
  const app = await createApp({
    config: {
      ...config,
      port: 0,
      host: "127.0.0.1",
      dataDir,
      databaseUrl: null,
      databaseVariable: null,
      redisUrl: null,
      redisVariable: null,
      demoContent: false,
      allowAnonymous: true,
      adminToken: null,
      maxConnectionsPerInstance: null,
      tracing: null,
      logLevel: "silent",
    },
    logger: log.child({ warmUp: true }, { level: "silent" }),
    processMetrics: false,
  }).catch((err: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });
  try {
    const port = await app.listen();
    const game = playWarmUpGame(
      { httpBase: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/ws/v1` },
      players,
    );
    // Closing the app after a timeout fails the game too; nobody waits for it then.
    game.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the warm-up game took more than ${WARM_UP_TIMEOUT_MS} ms`)),
        WARM_UP_TIMEOUT_MS,
      );
    });
    try {
      const answers = await Promise.race([game, timeout]);
      const ms = performance.now() - started;
      return { players, questions: WARM_UP_QUESTIONS, answers, ms, dataDir };
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The game, against any server (the bench plays it on the server it measures, `--warmup-players`):
 * a quiz made over REST (with `adminToken`, if the server wants one), a host and `players` SDK
 * clients that answer each question as it arrives; resolves with the answers acknowledged.
 */
export async function playWarmUpGame(
  target: { httpBase: string; wsUrl: string },
  players: number,
  adminToken: string | null = null,
): Promise<number> {
  const clients: QuizwireClient[] = [];
  try {
    return await play(target, players, adminToken, clients);
  } finally {
    for (const c of clients) c.close();
  }
}

async function play(
  target: { httpBase: string; wsUrl: string },
  players: number,
  adminToken: string | null,
  clients: QuizwireClient[],
): Promise<number> {
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
  let answers = 0;
  const refused: unknown[] = [];
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
    const c = new QuizwireClient(options);
    clients.push(c);
    c.on("question", (d) => {
      c.answer(d.index, { choice: n % d.options.length }).then(
        () => {
          answers++;
        },
        (err: unknown) => refused.push(err),
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
