import { closeSync, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { endianness, tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { uncopiedFrames } from "../../src/adapters/sqlite/sqlite-checkpointer.js";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The first 100 bytes of the database's wal-index, as the checkpointer thread reads them. */
function walIndexHeader(path: string): Uint8Array {
  const header = new Uint8Array(100);
  const fd = openSync(`${path}-shm`, "r");
  try {
    expect(readSync(fd, header, 0, 100, 0)).toBe(100);
  } finally {
    closeSync(fd);
  }
  return header;
}

describe("uncopiedFrames", () => {
  it("reads from SQLite's wal-index how much of the log a checkpoint has yet to copy", () => {
    const dir = mkdtempSync(join(tmpdir(), "quizwire-wal-index-"));
    dirs.push(dir);
    const path = join(dir, "db.sqlite");
    const db = new BetterSqlite3(path);
    try {
      db.pragma("journal_mode = WAL");
      db.pragma("wal_autocheckpoint = 0");
      db.exec("create table t (id integer primary key, text text)");
      const insert = db.prepare("insert into t (text) values (?)");
      for (let i = 0; i < 50; i++) insert.run("x".repeat(2_000));
      const le = endianness() === "LE";

      const before = uncopiedFrames(walIndexHeader(path), le);
      const [result] = db.pragma("wal_checkpoint(PASSIVE)") as Array<{
        busy: number;
        log: number;
        checkpointed: number;
      }>;
      // Nothing was copied before: every frame of the log was still to copy, and now is copied.
      expect(before).toBeGreaterThan(25);
      expect(before).toBe(result?.log);
      expect(result?.checkpointed).toBe(result?.log);
      expect(uncopiedFrames(walIndexHeader(path), le)).toBe(0);

      // The next write starts the log over: only its own frames are left to copy.
      insert.run("y".repeat(2_000));
      const after = uncopiedFrames(walIndexHeader(path), le);
      expect(after).toBeGreaterThan(0);
      expect(after).toBeLessThan(5);
    } finally {
      db.close();
    }
  });
});
