/**
 * One quick-fire load worker (forked by bench/quickfire-run.ts): whole seed-004 contests on
 * `RawSocket`s to `/ws/contests/{id}?token=…`. Every player of a contest is in the same worker, so
 * the spread of a broadcast inside a contest is measured on one clock.
 *
 * Seed 004's messages carry no server time, so what is measured is what a client can see:
 * connect → its own PLAYER_JOINED, START_GAME → the host's CONTEST_STARTED, SUBMIT_ANSWER →
 * ANSWER_RESULT, and the spread of each NEW_QUESTION and each SCORE_UPDATE inside a contest
 * (last receipt − first receipt among its players).
 */

import { monitorEventLoopDelay } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { SeededRandom } from "../src/domain/seeded-random.js";
import {
  frameType,
  numberField,
  numberKey,
  RawSocket,
  stringField,
  stringKey,
} from "./raw-socket.js";
import { serveWorkerProcess } from "./worker-process.js";

export interface QuickfireContest {
  id: string;
  /** One token per player; player 0 is the host (the contest's creator, who plays too). */
  tokens: string[];
  /** Global number of player 0; player i is named `p<first + i>`. */
  first: number;
}

export interface QuickfireInit {
  type: "init";
  workerIndex: number;
  host: string;
  port: number;
  contests: QuickfireContest[];
  answerSpreadMs: number;
  joinConcurrency: number;
  seed: number;
  hardTimeoutMs: number;
  /** The nice value for the worker's threads (`--generator-nice`, bench/priority.ts). */
  nice?: number;
}

export type ToQuickfire =
  | QuickfireInit
  | { type: "start" }
  | { type: "collect" }
  | { type: "exit" };

export interface QuickfireResults {
  workerIndex: number;
  joined: number;
  joinFailed: number;
  joinMs: number[];
  startMs: number[];
  ackMs: number[];
  /** Acknowledged answers: player number, 0-based question index, points (0 when wrong), parallel. */
  ackPlayer: number[];
  ackIndex: number[];
  ackPoints: number[];
  questionSpreadMs: number[];
  scoreSpreadMs: number[];
  /** Answers refused because the question had closed (too_late, not_open): expected in quick-fire. */
  tooLate: number;
  contestsOver: number;
  gameMs: number[];
  totalFrames: number;
  totalBytes: number;
  errors: Record<string, number>;
  cpuJoinS: number;
  cpuGameS: number;
  cpuTotalS: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

export type FromQuickfire =
  | {
      type: "ready";
      workerIndex: number;
      joined: number;
      failed: number;
      joinStartAt: number;
      joinEndAt: number;
    }
  | { type: "progress"; workerIndex: number; joined: number; acks: number; over: number }
  | { type: "over"; workerIndex: number }
  | { type: "results"; results: QuickfireResults }
  | { type: "fatal"; workerIndex: number; message: string };

const K_CODE = stringKey("code");
const K_REASON = stringKey("reason");
const K_POINTS = numberKey("points_awarded");
const K_CORRECT_TRUE = Buffer.from('"is_correct":true');
const K_QNUM = numberKey("question_number");
const K_USER_ID = stringKey("user_id");
const K_SCORE = numberKey("score");
const LOOP_RESOLUTION_MS = 10;

interface Player {
  readonly n: number;
  readonly contest: Contest;
  readonly host: boolean;
  socket: RawSocket | null;
  connectStart: number;
  joined: boolean;
  settled: boolean;
  gone: boolean;
  sentAt: number;
  question: number;
  over: boolean;
}

interface Contest {
  readonly c: QuickfireContest;
  readonly players: Player[];
  startSentAt: number;
  /** Per question number: receipts so far, first and last receipt. */
  qCount: Map<number, { n: number; first: number; last: number }>;
  /** Per SCORE_UPDATE (`user_id:score`): receipts so far, first and last receipt. */
  scores: Map<string, { n: number; first: number; last: number }>;
  over: number;
}

class QuickfireWorker {
  private readonly contests: Contest[] = [];
  private readonly random: SeededRandom;
  private readonly errors: Record<string, number> = {};
  private readonly joinMs: number[] = [];
  private readonly startMs: number[] = [];
  private readonly ackMs: number[] = [];
  private readonly ackPlayer: number[] = [];
  private readonly ackIndex: number[] = [];
  private readonly ackPoints: number[] = [];
  private readonly questionSpreadMs: number[] = [];
  private readonly scoreSpreadMs: number[] = [];
  private readonly gameMs: number[] = [];
  private readonly loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  private readonly cpuAtStart = process.cpuUsage();
  private cpuAtJoinEnd: NodeJS.CpuUsage | null = null;
  private cpuAtGameStart: NodeJS.CpuUsage | null = null;
  private cpuAtGameEnd: NodeJS.CpuUsage | null = null;
  private joined = 0;
  private joinFailed = 0;
  private acks = 0;
  private tooLate = 0;
  private contestsOver = 0;
  private totalFrames = 0;
  private totalBytes = 0;
  private closing = false;
  private onSettled: (() => void) | null = null;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(readonly init: QuickfireInit) {
    this.random = new SeededRandom(init.seed * 1_000 + init.workerIndex + 13);
    this.loop.enable();
    this.timer = setInterval(
      () =>
        send({
          type: "progress",
          workerIndex: init.workerIndex,
          joined: this.joined,
          acks: this.acks,
          over: this.contestsOver,
        }),
      500,
    );
    this.timer.unref();
  }

