import { playWarmUpGame, WARM_UP_QUESTIONS } from "../src/server/warm-up.js";

/**
 * The server's own warm-up game (src/server/warm-up.ts), played by the bench
 * on the server it measures before the measured game (`--warmup-players N`).
 *
 * The server plays one of its own before it opens (`WARMUP_PLAYERS`, 300 by
 * default): this is for a server started with `WARMUP_PLAYERS=0`, or one
 * given with `--url`, to measure the difference. On this machine (2026-12-06,
 * servers started with `WARMUP_PLAYERS=0`, 3 alternating pairs) question 1's
 * answer → ack p99 at 10,000 players was 191 / 127 / 36 ms on a fresh server
 * and 30 / 68 / 26 ms after a 2,000-player warm-up game; a 300-player game did
 * as much (25 / 38 / 28 ms in the 3 runs after), so it is the code, not the
 * heap or the database, that was cold.
 */
export interface WarmUpResult {
  players: number;
  questions: number;
  /** Answers acknowledged in the warm-up game. */
  answers: number;
  seconds: number;
}

export async function warmUp(
  target: { wsUrl: string; httpBase: string },
  players: number,
): Promise<WarmUpResult> {
  const started = performance.now();
  const byInstance = await playWarmUpGame(target, players, process.env.ADMIN_TOKEN?.trim() || null);
  const answers = byInstance.reduce((a, b) => a + b, 0);
  const seconds = (performance.now() - started) / 1000;
  return { players, questions: WARM_UP_QUESTIONS, answers, seconds };
}
