import WebSocket from "ws";
import type { SeededRandom } from "../src/domain/seeded-random.js";
import { QuizwireClient, type QuizwireClientOptions } from "../src/sdk/index.js";
import { epochNow } from "./raw-worker.js";
import { createQuiz } from "./run.js";

/**
 * A small live game played against a server before the measured one (`--warmup-players N`).
 *
 * A server that has just started runs its code cold: V8 compiles a function
 * for speed only after it has run many times. At 10,000 players the first
 * question then arrives at code that has never handled an answer, and the
 * answers back up: on this machine (2026-12-06, 3 alternating pairs)
 * question 1's answer → ack p99 was 191 / 127 / 36 ms on a fresh server and
 * 30 / 68 / 26 ms after a 2,000-player warm-up game; a 300-player game of 5
 * questions did as much (25 / 38 / 28 ms in the 3 runs after), so it is the
 * code, not the heap or the database, that was cold. A server in service has played earlier games; a fresh one
 * has not. The report says which was measured.
 *
 * The players are SDK clients in this process, all answering as soon as a
 * question arrives, so the warm-up takes seconds.
 */
export interface WarmUpResult {
  players: number;
  questions: number;
  /** Answers acknowledged in the warm-up game. */
  answers: number;
  seconds: number;
}

/** Questions in the warm-up game. */
export const WARMUP_QUESTIONS = 5;
/** Joins at once, so that a warm-up of a few hundred players does not take long. */
const JOINS_IN_FLIGHT = 50;
const TIMEOUT_MS = 30_000;

/** The caller's wait: `waitFor` resolves true once `cond()` holds, checked whenever `tick()` runs. */
export interface Waiting {
  waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean>;
  tick(): void;
}

export async function warmUp(
  target: { wsUrl: string; httpBase: string },
  players: number,
  questions: number,
  random: SeededRandom,
  { waitFor, tick }: Waiting,
): Promise<WarmUpResult> {
  const started = performance.now();
  const quizId = await createQuiz(target.httpBase, questions, random);
  const options: QuizwireClientOptions = {
    url: target.wsUrl,
    WebSocket: WebSocket as never,
    reconnect: false,
    requestTimeoutMs: TIMEOUT_MS,
    now: epochNow,
    onError: () => undefined,
  };
  const host = new QuizwireClient(options);
  const clients: QuizwireClient[] = [host];
  const reveals = new Set<number>();
  let ended = false;
  let answers = 0;
  let failures = 0;
  host.on("reveal", (d) => {
    reveals.add(d.index);
    tick();
  });
  host.on("end", () => {
    ended = true;
    tick();
  });
  try {
    await host.connect();
    const room = await host.createRoom({
      quizId,
      mode: "live",
      settings: { question_time_ms: TIMEOUT_MS, max_participants: players + 10 },
      hostName: "warm-up host",
    });
    const join = async (n: number) => {
      const c = new QuizwireClient(options);
      clients.push(c);
      c.on("question", (d) => {
        c.answer(d.index, { choice: random.int(Math.max(1, d.options.length)) }).then(
          () => {
            answers++;
          },
          () => {
            failures++;
          },
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
    for (let k = 0; k < questions; k++) {
      if (!(await waitFor(() => reveals.has(k), TIMEOUT_MS))) {
        throw new Error(`warm-up: no reveal for question ${k + 1} within ${TIMEOUT_MS} ms`);
      }
      await host.nextQuestion();
    }
    if (!(await waitFor(() => ended, TIMEOUT_MS))) throw new Error("warm-up: the game did not end");
    if (failures > 0) throw new Error(`warm-up: ${failures} answers were refused`);
    return { players, questions, answers, seconds: (performance.now() - started) / 1000 };
  } finally {
    for (const c of clients) c.close();
  }
}
