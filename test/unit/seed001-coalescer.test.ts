import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import { Coalescer } from "../../src/doors/vocabulary/coalescer.js";

/** The seed 001 door's per-session grouping (docs/protocols/seed-001.md, "Big sessions"). */
describe("seed 001 coalescer", () => {
  const setup = () => {
    const clock = new FakeClock(0, { deferred: "manual" });
    const sent: Array<[string, number[]]> = [];
    /** Per flush, whether it went out as offered (the door times only the held ones). */
    const atOnce: boolean[] = [];
    const c = new Coalescer<number[]>(clock, 1_000, (key, value, once) => {
      sent.push([key, value]);
      atOnce.push(once);
    });
    const offer = (key: string, n: number) =>
      c.offer(key, [n], (waiting, v) => [...(waiting ?? []), ...v]);
    return { clock, sent, atOnce, c, offer };
  };

  it("sends the first offer at once and what comes within the interval together when it ends", () => {
    const { clock, sent, atOnce, offer } = setup();
    // offer says whether it went out at once (the door sends a held board to scorers itself).
    expect(offer("s1", 1)).toBe(true);
    expect(sent).toEqual([["s1", [1]]]);
    for (let i = 2; i <= 50; i++) {
      clock.advance(10);
      expect(offer("s1", i)).toBe(false);
    }
    expect(sent).toHaveLength(1);
    clock.advance(1_000 - 490);
    expect(sent).toEqual([
      ["s1", [1]],
      ["s1", Array.from({ length: 49 }, (_, i) => i + 2)],
    ]);
    expect(atOnce).toEqual([true, false]);
  });

  it("keys are independent; a quiet interval leaves no timer, and the next offer goes at once", () => {
    const { clock, sent, offer } = setup();
    offer("a", 1);
    offer("b", 2);
    expect(sent).toEqual([
      ["a", [1]],
      ["b", [2]],
    ]);
    clock.advance(1_000);
    expect(clock.pending).toBe(0);
    offer("a", 3);
    expect(sent.at(-1)).toEqual(["a", [3]]);
  });

  it("an offer may name its interval: the one it opens keeps its length, the next takes the latest offer's", () => {
    const { clock, sent, c } = setup();
    const offer = (n: number, intervalMs: number) =>
      c.offer("s", [n], (waiting, v) => [...(waiting ?? []), ...v], intervalMs);
    expect(offer(1, 300)).toBe(true);
    clock.advance(100);
    expect(offer(2, 500)).toBe(false);
    // The open interval is still 300 ms long, whatever the later offer says.
    clock.advance(199);
    expect(sent).toHaveLength(1);
    clock.advance(1);
    expect(sent.at(-1)).toEqual(["s", [2]]);
    // The flush opened a 500 ms interval (the latest offer's).
    offer(3, 100);
    clock.advance(499);
    expect(sent).toHaveLength(2);
    clock.advance(1);
    expect(sent.at(-1)).toEqual(["s", [3]]);
  });

  it("stop clears every timer and drops what waits", () => {
    const { clock, sent, c, offer } = setup();
    offer("a", 1);
    offer("a", 2);
    c.stop();
    expect(clock.pending).toBe(0);
    clock.advance(5_000);
    expect(sent).toEqual([["a", [1]]]);
  });
});
