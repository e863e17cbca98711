import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * The Prometheus metrics every door and the engine report. One instance per
 * server (tests run several servers in one process, so no global registry).
 */
export class Metrics {
  readonly registry = new Registry();
  readonly connections: Gauge<"door">;
  readonly sessions: Gauge;
  readonly messagesIn: Counter<"door" | "type">;
  readonly messagesOut: Counter<"door" | "type">;
  readonly errors: Counter<"door" | "code">;
  readonly slowConsumers: Counter<"door" | "action">;
  readonly answerAck: Histogram<"door">;
  readonly storageBatch: Histogram;

  constructor(opts: { sessions: () => number; storageQueue: () => number }) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "quizwire_process_" });
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
    this.messagesIn = new Counter({
      name: "quizwire_messages_in_total",
      help: "Messages received from clients by door and type",
      labelNames: ["door", "type"],
      registers,
    });
    this.messagesOut = new Counter({
      name: "quizwire_messages_out_total",
      help: "Messages sent to clients by door and type (a broadcast counts once per recipient)",
      labelNames: ["door", "type"],
      registers,
    });
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
    this.answerAck = new Histogram({
      name: "quizwire_answer_ack_seconds",
      help: "Time from receiving an answer to acknowledging it (stored)",
      labelNames: ["door"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.storageBatch = new Histogram({
      name: "quizwire_storage_batch_writes",
      help: "Writes per group commit",
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers,
    });
  }
}
