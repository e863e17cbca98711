import { describe, expect, it } from "vitest";
import { Leaderboard, type LeaderboardEntry } from "../../src/domain/leaderboard.js";

/** Tiny seeded PRNG (mulberry32) so the randomized test replays exactly. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ids = (entries: LeaderboardEntry[]) => entries.map((e) => e.id);

function board(rows: [id: string, score: number, tieBreak: number][]): Leaderboard {
  const lb = new Leaderboard();
  for (const [id, score, tieBreak] of rows) lb.set(id, score, tieBreak);
  return lb;
}

describe("Leaderboard ordering", () => {
  it("L-1: ranks by score, highest first, with unique ranks 1..n", () => {
    const lb = board([
      ["a", 300, 0],
      ["b", 1200, 1],
      ["c", 0, 2],
      ["d", 800, 3],
    ]);
    expect([...lb.entries()]).toEqual([
      { id: "b", score: 1200, tieBreak: 1, rank: 1 },
      { id: "d", score: 800, tieBreak: 3, rank: 2 },
      { id: "a", score: 300, tieBreak: 0, rank: 3 },
      { id: "c", score: 0, tieBreak: 2, rank: 4 },
    ]);
    expect(["a", "b", "c", "d"].map((id) => lb.rank(id))).toEqual([3, 1, 4, 2]);
  });

  it("L-1: negative and fractional scores order numerically", () => {
    const lb = board([
      ["a", -5, 0],
      ["b", 2.5, 0],
      ["c", 2, 0],
      ["d", -0.5, 0],
    ]);
    expect(ids(lb.top(10))).toEqual(["b", "c", "d", "a"]);
  });

  it("L-2: equal scores rank by lower tieBreak first", () => {
    const lb = board([
      ["early", 500, 7],
      ["late", 500, 9],
      ["first", 500, 2],
      ["zeroLate", 0, 4],
      ["zeroEarly", 0, 1],
    ]);
    expect(ids(lb.top(5))).toEqual(["first", "early", "late", "zeroEarly", "zeroLate"]);
  });

  it("L-2: equal score and tieBreak rank by id with plain string comparison", () => {
    // Code-unit order: "B" (66) < "a" (97), "10" < "9", "a" < "aa".
    const lb = board([
      ["a", 100, 1],
      ["9", 100, 1],
      ["B", 100, 1],
      ["aa", 100, 1],
      ["10", 100, 1],
    ]);
    expect(ids(lb.top(5))).toEqual(["10", "9", "B", "a", "aa"]);
  });
});

describe("Leaderboard updates", () => {
  it("L-1: moving an entry up re-ranks everyone between", () => {
    const lb = board([
      ["a", 400, 0],
      ["b", 300, 1],
      ["c", 200, 2],
      ["d", 100, 3],
    ]);
    lb.set("d", 450, 10);
    expect(ids(lb.top(4))).toEqual(["d", "a", "b", "c"]);
    expect(lb.rank("d")).toBe(1);
    expect(lb.rank("c")).toBe(4);
    expect(lb.get("d")).toEqual({ score: 450, tieBreak: 10 });
    expect(lb.size).toBe(4);
  });

  it("L-1: moving an entry down re-ranks everyone between", () => {
    const lb = board([
      ["a", 400, 0],
      ["b", 300, 1],
      ["c", 200, 2],
      ["d", 100, 3],
    ]);
    lb.set("a", 150, 11);
    expect(ids(lb.top(4))).toEqual(["b", "c", "a", "d"]);
    expect(lb.rank("a")).toBe(3);
    expect(lb.rank("b")).toBe(1);
  });

  it("L-2: a new tieBreak alone moves an entry among equal scores", () => {
    const lb = board([
      ["a", 100, 1],
      ["b", 100, 2],
      ["c", 100, 3],
    ]);
    lb.set("a", 100, 4);
    expect(ids(lb.top(3))).toEqual(["b", "c", "a"]);
  });

  it("setting the same key again changes nothing", () => {
    const lb = board([
      ["a", 100, 1],
      ["b", 50, 2],
    ]);
    lb.set("a", 100, 1);
    expect([...lb]).toEqual([
      { id: "a", score: 100, tieBreak: 1, rank: 1 },
      { id: "b", score: 50, tieBreak: 2, rank: 2 },
    ]);
  });

  it("rejects non-finite keys and leaves the board as it was", () => {
    const lb = board([["a", 100, 1]]);
    expect(() => lb.set("a", Number.NaN, 1)).toThrow(RangeError);
    expect(() => lb.set("b", Number.POSITIVE_INFINITY, 1)).toThrow(RangeError);
    expect(() => lb.set("b", 1, Number.NaN)).toThrow(RangeError);
    expect(lb.size).toBe(1);
    expect(lb.get("a")).toEqual({ score: 100, tieBreak: 1 });
    expect(lb.has("b")).toBe(false);
  });
});

describe("Leaderboard delete", () => {
  it("L-3: a removed entry leaves no gap in the ranks", () => {
    const lb = board([
      ["a", 400, 0],
      ["b", 300, 1],
      ["c", 200, 2],
      ["d", 100, 3],
    ]);
    expect(lb.delete("b")).toBe(true);
    expect(lb.delete("b")).toBe(false);
    expect(lb.delete("nobody")).toBe(false);
    expect(lb.has("b")).toBe(false);
    expect(lb.get("b")).toBeUndefined();
    expect(lb.rank("b")).toBeUndefined();
    expect(lb.size).toBe(3);
    expect([...lb].map((e) => [e.id, e.rank])).toEqual([
      ["a", 1],
      ["c", 2],
      ["d", 3],
    ]);
  });

  it("deleting every entry, middle rank first, empties the board; it can be refilled", () => {
    const lb = new Leaderboard();
    for (let i = 0; i < 50; i++) lb.set(`p${i}`, i % 7, i);
    while (lb.size > 0) {
      const root = lb.at(Math.ceil(lb.size / 2))!;
      expect(lb.delete(root.id)).toBe(true);
    }
    expect(lb.height()).toBe(0);
    expect(lb.top(3)).toEqual([]);
    lb.set("again", 1, 1);
    expect(lb.at(1)).toEqual({ id: "again", score: 1, tieBreak: 1, rank: 1 });
  });

  it("clear() removes everything", () => {
    const lb = board([
      ["a", 1, 1],
      ["b", 2, 2],
    ]);
    lb.clear();
    expect(lb.size).toBe(0);
    expect(lb.has("a")).toBe(false);
    expect([...lb]).toEqual([]);
  });
});

describe("Leaderboard reads on edges", () => {
  it("an empty board answers every read with nothing", () => {
    const lb = new Leaderboard();
    expect(lb.size).toBe(0);
    expect(lb.height()).toBe(0);
    expect(lb.rank("x")).toBeUndefined();
    expect(lb.at(1)).toBeUndefined();
    expect(lb.top(10)).toEqual([]);
    expect(lb.range(1, 10)).toEqual([]);
    expect([...lb.entries()]).toEqual([]);
  });

  const five = () =>
    board([
      ["a", 5, 0],
      ["b", 4, 0],
      ["c", 3, 0],
      ["d", 2, 0],
      ["e", 1, 0],
    ]);

  it("at() answers ranks 1..size and nothing outside", () => {
    const lb = five();
    expect(lb.at(1)?.id).toBe("a");
    expect(lb.at(5)).toEqual({ id: "e", score: 1, tieBreak: 0, rank: 5 });
    expect(lb.at(0)).toBeUndefined();
    expect(lb.at(6)).toBeUndefined();
    expect(lb.at(-1)).toBeUndefined();
    expect(lb.at(2.5)).toBeUndefined();
    expect(lb.at(Number.NaN)).toBeUndefined();
  });

  it("top(n) is cut short when n > size and empty when n <= 0", () => {
    const lb = five();
    expect(ids(lb.top(3))).toEqual(["a", "b", "c"]);
    expect(ids(lb.top(100))).toEqual(["a", "b", "c", "d", "e"]);
    expect(lb.top(0)).toEqual([]);
    expect(lb.top(-3)).toEqual([]);
    expect(lb.top(5).map((e) => e.rank)).toEqual([1, 2, 3, 4, 5]);
  });

  it("range() pages carry their ranks; pages past the end are empty", () => {
    const lb = five();
    expect(lb.range(2, 2)).toEqual([
      { id: "b", score: 4, tieBreak: 0, rank: 2 },
      { id: "c", score: 3, tieBreak: 0, rank: 3 },
    ]);
    expect(ids(lb.range(4, 10))).toEqual(["d", "e"]);
    expect(ids(lb.range(5, 1))).toEqual(["e"]);
    expect(lb.range(6, 3)).toEqual([]);
    expect(lb.range(100, 3)).toEqual([]);
    expect(lb.range(1, 0)).toEqual([]);
    // Ranks below 1 do not exist, so a page starting at 0 holds only rank 1.
    expect(ids(lb.range(0, 2))).toEqual(["a"]);
  });

  it("range() and top() refuse non-integer arguments", () => {
    const lb = five();
    expect(() => lb.range(1.5, 2)).toThrow(RangeError);
    expect(() => lb.range(1, Number.NaN)).toThrow(RangeError);
    expect(() => lb.top(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it("entries() refuses to continue after the board changes", () => {
    const lb = five();
    const it = lb.entries();
    expect(it.next().value?.id).toBe("a");
    lb.set("z", 10, 0);
    expect(() => it.next()).toThrow(/changed during iteration/);
  });
});

describe("Leaderboard against a naive sorted array", () => {
  type Row = { id: string; score: number; tieBreak: number };
  const order = (a: Row, b: Row) =>
    b.score - a.score || a.tieBreak - b.tieBreak || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

  function replay(seed: number, ops: number) {
    const rand = mulberry32(seed);
    const int = (n: number) => Math.floor(rand() * n);
    const lb = new Leaderboard();
    const naive = new Map<string, Row>();
    let checks = 0;

    for (let op = 0; op < ops; op++) {
      const id = `p${int(300)}`;
      // Small key ranges force many equal scores and equal tieBreaks (L-2).
      if (rand() < 0.2) {
        expect(lb.delete(id)).toBe(naive.delete(id));
      } else {
        const score = int(25) * 10;
        const tieBreak = int(4);
        lb.set(id, score, tieBreak);
        naive.set(id, { id, score, tieBreak });
      }

      if (op % 10 !== 0) continue;
      checks++;
      const sorted = [...naive.values()].sort(order);
      const expected = sorted.map((r, i) => ({ ...r, rank: i + 1 }));
      expect(lb.size).toBe(sorted.length);
      expect([...lb.entries()]).toEqual(expected);
      expect(expected.map((row) => lb.rank(row.id))).toEqual(expected.map((row) => row.rank));
      for (let k = 0; k < 5; k++) {
        const r = int(sorted.length + 2);
        expect(lb.at(r)).toEqual(expected[r - 1]);
        const n = int(20);
        expect(lb.top(n)).toEqual(expected.slice(0, n));
        const from = int(sorted.length + 3);
        const count = int(30);
        expect(lb.range(from, count)).toEqual(
          expected.slice(Math.max(from, 1) - 1, Math.max(from + count - 1, 0)),
        );
      }
      expect(lb.height()).toBeLessThanOrEqual(1.45 * Math.log2(lb.size + 2));
    }
    return checks;
  }

  for (const seed of [1, 42, 20240601]) {
    it(`L-1/L-2: seed ${seed}, 5000 random set/delete ops match the naive ranking`, () => {
      expect(replay(seed, 5000)).toBeGreaterThan(450);
    });
  }
});
