import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import { MemoryReplayCache } from "../../src/adapters/memory/memory-replay-cache.js";

describe("MemoryReplayCache", () => {
  it("keeps a reply for its TTL only, and drops expired replies as new ones come, not only when full", () => {
    const clock = new FakeClock(1_000);
    const cache = new MemoryReplayCache(clock, 1_000);
    for (let i = 0; i < 100; i++) cache.putSync(`answer:${i}`, `reply ${i}`, 120_000);
    expect(cache.getSync("answer:7")).toBe("reply 7");
    clock.advance(120_001);
    expect(cache.getSync("answer:8")).toBeUndefined();
    for (let i = 100; i < 200; i++) cache.putSync(`answer:${i}`, `reply ${i}`, 120_000);
    // The first put after the expiry dropped the 99 left of the first hundred.
    expect(cache.size).toBe(100);
    expect(cache.getSync("answer:150")).toBe("reply 150");
  });

  it("never holds more than maxEntries, oldest out first", () => {
    const cache = new MemoryReplayCache(new FakeClock(0), 3);
    for (const k of ["a", "b", "c", "d"]) cache.putSync(k, k, 60_000);
    expect(cache.size).toBe(3);
    expect(cache.getSync("a")).toBeUndefined();
    expect(cache.getSync("d")).toBe("d");
  });

  it("a full cache makes room a tenth at a time, oldest first", () => {
    const cache = new MemoryReplayCache(new FakeClock(0), 100);
    for (let i = 0; i <= 100; i++) cache.putSync(`k${i}`, `r${i}`, 60_000);
    expect(cache.size).toBe(90);
    expect(cache.getSync("k10")).toBeUndefined();
    expect(cache.getSync("k11")).toBe("r11");
    expect(cache.getSync("k100")).toBe("r100");
  });
});
