import { describe, expect, it } from "vitest";
import {
  firstAndLater,
  formatMs,
  formatTable,
  parseProcStatTicks,
  parseVmRssBytes,
  peakWindow,
  percentile,
  splitEvenly,
  summarize,
} from "../../bench/stats.js";

const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe("percentile (nearest rank)", () => {
  it("takes the value at rank ceil(p/100 × n)", () => {
    const xs = oneTo(10);
    expect(percentile(xs, 50)).toBe(5);
    expect(percentile(xs, 51)).toBe(6);
    expect(percentile(xs, 90)).toBe(9);
    expect(percentile(xs, 95)).toBe(10);
    expect(percentile(xs, 100)).toBe(10);
  });

  it("gives the smallest sample for p = 0 and the largest for p = 100", () => {
    expect(percentile([3, 7, 9], 0)).toBe(3);
    expect(percentile([3, 7, 9], 100)).toBe(9);
  });

  it("does not round a whole rank up past itself (95 × 20 / 100 = 19)", () => {
    expect(percentile(oneTo(20), 95)).toBe(19);
    expect(percentile(oneTo(100), 99)).toBe(99);
    expect(percentile(oneTo(1000), 99.9)).toBe(999);
  });

  it("is always one of the samples, never an interpolation", () => {
    const xs = [1, 2, 3, 4];
    expect(percentile(xs, 50)).toBe(2);
    expect(percentile(xs, 75)).toBe(3);
    expect(percentile(xs, 76)).toBe(4);
  });

  it("of one sample is that sample; of none is NaN", () => {
    expect(percentile([42], 1)).toBe(42);
    expect(percentile([42], 99)).toBe(42);
    expect(percentile([], 50)).toBeNaN();
  });

  it("refuses p outside [0, 100]", () => {
    expect(() => percentile([1], -1)).toThrow(RangeError);
    expect(() => percentile([1], 100.5)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });
});

describe("summarize", () => {
  it("sorts numerically (not as strings) without touching the input", () => {
    const xs = [100, 9, 20, 3, 1000];
    const s = summarize(xs);
    expect(xs).toEqual([100, 9, 20, 3, 1000]);
    expect(s).toEqual({ count: 5, min: 3, mean: 226.4, p50: 20, p95: 1000, p99: 1000, max: 1000 });
  });

  it("gives p50/p95/p99 of 1…1000 as 500/950/990", () => {
    const shuffled = oneTo(1000).map((x) => (x * 7919) % 1000 || 1000);
    const s = summarize(shuffled);
    expect([s.p50, s.p95, s.p99, s.max, s.min]).toEqual([500, 950, 990, 1000, 1]);
  });

  it("of no samples has count 0 and NaN elsewhere", () => {
    const s = summarize([]);
    expect(s.count).toBe(0);
    expect(s.p50).toBeNaN();
    expect(s.max).toBeNaN();
    expect(s.mean).toBeNaN();
  });
});

describe("firstAndLater", () => {
  it("summarizes the first group apart from all the others (question 1 against the rest)", () => {
    const { first, later } = firstAndLater([250, 240, 130, 120, 110, 300], [0, 0, 1, 2, 1, 0], 0);
    expect([first.count, first.p50, first.max]).toEqual([3, 250, 300]);
    expect([later.count, later.p50, later.max]).toEqual([3, 120, 130]);
  });

  it("gives NaN for a group with no samples (a one-question game has no later questions)", () => {
    const { first, later } = firstAndLater([5, 6], [1, 1], 1);
    expect(first.count).toBe(2);
    expect(later.p99).toBeNaN();
  });
});

describe("peakWindow", () => {
  it("finds the busiest run of `window` consecutive buckets inside the range", () => {
    const b = new Map([
      [10, 1],
      [11, 5],
      [12, 5],
      [13, 1],
      [20, 100],
    ]);
    expect(peakWindow(b, 10, 13, 2)).toBe(10);
    expect(peakWindow(b, 10, 13, 3)).toBe(11);
    expect(peakWindow(b, 10, 19, 10)).toBe(12);
    expect(peakWindow(b, 10, 20, 10)).toBe(111);
    expect(peakWindow(b, 12, 13, 1)).toBe(5);
  });

  it("counts missing buckets as 0", () => {
    expect(peakWindow(new Map(), 0, 100, 10)).toBe(0);
  });
});

describe("/proc parsing", () => {
  it("reads utime + stime after the last parenthesis of the command name", () => {
    // Fields 14 (utime) = 150 and 15 (stime) = 25; the comm holds a space and a ")".
    const stat = "4242 (node (x) y) S 1 4242 4242 0 -1 4194304 100 0 0 0 150 25 0 0 20 0 11 0";
    expect(parseProcStatTicks(stat)).toBe(175);
    expect(parseProcStatTicks("garbage")).toBeNull();
  });

  it("reads VmRSS in bytes", () => {
    const status = "Name:\tnode\nVmPeak:\t 999 kB\nVmRSS:\t  204800 kB\nThreads:\t11\n";
    expect(parseVmRssBytes(status)).toBe(204800 * 1024);
    expect(parseVmRssBytes("Name:\tnode\n")).toBeNull();
  });
});

describe("helpers", () => {
  it("splits players over workers evenly, larger shares first", () => {
    expect(splitEvenly(1000, 4)).toEqual([250, 250, 250, 250]);
    expect(splitEvenly(10, 4)).toEqual([3, 3, 2, 2]);
    expect(splitEvenly(1, 1)).toEqual([1]);
  });

  it("formats milliseconds with precision that shrinks as they grow", () => {
    expect(formatMs(1.234)).toBe("1.23");
    expect(formatMs(12.34)).toBe("12.3");
    expect(formatMs(1234.5)).toBe("1,235");
    expect(formatMs(Number.NaN)).toBe("—");
  });

  it("aligns a table: first column left, the rest right", () => {
    expect(
      formatTable([
        ["metric", "n"],
        ["join", "1000"],
      ]),
    ).toBe("metric     n\njoin    1000");
  });
});
