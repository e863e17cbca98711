/**
 * Leaderboard throughput (L-4). Not a test: prints ops/s for score updates,
 * rank reads and top(10)/top(100) at 1k, 10k and 100k entries, plus the tree
 * height. Every measurement is capped in both operations and wall time.
 *
 *   npx tsx bench/leaderboard.ts
 */
import { pathToFileURL } from "node:url";
import { Leaderboard } from "../src/domain/leaderboard.js";

export interface LeaderboardBenchRow {
  n: number;
  height: number;
  setOpsPerSec: number;
  rankOpsPerSec: number;
  top10OpsPerSec: number;
  top100OpsPerSec: number;
}

export interface LeaderboardBenchOptions {
  sizes?: readonly number[];
  /** Wall-time budget per measurement. */
  maxMs?: number;
  /** Operation cap per measurement. */
  maxOps?: number;
}

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

/** Runs `op(i)` until maxOps or maxMs, checking the clock every 256 ops; returns ops/s. */
function opsPerSec(op: (i: number) => void, maxOps: number, maxMs: number): number {
  for (let i = 0; i < Math.min(1_000, maxOps); i++) op(i); // warm-up
  const start = performance.now();
  let done = 0;
  let elapsed = 0;
  while (done < maxOps) {
    const batchEnd = Math.min(done + 256, maxOps);
    for (; done < batchEnd; done++) op(done);
    elapsed = performance.now() - start;
    if (elapsed >= maxMs) break;
  }
  return elapsed > 0 ? (done / elapsed) * 1000 : Number.POSITIVE_INFINITY;
}

export function runLeaderboardBench(options: LeaderboardBenchOptions = {}): LeaderboardBenchRow[] {
  const sizes = options.sizes ?? [1_000, 10_000, 100_000];
  const maxMs = options.maxMs ?? 300;
  const maxOps = options.maxOps ?? 2_000_000;
  const rows: LeaderboardBenchRow[] = [];
  let sink = 0;

  for (const n of sizes) {
    const rand = mulberry32(n);
    const lb = new Leaderboard();
    const ids = Array.from({ length: n }, (_, i) => `p${i}`);
    for (let i = 0; i < n; i++) lb.set(ids[i]!, Math.floor(rand() * 10 * n), i);

    // Pre-drawn operands keep string building and the PRNG out of the timed loops.
    const mask = 4095;
    const pickIds = Array.from({ length: mask + 1 }, () => ids[Math.floor(rand() * n)]!);
    const pickScores = Array.from({ length: mask + 1 }, () => Math.floor(rand() * 10 * n));
    let tieBreak = n;

    const setOps = opsPerSec(
      (i) => lb.set(pickIds[i & mask]!, pickScores[(i * 7) & mask]!, tieBreak++),
      maxOps,
      maxMs,
    );
    const rankOps = opsPerSec(
      (i) => {
        sink += lb.rank(pickIds[i & mask]!) ?? 0;
      },
      maxOps,
      maxMs,
    );
    const top10Ops = opsPerSec(
      () => {
        sink += lb.top(10).length;
      },
      maxOps,
      maxMs,
    );
    const top100Ops = opsPerSec(
      () => {
        sink += lb.top(100).length;
      },
      maxOps,
      maxMs,
    );
    rows.push({
      n,
      height: lb.height(),
      setOpsPerSec: setOps,
      rankOpsPerSec: rankOps,
      top10OpsPerSec: top10Ops,
      top100OpsPerSec: top100Ops,
    });
  }
  if (sink === -1) console.log(sink); // keeps the reads observable to the optimiser
  return rows;
}

function formatRows(rows: readonly LeaderboardBenchRow[]): string {
  const fmt = (x: number) => Math.round(x).toLocaleString("en-US").padStart(12);
  const lines = [
    `${"n".padStart(8)} ${"height".padStart(6)} ${"set/s".padStart(12)} ${"rank/s".padStart(12)} ${"top10/s".padStart(12)} ${"top100/s".padStart(12)}`,
  ];
  for (const r of rows) {
    lines.push(
      `${String(r.n).padStart(8)} ${String(r.height).padStart(6)} ${fmt(r.setOpsPerSec)} ${fmt(r.rankOpsPerSec)} ${fmt(r.top10OpsPerSec)} ${fmt(r.top100OpsPerSec)}`,
    );
  }
  return lines.join("\n");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log("leaderboard (order-statistic AVL tree)");
  console.log(formatRows(runLeaderboardBench()));
}
