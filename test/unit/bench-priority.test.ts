import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const PRIORITY = fileURLToPath(new URL("../../bench/priority.ts", import.meta.url));
const HAS_THREAD_NICE = existsSync("/proc/self/task");

/** Runs `script` in a child node (with tsx), so the test runner's own threads keep their priority. */
function runChild(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      { timeout: 20_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

describe("a bench worker's priority (--generator-nice)", () => {
  if (!HAS_THREAD_NICE) {
    it.skip("needs /proc/self/task (Linux): per-thread nice values are Linux's", () => {});
    console.log("bench-priority: skipped, no /proc/self/task here");
    return;
  }

  it("sets every thread of the process, V8's included, and threads started afterwards inherit it", async () => {
    const out = await runChild(`
      import { readdirSync, readFileSync } from "node:fs";
      import { Worker } from "node:worker_threads";
      const { niceEveryThread } = await import(${JSON.stringify(PRIORITY)});
      // The nice value is field 19 of a thread's stat, the 17th after the command's ")".
      const nices = () => readdirSync("/proc/self/task").map(
        (t) => Number(readFileSync("/proc/self/task/" + t + "/stat", "utf8").split(") ")[1].split(" ")[16]),
      );
      const before = nices();
      const set = niceEveryThread(7);
      const after = nices();
      const w = new Worker("setInterval(() => {}, 1000)", { eval: true });
      await new Promise((r) => w.once("online", r));
      const withWorker = nices();
      await w.terminate();
      console.log(JSON.stringify({ before, set, after, withWorker }));
    `);
    const r = JSON.parse(out) as {
      before: number[];
      set: number;
      after: number[];
      withWorker: number[];
    };
    expect(r.before.length).toBeGreaterThan(1);
    expect(r.before.every((n) => n === r.before[0])).toBe(true);
    expect(r.set).toBe(r.after.length);
    expect(r.after.every((n) => n === 7)).toBe(true);
    expect(r.withWorker.length).toBeGreaterThan(r.after.length);
    expect(r.withWorker.every((n) => n === 7)).toBe(true);
  });
});
