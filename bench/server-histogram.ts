/**
 * A histogram the server keeps of itself, read from its `/metrics` (Prometheus text) before and
 * after a game, so the report can set the server's own view of a latency beside the clients'.
 * quizwire_answer_ack_seconds is from the door's answer handler starting to the acknowledgement
 * being built: what the clients measure on top of it is the time the answer waited to be read,
 * the write, the kernel and the generator itself. quizwire_broadcast_seconds is from the room's
 * stamp on a question or reveal to its last frame handed to the kernel: the clients' fan-out adds
 * the kernel's delivery, the generator's reading and the clock offset between the two.
 */

/** Cumulative counts by upper bound in seconds (`le`; +Inf as Infinity). */
export type Buckets = Map<number, number>;

/**
 * The buckets of histogram `name` whose labels include every one of `labels`, from exposition
 * text. Several matching series (instances' texts joined, other labels) are added together.
 */
export function histogramBuckets(
  text: string,
  name: string,
  labels: Readonly<Record<string, string>>,
): Buckets {
  const buckets: Buckets = new Map();
  const prefix = `${name}_bucket{`;
  for (const line of text.split("\n")) {
    if (!line.startsWith(prefix)) continue;
    const close = line.indexOf("}");
    if (close < 0) continue;
    const found = new Map<string, string>();
    for (const m of line.slice(prefix.length, close).matchAll(/(\w+)="([^"]*)"/g)) {
      found.set(m[1] as string, m[2] as string);
    }
    if (!Object.entries(labels).every(([k, v]) => found.get(k) === v)) continue;
    const le = found.get("le");
    const count = Number(
      line
        .slice(close + 1)
        .trim()
        .split(/\s+/)[0],
    );
    if (le === undefined || !Number.isFinite(count)) continue;
    const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
    if (Number.isNaN(bound)) continue;
    buckets.set(bound, (buckets.get(bound) ?? 0) + count);
  }
  return buckets;
}

/** What was observed between two readings of the same histogram: its count and quantile bounds. */
export interface BucketSummary {
  count: number;
  /** The upper bound (ms) of the bucket holding the median and the 99th percentile; null when nothing was observed. */
  p50Ms: number | null;
  p99Ms: number | null;
}

/** The observations between `before` and `after`, summarised by the bucket bounds that hold p50 and p99. */
export function summarizeBuckets(before: Buckets, after: Buckets): BucketSummary {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const diff = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const count = diff.length > 0 ? (diff[diff.length - 1] as number) : 0;
  const at = (q: number): number | null => {
    if (count <= 0) return null;
    const i = diff.findIndex((c) => c >= q * count);
    // Rounded to the microsecond: a bound of 0.05 s is 50 ms, not 50.000000000000004.
    return i < 0 ? null : Math.round((bounds[i] as number) * 1e6) / 1e3;
  };
  return { count, p50Ms: at(0.5), p99Ms: at(0.99) };
}

/**
 * Every server's `/metrics`, joined (a histogram read from it is summed over the servers); null
 * when one could not be read. One request per server: a bench reads it just before a game starts.
 */
export async function fetchMetricsText(httpBases: readonly string[]): Promise<string | null> {
  const texts: string[] = [];
  for (const base of httpBases) {
    try {
      const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5_000) });
      if (!res.ok) return null;
      texts.push(await res.text());
    } catch {
      return null;
    }
  }
  return texts.join("\n");
}

/** Histogram `name` (series with every one of `labels`) between two readings; null without both. */
export function histogramBetween(
  before: string | null,
  after: string | null,
  name: string,
  labels: Readonly<Record<string, string>>,
): BucketSummary | null {
  if (before === null || after === null) return null;
  return summarizeBuckets(
    histogramBuckets(before, name, labels),
    histogramBuckets(after, name, labels),
  );
}
