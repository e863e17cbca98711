import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { cdfPoints, renderSvg } from "../../bench/plot.js";
import { fileLimitProblem, openFileLimit } from "../../bench/raw-run.js";
import { referencePayload, serverTextFrame } from "../../bench/reference-server.js";
import { mainThreadCpuS, processCpuS } from "../../bench/run.js";

describe("the open-file limit", () => {
  it("reads Max open files from /proc/self/limits", () => {
    const limits =
      "Limit                     Soft Limit           Hard Limit           Units\nMax open files            20000                20000                files\n";
    expect(openFileLimit(limits)).toBe(20_000);
    expect(
      openFileLimit("Max open files            unlimited            unlimited            files"),
    ).toBe(Number.POSITIVE_INFINITY);
    expect(openFileLimit("nothing here")).toBeNull();
  });

  it("says when a worker or the server would need more sockets than a process may open", () => {
    expect(fileLimitProblem(10_000, 1, 20_000, true)).toBeNull();
    expect(fileLimitProblem(19_000, 1, 20_000, false)).toBeNull();
    expect(fileLimitProblem(19_001, 1, 20_000, false)).toMatch(/--workers 2 or more/);
    expect(fileLimitProblem(30_000, 2, 20_000, true)).toMatch(/the server would hold 30,000/);
    expect(fileLimitProblem(30_000, 2, 20_000, false)).toBeNull();
    expect(fileLimitProblem(5_000, 1, 4_096, false)).toMatch(/4,096 open files/);
  });
});

describe("the reference frame", () => {
  it("is about 200 bytes of JSON carrying the round and the time, framed unmasked", () => {
    const p = referencePayload(3, 1732262466912.25);
    expect(p.length).toBe(200);
    expect(JSON.parse(p.toString())).toMatchObject({
      type: "reference",
      round: 3,
      at: 1732262466912.25,
    });
    const f = serverTextFrame(p);
    expect([...f.subarray(0, 4)]).toEqual([0x81, 126, 0, 200]);
    expect(f.subarray(4).equals(p)).toBe(true);
    expect([...serverTextFrame(Buffer.from("hi")).subarray(0, 2)]).toEqual([0x81, 2]);
  });
});

