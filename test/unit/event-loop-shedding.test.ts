import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import { EventLoopShedding, type LagSource } from "../../src/server/event-loop-shedding.js";

/** Lag readings a test hands out, one per sample. */
class ScriptedLag implements LagSource {
  readings: number[] = [];
  resets = 0;
  p99Ms(): number {
    return this.readings.shift() ?? 0;
  }
  reset(): void {
    this.resets += 1;
  }
  stop(): void {}
}

function upgradeSocket(): { socket: PassThrough; written: () => string } {
  const socket = new PassThrough();
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  return { socket, written: () => Buffer.concat(chunks).toString() };
}

describe("EventLoopShedding", () => {
  it("refuses upgrades with 503 while the last sample's p99 delay is above the limit, and recovers", () => {
    const clock = new FakeClock(0);
    const lag = new ScriptedLag();
    const shed = new EventLoopShedding(clock, lag, { limitMs: 100, sampleEveryMs: 1_000 }).start();
    lag.resets = 0;
    lag.readings = [20, 350, 90];
    clock.advance(1_000);
    expect(shed.status()).toEqual({ shedding: false, p99Ms: 20, limitMs: 100 });
    const calm = upgradeSocket();
    expect(shed.refuseUpgrade(calm.socket)).toBe(false);
    expect(calm.written()).toBe("");

    clock.advance(1_000);
    expect(shed.status()).toEqual({ shedding: true, p99Ms: 350, limitMs: 100 });
    const busy = upgradeSocket();
    expect(shed.refuseUpgrade(busy.socket)).toBe(true);
    expect(busy.written()).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(busy.written()).toContain("event loop lagging");

    clock.advance(1_000);
    expect(shed.shedding).toBe(false);
    expect(lag.resets).toBe(3);
    shed.stop();
  });

  it("a limit of 0 turns it off", () => {
    const clock = new FakeClock(0);
    const lag = new ScriptedLag();
    lag.readings = [10_000];
    const shed = new EventLoopShedding(clock, lag, { limitMs: 0 }).start();
    clock.advance(5_000);
    expect(shed.shedding).toBe(false);
    expect(lag.resets).toBe(0);
  });
});
