import { describe, expect, it } from "vitest";
import {
  histogramBetween,
  histogramBuckets,
  summarizeBuckets,
} from "../../bench/server-histogram.js";

const text = (counts: number[], door = "canonical") =>
  ["0.005", "0.01", "0.05", "0.1", "+Inf"]
    .map((le, i) => `quizwire_answer_ack_seconds_bucket{le="${le}",door="${door}"} ${counts[i]}`)
    .join("\n");

describe("the server's own histogram in the bench report", () => {
  it("reads one histogram's buckets for the labels asked, adding matching series together", () => {
    const exposition = [
      "# HELP quizwire_answer_ack_seconds answer to acknowledgement",
      "# TYPE quizwire_answer_ack_seconds histogram",
      text([1, 2, 3, 4, 4]),
      text([100, 100, 100, 100, 100], "seed001"),
      'quizwire_answer_ack_seconds_sum{door="canonical"} 0.2',
      'quizwire_answer_ack_seconds_count{door="canonical"} 4',
      text([1, 1, 1, 1, 1]),
    ].join("\n");
    const b = histogramBuckets(exposition, "quizwire_answer_ack_seconds", { door: "canonical" });
    expect([...b.entries()]).toEqual([
      [0.005, 2],
      [0.01, 3],
      [0.05, 4],
      [0.1, 5],
      [Number.POSITIVE_INFINITY, 5],
    ]);
  });

  it("summarises what was observed between two readings by the buckets holding p50 and p99", () => {
    const name = "quizwire_answer_ack_seconds";
    const before = histogramBuckets(text([10, 10, 10, 10, 10]), name, { door: "canonical" });
    // 100 more: 60 within 5 ms, 30 more within 10, 9 within 50, 1 within 100.
    const after = histogramBuckets(text([70, 100, 109, 110, 110]), name, { door: "canonical" });
    expect(summarizeBuckets(before, after)).toEqual({ count: 100, p50Ms: 5, p99Ms: 50 });
    expect(summarizeBuckets(after, after)).toEqual({ count: 0, p50Ms: null, p99Ms: null });
    const slow = histogramBuckets(text([0, 0, 0, 0, 10]), name, { door: "canonical" });
    expect(summarizeBuckets(new Map(), slow).p99Ms).toBe(Number.POSITIVE_INFINITY);
  });

  it("reads a histogram between two /metrics texts by its labels, and nothing without both", () => {
    const broadcast = (type: string, counts: number[]) =>
      ["0.1", "0.25", "+Inf"]
        .map(
          (le, i) =>
            `quizwire_broadcast_seconds_bucket{le="${le}",door="canonical",type="${type}"} ${counts[i]}`,
        )
        .join("\n");
    const before = [broadcast("question", [1, 1, 1]), broadcast("reveal", [0, 1, 1])].join("\n");
    const after = [broadcast("question", [2, 4, 4]), broadcast("reveal", [0, 1, 2])].join("\n");
    const name = "quizwire_broadcast_seconds";
    expect(histogramBetween(before, after, name, { type: "question" })).toEqual({
      count: 3,
      p50Ms: 250,
      p99Ms: 250,
    });
    expect(histogramBetween(before, after, name, { type: "reveal" })).toEqual({
      count: 1,
      p50Ms: Number.POSITIVE_INFINITY,
      p99Ms: Number.POSITIVE_INFINITY,
    });
    expect(histogramBetween(null, after, name, { type: "reveal" })).toBeNull();
    expect(histogramBetween(before, null, name, { type: "reveal" })).toBeNull();
  });
});
