import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import { MemoryPinGuesses } from "../../src/adapters/memory/memory-pin-guesses.js";
import type { RoomHandle } from "../../src/engine/room-handle.js";
import { PinGate } from "../../src/services/pin-gate.js";

const LIMITS = { guesses: 10, windowMs: 3_600_000, refusalsBeforeBan: 10, banMs: 86_400_000 };
const ROOM = { id: "room-1" } as unknown as RoomHandle;

/** A gate over one open room, PIN 123456, whose lookups take a turn of the event loop each. */
function gate(): PinGate {
  return new PinGate({
    findByPin: async (pin) => {
      await new Promise((resolve) => setImmediate(resolve));
      return pin === "123456" ? ROOM : undefined;
    },
    guesses: new MemoryPinGuesses(new FakeClock(1_000_000)),
    limits: LIMITS,
  });
}

const asker = { address: "10.0.0.1", userId: null };

describe("PinGate (P-4)", () => {
  it("P-4: a classroom behind one address joining at once: right PINs use no guesses, however many are in flight", async () => {
    const g = gate();
    const found = await Promise.all(Array.from({ length: 50 }, () => g.find("123456", asker)));
    expect(found.every((f) => f.kind === "found")).toBe(true);
    // All ten guesses are still there for the typos.
    for (let i = 0; i < 10; i++) expect((await g.find(`99999${i}`, asker)).kind).toBe("unknown");
    expect((await g.find("999999", asker)).kind).toBe("limited");
  });

  it("P-4: past the limit a right PIN is refused exactly as a wrong one; a shadow-banned asker hears unknown for both", async () => {
    const g = gate();
    for (let i = 0; i < 10; i++) await g.find(`88888${i}`, asker);
    const right = await g.find("123456", asker);
    const wrong = await g.find("777777", asker);
    expect(right).toEqual(wrong);
    expect(right.kind).toBe("limited");
    for (let i = 0; i < 10; i++) await g.find("777777", asker);
    expect(await g.find("123456", asker)).toEqual({ kind: "unknown" });
    expect(await g.find("777777", asker)).toEqual({ kind: "unknown" });
  });
});
