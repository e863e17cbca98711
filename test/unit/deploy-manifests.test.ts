/**
 * The autoscaling and alerting files in deploy/ (issue 11, seed 003's thresholds):
 * they parse, the HPA scales on CPU and on the connection signal the adapter
 * defines, the alert rules carry the seed's thresholds, and every quizwire
 * metric they query is one the server exports.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { Metrics } from "../../src/observability/metrics.js";
import { repoPath } from "../support/doc-check.js";

type Doc = Record<string, unknown>;

/** Every YAML document of a file, failing on any parse error. */
function documents(path: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(repoPath(path), "utf8"));
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list)
    expect(
      d.errors.map((e) => e.message),
      path,
    ).toEqual([]);
  return list.map((d) => d.toJS() as Doc);
}

function yamlFiles(dir: string): string[] {
  return readdirSync(repoPath(dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(dir, f));
}

/** What a manifest's path leads to, or undefined. */
function at(doc: unknown, ...path: Array<string | number>): unknown {
  let v: unknown = doc;
  for (const p of path) v = (v as Record<string | number, unknown> | undefined)?.[p];
  return v;
}

interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: string };
  annotations: { summary: string };
}

const ALERTS = "deploy/prometheus/alerts.yaml";
const HPA = "deploy/kubernetes/autoscaling.yaml";
const ADAPTER = "deploy/kubernetes/prometheus-adapter-values.yaml";

/** The metric names a server's /metrics has. */
const EXPORTED = new Set(
  (await new Metrics({ sessions: () => 0, storageQueue: () => 0 }).registry.getMetricsAsJSON()).map(
    (m) => m.name,
  ),
);
const CONNECTIONS = "websocket_active_connections";
const CONNECTIONS_PENDING = EXPORTED.has(CONNECTIONS)
  ? ""
  : " (skipped: the server does not export it yet; the metrics part of issue 11 adds it)";

function rules(): Rule[] {
  const [doc] = documents(ALERTS);
  return (at(doc, "groups") as Array<{ rules: Rule[] }>).flatMap((g) => g.rules);
}

function rule(name: string): Rule {
  const found = rules().find((r) => r.alert === name);
  expect(found, name).toBeDefined();
  return found!;
}

describe("deploy/ YAML", () => {
  it.each([...yamlFiles("deploy/kubernetes"), ...yamlFiles("deploy/prometheus")])(
    "%s parses",
    (path) => {
      expect(documents(path).length).toBeGreaterThan(0);
    },
  );

  it("the HPA scales the Deployment on CPU above 70 % and on the connection signal against 5,000 per pod", () => {
    const [hpa] = documents(HPA);
    expect(hpa).toMatchObject({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      spec: { scaleTargetRef: { kind: "Deployment", name: "quizwire" } },
    });
    const metrics = at(hpa, "spec", "metrics") as Doc[];
    expect(metrics).toContainEqual({
      type: "Resource",
      resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
    });
    expect(metrics).toContainEqual({
      type: "External",
      external: {
        metric: { name: "quizwire_connections_scaling" },
        target: { type: "Value", value: "5000" },
      },
    });
    // Seed 003: scale-down after about five minutes.
    expect(at(hpa, "spec", "behavior", "scaleDown", "stabilizationWindowSeconds")).toBe(300);
  });

  it("the Prometheus adapter defines that signal from websocket_active_connections: out above 5,000, in below 1,000", () => {
    const [values] = documents(ADAPTER);
    const external = at(values, "rules", "external") as Array<{
      seriesQuery: string;
      name: { as: string };
      metricsQuery: string;
    }>;
    const signal = external.find((r) => r.name.as === "quizwire_connections_scaling");
    expect(signal).toBeDefined();
    expect(signal!.seriesQuery).toContain("websocket_active_connections");
    const q = signal!.metricsQuery.replace(/\s+/g, " ");
    expect(q).toContain("> 5000");
    expect(q).toContain("< 1000 ) * 5");
    expect(q).toContain(">= 1000 <= 5000 ) * 0 + 5000");
  });

  it("the alert rules carry seed 003's thresholds and durations", () => {
    for (const r of rules()) {
      expect(r.expr.length, r.alert).toBeGreaterThan(0);
      expect(["critical", "warning"]).toContain(r.labels.severity);
      expect(r.annotations.summary.length).toBeGreaterThan(0);
    }
    expect(rule("QuizwireErrorRateCritical")).toMatchObject({
      for: "5m",
      labels: { severity: "critical" },
    });
    expect(rule("QuizwireErrorRateCritical").expr).toMatch(/> 0\.01\s*$/);
    expect(rule("QuizwireAnswerLatencyP99Critical")).toMatchObject({ for: "5m" });
    expect(rule("QuizwireAnswerLatencyP99Critical").expr).toMatch(
      /histogram_quantile\(0\.99,[\s\S]*> 0\.5\s*$/,
    );
    expect(rule("QuizwireErrorRateWarning")).toMatchObject({
      for: "10m",
      labels: { severity: "warning" },
    });
    expect(rule("QuizwireErrorRateWarning").expr).toMatch(/> 0\.005\s*$/);
    expect(rule("QuizwireMemoryHigh").expr).toMatch(/> 0\.8\s*$/);
    expect(rule("QuizwireConnectionsPerInstanceHigh").expr).toMatch(/> 8000\s*$/);
  });

  it("every quizwire_* metric the rules query is one the server exports", () => {
    const queried = new Set(
      rules()
        .flatMap((r) => r.expr.match(/quizwire_[a-z_]+/g) ?? [])
        .map((n) => n.replace(/_(bucket|sum|count)$/, "")),
    );
    expect(queried.size).toBeGreaterThan(0);
    for (const name of queried) expect(EXPORTED, name).toContain(name);
  });

  it.skipIf(CONNECTIONS_PENDING !== "")(
    `${CONNECTIONS}, which the HPA's signal and an alert read, is exported${CONNECTIONS_PENDING}`,
    () => {
      expect(EXPORTED).toContain(CONNECTIONS);
    },
  );
});
