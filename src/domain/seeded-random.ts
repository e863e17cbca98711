import type { Random } from "../ports/clock.js";

/**
 * The largest `maxExclusive` a `Random.int` accepts, shared by every implementation: node's
 * `crypto.randomInt` needs its range below 2^48.
 */
export const RANDOM_INT_MAX = 2 ** 48 - 1;

/** Throws a RangeError unless `maxExclusive` is an integer in [1, RANDOM_INT_MAX]. */
export function assertIntBound(maxExclusive: number): void {
  if (!Number.isInteger(maxExclusive) || maxExclusive < 1 || maxExclusive > RANDOM_INT_MAX) {
    throw new RangeError(
      `int(maxExclusive) needs an integer in [1, ${RANDOM_INT_MAX}], got ${maxExclusive}`,
    );
  }
}

/** Throws a RangeError unless `bytes` is a non-negative integer. */
export function assertByteCount(bytes: number): void {
  if (!Number.isInteger(bytes) || bytes < 0) {
    throw new RangeError(`token(bytes) needs a non-negative integer, got ${bytes}`);
  }
}

const TWO_32 = 2 ** 32;
const TWO_53 = 2 ** 53;
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * A deterministic, seedable random source (sfc32, seeded through splitmix32) for tests, fuzzing
 * and the load generator. The same seed always gives the same sequence. Not for secrets.
 */
export class SeededRandom implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** @param seed any finite number; its integer part (up to 2^53) selects the sequence. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
    const whole = Math.trunc(seed);
    let s = whole >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    // Mix in the high bits so seeds that differ only above 2^32 give different sequences.
    this.c = (next() ^ (Math.floor(whole / TWO_32) >>> 0)) >>> 0;
    this.d = next();
    for (let i = 0; i < 15; i++) this.nextUint32();
  }

  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform integer in [0, maxExclusive), without modulo bias (rejection sampling). */
  int(maxExclusive: number): number {
    assertIntBound(maxExclusive);
    if (maxExclusive <= TWO_32) {
      const limit = TWO_32 - (TWO_32 % maxExclusive);
      for (;;) {
        const u = this.nextUint32();
        if (u < limit) return u % maxExclusive;
      }
    }
    const limit = TWO_53 - (TWO_53 % maxExclusive);
    for (;;) {
      const u = this.next53();
      if (u < limit) return u % maxExclusive;
    }
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  float(): number {
    return this.next53() / TWO_53;
  }

  /** base64url (no padding) of `bytes` pseudo-random bytes. */
  token(bytes: number): string {
    assertByteCount(bytes);
    const buf = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i += 4) {
      let u = this.nextUint32();
      for (let j = i; j < Math.min(i + 4, bytes); j++) {
        buf[j] = u & 0xff;
        u >>>= 8;
      }
    }
    return base64url(buf);
  }

  private next53(): number {
    const hi = this.nextUint32() >>> 11;
    const lo = this.nextUint32();
    return hi * TWO_32 + lo;
  }
}

/** base64url without padding (RFC 4648 §5), as Buffer's "base64url" encoding gives. */
function base64url(buf: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < buf.length; i += 3) {
    const n = ((buf[i] ?? 0) << 16) | ((buf[i + 1] ?? 0) << 8) | (buf[i + 2] ?? 0);
    out += B64URL[n >>> 18]! + B64URL[(n >>> 12) & 63]! + B64URL[(n >>> 6) & 63]! + B64URL[n & 63]!;
  }
  const rest = buf.length - i;
  if (rest === 1) {
    const n = (buf[i] ?? 0) << 16;
    out += B64URL[n >>> 18]! + B64URL[(n >>> 12) & 63]!;
  } else if (rest === 2) {
    const n = ((buf[i] ?? 0) << 16) | ((buf[i + 1] ?? 0) << 8);
    out += B64URL[n >>> 18]! + B64URL[(n >>> 12) & 63]! + B64URL[(n >>> 6) & 63]!;
  }
  return out;
}
