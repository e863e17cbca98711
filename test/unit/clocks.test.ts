import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import { SystemClock } from "../../src/adapters/system-clock.js";

/** A later macrotask: every promise chain and every setImmediate queued before it has run. */
const nextMacrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

const liveTimeouts = () =>
  process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;

describe("FakeClock, deferred work", () => {
  it("manual: deferred calls wait for the turn to end, then run in order, with what they deferred after", async () => {
    const clock = new FakeClock(0, { deferred: "manual" });
    const ran: string[] = [];
    clock.defer(() => {
      ran.push("a");
      clock.defer(() => ran.push("c"));
    });
    clock.defer(() => ran.push("b"));
    await nextMacrotask();
    expect(ran).toEqual([]);
    expect(clock.pendingDeferred).toBe(2);

    expect(clock.runDeferred()).toBe(3);
    expect(ran).toEqual(["a", "b", "c"]);
    expect(clock.pendingDeferred).toBe(0);
  });

  it("advance runs what the turn deferred before time moves, and what each timer deferred before the next timer", () => {
    const clock = new FakeClock(1_000, { deferred: "manual" });
    const ran: string[] = [];
    const at = (what: string) => () => ran.push(`${what}@${clock.now()}`);
    clock.setTimer(1_010, () => {
      ran.push(`t1@${clock.now()}`);
      clock.defer(at("d2"));
    });
    clock.setTimer(1_020, at("t2"));
    clock.defer(at("d1"));
    clock.advance(50);
    expect(ran).toEqual(["d1@1000", "t1@1010", "d2@1010", "t2@1020"]);
  });

  it("auto (the default): deferred calls also run by themselves on a later real turn, never within the current one", async () => {
    const clock = new FakeClock(0);
    const ran: string[] = [];
    clock.defer(() => ran.push("deferred"));
    await Promise.resolve();
    expect(ran).toEqual([]);
    await nextMacrotask();
    expect(ran).toEqual(["deferred"]);
    expect(clock.now()).toBe(0);
  });

  it("auto: promise callbacks run between two deferred calls, as on the system clock", async () => {
    const clock = new FakeClock(0);
    const ran: string[] = [];
    clock.defer(() => {
      ran.push("a");
      void Promise.resolve().then(() => ran.push("a's promise"));
    });
    clock.defer(() => ran.push("b"));
    clock.advance(10);
    expect(ran).toEqual([]);
    await nextMacrotask();
    expect(ran).toEqual(["a", "a's promise", "b"]);
  });

  it("counts background timers apart: they would not keep a real process alive", () => {
    const clock = new FakeClock(0);
    clock.setTimer(10, () => {}, { background: true });
    const foreground = clock.setTimer(10, () => {});
    expect([clock.pending, clock.pendingForeground]).toEqual([2, 1]);
    clock.clearTimer(foreground);
    expect([clock.pending, clock.pendingForeground]).toEqual([1, 0]);
  });
});

describe("SystemClock", () => {
  it("defer runs after the current task and its promise callbacks", async () => {
    const clock = new SystemClock();
    const ran: string[] = [];
    clock.defer(() => ran.push("deferred"));
    void Promise.resolve().then(() => ran.push("promise"));
    ran.push("sync");
    await nextMacrotask();
    expect(ran).toEqual(["sync", "promise", "deferred"]);
  });

  it("a background timer does not keep the process alive; an ordinary one does", () => {
    const clock = new SystemClock();
    const before = liveTimeouts();
    const background = clock.setTimer(clock.now() + 60_000, () => {}, { background: true });
    expect(liveTimeouts()).toBe(before);
    const ordinary = clock.setTimer(clock.now() + 60_000, () => {});
    expect(liveTimeouts()).toBe(before + 1);
    clock.clearTimer(background);
    clock.clearTimer(ordinary);
    expect(liveTimeouts()).toBe(before);
  });
});
