/**
 * One seed-001 load worker (forked by bench/seed001-run.ts): many learners on `RawSocket`s to the
 * vocabulary door (`/ws?user_id=…`), each in its session (learner n is in session
 * floor(n / perSession)). A learner joins (`JOIN_SESSION`), and once the session is active answers
 * the quiz's questions in order (`SUBMIT_ANSWER`), one every 60 / rate s with a random phase.
 *
 * Measured: JOIN_SESSION → SESSION_JOINED, SUBMIT_ANSWER → SCORE_UPDATED, every
 * LEADERBOARD_UPDATED's delivery (receipt − its `timestamp`, with the worker's clock offset) and
 * the leaderboard's staleness: from a learner's SCORE_UPDATED that scored to the first
 * LEADERBOARD_UPDATED stamped at or after it (the first board that can include the answer), and
 * the board interval:
 * the time between two boards a learner receives once it has answered (how late it can see the
 * others' answers).
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

export interface Seed001Init {
  type: "init";
  workerIndex: number;
  host: string;
  port: number;
  /** Session ids; learner n is in sessions[floor(n / perSession)]. */
  sessions: string[];
  perSession: number;
  firstLearner: number;
  learners: number;
  /** Question ids and option texts, in answer order. */
  questionIds: string[];
  options: string[];
  answersPerMinute: number;
  joinConcurrency: number;
  seed: number;
  hardTimeoutMs: number;
  /** The nice value for the worker's threads (`--generator-nice`, bench/priority.ts). */
  nice?: number;
}

export type ToSeed001 = Seed001Init | { type: "answer" } | { type: "collect" } | { type: "exit" };

export interface Seed001Results {
  workerIndex: number;
  joined: number;
  joinFailed: number;
  connectMs: number[];
  joinMs: number[];
  ackMs: number[];
  ackLearner: number[];
  ackIndex: number[];
  ackPoints: number[];
  unacked: number;
  boardDeliveryMs: number[];
  stalenessMs: number[];
  boardGapMs: number[];
  boards: number;
  boardBytes: number;
  totalFrames: number;
  totalBytes: number;
  offsetMs: number;
  errors: Record<string, number>;
  ended: number;
  cpuJoinS: number;
  cpuAnswerS: number;
  cpuTotalS: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

export type FromSeed001 =
  | {
      type: "ready";
      workerIndex: number;
      joined: number;
      failed: number;
      joinStartAt: number;
      joinEndAt: number;
    }
  | { type: "progress"; workerIndex: number; joined: number; acks: number; answersDone: boolean }
  | { type: "ended"; workerIndex: number }
  | { type: "results"; results: Seed001Results }
  | { type: "fatal"; workerIndex: number; message: string };

const epochNow = (): number => performance.timeOrigin + performance.now();
const K_TIMESTAMP = stringKey("timestamp");
const K_MESSAGE_ID = stringKey("message_id");
const K_CODE = stringKey("code");
const K_SERVER_TIME = stringKey("server_time");
const K_POINTS = numberKey("points_earned");
const LOOP_RESOLUTION_MS = 10;

/** The server's ISO timestamp (ms) at the end of a vocabulary frame; NaN when absent. */
export function timestampOf(payload: Buffer): number {
  const at = payload.lastIndexOf(K_TIMESTAMP);
  if (at < 0) return Number.NaN;
  const start = at + K_TIMESTAMP.length;
  const end = payload.indexOf(0x22, start);
  return end < 0 ? Number.NaN : Date.parse(payload.toString("latin1", start, end));
}

interface Learner {
  readonly n: number;
  socket: RawSocket | null;
  connectStart: number;
  joinSentAt: number;
  joined: boolean;
  settled: boolean;
  gone: boolean;
  next: number;
  sentAt: number;
  /** Server time of the latest SCORE_UPDATED not yet covered by a board, and its local receipt. */
  pendingServerAt: number;
  pendingRecvAt: number;
  /** Whether a SCORE_UPDATED came; then performance.now() of the last board received (0: none yet). */
  answered: boolean;
  lastBoardAt: number;
  ended: boolean;
}

class Seed001Worker {
  private readonly learners: Learner[] = [];
  private readonly random: SeededRandom;
  private readonly errors: Record<string, number> = {};
  private readonly connectMs: number[] = [];
  private readonly joinMs: number[] = [];
  private readonly ackMs: number[] = [];
  private readonly ackLearner: number[] = [];
  private readonly ackIndex: number[] = [];
  private readonly ackPoints: number[] = [];
  private readonly boardDeliveryMs: number[] = [];
  private readonly stalenessMs: number[] = [];
  private readonly boardGapMs: number[] = [];
  private readonly loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  private readonly cpuAtStart = process.cpuUsage();
  private cpuAtJoinEnd: NodeJS.CpuUsage | null = null;
  private cpuAtAnswerStart: NodeJS.CpuUsage | null = null;
  private cpuAtEnd: NodeJS.CpuUsage | null = null;
  private boards = 0;
  private boardBytes = 0;
  private totalFrames = 0;
  private totalBytes = 0;
  private joinedCount = 0;
  /** Learners joined and still connected. */
  private live = 0;
  private joinFailed = 0;
  private acks = 0;
  private unacked = 0;
  private finished = 0;
  private ended = 0;
  private endedSent = false;
  private closing = false;
  private offsetMs = 0;
  private bestRtt = Number.POSITIVE_INFINITY;
  private pings = 0;
  private pingSentAt = 0;
  private clockDone: (() => void) | null = null;
  private onSettled: (() => void) | null = null;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(readonly init: Seed001Init) {
    this.random = new SeededRandom(init.seed * 1_000 + init.workerIndex + 7);
    this.timer = setInterval(() => this.progress(), 500);
    this.timer.unref();
  }

