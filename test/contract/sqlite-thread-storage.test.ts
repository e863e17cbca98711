import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Worker } from "node:worker_threads";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteStorage } from "../../src/adapters/sqlite/sqlite-storage.js";
import {
  openSqliteThreadStorage,
  type SqliteThreadStorageOptions,
  SqliteWorkerExitedError,
} from "../../src/adapters/sqlite/sqlite-thread-storage.js";
import { asParticipantId, asSessionId, asUserId } from "../../src/domain/ids.js";
import { FencedError, type SessionWrite, type Storage } from "../../src/ports/storage.js";
import { eventually } from "../support/eventually.js";
import { playedSession, storedSession, T0 } from "../support/stored-session.js";
import { runStorageContract } from "./storage-contract.js";

const dirs: string[] = [];
const pathOf = new Map<Storage, string>();

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "quizwire-sqlite-thread-"));
  dirs.push(dir);
  return join(dir, "data", "quizwire.db");
}

async function openAt(path: string): Promise<Storage> {
  const storage = await openSqliteThreadStorage({ path });
  pathOf.set(storage, path);
  return storage;
}

runStorageContract(
  "sqlite in a worker thread, file",
  () => openAt(tempDbPath()),
  (closed) => openAt(pathOf.get(closed) ?? ""),
);
// ":memory:" runs the same code in the worker; one test below covers it, as each storage here
// costs a worker start (about a second under tsx on a busy machine).

// ---------------------------------------------------------------------------------------------

/** A storage in a worker, with every worker it started and every unexpected stop it reported. */
async function watched(
  options: Partial<SqliteThreadStorageOptions> = {},
): Promise<{ storage: Storage; path: string; workers: Worker[]; exits: Error[] }> {
  const path = tempDbPath();
  const workers: Worker[] = [];
  const exits: Error[] = [];
  const storage = await openSqliteThreadStorage({
    path,
    onWorkerStart: (w) => workers.push(w),
    onWorkerExit: (err) => exits.push(err),
    ...options,
  });
  return { storage, path, workers, exits };
}

function exitOf(worker: Worker): Promise<number> {
  return new Promise((resolve) => worker.once("exit", resolve));
}

function stateWrite(id: string, seq: number): SessionWrite {
  return {
    kind: "session_state",
    sessionId: asSessionId(id),
    state: { ...storedSession(id).state, seq },
  };
}

