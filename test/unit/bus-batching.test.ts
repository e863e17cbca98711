import { describe, expect, it } from "vitest";
import { decodeBatch, encodeBatch, isBatch, TurnBatcher } from "../../src/adapters/bus-batching.js";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import { MONOTONIC_TIME } from "../../src/adapters/monotonic-time.js";

describe("bus batch frames", () => {
  it("carry any messages through unchanged and in order", () => {
    const messages = [
      '{"id":"x:1","from":"a","body":"{}"}',
      "",
      "line\nbreak",
      "12\n34",
      "QWB1\n3\nabc",
      "émoji 🎉 and ünïcode",
      "x".repeat(100_000),
    ];
    const frame = encodeBatch(messages);
    expect(isBatch(frame)).toBe(true);
    expect(decodeBatch(frame)).toStrictEqual(messages);
    expect(decodeBatch(encodeBatch([]))).toStrictEqual([]);
  });

  it("a frame cut short, of another version or no frame at all is not read", () => {
    const frame = encodeBatch(["first", "second"]);
    expect(decodeBatch(frame.slice(0, -1))).toBeUndefined();
    expect(decodeBatch(`${frame}9\nshort`)).toBeUndefined();
    expect(decodeBatch(`${frame}x\n`)).toBeUndefined();
    expect(decodeBatch(frame.replace("QWB1", "QWB2"))).toBeUndefined();
    expect(decodeBatch('{"sessionId":"s1"}')).toBeUndefined();
    expect(isBatch('{"sessionId":"s1"}')).toBe(false);
  });
});

