import { describe, expect, it } from "vitest";
import { CryptoRandom } from "../../src/adapters/crypto-random.js";
import { RANDOM_INT_MAX, SeededRandom } from "../../src/domain/seeded-random.js";
import type { Random } from "../../src/ports/clock.js";

const B64URL = /^[A-Za-z0-9_-]*$/;
/** Length of unpadded base64url for n bytes. */
const b64Len = (n: number) => Math.ceil((n * 4) / 3);

function draw(r: Random, n: number): number[] {
  return Array.from({ length: n }, () => r.int(1_000_000));
}

describe("SeededRandom", () => {
  it("the same seed gives the same sequence", () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    expect(draw(a, 100)).toEqual(draw(b, 100));
    expect(a.float()).toBe(b.float());
    expect(a.token(16)).toBe(b.token(16));
  });

  it("different seeds give different sequences", () => {
    expect(draw(new SeededRandom(1), 20)).not.toEqual(draw(new SeededRandom(2), 20));
    expect(draw(new SeededRandom(0), 20)).not.toEqual(draw(new SeededRandom(2 ** 32), 20));
    expect(draw(new SeededRandom(-1), 20)).not.toEqual(draw(new SeededRandom(1), 20));
  });

  it("pins the sequence for seed 1, so a seed keeps meaning the same game", () => {
    const r = new SeededRandom(1);
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([
      2251045104, 4148684523, 4055680838,
    ]);
    expect(r.int(900_000)).toBe(689912);
    expect(r.token(6)).toBe("ws7926Ow");
  });

  it("int stays in [0, max) and hits every value of a small range", () => {
    const r = new SeededRandom(7);
    for (const max of [1, 2, 3, 6, 10, 900_000, 2 ** 32, 2 ** 40, RANDOM_INT_MAX]) {
      for (let i = 0; i < 500; i++) {
        const v = r.int(max);
        expect(Number.isInteger(v) && v >= 0 && v < max, `${v} of ${max}`).toBe(true);
      }
    }
    const seen = new Set<number>();
    for (let i = 0; i < 600; i++) seen.add(r.int(6));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("int has no modulo bias for a range just over half of 2^32", () => {
    // With plain modulo, values below 2^32 − 3·2^30 would come up twice as often: 2/3 of draws
    // would land in the lower half instead of 1/2.
    const max = 3 * 2 ** 30;
    const r = new SeededRandom(99);
    let low = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) if (r.int(max) < max / 2) low++;
    expect(low / n).toBeGreaterThan(0.47);
    expect(low / n).toBeLessThan(0.53);
  });

  it("float stays in [0, 1) and spreads over it", () => {
    const r = new SeededRandom(5);
    let sum = 0;
    for (let i = 0; i < 10_000; i++) {
      const f = r.float();
      expect(f >= 0 && f < 1).toBe(true);
      sum += f;
    }
    expect(sum / 10_000).toBeGreaterThan(0.48);
    expect(sum / 10_000).toBeLessThan(0.52);
  });

  it("token returns base64url of the requested number of bytes", () => {
    const r = new SeededRandom(11);
    for (const n of [0, 1, 2, 3, 4, 5, 16, 32, 33]) {
      const t = r.token(n);
      expect(t).toMatch(B64URL);
      expect(t.length).toBe(b64Len(n));
      expect(Buffer.from(t, "base64url").length).toBe(n);
      expect(Buffer.from(t, "base64url").toString("base64url")).toBe(t);
    }
  });

  it("rejects bad bounds, byte counts and seeds", () => {
    const r = new SeededRandom(1);
    for (const bad of [0, -1, 1.5, Number.NaN, RANDOM_INT_MAX + 1]) {
      expect(() => r.int(bad)).toThrow(RangeError);
    }
    expect(() => r.token(-1)).toThrow(RangeError);
    expect(() => r.token(2.5)).toThrow(RangeError);
    expect(() => new SeededRandom(Number.NaN)).toThrow(RangeError);
  });
});

describe("CryptoRandom", () => {
  const r = new CryptoRandom();

  it("int stays in [0, max)", () => {
    for (const max of [1, 2, 6, 900_000, RANDOM_INT_MAX]) {
      for (let i = 0; i < 200; i++) {
        const v = r.int(max);
        expect(Number.isInteger(v) && v >= 0 && v < max).toBe(true);
      }
    }
  });

  it("float stays in [0, 1)", () => {
    for (let i = 0; i < 2_000; i++) {
      const f = r.float();
      expect(f >= 0 && f < 1).toBe(true);
    }
  });

  it("token returns base64url of the requested number of bytes, different each time", () => {
    for (const n of [0, 1, 16, 32]) {
      const t = r.token(n);
      expect(t).toMatch(B64URL);
      expect(t.length).toBe(b64Len(n));
    }
    expect(r.token(16)).not.toBe(r.token(16));
  });

  it("hands out every pooled byte once, across refills and for draws larger than the pool", () => {
    const fresh = new CryptoRandom();
    // 24-byte tokens across several 4 KiB refills: a reused slice would repeat a token.
    const tokens = Array.from({ length: 2_000 }, () => fresh.token(24));
    expect(new Set(tokens).size).toBe(tokens.length);
    const big = fresh.token(10_000);
    expect(big.length).toBe(b64Len(10_000));
    expect(big).toMatch(B64URL);
  });

  it("rejects the same bad arguments as SeededRandom", () => {
    for (const bad of [0, -1, 1.5, RANDOM_INT_MAX + 1]) {
      expect(() => r.int(bad)).toThrow(RangeError);
    }
    expect(() => r.token(-1)).toThrow(RangeError);
  });
});
