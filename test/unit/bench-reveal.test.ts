import { describe, expect, it } from "vitest";
import { formatRevealRows, runRevealBench } from "../../bench/reveal.js";

describe("bench/reveal.ts: a reveal's work before its first write", () => {
  it("plays every question to its reveal and times the room's reveal, its encoding and the players' parts", () => {
    const rows = runRevealBench({ players: 50, questions: 3 });
    expect(rows.map((r) => r.step)).toEqual([
      "room: the reveal (Room.stored)",
      "canonical encoding (encodeEvent)",
      "each player's own part looked up",
    ]);
    for (const r of rows) {
      expect(r.medianMs).toBeGreaterThan(0);
      expect(r.maxMs).toBeGreaterThanOrEqual(r.medianMs);
    }
    const table = formatRevealRows(rows).split("\n");
    expect(table).toHaveLength(4);
    expect(table[1]).toMatch(/^room: the reveal \(Room\.stored\)\s+\d+\.\d\d\s+\d+\.\d\d$/);
  });
});
