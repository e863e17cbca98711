import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { HotCounter, HotHistogram, HotLabeledCounter } from "./hot-metrics.js";
import { collectRuntimeMetrics } from "./runtime-metrics.js";

/** What the session gauges read at scrape time: the rooms this instance runs. */
export interface LoadedRoom {
  readonly ended: boolean;
  readonly players: number;
}

export interface MetricsSources {
  /** Sessions loaded in this instance, ended ones included. */
  sessions: () => number;
  storageQueue: () => number;
  /** The rooms this instance runs, for quiz_active_sessions and quiz_total_participants. */
  rooms?: () => Iterable<LoadedRoom>;
  /**
   * prom-client's process metrics (GC, event loop, memory); on unless false. They cannot be
   * stopped once started (a GC observer and an event-loop monitor for the process's life), so
   * an instance that lives a moment (the warm-up's) goes without.
   */
  processMetrics?: boolean;
}

/** Error codes that mean the server failed, in the engine's words and every dialect's. */
const SERVER_ERROR_CODES = new Set([
  "INTERNAL",
  "UNAVAILABLE",
  "INTERNAL_ERROR",
  "SERVICE_UNAVAILABLE",
  "SERVER_ERROR",
  "UNKNOWN",
]);

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const LONG_BUCKETS = [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 14_400];
/**
 * A phase broadcast to a big room takes 50–300 ms (issue 10: 10,000 players), where
 * `LATENCY_BUCKETS` has only 0.1 and 0.25: steps of 25 ms there, so a p99 reads to a few percent.
 */
const BROADCAST_BUCKETS = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.225, 0.25, 0.3, 0.4, 0.5,
  1, 2.5,
];