  async run(): Promise<void> {
    const all: Player[] = [];
    for (const c of this.init.contests) {
      const contest: Contest = {
        c,
        players: [],
        startSentAt: 0,
        qCount: new Map(),
        scores: new Map(),
        over: 0,
      };
      c.tokens.forEach((_, i) => {
        const p: Player = {
          n: c.first + i,
          contest,
          host: i === 0,
          socket: null,
          connectStart: 0,
          joined: false,
          settled: false,
          gone: false,
          sentAt: 0,
          question: -1,
          over: false,
        };
        contest.players.push(p);
        all.push(p);
      });
      this.contests.push(contest);
    }
    const joinStartAt = performance.timeOrigin + performance.now();
    // The host of each contest first, so it is the first to join (the creator is the host anyway).
    await new Promise<void>((resolve) => {
      let next = 0;
      let settled = 0;
      const start = () => {
        const p = all[next++];
        if (p) this.connect(p);
      };
      this.onSettled = () => {
        settled++;
        if (settled >= all.length) resolve();
        else start();
      };
      if (all.length === 0) resolve();
      for (let i = 0; i < Math.min(this.init.joinConcurrency, all.length); i++) start();
    });
    this.onSettled = null;
    this.cpuAtJoinEnd = process.cpuUsage();
    send({
      type: "ready",
      workerIndex: this.init.workerIndex,
      joined: this.joined,
      failed: this.joinFailed,
      joinStartAt,
      joinEndAt: performance.timeOrigin + performance.now(),
    });
  }

  private connect(p: Player): void {
    p.connectStart = performance.now();
    const token = p.contest.c.tokens[p.n - p.contest.c.first] ?? "";
    p.socket = new RawSocket(
      {
        host: this.init.host,
        port: this.init.port,
        path: `/ws/contests/${p.contest.c.id}?token=${token}`,
      },
      {
        onMessage: (_s, payload) => this.onMessage(p, payload),
        onClose: (_s, code, reason, error) => {
          p.gone = true;
          if (!this.closing && !(p.over && code === 1000)) {
            this.count(
              error
                ? `socket error: ${error.message}`
                : `disconnect ${code}${reason ? ` (${reason})` : ""}`,
            );
            if (!p.settled) this.joinFailed++;
          }
          this.settle(p);
        },
      },
    );
  }

  private settle(p: Player): void {
    if (p.settled) return;
    p.settled = true;
    this.onSettled?.();
  }

