import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import {
  HotCounter,
  HotHistogram,
  HotLabeledCounter,
} from "../../src/observability/hot-metrics.js";

/** The sample lines of an exposition, without HELP/TYPE. */
async function samples(registry: Registry): Promise<string[]> {
  return (await registry.metrics()).split("\n").filter((l) => l !== "" && !l.startsWith("#"));
}

describe("hot-path metrics", () => {
  const buckets = [0.001, 0.01, 0.1, 1];
  const values = [0.0005, 0.001, 0.002, 0.05, 0.05, 0.5, 3, 1];

  it("a HotHistogram exposes exactly what prom-client's Histogram does for the same observations", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const hot = new HotHistogram("lat_seconds", "h", buckets, ours, "door");
    const ref = new Histogram({
      name: "lat_seconds",
      help: "h",
      buckets,
      labelNames: ["door"],
      registers: [theirs],
    });
    const a = hot.child("a");
    const b = hot.child("b");
    for (const v of values) {
      a.observe(v);
      ref.observe({ door: "a" }, v);
    }
    b.observe(0.02);
    ref.observe({ door: "b" }, 0.02);
    expect(await samples(ours)).toEqual(await samples(theirs));
    expect((await ours.metrics()).split("\n").slice(0, 2)).toEqual([
      "# HELP lat_seconds h",
      "# TYPE lat_seconds histogram",
    ]);
  });

  it("an unlabelled HotHistogram and a HotCounter match prom-client's too", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const hot = new HotHistogram("plain_seconds", "h", buckets, ours).child();
    const ref = new Histogram({ name: "plain_seconds", help: "h", buckets, registers: [theirs] });
    const count = new HotCounter("things_total", "c", ours);
    const refCount = new Counter({ name: "things_total", help: "c", registers: [theirs] });
    for (const v of values) {
      hot.observe(v);
      ref.observe(v);
      count.inc();
      refCount.inc();
    }
    expect(await samples(ours)).toEqual(await samples(theirs));
  });

  it("a HotLabeledCounter exposes what prom-client's labelled Counter does, one series per label set", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const hot = new HotLabeledCounter("msgs_total", "m", ours);
    const ref = new Counter({
      name: "msgs_total",
      help: "m",
      labelNames: ["door", "type"],
      registers: [theirs],
    });
    const answers = hot.child({ door: "canonical", type: "answer" });
    expect(hot.child({ door: "canonical", type: "answer" })).toBe(answers);
    for (let i = 0; i < 3; i++) {
      answers.inc();
      ref.inc({ door: "canonical", type: "answer" });
    }
    hot.child({ door: "seed001", type: "PING" }).inc(5);
    ref.inc({ door: "seed001", type: "PING" }, 5);
    expect(await samples(ours)).toEqual(await samples(theirs));
    expect(await samples(ours)).toContain('msgs_total{door="canonical",type="answer"} 3');
    ours.resetMetrics();
    expect(await samples(ours)).toContain('msgs_total{door="canonical",type="answer"} 0');
  });
});
