import { niceEveryThread } from "./priority.js";

/**
 * The process side of every bench worker (live, seed 001, quick-fire): the
 * IPC loop its orchestrator drives. `init` creates the worker once and arms
 * its hard timeout; `collect` sends its results; `exit` closes it and leaves;
 * any other message goes to the scenario's `handle`. A failed run, or failed
 * work `handle` starts, reaches the orchestrator as `fatal`.
 */

/** What every worker's `init` message carries. */
export interface WorkerInit {
  type: "init";
  workerIndex: number;
  /** The worker exits by itself after this long, whatever its orchestrator does. */
  hardTimeoutMs: number;
  /** The nice value for every thread of the worker (`--generator-nice`); 0 or absent: unchanged. */
  nice?: number;
}

export interface ScenarioWorker {
  run(): Promise<void>;
  results(): unknown;
  /** Closes its sockets before the process exits; absent: the process just exits. */
  close?(): void;
}

export interface WorkerProcess<I extends WorkerInit, M extends { type: string }, W> {
  /** The worker script and the orchestrator that forks it, for the error a direct start prints. */
  script: string;
  startedBy: string;
  create(init: I): W;
  /** The scenario's own messages (not init, collect or exit). */
  handle?(worker: W, message: M, fatal: (err: unknown) => void): void;
}

function send(message: unknown): void {
  process.send?.(message);
}

/** Runs the IPC loop of a forked worker process; prints a usage line and exits 2 when not forked. */
export function serveWorkerProcess<
  I extends WorkerInit,
  M extends { type: string },
  W extends ScenarioWorker,
>(spec: WorkerProcess<I, M, W>): void {
  if (!process.send) {
    process.stderr.write(`${spec.script} is started by ${spec.startedBy}\n`);
    process.exit(2);
  }
  let worker: W | null = null;
  let index = -1;
  const fatal = (err: unknown) =>
    send({
      type: "fatal",
      workerIndex: index,
      message: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
  process.on("disconnect", () => process.exit(0));
  process.on("message", (raw: unknown) => {
    const m = raw as I | M | { type: "collect" } | { type: "exit" };
    switch (m.type) {
      case "init": {
        if (worker) return;
        const init = m as I;
        index = init.workerIndex;
        if (init.nice) niceEveryThread(init.nice);
        const w = spec.create(init);
        worker = w;
        setTimeout(() => {
          process.stderr.write(`${spec.script} ${index}: hard timeout, exiting\n`);
          process.exit(1);
        }, init.hardTimeoutMs).unref();
        w.run().catch(fatal);
        return;
      }
      case "collect":
        if (worker) send({ type: "results", results: worker.results() });
        return;
      case "exit":
        if (worker?.close) {
          worker.close();
          setTimeout(() => process.exit(0), 100);
        } else {
          process.exit(0);
        }
        return;
      default:
        if (worker) spec.handle?.(worker, m as M, fatal);
    }
  });
}