  private progress(): void {
    send({
      type: "progress",
      workerIndex: this.init.workerIndex,
      joined: this.joinedCount,
      acks: this.acks,
      answersDone: this.finished >= this.joinedCount,
    });
  }

  async run(): Promise<void> {
    const { learners, joinConcurrency, firstLearner } = this.init;
    const joinStartAt = epochNow();
    await new Promise<void>((resolve) => {
      let next = 0;
      let settled = 0;
      const start = () => {
        if (next >= learners) return;
        const l: Learner = {
          n: firstLearner + next++,
          socket: null,
          connectStart: 0,
          joinSentAt: 0,
          joined: false,
          settled: false,
          gone: false,
          next: 0,
          sentAt: 0,
          pendingServerAt: 0,
          pendingRecvAt: 0,
          answered: false,
          lastBoardAt: 0,
          ended: false,
        };
        this.learners.push(l);
        this.connect(l);
      };
      this.onSettled = () => {
        settled++;
        if (settled >= learners) resolve();
        else start();
      };
      for (let i = 0; i < Math.min(joinConcurrency, learners); i++) start();
    });
    this.onSettled = null;
    const joinEndAt = epochNow();
    this.cpuAtJoinEnd = process.cpuUsage();
    await this.clock();
    send({
      type: "ready",
      workerIndex: this.init.workerIndex,
      joined: this.joinedCount,
      failed: this.joinFailed,
      joinStartAt,
      joinEndAt,
    });
  }

  private connect(l: Learner): void {
    l.connectStart = performance.now();
    l.socket = new RawSocket(
      { host: this.init.host, port: this.init.port, path: `/ws?user_id=bench-u${l.n}` },
      {
        onOpen: () => {
          this.connectMs.push(performance.now() - l.connectStart);
          const session = this.init.sessions[Math.floor(l.n / this.init.perSession)] ?? "";
          l.joinSentAt = performance.now();
          l.socket?.sendText(
            `{"type":"JOIN_SESSION","payload":{"session_id":"${session}","username":"p${l.n}"},"message_id":"j"}`,
          );
        },
        onMessage: (_s, payload) => this.onMessage(l, payload),
        onClose: (_s, code, _reason, error) => {
          if (l.joined && !l.gone) this.live--;
          l.gone = true;
          if (!this.closing) {
            this.count(error ? `socket error: ${error.message}` : `disconnect ${code}`);
            if (!l.settled) this.joinFailed++;
          }
          this.settle(l);
        },
      },
    );
  }

