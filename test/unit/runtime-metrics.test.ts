import { createRequire } from "node:module";
import { connect, createServer, type Server, Socket } from "node:net";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { collectRuntimeMetrics } from "../../src/observability/runtime-metrics.js";

// prom-client's collectors reach `fs` through CommonJS; a spy on that object sees their calls.
const fs = createRequire(import.meta.url)("node:fs") as typeof import("node:fs");

const opened: Array<Server | Socket> = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const h of opened.splice(0)) h instanceof Socket ? h.destroy() : h.close();
});

/** The value of an unlabelled series in the exposition text. */
function seriesValue(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no ${name} in the scrape`);
  return Number(line.slice(name.length + 1));
}

/** A listener and `n` connected socket pairs on 127.0.0.1: 2n + 1 more descriptors and active handles. */
async function socketPairs(n: number): Promise<void> {
  const server = createServer((s) => opened.push(s));
  opened.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  for (let i = 0; i < n; i++) {
    opened.push(
      await new Promise<Socket>((resolve) => {
        const s = connect(port, "127.0.0.1", () => resolve(s));
      }),
    );
  }
}

describe("Node's runtime series (issue 10)", () => {
  it("a scrape lists no descriptors and no handles on the event loop", async () => {
    const registry = new Registry();
    collectRuntimeMetrics(registry);
    const readdirSync = vi.spyOn(fs, "readdirSync");
    const handles = vi.spyOn(
      process as unknown as { _getActiveHandles(): unknown[] },
      "_getActiveHandles",
    );
    const text = await registry.metrics();
    expect(readdirSync).not.toHaveBeenCalled();
    expect(handles).not.toHaveBeenCalled();
    expect(text).not.toContain("nodejs_active_handles");
    // The rest of prom-client's defaults are there.
    expect(text).toContain("nodejs_heap_size_used_bytes ");
    expect(text).toContain("process_resident_memory_bytes ");
    expect(text).toContain("nodejs_eventloop_lag_seconds ");
  });

  it("still counts open descriptors and active resources, by type and in total", async () => {
    const registry = new Registry();
    collectRuntimeMetrics(registry);
    const before = await registry.metrics();
    await socketPairs(20);
    const after = await registry.metrics();

    if (process.platform === "linux") {
      // At least those: the test process may hold others for a moment.
      expect(
        seriesValue(after, "process_open_fds") - seriesValue(before, "process_open_fds"),
      ).toBeGreaterThanOrEqual(41);
    }
    const total = seriesValue(after, "nodejs_active_resources_total");
    expect(total - seriesValue(before, "nodejs_active_resources_total")).toBeGreaterThanOrEqual(41);
    const byType = after
      .split("\n")
      .filter((l) => l.startsWith("nodejs_active_resources{"))
      .map((l) => Number(l.slice(l.lastIndexOf(" ") + 1)));
    expect(byType.reduce((a, b) => a + b, 0)).toBe(total);
    expect(after).toMatch(/nodejs_active_resources\{type="TCPSocketWrap"\} \d+/);
  });
});
