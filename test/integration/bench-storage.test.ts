import { describe, expect, it } from "vitest";
import { formatCommitTailRows, runCommitTailBench } from "../../bench/storage.js";

describe("bench/storage.ts: a live room's commits", () => {
  it("stores every player's answer to every question in writes of the given size, once per log size", async () => {
    const rows = await runCommitTailBench([1_000, 10_000], 100, 2, 24);
    expect(rows.map((r) => r.walPages)).toEqual([1_000, 10_000]);
    for (const r of rows) {
      // 100 players in writes of 24: 5 writes a question (the last holds 4), 2 questions.
      expect(r.writes).toBe(10);
      expect(r.p50Ms).toBeGreaterThan(0);
      expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
      expect(r.maxMs).toBeGreaterThanOrEqual(r.p99Ms);
    }
    const table = formatCommitTailRows(rows).split("\n");
    expect(table).toHaveLength(3);
    expect(table[1]).toMatch(/^\s+1,000\s+10\s/);
  });
});