/**
 * The Prometheus metrics every door and the engine report. One instance per
 * server (tests run several servers in one process, so no global registry).
 * docs/metrics.md lists every series and what it measures.
 *
 * The seeds' names (seed 001 §11.1, seed 003 §3.5, seed 000's operations list) are used exactly
 * as written; quizwire's own series start with `quizwire_`. Node's runtime series (`process_*`,
 * `nodejs_*`) stand for the seeds' Go ones.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly connections: Gauge<"door">;
  readonly sessions: Gauge;
  /** Labels: door, type. */
  readonly messagesIn: HotLabeledCounter;
  readonly messagesOut: HotLabeledCounter;
  readonly errors: Counter<"door" | "code">;
  readonly slowConsumers: Counter<"door" | "action">;
  /** Per answer: bind a door's series once with `child(door)`. */
  readonly answerAck: HotHistogram;
  readonly storageBatch: Histogram;
  readonly storageCommit: Histogram;

  // The seeds' names.
  readonly wsActive: Gauge;
  readonly wsTotal: Counter;
  readonly wsDuration: Histogram;
  readonly sessionDuration: Histogram;
  readonly httpDuration: Histogram<"endpoint">;
  readonly scoringLatency: HotHistogram;
  readonly leaderboardLatency: Histogram;
  readonly broadcastLatency: Histogram<"door" | "type">;
  readonly errorTotal: Counter<"type">;
  readonly connectionErrors: Counter;
  readonly databaseErrors: Counter;
  readonly answersSubmitted: HotCounter;
  readonly correctAnswers: HotCounter;
  readonly participantsJoined: Counter;
  readonly sessionsCompleted: Counter;
  readonly questionDuration: Histogram;
  readonly droppedMsgs: Counter<"door" | "action">;

  private readonly clientErrors: { inc(): void };
  private readonly serverErrors: { inc(): void };

  constructor(opts: MetricsSources) {
    const registers = [this.registry];
    if (opts.processMetrics !== false) collectRuntimeMetrics(this.registry);
    this.connections = new Gauge({
      name: "quizwire_connections",
      help: "Open WebSocket connections by door",
      labelNames: ["door"],
      registers,
    });
    this.sessions = new Gauge({
      name: "quizwire_sessions_active",
      help: "Sessions loaded in this instance",
      registers,
      collect() {
        this.set(opts.sessions());
      },
    });
    new Gauge({
      name: "quizwire_storage_queue",
      help: "Writes waiting for the next group commit",
      registers,
      collect() {
        this.set(opts.storageQueue());
      },
    });
    // Bumped for every frame in and every broadcast out: plain numbers until scraped.
    this.messagesIn = new HotLabeledCounter(
      "quizwire_messages_in_total",
      "Messages received from clients by door and type",
      this.registry,
    );
    this.messagesOut = new HotLabeledCounter(
      "quizwire_messages_out_total",
      "Messages sent to clients by door and type (a broadcast counts once per recipient)",
      this.registry,
    );
    this.errors = new Counter({
      name: "quizwire_errors_total",
      help: "Error replies sent to clients by door and code",
      labelNames: ["door", "code"],
      registers,
    });
    this.slowConsumers = new Counter({
      name: "quizwire_slow_consumer_total",
      help: "Clients behind on their frames: a replaceable frame skipped (action=skipped) or the socket closed 4008 (action=closed)",
      labelNames: ["door", "action"],
      registers,
    });
    this.answerAck = new HotHistogram(
      "quizwire_answer_ack_seconds",
      "Time from receiving an answer to acknowledging it (stored)",
      LATENCY_BUCKETS,
      this.registry,
      "door",
    );
    this.storageBatch = new Histogram({
      name: "quizwire_storage_batch_writes",
      help: "Writes per group commit",
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers,
    });
    this.storageCommit = new Histogram({
      name: "quizwire_storage_commit_seconds",
      help: "Time from handing a group commit to storage to its commit (a write waits for the commit before it, then this)",
      buckets: LATENCY_BUCKETS,
      registers,
    });

    // Seed 001 §11.1 / seed 003 §3.5, named exactly as the seeds write them.
    this.wsActive = new Gauge({
      name: "websocket_active_connections",
      help: "Open WebSocket connections on this instance, every door",
      registers,
    });
    this.wsTotal = new Counter({
      name: "websocket_total_connections",
      help: "WebSocket connections opened on this instance since it started, every door",
      registers,
    });
    this.wsDuration = new Histogram({
      name: "websocket_connection_duration_seconds",
      help: "How long each closed WebSocket connection was open",
      buckets: LONG_BUCKETS,
      registers,
    });
    const rooms = opts.rooms;
    new Gauge({
      name: "quiz_active_sessions",
      help: "Sessions this instance runs that have not ended",
      registers,
      collect() {
        let n = 0;
        if (rooms) for (const r of rooms()) if (!r.ended) n += 1;
        this.set(n);
      },
    });
    new Gauge({
      name: "quiz_total_participants",
      help: "Players in the sessions this instance runs that have not ended",
      registers,
      collect() {
        let n = 0;
        if (rooms) for (const r of rooms()) if (!r.ended) n += r.players;
        this.set(n);
      },
    });
    this.sessionDuration = new Histogram({
      name: "quiz_session_duration_seconds",
      help: "From a session's start to its end, for each session that ended here",
      buckets: LONG_BUCKETS,
      registers,
    });
    this.httpDuration = new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP requests by route pattern, WebSocket upgrades (to the 101 or the refusal) included",
      labelNames: ["endpoint"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.scoringLatency = new HotHistogram(
      "scoring_latency_seconds",
      "From an answer's arrival to its score being acknowledged (checked, scored, stored), every door",
      LATENCY_BUCKETS,
      this.registry,
    );
    this.leaderboardLatency = new Histogram({
      name: "leaderboard_update_latency_seconds",
      help: "From a leaderboard update leaving its room to its frames written to every recipient on this instance",
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.broadcastLatency = new Histogram({
      name: "quizwire_broadcast_seconds",
      help: "A phase broadcast (started, question, reveal, ended): from the room's stamp on the event to its frames handed to the kernel for every recipient of the door on this instance",
      labelNames: ["door", "type"],
      buckets: BROADCAST_BUCKETS,
      registers,
    });
    this.errorTotal = new Counter({
      name: "error_total",
      help: "Errors sent to clients (WebSocket error frames and REST errors): type=client_error or server_error",
      labelNames: ["type"],
      registers,
    });
    this.connectionErrors = new Counter({
      name: "connection_errors_total",
      help: "WebSocket upgrades refused (any status) and sockets that failed",
      registers,
    });
    this.databaseErrors = new Counter({
      name: "database_errors_total",
      help: "Storage operations that failed (unreachable database, failed statement or commit)",
      registers,
    });
    this.answersSubmitted = new HotCounter(
      "quiz_answers_submitted_total",
      "Answers accepted and stored by the sessions this instance runs (seed 000's answer_count)",
      this.registry,
    );
    this.correctAnswers = new HotCounter(
      "quiz_correct_answers_total",
      "Of those, the correct ones",
      this.registry,
    );
    this.participantsJoined = new Counter({
      name: "quiz_participants_joined_total",
      help: "Participants who joined a session this instance runs (a rejoin is not counted)",
      registers,
    });
    this.sessionsCompleted = new Counter({
      name: "quiz_sessions_completed_total",
      help: "Sessions that ended on this instance",
      registers,
    });
    // Seed 000's operations list (issue 11).
    this.questionDuration = new Histogram({
      name: "question_duration_seconds",
      help: "How long each live question was open, from its opening to its close",
      buckets: [1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300],
      registers,
    });
    this.droppedMsgs = new Counter({
      name: "dropped_msgs_total",
      help: "Frames not sent to slow consumers: action=skipped (a replaceable frame) or action=closed (the connection dropped); the same events as quizwire_slow_consumer_total",
      labelNames: ["door", "action"],
      registers,
    });
    this.clientErrors = this.errorTotal.labels({ type: "client_error" });
    this.serverErrors = this.errorTotal.labels({ type: "server_error" });
  }

  /** An error sent to a client, in any door's codes: counted under error_total by who failed. */
  errorSent(code: string): void {
    (SERVER_ERROR_CODES.has(code) ? this.serverErrors : this.clientErrors).inc();
  }

  /** A REST response with this status (4xx client_error, 5xx server_error). */
  httpError(status: number): void {
    if (status >= 500) this.serverErrors.inc();
    else if (status >= 400) this.clientErrors.inc();
  }
}
