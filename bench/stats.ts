/**
 * The load generator's arithmetic and formatting: percentiles, summaries,
 * /proc parsing and table layout. Pure: no I/O, no clock.
 */

/** p50/p95/p99/max and friends of one set of samples (ms unless said otherwise). */
export interface Summary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * The nearest-rank percentile of ascending `sorted` values: the value at
 * 1-based rank `ceil(p / 100 × n)` (rank 1 for p = 0). Always one of the
 * samples, never an interpolation. NaN for no samples.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!Number.isFinite(p) || p < 0 || p > 100) {
    throw new RangeError(`percentile needs p in [0, 100], got ${p}`);
  }
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  // The epsilon keeps p × n that is whole in exact arithmetic (95 × 20 / 100) from
  // rounding up past itself in floating point.
  const rank = Math.max(1, Math.ceil((p * n) / 100 - 1e-9));
  return sorted[Math.min(n, rank) - 1] as number;
}

/**
 * The samples of group `first` and those of every other group, each summarized: question 1 apart
 * from the later questions, or the reference's first broadcast apart from its later ones.
 * `groups[i]` is the group of `samples[i]`.
 */
export function firstAndLater(
  samples: readonly number[],
  groups: readonly number[],
  first: number,
): { first: Summary; later: Summary } {
  const firsts: number[] = [];
  const laters: number[] = [];
  for (let i = 0; i < samples.length; i++) {
    (groups[i] === first ? firsts : laters).push(samples[i] as number);
  }
  return { first: summarize(firsts), later: summarize(laters) };
}

/** Summary of `samples` in any order (they are copied, not sorted in place). NaN fields when empty. */
export function summarize(samples: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i] as number;
  return {
    count: n,
    min: n > 0 ? (sorted[0] as number) : Number.NaN,
    mean: n > 0 ? sum / n : Number.NaN,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: n > 0 ? (sorted[n - 1] as number) : Number.NaN,
  };
}

/** Adds every count of `from` into `into` (error tallies by code). */
export function addCounts(
  into: Record<string, number>,
  from: Readonly<Record<string, number>>,
): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Milliseconds for a table cell: 2 decimals below 10, 1 below 100, whole above; "—" for NaN. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "—";
  const a = Math.abs(ms);
  if (a < 10) return ms.toFixed(2);
  if (a < 100) return ms.toFixed(1);
  return Math.round(ms).toLocaleString("en-US");
}

/** Bytes as MB (10^6) with one decimal. */
export function formatMB(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/** A whole number with thousands separators; "—" for NaN. */
export function formatInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "—";
}

/**
 * Lays out rows as columns: the first column left-aligned, the others right-aligned,
 * each as wide as its widest cell, separated by two spaces.
 */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** The table row of one summary: name, count, p50, p95, p99, max. */
export function summaryRow(name: string, s: Summary): string[] {
  return [
    name,
    formatInt(s.count),
    formatMs(s.p50),
    formatMs(s.p95),
    formatMs(s.p99),
    formatMs(s.max),
  ];
}

/**
 * utime + stime, in clock ticks, from the text of /proc/<pid>/stat. The
 * command name (field 2) may hold spaces and parentheses, so fields are counted
 * from the last ")". Null when the text does not parse.
 */
export function parseProcStatTicks(stat: string): number | null {
  const close = stat.lastIndexOf(")");
  if (close < 0) return null;
  // After ")": field 3 (state) is index 0, so utime (field 14) is index 11 and stime index 12.
  const fields = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return utime + stime;
}

/** VmRSS in bytes from the text of /proc/<pid>/status; null when absent. */
export function parseVmRssBytes(status: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : null;
}

/** `count` items split over `parts` shares as evenly as possible, larger shares first. */
export function splitEvenly(count: number, parts: number): number[] {
  const base = Math.floor(count / parts);
  const extra = count % parts;
  return Array.from({ length: parts }, (_, i) => base + (i < extra ? 1 : 0));
}

/**
 * The largest number of events in any `window` consecutive buckets whose keys
 * lie in [fromKey, toKey] (a bucket is a key → count; missing keys count 0).
 * With 100 ms buckets and window 10 this is the busiest second.
 */
export function peakWindow(
  buckets: ReadonlyMap<number, number>,
  fromKey: number,
  toKey: number,
  window: number,
): number {
  if (!Number.isInteger(window) || window < 1)
    throw new RangeError(`window must be ≥ 1, got ${window}`);
  let best = 0;
  let run = 0;
  for (let k = fromKey; k <= toKey; k++) {
    run += buckets.get(k) ?? 0;
    if (k - window >= fromKey) run -= buckets.get(k - window) ?? 0;
    if (run > best) best = run;
  }
  return best;
}

/** The smallest of `xs` that is ≥ `from`; NaN when there is none. */
export function firstAtOrAfter(xs: Iterable<number>, from: number): number {
  let best = Number.NaN;
  for (const x of xs) if (x >= from && !(x >= best)) best = x;
  return best;
}

/** An answer the server acknowledged with a `score` reply. */
export interface AckedAnswer {
  /** The player's display name. */
  name: string;
  /** 0-based question index. */
  index: number;
  /** The points the ack reported. */
  points: number;
}

/** A player's row of GET /api/v1/sessions/{id}/results, as far as the check reads it. */
export interface StoredPlayer {
  name: string;
  answers: ReadonlyArray<{ question_index: number; answered: boolean; points: number }>;
}

/**
 * Compares acknowledged answers with the stored results: `lost` counts acks whose answer is not
 * in the results at all (no player of that name, or that question unanswered), `pointsDiffer`
 * those stored with other points than the ack reported. Names must be unique.
 */
export function checkAcknowledged(
  acked: readonly AckedAnswer[],
  stored: readonly StoredPlayer[],
): { lost: number; pointsDiffer: number } {
  const byName = new Map<string, StoredPlayer>();
  for (const p of stored) byName.set(p.name, p);
  let lost = 0;
  let pointsDiffer = 0;
  for (const a of acked) {
    const answer = byName.get(a.name)?.answers.find((x) => x.question_index === a.index);
    if (!answer?.answered) lost++;
    else if (answer.points !== a.points) pointsDiffer++;
  }
  return { lost, pointsDiffer };
}
