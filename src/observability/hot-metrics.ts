import type { Metric, Registry } from "prom-client";

/**
 * Metrics for the per-answer path: plain numbers updated with no label lookup and no
 * allocation, turned into Prometheus series only when /metrics is scraped. prom-client's own
 * `observe`/`inc` hash a label object and allocate on every call, even when bound.
 */

interface Sample {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** The shape prom-client's registry reads from a metric at scrape time. */
interface Exported {
  name: string;
  help: string;
  type: "counter" | "histogram";
  values: Sample[];
  aggregator: "sum";
}

function register(registry: Registry, metric: { name: string }): void {
  // The registry only keeps the object and calls get() and reset() on it.
  registry.registerMetric(metric as unknown as Metric);
}

/** One series of a HotLabeledCounter: a plain number. */
export class HotCount {
  value = 0;

  constructor(readonly labels: Readonly<Record<string, string>>) {}

  inc(by = 1): void {
    this.value += by;
  }
}

/**
 * A counter with labels whose series are made once (the caller keeps each one) and then
 * counted as plain numbers: the message counters, bumped for every frame in and every
 * broadcast out.
 */
export class HotLabeledCounter {
  private readonly series = new Map<string, HotCount>();

  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    register(registry, this);
  }

  /** The series for these label values (made on first use: call once, keep it). */
  child(labels: Readonly<Record<string, string>>): HotCount {
    const key = JSON.stringify(labels);
    let s = this.series.get(key);
    if (s === undefined) {
      s = new HotCount({ ...labels });
      this.series.set(key, s);
    }
    return s;
  }

  get(): Exported {
    const values: Sample[] = [];
    for (const s of this.series.values()) values.push({ value: s.value, labels: { ...s.labels } });
    return { name: this.name, help: this.help, type: "counter", values, aggregator: "sum" };
  }

  reset(): void {
    for (const s of this.series.values()) s.value = 0;
  }
}

/** A counter without labels: a HotLabeledCounter's one series, there from the start (0). */
export class HotCounter {
  private readonly series: HotCount;

  constructor(name: string, help: string, registry: Registry) {
    this.series = new HotLabeledCounter(name, help, registry).child({});
  }

  inc(by = 1): void {
    this.series.inc(by);
  }
}

/** One series of a HotHistogram: bucket counts, sum and count. */
export class HotSeries {
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    private readonly bounds: readonly number[],
    readonly labels: Readonly<Record<string, string>>,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count += 1;
  }

  samples(name: string, out: Sample[]): void {
    let cumulative = 0;
    for (let i = 0; i <= this.bounds.length; i++) {
      cumulative += this.counts[i] as number;
      const le = i < this.bounds.length ? (this.bounds[i] as number) : "+Inf";
      out.push({ value: cumulative, labels: { le, ...this.labels }, metricName: `${name}_bucket` });
    }
    out.push({ value: this.sum, labels: { ...this.labels }, metricName: `${name}_sum` });
    out.push({ value: this.count, labels: { ...this.labels }, metricName: `${name}_count` });
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/** A histogram whose series are made once (one per label value) and then observed directly. */
export class HotHistogram {
  private readonly series = new Map<string, HotSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
    /** The label its series are told apart by; none means one series. */
    private readonly labelName?: string,
  ) {
    register(registry, this);
    if (labelName === undefined) this.series.set("", new HotSeries(bounds, {}));
  }

  /** The series for `labelValue` (made on first use: call once, keep it). */
  child(labelValue = ""): HotSeries {
    let s = this.series.get(labelValue);
    if (s === undefined) {
      s = new HotSeries(
        this.bounds,
        this.labelName === undefined ? {} : { [this.labelName]: labelValue },
      );
      this.series.set(labelValue, s);
    }
    return s;
  }

  get(): Exported {
    const values: Sample[] = [];
    for (const s of this.series.values()) s.samples(this.name, values);
    return { name: this.name, help: this.help, type: "histogram", values, aggregator: "sum" };
  }

  reset(): void {
    for (const s of this.series.values()) s.reset();
  }
}
