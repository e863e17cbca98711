/**
 * L-4 without a stopwatch: the leaderboard counts the tree nodes it touches
 * (`stats.visits`), and these tests bound that count by the AVL height bound
 * and check that it grows like log n, not like n.
 */
import { describe, expect, it } from "vitest";
import { Leaderboard } from "../../src/domain/leaderboard.js";

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

/** AVL trees with n nodes have height < 1.4405·log2(n + 2) − 0.3277. */
const avlBound = (n: number) => 1.45 * Math.log2(n + 2);

const SIZES = [1_000, 10_000, 100_000] as const;
const OPS = 2_000;

interface Measured {
  n: number;
  height: number;
  setPerOp: number;
  rankPerOp: number;
  atPerOp: number;
}

/**
 * Builds a board of n entries in ascending score order (each insert lands at
 * the far left, the worst case for an unbalanced tree), then runs OPS random
 * score updates, rank reads and at() reads, checking each operation against
 * the current height and returning the average visits per operation.
 */
function measure(n: number, seed: number): Measured {
  const rand = mulberry32(seed);
  const int = (k: number) => Math.floor(rand() * k);
  const lb = new Leaderboard();
  for (let i = 0; i < n; i++) lb.set(`p${i}`, i, n - i);
  expect(lb.size).toBe(n);
  expect(lb.height()).toBeLessThanOrEqual(avlBound(n));

  let setVisits = 0;
  let rankVisits = 0;
  let atVisits = 0;
  for (let op = 0; op < OPS; op++) {
    const id = `p${int(n)}`;
    const h = lb.height();

    // An update walks down to remove the node (and its successor) then down again to insert it.
    lb.stats.visits = 0;
    lb.set(id, int(n), op);
    expect(lb.stats.visits).toBeLessThanOrEqual(2 * h);
    setVisits += lb.stats.visits;

    lb.stats.visits = 0;
    const rank = lb.rank(`p${int(n)}`);
    expect(rank).toBeDefined();
    expect(lb.stats.visits).toBeLessThanOrEqual(lb.height());
    rankVisits += lb.stats.visits;

    lb.stats.visits = 0;
    expect(lb.at(1 + int(n))).toBeDefined();
    expect(lb.stats.visits).toBeLessThanOrEqual(lb.height());
    atVisits += lb.stats.visits;
  }
  expect(lb.height()).toBeLessThanOrEqual(avlBound(n));

  return {
    n,
    height: lb.height(),
    setPerOp: setVisits / OPS,
    rankPerOp: rankVisits / OPS,
    atPerOp: atVisits / OPS,
  };
}

describe("L-4: leaderboard operations are O(log n)", () => {
  // Measured once per size, on first use, so the work runs inside a test.
  const cache = new Map<number, Measured>();
  const resultFor = (n: number): Measured => {
    let r = cache.get(n);
    if (r === undefined) {
      r = measure(n, 1000 + n);
      cache.set(n, r);
    }
    return r;
  };

  it.each(SIZES)(
    "L-4: n=%i keeps the AVL height bound and ~log n visits per update and rank read",
    (n) => {
      const r = resultFor(n);
      const lg = Math.log2(n);
      expect(r.height).toBeLessThanOrEqual(avlBound(n));
      // Per-operation ceilings (asserted op by op in measure()) follow from the
      // height bound: rank/at walk one root-to-node path (c = 1.45), an update
      // walks one path to remove and one to re-insert (c = 2 × 1.45 = 2.9).
      expect(r.rankPerOp).toBeLessThanOrEqual(1.45 * Math.log2(n + 2));
      expect(r.atPerOp).toBeLessThanOrEqual(1.45 * Math.log2(n + 2));
      expect(r.setPerOp).toBeLessThanOrEqual(2.9 * Math.log2(n + 2));
      // And the counter really counts: no binary tree has an average depth much
      // below log2(n), so a stubbed or partial counter would fail here.
      expect(r.rankPerOp).toBeGreaterThanOrEqual(lg - 2);
      expect(r.setPerOp).toBeGreaterThanOrEqual(lg - 2);
    },
  );

  it("L-4: 100× more entries costs well under 3× more visits (linear would be 100×)", () => {
    const small = resultFor(1_000);
    const large = resultFor(100_000);
    // log2(100k) / log2(1k) ≈ 1.67; a sqrt(n) structure would already show 10×.
    expect(large.rankPerOp / small.rankPerOp).toBeLessThan(3);
    expect(large.atPerOp / small.atPerOp).toBeLessThan(3);
    expect(large.setPerOp / small.setPerOp).toBeLessThan(3);
    expect(large.height / small.height).toBeLessThan(3);
  });

  it("L-4: top(N) and range() cost N plus at most two root-to-leaf paths", () => {
    const n = 100_000;
    const lb = new Leaderboard();
    for (let i = 0; i < n; i++) lb.set(`p${i}`, i % 997, i);
    const h = lb.height();
    for (const [from, count] of [
      [1, 10],
      [1, 100],
      [n / 2, 50],
      [n - 20, 100],
    ] as const) {
      lb.stats.visits = 0;
      const page = lb.range(from, count);
      expect(page.length).toBe(Math.min(count, n - from + 1));
      expect(lb.stats.visits).toBeLessThanOrEqual(page.length + 2 * h);
    }
    lb.stats.visits = 0;
    expect(lb.top(10)).toHaveLength(10);
    expect(lb.stats.visits).toBeLessThanOrEqual(10 + 2 * h);
  });

  it("L-4: deleting and re-inserting stays within one or two root-to-leaf paths", () => {
    const n = 100_000;
    const rand = mulberry32(7);
    const lb = new Leaderboard();
    for (let i = 0; i < n; i++) lb.set(`p${i}`, n - i, 0);
    for (let op = 0; op < OPS; op++) {
      const id = `p${Math.floor(rand() * n)}`;
      const h = lb.height();
      lb.stats.visits = 0;
      expect(lb.delete(id)).toBe(true);
      expect(lb.stats.visits).toBeLessThanOrEqual(h);
      lb.stats.visits = 0;
      lb.set(id, Math.floor(rand() * n), op);
      expect(lb.stats.visits).toBeLessThanOrEqual(lb.height());
    }
    expect(lb.size).toBe(n);
    expect(lb.height()).toBeLessThanOrEqual(avlBound(n));
  });
});
