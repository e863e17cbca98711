import { describe, expect, it } from "vitest";
import { EventuallyTimeoutError, eventually } from "../support/eventually.js";

// Time here is what `pause` says passed: these tests never wait on a real timer.
const noWait = { pause: async () => {} };

describe("eventually", () => {
  it("resolves with the first truthy value, probing until there is one", async () => {
    let probes = 0;
    const found = await eventually(
      "the third probe",
      () => (++probes >= 3 ? `probe ${probes}` : null),
      noWait,
    );
    expect(found).toBe("probe 3");
    expect(probes).toBe(3);
  });

  it("with `until`, resolves with the value it accepts, falsy or not", async () => {
    const values = [5, 3, 0, 7];
    const got = await eventually("a zero", () => values.shift(), {
      ...noWait,
      until: (v) => v === 0,
    });
    expect(got).toBe(0);
    expect(values).toEqual([7]);
  });

  it("takes a throwing probe as not yet and tries again; async probes are awaited", async () => {
    let probes = 0;
    const got = await eventually(
      "a server that starts on the third try",
      async () => {
        probes += 1;
        if (probes < 3) throw new Error("ECONNREFUSED");
        return "up";
      },
      noWait,
    );
    expect(got).toBe("up");
  });

  it("fails after the timeout, naming what it waited for and the last value", async () => {
    let probes = 0;
    const err = await eventually("the count to reach 100", () => ++probes, {
      ...noWait,
      until: (n) => n >= 100,
      timeoutMs: 50,
      intervalMs: 10,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EventuallyTimeoutError);
    expect((err as Error).message).toMatch(
      /^waited \d+ ms for the count to reach 100; the probe last gave \d+$/,
    );
    expect((err as Error).message.endsWith(`gave ${probes}`)).toBe(true);
    // Probes at 0, 10, … 50 ms of paused time at most (fewer if real time ran faster), then it gives up.
    expect(probes).toBeGreaterThan(1);
    expect(probes).toBeLessThanOrEqual(6);
  });

  it("fails with the last error when the probe kept throwing, and keeps it as the cause", async () => {
    const boom = new Error("connection refused");
    const err = await eventually(
      "readiness",
      () => {
        throw boom;
      },
      { ...noWait, timeoutMs: 20 },
    ).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /for readiness; the probe last threw Error: connection refused$/,
    );
    expect((err as Error).cause).toBe(boom);
  });

  it("lets time pass through `pause` between probes, with the interval asked for", async () => {
    const paused: number[] = [];
    let probes = 0;
    await eventually("the fourth probe", () => ++probes === 4, {
      pause: async (ms) => {
        paused.push(ms);
      },
      intervalMs: 25,
    });
    expect(paused).toEqual([25, 25, 25]);
  });
});