describe("TurnBatcher", () => {
  function setup(limits = { maxMessages: 3, maxChars: 10 }) {
    const clock = new FakeClock(0, { deferred: "manual" });
    const sent: Array<{ key: string; items: string[] }> = [];
    const batcher = new TurnBatcher<string>(clock, (s) => s.length, limits);
    const add = (key: string, item: string) =>
      batcher.add(key, item, (items) => sent.push({ key, items }));
    return { clock, sent, add, batcher };
  }

  it("sends what one turn gathered for each key once the turn ends, keys in order of their first item", () => {
    const { clock, sent, add } = setup({ maxMessages: 100, maxChars: 1_000 });
    add("b", "b1");
    add("a", "a1");
    add("b", "b2");
    expect(sent).toStrictEqual([]);
    clock.runDeferred();
    expect(sent).toStrictEqual([
      { key: "b", items: ["b1", "b2"] },
      { key: "a", items: ["a1"] },
    ]);
    add("a", "a2");
    clock.runDeferred();
    expect(sent.at(-1)).toStrictEqual({ key: "a", items: ["a2"] });
  });

  it("a batch at its count or size limit goes at once, and one key's items stay in order", () => {
    const { clock, sent, add } = setup({ maxMessages: 3, maxChars: 10 });
    for (const item of ["1", "2", "3", "4"]) add("k", item);
    expect(sent).toStrictEqual([{ key: "k", items: ["1", "2", "3"] }]);
    add("k", "five5"); // 1 + 5 chars
    add("k", "six666"); // would make 12 > 10: the open batch goes first
    add("k", "a message longer than the limit goes alone");
    clock.runDeferred();
    expect(sent.map((s) => s.items)).toStrictEqual([
      ["1", "2", "3"],
      ["4", "five5"],
      ["six666"],
      ["a message longer than the limit goes alone"],
    ]);
  });

  it("leading: a key's first item of a turn goes at once, alone; the rest of the turn goes together", () => {
    const clock = new FakeClock(0, { deferred: "manual" });
    const sent: Array<{ key: string; items: string[] }> = [];
    const batcher = new TurnBatcher<string>(
      clock,
      (s) => s.length,
      { maxMessages: 100, maxChars: 1_000 },
      { leading: true },
    );
    const add = (key: string, item: string) =>
      batcher.add(key, item, (items) => sent.push({ key, items }));
    add("a", "a1");
    expect(sent).toStrictEqual([{ key: "a", items: ["a1"] }]);
    add("a", "a2");
    add("b", "b1");
    add("a", "a3");
    expect(sent).toHaveLength(2);
    clock.runDeferred();
    expect(sent).toStrictEqual([
      { key: "a", items: ["a1"] },
      { key: "b", items: ["b1"] },
      { key: "a", items: ["a2", "a3"] },
    ]);
    // A new turn: the first item goes at once again.
    add("a", "a4");
    expect(sent.at(-1)).toStrictEqual({ key: "a", items: ["a4"] });
    clock.runDeferred();
    expect(sent).toHaveLength(4);
  });

  it("lingerMs: turns that end sooner than that after the last flush wait for the rest of the interval, then go together", () => {
    const clock = new FakeClock(0, { deferred: "manual" });
    const sent: Array<{ at: number; key: string; items: string[] }> = [];
    const batcher = new TurnBatcher<string>(
      clock,
      (s) => s.length,
      { maxMessages: 3, maxChars: 1_000 },
      { lingerMs: 2 },
    );
    const add = (key: string, item: string) =>
      batcher.add(key, item, (items) => sent.push({ at: clock.now(), key, items }));
    // After a quiet interval, a turn's items go at its end.
    add("a", "1");
    clock.runDeferred();
    expect(sent).toStrictEqual([{ at: 0, key: "a", items: ["1"] }]);
    // Turns within the interval: nothing goes at their end; it all goes when the interval is up.
    clock.advance(0.5);
    add("a", "2");
    add("b", "x");
    clock.runDeferred();
    clock.advance(0.5);
    add("a", "3");
    clock.runDeferred();
    expect(sent).toHaveLength(1);
    clock.advance(1);
    expect(sent.slice(1)).toStrictEqual([
      { at: 2, key: "a", items: ["2", "3"] },
      { at: 2, key: "b", items: ["x"] },
    ]);
    // A batch at its limit still goes at once, in order.
    add("a", "4");
    add("a", "5");
    add("a", "6");
    add("a", "7");
    expect(sent.at(-1)).toStrictEqual({ at: 2, key: "a", items: ["4", "5", "6"] });
    clock.runDeferred();
    expect(sent).toHaveLength(4);
    clock.advance(2);
    expect(sent.at(-1)).toStrictEqual({ at: 4, key: "a", items: ["7"] });
    // flush() sends at once and the timer it replaces sends nothing twice.
    clock.advance(0.5);
    add("a", "8");
    batcher.flush();
    expect(sent.at(-1)).toStrictEqual({ at: 4.5, key: "a", items: ["8"] });
    clock.advance(10);
    clock.runDeferred();
    expect(sent).toHaveLength(6);
    expect(clock.pending).toBe(0);
  });

  it("lingerClock: the linger runs in its own time, whatever the clock that ends the turns does", () => {
    // The rooms' clock may be a test's fake one that never moves; the linger must still end.
    const turns = new FakeClock(0, { deferred: "manual" });
    const real = new FakeClock(100);
    const sent: string[][] = [];
    const batcher = new TurnBatcher<string>(
      turns,
      (s) => s.length,
      { maxMessages: 10, maxChars: 1_000 },
      { lingerMs: 2, lingerClock: real },
    );
    batcher.add("k", "1", (items) => sent.push(items));
    turns.runDeferred();
    batcher.add("k", "2", (items) => sent.push(items));
    turns.runDeferred();
    expect(sent).toStrictEqual([["1"]]);
    expect(turns.pending).toBe(0);
    real.advance(2);
    expect(sent).toStrictEqual([["1"], ["2"]]);
  });

  it("MONOTONIC_TIME (the Redis bus's linger clock): a timer fires once its time comes, a cleared one never", async () => {
    const fired: string[] = [];
    const t0 = MONOTONIC_TIME.now();
    const cleared = MONOTONIC_TIME.setTimer(t0 + 1, () => fired.push("cleared"));
    MONOTONIC_TIME.clearTimer(cleared);
    await new Promise<void>((resolve) =>
      MONOTONIC_TIME.setTimer(t0 + 3, () => {
        fired.push("kept");
        resolve();
      }),
    );
    expect(fired).toStrictEqual(["kept"]);
    expect(MONOTONIC_TIME.now()).toBeGreaterThan(t0);
  });

  it("a send that throws does not stop the other keys' batches; its error still surfaces", () => {
    const clock = new FakeClock(0, { deferred: "manual" });
    const batcher = new TurnBatcher<string>(clock, (s) => s.length);
    const sent: string[][] = [];
    batcher.add("a", "a1", () => {
      throw new Error("a failed");
    });
    batcher.add("b", "b1", (items) => sent.push(items));
    expect(() => clock.runDeferred()).toThrow("a failed");
    expect(sent).toStrictEqual([["b1"]]);
  });

  it("discard forgets the open batches and hands back their items", () => {
    const { clock, sent, add, batcher } = setup();
    add("a", "x");
    add("b", "y");
    expect(batcher.discard()).toStrictEqual(["x", "y"]);
    clock.runDeferred();
    expect(sent).toStrictEqual([]);
  });
});