  private settle(l: Learner): void {
    if (l.settled) return;
    l.settled = true;
    this.onSettled?.();
  }

  private onMessage(l: Learner, payload: Buffer): void {
    this.totalFrames++;
    this.totalBytes += payload.length;
    switch (frameType(payload)) {
      case "SESSION_JOINED":
        this.joinMs.push(performance.now() - l.joinSentAt);
        l.joined = true;
        this.joinedCount++;
        this.live++;
        this.settle(l);
        return;
      case "LEADERBOARD_UPDATED": {
        const recv = epochNow();
        const at = timestampOf(payload);
        this.boards++;
        this.boardBytes += payload.length;
        this.boardDeliveryMs.push(recv + this.offsetMs - at);
        if (l.answered && !l.ended) {
          const now = performance.now();
          if (l.lastBoardAt > 0) this.boardGapMs.push(now - l.lastBoardAt);
          l.lastBoardAt = now;
        }
        if (l.pendingServerAt > 0 && at >= l.pendingServerAt) {
          this.stalenessMs.push(recv - l.pendingRecvAt);
          l.pendingServerAt = 0;
        }
        return;
      }
      case "SCORE_UPDATED": {
        const recv = performance.now();
        this.ackMs.push(recv - l.sentAt);
        this.ackLearner.push(l.n);
        this.ackIndex.push(l.next);
        const points = numberField(payload, K_POINTS);
        this.ackPoints.push(points);
        this.acks++;
        l.answered = true;
        // An answer that scored nothing changes no board: there is nothing for one to show.
        if (points > 0 && l.pendingServerAt === 0) {
          l.pendingServerAt = timestampOf(payload);
          l.pendingRecvAt = performance.timeOrigin + recv;
        }
        this.afterAnswer(l);
        return;
      }
      case "ERROR": {
        const code = stringField(payload, K_CODE) ?? "?";
        this.count(code);
        const id = stringField(payload, K_MESSAGE_ID);
        if (id === "j" && !l.joined) {
          this.joinFailed++;
          this.settle(l);
        } else if (id?.startsWith("q")) {
          this.unacked++;
          this.afterAnswer(l);
        }
        return;
      }
      case "PONG":
        this.onPong(payload);
        return;
      case "SESSION_ENDED":
        if (!l.ended) {
          l.ended = true;
          this.ended++;
          this.checkEnded();
        }
        return;
      default:
        return;
    }
  }

  /** Starts answering: each learner's first answer at a random phase of its period. */
  startAnswering(): void {
    this.cpuAtAnswerStart = process.cpuUsage();
    this.loop.enable();
    const period = 60_000 / this.init.answersPerMinute;
    for (const l of this.learners) {
      if (!l.joined || l.gone) continue;
      setTimeout(() => this.answer(l), this.random.float() * period);
    }
  }

  private answer(l: Learner): void {
    if (l.gone || this.closing || l.socket === null) return;
    const k = l.next;
    const qid = this.init.questionIds[k];
    if (qid === undefined) return;
    const session = this.init.sessions[Math.floor(l.n / this.init.perSession)] ?? "";
    const option = this.init.options[this.random.int(this.init.options.length)] ?? "";
    l.sentAt = performance.now();
    l.socket.sendText(
      `{"type":"SUBMIT_ANSWER","payload":{"session_id":"${session}","question_id":"${qid}","answer":${JSON.stringify(option)},"time_taken_ms":1000},"message_id":"q${k}"}`,
    );
  }

  /** After a reply to an answer: the next one in one period, or done. */
  private afterAnswer(l: Learner): void {
    l.next++;
    if (l.next >= this.init.questionIds.length) {
      this.finished++;
      return;
    }
    const period = 60_000 / this.init.answersPerMinute;
    const wait = Math.max(0, period - (performance.now() - l.sentAt));
    setTimeout(() => this.answer(l), wait);
  }

