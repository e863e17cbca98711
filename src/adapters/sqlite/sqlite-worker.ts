/**
 * The worker thread behind `SqliteThreadStorage`: it opens the database with its own connection
 * (`openSqliteStorage`, options from `workerData`) and answers the main thread's requests one at
 * a time, in the order they arrive, so writes keep their order and a reply is sent only once its
 * transaction has committed.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { Storage } from "../../ports/storage.js";
import { openSqliteStorage } from "./sqlite-storage.js";
import {
  STORE_METHODS,
  toWireError,
  type WorkerData,
  type WorkerReply,
  type WorkerRequest,
} from "./sqlite-worker-protocol.js";

const port = parentPort;
if (port === null) throw new Error("sqlite-worker.ts runs only as a worker thread");
const { options, replies, replyCount } = workerData as WorkerData;
const posted = new Int32Array(replyCount);
// Only posted to, never listened on: it must not keep the thread alive once the parent port closes.
replies.unref();

function reply(message: WorkerReply): void {
  replies.postMessage(message);
  // After the post: a main thread that sees the count finds the reply on its port.
  Atomics.add(posted, 0, 1);
}

async function answer(storage: Storage, req: WorkerRequest): Promise<unknown> {
  switch (req.kind) {
    case "ping":
      return storage.ping();
    case "close":
      return storage.close();
    case "call": {
      const methods: Record<string, true> = STORE_METHODS[req.store];
      if (!Object.hasOwn(methods, req.method)) {
        throw new Error(`no method ${req.store}.${req.method}`);
      }
      const store = storage[req.store] as unknown as Record<
        string,
        (...args: unknown[]) => Promise<unknown>
      >;
      return store[req.method]?.(...req.args);
    }
    default:
      return exhaustive(req);
  }
}

function exhaustive(req: never): never {
  throw new Error(`unknown request: ${JSON.stringify(req)}`);
}

const opening = openSqliteStorage(options);
let sessionWrites = 0;

function isSessionWrite(req: WorkerRequest): boolean {
  return req.kind === "call" && req.store === "sessions" && req.method === "write";
}

/** A test's injected crash: exit after a commit, before its reply, as a real crash there would. */
function crashAfterCommit(req: WorkerRequest): void {
  if (!isSessionWrite(req)) return;
  sessionWrites += 1;
  if (sessionWrites === options.faults?.exitAfterWrites) process.exit(70);
}

/** A test's busy writer: after answering that write, take no call until the gate opens. */
function holdAfterReply(req: WorkerRequest): void {
  const hold = options.faults?.holdAfterWrites;
  if (hold === undefined || !isSessionWrite(req) || sessionWrites !== hold.after) return;
  Atomics.wait(new Int32Array(hold.gate), 0, 0);
}
let queue: Promise<unknown> = opening.then(
  () => reply({ kind: "opened" }),
  (err: unknown) => reply({ kind: "open_failed", error: toWireError(err) }),
);

port.on("message", (req: WorkerRequest) => {
  // Chained: the next request starts only when this one has been answered.
  queue = queue.then(async () => {
    let storage: Storage;
    try {
      storage = await opening;
    } catch {
      return; // open_failed was sent; the main thread terminates this worker.
    }
    try {
      const value = await answer(storage, req);
      crashAfterCommit(req);
      reply({ kind: "result", id: req.id, value });
      holdAfterReply(req);
    } catch (err) {
      reply({ kind: "error", id: req.id, error: toWireError(err) });
    }
    // With the port closed nothing keeps the thread alive: it ends once the reply is out.
    if (req.kind === "close") port.close();
  });
});