  private onMessage(p: Player, payload: Buffer): void {
    this.totalFrames++;
    this.totalBytes += payload.length;
    const now = performance.now();
    const contest = p.contest;
    switch (frameType(payload)) {
      case "PLAYER_JOINED":
        if (!p.joined) {
          // The first PLAYER_JOINED a connection gets is its own.
          p.joined = true;
          this.joined++;
          this.joinMs.push(now - p.connectStart);
          this.settle(p);
        }
        return;
      case "CONTEST_STARTED":
        if (p.host && contest.startSentAt > 0) this.startMs.push(now - contest.startSentAt);
        return;
      case "NEW_QUESTION": {
        const q = numberField(payload, K_QNUM);
        let s = contest.qCount.get(q);
        if (!s) {
          s = { n: 0, first: now, last: now };
          contest.qCount.set(q, s);
        }
        s.n++;
        s.last = now;
        if (s.n === contest.players.length) this.questionSpreadMs.push(s.last - s.first);
        // The options are needed to answer: the one frame per question that is parsed.
        const m = JSON.parse(payload.toString("utf8")) as {
          payload: { question_id: string; options: string[] };
        };
        const qid = m.payload.question_id;
        const options = m.payload.options;
        const choice = options[this.random.int(Math.max(1, options.length))] ?? "";
        const spread = this.init.answerSpreadMs;
        const delay = 200 + this.random.float() * Math.max(0, spread - 200);
        setTimeout(() => {
          if (p.gone || this.closing || p.socket === null || p.over) return;
          p.question = q - 1;
          p.sentAt = performance.now();
          p.socket.sendText(
            `{"type":"SUBMIT_ANSWER","question_id":${JSON.stringify(qid)},"answer":${JSON.stringify(choice)}}`,
          );
        }, delay);
        return;
      }
      case "ANSWER_RESULT": {
        this.ackMs.push(now - p.sentAt);
        this.ackPlayer.push(p.n);
        this.ackIndex.push(p.question);
        const correct = payload.indexOf(K_CORRECT_TRUE) >= 0;
        this.ackPoints.push(correct ? numberField(payload, K_POINTS) : 0);
        this.acks++;
        return;
      }
      case "SCORE_UPDATE": {
        const key = `${stringField(payload, K_USER_ID)}:${numberField(payload, K_SCORE)}`;
        let s = contest.scores.get(key);
        if (!s) {
          s = { n: 0, first: now, last: now };
          contest.scores.set(key, s);
        }
        s.n++;
        s.last = now;
        if (s.n === contest.players.length) this.scoreSpreadMs.push(s.last - s.first);
        return;
      }
      case "GAME_OVER":
        if (!p.over) {
          p.over = true;
          contest.over++;
          if (contest.over === contest.players.filter((x) => x.joined).length) {
            this.contestsOver++;
            if (contest.startSentAt > 0) this.gameMs.push(now - contest.startSentAt);
            if (this.contestsOver === this.contests.length) {
              this.cpuAtGameEnd = process.cpuUsage();
              send({ type: "over", workerIndex: this.init.workerIndex });
            }
          }
        }
        return;
      case "ERROR": {
        const code = stringField(payload, K_CODE) ?? "?";
        const reason = stringField(payload, K_REASON);
        // Answers after the first correct one closed the question (T-4) are refused: expected.
        if (reason === "too_late" || reason === "not_open") this.tooLate++;
        else this.count(reason ? `${code}/${reason}` : code);
        return;
      }
      default:
        return;
    }
  }

  start(): void {
    this.cpuAtGameStart = process.cpuUsage();
    this.loop.reset();
    for (const c of this.contests) {
      const host = c.players[0];
      if (!host?.joined || host.socket === null) continue;
      c.startSentAt = performance.now();
      host.socket.sendText('{"type":"START_GAME"}');
    }
  }

  private count(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  results(): QuickfireResults {
    this.loop.disable();
    const now = process.cpuUsage();
    const cpuS = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) =>
      (b.user - a.user + b.system - a.system) / 1e6;
    return {
      workerIndex: this.init.workerIndex,
      joined: this.joined,
      joinFailed: this.joinFailed,
      joinMs: this.joinMs,
      startMs: this.startMs,
      ackMs: this.ackMs,
      ackPlayer: this.ackPlayer,
      ackIndex: this.ackIndex,
      ackPoints: this.ackPoints,
      questionSpreadMs: this.questionSpreadMs,
      scoreSpreadMs: this.scoreSpreadMs,
      tooLate: this.tooLate,
      contestsOver: this.contestsOver,
      gameMs: this.gameMs,
      totalFrames: this.totalFrames,
      totalBytes: this.totalBytes,
      errors: this.errors,
      cpuJoinS: cpuS(this.cpuAtStart, this.cpuAtJoinEnd ?? now),
      cpuGameS: cpuS(this.cpuAtGameStart ?? now, this.cpuAtGameEnd ?? now),
      cpuTotalS: cpuS(this.cpuAtStart, now),
      loopDelayP99Ms: Math.max(0, this.loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
      loopDelayMaxMs: Math.max(0, this.loop.max / 1e6 - LOOP_RESOLUTION_MS),
    };
  }

  close(): void {
    this.closing = true;
    clearInterval(this.timer);
    for (const c of this.contests) for (const p of c.players) p.socket?.destroy();
  }
}

function send(msg: FromQuickfire): void {
  process.send?.(msg);
}

function main(): void {
  serveWorkerProcess<QuickfireInit, ToQuickfire, QuickfireWorker>({
    script: "bench/quickfire-worker.ts",
    startedBy: "bench/quickfire-run.ts",
    create: (init) => new QuickfireWorker(init),
    handle: (worker, m) => {
      if (m.type === "start") worker.start();
    },
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main();
}