  /** Called per SESSION_ENDED: a counter, not a walk over the learners. */
  private checkEnded(): void {
    const live = this.live;
    if (!this.endedSent && this.ended >= live) {
      this.endedSent = true;
      this.cpuAtEnd = process.cpuUsage();
      send({ type: "ended", workerIndex: this.init.workerIndex });
    }
  }

  private clock(): Promise<void> {
    const l = this.learners.find((x) => x.joined && !x.gone);
    if (!l?.socket) return Promise.resolve();
    const s = l.socket;
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.clockDone = null;
        resolve();
      }, 10_000);
      this.clockDone = () => {
        clearTimeout(t);
        this.clockDone = null;
        resolve();
      };
      this.pingOnce = () => {
        this.pingSentAt = epochNow();
        s.sendText(`{"type":"PING","payload":{},"message_id":"t${this.pings}"}`);
      };
      this.pingOnce();
    });
  }

  private pingOnce: () => void = () => {};

  private onPong(payload: Buffer): void {
    if (this.clockDone === null) return;
    const t1 = epochNow();
    const t0 = this.pingSentAt;
    const iso = stringField(payload, K_SERVER_TIME);
    const server = iso === null ? Number.NaN : Date.parse(iso);
    // The server stamps whole ms: the offset is good to about ±0.5 ms.
    if (Number.isFinite(server) && t1 - t0 < this.bestRtt) {
      this.bestRtt = t1 - t0;
      this.offsetMs = server + 0.5 - (t0 + t1) / 2;
    }
    this.pings++;
    if (this.pings >= 8) this.clockDone();
    else this.pingOnce();
  }

  private count(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  results(): Seed001Results {
    this.loop.disable();
    const now = process.cpuUsage();
    const cpuS = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) =>
      (b.user - a.user + b.system - a.system) / 1e6;
    for (const l of this.learners) {
      if (l.joined && l.next < this.init.questionIds.length) this.count("learner did not finish");
    }
    return {
      workerIndex: this.init.workerIndex,
      joined: this.joinedCount,
      joinFailed: this.joinFailed,
      connectMs: this.connectMs,
      joinMs: this.joinMs,
      ackMs: this.ackMs,
      ackLearner: this.ackLearner,
      ackIndex: this.ackIndex,
      ackPoints: this.ackPoints,
      unacked: this.unacked,
      boardDeliveryMs: this.boardDeliveryMs,
      stalenessMs: this.stalenessMs,
      boardGapMs: this.boardGapMs,
      boards: this.boards,
      boardBytes: this.boardBytes,
      totalFrames: this.totalFrames,
      totalBytes: this.totalBytes,
      offsetMs: this.offsetMs,
      errors: this.errors,
      ended: this.ended,
      cpuJoinS: cpuS(this.cpuAtStart, this.cpuAtJoinEnd ?? now),
      cpuAnswerS: cpuS(this.cpuAtAnswerStart ?? now, this.cpuAtEnd ?? now),
      cpuTotalS: cpuS(this.cpuAtStart, now),
      loopDelayP99Ms: Math.max(0, this.loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
      loopDelayMaxMs: Math.max(0, this.loop.max / 1e6 - LOOP_RESOLUTION_MS),
    };
  }

  close(): void {
    this.closing = true;
    clearInterval(this.timer);
    for (const l of this.learners) l.socket?.destroy();
  }
}

function send(msg: FromSeed001): void {
  process.send?.(msg);
}

function main(): void {
  serveWorkerProcess<Seed001Init, ToSeed001, Seed001Worker>({
    script: "bench/seed001-worker.ts",
    startedBy: "bench/seed001-run.ts",
    create: (init) => new Seed001Worker(init),
    handle: (worker, m) => {
      if (m.type === "answer") worker.startAnswering();
    },
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main();
}