describe("the plot", () => {
  it("thins a CDF to at most the points asked for, keeping the min and the max", () => {
    const xs = Array.from({ length: 10_000 }, (_, i) => 10_000 - i);
    const pts = cdfPoints(xs, 100);
    expect(pts.length).toBeLessThanOrEqual(101);
    expect(pts[0]).toEqual([1, 1 / 10_000]);
    expect(pts[pts.length - 1]).toEqual([10_000, 1]);
    expect(cdfPoints([Number.NaN])).toEqual([]);
  });

  it("is one self-contained SVG: no scripts, no external references", () => {
    const svg = renderSvg({
      title: "t <&>",
      subtitle: "s",
      cdfs: [{ name: "join", samples: [1, 2, 3] }],
      strips: [{ question: 0, players: [0, 1], fanoutMs: [5, 6] }],
      playerCount: 2,
    });
    expect(svg.startsWith("<?xml")).toBe(true);
    expect(svg).toContain("t &lt;&amp;&gt;");
    expect(svg).not.toMatch(/<script|href=|url\(/);
    expect(svg).toContain("question 1: 2 receipts");
    expect(svg).toContain(">#0<");
    expect(svg).toContain(">#1<");
  });
});

describe("seed-001 frames", () => {
  it("reads the server's timestamp at the end of a vocabulary frame", async () => {
    const { timestampOf } = await import("../../bench/seed001-worker.js");
    const f = Buffer.from(
      '{"type":"SCORE_UPDATED","payload":{"user_id":"u","question_id":"timestamp"},"timestamp":"2025-11-16T10:31:03.402Z","message_id":"q0"}',
    );
    expect(timestampOf(f)).toBe(Date.parse("2025-11-16T10:31:03.402Z"));
    expect(timestampOf(Buffer.from('{"type":"PONG","payload":{}}'))).toBeNaN();
  });
});

describe("the raw run's flags", () => {
  it("defaults to raw players, one worker per 10,000, and the live scenario", async () => {
    const { parseFlags } = await import("../../bench/run.js");
    const o = parseFlags([], () => 1);
    expect(o).toMatchObject({
      sdk: false,
      workers: 1,
      scenario: "live",
      reference: false,
      plot: null,
    });
    expect(parseFlags(["--players", "25000"], () => 1).workers).toBe(3);
    expect(parseFlags(["--sdk"], () => 1)).toMatchObject({ sdk: true, workers: 4 });
  });

  it("plays raw players with --cluster, the SDK with --kill-owner-at, and refuses what only raw runs do", async () => {
    const { parseFlags, UsageError } = await import("../../bench/run.js");
    expect(parseFlags(["--cluster", "2"], () => 1)).toMatchObject({ sdk: false, cluster: 2 });
    expect(parseFlags(["--cluster", "2", "--kill-owner-at", "1"], () => 1).sdk).toBe(true);
    expect(() =>
      parseFlags(["--cluster", "2", "--kill-owner-at", "1", "--reference"], () => 1),
    ).toThrow(UsageError);
    expect(() => parseFlags(["--scenario", "seed001", "--reference"], () => 1)).toThrow(UsageError);
    expect(() => parseFlags(["--scenario", "nope"], () => 1)).toThrow(/one of live, seed001/);
  });

  it("passes node flags to the servers it starts, and waits before the start only when told", async () => {
    const { parseFlags, UsageError } = await import("../../bench/run.js");
    expect(parseFlags([], () => 1)).toMatchObject({ serverNodeArgs: [], startAfterMs: 0 });
    expect(
      parseFlags(
        ["--cluster", "2", "--server-node-args=--cpu-prof  --cpu-prof-dir=/tmp/p "],
        () => 1,
      ).serverNodeArgs,
    ).toEqual(["--cpu-prof", "--cpu-prof-dir=/tmp/p"]);
    expect(() => parseFlags(["--server-node-args", "dist/main.js"], () => 1)).toThrow(/node flags/);
    expect(() =>
      parseFlags(["--url", "ws://127.0.0.1:1/ws/v1", "--server-node-args=--cpu-prof"], () => 1),
    ).toThrow(UsageError);
    expect(parseFlags([], () => 1).warmupPlayers).toBe(0);
    expect(parseFlags(["--warmup-players", "300"], () => 1).warmupPlayers).toBe(300);
    expect(() => parseFlags(["--scenario", "seed001", "--warmup-players", "10"], () => 1)).toThrow(
      UsageError,
    );
    expect(() => parseFlags(["--sdk", "--warmup-players", "10"], () => 1)).toThrow(UsageError);
    expect(() => parseFlags(["--warmup-players", "-1"], () => 1)).toThrow(UsageError);
    expect(parseFlags(["--start-after-ms", "3000"], () => 1).startAfterMs).toBe(3000);
    expect(() => parseFlags(["--scenario", "seed001", "--start-after-ms", "10"], () => 1)).toThrow(
      /live scenario/,
    );
  });

  it("lowers the player workers' priority only when told, within nice's range, for raw players", async () => {
    const { parseFlags, UsageError } = await import("../../bench/run.js");
    expect(parseFlags([], () => 1).generatorNice).toBe(0);
    expect(parseFlags(["--generator-nice", "5"], () => 1).generatorNice).toBe(5);
    expect(parseFlags(["--scenario", "seed001", "--generator-nice", "19"], () => 1)).toMatchObject({
      scenario: "seed001",
      generatorNice: 19,
    });
    expect(() => parseFlags(["--generator-nice", "20"], () => 1)).toThrow(/between 0 and 19/);
    expect(() => parseFlags(["--generator-nice", "-1"], () => 1)).toThrow(UsageError);
    expect(() => parseFlags(["--sdk", "--generator-nice", "5"], () => 1)).toThrow(/raw players/);
  });

  it("sizes seed001-many as 100 sessions of 100 learners unless told", async () => {
    const { parseFlags } = await import("../../bench/run.js");
    expect(parseFlags(["--scenario", "seed001-many"], () => 1)).toMatchObject({
      sessions: 100,
      players: 10_000,
      answersPerMin: 10,
    });
    expect(parseFlags(["--scenario", "seed001"], () => 1)).toMatchObject({
      sessions: 1,
      players: 1000,
    });
  });
});

describe("the server's CPU from /proc", () => {
  it("counts the main thread apart from the process's other threads", async () => {
    const pid = process.pid;
    const processBefore = processCpuS(pid);
    const mainBefore = mainThreadCpuS(pid);
    expect(processBefore).not.toBeNull();
    expect(mainBefore).not.toBeNull();
    // Another thread burns about 150 ms of CPU while this one sleeps in Atomics.wait (no CPU).
    const done = new Int32Array(new SharedArrayBuffer(4));
    const burner = new Worker(
      `const { workerData } = require("node:worker_threads");
       const done = new Int32Array(workerData);
       const start = process.cpuUsage();
       const deadline = Date.now() + 10_000;
       // Spins until the CPU is used, so however V8 compiles the loop it burns what it must.
       for (;;) {
         const used = process.cpuUsage(start);
         if (used.user + used.system >= 150_000 || Date.now() > deadline) break;
       }
       Atomics.store(done, 0, 1);
       Atomics.notify(done, 0);`,
      { eval: true, workerData: done.buffer },
    );
    Atomics.wait(done, 0, 0, 15_000);
    await burner.terminate();
    const processUsed = (processCpuS(pid) ?? 0) - (processBefore ?? 0);
    const mainUsed = (mainThreadCpuS(pid) ?? 0) - (mainBefore ?? 0);
    expect(processUsed).toBeGreaterThanOrEqual(0.1);
    expect(mainUsed).toBeLessThan(0.05);
  });
});
