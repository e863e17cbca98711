import type { Logger } from "pino";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import {
  CLIENT_ERROR_LOG_EVERY_MS,
  ClientErrorLog,
} from "../../src/observability/client-error-log.js";
import { createLogger } from "../../src/observability/logger.js";

describe("tracing configuration (the standard OpenTelemetry variables)", () => {
  it("is off with no OTLP endpoint", () => {
    expect(loadConfig({}).tracing).toBeNull();
  });

  it("OTEL_EXPORTER_OTLP_ENDPOINT turns it on, posting to its /v1/traces, 10 % of new traces by default (seed 003)", () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }).tracing).toEqual({
      url: "http://collector:4318/v1/traces",
      serviceName: "quizwire",
      sampleRatio: 0.1,
    });
  });

  it("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is the traces URL itself; service name and ratio are read", () => {
    expect(
      loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://ignored:4318",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://traces.example/custom",
        OTEL_SERVICE_NAME: "quiz-eu",
        OTEL_TRACES_SAMPLER_ARG: "0.5",
      }).tracing,
    ).toEqual({ url: "https://traces.example/custom", serviceName: "quiz-eu", sampleRatio: 0.5 });
  });

  it("OTEL_TRACES_SAMPLER leaves sampling to the SDK; OTEL_SDK_DISABLED turns tracing off", () => {
    const base = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" };
    expect(
      loadConfig({ ...base, OTEL_TRACES_SAMPLER: "always_on" }).tracing?.sampleRatio,
    ).toBeNull();
    expect(loadConfig({ ...base, OTEL_SDK_DISABLED: "true" }).tracing).toBeNull();
  });

  it("refuses a bad endpoint or ratio, naming the variable", () => {
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" })).toThrow(
      ConfigError,
    );
    expect(() =>
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_TRACES_SAMPLER_ARG: "1.5" }),
    ).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
  });
});

/** A logger writing parsed lines into an array. */
function captured(): { lines: Array<Record<string, unknown>>; log: Logger } {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({
    level: "info",
    destination: {
      write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>),
    },
  });
  return { lines, log };
}

describe("log lines", () => {
  it("name their severity as a word Cloud Logging and Loki read, and their text as message", () => {
    const { lines, log } = captured();
    log.info("a");
    log.warn("b");
    log.error("c");
    expect(lines.map((l) => [l.severity, l.message])).toEqual([
      ["INFO", "a"],
      ["WARNING", "b"],
      ["ERROR", "c"],
    ]);
  });

  it("carry the current trace id when tracing is on", () => {
    const lines: Array<Record<string, unknown>> = [];
    let current: string | undefined;
    const log = createLogger({
      level: "info",
      traceId: () => current,
      destination: {
        write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>),
      },
    });
    log.info("outside");
    current = "0af7651916cd43dd8448eb211c80319c";
    log.info("inside");
    expect(lines[0]).not.toHaveProperty("trace_id");
    expect(lines[1]).toMatchObject({ trace_id: "0af7651916cd43dd8448eb211c80319c" });
  });
});

describe("client error WARN lines", () => {
  it("one per door and code per interval, the next saying how many went unlogged", () => {
    const { lines, log } = captured();
    const clock = new FakeClock();
    const errors = new ClientErrorLog(log, clock);
    for (let i = 0; i < 50; i++) errors.report("canonical", "VALIDATION");
    errors.report("canonical", "RATE_LIMIT");
    errors.report("vocabulary", "VALIDATION");
    expect(lines).toHaveLength(3);
    clock.advance(CLIENT_ERROR_LOG_EVERY_MS - 1);
    errors.report("canonical", "VALIDATION");
    expect(lines).toHaveLength(3);
    clock.advance(1);
    errors.report("canonical", "VALIDATION");
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatchObject({
      severity: "WARNING",
      door: "canonical",
      code: "VALIDATION",
      suppressed: 50,
    });
  });
});
