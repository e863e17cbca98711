/**
 * `--plot FILE`: one self-contained SVG (no scripts, fonts or links) of a raw run: the CDFs of
 * join, answer → ack, question and reveal fan-out (and the reference's, with --reference) on a
 * log time axis, and per question a strip of when each player received it (player number
 * against ms after the question opened). Pure: takes samples, returns text.
 */

/** One named set of samples (ms) for the CDF panel. */
export interface CdfSeries {
  name: string;
  samples: readonly number[];
}

/** Per question: each sample's player and its fan-out (ms after opened_at), parallel. */
export interface StripSeries {
  question: number;
  players: readonly number[];
  fanoutMs: readonly number[];
}

export interface PlotInput {
  title: string;
  subtitle: string;
  cdfs: CdfSeries[];
  strips: StripSeries[];
  playerCount: number;
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"];
/** At most this many points per CDF line and per strip, so a 10,000-player plot stays small. */
const MAX_CDF_POINTS = 400;
const MAX_STRIP_POINTS = 2_500;

const esc = (s: string) =>
  s
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
const f1 = (x: number) => (Math.round(x * 10) / 10).toString();

/** Sorted finite samples, thinned to at most `max` points evenly spaced in rank (min and max kept). */
export function cdfPoints(samples: readonly number[], max = MAX_CDF_POINTS): [number, number][] {
  const sorted = Float64Array.from(samples.filter((x) => Number.isFinite(x))).sort();
  const n = sorted.length;
  if (n === 0) return [];
  const out: [number, number][] = [];
  const step = Math.max(1, (n - 1) / Math.max(1, max - 1));
  for (let r = 0; r < n; r += step) {
    const i = Math.min(n - 1, Math.round(r));
    out.push([sorted[i] as number, (i + 1) / n]);
  }
  if (out[out.length - 1]?.[1] !== 1) out.push([sorted[n - 1] as number, 1]);
  return out;
}

/** Powers of ten (and 2×, 5×) between lo and hi, for a log axis. */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) ticks.push(v);
    }
  }
  return ticks;
}

function linTicks(lo: number, hi: number, count = 6): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(v);
  return out;
}

const fmtTick = (v: number) => (v >= 1000 ? `${v / 1000}s` : v >= 1 ? `${v}` : v.toString());

function cdfPanel(x0: number, y0: number, w: number, h: number, series: CdfSeries[]): string {
  const parts: string[] = [];
  const lines = series.map((s) => ({ name: s.name, pts: cdfPoints(s.samples) }));
  const all = lines.flatMap((l) => l.pts.map((p) => p[0]));
  const lo = Math.max(0.05, Math.min(...all.filter((x) => x > 0), 1));
  const hi = Math.max(lo * 10, ...all);
  const lx = (v: number) =>
    x0 + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * w;
  const ly = (p: number) => y0 + h - p * h;
  parts.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="#fff" stroke="#999"/>`);
  for (const t of logTicks(lo, hi)) {
    const x = f1(lx(t));
    parts.push(`<line x1="${x}" y1="${y0}" x2="${x}" y2="${y0 + h}" stroke="#eee"/>`);
    parts.push(
      `<text x="${x}" y="${y0 + h + 14}" text-anchor="middle" class="t">${fmtTick(t)}</text>`,
    );
  }
  for (const p of [0, 0.25, 0.5, 0.75, 0.9, 1]) {
    const y = f1(ly(p));
    parts.push(`<line x1="${x0}" y1="${y}" x2="${x0 + w}" y2="${y}" stroke="#eee"/>`);
    parts.push(
      `<text x="${x0 - 4}" y="${y}" text-anchor="end" dy="3" class="t">${p === 1 ? "1" : `p${Math.round(p * 100)}`}</text>`,
    );
  }
  lines.forEach((l, i) => {
    if (l.pts.length === 0) return;
    const color = COLORS[i % COLORS.length];
    const d = l.pts.map(([x, p], k) => `${k === 0 ? "M" : "L"}${f1(lx(x))},${f1(ly(p))}`).join("");
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"/>`);
    parts.push(
      `<rect x="${x0 + 10}" y="${y0 + 10 + i * 16}" width="12" height="3" fill="${color}"/><text x="${x0 + 28}" y="${y0 + 15 + i * 16}" class="l">${esc(l.name)} (n=${l.pts.length === 0 ? 0 : series[i]?.samples.length})</text>`,
    );
  });
  parts.push(
    `<text x="${x0 + w / 2}" y="${y0 + h + 30}" text-anchor="middle" class="a">ms (log scale)</text>`,
  );
  return parts.join("\n");
}

