/**
 * Issue 11, load shedding: while the event loop lags beyond EVENT_LOOP_LAG_LIMIT_MS, new
 * WebSocket upgrades are refused with 503 before the handshake and /health/ready says why;
 * connections already open keep working, and new ones are accepted again once it recovers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RawSocket, upgradeStatus } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { createTestApp, type TestApp } from "../support/test-app.js";

/** Keeps the event loop busy, as a CPU-bound burst on the server would. */
function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

interface ReadyBody {
  checks: Record<string, { status: string; detail?: string }>;
}

describe("load shedding by event-loop lag", () => {
  let t: TestApp;
  let url: string;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp({ EVENT_LOOP_LAG_LIMIT_MS: "100" }, { eventLoopSampleMs: 100 });
    const port = await t.app.listen();
    url = `ws://127.0.0.1:${port}/ws/v1`;
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await t.close();
  });

  it("refuses new upgrades with 503 and reports it in /health/ready while lagging; open connections keep working; it recovers", async () => {
    const open = await RawSocket.open(url);
    expect(await upgradeStatus(url)).toBe(101);

    // The loop stalls for 600 ms; the next sample sees a p99 delay far above 100 ms.
    let refused: number | null = null;
    await eventually(
      "upgrades to be refused",
      async () => {
        blockEventLoop(600);
        const status = await upgradeStatus(url);
        if (status === 503) {
          const ready = await fetch(`${base}/health/ready`);
          refused = ready.status;
          const body = (await ready.json()) as ReadyBody;
          expect(body.checks.event_loop?.status).toBe("high");
          expect(body.checks.event_loop?.detail).toMatch(/refusing new connections/);
        }
        return status;
      },
      { until: (s) => s === 503, timeoutMs: 10_000 },
    );
    expect(refused).toBe(503);
    // The connection that was already open is served all along.
    const pong = await open.request("ping", "p1");
    expect(pong.type).toBe("pong");

    await eventually("upgrades to be accepted again", () => upgradeStatus(url), {
      until: (s) => s === 101,
      intervalMs: 100,
      timeoutMs: 10_000,
    });
    open.close();
  }, 30_000);
});
