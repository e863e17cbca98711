import { readdirSync } from "node:fs";
import { setPriority } from "node:os";

/**
 * Gives every thread of this process the nice value `nice` (0–19; higher yields more). Linux
 * keeps a nice value per thread, and `setpriority` on a thread id sets that thread's only, so
 * V8's threads, started before any script runs, are set one by one from `/proc/self/task`;
 * threads started later inherit the value. Returns how many threads were set.
 */
export function niceEveryThread(nice: number): number {
  let threads: string[];
  try {
    threads = readdirSync("/proc/self/task");
  } catch {
    // No /proc (not Linux): the process's value, which its threads share there.
    setPriority(nice);
    return 1;
  }
  let set = 0;
  for (const tid of threads) {
    try {
      setPriority(Number(tid), nice);
      set += 1;
    } catch {
      // A thread that ended between the listing and the call.
    }
  }
  return set;
}