describe("SqliteThreadStorage", () => {
  it("A-5: a write resolves only once committed: another connection sees it the moment it resolves", async () => {
    const { storage, path } = await watched();
    try {
      await storage.sessions.write(playedSession("s1"));
      const raw = new BetterSqlite3(path, { readonly: true });
      try {
        expect(raw.prepare("select count(*) from answers").pluck().get()).toBe(1);
        expect(raw.prepare("select score from participants").pluck().get()).toBe(1800);
      } finally {
        raw.close();
      }
    } finally {
      await storage.close();
    }
  });

  it("a whole session is read beside the writer: a load does not wait behind a write in progress", async () => {
    // The writer answers its first write and then takes no call until the gate opens: a
    // second write waits in its queue; the load, read by the reader's own connection, does not.
    const gate = new SharedArrayBuffer(4);
    const { storage } = await watched({ faults: { holdAfterWrites: { after: 1, gate } } });
    const open = () => {
      Atomics.store(new Int32Array(gate), 0, 1);
      Atomics.notify(new Int32Array(gate), 0);
    };
    try {
      await storage.sessions.write(playedSession("s1"));
      let secondStored = false;
      const second = storage.sessions.write([stateWrite("s1", 7)]).then(() => {
        secondStored = true;
      });
      const bundle = await storage.sessions.load(asSessionId("s1"));
      expect(bundle?.answers).toHaveLength(1);
      expect(bundle?.session.state.seq).not.toBe(7);
      expect(secondStored).toBe(false);
      open();
      await second;
      expect((await storage.sessions.load(asSessionId("s1")))?.session.state.seq).toBe(7);
    } finally {
      open();
      await storage.close();
    }
  });

  it("the reader's connection is read-only: it reads what the writer stored and refuses writes", async () => {
    const { storage, path } = await watched();
    try {
      await storage.sessions.write(playedSession("s1"));
      const reader = await openSqliteStorage({ path, readOnly: true });
      try {
        expect((await reader.sessions.load(asSessionId("s1")))?.answers).toHaveLength(1);
        await expect(reader.sessions.write([stateWrite("s1", 9)])).rejects.toThrow(/readonly/);
        await expect(reader.meta.set("k", "v")).rejects.toThrow(/readonly/);
      } finally {
        await reader.close();
      }
      expect((await storage.sessions.load(asSessionId("s1")))?.session.state.seq).not.toBe(9);
      await expect(openSqliteStorage({ path: ":memory:", readOnly: true })).rejects.toThrow(
        /needs a database file/,
      );
    } finally {
      await storage.close();
    }
  });

  it("keeps the order of writes made without waiting for each other", async () => {
    const { storage } = await watched();
    try {
      const id = "s1";
      const [created, ...rest] = playedSession(id);
      // Each write depends on the one before it (a participant before their answer), and the
      // state writes leave the last one's seq: any reordering fails a write or the final check.
      const calls: Promise<void>[] = [storage.sessions.write([created!])];
      for (const w of rest) calls.push(storage.sessions.write([w]));
      for (let seq = 1; seq <= 200; seq++)
        calls.push(storage.sessions.write([stateWrite(id, seq)]));
      for (let i = 0; i < 200; i++) calls.push(storage.meta.set("last", String(i)));
      await Promise.all(calls);
      const bundle = await storage.sessions.load(asSessionId(id));
      expect(bundle?.session.state.seq).toBe(200);
      expect(bundle?.answers).toHaveLength(1);
      expect(await storage.meta.get("last")).toBe("199");
    } finally {
      await storage.close();
    }
  });

  it("a FencedError crosses the thread as a FencedError; other errors keep their message and SQLite code", async () => {
    const { storage } = await watched();
    try {
      const id = asSessionId("s1");
      await storage.sessions.write(playedSession("s1"));
      expect(await storage.sessions.claim(id, 1, 2)).toBe(true);
      const refused = await storage.sessions.write([stateWrite("s1", 5)], new Map([[id, 1]])).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(FencedError);
      expect(refused).toMatchObject({ sessionId: id, writerEpoch: 1, storedEpoch: 2 });

      const duplicate = await storage.sessions.write(playedSession("s1")).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(duplicate).toBeInstanceOf(Error);
      expect(duplicate).not.toBeInstanceOf(FencedError);
      expect(duplicate).toMatchObject({ code: expect.stringMatching(/^SQLITE_CONSTRAINT/) });

      await expect(storage.sessions.write([stateWrite("nope", 1)])).rejects.toThrow(
        "session_state: no session nope",
      );
    } finally {
      await storage.close();
    }
  });

  it("a worker killed mid-write: its pending call rejects, the next call runs on a fresh worker, nothing committed is lost", async () => {
    const { storage, path, workers, exits } = await watched({ busyTimeoutMs: 60_000 });
    try {
      await storage.sessions.write(playedSession("s1"));
      const first = workers[0]!;

      // Another connection holds the write lock, so the next write waits inside the worker.
      const lock = new BetterSqlite3(path);
      lock.prepare("begin immediate").run();
      const pending = storage.sessions.write([
        {
          kind: "participant_put",
          participant: {
            id: asParticipantId("s1/p2"),
            sessionId: asSessionId("s1"),
            userId: asUserId("u2"),
            name: "Bob",
            role: "player",
            joinOrder: 1,
            joinedAt: T0,
            status: "active",
            resumeTokenHash: "e".repeat(64),
            score: 0,
            kickReason: null,
          },
        },
      ]);
      const outcome = pending.then(
        () => "resolved",
        (err: unknown) => err,
      );
      const exited = exitOf(first);
      void first.terminate();
      lock.prepare("rollback").run();
      lock.close();

      expect(await outcome).toBeInstanceOf(SqliteWorkerExitedError);
      await exited;
      expect(exits).toHaveLength(1);

      const bundle = await storage.sessions.load(asSessionId("s1"));
      expect(workers).toHaveLength(2);
      expect(workers[1]!.threadId).not.toBe(first.threadId);
      expect(bundle?.answers).toHaveLength(1);
      expect(bundle?.participants[0]?.score).toBe(1800);
      await storage.meta.set("after", "yes");
      expect(await storage.meta.get("after")).toBe("yes");
    } finally {
      await storage.close();
    }
  });

  it("A-5: a worker that dies after a write committed but before answering: the write resolves, it is stored", async () => {
    // The worker exits right after its 2nd session write commits (the 1st is playedSession).
    const { storage, workers, exits } = await watched({ faults: { exitAfterWrites: 2 } });
    try {
      await storage.sessions.write(playedSession("s1"));
      await storage.sessions.write([stateWrite("s1", 77)]);
      expect(exits).toHaveLength(1);
      expect(workers).toHaveLength(2);
      expect((await storage.sessions.load(asSessionId("s1")))?.session.state.seq).toBe(77);
    } finally {
      await storage.close();
    }
  });

  it("a worker that keeps dying is not restarted in a tight loop: calls are refused for a pause, then it starts again", async () => {
    const { storage, workers } = await watched({
      restartBurst: 2,
      restartWindowMs: 60_000,
      restartPauseMs: 300,
    });
    try {
      for (let i = 0; i < 2; i++) {
        const worker = workers[workers.length - 1]!;
        const exited = exitOf(worker);
        await worker.terminate();
        await exited;
        // The next call starts a fresh worker (the first kill) or finds the pause (the second).
        if (i === 0) await storage.meta.set("k", "v");
      }
      const started = workers.length;
      await expect(storage.meta.get("k")).rejects.toThrow(/stopped 2 times in a row/);
      expect(workers).toHaveLength(started);
      const value = await eventually("a worker again after the pause", () =>
        storage.meta.get("k").catch(() => undefined),
      );
      expect(value).toBe("v");
      expect(workers).toHaveLength(started + 1);
    } finally {
      await storage.close();
    }
  });

  it("works in memory, and each :memory: storage is its own database in its own worker", async () => {
    const a = await openSqliteThreadStorage({ path: ":memory:" });
    const b = await openSqliteThreadStorage({ path: ":memory:" });
    try {
      await a.sessions.write(playedSession("s1"));
      expect((await a.sessions.load(asSessionId("s1")))?.answers.length).toBe(1);
      expect(await b.sessions.load(asSessionId("s1"))).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("close() closes the database and ends the worker; calls after it reject without starting another", async () => {
    const { storage, path, workers, exits } = await watched();
    await storage.meta.set("k", "v");
    const exited = exitOf(workers[0]!);
    await storage.close();
    await exited;
    await storage.close();
    await expect(storage.ping()).rejects.toThrow();
    await expect(storage.meta.get("k")).rejects.toThrow();
    expect(workers).toHaveLength(1);
    expect(exits).toHaveLength(0);
    // Closed cleanly: the write-ahead log was checkpointed into the file and removed.
    expect(existsSync(`${path}-wal`)).toBe(false);
    const raw = new BetterSqlite3(path, { readonly: true });
    try {
      expect(raw.prepare("select value from meta where key = 'k'").pluck().get()).toBe("v");
    } finally {
      raw.close();
    }
  });

  it("an idle storage does not keep a process alive, and a call in flight does", async () => {
    const path = tempDbPath();
    const module = new URL("../../src/adapters/sqlite/sqlite-thread-storage.ts", import.meta.url);
    // The script never closes the storage: it must still end, once its write is stored.
    const script = `import(${JSON.stringify(module.href)}).then(async ({ openSqliteThreadStorage }) => {
      const storage = await openSqliteThreadStorage({ path: ${JSON.stringify(path)} });
      void storage.meta.set("k", "v").then(() => console.log("stored"));
    });`;
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>(
      (resolve) => {
        execFile(
          process.execPath,
          ["--import", "tsx", "--input-type=module", "-e", script],
          { cwd: fileURLToPath(new URL("../../", import.meta.url)), timeout: 20_000 },
          (err, out) => resolve({ code: err ? (err.code as number | null) : 0, stdout: out }),
        );
      },
    );
    expect({ code, stdout: stdout.trim() }).toEqual({ code: 0, stdout: "stored" });
    const raw = new BetterSqlite3(path, { readonly: true });
    try {
      expect(raw.prepare("select value from meta where key = 'k'").pluck().get()).toBe("v");
    } finally {
      raw.close();
    }
  });

  it("settleArrived() settles a call whose reply has arrived, without the event loop turning", async () => {
    const { storage } = await watched();
    try {
      await storage.meta.set("k", "v");
      let value: string | undefined;
      void storage.meta.get("k").then((v) => {
        value = v;
      });
      // Only microtasks run in this loop: the event loop, which delivers the worker's replies
      // on its own, never gets a turn. The reply can only come through settleArrived.
      const until = performance.now() + 5_000;
      while (value === undefined && performance.now() < until) {
        storage.settleArrived?.();
        await Promise.resolve();
      }
      expect(value).toBe("v");
      // With nothing posted, it does nothing.
      storage.settleArrived?.();
    } finally {
      await storage.close();
    }
  });

  it("a database that cannot be opened rejects the open, and its worker ends", async () => {
    const { storage, path } = await watched();
    await storage.close();
    const workers: Worker[] = [];
    await expect(
      openSqliteThreadStorage({
        path: join(path, "inner.db"),
        onWorkerStart: (w) => workers.push(w),
      }),
    ).rejects.toThrow();
    expect(workers).toHaveLength(1);
    expect(workers[0]!.threadId).toBe(-1);
  });
});
