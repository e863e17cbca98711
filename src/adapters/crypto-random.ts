import { randomBytes, randomInt } from "node:crypto";
import { assertByteCount, assertIntBound } from "../domain/seeded-random.js";
import type { Random } from "../ports/clock.js";

const TWO_32 = 2 ** 32;
const TWO_53 = 2 ** 53;

/** The production random source: node's CSPRNG, so PINs and tokens are unpredictable. */
export class CryptoRandom implements Random {
  /** Uniform integer in [0, maxExclusive); `maxExclusive` at most RANDOM_INT_MAX. */
  int(maxExclusive: number): number {
    assertIntBound(maxExclusive);
    return randomInt(maxExclusive);
  }

  /** Uniform float in [0, 1) from 53 random bits. */
  float(): number {
    const b = randomBytes(7);
    const hi = b.readUIntBE(0, 3) >>> 3;
    const lo = b.readUInt32BE(3);
    return (hi * TWO_32 + lo) / TWO_53;
  }

  /** base64url (no padding) of `bytes` random bytes. */
  token(bytes: number): string {
    assertByteCount(bytes);
    return randomBytes(bytes).toString("base64url");
  }
}
