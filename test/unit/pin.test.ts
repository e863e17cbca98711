import { describe, expect, it } from "vitest";
import { generatePin, isEasyPin, PIN_PATTERN } from "../../src/domain/pin.js";
import { SeededRandom } from "../../src/domain/seeded-random.js";
import type { Random } from "../../src/ports/clock.js";

/** A Random whose int() replays a fixed script, to steer generatePin through rejections. */
function scripted(values: number[]): Random & { calls: number; bounds: number[] } {
  const r = {
    calls: 0,
    bounds: [] as number[],
    int(max: number) {
      r.bounds.push(max);
      const v = values[r.calls++];
      if (v === undefined || v >= max) throw new Error("script exhausted");
      return v;
    },
    float: () => 0,
    token: () => "",
  };
  return r;
}

describe("isEasyPin", () => {
  it.each(["111111", "999999"])("P-2: one digit repeated is easy: %s", (pin) => {
    expect(isEasyPin(pin)).toBe(true);
  });

  it.each(["123456", "234567", "345678", "456789", "987654", "654321", "543210"])(
    "P-2: an ascending or descending run is easy: %s",
    (pin) => {
      expect(isEasyPin(pin)).toBe(true);
    },
  );

  it.each(["121212", "909090", "123123", "112112", "100100", "121121", "907907"])(
    "P-2: a repeated pattern of period 2 or 3 is easy: %s",
    (pin) => {
      expect(isEasyPin(pin)).toBe(true);
    },
  );

  it.each(["111222", "112211", "100001", "121122", "989898"])(
    "P-2: fewer than three distinct digits is easy: %s",
    (pin) => {
      expect(isEasyPin(pin)).toBe(true);
    },
  );

  it.each(["482915", "730416", "100234", "123457", "890123", "123412", "121312", "112233"])(
    "P-2: a typical PIN is not easy: %s",
    (pin) => {
      expect(isEasyPin(pin)).toBe(false);
    },
  );
});

describe("generatePin", () => {
  it("P-1, P-2: generated PINs are 6 digits, first 1–9, and never easy", () => {
    const r = new SeededRandom(1);
    for (let i = 0; i < 5_000; i++) {
      const pin = generatePin(r, () => false);
      expect(pin).toMatch(PIN_PATTERN);
      expect(isEasyPin(pin)).toBe(false);
    }
  });

  it("P-2, P-3: rejects easy and taken PINs and keeps drawing", () => {
    // 100000 + 11111 = 111111 (easy), 382915 (taken), 482915 (free)
    const r = scripted([11_111, 282_915, 382_915]);
    const pin = generatePin(r, (p) => p === "382915");
    expect(pin).toBe("482915");
    expect(r.calls).toBe(3);
  });

  it("P-3: never returns a taken PIN", () => {
    const r = new SeededRandom(2);
    const taken = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const pin = generatePin(r, (p) => taken.has(p));
      expect(taken.has(pin)).toBe(false);
      taken.add(pin);
    }
    expect(taken.size).toBe(2_000);
  });

  it("P-1: draws the PIN as 100000 + int(900000)", () => {
    const r = scripted([0, 899_999, 382_915]);
    // 100000 and 999999 are easy, so the third draw is used.
    expect(generatePin(r, () => false)).toBe("482915");
    expect(r.bounds).toEqual([900_000, 900_000, 900_000]);
  });

  it("throws a clear error when every attempt is rejected", () => {
    const r = new SeededRandom(3);
    expect(() => generatePin(r, () => true, 50)).toThrow(
      /no free room PIN found after 50 attempts/,
    );
  });

  it("P-1: every first digit 1–9 comes up about equally often (fixed seed)", () => {
    const r = new SeededRandom(20_240_601);
    const counts = new Array<number>(10).fill(0);
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const first = Number(generatePin(r, () => false)[0]);
      counts[first] = (counts[first] ?? 0) + 1;
    }
    expect(counts[0]).toBe(0);
    const expected = n / 9;
    let chi2 = 0;
    for (let d = 1; d <= 9; d++) {
      const c = counts[d] ?? 0;
      expect(c).toBeGreaterThan(0);
      chi2 += (c - expected) ** 2 / expected;
    }
    // 8 degrees of freedom; 26.1 is the 0.1% critical value. The seed is fixed, so this is stable.
    expect(chi2).toBeLessThan(26.1);
  });
});