function stripPanel(
  x0: number,
  y0: number,
  w: number,
  h: number,
  s: StripSeries,
  playerCount: number,
  maxMs: number,
): string {
  const parts: string[] = [];
  const lx = (v: number) => x0 + (Math.max(0, v) / maxMs) * w;
  const ly = (n: number) => y0 + h - ((n + 0.5) / Math.max(1, playerCount)) * h;
  parts.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="#fff" stroke="#999"/>`);
  for (const t of linTicks(0, maxMs)) {
    const x = f1(lx(t));
    parts.push(`<line x1="${x}" y1="${y0}" x2="${x}" y2="${y0 + h}" stroke="#eee"/>`);
    parts.push(
      `<text x="${x}" y="${y0 + h + 14}" text-anchor="middle" class="t">${fmtTick(Math.round(t * 10) / 10)}</text>`,
    );
  }
  const n = s.fanoutMs.length;
  const step = Math.max(1, n / MAX_STRIP_POINTS);
  const d: string[] = [];
  for (let r = 0; r < n; r += step) {
    const i = Math.floor(r);
    d.push(`M${f1(lx(s.fanoutMs[i] ?? 0))},${f1(ly(s.players[i] ?? 0))}h1.5`);
  }
  parts.push(`<path d="${d.join("")}" stroke="${COLORS[0]}" stroke-width="1.5" fill="none"/>`);
  parts.push(
    `<text x="${x0 + 6}" y="${y0 + 14}" class="l">question ${s.question + 1}: ${n} receipts${n > MAX_STRIP_POINTS ? ` (${MAX_STRIP_POINTS} drawn)` : ""}</text>`,
  );
  parts.push(`<text x="${x0 - 4}" y="${y0 + h}" text-anchor="end" class="t">#0</text>`);
  parts.push(
    `<text x="${x0 - 4}" y="${y0 + 8}" text-anchor="end" class="t">#${playerCount - 1}</text>`,
  );
  return parts.join("\n");
}

/** The whole picture as SVG text. */
export function renderSvg(input: PlotInput): string {
  const width = 1000;
  const cdfH = 380;
  const stripH = 160;
  const stripGap = 44;
  const top = 70;
  const left = 60;
  const innerW = width - left - 30;
  const stripTop = top + cdfH + 70;
  const all = input.strips.flatMap((s) => s.fanoutMs).filter((x) => Number.isFinite(x));
  const sorted = Float64Array.from(all).sort();
  // The strips share an axis up to the 99.9th percentile, so one straggler does not squash them.
  const maxMs = Math.max(
    1,
    sorted.length ? (sorted[Math.floor((sorted.length - 1) * 0.999)] as number) : 1,
  );
  const height = stripTop + input.strips.length * (stripH + stripGap) + 20;
  const body: string[] = [];
  body.push(`<text x="${left}" y="24" class="h">${esc(input.title)}</text>`);
  body.push(`<text x="${left}" y="40" class="t">${esc(input.subtitle)}</text>`);
  body.push(
    `<text x="${left}" y="${top - 6}" class="a">latency distributions (CDF: fraction of samples at or below x)</text>`,
  );
  body.push(cdfPanel(left, top, innerW, cdfH, input.cdfs));
  if (input.strips.length > 0)
    body.push(
      `<text x="${left}" y="${stripTop - 8}" class="a">when each player received each question (x: ms after opened_at, axis to the p99.9 of ${f1(maxMs)} ms; y: player number)</text>`,
    );
  input.strips.forEach((s, i) => {
    body.push(
      stripPanel(
        left,
        stripTop + i * (stripH + stripGap),
        innerW,
        stripH,
        s,
        input.playerCount,
        maxMs,
      ),
    );
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">
<style>.t{font-size:10px;fill:#555}.l{font-size:11px;fill:#222}.a{font-size:12px;fill:#222;font-weight:bold}.h{font-size:16px;font-weight:bold}</style>
<rect width="100%" height="100%" fill="#fafafa"/>
${body.join("\n")}
</svg>
`;
}
