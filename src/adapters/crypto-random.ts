import { randomFillSync, randomInt } from "node:crypto";
import { assertByteCount, assertIntBound } from "../domain/seeded-random.js";
import type { Random } from "../ports/clock.js";

const TWO_32 = 2 ** 32;
const TWO_53 = 2 ** 53;
/** Bytes drawn from the CSPRNG at once: one call per ~170 join tokens instead of one per token. */
const POOL_BYTES = 4096;

/**
 * The production random source: node's CSPRNG, so PINs and tokens are unpredictable.
 *
 * Bytes come from a pool refilled by `randomFillSync` (as `crypto.randomInt` and the uuid
 * package do): a call into OpenSSL costs about as much for 4 KiB as for 24 bytes, and a join
 * draws two tokens, so unpooled draws were a measurable share of a join's CPU. Every byte is
 * handed out once.
 */
export class CryptoRandom implements Random {
  private readonly pool = Buffer.allocUnsafeSlow(POOL_BYTES);
  private offset = POOL_BYTES;

  /** Uniform integer in [0, maxExclusive); `maxExclusive` at most RANDOM_INT_MAX. */
  int(maxExclusive: number): number {
    assertIntBound(maxExclusive);
    return randomInt(maxExclusive);
  }

  /** Uniform float in [0, 1) from 53 random bits. */
  float(): number {
    const b = this.take(7);
    const hi = b.readUIntBE(0, 3) >>> 3;
    const lo = b.readUInt32BE(3);
    return (hi * TWO_32 + lo) / TWO_53;
  }

  /** base64url (no padding) of `bytes` random bytes. */
  token(bytes: number): string {
    assertByteCount(bytes);
    return this.take(bytes).toString("base64url");
  }

  /** `n` unused random bytes: a view of the pool, valid until the next draw. */
  private take(n: number): Buffer {
    if (n > POOL_BYTES) return randomFillSync(Buffer.allocUnsafe(n));
    if (this.offset + n > POOL_BYTES) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const view = this.pool.subarray(this.offset, this.offset + n);
    this.offset += n;
    return view;
  }
}
